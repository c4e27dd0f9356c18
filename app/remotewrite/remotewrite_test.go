package remotewrite_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redwatch/redwatch/app/remotewrite"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// receiver is a remote-write endpoint on a real HTTP test server. It decodes every request
// with wire.DecodeRemoteWrite and answers what status says for the i-th request (0-based);
// a status of 0 leaves the request hanging until the client gives up or the test ends.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	status   func(i int) int
	requests int
	headers  []http.Header
	accepted [][]tsdb.Sample // batches answered 2xx, in arrival order
	rejected [][]tsdb.Sample // batches answered otherwise
}

func newReceiver(t *testing.T, status func(i int) int) *receiver {
	t.Helper()
	r := &receiver{t: t, status: status}
	stop := make(chan struct{})
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return
		}
		samples, err := wire.DecodeRemoteWrite(body)
		if err != nil {
			t.Errorf("cannot decode request: %s", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		i := r.requests
		r.requests++
		code := http.StatusNoContent
		if r.status != nil {
			code = r.status(i)
		}
		r.headers = append(r.headers, req.Header.Clone())
		if code >= 200 && code < 300 {
			r.accepted = append(r.accepted, samples)
		} else if code != 0 {
			r.rejected = append(r.rejected, samples)
		}
		r.mu.Unlock()
		if code == 0 {
			select {
			case <-req.Context().Done():
			case <-stop:
			}
			return
		}
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(code)
		if code >= 400 {
			io.WriteString(w, "no thanks: "+strconv.Itoa(code))
		}
	}))
	t.Cleanup(func() {
		close(stop)
		r.srv.Close()
	})
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/api/v1/write" }

func (r *receiver) setStatus(f func(i int) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = f
}

// values returns the Value of every accepted sample, in arrival order.
func (r *receiver) values() []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []float64
	for _, b := range r.accepted {
		for _, s := range b {
			out = append(out, s.Value)
		}
	}
	return out
}

// header returns the headers of the i-th request.
func (r *receiver) header(i int) http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.headers[i]
}

// batch returns the i-th accepted batch.
func (r *receiver) batch(i int) []tsdb.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted[i]
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// samples returns n samples whose values (and timestamps, minus 1000) run from first.
func samples(first, n int) []tsdb.Sample {
	out := make([]tsdb.Sample, n)
	for i := range out {
		v := first + i
		out[i] = tsdb.Sample{
			Name:      "test_metric",
			Labels:    []tsdb.Label{{Name: "job", Value: "t"}, {Name: "i", Value: strconv.Itoa(v)}},
			Timestamp: int64(1000 + v),
			Value:     float64(v),
		}
	}
	return out
}

// seq returns first, first+1, ..., first+n-1.
func seq(first, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(first + i)
	}
	return out
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// logBuf collects JSON log lines.
type logBuf struct{ testutil.SyncBuffer }

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// count returns how many lines have the level and a msg containing msg.
func (l *logBuf) count(level, msg string) int {
	n := 0
	for _, line := range strings.Split(l.String(), "\n") {
		var rec struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == level && strings.Contains(rec.Msg, msg) {
			n++
		}
	}
	return n
}

// start runs f until the test ends, then waits for it.
func start(t *testing.T, f *remotewrite.Forwarder) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestPush(t *testing.T) {
	r := newReceiver(t, nil)
	in := samples(0, 3)
	h := http.Header{"Authorization": {"Bearer tok"}, "User-Agent": {"test/1"}}
	if err := remotewrite.Push(context.Background(), http.DefaultClient, r.url(), h, in); err != nil {
		t.Fatalf("Push: %s", err)
	}
	if got := r.values(); !equal(got, seq(0, 3)) {
		t.Fatalf("received %v", got)
	}
	got := r.batch(0)[1]
	if got.Name != "test_metric" || got.Timestamp != 1001 || len(got.Labels) != 2 || got.Labels[1] != (tsdb.Label{Name: "i", Value: "1"}) {
		t.Fatalf("received %+v", got)
	}
	hdr := r.header(0)
	for k, want := range map[string]string{
		"Content-Encoding":                  "snappy",
		"Content-Type":                      "application/x-protobuf",
		"X-Prometheus-Remote-Write-Version": "0.1.0",
		"Authorization":                     "Bearer tok",
		"User-Agent":                        "test/1",
	} {
		if v := hdr.Get(k); v != want {
			t.Errorf("header %s: %q, want %q", k, v, want)
		}
	}

	// Nothing to send: no request.
	if err := remotewrite.Push(context.Background(), http.DefaultClient, r.url(), nil, nil); err != nil {
		t.Fatalf("Push(nil): %s", err)
	}
	if n := r.count(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestPushBasicAuthFromURL(t *testing.T) {
	r := newReceiver(t, func(int) int { return http.StatusUnauthorized })
	u := strings.Replace(r.url(), "http://", "http://alice:s3cret@", 1)
	err := remotewrite.Push(context.Background(), http.DefaultClient, u, nil, samples(0, 1))
	if err == nil {
		t.Fatal("Push: nil error for 401")
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "alice") {
		t.Fatalf("error shows the credentials: %s", err)
	}
	req := http.Request{Header: r.header(0)}
	if user, pass, ok := req.BasicAuth(); !ok || user != "alice" || pass != "s3cret" {
		t.Fatalf("basic auth %q %q %v", user, pass, ok)
	}
}

func TestPushErrors(t *testing.T) {
	f := func(name string, status int, retryable bool) {
		t.Helper()
		r := newReceiver(t, func(int) int { return status })
		err := remotewrite.Push(context.Background(), http.DefaultClient, r.url(), nil, samples(0, 1))
		var e *remotewrite.Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %v, want *remotewrite.Error", name, err)
		}
		if e.StatusCode != status || e.Retryable != retryable || remotewrite.IsRetryable(err) != retryable {
			t.Errorf("%s: %+v, want status %d retryable %v", name, e, status, retryable)
		}
		if want := "no thanks: " + strconv.Itoa(status); e.Body != want || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q lacks the body %q", name, err, want)
		}
	}
	f("bad request", http.StatusBadRequest, false)
	f("unauthorized", http.StatusUnauthorized, false)
	f("forbidden", http.StatusForbidden, false)
	f("not found", http.StatusNotFound, false)
	f("too many requests", http.StatusTooManyRequests, true)
	f("internal error", http.StatusInternalServerError, true)
	f("unavailable", http.StatusServiceUnavailable, true)

	// No server: a network error, retryable.
	r := newReceiver(t, nil)
	u := r.url()
	r.srv.Close()
	err := remotewrite.Push(context.Background(), http.DefaultClient, u, nil, samples(0, 1))
	var e *remotewrite.Error
	if !errors.As(err, &e) || e.StatusCode != 0 || !e.Retryable {
		t.Fatalf("closed server: %#v, want a retryable *Error without status", err)
	}

	// A timeout: retryable.
	r = newReceiver(t, func(int) int { return 0 })
	err = remotewrite.Push(context.Background(), &http.Client{Timeout: 50 * time.Millisecond}, r.url(), nil, samples(0, 1))
	if !remotewrite.IsRetryable(err) {
		t.Fatalf("timeout: %v, want a retryable error", err)
	}

	// Not a URL: not retryable.
	err = remotewrite.Push(context.Background(), http.DefaultClient, "ftp://x/y", nil, samples(0, 1))
	if err == nil || remotewrite.IsRetryable(err) {
		t.Fatalf("bad URL: %v, want a permanent error", err)
	}
	if remotewrite.IsRetryable(errors.New("other")) {
		t.Fatal("IsRetryable(other error) = true")
	}
}

func TestBackoff(t *testing.T) {
	b := remotewrite.Backoff{Min: time.Second, Max: time.Minute}
	ceil := time.Second
	for i := range 12 {
		d := b.Next()
		if d < ceil/2 || d > ceil {
			t.Fatalf("attempt %d: %s, want in [%s, %s]", i, d, ceil/2, ceil)
		}
		ceil = min(2*ceil, time.Minute)
	}
	b.Reset()
	if d := b.Next(); d < 500*time.Millisecond || d > time.Second {
		t.Fatalf("after Reset: %s", d)
	}
	var zero remotewrite.Backoff
	if d := zero.Next(); d < remotewrite.DefaultMinBackoff/2 || d > remotewrite.DefaultMinBackoff {
		t.Fatalf("zero value: %s", d)
	}
	for range 10 {
		zero.Next()
	}
	if d := zero.Next(); d < remotewrite.DefaultMaxBackoff/2 || d > remotewrite.DefaultMaxBackoff {
		t.Fatalf("zero value, capped: %s, want in [%s, %s]", d, remotewrite.DefaultMaxBackoff/2, remotewrite.DefaultMaxBackoff)
	}
}

// fastOptions are Options for tests: short waits everywhere.
func fastOptions(url string, lb *logBuf) remotewrite.Options {
	return remotewrite.Options{
		URL:               url,
		Logger:            lb.logger(),
		FlushInterval:     5 * time.Millisecond,
		MinBackoff:        time.Millisecond,
		MaxBackoff:        10 * time.Millisecond,
		FinalFlushTimeout: 200 * time.Millisecond,
		Client:            &http.Client{Timeout: 2 * time.Second},
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "localhost:9090", "ftp://x/", "http://"} {
		if _, err := remotewrite.New(remotewrite.Options{URL: u}); err == nil {
			t.Errorf("New(%q): nil error", u)
		}
	}
	_, err := remotewrite.New(remotewrite.Options{URL: "http://u:s3cret@ho st/"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("New with a bad URL and a password: %v", err)
	}
}

func TestForwarderDelivers(t *testing.T) {
	r := newReceiver(t, nil)
	var lb logBuf
	opts := fastOptions(strings.Replace(r.url(), "http://", "http://bob:pw@", 1), &lb)
	opts.BatchSamples = 7
	f, err := remotewrite.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.URL(), "pw") {
		t.Fatalf("URL() shows the password: %s", f.URL())
	}
	stop := start(t, f)
	in := samples(0, 10)
	f.Write(in)
	in[0].Labels[0].Value = "changed" // Write copied
	in[0].Value = -1
	f.Write(samples(10, 40))
	testutil.WaitFor(t, "50 samples", func() bool { return f.Sent() == 50 })
	stop()
	if got := r.values(); !equal(got, seq(0, 50)) {
		t.Fatalf("received %v, want 0..49 once each in order", got)
	}
	if r.batch(0)[0].Labels[0].Value != "t" {
		t.Fatalf("the caller's later change reached the receiver: %+v", r.batch(0)[0])
	}
	for i := range 8 {
		if b := r.batch(i); len(b) > 7 {
			t.Errorf("batch %d has %d samples, want <= 7", i, len(b))
		}
	}
	hdr := r.header(0)
	if ua := hdr.Get("User-Agent"); !strings.HasPrefix(ua, "redwatch/") {
		t.Errorf("User-Agent %q", ua)
	}
	req := http.Request{Header: hdr}
	if user, pass, ok := req.BasicAuth(); !ok || user != "bob" || pass != "pw" {
		t.Errorf("basic auth %q %q %v", user, pass, ok)
	}
	if f.Dropped() != 0 || f.Failed() != 0 {
		t.Errorf("dropped %d failed %d, want 0", f.Dropped(), f.Failed())
	}
	if n := lb.count("INFO", "delivering samples"); n != 1 {
		t.Errorf("%d 'delivering' lines, want 1:\n%s", n, lb.String())
	}
	if strings.Contains(lb.String(), "pw@") {
		t.Errorf("logs show the password:\n%s", lb.String())
	}
}

func TestForwarderNoAuthByDefault(t *testing.T) {
	r := newReceiver(t, nil)
	var lb logBuf
	f, err := remotewrite.New(fastOptions(r.url(), &lb))
	if err != nil {
		t.Fatal(err)
	}
	start(t, f)
	f.Write(samples(0, 1))
	testutil.WaitFor(t, "delivery", func() bool { return f.Sent() == 1 })
	if a := r.header(0).Get("Authorization"); a != "" {
		t.Fatalf("Authorization %q, want none", a)
	}
}

func TestForwarderQueueDropsOldest(t *testing.T) {
	r := newReceiver(t, nil)
	var lb logBuf
	opts := fastOptions(r.url(), &lb)
	opts.MaxQueueSamples = 100
	opts.BatchSamples = 30
	f, err := remotewrite.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	// Not running yet: everything stays queued.
	for i := 0; i < 150; i += 10 {
		f.Write(samples(i, 10))
		if p := f.Pending(); p > 100 {
			t.Fatalf("pending %d > 100", p)
		}
	}
	if p, d := f.Pending(), f.Dropped(); p != 100 || d != 50 {
		t.Fatalf("pending %d dropped %d, want 100 and 50", p, d)
	}
	// One Write larger than the whole queue keeps its newest samples.
	f.Write(samples(150, 120))
	if p, d := f.Pending(), f.Dropped(); p != 100 || d != 170 {
		t.Fatalf("pending %d dropped %d, want 100 and 170", p, d)
	}
	if n := lb.count("WARN", "queue full"); n != 1 {
		t.Fatalf("%d 'queue full' lines, want 1:\n%s", n, lb.String())
	}
	start(t, f)
	testutil.WaitFor(t, "delivery", func() bool { return f.Sent() == 100 })
	if got := r.values(); !equal(got, seq(170, 100)) {
		t.Fatalf("received %v, want 170..269", got)
	}
	testutil.WaitFor(t, "drained log line", func() bool { return lb.count("INFO", "queue drained") == 1 })
}

func TestForwarderRetriesUntilDelivered(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusTooManyRequests} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			r := newReceiver(t, func(i int) int {
				if i < 5 {
					return status
				}
				return http.StatusNoContent
			})
			var lb logBuf
			opts := fastOptions(r.url(), &lb)
			opts.BatchSamples = 300
			f, err := remotewrite.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			start(t, f)
			for i := 0; i < 1000; i += 100 {
				f.Write(samples(i, 100))
			}
			testutil.WaitFor(t, "1000 samples", func() bool { return f.Sent() == 1000 })
			if got := r.values(); !equal(got, seq(0, 1000)) {
				t.Fatalf("received %d samples, want 0..999 exactly once in order", len(got))
			}
			if f.Dropped() != 0 || f.Failed() != 0 {
				t.Fatalf("dropped %d failed %d, want 0", f.Dropped(), f.Failed())
			}
			if n := lb.count("WARN", "unavailable"); n != 1 {
				t.Errorf("%d 'unavailable' lines for 5 failures, want 1:\n%s", n, lb.String())
			}
			if n := lb.count("INFO", "reachable again"); n != 1 {
				t.Errorf("%d 'reachable again' lines, want 1:\n%s", n, lb.String())
			}
		})
	}
}

func TestForwarderDropsRejectedBatch(t *testing.T) {
	r := newReceiver(t, func(i int) int {
		if i < 3 {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	var lb logBuf
	opts := fastOptions(r.url(), &lb)
	opts.BatchSamples = 10
	f, err := remotewrite.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(samples(0, 50)) // before Run: five batches of 10
	start(t, f)
	testutil.WaitFor(t, "delivery", func() bool { return f.Sent() == 20 })
	if got := r.values(); !equal(got, seq(30, 20)) {
		t.Fatalf("received %v, want 30..49", got)
	}
	if f.Failed() != 30 || f.Dropped() != 0 {
		t.Fatalf("failed %d dropped %d, want 30 and 0", f.Failed(), f.Dropped())
	}
	if n := r.count(); n != 5 {
		t.Fatalf("%d requests, want 5 (rejected batches are not retried)", n)
	}
	if n := lb.count("ERROR", "rejected samples"); n != 1 {
		t.Fatalf("%d 'rejected' error lines for 3 rejections, want 1:\n%s", n, lb.String())
	}
	if !strings.Contains(lb.String(), "no thanks: 400") {
		t.Fatalf("the log lacks the receiver's reason:\n%s", lb.String())
	}
}

// TestForwarderWriteNeverBlocks: Write returns at once while the receiver hangs, the queue
// stays bounded, and stopping waits for FinalFlushTimeout on the forwarder's clock, not for
// the hung request, then counts what is left as dropped.
func TestForwarderWriteNeverBlocks(t *testing.T) {
	r := newReceiver(t, func(int) int { return 0 }) // hangs
	var lb logBuf
	clock := newFakeClock()
	opts := fastOptions(r.url(), &lb)
	opts.MaxQueueSamples = 5000
	opts.BatchSamples = 100
	opts.FlushOnWrite = true
	opts.FlushInterval = fakeTick
	opts.After, opts.Now = clock.After, clock.Now
	opts.Client = &http.Client{} // no timeout: requests hang until the final flush gives up
	f, err := remotewrite.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, f)
	batch := samples(0, 20)
	var slowest time.Duration
	t0 := time.Now()
	for range 1000 {
		t1 := time.Now()
		if err := f.Write(batch); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(t1))
	}
	total := time.Since(t0)
	if slowest >= 50*time.Millisecond {
		t.Fatalf("slowest Write took %s, want < 50ms", slowest)
	}
	t.Logf("1000 Writes of 20 samples: %s in total, slowest %s", total, slowest)
	testutil.WaitFor(t, "a request", func() bool { return r.count() > 0 })
	if p := f.Pending(); p > 5000 {
		t.Fatalf("pending %d > 5000", p)
	}
	// All but the full queue and the one batch in flight (up to 100 samples, taken before or
	// after the queue filled up) were dropped.
	if d := f.Dropped(); d < 20000-5000-100 || d > 20000-5000 {
		t.Fatalf("dropped %d, want all but 5000 queued and <= 100 in flight", d)
	}

	// Stopping waits FinalFlushTimeout for the hung request, then gives up and counts the rest
	// as dropped.
	stopped := make(chan struct{})
	go func() { defer close(stopped); stop() }()
	w := clock.next(t)
	if w.d != opts.FinalFlushTimeout {
		t.Fatalf("stopping waits %s, want FinalFlushTimeout %s", w.d, opts.FinalFlushTimeout)
	}
	select {
	case <-stopped:
		t.Fatal("Run returned before FinalFlushTimeout passed, with a request in flight")
	default:
	}
	clock.pass(w)
	<-stopped // stop fails the test if Run does not return within 10 s
	if d := f.Dropped(); d != 20000 {
		t.Fatalf("dropped %d after stop, want all 20000", d)
	}
	if n := lb.count("WARN", "stopping with samples not delivered"); n != 1 {
		t.Fatalf("%d 'stopping' lines, want 1:\n%s", n, lb.String())
	}
}

// TestForwarderFinalFlush: less than a batch is not sent before the flush interval; stopping
// sends it. Run runs in a synctest bubble: the test waits 59:59 of the bubble's clock at once,
// and synctest.Wait returns once Run waits again. The receiver is outside the bubble (real
// network I/O is not durably blocking).
func TestForwarderFinalFlush(t *testing.T) {
	r := newReceiver(t, nil)
	synctest.Test(t, func(t *testing.T) {
		var lb logBuf
		opts := fastOptions(r.url(), &lb)
		opts.FlushInterval = time.Hour // only the final flush sends
		opts.BatchSamples = 40
		// No idle connections: their goroutines would be the bubble's, blocked on the network
		// (not durably), and the bubble's clock would stand still.
		opts.Client = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		f, err := remotewrite.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		stop := start(t, f)
		f.Write(samples(0, 30))
		f.Write(samples(30, 5))
		time.Sleep(opts.FlushInterval - time.Second) // the bubble's clock: no time passes
		synctest.Wait()
		if n := r.count(); n != 0 {
			t.Fatalf("%d requests a second before the flush interval, want 0", n)
		}
		stop()
		if got := r.values(); !equal(got, seq(0, 35)) {
			t.Fatalf("final flush delivered %v, want 0..34", got)
		}
		if f.Dropped() != 0 {
			t.Fatalf("dropped %d", f.Dropped())
		}
	})
}

func TestForwarderFinalFlushAfterOutage(t *testing.T) {
	r := newReceiver(t, func(int) int { return http.StatusServiceUnavailable })
	var lb logBuf
	opts := fastOptions(r.url(), &lb)
	opts.MinBackoff, opts.MaxBackoff = time.Hour, time.Hour // one attempt, then wait
	opts.BatchSamples = 10
	f, err := remotewrite.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, f)
	f.Write(samples(0, 25))
	testutil.WaitFor(t, "the first attempt", func() bool { return r.count() == 1 })
	r.setStatus(func(int) int { return http.StatusNoContent })
	stop()
	if got := r.values(); !equal(got, seq(0, 25)) {
		t.Fatalf("final flush delivered %v, want 0..24 (the retried batch first)", got)
	}
}
