package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"time"
)

// The Go memory limit counts only what the Go runtime maps. The process's resident memory also
// holds VictoriaMetrics' caches, whose chunks are mmapped outside the Go heap, and the binary's
// own resident pages: with the Go limit at the whole budget, resident memory ends above it (at
// 100,000 watched keys, 562 MB against 512 MiB). So while redwatch sets the Go limit (GOMEMLIMIT
// unset or storage.memory_limit set), it keeps it at the budget less those two, re-read every
// memoryLimitEvery.
const memoryLimitEvery = 10 * time.Second

// goMemoryLimit is the Go memory limit that keeps resident memory within budget, given the
// bytes held outside the Go heap (offHeap) and the resident file-backed pages (fileResident).
// It is never below half the budget: past that the collector would run without end and still
// not reach it.
func goMemoryLimit(budget, offHeap, fileResident int64) int64 {
	return max(budget-max(offHeap, 0)-max(fileResident, 0), budget/2)
}

// residentFileBytes is the process's resident file-backed and shared memory (mostly the
// binary's text), from /proc/self/statm; 0 where that cannot be read.
func residentFileBytes() int64 { return statmPages(2) * int64(os.Getpagesize()) }

// statmPages is field i of /proc/self/statm (1: resident, 2: resident shared/file-backed),
// in pages; 0 where it cannot be read.
func statmPages(i int) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) <= i {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[i]), 10, 64)
	if err != nil {
		return 0
	}
	return pages
}

// residentBytes is the process's resident memory (RSS), from /proc/self/statm; 0 where that
// cannot be read.
func residentBytes() int64 { return statmPages(1) * int64(os.Getpagesize()) }

// overBudgetFor is how long resident memory must stay above the budget before redwatch warns.
// The Go limit is soft: when what redwatch must keep (the latest values, the watched keys,
// VictoriaMetrics' index) outgrows the budget, the collector runs harder but cannot hold it.
const overBudgetFor = time.Minute

// budgetWatch decides, from readings of resident memory, when to warn that the budget does not
// hold: after overBudgetFor above it without a reading at or below, then at most hourly.
type budgetWatch struct {
	since  time.Time // first of the current run of readings above the budget; zero: none
	warned time.Time // last warning; zero: none
}

// observe takes one reading at now and reports whether to warn.
func (w *budgetWatch) observe(now time.Time, resident, budget int64) bool {
	if resident <= budget || budget <= 0 {
		w.since = time.Time{}
		return false
	}
	if w.since.IsZero() {
		w.since = now
	}
	if now.Sub(w.since) < overBudgetFor || !w.warned.IsZero() && now.Sub(w.warned) < time.Hour {
		return false
	}
	w.warned = now
	return true
}

// runGoMemoryLimit keeps the Go memory limit at goMemoryLimit(budget, ...) until ctx is done,
// and warns when resident memory stays above the budget all the same.
func runGoMemoryLimit(ctx context.Context, log *slog.Logger, budget int64, offHeap func() int64) {
	t := time.NewTicker(memoryLimitEvery)
	defer t.Stop()
	last := int64(0)
	var watch budgetWatch
	for {
		if rss := residentBytes(); watch.observe(time.Now(), rss, budget) {
			log.Warn("resident memory has stayed above the memory budget: what redwatch keeps for the watched keys and series needs more; raise storage.memory_limit or watch fewer keys",
				"resident_bytes", rss, "budget_bytes", budget, "for", overBudgetFor.String())
		}
		off, file := offHeap(), residentFileBytes()
		if l := goMemoryLimit(budget, off, file); l != last {
			debug.SetMemoryLimit(l)
			if last == 0 || abs(l-last) >= 8<<20 {
				log.Debug("go memory limit", "limit_bytes", l, "budget_bytes", budget, "storage_off_heap_bytes", off, "resident_file_bytes", file)
			}
			last = l
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
