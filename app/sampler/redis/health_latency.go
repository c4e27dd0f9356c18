package redis

import "github.com/redwatch/redwatch/tsdb"

// latencySamples appends, for each event of a LATENCY LATEST reply (RESP2: one array per event
// of name, unix time of its latest spike, latest and all-time max in milliseconds), with
// timestamp ts and label instance=name:
//   - redis_latency_spike_seconds{event}: the latest spike;
//   - redis_latency_spike_timestamp_seconds{event}: when it happened, so that an old spike
//     (Redis keeps them until LATENCY RESET) can be told from a new one.
//
// Redis records spikes only with latency-monitor-threshold set (0, the default, records none:
// the reply is then empty). Malformed entries are skipped.
func latencySamples(dst []tsdb.Sample, name string, ts int64, reply any) []tsdb.Sample {
	events, _ := reply.([]any)
	for _, e := range events {
		f, ok := e.([]any)
		if !ok || len(f) < 3 {
			continue
		}
		event, ok1 := f[0].(string)
		at, ok2 := f[1].(int64)
		ms, ok3 := f[2].(int64)
		if !ok1 || !ok2 || !ok3 || event == "" {
			continue
		}
		labels := []tsdb.Label{{Name: "instance", Value: name}, {Name: "event", Value: event}}
		dst = append(dst,
			tsdb.Sample{Name: "redis_latency_spike_seconds", Labels: labels, Timestamp: ts, Value: float64(ms) / 1000},
			tsdb.Sample{Name: "redis_latency_spike_timestamp_seconds", Labels: labels, Timestamp: ts, Value: float64(at)})
	}
	return dst
}
