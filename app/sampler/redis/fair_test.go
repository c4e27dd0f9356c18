package redis

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
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
}

func (w *fairWriter) Write(samples []tsdb.Sample) error {
	if err := w.db.Write(samples); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range samples {
		switch {
		case s.Name == "redis_key_length" && keyTestLabel(s, "key") == w.key:
			w.exact = append(w.exact, s.Timestamp)
		case s.Name == "redis_key_length":
			w.patternLens++
		case s.Name == "redis_pattern_keys":
			w.patternKeys = append(w.patternKeys, s.Value)
		}
	}
	return nil
}

// A pattern matching 100,000 keys (max_keys 100,000) does not starve an exact key of the same
// instance: while Run scans and samples the pattern (writing to a real store), the exact key is sampled every interval,
// within one interval plus the timeout, from the first round on; the pattern is still fully
// expanded and its keys sampled. (Before the steps, the exact key was sampled once in 12 s.)
func TestFairExactKeyBesidePatternOf100kKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("fills Redis with 100,000 keys")
	}
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
	runCtx, cancel := context.WithTimeout(ctx, 12*time.Second)
	defer cancel()
	start := time.Now()
	k.Run(runCtx)

	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.exact) < 8 {
		t.Fatalf("the exact key was sampled %d times in 12 s (interval %s)", len(w.exact), interval)
	}
	if first := time.UnixMilli(w.exact[0]).Sub(start); first > timeout {
		t.Errorf("first sample of the exact key %s after start", first)
	}
	var gaps []time.Duration
	for i := 1; i < len(w.exact); i++ {
		gaps = append(gaps, time.Duration(w.exact[i]-w.exact[i-1])*time.Millisecond)
	}
	if worst := slices.Max(gaps); worst > interval+timeout {
		t.Errorf("the exact key's samples were up to %s apart (interval %s, timeout %s): %v", worst, interval, timeout, gaps)
	}
	t.Logf("exact key: %d samples, gaps %v", len(w.exact), gaps)
	// The pattern was served too: fully expanded, and its keys sampled (the first pass, which
	// creates 400,000 new series in storage, may take longer than the test runs).
	if !slices.Contains(w.patternKeys, float64(n)) {
		t.Errorf("redis_pattern_keys never reached %d: %v", n, w.patternKeys)
	}
	if w.patternLens < n/10 {
		t.Errorf("%d length samples of pattern-found keys, want at least %d", w.patternLens, n/10)
	}
	t.Logf("pattern: totals %v, %d key length samples", w.patternKeys, w.patternLens)
}
