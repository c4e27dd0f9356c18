package web

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// /api/instances carries a Sentinel or Cluster topology, with only its own kind's fields; a
// standalone instance has no "topology" key at all.
func TestAPIInstancesTopology(t *testing.T) {
	t.Parallel()
	e := newSnapshotEnv(t)
	e.fill()
	now := time.Now()
	e.redis.set(append(e.redis.Instances(), topologySnapshots(now)...), nil, nil)
	res, body := e.do(nil, "GET", "/api/instances", nil, "Authorization: Basic "+basic("viewer", viewerPass))
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != 200 {
		t.Fatalf("%d %v %s", res.StatusCode, err, body)
	}
	by := map[string]map[string]any{}
	for _, in := range got {
		by[in["name"].(string)] = in
	}
	if _, ok := by["cache"]["topology"]; ok {
		t.Fatalf("standalone has a topology: %v", by["cache"]["topology"])
	}
	st, _ := by["sent"]["topology"].(map[string]any)
	for k, want := range map[string]any{"kind": "sentinel", "master_name": "mymaster", "master_addr": "127.0.0.1:7001", "failovers": 1.0, "quorum": 2.0, "quorum_ok": true, "masters": 1.0, "masters_up": 1.0} {
		if st[k] != want {
			t.Errorf("sentinel %s = %v, want %v", k, st[k], want)
		}
	}
	if _, ok := st["cluster_state"]; ok || st["last_failover"] == nil || len(st["sentinels"].([]any)) != 3 || len(st["events"].([]any)) != 1 {
		t.Errorf("sentinel topology: %v", st)
	}
	sn := st["nodes"].([]any)
	n2 := sn[2].(map[string]any)
	if n2["role"] != "replica" || n2["master_link_up"] != false || n2["master_addr"] != "127.0.0.1:7001" {
		t.Errorf("sentinel replica: %v", n2)
	}
	// The master's figures are its INFO's; the replicas redwatch does not sample have none
	// (null), not a fake 0, and no last_seen.
	sm := sn[0].(map[string]any)
	if sm["memory_used_bytes"] != float64(2*mib) || sm["ops_per_second"] != 120.0 || sm["connected_clients"] != 7.0 || sm["keys"] != 42.0 || sm["last_seen"] == nil {
		t.Errorf("sentinel master: %v", sm)
	}
	for _, n := range sn[1:] {
		n := n.(map[string]any)
		for _, k := range []string{"memory_used_bytes", "ops_per_second", "connected_clients", "keys", "last_seen"} {
			if v, ok := n[k]; !ok || v != nil {
				t.Errorf("unsampled replica %s: %s = %v (present %v), want null", n["addr"], k, v, ok)
			}
		}
	}
	// Raw flags stay; conditions say them in words.
	if n2["flags"] != "slave,s_down,disconnected" || fmt.Sprint(n2["conditions"]) != "[subjectively down disconnected]" {
		t.Errorf("replica flags %v, conditions %v", n2["flags"], n2["conditions"])
	}
	if _, ok := sm["conditions"]; ok {
		t.Errorf("master with flags \"master\" has conditions %v", sm["conditions"])
	}
	ct, _ := by["clu"]["topology"].(map[string]any)
	for k, want := range map[string]any{"kind": "cluster", "cluster_state": "fail", "slots_ok": 10923.0, "slots_assigned": 16384.0, "masters": 3.0, "masters_up": 2.0} {
		if ct[k] != want {
			t.Errorf("cluster %s = %v, want %v", k, ct[k], want)
		}
	}
	if _, ok := ct["master_name"]; ok || by["clu"]["up"] != false {
		t.Errorf("cluster: %v", by["clu"])
	}
	n0, n1 := ct["nodes"].([]any)[0].(map[string]any), ct["nodes"].([]any)[1].(map[string]any)
	if n0["memory_used_bytes"] != float64(3*mib) || n0["ops_per_second"] != 500.0 || n0["keys"] != 10000.0 || n0["slots"] != "0-5460" || n0["up"] != true {
		t.Errorf("cluster node 0: %v", n0)
	}
	if _, ok := n0["master_link_up"]; ok || n1["up"] != false || n1["error"] != "dial tcp 127.0.0.1:7102: connection refused" || n1["last_seen"] == nil {
		t.Errorf("cluster nodes: %v %v", n0, n1)
	}
	// A node down this round: its figures are unknown, its last_seen says when it was seen.
	if n1["memory_used_bytes"] != nil || n1["ops_per_second"] != nil || n1["connected_clients"] != nil || n1["keys"] != nil {
		t.Errorf("down cluster node has figures: %v", n1)
	}
	if n0["connected_clients"] != 4.0 || n0["flags"] != "myself,master" || fmt.Sprint(n1["conditions"]) != "[failing]" {
		t.Errorf("cluster nodes: %v %v", n0, n1)
	}
}
