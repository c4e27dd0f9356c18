package web

import (
	"strings"
	"testing"
	"time"
)

// /redis/{name}: the Sentinel view, the Cluster nodes table with a down master, the events
// newest first; no panel for a standalone instance.
func TestRedisInstanceTopologyPanel(t *testing.T) {
	t.Parallel()
	e := newSnapshotEnv(t)
	e.fill()
	e.redis.set(append(e.redis.Instances(), topologySnapshots(time.Now())...), nil, nil)
	c := e.login("viewer", viewerPass)
	get := func(name string) string {
		t.Helper()
		res, body := e.do(c, "GET", "/redis/"+name, nil, "Accept: text/html")
		if res.StatusCode != 200 {
			t.Fatalf("/redis/%s: %d", name, res.StatusCode)
		}
		return body
	}
	if n := len(find(parse(t, get("cache")), "topology")); n != 0 {
		t.Fatalf("standalone page has %d topology panels", n)
	}

	doc := parse(t, get("sent"))
	panel := one(t, doc, "topology")
	if attr(panel, "data-kind") != "sentinel" {
		t.Fatalf("kind %q", attr(panel, "data-kind"))
	}
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for id, want := range map[string]string{
		"topology-master":    "mymaster at 127.0.0.1:7001",
		"topology-sentinels": "2 of 3 up",
		"topology-quorum":    "ok (2)",
	} {
		if got := norm(text(one(t, panel, id))); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := norm(text(one(t, panel, "topology-failovers"))); !strings.HasPrefix(got, "1 (last 1m") {
		t.Errorf("failovers = %q", got)
	}
	sents := find(panel, "topology-sentinel")
	if len(sents) != 3 || attr(sents[2], "data-up") != "false" || !strings.Contains(text(sents[2]), "connection refused") {
		t.Errorf("sentinels: %d", len(sents))
	}
	nodes := find(panel, "topology-node")
	if len(nodes) != 3 {
		t.Fatalf("sentinel nodes: %d", len(nodes))
	}
	if got := find(panel, "node-slots"); len(got) != 0 { // Sentinel has no slots: no column of dashes
		t.Errorf("sentinel nodes have %d slot cells", len(got))
	}
	// Sentinel's flags in words, not "slave,s_down,disconnected".
	if got := norm(text(one(t, nodes[2], "node-state"))); got != "down, link down, subjectively down, disconnected" {
		t.Errorf("flagged replica state %q", got)
	}
	if got := norm(text(one(t, nodes[1], "node-state"))); got != "up, link up" {
		t.Errorf("replica state %q", got)
	}
	if got := text(one(t, nodes[1], "node-role")); got != "replica" {
		t.Errorf("replica role %q", got)
	}
	// The master's figures are its INFO's; the replicas redwatch does not sample show none.
	for id, want := range map[string]string{"node-ops": "120", "node-clients": "7", "node-keys": "42"} {
		if got := text(one(t, nodes[0], id)); got != want {
			t.Errorf("master %s = %q, want %q", id, got, want)
		}
	}
	for _, n := range nodes[1:] {
		for _, id := range []string{"node-memory", "node-ops", "node-clients", "node-keys"} {
			if got := text(one(t, n, id)); got != "—" {
				t.Errorf("unsampled replica %s %s = %q, want —", attr(n, "data-addr"), id, got)
			}
		}
	}

	doc = parse(t, get("clu"))
	panel = one(t, doc, "topology")
	if got := text(one(t, panel, "topology-cluster-state")); got != "fail" {
		t.Errorf("cluster state %q", got)
	}
	if got := norm(text(one(t, panel, "topology-slots"))); got != "10923 of 16384" {
		t.Errorf("slots %q", got)
	}
	nodes = find(panel, "topology-node")
	if len(nodes) != 3 {
		t.Fatalf("cluster nodes: %d", len(nodes))
	}
	if attr(nodes[1], "data-up") != "false" || !strings.Contains(text(one(t, nodes[1], "node-state")), "connection refused") || text(one(t, nodes[1], "node-slots")) != "5461-10922" {
		t.Errorf("down master row: %q", norm(text(nodes[1])))
	}
	if got := text(one(t, nodes[0], "node-keys")); got != "10,000" && got != "10000" && got != "10 000" {
		t.Errorf("node keys %q", got)
	}
	// A master down this round: no figures (not 0), when it was last seen, "failing" in words.
	for _, id := range []string{"node-memory", "node-ops", "node-clients", "node-keys"} {
		if got := text(one(t, nodes[1], id)); got != "—" {
			t.Errorf("down master %s = %q, want —", id, got)
		}
	}
	if got := norm(text(one(t, nodes[1], "node-state"))); !strings.Contains(got, "failing") || !strings.Contains(got, "last seen 1m") {
		t.Errorf("down master state %q", got)
	}
	var kinds []string
	for _, ev := range find(panel, "topology-event") {
		kinds = append(kinds, attr(ev, "data-kind"))
	}
	if strings.Join(kinds, ",") != "node_down,node_added" {
		t.Errorf("events %v, want newest first", kinds)
	}
}
