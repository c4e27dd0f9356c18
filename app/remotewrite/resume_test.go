package remotewrite_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/remotewrite"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// fakeClock is a Forwarder's injected clock: every wait Run asks for is handed to the test,
// which advances the time and fires it. Waits of fakeTick (the flush interval of the tests
// that use it) are skipped and never fire.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	waits chan fakeWait
}

type fakeWait struct {
	d    time.Duration
	fire chan time.Time
}

// fakeTick is the FlushInterval of Forwarders on a fakeClock: they send on Write
// (FlushOnWrite), so no test waits for a flush.
const fakeTick = time.Hour

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), waits: make(chan fakeWait, 64)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	w := fakeWait{d: d, fire: make(chan time.Time, 1)}
	c.waits <- w
	return w.fire
}

// next returns the next wait Run asks for other than a flush tick (failing after 10 s of real
// time without one).
func (c *fakeClock) next(t *testing.T) fakeWait {
	t.Helper()
	for {
		select {
		case w := <-c.waits:
			if w.d != fakeTick {
				return w
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the forwarder asked for no wait within 10s")
			return fakeWait{}
		}
	}
}

// pass advances the clock by w's duration and fires it.
func (c *fakeClock) pass(w fakeWait) {
	c.mu.Lock()
	c.t = c.t.Add(w.d)
	now := c.t
	c.mu.Unlock()
	w.fire <- now
}

// After two minutes of a refused connection, the forwarder still tries every 2.5 to 5 s (the
// default backoff), so it resumes within 5 s of the receiver answering again. Before, the wait
// had grown to its 1 min cap: resuming took up to a minute (51 s measured).
func TestForwarderResumesPromptly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections are refused

	clock := newFakeClock()
	var lb logBuf
	f, err := remotewrite.New(remotewrite.Options{
		URL: "http://user:s3cret@" + addr + "/api/v1/write", Logger: lb.logger(), FlushOnWrite: true, FlushInterval: fakeTick,
		Client: &http.Client{Timeout: 2 * time.Second}, After: clock.After, Now: clock.Now,
		FinalFlushTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	start(t, f)
	f.Write(samples(0, 10))

	var down time.Duration
	var w fakeWait
	for i := range 40 {
		w = clock.next(t)
		if w.d > 5*time.Second {
			t.Fatalf("retry %d after %s down: waits %s, want at most 5s", i, down, w.d)
		}
		if i >= 3 && w.d < 2500*time.Millisecond {
			t.Fatalf("retry %d: waits %s, want at least 2.5s (no hammering)", i, w.d)
		}
		st := f.Stats()
		if st.State != "unavailable" || st.Up || !strings.Contains(st.LastError, "refused") || st.QueueSamples != 10 || st.Sent != 0 || !st.LastSuccess.IsZero() || strings.Contains(st.URL, "s3cret") {
			t.Fatalf("retry %d: stats %+v", i, st)
		}
		if i == 39 {
			break // the receiver comes back during this wait
		}
		down += w.d
		clock.pass(w)
	}
	if down < 100*time.Second {
		t.Fatalf("down only %s, want a long outage", down)
	}
	if got := samplesByName(f.Samples(clock.Now())); got != "redwatch_remote_write_up=0 redwatch_remote_write_queue_samples=10 redwatch_remote_write_samples_sent_total=0 redwatch_remote_write_samples_failed_total=0 redwatch_remote_write_samples_dropped_total=0" {
		t.Fatalf("series while down: %s", got)
	}

	// The receiver comes back on the same address while the forwarder waits: it resumes when
	// that wait ends, at most w.d after the receiver answers.
	r := newReceiverOn(t, addr)
	if w.d > 5*time.Second {
		t.Fatalf("resumes %s after the receiver answers, want <= 5s", w.d)
	}
	t.Logf("down %s in 40 tries; resumes at most %s after the receiver answers", down, w.d)
	answering := clock.Now()
	clock.pass(w)
	testutil.WaitFor(t, "delivery", func() bool { return f.Sent() == 10 })
	if got := r.values(); !equal(got, seq(0, 10)) {
		t.Fatalf("received %v", got)
	}
	st := f.Stats()
	if st.State != "delivering" || !st.Up || st.LastError != "" || st.QueueSamples != 0 || st.LastSuccess.Sub(answering) != w.d {
		t.Fatalf("after resuming: %+v", st)
	}
	got := samplesByName(f.Samples(clock.Now()))
	want := fmt.Sprintf("redwatch_remote_write_up=1 redwatch_remote_write_queue_samples=0 redwatch_remote_write_samples_sent_total=10 redwatch_remote_write_samples_failed_total=0 redwatch_remote_write_samples_dropped_total=0 redwatch_remote_write_last_success_timestamp_seconds=%v", float64(st.LastSuccess.UnixMilli())/1000)
	if got != want {
		t.Fatalf("series after resuming:\n got %s\nwant %s", got, want)
	}
	for _, s := range f.Samples(clock.Now()) {
		if len(s.Labels) != 1 || s.Labels[0].Name != "url" || s.Labels[0].Value != f.URL() || strings.Contains(s.Labels[0].Value, "s3cret") {
			t.Fatalf("labels %v", s.Labels)
		}
	}
	if n := lb.count("INFO", "reachable again"); n != 1 {
		t.Fatalf("%d 'reachable again' lines:\n%s", n, lb.String())
	}
}

// A receiver's Retry-After is honoured beyond the 5 s cap (up to MaxRetryAfter).
func TestForwarderHonoursRetryAfter(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if n == 2 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	f, err := remotewrite.New(remotewrite.Options{URL: srv.URL, FlushOnWrite: true, FlushInterval: fakeTick, After: clock.After, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	start(t, f)
	f.Write(samples(0, 1))
	if w := clock.next(t); w.d != 30*time.Second {
		t.Fatalf("Retry-After 30: waits %s", w.d)
	} else {
		clock.pass(w)
	}
	if w := clock.next(t); w.d != remotewrite.MaxRetryAfter {
		t.Fatalf("Retry-After 3600: waits %s, want %s", w.d, remotewrite.MaxRetryAfter)
	} else {
		clock.pass(w)
	}
	testutil.WaitFor(t, "delivery", func() bool { return f.Sent() == 1 })
}

// newReceiverOn is newReceiver listening on addr.
func newReceiverOn(t *testing.T, addr string) *receiver {
	t.Helper()
	r := newReceiver(t, nil)
	r.srv.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(r.srv.Config.Handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return r
}

func samplesByName(ss []tsdb.Sample) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, fmt.Sprintf("%s=%v", s.Name, s.Value))
	}
	return strings.Join(parts, " ")
}
