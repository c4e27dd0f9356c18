package redistest

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Cluster is a running Redis Cluster of masters only (no replicas, to start fast), each
// master a Server with cluster-enabled yes on its own free loopback port and cluster bus port.
// Methods may be called from the test goroutine only.
type Cluster struct {
	t     testing.TB
	Nodes []*Server // in creation order; redis-cli gives them the slots in thirds (for 3)
}

// ClusterNodeTimeout is the cluster-node-timeout of StartCluster's nodes: how long a node may
// be silent before the others flag it failing and cluster_state turns fail.
const ClusterNodeTimeout = 1500 * time.Millisecond

// StartCluster starts masters redis-servers (at least 3, as redis-cli requires) with extra
// args, joins them with `redis-cli --cluster create ... --cluster-yes` (the slots split evenly)
// and waits until every node reports cluster_state:ok. A node keeps its nodes.conf across
// Server.Restart, so it rejoins with its ID and slots (and an empty dataset). Everything is
// killed when the test ends. Needs Redis 7+ (cluster-port).
func StartCluster(t testing.TB, masters int, args ...string) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatalf("redis-cli not found (install it: apt-get install -y redis-tools): %v", err)
	}
	c := &Cluster{t: t}
	addrs := make([]string, masters)
	for i := range masters {
		a := append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(ClusterNodeTimeout.Milliseconds())),
			"--cluster-port", strconv.Itoa(FreePort(t))}, args...)
		s := Start(t, a...)
		c.Nodes = append(c.Nodes, s)
		addrs[i] = s.Addr()
	}
	c.cli(append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...)
	c.WaitOK()
	return c
}

// cli runs redis-cli with args and fails the test on error; it returns the output.
func (c *Cluster) cli(args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Addrs are the nodes' addresses, in creation order.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		out[i] = s.Addr()
	}
	return out
}

// WaitOK waits up to 20 s until every running node reports cluster_state:ok and knows every
// other node.
func (c *Cluster) WaitOK() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		bad := ""
		for _, s := range c.Nodes {
			if !s.running() {
				continue
			}
			cl := goredis.NewClient(&goredis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
			info, err := cl.ClusterInfo(context.Background()).Result()
			_ = cl.Close()
			switch {
			case err != nil:
				bad = s.Addr() + ": " + err.Error()
			case !strings.Contains(info, "cluster_state:ok"):
				bad = s.Addr() + ": cluster_state not ok"
			case !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(c.Nodes))+"\r"):
				bad = s.Addr() + ": does not know every node yet"
			}
			if bad != "" {
				break
			}
		}
		if bad == "" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("cluster not ok after 20s: %s", bad)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Client returns a go-redis cluster client seeded with every node, closed when the test ends.
func (c *Cluster) Client() *goredis.ClusterClient {
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs(), Protocol: 2, DisableIdentity: true})
	c.t.Cleanup(func() { cc.Close() })
	return cc
}

// ID is node i's cluster node ID.
func (c *Cluster) ID(i int) string {
	c.t.Helper()
	id, err := c.Nodes[i].Client().Do(context.Background(), "cluster", "myid").Text()
	if err != nil {
		c.t.Fatalf("CLUSTER MYID on %s: %v", c.Nodes[i].Addr(), err)
	}
	return id
}

// Reshard moves slots slots from node from to node to with `redis-cli --cluster reshard`
// (keys migrated with MIGRATE, batches of pipeline keys) and returns once it is done.
func (c *Cluster) Reshard(from, to, slots, pipeline int) {
	c.t.Helper()
	c.cli("--cluster", "reshard", c.Nodes[from].Addr(), "--cluster-from", c.ID(from), "--cluster-to", c.ID(to),
		"--cluster-slots", strconv.Itoa(slots), "--cluster-pipeline", strconv.Itoa(pipeline), "--cluster-yes")
}
