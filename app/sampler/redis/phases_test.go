package redis

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// TestPhaseStats: durations are read on the injected stopwatch; the last, max and mean follow
// the runs, overruns count the runs said not to fit, and only phases that ran are listed.
func TestPhaseStats(t *testing.T) {
	clk := testutil.NewClock(keyTestT0)
	p := NewPhaseStats(clk.Now)
	if got := p.Stats(); len(got) != 0 {
		t.Fatalf("stats before any run: %+v", got)
	}
	run := func(ph Phase, took, interval time.Duration, overran bool) {
		t.Helper()
		start := p.Start()
		clk.Advance(took)
		if d := p.Observe(ph, start, interval, overran); d != took {
			t.Fatalf("Observe returned %v, want %v", d, took)
		}
	}
	run(PhaseInfo, 20*time.Millisecond, time.Second, false)
	run(PhaseInfo, 60*time.Millisecond, time.Second, false)
	run(PhaseInfo, 10*time.Millisecond, 2*time.Second, true)
	run(PhaseScan, 3*time.Second, time.Minute, false)

	got := p.Stats()
	want := []PhaseStat{
		{Phase: PhaseInfo, Last: 10 * time.Millisecond, Max: 60 * time.Millisecond, Total: 90 * time.Millisecond, Interval: 2 * time.Second, Runs: 3, Overruns: 1},
		{Phase: PhaseScan, Last: 3 * time.Second, Max: 3 * time.Second, Total: 3 * time.Second, Interval: time.Minute, Runs: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stats\n got %+v\nwant %+v", got, want)
	}
	if m := got[0].Mean(); m != 30*time.Millisecond {
		t.Errorf("info mean %v, want 30ms", m)
	}
	if m := (PhaseStat{}).Mean(); m != 0 {
		t.Errorf("mean without runs %v, want 0", m)
	}
	for ph, name := range map[Phase]string{PhaseInfo: "info", PhaseKeys: "keys", PhaseScan: "scan"} {
		if ph.String() != name {
			t.Errorf("%d.String() = %q, want %q", ph, ph.String(), name)
		}
	}

	// A nil *PhaseStats (a key sampler built without one) records nothing and does not panic.
	var none *PhaseStats
	none.Observe(PhaseKeys, none.Start(), time.Second, true)
	if none.Stats() != nil {
		t.Error("a nil PhaseStats has stats")
	}
}

// TestPhaseStatsRealStopwatch: with no stopwatch injected, durations are real time (fake
// inside a synctest bubble, where sleeping advances it exactly), and concurrent readers are
// safe beside a writer.
func TestPhaseStatsRealStopwatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := NewPhaseStats(nil)
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 100 {
				_ = p.Stats()
			}
		})
		start := p.Start()
		time.Sleep(1500 * time.Millisecond) // the bubble's clock: no real wait
		p.Observe(PhaseKeys, start, time.Second, true)
		wg.Wait()
		got := p.Stats()
		if len(got) != 1 || got[0].Phase != PhaseKeys || got[0].Last != 1500*time.Millisecond || got[0].Overruns != 1 {
			t.Fatalf("stats %+v, want one keys run of 1.5s that overran", got)
		}
	})
}

// slowWriter records samples and, while slow is set, moves the sampler's clock on by slow
// during each write: a storage write that takes that long.
type slowWriter struct {
	keyTestWriter
	clk *testutil.Clock

	mu   sync.Mutex
	slow time.Duration
}

func (w *slowWriter) setSlow(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.slow = d
}

func (w *slowWriter) Write(s []tsdb.Sample) error {
	w.mu.Lock()
	slow := w.slow
	w.mu.Unlock()
	if slow > 0 {
		w.clk.Advance(slow)
	}
	return w.keyTestWriter.Write(s)
}

// TestPhasesOfAnInstance, on a real Redis: an instance round records the info phase, a round
// of exact keys and a pattern's sampling pass the keys phase, a pattern's SCAN the scan phase,
// each with the interval it had to fit in; a run that lasts past its next slot on the
// sampler's clock (a slow storage write) counts one overrun of its phase, and runs that fit
// count none.
func TestPhasesOfAnInstance(t *testing.T) {
	srv := redistest.Start(t)
	srv.Do("rpush", "q", 1, 2)
	for i := range 3 {
		srv.Do("set", fmt.Sprintf("job:%d", i), "x")
	}
	clk := testutil.NewClock(keyTestT0)
	w := &slowWriter{clk: clk}
	s, _, _ := newTestInstance(t, srv.Addr(), func(r *config.Redis) {
		r.Interval = config.Duration(2 * time.Second)
		pat := keyTestPattern("job:*", 5*time.Second, 100)
		pat.ScanInterval = config.Duration(time.Minute)
		r.Keys = []config.Key{{Key: "q", Interval: config.Duration(3 * time.Second)}, pat}
	}, func(o *Options) { o.Clock = clk; o.Writer = w })
	ctx := context.Background()
	stat := func(ph Phase) PhaseStat {
		t.Helper()
		for _, st := range s.Phases() {
			if st.Phase == ph {
				return st
			}
		}
		return PhaseStat{}
	}
	check := func(ph Phase, runs, overruns uint64, interval time.Duration) {
		t.Helper()
		st := stat(ph)
		if st.Runs != runs || st.Overruns != overruns || st.Interval != interval {
			t.Errorf("%s: %d runs, %d overruns, interval %v; want %d, %d, %v", ph, st.Runs, st.Overruns, st.Interval, runs, overruns, interval)
		}
		if runs > 0 && (st.Last <= 0 || st.Last > 5*time.Second || st.Max < st.Last) {
			t.Errorf("%s: last %v, max %v: want a real, small duration", ph, st.Last, st.Max)
		}
	}

	// Runs that fit: the clock stands still.
	s.Round(ctx, clk.Now())
	if !s.Up() {
		t.Fatalf("not up: %+v", s.Snapshot())
	}
	check(PhaseInfo, 1, 0, 2*time.Second)
	if err := s.keys.scanDue(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	check(PhaseScan, 1, 0, time.Minute)
	if err := s.keys.sampleDue(ctx, clk.Now()); err != nil { // the exact round, then the pattern's pass
		t.Fatal(err)
	}
	check(PhaseKeys, 2, 0, 5*time.Second) // the pass ran last: the pattern's interval
	if n := len(s.Keys()); n != 4 {
		t.Fatalf("%d keys tracked, want q and 3 job:*", n)
	}

	// Every write now takes an hour on the sampler's clock: each run ends after its next slot.
	w.setSlow(time.Hour)
	s.Round(ctx, clk.Now())
	check(PhaseInfo, 2, 1, 2*time.Second)
	if err := s.keys.scanDue(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	check(PhaseScan, 2, 1, time.Minute)
	if err := s.keys.sampleDue(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	check(PhaseKeys, 4, 2, 5*time.Second)

	// Fitting again: no more overruns.
	w.setSlow(0)
	s.Round(ctx, clk.Now())
	check(PhaseInfo, 3, 1, 2*time.Second)

	// The Manager lists the same, by instance.
	m := &Manager{running: map[string]*managed{"main": {s: s}}}
	ps := m.Phases()
	if len(ps) != 1 || ps[0].Name != "main" || len(ps[0].Phases) != 3 {
		t.Fatalf("Manager.Phases() = %+v, want main with info, keys and scan", ps)
	}
}
