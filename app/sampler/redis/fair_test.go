package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// fairWriter writes to a real store (its cost is part of a pass) and keeps the timestamps of one key's redis_key_length and the values of
// redis_pattern_keys, and counts the pattern-found keys' length samples.
type fairWriter struct {
	db  *tsdb.DB
	key string

	mu          sync.Mutex
	exact       []int64 // unix ms
	patternKeys []float64
	patternLens int
	slowestStep time.Duration // the longest storage write of a step of pattern-found keys
}

func (w *fairWriter) Write(samples []tsdb.Sample) error {
	t0 := time.Now()
	if err := w.db.Write(samples); err != nil {
		return err
	}
	took := time.Since(t0)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range samples {
		switch {
		case s.Name == "redis_key_length" && keyTestLabel(s, "key") == w.key:
			w.exact = append(w.exact, s.Timestamp)
		case s.Name == "redis_key_length":
			w.patternLens++
			w.slowestStep = max(w.slowestStep, took)
		case s.Name == "redis_pattern_keys":
			w.patternKeys = append(w.patternKeys, s.Value)
		}
	}
	return nil
}

// A pattern matching 100,000 keys (max_keys 100,000) does not starve an exact key of the same
// instance: while Run scans and samples the pattern (writing to a real store), the exact key is sampled every interval,
// within two intervals plus the timeout, from the first round on; the pattern is still fully
// expanded and its keys sampled. (Before the steps, the exact key was sampled once in 12 s.)
func TestFairExactKeyBesidePatternOf100kKeys(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	const n = 100_000
	for i := 0; i < n; i += 10_000 {
		pipe := c.Pipeline()
		for j := i; j < i+10_000; j++ {
			pipe.Set(ctx, fmt.Sprintf("pat:%d", j), "v", 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	keyTestDo(t, c, "rpush", "q", "a", "b")

	const interval, timeout = time.Second, time.Second
	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := &fairWriter{db: db, key: "q"}
	k := newKeySampler(keyOptions{
		Instance: "main", Client: c, Timeout: timeout, Writer: w,
		MemoryInterval: time.Minute, MemorySamples: 5, // the defaults
		Logger: slog.New(slog.DiscardHandler),
		Keys: []config.Key{
			keyTestExact("q", interval),
			{Pattern: "pat:*", Interval: config.Duration(2 * time.Second), MaxKeys: n, ScanInterval: config.Duration(time.Minute)},
		},
	})
	// Run until the pattern was served (fully expanded, several steps of 256 keys sampled) and
	// for at least 12 s; up to 90 s, since how fast the first pass goes (it creates 400,000 new
	// series in storage) depends on the machine's load: under -race on a loaded CI box 12 s
	// once gave no step at all.
	const least = 4 * 256
	served := func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return slices.Contains(w.patternKeys, float64(n)) && w.patternLens >= least
	}
	runCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan struct{})
	go func() { defer close(done); k.Run(runCtx) }()
	for !served() || time.Since(start) < 12*time.Second {
		select {
		case <-done:
		case <-time.After(100 * time.Millisecond):
			continue
		}
		break
	}
	cancel()
	<-done
	ran := time.Since(start)

	w.mu.Lock()
	defer w.mu.Unlock()
	if want := int(ran/interval) * 2 / 3; len(w.exact) < want {
		t.Fatalf("the exact key was sampled %d times in %s (interval %s), want at least %d", len(w.exact), ran, interval, want)
	}
	if first := time.UnixMilli(w.exact[0]).Sub(start); first > timeout {
		t.Errorf("first sample of the exact key %s after start", first)
	}
	var gaps []time.Duration
	for i := 1; i < len(w.exact); i++ {
		gaps = append(gaps, time.Duration(w.exact[i]-w.exact[i-1])*time.Millisecond)
	}
	// One step may delay the exact key: its round trips are bounded by the timeout, but not
	// its storage write, which in the first pass creates ~1,000 new series per step (under
	// -race on a loaded box that took from 1.1 s to over 2 s): allow one more interval plus
	// the slowest step write measured here. Starving the exact key takes many steps in a row
	// (before the steps the gap was 12 s), which this bound still catches.
	if worst, bound := slices.Max(gaps), 2*interval+timeout+w.slowestStep; worst > bound {
		t.Errorf("the exact key's samples were up to %s apart (interval %s, timeout %s, slowest step write %s, bound %s): %v",
			worst, interval, timeout, w.slowestStep, bound, gaps)
	}
	t.Logf("exact key: %d samples, gaps %v; slowest step write %s", len(w.exact), gaps, w.slowestStep)
	// The pattern was served too: fully expanded, and its keys sampled (several steps of 256
	// keys, not a share of the pass, for the reason above).
	if !slices.Contains(w.patternKeys, float64(n)) {
		t.Errorf("redis_pattern_keys never reached %d in %s: %v", n, ran, w.patternKeys)
	}
	if w.patternLens < least {
		t.Errorf("%d length samples of pattern-found keys in %s, want at least %d", w.patternLens, ran, least)
	}
	t.Logf("ran %s; pattern: totals %v, %d key length samples", ran, w.patternKeys, w.patternLens)
}

// A pattern cohort's pass samples keysPerStep keys per patternStep, with each step's own
// timestamp; the pattern's totals are written when the pass ends; a pass that outlasts its
// interval starts again at once; while the instance is down the pass is abandoned.
func TestPatternPassInSteps(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	for i := range 10 {
		keyTestDo(t, c, "rpush", fmt.Sprintf("p:%d", i), "x")
	}
	up := true
	k, w, _ := newKeyTestSampler(t, c, []config.Key{keyTestPattern("p:*", time.Second, 100)}, func(o *keyOptions) {
		o.BatchSize = 4 // 2 keys a step
		o.Up = func() bool { return up }
	})
	ctx := context.Background()
	keyTestScan(t, k, keyTestAt(0))
	w.take()
	step := func(sec int, wantKeys int, wantTotals bool) {
		t.Helper()
		k.patternStep(ctx, keyTestAt(sec))
		got := w.take()
		lens := keyTestFind(got, "redis_key_length")
		if len(lens) != wantKeys {
			t.Fatalf("step at %ds: %d keys sampled, want %d", sec, len(lens), wantKeys)
		}
		for _, s := range lens {
			if s.Timestamp != keyTestAt(sec).UnixMilli() {
				t.Fatalf("step at %ds: sample at %d", sec, s.Timestamp)
			}
		}
		if totals := len(keyTestFind(got, "redis_pattern_keys")) == 1; totals != wantTotals {
			t.Fatalf("step at %ds: totals written %v, want %v", sec, totals, wantTotals)
		}
	}
	for sec := range 5 { // a pass of 10 keys, 2 a step, outlasting its 1 s interval
		step(sec, 2, sec == 4)
	}
	if next, _ := k.nextDue(); next.After(keyTestAt(4)) {
		t.Fatalf("after a pass longer than the interval the next is due at %s, not at once", next)
	}
	step(5, 2, false)
	up = false
	step(6, 0, false)
	if k.patternBusy() {
		t.Fatal("a pass still runs while the instance is down")
	}
	up = true
	step(6, 0, false) // rescheduled at 6 s (when it was abandoned): due at 7 s
	step(7, 2, false)
}

// The other way round: exact keys that are always due (each round of them outlasts their
// interval) do not starve a pattern. Run still does one step of pattern work after every
// round of exact keys, so the pattern is expanded and all its keys are sampled.
func TestFairPatternBesideAlwaysDueExactKeys(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	keys := []config.Key{keyTestPattern("p:*", time.Second, 100)}
	for i := range 200 {
		keyTestDo(t, c, "rpush", fmt.Sprintf("e:%d", i), "x")
		keys = append(keys, keyTestExact(fmt.Sprintf("e:%d", i), time.Second))
	}
	const patternKeys = 20
	for i := range patternKeys {
		keyTestDo(t, c, "rpush", fmt.Sprintf("p:%d", i), "x")
	}
	k, w, _ := newKeyTestSampler(t, c, keys, func(o *keyOptions) {
		o.BatchSize = 4 // 50 round trips a round of exact keys, 2 pattern keys a step
		o.Clock = &steppingClock{}
	})
	runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); k.Run(runCtx) }()
	sampled := map[string]bool{}
	exactRounds := 0
	testutil.Eventually(t, 30*time.Second, "every pattern key sampled beside exact keys always due", func() (bool, string) {
		for _, s := range keyTestFind(w.take(), "redis_key_length") {
			switch key := keyTestLabel(s, "key"); {
			case strings.HasPrefix(key, "p:"):
				sampled[key] = true
			case key == "e:0":
				exactRounds++
			}
		}
		return len(sampled) >= patternKeys, fmt.Sprintf("%d of the pattern's %d keys sampled, %d rounds of exact keys", len(sampled), patternKeys, exactRounds)
	})
	cancel()
	<-done
	if exactRounds < patternKeys/2 {
		t.Fatalf("only %d rounds of exact keys while the pattern's %d keys were sampled in steps of 2", exactRounds, patternKeys)
	}
}

// Exact rounds and pattern steps interleave; while one kind fails and the other works, each
// failure and recovery is logged once, not at every step.
func TestSampleFailuresLoggedPerKind(t *testing.T) {
	srv := redistest.Start(t)
	k, _, logs := newKeyTestSampler(t, srv.Client(), []config.Key{keyTestExact("q", time.Second)}, nil)
	ctx := context.Background()
	failed := errors.New("i/o timeout")
	for range 5 {
		if err := k.noteSampled(ctx, nil, &k.exactFailing, "exact"); err != nil {
			t.Fatal(err)
		}
		if err := k.noteSampled(ctx, failed, &k.passFailing, "pattern"); !errors.Is(err, failed) {
			t.Fatalf("noteSampled = %v, want it to wrap the failure", err)
		}
	}
	if n := strings.Count(logs.String(), `"msg":"cannot sample keys"`); n != 1 {
		t.Errorf("%d warnings, want 1\n%s", n, logs)
	}
	if n := strings.Count(logs.String(), "sampling keys works again"); n != 0 {
		t.Errorf("%d recoveries logged while the pattern passes kept failing\n%s", n, logs)
	}
	if err := k.noteSampled(ctx, nil, &k.passFailing, "pattern"); err != nil || !strings.Contains(logs.String(), `"msg":"sampling keys works again","instance":"test","db":0,"keys":"pattern"`) {
		t.Errorf("pattern recovery not logged (%v)\n%s", err, logs)
	}
}

// The pattern's first scan is followed at once by a pass over what it found: at start the
// cohort's pass runs before the scan has found any key, and the keys must not then wait a whole
// interval for their first sample.
func TestFirstScanIsSampledAtOnce(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	for i := range 10 {
		keyTestDo(t, c, "rpush", fmt.Sprintf("p:%d", i), "x")
	}
	k, w, _ := newKeyTestSampler(t, c, []config.Key{keyTestPattern("p:*", time.Minute, 100)}, nil)
	ctx := context.Background()
	for sec := 0; sec < 5 && k.Patterns()[0].Matched == 0; sec++ { // the scan, a page a step
		k.patternStep(ctx, keyTestAt(sec))
	}
	w.take()
	n := 0
	for sec := 5; sec < 10 && n < 10; sec++ { // well within the 1 min interval
		k.patternStep(ctx, keyTestAt(sec))
		n += len(keyTestFind(w.take(), "redis_key_length"))
	}
	if n != 10 {
		t.Fatalf("%d keys sampled in the 5 s after the first scan, want 10", n)
	}
}
