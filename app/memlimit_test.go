package app

import (
	"context"
	"log/slog"
	"runtime/debug"
	"testing"
	"time"
)

func TestGoMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		budget, offHeap, file, want int64
	}{
		{512 * mib, 0, 0, 512 * mib},
		{512 * mib, 40 * mib, 25 * mib, 447 * mib},
		{512 * mib, 300 * mib, 25 * mib, 256 * mib}, // never below half the budget
		{512 * mib, -1, -1, 512 * mib},
	} {
		if got := goMemoryLimit(c.budget, c.offHeap, c.file); got != c.want {
			t.Errorf("goMemoryLimit(%d, %d, %d) = %d, want %d", c.budget, c.offHeap, c.file, got, c.want)
		}
	}
}

// TestRunGoMemoryLimit: the Go limit is the budget less the storage's off-heap bytes and the
// resident file pages (the test binary's text: more than nothing).
func TestRunGoMemoryLimit(t *testing.T) {
	file := residentFileBytes()
	if file <= 0 {
		t.Fatalf("resident file-backed bytes %d, want the binary's resident text", file)
	}
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // one pass, then return
	const budget, off = 1 << 30, 100 << 20
	runGoMemoryLimit(ctx, slog.New(slog.DiscardHandler), budget, func() int64 { return off })
	got := debug.SetMemoryLimit(-1)
	// The binary's resident pages may grow between the two reads, by a few pages at most.
	if want := int64(budget - off - file); got > want || got < want-4<<20 {
		t.Fatalf("Go memory limit %d, want about %d (budget %d - off-heap %d - file %d)", got, want, budget, off, file)
	}
}

// budgetWatch warns once resident memory has stayed above the budget for a minute, not on a
// spike, and then at most hourly; a reading back within the budget starts the minute again.
func TestBudgetWatch(t *testing.T) {
	const budget = 300 << 20
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var w budgetWatch
	at := func(d time.Duration, rss int64) bool { return w.observe(t0.Add(d), rss, budget) }
	steps := []struct {
		d    time.Duration
		rss  int64
		warn bool
	}{
		{0, budget + 1, false},                // above, just now
		{50 * time.Second, budget + 1, false}, // not a minute yet
		{55 * time.Second, budget, false},     // back within: the minute starts again
		{70 * time.Second, 400 << 20, false},
		{125 * time.Second, 400 << 20, false},
		{130 * time.Second, 400 << 20, true}, // a minute above
		{140 * time.Second, 400 << 20, false},
		{30 * time.Minute, 400 << 20, false}, // still above: not again within the hour
		{63 * time.Minute, 400 << 20, true},  // an hour after the last warning
	}
	for _, s := range steps {
		if got := at(s.d, s.rss); got != s.warn {
			t.Fatalf("at %s with %d MiB: warn %v, want %v", s.d, s.rss>>20, got, s.warn)
		}
	}
	if residentBytes() <= residentFileBytes() || residentFileBytes() <= 0 {
		t.Fatalf("resident %d bytes, of which file-backed %d: want both read, the whole above its part", residentBytes(), residentFileBytes())
	}
}
