package web

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

func TestAPIInstances(t *testing.T) {
	t.Parallel()
	e := newSnapshotEnv(t)
	viewer := "Authorization: Basic " + basic("viewer", viewerPass)

	res, body := e.do(nil, "GET", "/api/instances", nil, viewer)
	if res.StatusCode != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("no instances: %d %s, want []", res.StatusCode, body)
	}

	e.fill()
	res, body = e.do(nil, "GET", "/api/instances", nil, viewer)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("instances: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("not a JSON array: %s", err)
	}
	if len(got) != 2 || got[0]["name"] != "cache" || got[1]["name"] != "down" {
		t.Fatalf("instances: %s", body)
	}
	c := got[0]
	for k, want := range map[string]any{"addr": "127.0.0.1:6379", "up": true, "version": "7.2.4", "ops_per_second": 1500.0, "connected_clients": 3.0, "keyspace_hit_ratio": 0.9876} {
		if c[k] != want {
			t.Errorf("cache %s = %v, want %v", k, c[k], want)
		}
	}
	if cl, _ := c["clients"].([]any); len(cl) != 3 {
		t.Errorf("cache clients: %v", c["clients"])
	}
	if got[1]["up"] != false || got[1]["error"] == "" {
		t.Errorf("down: %v", got[1])
	}
	// What the down instance never had is null: no hit ratio, no client list.
	for _, k := range []string{"keyspace_hit_ratio", "clients"} {
		if v, ok := got[1][k]; !ok || v != nil {
			t.Errorf("down %s = %v (present %v), want null", k, v, ok)
		}
	}
	if strings.Contains(strings.ToLower(body), "password") {
		t.Errorf("instances JSON mentions a password")
	}

	f := func(query string, want ...string) {
		t.Helper()
		res, body := e.do(nil, "GET", "/api/instances?"+query, nil, viewer)
		var got []instanceJSON
		if err := json.Unmarshal([]byte(body), &got); res.StatusCode != 200 || err != nil || got == nil {
			t.Fatalf("%s: %d %s", query, res.StatusCode, body)
		}
		var names []string
		for _, in := range got {
			names = append(names, in.Name)
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: %v, want %v", query, names, want)
		}
	}
	f("name=cache", "cache")
	f("name=down", "down")
	f("name=nope")
	f("name=", "cache", "down")
}

// An instance snapshot maps to the documented JSON field by field: units in the names, times
// in UTC, null where the snapshot does not know a value.
func TestInstanceJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 5, 0, 0, 0, time.FixedZone("CET", 3600))
	in := redis.InstanceSnapshot{
		Name: "cache", Addr: "10.0.0.5:6379", DB: 0, Interval: 10 * time.Second,
		Up: true, LastSeen: at, LastRunAt: at, PingLatency: 350 * time.Microsecond,
		Version: "7.2.4", Role: "master", Mode: "standalone", UptimeSeconds: 86400,
		OpsPerSec: 1500, MemoryUsedBytes: 512 * mib, MemoryMaxBytes: 1024 * mib, MemoryRSSBytes: 600 * mib,
		FragmentationRatio: 1.17, ConnectedClients: 3, RedwatchConnections: 2, BlockedClients: 1,
		HitRatio: 0.98, HitRatioKnown: true, NetInputBytesPerSec: 2048, NetOutputBytesPerSec: 4096,
		ConnectedReplicas: 1, ReplicationLagBytes: 16,
		Keyspace: []redis.DBKeys{{DB: 0, Keys: 12345, Expires: 10, AvgTTL: 60500}, {DB: 3, Keys: 7}},
		Commands: []redis.CommandStat{
			{Name: "get", Calls: 1000, UsecPerCall: 1.5, FailedCalls: 2, P50: 0.000012, P99: 0.0005, P999: 0.001},
			{Name: "config|get", Calls: 3, UsecPerCall: 20},
		},
		Clients: []redis.Client{{ID: 7, Addr: "10.0.0.1:5000", Name: "worker", User: "app", AgeSeconds: 100, IdleSeconds: 50,
			DB: 0, Cmd: "blpop", Flags: "b", MemoryBytes: 20480, OutputBufferBytes: 4096, QueryBufferBytes: 26, LastActive: at.Add(-50 * time.Second)}},
		ClientsError: "", SlowlogLength: 1, KeysWatched: 4, PatternsWatched: 1,
		Slowlog: []redis.SlowlogEntry{{ID: 2, Time: at.Add(-time.Minute), Micros: 120000, Args: []string{"KEYS", "*"}, ClientAddr: "10.0.0.1:5000", ClientName: "worker"}},
	}
	want := `{"name":"cache","addr":"10.0.0.5:6379","db":0,"interval_seconds":10,"up":true,` +
		`"last_seen_at":"2026-12-02T04:00:00Z","last_run_at":"2026-12-02T04:00:00Z","ping_latency_seconds":0.00035,` +
		`"version":"7.2.4","role":"master","mode":"standalone","uptime_seconds":86400,"ops_per_second":1500,` +
		`"memory_used_bytes":536870912,"memory_max_bytes":1073741824,"memory_rss_bytes":629145600,"mem_fragmentation_ratio":1.17,` +
		`"connected_clients":3,"redwatch_connections":2,"blocked_clients":1,"keyspace_hit_ratio":0.98,` +
		`"net_input_bytes_per_second":2048,"net_output_bytes_per_second":4096,"connected_replicas":1,"replication_lag_bytes":16,` +
		`"keyspace":[{"db":0,"keys":12345,"keys_expiring":10,"avg_ttl_seconds":60.5},{"db":3,"keys":7,"keys_expiring":0,"avg_ttl_seconds":null}],` +
		`"commands":[{"name":"get","calls":1000,"failed_calls":2,"seconds_per_call":0.0000015,"p50_seconds":0.000012,"p99_seconds":0.0005,"p999_seconds":0.001},` +
		`{"name":"config|get","calls":3,"failed_calls":0,"seconds_per_call":0.00002,"p50_seconds":null,"p99_seconds":null,"p999_seconds":null}],` +
		`"clients":[{"id":7,"addr":"10.0.0.1:5000","name":"worker","user":"app","age_seconds":100,"idle_seconds":50,"db":0,"cmd":"blpop","flags":"b",` +
		`"memory_bytes":20480,"output_buffer_bytes":4096,"query_buffer_bytes":26,"last_active_at":"2026-12-02T03:59:10Z","redwatch":false}],` +
		`"slowlog":[{"id":2,"at":"2026-12-02T03:59:00Z","duration_seconds":0.12,"args":["KEYS","*"],"client_addr":"10.0.0.1:5000","client_name":"worker"}],` +
		`"slowlog_length":1,"keys_watched":4,"patterns_watched":1}`
	f := func(in redis.InstanceSnapshot, want string) {
		t.Helper()
		b, err := json.Marshal(newInstanceJSON(&in))
		if err != nil || string(b) != want {
			t.Errorf("JSON of %s:\n got %s (%v)\nwant %s", in.Name, b, err, want)
		}
	}
	f(in, want)
	// Never reached: no times, no ping, no ratio, no client list; empty arrays, not null.
	f(redis.InstanceSnapshot{Name: "new", Addr: "10.0.0.6:6379", Interval: 5 * time.Second, Error: "dial tcp: connection refused", ClientsError: "CLIENT LIST refused: NOPERM"},
		`{"name":"new","addr":"10.0.0.6:6379","db":0,"interval_seconds":5,"up":false,"error":"dial tcp: connection refused",`+
			`"last_seen_at":null,"last_run_at":null,"ping_latency_seconds":null,"uptime_seconds":0,"ops_per_second":0,`+
			`"memory_used_bytes":0,"memory_max_bytes":0,"memory_rss_bytes":0,"mem_fragmentation_ratio":0,`+
			`"connected_clients":0,"redwatch_connections":0,"blocked_clients":0,"keyspace_hit_ratio":null,`+
			`"net_input_bytes_per_second":0,"net_output_bytes_per_second":0,"connected_replicas":0,"replication_lag_bytes":0,`+
			`"keyspace":[],"commands":[],"clients":null,"clients_error":"CLIENT LIST refused: NOPERM","slowlog":[],`+
			`"slowlog_length":0,"keys_watched":0,"patterns_watched":0}`)
}
