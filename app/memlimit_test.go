package app

import (
	"context"
	"log/slog"
	"runtime/debug"
	"testing"
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
