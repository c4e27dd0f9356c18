package remotewrite

import (
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// The series Samples returns (selfmon writes them with redwatch's own), each with the label url (the endpoint without its password).
const (
	SeriesUp          = "redwatch_remote_write_up"                    // 1 idle or delivering, 0 unavailable or rejecting
	SeriesQueue       = "redwatch_remote_write_queue_samples"         // gauge: samples waiting, the batch being retried included
	SeriesSent        = "redwatch_remote_write_samples_sent_total"    // counter: accepted by the receiver (2xx)
	SeriesFailed      = "redwatch_remote_write_samples_failed_total"  // counter: rejected for good (4xx other than 429)
	SeriesDropped     = "redwatch_remote_write_samples_dropped_total" // counter: never sent (queue full, or left at shutdown)
	SeriesLastSuccess = "redwatch_remote_write_last_success_timestamp_seconds"
)

// Samples returns the forwarder's series at now (see SeriesUp and the others); the last
// success is left out until there is one.
func (f *Forwarder) Samples(now time.Time) []tsdb.Sample {
	st := f.Stats()
	labels := []tsdb.Label{{Name: "url", Value: st.URL}}
	ts := now.UnixMilli()
	up := 0.0
	if st.Up {
		up = 1
	}
	out := []tsdb.Sample{
		{Name: SeriesUp, Labels: labels, Timestamp: ts, Value: up},
		{Name: SeriesQueue, Labels: labels, Timestamp: ts, Value: float64(st.QueueSamples)},
		{Name: SeriesSent, Labels: labels, Timestamp: ts, Value: float64(st.Sent)},
		{Name: SeriesFailed, Labels: labels, Timestamp: ts, Value: float64(st.Failed)},
		{Name: SeriesDropped, Labels: labels, Timestamp: ts, Value: float64(st.Dropped)},
	}
	if !st.LastSuccess.IsZero() {
		out = append(out, tsdb.Sample{Name: SeriesLastSuccess, Labels: labels, Timestamp: ts, Value: float64(st.LastSuccess.UnixMilli()) / 1000})
	}
	return out
}
