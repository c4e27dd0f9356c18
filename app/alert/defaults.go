package alert

import (
	"time"

	"github.com/redwatch/redwatch/app/config"
)

// DefaultRules returns the rules redwatch ships (alerts.default_rules): host CPU, memory and
// disk, any Redis down for 30 s, Redis memory near maxmemory, a watched key missing, and
// redwatch's own 5xx ratio, p95 latency and dropped series (storage.max_series reached). Each passes config.Rule.Validate; each call
// returns new values the caller may modify.
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
			Name: "RedisDown", Series: "redis_up",
			Aggregate: "last", Window: d(time.Minute), Op: "<", Threshold: 1,
			For: d(30 * time.Second), Severity: "critical",
			Summary: `Redis {{ .Labels.instance }} is down (not answering for 30s)`,
		},
		{
			Name: "RedisMemoryHigh", Series: "redis_memory_usage_percent",
			Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 90, ClearThreshold: f(85),
			For: d(5 * time.Minute), Severity: "warning",
			Summary: `Redis {{ .Labels.instance }} uses {{ printf "%.0f" .Value }}% of maxmemory (warning above {{ .Threshold }}%)`,
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
