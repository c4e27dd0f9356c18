package tsdb

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
)

// Export streams the raw points of every series matching sel within [start, end], holding one
// series in memory at a time. It first checks the bounds, so that a caller who has sent nothing
// yet can still answer with the error: more than Options.MaxSeriesPerQuery series or
// MaxSamplesPerQuery samples is a *LimitError, and ctx's deadline an error wrapping
// context.DeadlineExceeded, before begin is called. Then begin gets the sorted label names of
// those series (without __name__), and fn gets each series once, in storage order (not
// sorted), its points in time order; *s and s.Points are reused after fn returns. A series
// that several or-groups of sel match (see Union) is passed once. An error from begin or fn
// stops the export and is returned as is.
func (db *DB) Export(ctx context.Context, sel *Selector, start, end time.Time, begin func(labelNames []string) error, fn func(s *Series) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	tfss, err := sel.tagFilters()
	if err != nil {
		return err
	}
	tr := storage.TimeRange{MinTimestamp: start.UnixMilli(), MaxTimestamp: end.UnixMilli()}
	names, err := exportPlan(ctx, db.s, tfss, tr, db.opts.MaxSeriesPerQuery, db.maxSamples())
	if err != nil {
		return fmt.Errorf("selector %s: %w", sel.quoted(), err)
	}
	if err := begin(names); err != nil {
		return err
	}
	var fnErr error
	// The plan checked the budget; samples written since then are few, so the stream itself is
	// not charged (failing half-way through an answer already sent helps no one).
	err = scan(ctx, db.s, tfss, tr, db.opts.MaxSeriesPerQuery, func(mn *storage.MetricName, pts []Point) error {
		s := seriesFromMetricName(mn)
		s.Points = pts
		if fnErr = fn(s); fnErr != nil {
			return fnErr
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("selector %s: %w", sel.quoted(), err)
	}
	return nil
}

// exportPlan checks an export's bounds before anything of it is sent and returns the sorted
// label names of its series. It counts samples from block headers without reading the blocks;
// that count includes the rows of blocks that straddle the range, so only when it passes
// maxSamples are the blocks read to count exactly.
func exportPlan(ctx context.Context, s *storage.Storage, tfss []*storage.TagFilters, tr storage.TimeRange, maxSeries int, maxSamples int64) ([]string, error) {
	var sr storage.Search
	n := sr.Init(nil, s, tfss, tr, maxSeries, deadline(ctx))
	defer sr.MustClose()
	if err := sr.Error(); err != nil {
		return nil, searchError(err, maxSeries)
	}
	if n > maxSeries {
		return nil, &LimitError{Bound: "series", Limit: int64(maxSeries), Hint: hintSeries}
	}
	seen := map[string]bool{}
	var (
		cur  []byte
		mn   storage.MetricName
		rows int64
	)
	for i := 0; sr.NextMetricBlock(); i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("query stopped: %w", err)
			}
		}
		mbr := &sr.MetricBlockRef
		if cur == nil || string(cur) != string(mbr.MetricName) {
			cur = append(cur[:0], mbr.MetricName...)
			if err := mn.Unmarshal(cur); err != nil {
				return nil, fmt.Errorf("cannot unmarshal series name: %w", err)
			}
			for _, t := range mn.Tags {
				seen[string(t.Key)] = true
			}
		}
		rows += int64(mbr.BlockRef.RowsCount())
	}
	if err := sr.Error(); err != nil {
		return nil, searchError(err, maxSeries)
	}
	if rows > maxSamples {
		count := func(*storage.MetricName, []Point) error { return nil }
		if err := scan(withBudget(ctx, maxSamples, hintExport), s, tfss, tr, maxSeries, count); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}
