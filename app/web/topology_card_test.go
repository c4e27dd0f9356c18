package web

import (
	"strings"
	"testing"
	"time"
)

// The overview card says how a Sentinel or Cluster instance is deployed, and how many
// masters are up when not all; a standalone card has no such badge.
func TestOverviewCardTopology(t *testing.T) {
	t.Parallel()
	e, _ := newLatestEnv(t)
	e.fill()
	e.redis.set(append(e.redis.Instances(), topologySnapshots(time.Now())...), nil, nil)
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("GET /: %d", res.StatusCode)
	}
	got := map[string]string{}
	for _, card := range find(parse(t, body), "instance-card") {
		name := strings.TrimSpace(text(one(t, card, "instance-name")))
		if b := find(card, "instance-topology"); len(b) == 1 {
			got[name] = strings.TrimSpace(text(b[0]))
		} else if len(b) > 1 {
			t.Fatalf("%s: %d topology badges", name, len(b))
		}
	}
	want := map[string]string{"sent": "sentinel", "clu": "cluster, 2 of 3 masters up"}
	if len(got) != len(want) || got["sent"] != want["sent"] || got["clu"] != want["clu"] {
		t.Fatalf("topology badges %v, want %v (none for cache and down)", got, want)
	}
	for _, tc := range []struct {
		up   bool
		want string
	}{{true, "cluster, 3 masters"}, {false, "cluster, 2 of 3 masters up"}} {
		top := topologySnapshots(time.Now())[1].Topology
		top.Nodes[1].Up = tc.up
		if s := topologyText(top); s != tc.want {
			t.Errorf("topologyText (node up %v) = %q, want %q", tc.up, s, tc.want)
		}
	}
}
