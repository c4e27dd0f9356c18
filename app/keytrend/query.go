package keytrend

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// changeIntervals is how many steps the change query splits a range into.
const changeIntervals = 12

// gridQuery asks for intervals+1 last-values of sel on a grid that ends exactly at r.End and
// starts at or before r.Start (the step is rounded up to whole seconds).
func gridQuery(sel *tsdb.Selector, r Range, intervals int) tsdb.RangeQuery {
	n := time.Duration(intervals)
	step := (r.End.Sub(r.Start) + n - 1) / n
	step = (step + time.Second - 1) / time.Second * time.Second
	return tsdb.RangeQuery{Selector: sel, Start: r.End.Add(-n * step), End: r.End, Step: step, Agg: tsdb.AggLast}
}

// changeQuery is the query the change over r is read from: gridQuery with changeIntervals
// steps, except that a step of RollupStep or more is rounded up to whole buckets and the grid
// ends on a bucket edge: the watermark on a live range (when it is less than a step behind),
// else the last edge before r.End. Storage then answers from rollups alone.
func changeQuery(sel *tsdb.Selector, r Range, watermark time.Time) tsdb.RangeQuery {
	q := gridQuery(sel, r, changeIntervals)
	if q.Step < tsdb.RollupStep {
		return q
	}
	bucket := tsdb.RollupStep
	step := (q.Step + bucket - 1) / bucket * bucket
	end := r.End.Truncate(bucket)
	if r.Live {
		if watermark.IsZero() || watermark.After(r.End) || r.End.Sub(watermark) >= step {
			return q // no usable rollups: storage reads raw samples after the watermark anyway
		}
		end = watermark
	}
	n := time.Duration(changeIntervals)
	return tsdb.RangeQuery{Selector: sel, Start: end.Add(-n * step), End: end, Step: step, Agg: tsdb.AggLast}
}

// keysSelector matches Metric for exactly keys: one or-group per key. Label values are Go
// quoted, which the selector parser unquotes byte for byte; they are the stored values, which
// the parser's encoding (tsdb.LabelValue) leaves as they are.
func keysSelector(keys []Watched) (*tsdb.Selector, error) {
	var b strings.Builder
	b.WriteString(Metric)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString("instance=")
		b.WriteString(strconv.Quote(k.Instance))
		b.WriteString(",db=")
		b.WriteString(strconv.Quote(k.DB))
		b.WriteString(",key=")
		b.WriteString(strconv.Quote(k.Key.Key))
	}
	b.WriteByte('}')
	sel, err := tsdb.ParseSelector(b.String())
	if err != nil {
		return nil, fmt.Errorf("cannot build the selector of %d keys: %w", len(keys), err)
	}
	return sel, nil
}
