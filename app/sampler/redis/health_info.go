package redis

import (
	"net"
	"sort"
	"strings"

	"github.com/redwatch/redwatch/tsdb"
)

// errorstatPrefix starts the INFO errorstats lines ("errorstat_ERR:count=3"), Redis ≥ 6.2.
const errorstatPrefix = "errorstat_"

// healthSamples emits with add the node-health series of one INFO reply, beyond the basics of
// infoSamples: persistence (RDB and AOF status, loading), replication as a replica sees it
// (link to its master, sync, offset) and as a master sees it (lag of each replica),
// connections received and errorstats. Fields missing from in (older Redis, managed Redis,
// the other role) are skipped, never written as 0. It reads only the INFO already taken: no
// command of its own.
func healthSamples(add func(metric string, v float64, labels ...tsdb.Label), in info) {
	gauge := func(metric, field string) {
		if v, ok := in.float(field); ok {
			add(metric, v)
		}
	}
	// status writes 1 when field reads want ("ok", "up"), 0 for anything else ("err", "down").
	status := func(metric, field, want string) {
		if v, ok := in[field]; ok {
			add(metric, boolFloat(strings.TrimSpace(v) == want))
		}
	}

	// Persistence: a failing BGSAVE or AOF write is how Redis loses data (and, with
	// stop-writes-on-bgsave-error, starts refusing writes).
	gauge("redis_loading", "loading")
	status("redis_rdb_last_bgsave_ok", "rdb_last_bgsave_status", "ok")
	gauge("redis_rdb_bgsave_in_progress", "rdb_bgsave_in_progress")
	gauge("redis_rdb_changes_since_last_save", "rdb_changes_since_last_save")
	gauge("redis_rdb_last_save_timestamp_seconds", "rdb_last_save_time")
	gauge("redis_aof_enabled", "aof_enabled")
	status("redis_aof_last_write_ok", "aof_last_write_status", "ok")
	status("redis_aof_last_bgrewrite_ok", "aof_last_bgrewrite_status", "ok")

	gauge("redis_connections_received_total", "total_connections_received")

	switch in["role"] {
	case "slave":
		status("redis_master_link_up", "master_link_status", "up")
		// -1 while the link is down (never heard from the master): no value, not -1 s.
		if v, ok := in.float("master_last_io_seconds_ago"); ok && v >= 0 {
			add("redis_master_last_io_seconds_ago", v)
		}
		gauge("redis_master_sync_in_progress", "master_sync_in_progress")
		gauge("redis_replica_offset_bytes", "slave_repl_offset")
	case "master":
		if masterOffset, ok := in.int("master_repl_offset"); ok {
			for _, r := range replicaOffsets(in) {
				add("redis_replica_lag_bytes", float64(max(0, masterOffset-r.offset)),
					tsdb.Label{Name: "replica", Value: r.addr})
			}
		}
	}

	// Errors by prefix (ERR, WRONGTYPE, NOAUTH, ...), in name order.
	var names []string
	for k := range in {
		if strings.HasPrefix(k, errorstatPrefix) && len(k) > len(errorstatPrefix) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if n, ok := infoPairInt(splitInfoPairs(in[k]), "count"); ok {
			add("redis_errors_total", float64(n), tsdb.Label{Name: "error", Value: k[len(errorstatPrefix):]})
		}
	}
}

// replicaOffset is one "slaveN" line of a master's INFO replication: the replica's address
// ("ip:port", "[::1]:port") and the replication offset it acknowledged.
type replicaOffset struct {
	addr   string
	offset int64
}

// replicaOffsets returns the replicas of a master's INFO that carry an offset, by address.
func replicaOffsets(in info) []replicaOffset {
	var out []replicaOffset
	for k, v := range in {
		if !isNumberedField(k, "slave") {
			continue
		}
		ps := splitInfoPairs(v)
		off, ok := infoPairInt(ps, "offset")
		if !ok {
			continue
		}
		var ip, port string
		for _, p := range ps {
			switch p.k {
			case "ip":
				ip = p.v
			case "port":
				port = p.v
			}
		}
		out = append(out, replicaOffset{addr: net.JoinHostPort(ip, port), offset: off})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out
}

// boolFloat is 1 for true, 0 for false.
func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
