package ingest

import (
	"sync"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// SeriesRejected counts write requests refused, in whole or in part, by reason (label
// reason: invalid, unauthorized, body_too_large, line_too_long, metric_name_too_long,
// label_name_too_long, label_value_too_long, too_many_labels, too_many_samples,
// too_many_series, sampled_series, timestamp_future, timestamp_too_old, busy, read_only,
// storage_error). A partial write counts once under each reason it had (sampled_series,
// timestamp_future, timestamp_too_old).
const SeriesRejected = "redwatch_ingest_rejected_total"

// rejectCounts are the counters of SeriesRejected since start.
type rejectCounts struct {
	mu sync.Mutex
	n  map[string]uint64
}

func (rc *rejectCounts) add(reasons []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.n == nil {
		rc.n = map[string]uint64{}
	}
	for _, r := range reasons {
		rc.n[r]++
	}
}

// Rejected returns how many requests were refused for reason since start.
func (i *Ingest) Rejected(reason string) uint64 {
	i.rejected.mu.Lock()
	defer i.rejected.mu.Unlock()
	return i.rejected.n[reason]
}

// Samples returns SeriesRejected for every reason, 0 included, stamped now.
func (i *Ingest) Samples(now time.Time) []tsdb.Sample {
	i.rejected.mu.Lock()
	defer i.rejected.mu.Unlock()
	out := make([]tsdb.Sample, 0, len(reasons))
	for _, r := range reasons {
		out = append(out, tsdb.Sample{Name: SeriesRejected, Labels: []tsdb.Label{{Name: "reason", Value: r}},
			Timestamp: now.UnixMilli(), Value: float64(i.rejected.n[r])})
	}
	return out
}
