package redis

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// clusterTestKeys is how many lists TestCluster spreads over the nodes: list:i holds i+1
// elements.
const clusterTestKeys = 30

// TestCluster runs one real 3-master cluster for every subtest, in order: the last ones
// reshard it and kill a node.
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	cc := c.Client()
	ctx := context.Background()
	var keys []config.Key
	for i := range clusterTestKeys {
		name := "list:" + strconv.Itoa(i)
		for j := 0; j <= i; j++ {
			if err := cc.RPush(ctx, name, j).Err(); err != nil {
				t.Fatal(err)
			}
		}
		keys = append(keys, keyTestExact(name, time.Second))
	}
	keys = append(keys, keyTestExact("missing:key", time.Second), keyTestPattern("list:*", time.Second, 1000))
	for _, n := range c.Nodes { // the keys really are spread: every master holds some
		if got := n.Do("dbsize").(int64); got == 0 {
			t.Fatalf("node %s holds no key; the test needs keys on every node", n.Addr())
		}
	}

	clk := testutil.NewClock(keyTestT0)
	s, w, logs := newTestInstance(t, c.Nodes[0].Addr(), func(r *config.Redis) {
		r.Cluster = true
		r.ClusterAddrs = []string{c.Nodes[1].Addr()}
		r.Keys = keys
	}, func(o *Options) { o.Clock = clk })
	sec := 0
	round := func() []tsdb.Sample { // an instance round, then the keys due, then the patterns
		t.Helper()
		sec += 10
		clk.Advance(10 * time.Second) // INFO rounds are compared by the clock's time
		s.Round(ctx, keyTestAt(sec))
		keyTestSample(t, s.keys, keyTestAt(sec))
		keyTestScan(t, s.keys, keyTestAt(sec))
		return w.take()
	}
	instance := func(samples []tsdb.Sample, name string) float64 { // the sample without a node label
		t.Helper()
		return keyTestValue(t, samples, name, "instance", "main", "node", "")
	}

	t.Run("nodes discovered and sampled", func(t *testing.T) {
		samples := round()
		snap := s.Snapshot()
		if !snap.Up || snap.Error != "" {
			t.Fatalf("snapshot up %v, error %q", snap.Up, snap.Error)
		}
		topo := snap.Topology
		if topo.Kind != KindCluster || topo.ClusterState != "ok" || topo.SlotsOK != 16384 || topo.KnownNodes != 3 || topo.Masters() != 3 {
			t.Fatalf("topology %+v", topo)
		}
		slots := 0
		for _, n := range topo.Nodes {
			if !n.Up || n.ID == "" || n.Role != "master" || n.Slots == "" {
				t.Errorf("node %+v", n)
			}
			slots += n.SlotCount
			if v := keyTestValue(t, samples, "redis_up", "node", n.Addr); v != 1 {
				t.Errorf("redis_up{node=%q} = %v", n.Addr, v)
			}
			// Per-node INFO series carry the node label.
			if len(keyTestFind(samples, "redis_memory_used_bytes", "node", n.Addr)) != 1 {
				t.Errorf("no redis_memory_used_bytes{node=%q}", n.Addr)
			}
		}
		if slots != 16384 {
			t.Errorf("nodes serve %d slots, want 16384", slots)
		}
		for _, n := range topo.Nodes { // the node's figures are its own INFO's
			dbsize := c.Nodes[0].Do("dbsize")
			for _, cn := range c.Nodes {
				if cn.Addr() == n.Addr {
					dbsize = cn.Do("dbsize")
				}
			}
			if !n.Sampled || n.LastSeen.IsZero() || n.Keys != dbsize.(int64) || n.Keys == 0 ||
				float64(n.MemoryUsedBytes) != keyTestValue(t, samples, "redis_memory_used_bytes", "node", n.Addr) ||
				float64(n.ConnectedClients) != keyTestValue(t, samples, "redis_connected_clients", "node", n.Addr) {
				t.Errorf("node %s figures %+v, dbsize %v", n.Addr, n, dbsize)
			}
			if n.Flags == "" || len(n.Conditions) != 0 {
				t.Errorf("node %s flags %q conditions %q", n.Addr, n.Flags, n.Conditions)
			}
		}
		for name, want := range map[string]float64{"redis_up": 1, "redis_cluster_state_ok": 1, "redis_cluster_masters": 3,
			"redis_cluster_known_nodes": 3, "redis_cluster_slots_ok": 16384, "redis_cluster_nodes_up": 3} {
			if got := instance(samples, name); got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		// redis_db_keys without node is the sum of the nodes' ones.
		sum := 0.0
		for _, smp := range keyTestFind(samples, "redis_db_keys", "db", "0") {
			if keyTestLabel(smp, "node") != "" {
				sum += smp.Value
			}
		}
		if got := instance(samples, "redis_db_keys"); got != clusterTestKeys || sum != clusterTestKeys {
			t.Errorf("redis_db_keys = %v, nodes' sum %v, want %d", got, sum, clusterTestKeys)
		}
		if snap.Keyspace[0].Keys != clusterTestKeys || snap.KeysWatched != clusterTestKeys+1 {
			t.Errorf("snapshot keyspace %+v, keys watched %d", snap.Keyspace, snap.KeysWatched)
		}
	})

	t.Run("node figures: clients and ops of others", func(t *testing.T) {
		// A client held open on every node and traffic on each between two rounds: each node's
		// Node shows them (redwatch's own connections and commands excluded).
		var clients []*goredis.Client
		for _, n := range c.Nodes {
			cl := n.Client()
			defer cl.Close()
			if err := cl.Ping(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			clients = append(clients, cl)
		}
		round()
		for i, cl := range clients {
			for range 50 * (i + 1) {
				if err := cl.Ping(ctx).Err(); err != nil {
					t.Fatal(err)
				}
			}
		}
		samples := round()
		for _, n := range s.Snapshot().Topology.Nodes {
			ops := keyTestValue(t, samples, "redis_ops_per_second", "node", n.Addr)
			clients := keyTestValue(t, samples, "redis_connected_clients", "node", n.Addr)
			if !n.Sampled || n.OpsPerSec <= 0 || n.OpsPerSec != ops || n.ConnectedClients < 1 || float64(n.ConnectedClients) != clients {
				t.Errorf("node %s: ops %v (series %v), clients %d (series %v)", n.Addr, n.OpsPerSec, ops, n.ConnectedClients, clients)
			}
		}
	})

	t.Run("keys on every node have their lengths", func(t *testing.T) {
		samples := round()
		for i := range clusterTestKeys {
			key := "list:" + strconv.Itoa(i)
			if got := keyTestValue(t, samples, "redis_key_length", "key", key); got != float64(i+1) {
				t.Errorf("%s length %v, want %d", key, got, i+1)
			}
			if snap := keyTestSnapshot(t, s.keys, key); !snap.Exists || snap.Error != "" {
				t.Errorf("%s snapshot %+v", key, snap)
			}
		}
		if got := keyTestValue(t, samples, "redis_key_exists", "key", "missing:key"); got != 0 {
			t.Errorf("missing:key exists = %v", got)
		}
		if got := keyTestValue(t, samples, "redis_pattern_keys", "pattern", "list:*"); got != clusterTestKeys {
			t.Errorf("redis_pattern_keys{list:*} = %v, want %d", got, clusterTestKeys)
		}
		sum := 0.0
		for i := range clusterTestKeys {
			sum += float64(i + 1)
		}
		if got := keyTestValue(t, samples, "redis_pattern_length", "pattern", "list:*"); got != sum {
			t.Errorf("redis_pattern_length{list:*} = %v, want %v", got, sum)
		}
		if ps := s.Patterns(); ps[0].Matched != clusterTestKeys || ps[0].Error != "" {
			t.Errorf("pattern snapshot %+v", ps[0])
		}
	})

	t.Run("manager runs a cluster instance", func(t *testing.T) {
		cfg := config.Redis{Name: "shop", Addr: c.Nodes[2].Addr(), Cluster: true, Interval: config.Duration(time.Second),
			Keys: []config.Key{keyTestExact("list:3", time.Second), keyTestPattern("list:*", time.Second, 5)}}
		cfg.ApplyDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		m, err := NewManager(ManagerOptions{Writer: &keyTestWriter{}}, []config.Redis{cfg})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { m.Run(ctx) })
		defer func() { cancel(); wg.Wait() }()
		testutil.Eventually(t, 10*time.Second, "instance up with 3 masters, keys and pattern sampled", func() (bool, string) {
			in, _ := m.Instance("shop")
			ks, ps := m.Keys(), m.Patterns()
			state := fmt.Sprintf("up %v, masters %d, keys %d, patterns %+v", in.Up, in.Topology.Masters(), len(ks), ps)
			if !in.Up || in.Topology.Masters() != 3 || len(ps) != 1 || ps[0].Matched != clusterTestKeys || ps[0].Tracked != 5 {
				return false, state
			}
			for _, k := range ks {
				if k.Key == "list:3" {
					return k.Exists && k.Length == 4, state
				}
			}
			return false, state
		})
	})

	t.Run("resharding loses no key sample", func(t *testing.T) {
		// Fillers make the migration take a while, so that rounds run during it.
		pipe := cc.Pipeline()
		for i := range 20000 {
			pipe.Set(ctx, "fill:"+strconv.Itoa(i), "x", 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		before := ownerSlots(s.Snapshot().Topology)
		listsOn1 := len(c.Nodes[1].Do("keys", "list:*").([]any))
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(done)
			c.Reshard(0, 1, 3000, 10)
		})
		rounds := 0
		for finished := false; !finished; rounds++ {
			select {
			case <-done:
				finished = true // one more round after the end
			default:
			}
			sec += 10
			at := keyTestAt(sec)
			if err := s.keys.sampleDue(ctx, at); err != nil {
				t.Fatalf("round %d during resharding: %v", rounds, err)
			}
			samples := w.take()
			for i := range clusterTestKeys {
				key := "list:" + strconv.Itoa(i)
				got := keyTestFind(samples, "redis_key_length", "key", key)
				if len(got) != 1 || got[0].Value != float64(i+1) {
					t.Fatalf("round %d: %s has %d length samples (%v), want one of %d", rounds, key, len(got), got, i+1)
				}
			}
			if got := keyTestValue(t, samples, "redis_key_exists", "key", "missing:key"); got != 0 {
				t.Fatalf("round %d: missing:key exists = %v", rounds, got)
			}
		}
		wg.Wait()
		round() // the instance round sees the new slot owners
		after := ownerSlots(s.Snapshot().Topology)
		if after[c.Nodes[0].Addr()] != before[c.Nodes[0].Addr()]-3000 || after[c.Nodes[1].Addr()] != before[c.Nodes[1].Addr()]+3000 {
			t.Errorf("slots before %v, after %v: want 3000 moved from node 0 to node 1", before, after)
		}
		if moved := len(c.Nodes[1].Do("keys", "list:*").([]any)) - listsOn1; moved == 0 {
			t.Errorf("no watched key moved: the resharding proves nothing")
		} else {
			t.Logf("%d key rounds during the resharding, %d watched keys moved", rounds, moved)
		}
		if rounds < 2 {
			t.Errorf("only %d rounds ran during the resharding: it proves nothing", rounds)
		}
	})

	t.Run("redwatch's own commands are not counted on the nodes", func(t *testing.T) {
		// Key rounds, pattern scans and discovery reach the nodes through trackers shared with
		// the node Samplers: between two instance rounds with only redwatch talking to the
		// cluster, no node's counters move.
		counters := []string{"redis_commands_processed_total", "redis_keyspace_hits_total", "redis_keyspace_misses_total",
			"redis_net_input_bytes_total", "redis_net_output_bytes_total"}
		values := func(samples []tsdb.Sample) map[string]float64 {
			out := map[string]float64{}
			for _, n := range c.Nodes {
				for _, name := range counters {
					out[name+"{"+n.Addr()+"}"] = keyTestValue(t, samples, name, "node", n.Addr())
				}
			}
			return out
		}
		prev := values(round())
		for range 3 {
			s.keys.patterns[0].nextScan = time.Time{} // scan again each round
			cur := values(round())
			for k, v := range cur {
				if v != prev[k] {
					t.Errorf("%s moved from %v to %v with only redwatch's commands", k, prev[k], v)
				}
			}
			prev = cur
		}
	})

	t.Run("node killed goes down and comes back", func(t *testing.T) {
		dead := c.Nodes[2]
		dead.Kill()
		samples := round()
		if got := keyTestValue(t, samples, "redis_up", "node", dead.Addr()); got != 0 {
			t.Errorf("redis_up{node=%s} = %v, want 0", dead.Addr(), got)
		}
		for _, n := range c.Nodes[:2] {
			if got := keyTestValue(t, samples, "redis_up", "node", n.Addr()); got != 1 {
				t.Errorf("redis_up{node=%s} = %v, want 1", n.Addr(), got)
			}
		}
		if got := instance(samples, "redis_up"); got != 0 {
			t.Errorf("instance redis_up = %v with a master down, want 0", got)
		}
		if len(keyTestFind(samples, "redis_db_keys", "node", "")) != 0 {
			t.Errorf("redis_db_keys summed with a master down: a partial sum")
		}
		snap := s.Snapshot()
		if snap.Up || snap.Error == "" {
			t.Errorf("snapshot up %v, error %q", snap.Up, snap.Error)
		}
		if n := topoNode(snap.Topology, dead.Addr()); n.Up || n.Error == "" || n.Sampled || n.LastSeen.IsZero() ||
			n.MemoryUsedBytes != 0 || n.Keys != 0 {
			t.Errorf("dead node %+v: want down, figures unknown, last seen kept", n)
		}
		if e := snap.Topology.Events; len(e) == 0 || e[0].Kind != "node_down" {
			t.Errorf("events %+v, want node_down first", e)
		}

		// Rounds until the node's retry backoff reaches past the next round, which would then
		// skip it.
		s.cluster.mu.Lock()
		ns := s.cluster.nodes[dead.Addr()]
		s.cluster.mu.Unlock()
		for i := 0; !ns.retryAt.After(keyTestAt(sec + 10)); i++ {
			if i == 10 {
				t.Fatalf("retry backoff never past the next round: %v", ns.retryAt)
			}
			round()
		}
		dead.Restart() // keeps nodes.conf: rejoins with its slots
		c.WaitOK()
		// The cluster no longer flags it failing: it is asked in the very next round, not
		// after its backoff.
		samples = round()
		up := keyTestFind(samples, "redis_up", "instance", "main", "node", "")
		nodeUp := keyTestFind(samples, "redis_up", "node", dead.Addr())
		if len(up) != 1 || up[0].Value != 1 || len(nodeUp) != 1 || nodeUp[0].Value != 1 {
			t.Fatalf("not serving in the round after cluster_state ok: %s", s.Snapshot().Error)
		}
		snap = s.Snapshot()
		if !snap.Up || !topoNode(snap.Topology, dead.Addr()).Up {
			t.Errorf("snapshot after restart: up %v, topology %+v", snap.Up, snap.Topology)
		}
		found := false
		for _, e := range snap.Topology.Events {
			found = found || e.Kind == "node_up"
		}
		if !found {
			t.Errorf("no node_up event in %+v", snap.Topology.Events)
		}
		if logCount(logs, "redis cluster cannot serve") != 1 || logCount(logs, "redis cluster serving") != 2 {
			t.Errorf("logs:\n%s", logs)
		}
	})
}

func ownerSlots(t Topology) map[string]int {
	out := map[string]int{}
	for _, n := range t.Nodes {
		out[n.Addr] = n.SlotCount
	}
	return out
}

func topoNode(t Topology, addr string) Node {
	for _, n := range t.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	panic(fmt.Sprintf("node %s not in the topology", addr))
}

func TestParseClusterNodes(t *testing.T) {
	text := "07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host-4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected\n" +
		"67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922\n" +
		"e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 [5461->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]\n" +
		"6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 master,fail - 1426238316232 0 5 disconnected\n" +
		"aaaa :0@0 master,noaddr - 0 0 0 disconnected\n"
	nodes, err := parseClusterNodes(text)
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, n := range nodes {
		got += fmt.Sprintf("%s %s %s %q %d %d %v|", n.addr, n.role, n.masterID, n.slots, n.count, n.slotLow, n.failing)
	}
	want := `127.0.0.1:30001 master  "0-5460" 5461 0 false|` +
		`127.0.0.1:30002 master  "5461-10922" 5462 5461 false|` +
		`127.0.0.1:30005 master  "" 0 -1 true|` +
		`127.0.0.1:30004 replica e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca "" 0 -1 false|`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []string{"abc 127.0.0.1:1@2 master", "a 127.0.0.1:1@2 master - 0 0 1 connected 9-x", "a nohost master - 0 0 1 connected"} {
		if _, err := parseClusterNodes(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestClusterScanCursor(t *testing.T) {
	for _, tc := range []struct {
		idx int
		cur uint64
	}{{0, 0}, {0, 12345}, {3, 1<<54 - 1}, {1023, 7}} {
		c, err := joinScanCursor(tc.idx, tc.cur)
		if err != nil {
			t.Fatal(err)
		}
		if i, n := splitScanCursor(c); i != tc.idx || n != tc.cur {
			t.Errorf("join(%d, %d) split back to (%d, %d)", tc.idx, tc.cur, i, n)
		}
	}
	if _, err := joinScanCursor(1024, 0); err == nil {
		t.Error("1024 masters: no error")
	}
	if _, err := joinScanCursor(0, 1<<54); err == nil {
		t.Error("a 55-bit node cursor: no error")
	}
}

// TestClusterEvents: the events a change of topology between two rounds records, newest first.
func TestClusterEvents(t *testing.T) {
	c := &clusterSampler{s: &Sampler{cfg: config.Redis{Name: "c", Addr: "a:1"}, log: slog.New(slog.DiscardHandler)}}
	at := keyTestAt(0)
	first := Topology{Kind: KindCluster, ClusterState: "ok", Nodes: []Node{
		{Addr: "a:1", Role: "master", Up: true}, {Addr: "b:1", Role: "master", Up: true},
		{Addr: "c:1", Role: "replica", MasterAddr: "b:1", Up: true}, {Addr: "d:1", Role: "replica", Up: true}}}
	c.noteEvents(at, &first, true, "")
	if len(first.Events) != 0 {
		t.Fatalf("first round events %+v, want none", first.Events)
	}
	second := Topology{Kind: KindCluster, ClusterState: "fail", Nodes: []Node{
		{Addr: "a:1", Role: "master", Up: true}, {Addr: "b:1", Role: "master", Up: false, Error: "connection refused"},
		{Addr: "c:1", Role: "master", Up: true}, {Addr: "e:1", Role: "replica", Up: true}}}
	c.noteEvents(at.Add(time.Second), &second, false, "cluster_state is fail")
	var got []string
	for _, e := range second.Events {
		got = append(got, e.Kind+": "+e.Text)
	}
	want := []string{
		"state: cluster_state ok -> fail",
		"node_removed: node d:1 (replica) removed",
		"node_added: node e:1 added as replica",
		"failover: failover: c:1 is master (was replica of b:1)",
		"node_down: node b:1 (master) down: connection refused",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
