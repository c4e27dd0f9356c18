package tsdb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
)

// Defaults of the read bounds in Options.
const (
	// DefaultMaxSamplesPerQuery is Options.MaxSamplesPerQuery's default: Prometheus'
	// --query.max-samples. Raw reads are streamed one series at a time, so it bounds the time
	// a read takes (about 10 s to export as CSV on one core), not its memory.
	DefaultMaxSamplesPerQuery = 50_000_000
	// DefaultMaxPointsPerQuery is Options.MaxPointsPerQuery's default: a QueryRange answer is
	// held whole (16 bytes a point, about 80 MB at the bound), so it stays well within the
	// 512 MiB heap redwatch runs in.
	DefaultMaxPointsPerQuery = 5_000_000
)

// Hints a LimitError gives on how to narrow a read.
const (
	hintQuery  = "select fewer series, a shorter range or a larger step"
	hintExport = "select fewer series or a shorter range"
	hintSeries = "use a more specific selector"
)

// LimitError is returned by a read that hit one of its bounds; nothing of the read is returned.
// Bound names the bound: "series" (Options.MaxSeriesPerQuery), "samples" read from storage
// (Options.MaxSamplesPerQuery) or "points" returned (Options.MaxPointsPerQuery).
type LimitError struct {
	Bound string
	Limit int64
	Hint  string // how to narrow the read
}

func (e *LimitError) Error() string {
	verb := map[string]string{"series": "matches", "samples": "reads", "points": "returns"}[e.Bound]
	return fmt.Sprintf("the query %s more than %d %s (the %s limit per query): %s", verb, e.Limit, e.Bound, e.Bound, e.Hint)
}

func (db *DB) maxSamples() int64 {
	if db.opts.MaxSamplesPerQuery > 0 {
		return db.opts.MaxSamplesPerQuery
	}
	return DefaultMaxSamplesPerQuery
}

func (db *DB) maxPoints() int64 {
	if db.opts.MaxPointsPerQuery > 0 {
		return db.opts.MaxPointsPerQuery
	}
	return DefaultMaxPointsPerQuery
}

// budgetKey keys a read's samplesBudget in its context.
type budgetKey struct{}

// samplesBudget is how many more samples one read (QueryRange, Export, Raw) may take from
// storage; every scan the read does takes from it, whichever storage (raw or rollups) it
// reads. A read runs on one goroutine, so it is not synchronised.
type samplesBudget struct {
	limit, left int64
	hint        string
}

// withBudget returns ctx carrying a budget of limit samples, unless ctx carries one already
// (QueryRange's, when it reads through Raw): a read and its parts share one budget.
func withBudget(ctx context.Context, limit int64, hint string) context.Context {
	if _, ok := ctx.Value(budgetKey{}).(*samplesBudget); ok {
		return ctx
	}
	return context.WithValue(ctx, budgetKey{}, &samplesBudget{limit: limit, left: limit, hint: hint})
}

// take charges n samples to ctx's budget (none: unbounded) and fails once it is spent.
func take(ctx context.Context, n int) error {
	b, ok := ctx.Value(budgetKey{}).(*samplesBudget)
	if !ok {
		return nil
	}
	b.left -= int64(n)
	if b.left < 0 {
		return &LimitError{Bound: "samples", Limit: b.limit, Hint: b.hint}
	}
	return nil
}

// searchError turns a storage search error into ours: VictoriaMetrics' "too many series" into a
// series LimitError (its text names VictoriaMetrics' flags, which redwatch has not) and its
// deadline into context.DeadlineExceeded, so callers test one error for the time bound.
func searchError(err error, maxSeries int) error {
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "the number of matching timeseries exceeds"):
		return &LimitError{Bound: "series", Limit: int64(maxSeries), Hint: hintSeries}
	case errors.Is(err, storage.ErrDeadlineExceeded):
		return fmt.Errorf("storage search: %w", context.DeadlineExceeded)
	}
	return err
}
