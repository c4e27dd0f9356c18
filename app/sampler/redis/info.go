package redis

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// info is one parsed INFO reply: field -> value, across all sections ("used_memory" -> "1234"),
// plus the section-specific lines: keyspace lines "db0" -> "keys=1,expires=0,avg_ttl=0",
// "cmdstat_get" -> "calls=..,usec=..,usec_per_call=..,rejected_calls=..,failed_calls=..",
// "latency_percentiles_usec_get" -> "p50=..,p99=..,p99.9=..", "slave0" -> "ip=..,port=..,state=..,offset=..,lag=..".
// Field names keep Redis's spelling (cmdstat names are lowered by infoSamples, not here).
type info map[string]string

// parseInfo parses the text of an INFO reply. It is tolerant: CRLF or LF line ends, "# Section"
// headers, blank lines and lines without "field:value" are skipped; it never panics. When a
// field appears twice the last value wins.
func parseInfo(text string) info {
	in := make(info)
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		// Split on the first colon only: values may hold colons (IPv6 addresses, paths).
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			continue
		}
		in[k] = v
	}
	return in
}

// float returns field k as a finite float64; ok is false when it is missing or not a number.
func (in info) float(k string) (float64, bool) {
	v, ok := in[k]
	if !ok {
		return 0, false
	}
	return parseFiniteFloat(v)
}

// int returns field k as an int64; ok is false when it is missing or not an integer.
func (in info) int(k string) (int64, bool) {
	v, ok := in[k]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil
}

// parseFiniteFloat parses s as a float, refusing NaN and infinities.
func parseFiniteFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// infoPair is one "k=v" of a comma-separated INFO value such as "calls=1,usec=9".
type infoPair struct{ k, v string }

// splitInfoPairs splits "a=1,b=2" into pairs, in order; items without "=" are skipped.
func splitInfoPairs(s string) []infoPair {
	var ps []infoPair
	for item := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(item, "=")
		if !ok || k == "" {
			continue
		}
		ps = append(ps, infoPair{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return ps
}

// infoPairInt returns the integer value of k in ps.
func infoPairInt(ps []infoPair, k string) (int64, bool) {
	for _, p := range ps {
		if p.k == k {
			n, err := strconv.ParseInt(p.v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// infoPairFloat returns the finite float value of k in ps.
func infoPairFloat(ps []infoPair, k string) (float64, bool) {
	for _, p := range ps {
		if p.k == k {
			return parseFiniteFloat(p.v)
		}
	}
	return 0, false
}

// infoRound is one successful INFO reply and when it was taken.
type infoRound struct {
	at   time.Time
	info info
	// own is what redwatch had added to the server's counters when INFO ran (cumulative since
	// the sampler started; Conns: open now). base is zero at the sampler's first round, and own
	// at the first round after the server restarted (new run_id) or reset its counters: the
	// exported counters exclude own - base. infoSamples sets base.
	own  ownCounts
	base ownCounts
}

// infoUsableAsPrev reports whether prev may be compared with cur for per-interval values: same
// server process (run_id), uptime not going backwards (no restart) and time moving forward.
func infoUsableAsPrev(cur, prev *infoRound) bool {
	if cur == nil || prev == nil || prev.info == nil || !cur.at.After(prev.at) {
		return false
	}
	if cur.info["run_id"] != prev.info["run_id"] {
		return false
	}
	cu, ok1 := cur.info.int("uptime_in_seconds")
	pu, ok2 := prev.info.int("uptime_in_seconds")
	if ok1 && ok2 && cu < pu {
		return false
	}
	return true
}

// infoCounterDelta returns cur-prev of counter field k; ok is false when either round lacks it or
// the counter went backwards (CONFIG RESETSTAT).
func infoCounterDelta(cur, prev info, k string) (float64, bool) {
	c, ok1 := cur.float(k)
	p, ok2 := prev.float(k)
	if !ok1 || !ok2 || c < p {
		return 0, false
	}
	return c - p, true
}

// Prefixes of the per-item INFO lines.
const (
	cmdstatPrefix = "cmdstat_"
	latencyPrefix = "latency_percentiles_usec_"
)

// infoSamples appends to dst the instance series derived from cur, using prev (the previous
// successful round of the same instance; nil on the first round or after the server restarted)
// for the per-interval values, every sample with timestamp ts (unix ms) and label instance=name.
// Fields missing from the INFO text (managed Redis hides some) are skipped, never written as 0.
// It also sets snap's INFO-derived fields (Version, Role, Mode, UptimeSeconds, OpsPerSec,
// MemoryUsedBytes, MemoryMaxBytes, MemoryRSSBytes, FragmentationRatio, ConnectedClients,
// BlockedClients, HitRatio, HitRatioKnown, NetInputBytesPerSec, NetOutputBytesPerSec,
// ConnectedReplicas, ReplicationLagBytes, Keyspace, Commands), to zero values when unknown;
// Keyspace and Commands are new slices. cur must not be nil; prev is ignored when the server
// restarted (lower uptime_in_seconds or another run_id). It does not emit redis_up,
// redis_ping_latency_seconds, redis_slowlog_length nor client series: the caller does. The
// node-health series (persistence, replication, errorstats) are healthSamples'.
func infoSamples(dst []tsdb.Sample, name string, ts int64, cur, prev *infoRound, snap *InstanceSnapshot) []tsdb.Sample {
	in := cur.info
	add := func(metric string, v float64, labels ...tsdb.Label) {
		ls := make([]tsdb.Label, 0, 1+len(labels))
		ls = append(ls, tsdb.Label{Name: "instance", Value: name})
		ls = append(ls, labels...)
		dst = append(dst, tsdb.Sample{Name: metric, Labels: ls, Timestamp: ts, Value: v})
	}
	// gauge copies field as metric when present.
	gauge := func(metric, field string) {
		if v, ok := in.float(field); ok {
			add(metric, v)
		}
	}

	usable := infoUsableAsPrev(cur, prev)
	// redwatch's own share: since base for the counters, over the interval for the rates.
	switch {
	case prev == nil:
		cur.base = ownCounts{} // the sampler's first round: all it sent so far went to this server
	case usable && !infoCountersReset(in, prev.info):
		cur.base = prev.base
	default:
		cur.base = cur.own // restarted or reset: what was sent before is not in the new counters
	}
	ownSince := cur.own.minus(cur.base)
	// counter copies field as metric, less what redwatch added since base.
	counter := func(metric, field string, own int64) {
		if v, ok := in.float(field); ok {
			add(metric, max(0, v-float64(own)))
		}
	}

	gauge("redis_uptime_seconds", "uptime_in_seconds")
	if v, ok := in.int("connected_clients"); ok {
		snap.ConnectedClients = max(0, v-cur.own.Conns)
		add("redis_connected_clients", float64(snap.ConnectedClients))
		snap.RedwatchConnections = cur.own.Conns
		add("redis_redwatch_connections", float64(cur.own.Conns))
	} else {
		snap.ConnectedClients, snap.RedwatchConnections = 0, 0
	}
	gauge("redis_blocked_clients", "blocked_clients")
	gauge("redis_memory_used_bytes", "used_memory")
	gauge("redis_memory_max_bytes", "maxmemory")
	gauge("redis_memory_rss_bytes", "used_memory_rss")
	gauge("redis_mem_fragmentation_ratio", "mem_fragmentation_ratio")
	counter("redis_commands_processed_total", "total_commands_processed", ownSince.Commands)
	counter("redis_keyspace_hits_total", "keyspace_hits", ownSince.Hits)
	counter("redis_keyspace_misses_total", "keyspace_misses", ownSince.Misses)
	gauge("redis_evicted_keys_total", "evicted_keys")
	gauge("redis_expired_keys_total", "expired_keys")
	counter("redis_net_input_bytes_total", "total_net_input_bytes", ownSince.NetIn)
	counter("redis_net_output_bytes_total", "total_net_output_bytes", ownSince.NetOut)
	gauge("redis_rejected_connections_total", "rejected_connections")
	gauge("redis_cpu_user_seconds_total", "used_cpu_user")
	gauge("redis_cpu_sys_seconds_total", "used_cpu_sys")
	gauge("redis_connected_replicas", "connected_slaves")
	// Used memory as a share of maxmemory, for alert rules (a selector cannot divide): only
	// when maxmemory is set, since 0 means no limit.
	if used, ok := in.float("used_memory"); ok {
		if limit, ok := in.float("maxmemory"); ok && limit > 0 {
			add("redis_memory_usage_percent", 100*used/limit)
		}
	}

	snap.Version = in["redis_version"]
	snap.Role = in["role"]
	snap.Mode = in["redis_mode"]
	if snap.Version != "" || snap.Role != "" || snap.Mode != "" {
		add("redis_instance_info", 1,
			tsdb.Label{Name: "version", Value: snap.Version},
			tsdb.Label{Name: "role", Value: snap.Role},
			tsdb.Label{Name: "mode", Value: snap.Mode})
	}
	snap.UptimeSeconds, _ = in.int("uptime_in_seconds")
	snap.MemoryUsedBytes, _ = in.int("used_memory")
	snap.MemoryMaxBytes, _ = in.int("maxmemory")
	snap.MemoryRSSBytes, _ = in.int("used_memory_rss")
	snap.FragmentationRatio, _ = in.float("mem_fragmentation_ratio")
	snap.BlockedClients, _ = in.int("blocked_clients")
	snap.ConnectedReplicas, _ = in.int("connected_slaves")

	// Per-interval values: deltas over the seconds between the two rounds, less redwatch's own
	// traffic in between. Without a usable previous round there are none: Redis's own
	// estimates (instantaneous_ops_per_sec, ..._kbps) include redwatch.
	var intervalSeconds float64
	var ownDelta ownCounts
	if usable {
		intervalSeconds = cur.at.Sub(prev.at).Seconds()
		ownDelta = cur.own.minus(prev.own)
	}
	// othersDelta is how much counter grew over the interval through others' traffic.
	othersDelta := func(counter string, own int64) (float64, bool) {
		if !usable {
			return 0, false
		}
		d, ok := infoCounterDelta(in, prev.info, counter)
		if !ok {
			return 0, false
		}
		return max(0, d-float64(own)), true
	}

	snap.OpsPerSec = 0
	if d, ok := othersDelta("total_commands_processed", ownDelta.Commands); ok {
		snap.OpsPerSec = d / intervalSeconds
		add("redis_ops_per_second", snap.OpsPerSec)
	}
	snap.NetInputBytesPerSec, snap.NetOutputBytesPerSec = 0, 0
	if d, ok := othersDelta("total_net_input_bytes", ownDelta.NetIn); ok {
		snap.NetInputBytesPerSec = d / intervalSeconds
	}
	if d, ok := othersDelta("total_net_output_bytes", ownDelta.NetOut); ok {
		snap.NetOutputBytesPerSec = d / intervalSeconds
	}

	// No lookups by others over the interval: no ratio (unknown, not 100 %).
	snap.HitRatio, snap.HitRatioKnown = 0, false
	dh, ok1 := othersDelta("keyspace_hits", ownDelta.Hits)
	dm, ok2 := othersDelta("keyspace_misses", ownDelta.Misses)
	if ok1 && ok2 && dh+dm > 0 {
		snap.HitRatio, snap.HitRatioKnown = dh/(dh+dm), true
		add("redis_keyspace_hit_ratio", snap.HitRatio)
	}

	// Replication lag: only a master knows its replicas' offsets.
	snap.ReplicationLagBytes = 0
	if in["role"] == "master" {
		if masterOffset, ok := in.int("master_repl_offset"); ok {
			var lagBytes int64
			for _, r := range replicaOffsets(in) {
				lagBytes = max(lagBytes, masterOffset-r.offset)
			}
			snap.ReplicationLagBytes = lagBytes
			add("redis_replication_lag_bytes", float64(lagBytes))
		}
	}

	// Keyspace, by db ascending.
	snap.Keyspace = nil
	for k, v := range in {
		if !isNumberedField(k, "db") {
			continue
		}
		db, err := strconv.Atoi(k[len("db"):])
		if err != nil {
			continue
		}
		ps := splitInfoPairs(v)
		keys, ok := infoPairInt(ps, "keys")
		if !ok {
			continue
		}
		expires, _ := infoPairInt(ps, "expires")
		avgTTL, _ := infoPairInt(ps, "avg_ttl")
		snap.Keyspace = append(snap.Keyspace, DBKeys{DB: db, Keys: keys, Expires: expires, AvgTTL: avgTTL})
	}
	sort.Slice(snap.Keyspace, func(i, j int) bool { return snap.Keyspace[i].DB < snap.Keyspace[j].DB })
	for _, d := range snap.Keyspace {
		db := tsdb.Label{Name: "db", Value: strconv.Itoa(d.DB)}
		add("redis_db_keys", float64(d.Keys), db)
		add("redis_db_keys_expiring", float64(d.Expires), db)
	}

	commandSamples(add, in, ownSince, snap)
	healthSamples(add, in)
	return dst
}

// infoCountersReset reports whether a counter redwatch subtracts its own share from went
// backwards between prev and cur (CONFIG RESETSTAT).
func infoCountersReset(cur, prev info) bool {
	for _, k := range []string{"total_commands_processed", "keyspace_hits", "keyspace_misses",
		"total_net_input_bytes", "total_net_output_bytes"} {
		c, ok1 := cur.float(k)
		p, ok2 := prev.float(k)
		if ok1 && ok2 && c < p {
			return true
		}
	}
	return false
}

// isNumberedField reports whether k is prefix followed by one or more decimal digits ("db0", "slave12").
func isNumberedField(k, prefix string) bool {
	rest, ok := strings.CutPrefix(k, prefix)
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// commandSamples emits with add the cmdstat_* and latency_percentiles_usec_* series (in
// command name order) and sets snap.Commands, sorted by calls descending then name. Calls
// exclude redwatch's own (own); a command only redwatch ran is left out of snap.Commands.
// Durations and latencies cannot be split and include redwatch's.
func commandSamples(add func(metric string, v float64, labels ...tsdb.Label), in info, own ownCounts, snap *InstanceSnapshot) {
	var names, latencyNames []string
	for k := range in {
		if strings.HasPrefix(k, cmdstatPrefix) {
			names = append(names, k)
		} else if strings.HasPrefix(k, latencyPrefix) {
			latencyNames = append(latencyNames, k)
		}
	}
	sort.Strings(names)
	sort.Strings(latencyNames)

	snap.Commands = nil
	index := make(map[string]int, len(names)) // command name -> index in snap.Commands
	for _, k := range names {
		cmd := strings.ToLower(k[len(cmdstatPrefix):])
		ps := splitInfoPairs(in[k])
		calls, ok := infoPairInt(ps, "calls")
		if cmd == "" || !ok {
			continue
		}
		raw := calls
		calls = max(0, calls-own.callsOf(cmd))
		label := tsdb.Label{Name: "cmd", Value: cmd}
		add("redis_command_calls_total", float64(calls), label)
		cs := CommandStat{Name: cmd, Calls: calls}
		if usec, ok := infoPairFloat(ps, "usec"); ok {
			add("redis_command_duration_seconds_total", usec/1e6, label)
			if raw > 0 {
				cs.UsecPerCall = usec / float64(raw)
			}
		}
		if upc, ok := infoPairFloat(ps, "usec_per_call"); ok {
			cs.UsecPerCall = upc
		}
		cs.FailedCalls, _ = infoPairInt(ps, "failed_calls")
		if calls == 0 && raw > 0 {
			continue // only redwatch's own
		}
		index[cmd] = len(snap.Commands)
		snap.Commands = append(snap.Commands, cs)
	}

	for _, k := range latencyNames {
		cmd := strings.ToLower(k[len(latencyPrefix):])
		if cmd == "" {
			continue
		}
		i, hasStat := index[cmd]
		for _, p := range splitInfoPairs(in[k]) {
			quantile, ok := percentileQuantile(p.k)
			if !ok {
				continue
			}
			usec, ok := parseFiniteFloat(p.v)
			if !ok {
				continue
			}
			seconds := usec / 1e6
			add("redis_command_latency_seconds", seconds,
				tsdb.Label{Name: "cmd", Value: cmd}, tsdb.Label{Name: "quantile", Value: quantile})
			if !hasStat {
				continue
			}
			switch p.k {
			case "p50":
				snap.Commands[i].P50 = seconds
			case "p99":
				snap.Commands[i].P99 = seconds
			case "p99.9":
				snap.Commands[i].P999 = seconds
			}
		}
	}

	sort.SliceStable(snap.Commands, func(i, j int) bool {
		a, b := snap.Commands[i], snap.Commands[j]
		if a.Calls != b.Calls {
			return a.Calls > b.Calls
		}
		return a.Name < b.Name
	})
}

// percentileQuantile turns a latencystats key such as "p99.9" into the quantile label "0.999".
func percentileQuantile(k string) (string, bool) {
	rest, ok := strings.CutPrefix(k, "p")
	if !ok {
		return "", false
	}
	pct, ok := parseFiniteFloat(rest)
	if !ok || pct < 0 || pct > 100 {
		return "", false
	}
	// Round away the binary noise of pct/100 (99.9/100 is 0.9990000000000001).
	q := math.Round(pct/100*1e9) / 1e9
	return strconv.FormatFloat(q, 'f', -1, 64), true
}
