package redis

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// infoTestSeries renders samples as `name{k="v",...}` (labels sorted, instance left out) ->
// value. It fails the test on a wrong timestamp or instance label, an empty label name, or a
// series written twice.
func infoTestSeries(t *testing.T, samples []tsdb.Sample, instance string, ts int64) map[string]float64 {
	t.Helper()
	m := make(map[string]float64, len(samples))
	for _, s := range samples {
		if s.Timestamp != ts {
			t.Fatalf("%s: timestamp %d, want %d", s.Name, s.Timestamp, ts)
		}
		var parts []string
		gotInstance := ""
		for _, l := range s.Labels {
			if l.Name == "" {
				t.Fatalf("%s: empty label name in %v", s.Name, s.Labels)
			}
			if l.Name == "instance" {
				gotInstance = l.Value
				continue
			}
			parts = append(parts, fmt.Sprintf("%s=%q", l.Name, l.Value))
		}
		if gotInstance != instance {
			t.Fatalf("%s: instance %q, want %q", s.Name, gotInstance, instance)
		}
		sort.Strings(parts)
		key := s.Name
		if len(parts) > 0 {
			key += "{" + strings.Join(parts, ",") + "}"
		}
		if _, dup := m[key]; dup {
			t.Fatalf("series %s written twice", key)
		}
		m[key] = s.Value
	}
	return m
}

// infoTestNames returns the sorted distinct metric names of samples.
func infoTestNames(samples []tsdb.Sample) []string {
	var names []string
	for _, s := range samples {
		if !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	sort.Strings(names)
	return names
}

// infoTestRound reads INFO all from c into a round taken at at.
func infoTestRound(t *testing.T, c *goredis.Client, at time.Time) *infoRound {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	text, err := c.Info(ctx, "all").Result()
	if err != nil {
		t.Fatalf("INFO all: %v", err)
	}
	return &infoRound{at: at, info: parseInfo(text)}
}

func TestParseInfo(t *testing.T) {
	f := func(text string, want info) {
		t.Helper()
		got := parseInfo(text)
		if len(got) != len(want) {
			t.Fatalf("parseInfo(%q) = %v, want %v", text, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("parseInfo(%q)[%q] = %q, want %q", text, k, got[k], v)
			}
		}
	}
	f("", info{})
	f("\r\n\n# Server\r\n", info{})
	f("# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:12\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n",
		info{"redis_version": "7.0.15", "uptime_in_seconds": "12", "db0": "keys=1,expires=0,avg_ttl=0"})
	f("a:1\nb:2", info{"a": "1", "b": "2"})                                            // LF, no final newline
	f("executable:/usr/bin/redis-server", info{"executable": "/usr/bin/redis-server"}) // split on the first colon
	f("slave0:ip=::1,port=6380,state=online,offset=10,lag=0", info{"slave0": "ip=::1,port=6380,state=online,offset=10,lag=0"})
	f("empty:\nno colon here\n:novalue\n\x00\xff\xfe", info{"empty": ""}) // junk skipped
	f("a:1\na:2", info{"a": "2"})                                         // last wins
	f("  padded:  3  \r\n", info{"padded": "  3"})
}

func FuzzParseInfo(f *testing.F) {
	f.Add("# Server\r\nrun_id:x\r\nuptime_in_seconds:1\r\nrole:master\r\nmaster_repl_offset:10\r\nslave0:offset=x\r\n")
	f.Add("cmdstat_get:calls=,usec=1\nlatency_percentiles_usec_get:p=1,p50=x,pNaN=1,p99.9=Inf\ndb:keys=1\ndbx:keys=2\ndb1:\n")
	f.Add("total_commands_processed:NaN\nkeyspace_hits:1e400\nkeyspace_misses:-1\n")
	f.Fuzz(func(t *testing.T, text string) {
		in := parseInfo(text)
		prev := &infoRound{at: time.Unix(1, 0), info: in}
		cur := &infoRound{at: time.Unix(2, 0), info: parseInfo(text + "\nkeyspace_hits:5\n")}
		var snap InstanceSnapshot
		for _, s := range infoSamples(nil, "x", 1, cur, prev, &snap) {
			if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
				t.Fatalf("%s is NaN", s.Name)
			}
		}
	})
}

func TestInfoPercentileQuantile(t *testing.T) {
	f := func(k, want string, wantOK bool) {
		t.Helper()
		got, ok := percentileQuantile(k)
		if got != want || ok != wantOK {
			t.Fatalf("percentileQuantile(%q) = %q, %v; want %q, %v", k, got, ok, want, wantOK)
		}
	}
	f("p50", "0.5", true)
	f("p99", "0.99", true)
	f("p99.9", "0.999", true)
	f("p99.99", "0.9999", true)
	f("p100", "1", true)
	f("p0", "0", true)
	f("p", "", false)
	f("q50", "", false)
	f("p101", "", false)
	f("pNaN", "", false)
}

func TestInfoUsableAsPrev(t *testing.T) {
	at := time.Unix(1000, 0)
	round := func(at time.Time, runID string, uptime string) *infoRound {
		return &infoRound{at: at, info: info{"run_id": runID, "uptime_in_seconds": uptime}}
	}
	f := func(cur, prev *infoRound, want bool) {
		t.Helper()
		if got := infoUsableAsPrev(cur, prev); got != want {
			t.Fatalf("infoUsableAsPrev = %v, want %v", got, want)
		}
	}
	cur := round(at.Add(10*time.Second), "a", "110")
	f(cur, nil, false)
	f(cur, round(at, "a", "100"), true)
	f(cur, round(at, "a", "110"), true)                                                          // idle server, same second
	f(cur, round(at, "a", "120"), false)                                                         // uptime went backwards: restart
	f(cur, round(at, "b", "100"), false)                                                         // another process
	f(cur, round(at.Add(10*time.Second), "a", "100"), false)                                     // no time between rounds
	f(cur, round(at.Add(20*time.Second), "a", "100"), false)                                     // clock went backwards
	f(&infoRound{at: at.Add(time.Second), info: info{}}, &infoRound{at: at, info: info{}}, true) // managed: no run_id, no uptime
}

func TestInfoSamplesRealRedis(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	const name = "cache"
	const ts = int64(1_700_000_000_000)
	at1 := time.Unix(1_700_000_000, 0)
	at2 := at1.Add(2 * time.Second)

	srv.Do("CONFIG", "SET", "maxmemory", "104857600")
	srv.Do("SET", "k1", "v1")
	srv.Do("SET", "k2", "v2", "EX", "1000")
	r1 := infoTestRound(t, c, at1)

	// First round: no interval values.
	var snap1 InstanceSnapshot
	s1 := infoSamples(nil, name, ts, r1, nil, &snap1)
	m1 := infoTestSeries(t, s1, name, ts)
	if _, ok := m1["redis_keyspace_hit_ratio"]; ok || snap1.HitRatioKnown {
		t.Fatalf("first round wrote a hit ratio: %v", m1)
	}
	if v, ok := m1["redis_ops_per_second"]; ok || snap1.OpsPerSec != 0 {
		t.Fatalf("first round wrote ops %v: instantaneous_ops_per_sec would include redwatch", v)
	}

	// Between the rounds: 2 hits and 1 miss.
	for _, k := range []string{"k1", "k2", "missing"} {
		if err := c.Get(ctx, k).Err(); err != nil && err != goredis.Nil {
			t.Fatalf("GET %s: %v", k, err)
		}
	}
	r2 := infoTestRound(t, c, at2)
	var snap InstanceSnapshot
	samples := infoSamples(nil, name, ts, r2, r1, &snap)
	m := infoTestSeries(t, samples, name, ts)

	want := func(key string, v float64) {
		t.Helper()
		got, ok := m[key]
		if !ok {
			t.Fatalf("series %s missing; have %v", key, infoTestNames(samples))
		}
		if got != v {
			t.Fatalf("%s = %v, want %v", key, got, v)
		}
	}
	field := func(k string) float64 {
		t.Helper()
		v, ok := r2.info.float(k)
		if !ok {
			t.Fatalf("INFO has no %s", k)
		}
		return v
	}
	delta := func(k string) float64 {
		t.Helper()
		v, ok := r1.info.float(k)
		if !ok {
			t.Fatalf("INFO has no %s", k)
		}
		return field(k) - v
	}

	want("redis_keyspace_hit_ratio", 2.0/3)
	if !snap.HitRatioKnown || snap.HitRatio != 2.0/3 {
		t.Fatalf("snap hit ratio = %v (known %v), want 2/3", snap.HitRatio, snap.HitRatioKnown)
	}
	dbsize, err := c.DBSize(ctx).Result()
	if err != nil {
		t.Fatalf("DBSIZE: %v", err)
	}
	want(`redis_db_keys{db="0"}`, float64(dbsize))
	want(`redis_db_keys_expiring{db="0"}`, 1)
	if len(snap.Keyspace) != 1 || snap.Keyspace[0] != (DBKeys{DB: 0, Keys: 2, Expires: 1, AvgTTL: snap.Keyspace[0].AvgTTL}) {
		t.Fatalf("snap keyspace = %+v", snap.Keyspace)
	}
	want("redis_memory_max_bytes", 104857600)
	want("redis_memory_used_bytes", field("used_memory"))
	want("redis_memory_usage_percent", 100*field("used_memory")/104857600)
	want("redis_memory_rss_bytes", field("used_memory_rss"))
	want("redis_mem_fragmentation_ratio", field("mem_fragmentation_ratio"))
	want("redis_uptime_seconds", field("uptime_in_seconds"))
	want("redis_connected_clients", field("connected_clients"))
	want("redis_blocked_clients", 0)
	want("redis_keyspace_hits_total", field("keyspace_hits"))
	want("redis_keyspace_misses_total", field("keyspace_misses"))
	want("redis_commands_processed_total", field("total_commands_processed"))
	want("redis_evicted_keys_total", 0)
	want("redis_expired_keys_total", 0)
	want("redis_rejected_connections_total", 0)
	want("redis_net_input_bytes_total", field("total_net_input_bytes"))
	want("redis_net_output_bytes_total", field("total_net_output_bytes"))
	want("redis_cpu_user_seconds_total", field("used_cpu_user"))
	want("redis_cpu_sys_seconds_total", field("used_cpu_sys"))
	want("redis_connected_replicas", 0)
	want("redis_replication_lag_bytes", 0)
	want(fmt.Sprintf(`redis_instance_info{mode="standalone",role="master",version=%q}`, r2.info["redis_version"]), 1)

	// 3 GETs and the first INFO at least, over the injected 2 s.
	if d := delta("total_commands_processed"); d < 4 {
		t.Fatalf("total_commands_processed grew by %v, want >= 4", d)
	}
	want("redis_ops_per_second", delta("total_commands_processed")/2)
	if snap.OpsPerSec != m["redis_ops_per_second"] {
		t.Fatalf("snap ops = %v, want %v", snap.OpsPerSec, m["redis_ops_per_second"])
	}
	if snap.NetInputBytesPerSec != delta("total_net_input_bytes")/2 || snap.NetInputBytesPerSec <= 0 {
		t.Fatalf("snap net input = %v/s, want %v/s", snap.NetInputBytesPerSec, delta("total_net_input_bytes")/2)
	}
	if snap.NetOutputBytesPerSec != delta("total_net_output_bytes")/2 || snap.NetOutputBytesPerSec <= 0 {
		t.Fatalf("snap net output = %v/s, want %v/s", snap.NetOutputBytesPerSec, delta("total_net_output_bytes")/2)
	}

	// Commands: the test's own, with Redis 7 subcommands kept as "config|set".
	want(`redis_command_calls_total{cmd="get"}`, 3)
	want(`redis_command_calls_total{cmd="set"}`, 2)
	want(`redis_command_calls_total{cmd="config|set"}`, 1)
	if _, ok := m[`redis_command_duration_seconds_total{cmd="get"}`]; !ok {
		t.Fatalf("no duration for get; have %v", infoTestNames(samples))
	}
	p50, ok1 := m[`redis_command_latency_seconds{cmd="get",quantile="0.5"}`]
	p99, ok2 := m[`redis_command_latency_seconds{cmd="get",quantile="0.99"}`]
	p999, ok3 := m[`redis_command_latency_seconds{cmd="get",quantile="0.999"}`]
	if !ok1 || !ok2 || !ok3 || p50 <= 0 || p50 > p99 || p99 > p999 || p999 > 1 {
		t.Fatalf("get latency quantiles = %v %v %v (present %v %v %v)", p50, p99, p999, ok1, ok2, ok3)
	}
	if !sort.SliceIsSorted(snap.Commands, func(i, j int) bool { return snap.Commands[i].Calls > snap.Commands[j].Calls }) {
		t.Fatalf("snap commands not by calls: %+v", snap.Commands)
	}
	i := slices.IndexFunc(snap.Commands, func(c CommandStat) bool { return c.Name == "get" })
	if i < 0 {
		t.Fatalf("snap commands have no get: %+v", snap.Commands)
	}
	if get := snap.Commands[i]; get.Calls != 3 || get.P50 != p50 || get.P99 != p99 || get.P999 != p999 || get.UsecPerCall <= 0 || get.FailedCalls != 0 {
		t.Fatalf("snap get = %+v", get)
	}

	if snap.Version != r2.info["redis_version"] || snap.Role != "master" || snap.Mode != "standalone" ||
		snap.MemoryMaxBytes != 104857600 || snap.MemoryUsedBytes <= 0 || snap.MemoryRSSBytes <= 0 ||
		snap.FragmentationRatio <= 0 || snap.ConnectedClients < 1 || snap.UptimeSeconds != int64(field("uptime_in_seconds")) {
		t.Fatalf("snap = %+v", snap)
	}
	for _, n := range []string{"redis_up", "redis_ping_latency_seconds", "redis_slowlog_length", "redis_clients_by_name"} {
		if slices.Contains(infoTestNames(samples), n) {
			t.Fatalf("infoSamples wrote %s, which is the caller's", n)
		}
	}

	// A restart: lower uptime and a new run_id make the previous round unusable.
	srv.Restart()
	srv.Do("GET", "k1") // a miss; would be a ratio if prev were used
	r3 := infoTestRound(t, c, at2.Add(2*time.Second))
	if r3.info["run_id"] == r2.info["run_id"] {
		t.Fatalf("run_id unchanged across restart")
	}
	var snap3 InstanceSnapshot
	m3 := infoTestSeries(t, infoSamples(nil, name, ts, r3, r2, &snap3), name, ts)
	if _, ok := m3["redis_keyspace_hit_ratio"]; ok || snap3.HitRatioKnown {
		t.Fatalf("hit ratio written across a restart: %v", m3)
	}
	if v, ok := m3["redis_ops_per_second"]; ok {
		t.Fatalf("ops written across a restart: %v", v)
	}
	if _, ok := m3[`redis_db_keys{db="0"}`]; ok {
		t.Fatalf("empty restarted server has db0 keys: %v", m3)
	}
}

func TestInfoSamplesReplication(t *testing.T) {
	master := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port()))
	mc, rc := master.Client(), replica.Client()
	const ts = 1

	// Wait for the replica to be online, then write so offsets move.
	testutil.Eventually(t, 15*time.Second, "replica online", func() (bool, string) {
		r := infoTestRound(t, mc, time.Now())
		return strings.Contains(r.info["slave0"], "state=online"), "slave0=" + r.info["slave0"]
	})
	master.Do("SET", "a", "1")

	r := infoTestRound(t, mc, time.Now())
	var snap InstanceSnapshot
	m := infoTestSeries(t, infoSamples(nil, "m", ts, r, nil, &snap), "m", ts)
	masterOffset, _ := r.info.int("master_repl_offset")
	slaveOffset, ok := infoPairInt(splitInfoPairs(r.info["slave0"]), "offset")
	if !ok {
		t.Fatalf("slave0 has no offset: %q", r.info["slave0"])
	}
	wantLag := max(0, masterOffset-slaveOffset)
	if m["redis_connected_replicas"] != 1 || m["redis_replication_lag_bytes"] != float64(wantLag) ||
		snap.ConnectedReplicas != 1 || snap.ReplicationLagBytes != wantLag {
		t.Fatalf("master: replicas %v lag %v (want %d), snap %d/%d",
			m["redis_connected_replicas"], m["redis_replication_lag_bytes"], wantLag, snap.ConnectedReplicas, snap.ReplicationLagBytes)
	}

	rr := infoTestRound(t, rc, time.Now())
	var rsnap InstanceSnapshot
	rm := infoTestSeries(t, infoSamples(nil, "r", ts, rr, nil, &rsnap), "r", ts)
	if _, ok := rm["redis_replication_lag_bytes"]; ok {
		t.Fatalf("replica wrote redis_replication_lag_bytes")
	}
	if rsnap.Role != "slave" || rsnap.ReplicationLagBytes != 0 {
		t.Fatalf("replica snap role %q lag %d", rsnap.Role, rsnap.ReplicationLagBytes)
	}
	if _, ok := rm[fmt.Sprintf(`redis_instance_info{mode="standalone",role="slave",version=%q}`, rr.info["redis_version"])]; !ok {
		t.Fatalf("replica instance info missing: %v", rm)
	}
}

// redis6Info is INFO from a Redis 6.0 master with two replicas: commandstats without
// rejected_calls/failed_calls and no latencystats section.
const redis6Info = "# Server\r\n" +
	"redis_version:6.0.16\r\nredis_mode:standalone\r\nrun_id:6f1e\r\nuptime_in_seconds:100\r\n\r\n" +
	"# Clients\r\nconnected_clients:7\r\nblocked_clients:1\r\n\r\n" +
	"# Memory\r\nused_memory:2000\r\nused_memory_rss:4000\r\nmaxmemory:0\r\nmem_fragmentation_ratio:2.00\r\n\r\n" +
	"# Stats\r\ntotal_commands_processed:%d\r\ninstantaneous_ops_per_sec:9\r\ntotal_net_input_bytes:%d\r\n" +
	"total_net_output_bytes:%d\r\nrejected_connections:2\r\nexpired_keys:3\r\nevicted_keys:4\r\n" +
	"keyspace_hits:%d\r\nkeyspace_misses:%d\r\n\r\n" +
	"# Replication\r\nrole:master\r\nconnected_slaves:2\r\n" +
	"slave0:ip=10.0.0.2,port=6379,state=online,offset=900,lag=0\r\n" +
	"slave1:ip=10.0.0.3,port=6379,state=online,offset=750,lag=1\r\n" +
	"master_repl_offset:1000\r\n\r\n" +
	"# CPU\r\nused_cpu_sys:1.5\r\nused_cpu_user:2.25\r\n\r\n" +
	"# Commandstats\r\ncmdstat_get:calls=%d,usec=30,usec_per_call=1.50\r\ncmdstat_SET:calls=5,usec=20,usec_per_call=4.00\r\n" +
	"cmdstat_info:calls=5,usec=500,usec_per_call=100.00\r\n\r\n" +
	"# Keyspace\r\ndb3:keys=30,expires=3,avg_ttl=300\r\ndb0:keys=10,expires=1,avg_ttl=100\r\n"

func TestInfoSamplesRedis6(t *testing.T) {
	r1 := &infoRound{at: time.Unix(100, 0), info: parseInfo(fmt.Sprintf(redis6Info, 100, 1000, 5000, 10, 10, 20))}
	r2 := &infoRound{at: time.Unix(110, 0), info: parseInfo(fmt.Sprintf(redis6Info, 150, 2000, 7000, 13, 11, 20))}
	var snap InstanceSnapshot
	samples := infoSamples(nil, "six", 42, r2, r1, &snap)
	m := infoTestSeries(t, samples, "six", 42)
	want := map[string]float64{
		"redis_uptime_seconds":                                                  100,
		"redis_connected_clients":                                               7,
		"redis_redwatch_connections":                                            0,
		"redis_blocked_clients":                                                 1,
		"redis_memory_used_bytes":                                               2000,
		"redis_memory_max_bytes":                                                0,
		"redis_memory_rss_bytes":                                                4000,
		"redis_mem_fragmentation_ratio":                                         2,
		"redis_commands_processed_total":                                        150,
		"redis_ops_per_second":                                                  5, // (150-100)/10s, not instantaneous_ops_per_sec
		"redis_keyspace_hits_total":                                             13,
		"redis_keyspace_misses_total":                                           11,
		"redis_keyspace_hit_ratio":                                              0.75, // 3/(3+1)
		"redis_evicted_keys_total":                                              4,
		"redis_expired_keys_total":                                              3,
		"redis_net_input_bytes_total":                                           2000,
		"redis_net_output_bytes_total":                                          7000,
		"redis_rejected_connections_total":                                      2,
		"redis_cpu_user_seconds_total":                                          2.25,
		"redis_cpu_sys_seconds_total":                                           1.5,
		"redis_connected_replicas":                                              2,
		"redis_replication_lag_bytes":                                           250, // 1000-750
		`redis_replica_lag_bytes{replica="10.0.0.2:6379"}`:                      100,
		`redis_replica_lag_bytes{replica="10.0.0.3:6379"}`:                      250,
		`redis_db_keys{db="0"}`:                                                 10,
		`redis_db_keys_expiring{db="0"}`:                                        1,
		`redis_db_keys{db="3"}`:                                                 30,
		`redis_db_keys_expiring{db="3"}`:                                        3,
		`redis_command_calls_total{cmd="get"}`:                                  20,
		`redis_command_duration_seconds_total{cmd="get"}`:                       30e-6,
		`redis_command_calls_total{cmd="set"}`:                                  5,
		`redis_command_duration_seconds_total{cmd="set"}`:                       20e-6,
		`redis_command_calls_total{cmd="info"}`:                                 5,
		`redis_command_duration_seconds_total{cmd="info"}`:                      500e-6,
		`redis_instance_info{mode="standalone",role="master",version="6.0.16"}`: 1,
	}
	if len(m) != len(want) {
		t.Fatalf("got %d series, want %d:\n%v", len(m), len(want), m)
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Fatalf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if snap.NetInputBytesPerSec != 100 || snap.NetOutputBytesPerSec != 200 || snap.OpsPerSec != 5 ||
		!snap.HitRatioKnown || snap.HitRatio != 0.75 || snap.ReplicationLagBytes != 250 || snap.ConnectedReplicas != 2 {
		t.Fatalf("snap = %+v", snap)
	}
	wantKeyspace := []DBKeys{{DB: 0, Keys: 10, Expires: 1, AvgTTL: 100}, {DB: 3, Keys: 30, Expires: 3, AvgTTL: 300}}
	if !slices.Equal(snap.Keyspace, wantKeyspace) {
		t.Fatalf("keyspace = %+v, want %+v", snap.Keyspace, wantKeyspace)
	}
	// By calls, then name; no failed_calls or latencystats on Redis 6: zeros.
	wantCommands := []CommandStat{
		{Name: "get", Calls: 20, UsecPerCall: 1.5},
		{Name: "info", Calls: 5, UsecPerCall: 100},
		{Name: "set", Calls: 5, UsecPerCall: 4},
	}
	if !slices.Equal(snap.Commands, wantCommands) {
		t.Fatalf("commands = %+v, want %+v", snap.Commands, wantCommands)
	}

	// No lookups in the interval: no ratio. Counters reset (CONFIG RESETSTAT): no ops (Redis's
	// own instantaneous_ops_per_sec would include redwatch).
	r3 := &infoRound{at: time.Unix(120, 0), info: parseInfo(fmt.Sprintf(redis6Info, 10, 2000, 7000, 13, 11, 20))}
	var snap3 InstanceSnapshot
	m3 := infoTestSeries(t, infoSamples(nil, "six", 42, r3, r2, &snap3), "six", 42)
	if _, ok := m3["redis_keyspace_hit_ratio"]; ok || snap3.HitRatioKnown {
		t.Fatalf("hit ratio written without lookups")
	}
	if v, ok := m3["redis_ops_per_second"]; ok || snap3.OpsPerSec != 0 {
		t.Fatalf("ops after counter reset = %v (snap %v), want none", v, snap3.OpsPerSec)
	}
}

// managedInfo is INFO as a managed Redis may show it: many fields hidden (no run_id, role,
// RSS, maxmemory, fragmentation, CPU, instantaneous values, commandstats, replication offsets).
const managedInfo = "# Server\nredis_version:7.2.4\nuptime_in_seconds:5000\n\n" +
	"# Clients\nconnected_clients:3\n\n# Memory\nused_memory:123456\n\n" +
	"# Stats\ntotal_commands_processed:%d\nkeyspace_hits:%d\nkeyspace_misses:0\n\n" +
	"# Keyspace\ndb0:keys=5,expires=0\n"

func TestInfoSamplesManagedSkipsMissing(t *testing.T) {
	f := func(prev *infoRound, wantNames []string) {
		t.Helper()
		cur := &infoRound{at: time.Unix(60, 0), info: parseInfo(fmt.Sprintf(managedInfo, 600, 10))}
		snap := InstanceSnapshot{MemoryRSSBytes: 99, OpsPerSec: 99, HitRatioKnown: true} // stale values are reset
		samples := infoSamples(nil, "managed", 7, cur, prev, &snap)
		infoTestSeries(t, samples, "managed", 7)
		if got := infoTestNames(samples); !slices.Equal(got, wantNames) {
			t.Fatalf("series = %v\nwant %v", got, wantNames)
		}
		if snap.MemoryRSSBytes != 0 || snap.MemoryMaxBytes != 0 || snap.Role != "" || snap.Commands != nil ||
			snap.MemoryUsedBytes != 123456 || snap.Version != "7.2.4" || len(snap.Keyspace) != 1 {
			t.Fatalf("snap = %+v", snap)
		}
	}
	base := []string{
		"redis_commands_processed_total", "redis_connected_clients", "redis_db_keys", "redis_db_keys_expiring",
		"redis_instance_info", "redis_keyspace_hits_total", "redis_keyspace_misses_total",
		"redis_memory_used_bytes", "redis_redwatch_connections", "redis_uptime_seconds",
	}
	// First round: no previous round, so no ops and no ratio.
	f(nil, base)
	// With a usable previous round: ops and hit ratio from the deltas.
	prev := &infoRound{at: time.Unix(0, 0), info: parseInfo(fmt.Sprintf(managedInfo, 0, 4))}
	withRates := append(slices.Clone(base), "redis_keyspace_hit_ratio", "redis_ops_per_second")
	sort.Strings(withRates)
	f(prev, withRates)
}
