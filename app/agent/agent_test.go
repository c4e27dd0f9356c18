package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

const (
	testToken = "agent-token-0123456789"
	testHost  = "test-host"
)

// Modes of the test hub, besides an HTTP status.
const (
	hang  = 0  // never answer
	reset = -1 // close the connection without answering
)

// hub is a redwatch hub's write endpoint on a real HTTP test server: it checks the path and
// headers of every request, decodes it with wire.DecodeRemoteWrite, and answers as answer says.
type hub struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	answer   int // HTTP status, hang or reset
	requests int
	accepted [][]tsdb.Sample
}

func newHub(t *testing.T, answer int) *hub {
	t.Helper()
	h := &hub{t: t, answer: answer}
	stop := make(chan struct{})
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/prefix/api/v1/write" {
			t.Errorf("request %s %s, want POST /prefix/api/v1/write", r.Method, r.URL.Path)
		}
		for k, want := range map[string]string{
			"Content-Encoding":                  "snappy",
			"Content-Type":                      "application/x-protobuf",
			"X-Prometheus-Remote-Write-Version": "0.1.0",
			"Authorization":                     "Bearer " + testToken,
		} {
			if v := r.Header.Get(k); v != want {
				t.Errorf("header %s: %q, want %q", k, v, want)
			}
		}
		if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "redwatch-agent/") {
			t.Errorf("User-Agent %q, want redwatch-agent/<version>", ua)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		samples, err := wire.DecodeRemoteWrite(body)
		if err != nil {
			t.Errorf("cannot decode: %s", err)
		}
		h.mu.Lock()
		h.requests++
		answer := h.answer
		if answer >= 200 && answer < 300 {
			h.accepted = append(h.accepted, samples)
		}
		h.mu.Unlock()
		switch answer {
		case hang:
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		case reset:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		default:
			w.WriteHeader(answer)
			if answer >= 400 {
				fmt.Fprintf(w, "hub says %d", answer)
			}
		}
	}))
	t.Cleanup(func() {
		close(stop)
		h.srv.Close()
	})
	return h
}

func (h *hub) set(answer int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.answer = answer
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

// samples returns every accepted sample, in arrival order.
func (h *hub) samples() []tsdb.Sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []tsdb.Sample
	for _, b := range h.accepted {
		out = append(out, b...)
	}
	return out
}

// checkOrderAndOnce fails unless samples arrived oldest first (timestamps never decrease)
// and no sample (series and timestamp) arrived twice. It returns the distinct timestamps.
func checkOrderAndOnce(t *testing.T, samples []tsdb.Sample) []int64 {
	t.Helper()
	seen := map[string]bool{}
	var rounds []int64
	for i, s := range samples {
		if i > 0 && s.Timestamp < samples[i-1].Timestamp {
			t.Fatalf("sample %d (%s @%d) arrived after a newer one (@%d)", i, s.Name, s.Timestamp, samples[i-1].Timestamp)
		}
		key := fmt.Sprint(s.Name, s.Labels, s.Timestamp)
		if seen[key] {
			t.Fatalf("sample %s arrived twice", key)
		}
		seen[key] = true
		if len(rounds) == 0 || rounds[len(rounds)-1] != s.Timestamp {
			rounds = append(rounds, s.Timestamp)
		}
	}
	return rounds
}

// logBuf collects JSON log lines.
type logBuf struct{ testutil.SyncBuffer }

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

// newAgent builds an agent for h with short intervals and backoffs.
func newAgent(t *testing.T, h *hub, lb *logBuf, edit func(*Options)) *Agent {
	t.Helper()
	opts := Options{
		Hub:               h.srv.URL + "/prefix/",
		Token:             testToken,
		Interval:          20 * time.Millisecond,
		Host:              testHost,
		Logger:            slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Client:            &http.Client{Timeout: 2 * time.Second},
		MinBackoff:        5 * time.Millisecond,
		MaxBackoff:        20 * time.Millisecond,
		FinalFlushTimeout: 300 * time.Millisecond,
	}
	if edit != nil {
		edit(&opts)
	}
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// run starts a.Run; stop cancels it and waits (at most 10 s), returning how long that took.
func run(t *testing.T, a *Agent) (stop func() time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	var once sync.Once
	var took time.Duration
	stop = func() time.Duration {
		once.Do(func() {
			t0 := time.Now()
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return within 10s of cancel")
			}
			took = time.Since(t0)
		})
		return took
	}
	t.Cleanup(func() { stop() })
	return stop
}

func TestNewRejectsBadOptions(t *testing.T) {
	good := Options{Hub: "http://hub:8080", Token: testToken, Interval: time.Second, Host: testHost}
	f := func(name string, edit func(*Options), want string) {
		t.Helper()
		o := good
		edit(&o)
		_, err := New(o)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, want)
		}
	}
	f("no hub", func(o *Options) { o.Hub = "" }, "not an absolute")
	f("hub without scheme", func(o *Options) { o.Hub = "hub:8080" }, "not an absolute")
	f("hub with query", func(o *Options) { o.Hub = "http://hub/?x=1" }, "without a query")
	f("no token", func(o *Options) { o.Token = " " }, "token is empty")
	f("no interval", func(o *Options) { o.Interval = 0 }, "interval")
	if _, err := New(good); err != nil {
		t.Fatalf("good options: %s", err)
	}
}

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://hub:8080":          "http://hub:8080/api/v1/write",
		"https://hub.example/":     "https://hub.example/api/v1/write",
		"https://hub.example/rw/":  "https://hub.example/rw/api/v1/write",
		"https://hub.example/rw//": "https://hub.example/rw/api/v1/write",
	} {
		if got, err := Endpoint(in); err != nil || got != want {
			t.Errorf("Endpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestAgentPushesHostSamples(t *testing.T) {
	h := newHub(t, http.StatusNoContent)
	var lb logBuf
	a := newAgent(t, h, &lb, nil)
	stop := run(t, a)
	testutil.WaitFor(t, "three rounds", func() bool { return h.count() >= 3 })
	stop()

	got := h.samples()
	rounds := checkOrderAndOnce(t, got)
	if len(rounds) < 3 {
		t.Fatalf("%d rounds delivered, want >= 3", len(rounds))
	}
	ups := 0
	for _, s := range got {
		if !strings.HasPrefix(s.Name, "host_") {
			t.Errorf("unexpected series %s", s.Name)
		}
		if !slices.Contains(s.Labels, tsdb.Label{Name: "host", Value: testHost}) {
			t.Errorf("%s lacks host=%q: %v", s.Name, testHost, s.Labels)
		}
		if s.Name == "host_up" {
			ups++
			if s.Value != 1 {
				t.Errorf("host_up %v, want 1", s.Value)
			}
		}
	}
	if ups != len(rounds) {
		t.Errorf("%d host_up samples in %d rounds", ups, len(rounds))
	}
	if a.Sent() != uint64(len(got)) || a.Dropped() != 0 || a.Failed() != 0 {
		t.Errorf("sent %d (hub got %d) dropped %d failed %d", a.Sent(), len(got), a.Dropped(), a.Failed())
	}
	if n := lb.count("INFO", "delivering samples to hub"); n != 1 {
		t.Errorf("%d 'delivering' lines, want 1:\n%s", n, lb.String())
	}
	if strings.Contains(lb.String(), testToken) {
		t.Errorf("the token is logged:\n%s", lb.String())
	}
}

func TestAgentBuffersWhileHubIsDown(t *testing.T) {
	for _, down := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, reset} {
		t.Run(fmt.Sprint(down), func(t *testing.T) {
			h := newHub(t, down)
			var lb logBuf
			a := newAgent(t, h, &lb, nil)
			stop := run(t, a)
			testutil.WaitFor(t, "failed attempts", func() bool { return h.count() >= 5 })
			testutil.WaitFor(t, "rounds buffered", func() bool { return a.fwd.Pending() > 0 })
			downUntil := time.Now().UnixMilli()
			h.set(http.StatusNoContent)
			testutil.WaitFor(t, "the buffer to drain", func() bool {
				got := h.samples()
				return len(got) > 0 && got[len(got)-1].Timestamp > downUntil
			})
			stop()

			got := h.samples()
			rounds := checkOrderAndOnce(t, got)
			buffered := 0
			for _, ts := range rounds {
				if ts <= downUntil {
					buffered++
				}
			}
			if buffered < 2 {
				t.Fatalf("%d rounds from the outage delivered, want >= 2 (rounds %v)", buffered, rounds)
			}
			if a.Dropped() != 0 || a.Failed() != 0 {
				t.Fatalf("dropped %d failed %d, want 0", a.Dropped(), a.Failed())
			}
			if a.Sent() != uint64(len(got)) {
				t.Fatalf("sent %d, hub got %d", a.Sent(), len(got))
			}
			if n := lb.count("WARN", "hub unavailable"); n != 1 {
				t.Errorf("%d 'unavailable' lines, want 1:\n%s", n, lb.String())
			}
			if n := lb.count("INFO", "hub is reachable again"); n != 1 {
				t.Errorf("%d 'reachable again' lines, want 1:\n%s", n, lb.String())
			}
		})
	}
}

func TestAgentBufferIsBounded(t *testing.T) {
	h := newHub(t, http.StatusServiceUnavailable)
	var lb logBuf
	a := newAgent(t, h, &lb, nil)
	round, _ := a.sampler.Collect(context.Background(), time.Now())
	limit := 3 * len(round)
	a = newAgent(t, h, &lb, func(o *Options) { o.MaxBufferedSamples = limit })

	stop := run(t, a)
	testutil.WaitFor(t, "drops", func() bool {
		if p := a.fwd.Pending(); p > limit {
			t.Fatalf("%d samples buffered, limit %d", p, limit)
		}
		return a.Dropped() > 0
	})
	if n := lb.count("WARN", "queue full"); n != 1 {
		t.Errorf("%d 'queue full' lines, want 1:\n%s", n, lb.String())
	}
	upAt := time.Now().UnixMilli()
	h.set(http.StatusNoContent)
	testutil.WaitFor(t, "delivery", func() bool {
		got := h.samples()
		return len(got) > 0 && got[len(got)-1].Timestamp > upAt
	})
	stop()
	got := h.samples()
	checkOrderAndOnce(t, got)
	old := 0
	for _, s := range got {
		if s.Timestamp <= upAt {
			old++
		}
	}
	// What the outage left: the buffer plus the one batch being retried.
	if old > 2*limit {
		t.Fatalf("%d samples from the outage delivered, want <= %d", old, 2*limit)
	}
}

func TestAgentUnauthorized(t *testing.T) {
	h := newHub(t, http.StatusUnauthorized)
	var lb logBuf
	a := newAgent(t, h, &lb, nil)
	stop := run(t, a)
	testutil.WaitFor(t, "several rejected rounds", func() bool { return h.count() >= 4 })
	if a.Failed() == 0 {
		t.Fatal("no sample counted as rejected")
	}
	if p := a.fwd.Pending(); p > 3*len(h.samples())+200 {
		t.Fatalf("%d samples buffered: rejected rounds must not pile up", p)
	}
	// A fixed token: later rounds go through.
	h.set(http.StatusNoContent)
	testutil.WaitFor(t, "delivery", func() bool { return len(h.samples()) > 0 })
	stop()
	checkOrderAndOnce(t, h.samples())
	if a.Dropped() != 0 {
		t.Fatalf("dropped %d, want 0", a.Dropped())
	}
	if n := lb.count("ERROR", "hub rejected samples"); n != 1 {
		t.Fatalf("%d 'rejected' error lines for %d rejections, want 1:\n%s", n, h.count()-1, lb.String())
	}
	if !strings.Contains(lb.String(), "hub says 401") {
		t.Fatalf("the log lacks the hub's answer:\n%s", lb.String())
	}
	if n := lb.count("INFO", "hub accepts samples again"); n != 1 {
		t.Fatalf("%d 'accepts again' lines, want 1:\n%s", n, lb.String())
	}
	if strings.Contains(lb.String(), testToken) {
		t.Errorf("the token is logged:\n%s", lb.String())
	}
}

func TestAgentStopFlushesBuffer(t *testing.T) {
	h := newHub(t, http.StatusServiceUnavailable)
	var lb logBuf
	// One attempt, then a long backoff: rounds pile up until the final flush.
	a := newAgent(t, h, &lb, func(o *Options) { o.MinBackoff, o.MaxBackoff = time.Hour, time.Hour })
	stop := run(t, a)
	testutil.WaitFor(t, "a failed attempt", func() bool { return h.count() >= 1 })
	testutil.WaitFor(t, "rounds buffered", func() bool { return a.fwd.Pending() > 0 })
	h.set(http.StatusNoContent)
	if took := stop(); took > 2*time.Second {
		t.Fatalf("Run took %s to return", took)
	}
	got := h.samples()
	rounds := checkOrderAndOnce(t, got)
	if len(rounds) < 2 {
		t.Fatalf("final flush delivered %d rounds, want >= 2", len(rounds))
	}
	if a.Sent() != uint64(len(got)) || a.Dropped() != 0 {
		t.Fatalf("sent %d (hub got %d) dropped %d", a.Sent(), len(got), a.Dropped())
	}
}

func TestAgentStopIsBoundedWhenHubHangs(t *testing.T) {
	h := newHub(t, hang)
	var lb logBuf
	a := newAgent(t, h, &lb, func(o *Options) { o.Client = &http.Client{} }) // no per-request timeout
	stop := run(t, a)
	testutil.WaitFor(t, "a request", func() bool { return h.count() >= 1 })
	testutil.WaitFor(t, "rounds queued behind the hung request", func() bool { return a.fwd.Pending() > 0 })
	if took := stop(); took > 2*time.Second {
		t.Fatalf("Run took %s to return; the final flush is bounded to 300ms", took)
	}
	if a.Dropped() == 0 {
		t.Fatal("undelivered samples not counted as dropped")
	}
	if n := lb.count("WARN", "stopping with samples not delivered"); n != 1 {
		t.Fatalf("%d 'stopping' lines, want 1:\n%s", n, lb.String())
	}
}
