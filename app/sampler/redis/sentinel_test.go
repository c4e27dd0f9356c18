package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/internal/testutil"
)

// TestSentinelFollowsFailover: an instance watched through three real sentinels samples the
// master and a watched key; once the master is killed and the sentinels promote a replica,
// redwatch reports the new master (Addr, Topology, failover counter and event, one log line)
// within one interval plus a timeout, and the key's samples continue under instance "main".
func TestSentinelFollowsFailover(t *testing.T) {
	set := redistest.StartSentinelSet(t, redistest.SentinelOptions{})
	set.Master.Do("rpush", "q", "a", "b", "c")
	set.Master.Do("wait", 2, 2000) // on both replicas before the master dies

	s, w, logs := newTestInstance(t, "", func(r *config.Redis) {
		r.SentinelAddrs = set.SentinelAddrs()
		r.MasterName = set.MasterName
		r.Keys = []config.Key{{Key: "q", Interval: config.Duration(time.Second)}}
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	old := set.Master.Addr()
	testutil.Eventually(t, 5*time.Second, "the master sampled through Sentinel", func() (bool, string) {
		snap := s.Snapshot()
		tp := snap.Topology
		n := len(keyTestFind(w.take(), "redis_key_length", "instance", "main", "key", "q"))
		return snap.Up && snap.Addr == old && tp.Kind == KindSentinel && tp.MasterAddr == old && len(tp.Sentinels) == 3 &&
				tp.Quorum == 2 && tp.QuorumKnown && tp.QuorumOK && len(tp.Nodes) == 3 && n > 0,
			fmt.Sprintf("up %v addr %q, topology %+v, %d key samples", snap.Up, snap.Addr, tp, n)
	})
	for _, sn := range s.Snapshot().Topology.Sentinels {
		if !sn.Up {
			t.Fatalf("sentinel %s down: %s", sn.Addr, sn.Error)
		}
	}
	checkSentinelNodes(t, s.Snapshot(), old, "")

	set.Master.Kill()
	killed := time.Now()
	addr := set.WaitFailover(old, 15*time.Second)
	failedOver := time.Since(killed)
	// One interval (1s) plus one round's timeout, and one retry (1s: the backoff starts
	// afresh at a failover) should the first INFO still reach the old master, with some slack
	// for a loaded machine.
	testutil.Eventually(t, 5*time.Second, "redwatch on the new master", func() (bool, string) {
		snap := s.Snapshot()
		tp := snap.Topology
		ok := snap.Up && snap.Addr == addr && tp.MasterAddr == addr && tp.Failovers == 1 && !tp.LastFailover.IsZero() &&
			len(tp.Events) == 1 && tp.Events[0].Kind == "failover" &&
			tp.Events[0].Text == "failover: master "+old+" -> "+addr
		return ok, fmt.Sprintf("up %v addr %q (want %s), topology %+v", snap.Up, snap.Addr, addr, tp)
	})
	t.Logf("sentinels failed over in %s; redwatch followed %s after the kill", failedOver, time.Since(killed))
	// What follows is not timed against the failover: a loaded CI machine got one key round
	// in 3 s here, so it waits up to 10 s.
	testutil.Eventually(t, 10*time.Second, "the new master's figures", func() (bool, string) {
		snap := s.Snapshot()
		return snap.Topology.Nodes[0].Sampled, fmt.Sprintf("%+v", snap.Topology.Nodes)
	})
	checkSentinelNodes(t, s.Snapshot(), addr, old)
	if n := set.Server(addr).Do("llen", "q"); n != int64(3) {
		t.Fatalf("LLEN q on the new master = %v", n)
	}
	fo := -1.0
	testutil.Eventually(t, 10*time.Second, "key samples from the new master", func() (bool, string) {
		ks := s.Keys()
		if got := keyTestFind(w.take(), "redis_sentinel_failovers_total", "instance", "main"); len(got) > 0 {
			fo = got[len(got)-1].Value
		}
		return len(ks) == 1 && ks[0].Length == 3 && ks[0].LastSampled.After(killed) && fo == 1,
			fmt.Sprintf("keys %+v, failovers_total %v", ks, fo)
	})
	// The key's series keep their labels (instance, db, key, type): nothing names the node.
	set.Server(addr).Do("rpush", "q", "d")
	testutil.Eventually(t, 10*time.Second, "the new length", func() (bool, string) {
		got := keyTestFind(w.take(), "redis_key_length", "instance", "main", "key", "q")
		return len(got) > 0 && got[len(got)-1].Value == 4 && len(got[len(got)-1].Labels) == 4, fmt.Sprintf("%+v", got)
	})
	if n := logCount(logs, "sentinel failover"); n != 1 {
		t.Fatalf("%d failover log lines, want 1:\n%s", n, logs)
	}
}

// checkSentinelNodes: the master's Node carries the figures of the instance's INFO (what
// redwatch sampled); the replicas, which redwatch does not sample, have none (Sampled false,
// zero figures) and come sorted by address; only a former master (sampled before) has a last
// seen.
func checkSentinelNodes(t *testing.T, snap InstanceSnapshot, master, former string) {
	t.Helper()
	nodes := snap.Topology.Nodes
	m := nodes[0]
	var keys int64
	for _, d := range snap.Keyspace {
		keys += d.Keys
	}
	if m.Addr != master || m.Role != "master" || !m.Sampled || !m.Up || m.LastSeen != snap.LastSeen || former == "" && m.RunID == "" ||
		m.MemoryUsedBytes != snap.MemoryUsedBytes || m.MemoryUsedBytes == 0 || m.Keys != keys || keys == 0 ||
		m.OpsPerSec != snap.OpsPerSec || m.ConnectedClients != snap.ConnectedClients {
		t.Errorf("master node %+v, want the figures of snapshot %+v", m, snap)
	}
	for i, n := range nodes[1:] {
		if n.Role != "replica" || n.Sampled || n.LastSeen.IsZero() != (n.Addr != former) || n.MemoryUsedBytes != 0 || n.Keys != 0 {
			t.Errorf("replica %+v: want not sampled", n)
		}
		if i > 0 && nodes[i].Addr > n.Addr {
			t.Errorf("replicas not sorted: %s before %s", nodes[i].Addr, n.Addr)
		}
	}
}

// TestSentinelUnreachable: with no sentinel answering, the topology names no master and says
// why per sentinel, redis_sentinel_master_up and redis_sentinel_sentinels are 0, no failover is
// counted, and the master stays sampled on the connection already open.
func TestSentinelUnreachable(t *testing.T) {
	set := redistest.StartSentinelSet(t, redistest.SentinelOptions{Replicas: -1, Sentinels: 1, Quorum: 1})
	s, w, _ := newTestInstance(t, "", func(r *config.Redis) {
		r.SentinelAddrs = set.SentinelAddrs()
		r.MasterName = set.MasterName
	}, nil)
	ctx := context.Background()
	s.Round(ctx, time.Now())
	if tp := s.Snapshot().Topology; tp.MasterAddr != set.Master.Addr() || !s.Up() || len(tp.Nodes) != 1 {
		t.Fatalf("first round: up %v, topology %+v", s.Up(), tp)
	}
	set.Sentinels[0].Kill()
	w.take()
	s.Round(ctx, time.Now())
	snap := s.Snapshot()
	tp := snap.Topology
	if tp.MasterAddr != "" || len(tp.Sentinels) != 1 || tp.Sentinels[0].Up || tp.Sentinels[0].Error == "" {
		t.Fatalf("sentinel killed: topology %+v", tp)
	}
	if snap.Addr != set.Master.Addr() || !snap.Up {
		t.Fatalf("the master is still sampled on its pooled connection: addr %q up %v", snap.Addr, snap.Up)
	}
	samples := w.take()
	for _, name := range []string{"redis_sentinel_master_up", "redis_sentinel_sentinels", "redis_sentinel_failovers_total"} {
		if v := keyTestValue(t, samples, name, "instance", "main"); v != 0 {
			t.Fatalf("%s = %v, want 0", name, v)
		}
	}
	if got := keyTestFind(samples, "redis_sentinel_quorum_ok"); len(got) != 0 {
		t.Fatalf("quorum_ok written while unknown: %+v", got)
	}
}
