package alert

import (
	"time"

	"github.com/redwatch/redwatch/app/config"
)

// DefaultRules returns the rules redwatch ships (alerts.default_rules): host CPU, memory and
// disk, any Redis down for 30 s, a Redis Cluster in cluster_state:fail, Redis memory near
// maxmemory or forecast (predict_linear, an expr rule) to reach it within 4 h, a failing BGSAVE
// or AOF write, a
// replica's link to its master down for 30 s, a replica lagging, rejected connections, a
// watched key missing, and redwatch's own 5xx ratio, p95 latency and dropped series
// (storage.max_series reached). Each passes config.Rule.Validate; each call returns new values
// the caller may modify. A rule added here reaches installs seeded before it once, through the
// settings store's seeded-rules record (settings.Data.SeededRules).
//
// RedisKeyMissing selects redis_key_exists{expect_exists="true"}, the keys the Redis sampler
// marks as alarming when absent (config.Key.ExpectExists). RedisMemoryHigh reads redis_memory_usage_percent, written by the Redis sampler only when
// maxmemory is set; RedwatchErrorRate reads redwatch_http_error_ratio, the share of 5xx
// responses over redwatch's last self-monitoring interval.
func DefaultRules() []config.Rule {
	d := func(v time.Duration) config.Duration { return config.Duration(v) }
	f := func(v float64) *float64 { return &v }
	return []config.Rule{
		{
			Name: "HostCPUHigh", Series: "host_cpu_usage_percent",
			Aggregate: "avg", Window: d(5 * time.Minute), Op: ">", Threshold: 80, ClearThreshold: f(75),
			For: d(5 * time.Minute), Severity: "warning",
			Summary: `{{ .Labels.host }} CPU at {{ printf "%.0f" .Value }}% (5-minute average, warning above {{ .Threshold }}%)`,
		},
		{
			Name: "HostCPUCritical", Series: "host_cpu_usage_percent",
			Aggregate: "avg", Window: d(5 * time.Minute), Op: ">", Threshold: 95, ClearThreshold: f(90),
			For: d(5 * time.Minute), Severity: "critical",
			Summary: `{{ .Labels.host }} CPU at {{ printf "%.0f" .Value }}% (5-minute average, critical above {{ .Threshold }}%)`,
		},
		{
			Name: "HostMemoryHigh", Series: "host_memory_usage_percent",
			Aggregate: "avg", Window: d(5 * time.Minute), Op: ">", Threshold: 85, ClearThreshold: f(80),
			For: d(5 * time.Minute), Severity: "warning",
			Summary: `{{ .Labels.host }} memory {{ printf "%.0f" .Value }}% used (warning above {{ .Threshold }}%)`,
		},
		{
			Name: "HostMemoryCritical", Series: "host_memory_usage_percent",
			Aggregate: "avg", Window: d(5 * time.Minute), Op: ">", Threshold: 95, ClearThreshold: f(90),
			For: d(2 * time.Minute), Severity: "critical",
			Summary: `{{ .Labels.host }} memory {{ printf "%.0f" .Value }}% used (critical above {{ .Threshold }}%)`,
		},
		{
			Name: "HostDiskHigh", Series: "host_disk_usage_percent",
			Aggregate: "last", Window: d(5 * time.Minute), Op: ">", Threshold: 80, ClearThreshold: f(75),
			For: d(5 * time.Minute), Severity: "warning",
			Summary: `{{ .Labels.host }} disk {{ .Labels.mount }} {{ printf "%.0f" .Value }}% full (warning above {{ .Threshold }}%)`,
		},
		{
			// On a Cluster, redis_up{node} fires per node too (a replica down is worth knowing); the
			// summary then names the node.
			Name: "RedisDown", Series: "redis_up",
			Aggregate: "last", Window: d(time.Minute), Op: "<", Threshold: 1,
			For: d(30 * time.Second), Severity: "critical",
			Summary: `Redis {{ .Labels.instance }}{{ with .Labels.node }} node {{ . }}{{ end }} is down (not answering for 30s)`,
		},
		{
			// A Redis Cluster instance (cluster = true) whose nodes report cluster_state:fail:
			// some slots have no reachable master, and the cluster refuses queries. At once:
			// even a short fail (a failover in progress) means refused commands.
			Name: "RedisClusterStateFail", Series: "redis_cluster_state_ok",
			Aggregate: "last", Window: d(time.Minute), Op: "<", Threshold: 1,
			Severity: "critical",
			Summary:  `Redis cluster {{ .Labels.instance }} is failing (cluster_state:fail): some slots have no reachable master`,
		},
		{
			Name: "RedisMemoryHigh", Series: "redis_memory_usage_percent",
			Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 90, ClearThreshold: f(85),
			For: d(5 * time.Minute), Severity: "warning",
			Summary: `Redis {{ .Labels.instance }} uses {{ printf "%.0f" .Value }}% of maxmemory (warning above {{ .Threshold }}%)`,
		},
		{
			// The trend of the last hour, 4 hours ahead, past maxmemory; instances without
			// maxmemory (0) never fire. Both sides carry the instance's labels.
			Name:     "RedisMemoryFullForecast",
			Expr:     "predict_linear(redis_memory_used_bytes[1h], 4*3600) > redis_memory_max_bytes and redis_memory_max_bytes > 0",
			For:      d(10 * time.Minute),
			Severity: "warning",
			Summary:  `Redis {{ .Labels.instance }} memory is forecast to reach maxmemory within 4h (trend of the last hour: {{ printf "%.0f" .Value }} bytes in 4h)`,
		},
		{
			// The last BGSAVE failed (disk full, unwritable dir): the RDB on disk is getting
			// older and, with stop-writes-on-bgsave-error (the default), Redis refuses writes.
			// At once: the status stays failed until a save succeeds.
			Name: "RedisBgsaveFailing", Series: "redis_rdb_last_bgsave_ok",
			Aggregate: "last", Window: d(time.Minute), Op: "<", Threshold: 1,
			Severity: "critical",
			Summary:  `Redis {{ .Labels.instance }} cannot save its RDB snapshot: the last BGSAVE failed`,
		},
		{
			// The last AOF write (or fsync) failed: writes acknowledged since may be lost.
			Name: "RedisAOFWriteFailing", Series: "redis_aof_last_write_ok",
			Aggregate: "last", Window: d(time.Minute), Op: "<", Threshold: 1,
			Severity: "critical",
			Summary:  `Redis {{ .Labels.instance }} cannot write its append-only file: the last AOF write failed`,
		},
		{
			// Written by replicas only (master_link_status).
			Name: "RedisReplicaLinkDown", Series: "redis_master_link_up",
			Aggregate: "last", Window: d(time.Minute), Op: "<", Threshold: 1,
			For: d(30 * time.Second), Severity: "critical",
			Summary: `Redis replica {{ .Labels.instance }} lost its link to its master (down for 30s)`,
		},
		{
			// 1 MiB is Redis's default repl-backlog-size: a replica further behind than the
			// backlog holds cannot resume with a partial resync if its link drops, it needs a
			// full one (a fork and the whole dataset over the network). min over the window:
			// only a replica that stayed behind for the whole minute, not a burst of writes.
			Name: "RedisReplicaLagHigh", Series: "redis_replica_lag_bytes",
			Aggregate: "min", Window: d(time.Minute), Op: ">", Threshold: 1 << 20, ClearThreshold: f(1 << 19),
			For: d(time.Minute), Severity: "warning",
			Summary: `Redis {{ .Labels.instance }}: replica {{ .Labels.replica }} is {{ printf "%.0f" .Value }} bytes behind (warning above {{ printf "%.0f" .Threshold }})`,
		},
		{
			// maxclients reached (or the file descriptor limit): clients are turned away.
			// for = 0, as the 5-minute rate already needs rejections to be seen.
			Name: "RedisRejectedConnections", Series: "redis_rejected_connections_total",
			Aggregate: "rate", Window: d(5 * time.Minute), Op: ">", Threshold: 0,
			Severity: "warning",
			Summary:  `Redis {{ .Labels.instance }} rejects connections ({{ printf "%.2f" .Value }}/s over 5 minutes): maxclients reached`,
		},
		{
			// Only keys whose absence is an alarm: an exact key with expect_exists = true, or
			// unset and last seen as a string, stream, HyperLogLog or module type. Pattern
			// keys that expired and queues that emptied (Redis deletes empty lists, sets,
			// sorted sets and hashes) are not missing. Before this selector the rule was
			// redis_key_exists: settings.Open updates unchanged seeded copies.
			Name: "RedisKeyMissing", Series: `redis_key_exists{expect_exists="true"}`,
			Aggregate: "last", Window: d(time.Minute), Op: "==", Threshold: 0,
			For: d(time.Minute), Severity: "warning",
			Summary: `Key {{ printf "%q" .Labels.key }} is missing on Redis {{ .Labels.instance }} (db {{ .Labels.db }})`,
		},
		{
			Name: "RedwatchErrorRate", Series: "redwatch_http_error_ratio",
			Aggregate: "avg", Window: d(5 * time.Minute), Op: ">", Threshold: 0.05, ClearThreshold: f(0.03),
			For: d(5 * time.Minute), Severity: "warning",
			Summary: `redwatch answers {{ printf "%.3f" .Value }} of requests with 5xx (5-minute average, warning above {{ .Threshold }})`,
		},
		{
			// Storage is at storage.max_series: samples of new series are being dropped.
			// Warning, not critical: what is stored keeps working; for = 0, as a drop is
			// already sustained over the 5-minute window.
			Name: "RedwatchSeriesDropped", Series: "redwatch_series_dropped_total",
			Aggregate: "rate", Window: d(5 * time.Minute), Op: ">", Threshold: 0,
			Severity: "warning",
			Summary:  `redwatch drops samples of new series ({{ .Labels.reason }}, {{ printf "%.1f" .Value }}/s over 5 minutes): storage.max_series is reached`,
		},
		{
			Name: "RedwatchSlow", Series: `redwatch_http_request_duration_seconds{quantile="0.95"}`,
			Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 1, ClearThreshold: f(0.8),
			For: d(5 * time.Minute), Severity: "warning",
			Summary: `redwatch p95 response time {{ printf "%.2f" .Value }}s on {{ .Labels.route }} (warning above {{ .Threshold }}s)`,
		},
	}
}
