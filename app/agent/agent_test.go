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

// Test timings, on the agent's fake clock.
const (
	testInterval   = 10 * time.Second
	testFinalFlush = 300 * time.Millisecond
)

// newAgent builds an agent for h on clock, with backoffs shorter than its interval.
func newAgent(t *testing.T, h *hub, lb *logBuf, clock *testutil.Clock, edit func(*Options)) *Agent {
	t.Helper()
	opts := Options{
		Hub:               h.srv.URL + "/prefix/",
		Token:             testToken,
		Interval:          testInterval,
		Host:              testHost,
		Logger:            slog.New(slog.NewJSONHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Client:            &http.Client{Timeout: 2 * time.Second},
		MinBackoff:        time.Second,
		MaxBackoff:        2 * time.Second,
		FinalFlushTimeout: testFinalFlush,
		Clock:             clock,
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

func newClock() *testutil.Clock { return testutil.NewClock(time.UnixMilli(1_700_000_000_000)) }

// advanceUntil moves clock on an interval at a time until cond holds: each step fires the next
// round, the forwarder's flush and any backoff. It fails the test when cond does not hold
// within testutil.WaitFor's time.
func advanceUntil(t *testing.T, clock *testutil.Clock, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, what, func() bool {
		if cond() {
			return true
		}
		clock.Advance(testInterval)
		return false
	})
}

// running is an Agent's Run in a goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// run starts a.Run; the test's cleanup stops it, moving clock on until it returns.
func run(t *testing.T, a *Agent, clock *testutil.Clock) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		a.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		advanceUntil(t, clock, "Run to return", r.returned)
	})
	return r
}

func (r *running) returned() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// stop cancels Run and waits for it to return, without moving the clock: whatever Run still
// waits for on its clock (a backoff, the final flush's bound) makes the test fail.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	testutil.WaitFor(t, "Run to return without the clock moving", r.returned)
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
	clock := newClock()
	a := newAgent(t, h, &lb, clock, nil)
	r := run(t, a, clock)
	advanceUntil(t, clock, "three rounds", func() bool { return h.count() >= 3 })
	r.stop(t)

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
			clock := newClock()
			a := newAgent(t, h, &lb, clock, nil)
			r := run(t, a, clock)
			advanceUntil(t, clock, "failed attempts and rounds buffered", func() bool {
				return h.count() >= 5 && a.fwd.Pending() > 0
			})
			downUntil := clock.Now().UnixMilli()
			h.set(http.StatusNoContent)
			advanceUntil(t, clock, "the buffer to drain", func() bool {
				got := h.samples()
				return len(got) > 0 && got[len(got)-1].Timestamp > downUntil
			})
			r.stop(t)

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
	clock := newClock()
	a := newAgent(t, h, &lb, clock, nil)
	round, _ := a.sampler.Collect(context.Background(), clock.Now())
	limit := 3 * len(round)
	a = newAgent(t, h, &lb, clock, func(o *Options) { o.MaxBufferedSamples = limit })

	r := run(t, a, clock)
	advanceUntil(t, clock, "drops", func() bool {
		if p := a.fwd.Pending(); p > limit {
			t.Fatalf("%d samples buffered, limit %d", p, limit)
		}
		return a.Dropped() > 0
	})
	if n := lb.count("WARN", "queue full"); n != 1 {
		t.Errorf("%d 'queue full' lines, want 1:\n%s", n, lb.String())
	}
	upAt := clock.Now().UnixMilli()
	h.set(http.StatusNoContent)
	advanceUntil(t, clock, "delivery", func() bool {
		got := h.samples()
		return len(got) > 0 && got[len(got)-1].Timestamp > upAt
	})
	r.stop(t)
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
	clock := newClock()
	a := newAgent(t, h, &lb, clock, nil)
	r := run(t, a, clock)
	advanceUntil(t, clock, "several rejected rounds", func() bool { return h.count() >= 4 })
	if a.Failed() == 0 {
		t.Fatal("no sample counted as rejected")
	}
	if p := a.fwd.Pending(); p > 3*len(h.samples())+200 {
		t.Fatalf("%d samples buffered: rejected rounds must not pile up", p)
	}
	// A fixed token: later rounds go through.
	h.set(http.StatusNoContent)
	advanceUntil(t, clock, "delivery", func() bool { return len(h.samples()) > 0 })
	r.stop(t)
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
	clock := newClock()
	a := newAgent(t, h, &lb, clock, func(o *Options) { o.MinBackoff, o.MaxBackoff = time.Hour, time.Hour })
	r := run(t, a, clock)
	advanceUntil(t, clock, "a failed attempt and rounds buffered", func() bool {
		return h.count() >= 1 && a.fwd.Pending() > 0
	})
	if n := h.count(); n != 1 {
		t.Fatalf("%d attempts before the hour of backoff passed, want 1", n)
	}
	h.set(http.StatusNoContent)
	r.stop(t) // the final flush does not wait for the backoff
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
	clock := newClock()
	a := newAgent(t, h, &lb, clock, func(o *Options) { o.Client = &http.Client{} }) // no per-request timeout
	r := run(t, a, clock)
	advanceUntil(t, clock, "a request and rounds queued behind it", func() bool {
		return h.count() >= 1 && a.fwd.Pending() > 0
	})
	// Stopping waits FinalFlushTimeout on the clock for the hung request, no longer.
	r.cancel()
	testutil.WaitFor(t, "the final flush's wait", func() bool {
		return slices.Contains(clock.Waits(), testFinalFlush)
	})
	if r.returned() {
		t.Fatal("Run returned before FinalFlushTimeout passed, with a request in flight")
	}
	clock.Advance(testFinalFlush)
	testutil.WaitFor(t, "Run to return once FinalFlushTimeout passed", r.returned)
	if a.Dropped() == 0 {
		t.Fatal("undelivered samples not counted as dropped")
	}
	if n := lb.count("WARN", "stopping with samples not delivered"); n != 1 {
		t.Fatalf("%d 'stopping' lines, want 1:\n%s", n, lb.String())
	}
}
