package redis

import (
	"maps"
	"testing"

	"github.com/redwatch/redwatch/tsdb"
)

// Captured INFO text (Redis 7.0, trimmed to the fields healthSamples reads and a few it must
// ignore).
const (
	healthMasterInfo = "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:12\r\n" +
		"rdb_bgsave_in_progress:0\r\nrdb_last_save_time:1796189751\r\nrdb_last_bgsave_status:err\r\n" +
		"rdb_last_bgsave_time_sec:-1\r\naof_enabled:1\r\naof_rewrite_in_progress:0\r\n" +
		"aof_last_bgrewrite_status:ok\r\naof_last_write_status:err\r\n\r\n" +
		"# Stats\r\ntotal_connections_received:57\r\nrejected_connections:0\r\n\r\n" +
		"# Replication\r\nrole:master\r\nconnected_slaves:2\r\n" +
		"slave0:ip=127.0.0.1,port=17392,state=online,offset=4100,lag=0\r\n" +
		"slave1:ip=::1,port=17393,state=wait_bgsave,offset=0,lag=0\r\n" +
		"master_failover_state:no-failover\r\nmaster_repl_offset:4200\r\nsecond_repl_offset:-1\r\n\r\n" +
		"# Errorstats\r\nerrorstat_ERR:count=3\r\nerrorstat_WRONGTYPE:count=1\r\n"
	healthReplicaDownInfo = "# Persistence\nloading:0\nrdb_last_bgsave_status:ok\naof_enabled:0\n" +
		"aof_last_bgrewrite_status:ok\naof_last_write_status:ok\n\n" +
		"# Replication\nrole:slave\nmaster_host:127.0.0.1\nmaster_port:17391\nmaster_link_status:down\n" +
		"master_last_io_seconds_ago:-1\nmaster_sync_in_progress:0\nslave_read_repl_offset:1\n" +
		"slave_repl_offset:1\nmaster_link_down_since_seconds:-1\nconnected_slaves:0\nmaster_repl_offset:0\n"
	healthReplicaUpInfo = "# Replication\nrole:slave\nmaster_link_status:up\nmaster_last_io_seconds_ago:2\n" +
		"master_sync_in_progress:1\nslave_repl_offset:4100\nmaster_repl_offset:4100\n"
	// Redis 6.0: no errorstats section; a master without replicas.
	healthRedis6Info = "# Persistence\r\nloading:1\r\nrdb_bgsave_in_progress:1\r\nrdb_last_bgsave_status:ok\r\n" +
		"aof_enabled:0\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:0\r\n"
)

func TestHealthSamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		info string
		want map[string]float64
	}{
		{"master with failing persistence, replicas and errors", healthMasterInfo, map[string]float64{
			"redis_loading":                                      0,
			"redis_rdb_last_bgsave_ok":                           0,
			"redis_rdb_bgsave_in_progress":                       0,
			"redis_rdb_changes_since_last_save":                  12,
			"redis_rdb_last_save_timestamp_seconds":              1796189751,
			"redis_aof_enabled":                                  1,
			"redis_aof_last_write_ok":                            0,
			"redis_aof_last_bgrewrite_ok":                        1,
			"redis_connections_received_total":                   57,
			`redis_replica_lag_bytes{replica="127.0.0.1:17392"}`: 100,
			`redis_replica_lag_bytes{replica="[::1]:17393"}`:     4200, // still in its first sync
			`redis_errors_total{error="ERR"}`:                    3,
			`redis_errors_total{error="WRONGTYPE"}`:              1,
		}},
		{"replica whose link is down", healthReplicaDownInfo, map[string]float64{
			"redis_loading":                 0,
			"redis_rdb_last_bgsave_ok":      1,
			"redis_aof_enabled":             0,
			"redis_aof_last_write_ok":       1,
			"redis_aof_last_bgrewrite_ok":   1,
			"redis_master_link_up":          0,
			"redis_master_sync_in_progress": 0,
			"redis_replica_offset_bytes":    1,
			// master_last_io_seconds_ago:-1 (never heard from the master) is left out.
		}},
		{"replica syncing", healthReplicaUpInfo, map[string]float64{
			"redis_master_link_up":             1,
			"redis_master_last_io_seconds_ago": 2,
			"redis_master_sync_in_progress":    1,
			"redis_replica_offset_bytes":       4100,
		}},
		{"Redis 6.0 loading, no errorstats", healthRedis6Info, map[string]float64{
			"redis_loading":                1,
			"redis_rdb_bgsave_in_progress": 1,
			"redis_rdb_last_bgsave_ok":     1,
			"redis_aof_enabled":            0,
		}},
		{"nothing known", "# Server\nredis_version:7.2.4\n", map[string]float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var samples []tsdb.Sample
			add := func(metric string, v float64, labels ...tsdb.Label) {
				ls := append([]tsdb.Label{{Name: "instance", Value: "n"}}, labels...)
				samples = append(samples, tsdb.Sample{Name: metric, Labels: ls, Timestamp: 1, Value: v})
			}
			healthSamples(add, parseInfo(tc.info))
			if got := infoTestSeries(t, samples, "n", 1); !maps.Equal(got, tc.want) {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestLatencySamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		reply any
		want  map[string]float64
	}{
		{"monitor off: no events", []any{}, map[string]float64{}},
		{"two events", []any{
			[]any{"command", int64(1796190098), int64(20), int64(250)},
			[]any{"fork", int64(1796190000), int64(3), int64(3)},
		}, map[string]float64{
			`redis_latency_spike_seconds{event="command"}`:           0.02, // the latest, not the max
			`redis_latency_spike_timestamp_seconds{event="command"}`: 1796190098,
			`redis_latency_spike_seconds{event="fork"}`:              0.003,
			`redis_latency_spike_timestamp_seconds{event="fork"}`:    1796190000,
		}},
		{"malformed entries skipped", []any{
			"command", []any{"short", int64(1)}, []any{"", int64(1), int64(2)}, []any{"aof-write", "x", int64(2)},
			[]any{"expire-cycle", int64(5), int64(7), int64(7)},
		}, map[string]float64{
			`redis_latency_spike_seconds{event="expire-cycle"}`:           0.007,
			`redis_latency_spike_timestamp_seconds{event="expire-cycle"}`: 5,
		}},
		{"not an array", "OK", map[string]float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := infoTestSeries(t, latencySamples(nil, "n", 1, tc.reply), "n", 1); !maps.Equal(got, tc.want) {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}
