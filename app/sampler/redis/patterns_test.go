package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
)

// patternTestFill creates lists prefix0..prefix(n-1), list i holding i+1 items, with pipelined
// writes; it returns the sum of their lengths.
func patternTestFill(t *testing.T, c *goredis.Client, prefix string, n int) int64 {
	t.Helper()
	var sum int64
	pipe := c.Pipeline()
	for i := range n {
		args := []any{"rpush", fmt.Sprintf("%s%d", prefix, i)}
		for j := 0; j <= i%7; j++ {
			args = append(args, j)
		}
		sum += int64(i%7 + 1)
		pipe.Do(context.Background(), args...)
	}
	if _, err := pipe.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestPatternMaxKeys(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	sum := patternTestFill(t, c, "job:", 50)
	keyTestDo(t, c, "set", "other", "x")
	k, w, _ := newKeyTestSampler(t, c, []config.Key{keyTestPattern("job:*", 5*time.Second, 10)},
		func(o *keyOptions) { o.BatchSize = 7 })
	keyTestScan(t, k, keyTestAt(0))
	samples := w.take()
	if v := keyTestValue(t, samples, "redis_pattern_keys", "pattern", "job:*", "db", "0", "instance", "test"); v != 50 {
		t.Errorf("redis_pattern_keys %v, want 50", v)
	}
	if v := keyTestValue(t, samples, "redis_pattern_length", "pattern", "job:*"); v != float64(sum) {
		t.Errorf("redis_pattern_length %v, want %d", v, sum)
	}
	p := k.Patterns()[0]
	if p.Pattern != "job:*" || p.Matched != 50 || p.Tracked != 10 || p.MaxKeys != 10 || p.LengthSum != sum ||
		!p.LastScan.Equal(keyTestAt(0)) || p.Error != "" || p.Instance != "test" {
		t.Errorf("snapshot %+v", p)
	}

	keyTestSample(t, k, keyTestAt(0))
	samples = w.take()
	tracked := k.Keys()
	if len(tracked) != 10 {
		t.Fatalf("%d keys tracked, want 10", len(tracked))
	}
	for _, s := range tracked {
		if s.Pattern != "job:*" || !s.Exists || s.Interval != 5*time.Second || s.Type != "list" {
			t.Errorf("snapshot %+v", s)
		}
		if v := keyTestValue(t, samples, "redis_key_length", "key", s.Key, "type", "list"); v != float64(s.Length) {
			t.Errorf("%s: length %v vs snapshot %d", s.Key, v, s.Length)
		}
	}
	if n := len(keyTestFind(samples, "redis_key_exists")); n != 10 {
		t.Errorf("%d keys sampled, want 10", n)
	}

	// A sampling round of the pattern's interval keeps the totals current.
	keyTestDo(t, c, "rpush", tracked[0].Key, "more")
	keyTestSample(t, k, keyTestAt(5))
	samples = w.take()
	if v := keyTestValue(t, samples, "redis_pattern_length", "pattern", "job:*"); v != float64(sum+1) {
		t.Errorf("after a push: redis_pattern_length %v, want %d", v, sum+1)
	}
	if v := keyTestValue(t, samples, "redis_pattern_keys", "pattern", "job:*"); v != 50 {
		t.Errorf("after a push: redis_pattern_keys %v", v)
	}

	// The next scan keeps the same 10 keys.
	keyTestScan(t, k, keyTestAt(60))
	after := k.Keys()
	for i := range after {
		if after[i].Key != tracked[i].Key {
			t.Fatalf("rescan changed tracked keys: %q vs %q", after[i].Key, tracked[i].Key)
		}
	}
}

// TestPatternPages: a pattern spanning several SCAN pages is counted exactly once per key.
func TestPatternPages(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	sum := patternTestFill(t, c, "p:", 3000)
	k, w, _ := newKeyTestSampler(t, c, []config.Key{keyTestPattern("p:*", 5*time.Second, 100)}, nil)
	keyTestScan(t, k, keyTestAt(0))
	samples := w.take()
	if v := keyTestValue(t, samples, "redis_pattern_keys", "pattern", "p:*"); v != 3000 {
		t.Errorf("redis_pattern_keys %v, want 3000", v)
	}
	if v := keyTestValue(t, samples, "redis_pattern_length", "pattern", "p:*"); v != float64(sum) {
		t.Errorf("redis_pattern_length %v, want %d", v, sum)
	}
	if p := k.Patterns()[0]; p.Tracked != 100 {
		t.Errorf("tracked %d", p.Tracked)
	}
	if rt := k.RoundTrips(); rt < 4 {
		t.Errorf("%d round trips: expected several SCAN pages plus measuring", rt)
	}
}

// TestPatternVanishedKey: a pattern-found key that disappears reports exists 0 once and stops
// being sampled; a later scan finds it again.
func TestPatternVanishedKey(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	patternTestFill(t, c, "job:", 3)
	k, w, _ := newKeyTestSampler(t, c, []config.Key{keyTestPattern("job:*", time.Second, 10)}, nil)
	keyTestScan(t, k, keyTestAt(0))
	keyTestSample(t, k, keyTestAt(0))
	w.take()

	keyTestDo(t, c, "del", "job:1")
	keyTestSample(t, k, keyTestAt(1))
	samples := w.take()
	if v := keyTestValue(t, samples, "redis_key_exists", "key", "job:1", "type", "list"); v != 0 {
		t.Errorf("exists %v", v)
	}
	if n := len(keyTestFind(samples, "redis_key_length", "key", "job:1")); n != 0 {
		t.Errorf("%d length samples for a vanished pattern key", n)
	}
	if v := keyTestValue(t, samples, "redis_pattern_keys", "pattern", "job:*"); v != 2 {
		t.Errorf("redis_pattern_keys %v, want 2", v)
	}
	for sec := 2; sec <= 3; sec++ {
		keyTestSample(t, k, keyTestAt(sec))
		if n := len(keyTestFind(w.take(), "redis_key_exists", "key", "job:1")); n != 0 {
			t.Errorf("round %d: job:1 still sampled", sec)
		}
	}
	for _, s := range k.Keys() {
		if s.Key == "job:1" {
			t.Error("job:1 still in Keys()")
		}
	}
	if p := k.Patterns()[0]; p.Tracked != 2 || p.Matched != 2 {
		t.Errorf("pattern %+v", p)
	}

	// A key deleted between scans without a sampling round in between: the scan reports it.
	keyTestDo(t, c, "del", "job:2")
	keyTestDo(t, c, "rpush", "job:1", "back")
	keyTestScan(t, k, keyTestAt(60))
	samples = w.take()
	if v := keyTestValue(t, samples, "redis_key_exists", "key", "job:2"); v != 0 {
		t.Errorf("job:2 exists %v", v)
	}
	if v := keyTestValue(t, samples, "redis_pattern_keys", "pattern", "job:*"); v != 2 {
		t.Errorf("redis_pattern_keys %v, want 2", v)
	}
	keyTestSample(t, k, keyTestAt(60))
	samples = w.take()
	if v := keyTestValue(t, samples, "redis_key_length", "key", "job:1"); v != 1 {
		t.Errorf("job:1 back: length %v", v)
	}
	if n := len(keyTestFind(samples, "redis_key_exists", "key", "job:2")); n != 0 {
		t.Error("job:2 sampled after the scan dropped it")
	}
}

// TestPatternOverlap: an exact key matched by a pattern is sampled once, as the exact key; a key
// matched by two patterns is tracked by the first; both are counted by every pattern.
func TestPatternOverlap(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	patternTestFill(t, c, "job:", 12) // job:0 .. job:11, lengths 1..7,1..5
	k, w, _ := newKeyTestSampler(t, c, []config.Key{
		keyTestExact("job:1", time.Second),
		keyTestPattern("job:*", time.Second, 100),
		keyTestPattern("job:1*", time.Second, 100),
	}, nil)
	keyTestScan(t, k, keyTestAt(0))
	keyTestSample(t, k, keyTestAt(0))
	samples := w.take()
	if n := len(keyTestFind(samples, "redis_key_exists", "key", "job:1")); n != 1 {
		t.Errorf("job:1 sampled %d times in a round", n)
	}
	if n := len(keyTestFind(samples, "redis_key_exists")); n != 12 {
		t.Errorf("%d keys sampled, want 12", n)
	}
	for _, s := range k.Keys() {
		want := "job:*"
		if s.Key == "job:1" {
			want = ""
		}
		if s.Pattern != want {
			t.Errorf("%s: pattern %q, want %q", s.Key, s.Pattern, want)
		}
	}
	ps := k.Patterns()
	if ps[0].Matched != 12 || ps[0].Tracked != 11 || ps[1].Matched != 3 || ps[1].Tracked != 0 {
		t.Errorf("patterns %+v", ps)
	}
	// job:1, job:10, job:11 have lengths 2, 4, 5.
	if ps[1].LengthSum != 11 {
		t.Errorf("job:1* length sum %d, want 11", ps[1].LengthSum)
	}
}

func TestPatternNoMatch(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	k, w, _ := newKeyTestSampler(t, c, []config.Key{keyTestPattern("nothing:*", time.Second, 10)}, nil)
	keyTestScan(t, k, keyTestAt(0))
	keyTestSample(t, k, keyTestAt(0))
	samples := w.take()
	if v := keyTestValue(t, samples, "redis_pattern_keys", "pattern", "nothing:*"); v != 0 {
		t.Errorf("redis_pattern_keys %v", v)
	}
	if len(k.Keys()) != 0 {
		t.Errorf("keys %v", k.Keys())
	}
}

// TestPatternScanSchedule: patterns are rescanned every ScanInterval, not every round.
func TestPatternScanSchedule(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	patternTestFill(t, c, "job:", 3)
	k, _, _ := newKeyTestSampler(t, c, []config.Key{keyTestPattern("job:*", time.Second, 10)}, nil)
	var scans []int
	for sec := 0; sec <= 130; sec += 10 {
		before := k.Patterns()[0].LastScan
		keyTestScan(t, k, keyTestAt(sec))
		if !k.Patterns()[0].LastScan.Equal(before) {
			scans = append(scans, sec)
		}
	}
	if want := []int{0, 60, 120}; !equalInts(scans, want) {
		t.Errorf("scanned at %v, want %v", scans, want)
	}
}
