package web

import (
	"bufio"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
)

// metricsHandler serves /metrics.
type metricsHandler struct {
	latest latestTable
}

// latestTable walks the latest value of every fresh series; Store is one.
type latestTable interface {
	LatestAll(fn func(lv *tsdb.LatestValue))
}

// showMetrics answers GET /metrics with the Prometheus text exposition (format 0.0.4) of the
// latest value of every fresh series (redwatch's own redwatch_* series included). It reads the
// in-memory latest table only. Every family has # HELP and # TYPE lines (see writeExposition).
// Answers are built one at a time (metricsRunning); one that waits longer than the query
// MaxWait gets 503 with Retry-After.
func (s *metricsHandler) showMetrics(c echo.Context) error {
	var lvs []tsdb.LatestValue
	s.latest.LatestAll(func(lv *tsdb.LatestValue) { lvs = append(lvs, *lv) })
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	res.WriteHeader(http.StatusOK)
	w := bufio.NewWriter(res)
	writeExposition(w, lvs)
	return w.Flush()
}

// expoFamily is one metric family of the exposition.
type expoFamily struct {
	name, typ string
	samples   []expoSample
}

type expoSample struct {
	lv    *tsdb.LatestValue
	name  string // the sample's name in the exposition
	group string // labels without le (as tsdb.SeriesKey): a histogram's buckets, sum and count share it
	rank  int    // within a group: buckets (by le), then _sum, then _count
	le    float64
}

// writeExposition writes lvs as families sorted by name. Types:
//   - NAME_bucket series that all have a numeric le label, with NAME_sum and NAME_count, form
//     the histogram NAME;
//   - a name ending in _total is a counter; anything else is a gauge, quantiles included:
//     typed summary, a family without _sum and _count makes parsers invent both as 0.
//
// A family cannot be both a histogram and hold other samples: series named NAME without a suffix
// while NAME is a histogram (redwatch_http_request_duration_seconds{route,quantile} beside
// its _bucket/_sum/_count) are exported as the family NAME_quantiles; storage, queries and
// alert rules keep NAME. Label values (encoded by tsdb.LabelValue) are escaped as the format
// says.
func writeExposition(w *bufio.Writer, lvs []tsdb.LatestValue) {
	byName := map[string][]*tsdb.LatestValue{}
	for i := range lvs {
		byName[lvs[i].Name] = append(byName[lvs[i].Name], &lvs[i])
	}
	allHave := func(name, label string) bool {
		vs := byName[name]
		for _, lv := range vs {
			if _, err := strconv.ParseFloat(lv.Label(label), 64); err != nil {
				return false
			}
		}
		return len(vs) > 0
	}
	histogram := map[string]bool{}
	for name := range byName {
		if base, ok := strings.CutSuffix(name, "_bucket"); ok && allHave(name, "le") {
			histogram[base] = true
		}
	}
	families := map[string]*expoFamily{}
	add := func(family, typ string, s expoSample) {
		f := families[family]
		if f == nil {
			f = &expoFamily{name: family, typ: typ}
			families[family] = f
		}
		f.samples = append(f.samples, s)
	}
	for name, vs := range byName {
		family, typ, rank := name, "gauge", 0
		if base, suffix, ok := cutHistogramSuffix(name); ok && histogram[base] {
			family, typ, rank = base, "histogram", map[string]int{"_bucket": 0, "_sum": 1, "_count": 2}[suffix]
		} else {
			switch {
			case histogram[name]:
				family = name + "_quantiles"
			case strings.HasSuffix(name, "_total"):
				typ = "counter"
			}
		}
		expoName := name
		if family == name+"_quantiles" {
			expoName = family
		}
		for _, lv := range vs {
			s := expoSample{lv: lv, name: expoName, rank: rank}
			if typ != "histogram" {
				// The group is all the labels: the table's own key, in the same format, so
				// no key is built per sample (at a million series, most of the allocations).
				s.group = lv.Key()
				add(family, typ, s)
				continue
			}
			var g strings.Builder
			for _, l := range lv.Labels {
				// A bucket's le orders the buckets of a group.
				if rank == 0 && typ == "histogram" && l.Name == "le" {
					s.le, _ = strconv.ParseFloat(l.Value, 64) // "+Inf" included
					continue
				}
				g.WriteString(l.Name)
				g.WriteByte(0)
				g.WriteString(l.Value)
				g.WriteByte(1)
			}
			s.group = g.String()
			add(family, typ, s)
		}
	}
	names := make([]string, 0, len(families))
	for name := range families {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := families[name]
		slices.SortFunc(f.samples, func(a, b expoSample) int {
			if c := strings.Compare(a.group, b.group); c != 0 {
				return c
			}
			if a.rank != b.rank {
				return a.rank - b.rank
			}
			if a.le != b.le {
				if a.le < b.le {
					return -1
				}
				return 1
			}
			return strings.Compare(a.name, b.name)
		})
		w.WriteString("# HELP " + name + " " + helpEscaper.Replace(metricHelp(name)) + "\n")
		w.WriteString("# TYPE " + name + " " + f.typ + "\n")
		for _, s := range f.samples {
			writeSample(w, s.name, s.lv.Labels, s.lv.Value, s.lv.Timestamp)
		}
	}
}

func writeSample(w *bufio.Writer, name string, labels []tsdb.Label, v float64, ts int64) {
	w.WriteString(name)
	if len(labels) > 0 {
		w.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(l.Name)
			w.WriteString(`="`)
			w.WriteString(escapeLabelValue(l.Value))
			w.WriteByte('"')
		}
		w.WriteByte('}')
	}
	// Appended into the writer's free space, not formatted into new strings: no allocation
	// per sample.
	b := w.AvailableBuffer()
	b = append(b, ' ')
	if math.IsInf(v, 0) || math.IsNaN(v) {
		b = append(b, formatValue(v)...)
	} else {
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '\n')
	w.Write(b)
}

// cutHistogramSuffix splits NAME_bucket, NAME_sum and NAME_count.
func cutHistogramSuffix(name string) (base, suffix string, ok bool) {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && base != "" {
			return base, suffix, true
		}
	}
	return "", "", false
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// escapeLabelValue escapes v for the text format; the latest table holds values encoded with
// tsdb.LabelValue (valid UTF-8), preloaded ones included.
func escapeLabelValue(v string) string { return labelEscaper.Replace(v) }

// metricHelp is the # HELP text of a family.
func metricHelp(family string) string {
	if h, ok := metricHelps[family]; ok {
		return h
	}
	return "Latest value of " + family + " as written to redwatch."
}

var metricHelps = map[string]string{
	"redis_up":                                         "1 when the last sample of the Redis instance succeeded, else 0.",
	"redis_ping_latency_seconds":                       "Round-trip time of PING to the Redis instance.",
	"redis_uptime_seconds":                             "Seconds since the Redis server started (INFO uptime_in_seconds).",
	"redis_connected_clients":                          "Client connections other than redwatch's own (INFO connected_clients less redis_redwatch_connections).",
	"redis_blocked_clients":                            "Clients blocked in a blocking call (INFO blocked_clients).",
	"redis_memory_used_bytes":                          "Memory allocated by Redis (INFO used_memory).",
	"redis_memory_max_bytes":                           "The maxmemory setting; 0 means no limit.",
	"redis_memory_usage_percent":                       "used_memory as a percentage of maxmemory, when maxmemory is set.",
	"redis_mem_fragmentation_ratio":                    "RSS over used memory (INFO mem_fragmentation_ratio).",
	"redis_commands_processed_total":                   "Commands processed by the server, less those redwatch sent since its sampler started (INFO total_commands_processed).",
	"redis_ops_per_second":                             "Commands per second of other clients between the last two samples (total_commands_processed delta, less redwatch's own).",
	"redis_keyspace_hits_total":                        "Successful key lookups, less redwatch's own (INFO keyspace_hits).",
	"redis_keyspace_misses_total":                      "Failed key lookups, less redwatch's own (INFO keyspace_misses).",
	"redis_keyspace_hit_ratio":                         "Hits over lookups by other clients between the last two samples (0..1).",
	"redis_evicted_keys_total":                         "Keys evicted because of maxmemory (INFO evicted_keys).",
	"redis_expired_keys_total":                         "Keys expired (INFO expired_keys).",
	"redis_net_input_bytes_total":                      "Bytes received from the network, less those redwatch sent (INFO total_net_input_bytes).",
	"redis_net_output_bytes_total":                     "Bytes sent to the network, less those redwatch read (INFO total_net_output_bytes).",
	"redis_rejected_connections_total":                 "Connections rejected because of maxclients (INFO rejected_connections).",
	"redis_db_keys":                                    "Keys in the database (INFO keyspace).",
	"redis_db_keys_expiring":                           "Keys with an expiry in the database (INFO keyspace).",
	"redis_connected_replicas":                         "Connected replicas (INFO connected_slaves).",
	"redis_replication_lag_bytes":                      "How far a replica is behind its master, in replication offset bytes.",
	"redis_redwatch_connections":                       "Connections redwatch itself holds to the Redis instance (left out of redis_connected_clients).",
	"redis_slowlog_length":                             "Entries in the slowlog (SLOWLOG LEN).",
	"redis_command_calls_total":                        "Calls of the command, less redwatch's own (INFO commandstats).",
	"redis_command_latency_seconds":                    "Latency percentiles of the command (INFO latencystats).",
	"redis_key_length":                                 "Length of the watched key: elements of a list, set, sorted set, hash or stream, bytes of a string.",
	"redis_key_memory_bytes":                           "Memory used by the watched key (MEMORY USAGE).",
	"redis_key_ttl_seconds":                            "Time to live of the watched key; -1 means no expiry.",
	"redis_key_exists":                                 "1 when the watched key exists, else 0.",
	"redis_stream_group_lag":                           "Entries of the stream not yet delivered to the consumer group.",
	"redis_stream_group_pending":                       "Entries delivered to the consumer group but not acknowledged.",
	"redis_pattern_keys":                               "Keys matching the watched pattern at its last scan.",
	"host_up":                                          "1 while the host is sampled (or its agent pushes); the series goes stale when it stops.",
	"host_cpu_usage_percent":                           "CPU busy time over the last interval, percent of all cores.",
	"host_load1":                                       "1-minute load average.",
	"host_load5":                                       "5-minute load average.",
	"host_load15":                                      "15-minute load average.",
	"host_memory_used_bytes":                           "Memory in use (total minus available).",
	"host_memory_total_bytes":                          "Physical memory.",
	"host_memory_usage_percent":                        "Memory in use, percent of total.",
	"host_swap_used_bytes":                             "Swap in use.",
	"host_disk_used_bytes":                             "Bytes used on the mounted file system.",
	"host_disk_total_bytes":                            "Size of the mounted file system.",
	"host_disk_usage_percent":                          "Used space on the mounted file system, percent.",
	"host_disk_read_bytes_total":                       "Bytes read from the block device.",
	"host_disk_written_bytes_total":                    "Bytes written to the block device.",
	"host_network_receive_bytes_total":                 "Bytes received on the network interface.",
	"host_network_transmit_bytes_total":                "Bytes sent on the network interface.",
	"redwatch_http_requests_total":                     "HTTP requests answered since redwatch started, by route and status code.",
	"redwatch_http_request_duration_seconds":           "Duration of every HTTP request since redwatch started (all routes).",
	"redwatch_http_request_duration_seconds_quantiles": "Quantiles of the last 1024 request durations of each route (stored as redwatch_http_request_duration_seconds{route,quantile}).",
	"redwatch_http_error_ratio":                        "Share of requests answered 5xx over the last 5 minutes (0..1).",
	"redwatch_sampler_duration_seconds":                "Duration of the sampler's last round.",
	"redwatch_samples_written_total":                   "Samples written to storage since redwatch started.",
	"redwatch_ingest_rejected_total":                   "Write requests (/api/v1/write, /write, /api/v2/write) refused in whole or in part since redwatch started, by reason.",
	"redwatch_series":                                  "Fresh series in the latest-value table (updated within 5 minutes, or 3 of their intervals).",
	"redwatch_series_dropped_total":                    "Samples dropped since redwatch started because their series was new and over storage.max_series (reason hourly_limit or daily_limit).",
	"redwatch_process_resident_memory_bytes":           "Resident memory of the redwatch process.",
	"redwatch_alerts_firing":                           "Firing alerts by severity.",
	"ALERTS":                                           "Pending and firing alerts, one series per alert and state (1 while it lasts).",
}
