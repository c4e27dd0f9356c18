package app

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/sampler/redis"
)

// Sentinel and Cluster instances: /health/redis/{name}/ says the deployment, is 503 exactly
// when the sampler says the instance cannot serve, and ?verbose carries the per-node detail;
// a standalone instance's answer has no trace of it.
func TestTopologyHealth(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	seen := now.Add(-5 * time.Second)
	sentinel := redis.Topology{
		Kind: redis.KindSentinel, MasterName: "mymaster", MasterAddr: "127.0.0.1:7001",
		Failovers: 1, LastFailover: now.Add(-time.Minute), Quorum: 2, QuorumOK: true, QuorumKnown: true,
		Sentinels: []redis.SentinelNode{{Addr: "127.0.0.1:26379", Up: true}, {Addr: "127.0.0.1:26380", Error: "connection refused"}},
		Nodes: []redis.Node{
			{Addr: "127.0.0.1:7001", Role: "master", Up: true, LastSeen: seen},
			{Addr: "127.0.0.1:7002", Role: "replica", Up: true, LastSeen: seen, MasterLinkUp: true},
		},
	}
	cluster := redis.Topology{
		Kind: redis.KindCluster, ClusterState: "fail", SlotsAssigned: 16384, SlotsOK: 10923, KnownNodes: 3,
		Nodes: []redis.Node{
			{Addr: "127.0.0.1:7101", Role: "master", Slots: "0-5460", SlotCount: 5461, Up: true, LastSeen: seen},
			{Addr: "127.0.0.1:7102", Role: "master", Slots: "5461-10922", SlotCount: 5462, Error: "dial tcp 127.0.0.1:7102: connection refused", LastSeen: seen.Add(-time.Minute)},
			{Addr: "127.0.0.1:7103", Role: "master", Slots: "10923-16383", SlotCount: 5461, Up: true, LastSeen: seen},
		},
	}
	targets := []health.Target{
		{Kind: "redis", Name: "sent", Up: true, LastSeen: seen, LastRunAt: seen, Interval: 10 * time.Second, Topology: topologyStatus(sentinel)},
		{Kind: "redis", Name: "clu", Up: false, Error: "cluster_state fail; master 127.0.0.1:7102 down", LastSeen: seen, LastRunAt: seen, Interval: 10 * time.Second, Topology: topologyStatus(cluster)},
		{Kind: "redis", Name: "solo", Up: true, LastSeen: seen, LastRunAt: seen, Interval: 10 * time.Second, Topology: topologyStatus(redis.Topology{Kind: redis.KindStandalone})},
	}
	c := &health.Checker{Started: now.Add(-time.Hour), Now: func() time.Time { return now }, Targets: func() []health.Target { return targets }}

	get := func(name string, verbose bool) (int, string, map[string]any) {
		t.Helper()
		r, ok := c.Target("redis", name, verbose)
		if !ok {
			t.Fatalf("%s: not found", name)
		}
		b, err := json.Marshal(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return r.Code, string(b), m
	}

	code, body, m := get("sent", false)
	if code != http.StatusOK || m["deployment"] != "sentinel" || m["topology"] != nil {
		t.Fatalf("sentinel: %d %s, want 200, deployment sentinel, no topology without verbose", code, body)
	}
	code, body, m = get("sent", true)
	top, _ := m["topology"].(map[string]any)
	sents, _ := top["sentinels"].([]any)
	nodes, _ := top["nodes"].([]any)
	if code != http.StatusOK || top["kind"] != "sentinel" || top["master_name"] != "mymaster" || top["master_addr"] != "127.0.0.1:7001" ||
		top["quorum"] != 2.0 || top["quorum_ok"] != true || top["failovers"] != 1.0 || top["last_failover"] != "2026-12-02T07:59:00Z" ||
		len(sents) != 2 || len(nodes) != 2 || top["cluster_state"] != nil {
		t.Fatalf("sentinel verbose: %d %s", code, body)
	}
	if s1 := sents[1].(map[string]any); s1["status"] != "down" || s1["error"] != "connection refused" {
		t.Fatalf("sentinel down: %v", s1)
	}

	code, body, m = get("clu", true)
	top, _ = m["topology"].(map[string]any)
	nodes, _ = top["nodes"].([]any)
	if code != http.StatusServiceUnavailable || m["status"] != "down" || m["deployment"] != "cluster" || top["cluster_state"] != "fail" ||
		top["masters"] != 3.0 || top["masters_up"] != 2.0 || top["slots_ok"] != 10923.0 || top["slots_assigned"] != 16384.0 || len(nodes) != 3 || top["master_name"] != nil {
		t.Fatalf("cluster verbose: %d %s, want 503 with the detail", code, body)
	}
	n1 := nodes[1].(map[string]any)
	if n1["addr"] != "127.0.0.1:7102" || n1["status"] != "down" || n1["role"] != "master" || n1["slots"] != "5461-10922" ||
		n1["error"] != "dial tcp 127.0.0.1:7102: connection refused" || n1["last_seen"] != "2026-12-02T07:58:55Z" {
		t.Fatalf("cluster down node: %v", n1)
	}

	// Standalone: byte-identical to what it always was.
	_, body, _ = get("solo", true)
	if want := `{"interval_seconds":10,"kind":"redis","last_run":"2026-12-02T07:59:55Z","last_seen":"2026-12-02T07:59:55Z","latency_ms":0,"name":"solo","status":"up","timestamp":"2026-12-02T08:00:00Z"}`; body != want {
		t.Fatalf("standalone verbose:\n got %s\nwant %s", body, want)
	}

	// /health/targets: the cluster makes it degraded; verbose carries each topology.
	tr := c.TargetsReport(true)
	if tr.Code != http.StatusServiceUnavailable || tr.Body.Down != 1 || tr.Body.Targets[0].Topology == nil || tr.Body.Targets[2].Topology != nil {
		t.Fatalf("targets: %d %+v", tr.Code, tr.Body)
	}
	if tr = c.TargetsReport(false); tr.Body.Targets[1].Deployment != "cluster" || tr.Body.Targets[1].Topology != nil {
		t.Fatalf("targets, not verbose: %+v", tr.Body.Targets[1])
	}
}
