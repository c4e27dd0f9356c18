package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/internal/clock"
	"github.com/redwatch/redwatch/tsdb"
)

// clusterSampler is the Cluster side of a Sampler built from a [[redis]] with cluster = true.
// Each instance round (Sampler.Round) does, in order:
//
//  1. Discovery: CLUSTER INFO and CLUSTER NODES pipelined on one node (the one that answered
//     last, else a node that is up, else any known node, else each seed in turn), so nodes
//     added, removed or failed over are picked up within one interval, without restart.
//  2. The node set follows what was discovered: every node gets a node Sampler (a standalone
//     Sampler at the node's address, no keys, its slowlog in memory), whose samples carry the
//     extra label node="host:port" (nodeWriter); gone nodes' samplers are closed.
//  3. Every node's instance round (PING, then INFO, CLIENT LIST, SLOWLOG, LATENCY pipelined),
//     all nodes in parallel, each with its own retry backoff while down.
//  4. The instance's own series, without a node label: redis_up (the cluster can serve:
//     cluster_state ok and every master serving slots reached), redis_cluster_*, and the sums
//     redis_db_keys / redis_db_keys_expiring over the masters; then the snapshot and its
//     Topology, with events for nodes added, removed, down, up, failovers and state changes.
//
// Keys go through one go-redis ClusterClient (clusterKeys), whose connection to a node counts
// in that node's ownTracker, shared with the node Sampler: what redwatch sends to a node for
// keys and patterns is subtracted from that node's INFO counters like its own round.
//
// The round goroutine owns everything but nodes (guarded by mu: close may run concurrently)
// and trackers (guarded by trackersMu: go-redis makes node clients from its own goroutines).
type clusterSampler struct {
	s     *Sampler // the instance: cfg, writer, logger, clock, up, snapshot
	opts  Options  // what node Samplers are built from
	base  *slog.Logger
	seeds []string
	cc    *goredis.ClusterClient

	pipelines atomic.Int64 // pipelines and commands the key client sent to nodes (one per node per Exec)

	trackersMu sync.Mutex
	trackers   map[string]*ownTracker // by node address

	mu     sync.Mutex
	nodes  map[string]*Sampler // by node address
	closed bool

	// Round goroutine only.
	lastFrom   string       // the node that answered the last discovery
	view       *clusterView // the last discovery that succeeded; nil: none yet
	prevTopo   Topology
	seenTopo   bool // prevTopo is a real round's topology (no events before the first)
	events     []TopologyEvent
	serving    bool
	downLogged bool
}

// newCluster builds the Sampler of a cluster instance; it connects lazily, like New.
func newCluster(opts Options) (*Sampler, error) {
	cfg := opts.Config
	base := opts.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}
	if opts.Writer == nil {
		return nil, errors.New("cannot create redis sampler: Writer is nil")
	}
	copts, err := clientOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot set up redis %q: %w", cfg.Name, err)
	}
	sl, _ := newSlowlogStore("", slowlogKept) // the nodes' merged view, never a file
	s := &Sampler{cfg: cfg, slowlog: sl, w: opts.Writer, log: base.With("instance", cfg.Name),
		own: &ownTracker{}, clock: clock.OrReal(opts.Clock)}
	c := &clusterSampler{s: s, opts: opts, base: base,
		seeds:    append([]string{cfg.Addr}, cfg.ClusterAddrs...),
		trackers: map[string]*ownTracker{}, nodes: map[string]*Sampler{}}
	c.cc = goredis.NewClusterClient(c.clusterOptions(copts))
	s.cluster = c
	s.keys = newKeySampler(keyOptions{
		Instance:       cfg.Name,
		DB:             0,
		Client:         clusterKeys{cc: c.cc},
		Keys:           cfg.Keys,
		MemoryInterval: cfg.KeyMemoryInterval.Std(),
		MemorySamples:  cfg.KeyMemorySamples,
		Timeout:        cfg.Timeout.Std(),
		Writer:         opts.Writer,
		Logger:         base,
		Up:             s.up.Load,
		Clock:          s.clock,
	})
	s.snap = InstanceSnapshot{Name: cfg.Name, Addr: cfg.Addr, Interval: cfg.Interval.Std(), Mode: "cluster",
		Topology: Topology{Kind: KindCluster}}
	return s, nil
}

// clusterOptions maps the instance's client options (clientOptions) to the key client's: the
// same credentials, timeouts, pool and TLS, redirects followed up to clusterMaxRedirects, the
// slot map reloaded at least every interval (and at once on MOVED), and node clients made by
// newNodeClient.
func (c *clusterSampler) clusterOptions(o *goredis.Options) *goredis.ClusterOptions {
	return &goredis.ClusterOptions{
		Addrs:                      c.seeds,
		NewClient:                  c.newNodeClient,
		MaxRedirects:               clusterMaxRedirects,
		OnConnect:                  c.s.onConnect,
		Protocol:                   o.Protocol,
		Username:                   o.Username,
		Password:                   o.Password,
		MaxRetries:                 -1,
		DialTimeout:                o.DialTimeout,
		DialerRetries:              o.DialerRetries,
		ReadTimeout:                o.ReadTimeout,
		WriteTimeout:               o.WriteTimeout,
		ContextTimeoutEnabled:      true,
		PoolSize:                   o.PoolSize,
		PoolTimeout:                o.PoolTimeout,
		MaxIdleConns:               o.MaxIdleConns,
		PipelinePoolSize:           o.PipelinePoolSize,
		TLSConfig:                  o.TLSConfig,
		DisableIdentity:            true,
		ClusterStateReloadInterval: c.s.cfg.Interval.Std(),
	}
}

// clusterMaxRedirects is how many MOVED / ASK redirects one command or pipeline may follow
// (go-redis's default is 3; a resharding moving many slots at once may need more).
const clusterMaxRedirects = 8

// newNodeClient makes the key client's client of one node: its connections and commands count
// in the node's ownTracker, TLS verifies the node's own host name, and slow commands are logged
// like the instance's.
func (c *clusterSampler) newNodeClient(opt *goredis.Options) *goredis.Client {
	tr := c.trackerFor(opt.Addr)
	if opt.TLSConfig != nil {
		t := opt.TLSConfig.Clone()
		t.ServerName, _, _ = net.SplitHostPort(opt.Addr)
		opt.TLSConfig = t
	}
	opt.Dialer = tr.dialer(goredis.NewDialer(opt))
	cl := goredis.NewClient(opt)
	cl.AddHook(tr)
	cl.AddHook(pipelineCounter{n: &c.pipelines})
	if c.opts.SlowCommand > 0 {
		slow := c.opts.SlowLogger
		if slow == nil {
			slow = c.base
		}
		cl.AddHook(slowHook{threshold: c.opts.SlowCommand, log: slow.With("instance", c.s.cfg.Name, "node", opt.Addr)})
	}
	return cl
}

// trackerFor returns the ownTracker of the node at addr, making it. Safe for concurrent use.
func (c *clusterSampler) trackerFor(addr string) *ownTracker {
	c.trackersMu.Lock()
	defer c.trackersMu.Unlock()
	tr := c.trackers[addr]
	if tr == nil {
		tr = &ownTracker{}
		c.trackers[addr] = tr
	}
	return tr
}

// NodePipelines counts the pipelines (and single commands) the key client has sent to nodes:
// a key round touching three masters sends three per batch.
func (s *Sampler) NodePipelines() int64 {
	if s.cluster == nil {
		return s.keys.RoundTrips()
	}
	return s.cluster.pipelines.Load()
}

// pipelineCounter counts what a node client sends.
type pipelineCounter struct{ n *atomic.Int64 }

func (h pipelineCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h pipelineCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h pipelineCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// nodeWriter adds node="host:port" to every sample of a node Sampler.
type nodeWriter struct {
	w    Writer
	node string
}

func (w nodeWriter) Write(samples []tsdb.Sample) error {
	for i := range samples {
		l := samples[i].Labels
		samples[i].Labels = append(l[:len(l):len(l)], tsdb.Label{Name: "node", Value: w.node}) // copies: labels may be shared
		// A Ref was for the series without the node label.
		samples[i].Ref = nil
	}
	return w.w.Write(samples)
}

// newNode builds the node Sampler of addr: the instance's configuration at the node's address,
// without keys (the instance's key sampler has them) and with the node's shared tracker.
func (c *clusterSampler) newNode(addr string) (*Sampler, error) {
	cfg := c.s.cfg
	cfg.Addr, cfg.Cluster, cfg.ClusterAddrs, cfg.Keys = addr, false, nil, nil
	o := c.opts
	o.Config, o.DataDir, o.own = cfg, "", c.trackerFor(addr)
	o.Writer = nodeWriter{w: c.s.w, node: addr}
	o.Logger = c.base.With("node", addr)
	if o.SlowLogger != nil {
		o.SlowLogger = o.SlowLogger.With("node", addr)
	}
	return New(o)
}

// round is the cluster's instance round (see clusterSampler). A round cut short by ctx
// records nothing.
func (c *clusterSampler) round(ctx context.Context, now time.Time) {
	t0 := time.Now() // a stopwatch: real time, whatever the clock
	view, derr := c.discover(ctx)
	if ctx.Err() != nil {
		return
	}
	if derr == nil {
		c.view, c.lastFrom = view, view.from
		c.follow(ctx, view)
	}
	c.mu.Lock()
	nodes := make([]*Sampler, 0, len(c.nodes))
	for _, n := range c.nodes {
		nodes = append(nodes, n)
	}
	if derr == nil {
		// A down node the cluster no longer flags failing is back: ask it this round rather
		// than after its retry backoff (up to maxRetryBackoff), or the instance would read
		// down for that long while the cluster serves. retryAt is written by n.Round only,
		// which runs below, on this goroutine.
		for _, nl := range view.nodes {
			if n := c.nodes[nl.addr]; n != nil && !nl.failing && !n.Up() {
				n.retryAt = time.Time{}
			}
		}
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() { n.Round(ctx, now) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	samples, snap := c.summarise(now, derr)
	c.s.up.Store(snap.Up)
	c.s.write(samples)
	c.s.mu.Lock()
	c.s.snap = snap
	c.s.lastDuration = time.Since(t0)
	c.s.mu.Unlock()
}

// discover asks one node for CLUSTER INFO and CLUSTER NODES: the last one that answered first,
// then the known nodes that are up, then the others, then the seeds that are not known nodes.
func (c *clusterSampler) discover(ctx context.Context) (*clusterView, error) {
	c.mu.Lock()
	var up, down []string
	for addr, n := range c.nodes {
		if addr == c.lastFrom {
			continue
		}
		if n.Up() {
			up = append(up, addr)
		} else {
			down = append(down, addr)
		}
	}
	known := func(addr string) *goredis.Client {
		if n := c.nodes[addr]; n != nil {
			return n.client
		}
		return nil
	}
	c.mu.Unlock()
	sort.Strings(up)
	sort.Strings(down)
	order := append(append([]string{c.lastFrom}, up...), down...)
	var errs []error
	for _, addr := range order {
		c.mu.Lock()
		cl := known(addr)
		c.mu.Unlock()
		if cl == nil {
			continue
		}
		v, err := c.ask(ctx, cl, addr)
		if err == nil || ctx.Err() != nil {
			return v, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
	}
	for _, addr := range c.seeds {
		c.mu.Lock()
		isKnown := c.nodes[addr] != nil
		c.mu.Unlock()
		if isKnown {
			continue // asked above
		}
		cfg := c.s.cfg
		cfg.Addr = addr
		o, err := clientOptions(cfg)
		if err != nil {
			return nil, err
		}
		o.OnConnect = c.s.onConnect
		cl := goredis.NewClient(o)
		v, err := c.ask(ctx, cl, addr)
		_ = cl.Close()
		if err == nil || ctx.Err() != nil {
			return v, err
		}
		errs = append(errs, fmt.Errorf("seed %s: %w", addr, err))
	}
	return nil, fmt.Errorf("no cluster node answered: %w", errors.Join(errs...))
}

// ask sends CLUSTER INFO and CLUSTER NODES to one node in one round trip.
func (c *clusterSampler) ask(ctx context.Context, cl *goredis.Client, addr string) (*clusterView, error) {
	ctx, cancel := context.WithTimeout(ctx, c.s.cfg.Timeout.Std())
	defer cancel()
	pipe := cl.Pipeline()
	infoCmd := pipe.ClusterInfo(ctx)
	nodesCmd := pipe.ClusterNodes(ctx)
	_, _ = pipe.Exec(ctx) // errors are per command
	text, err := infoCmd.Result()
	if err != nil {
		return nil, describe(err)
	}
	v := &clusterView{from: addr}
	if err := parseClusterInfo(text, v); err != nil {
		return nil, err
	}
	text, err = nodesCmd.Result()
	if err != nil {
		return nil, describe(err)
	}
	if v.nodes, err = parseClusterNodes(text); err != nil {
		return nil, err
	}
	return v, nil
}

// follow makes the node set the view's: a node Sampler for each new node, the gone ones
// closed; when the set or the slot owners changed, the key client reloads its slot map now
// rather than on its next MOVED.
func (c *clusterSampler) follow(ctx context.Context, v *clusterView) {
	want := make(map[string]bool, len(v.nodes))
	changed := false
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, nl := range v.nodes {
		want[nl.addr] = true
		if c.nodes[nl.addr] != nil {
			continue
		}
		n, err := c.newNode(nl.addr)
		if err != nil {
			c.s.log.Warn("cannot watch cluster node", "node", nl.addr, "error", err)
			continue
		}
		c.nodes[nl.addr] = n
		changed = true
	}
	for addr, n := range c.nodes {
		if !want[addr] {
			_ = n.Close()
			delete(c.nodes, addr)
			changed = true
		}
	}
	if changed || slotOwnersChanged(c.prevTopo, v) {
		c.cc.ReloadState(ctx)
	}
}

// slotOwnersChanged reports whether a master's slots differ from the previous topology's.
func slotOwnersChanged(prev Topology, v *clusterView) bool {
	was := map[string]string{}
	for _, n := range prev.Nodes {
		if n.Role == "master" {
			was[n.Addr] = n.Slots
		}
	}
	for _, n := range v.nodes {
		if n.role == "master" && was[n.addr] != n.slots {
			return true
		}
	}
	return false
}

// summarise builds the instance's samples and snapshot after its nodes' rounds. derr is the
// discovery's error (nil: c.view is this round's).
func (c *clusterSampler) summarise(now time.Time, derr error) ([]tsdb.Sample, InstanceSnapshot) {
	s := c.s
	ts := now.UnixMilli()
	prev := s.Snapshot()
	snap := InstanceSnapshot{Name: s.cfg.Name, Addr: s.cfg.Addr, Interval: s.cfg.Interval.Std(), Mode: "cluster",
		LastRunAt: now, LastSeen: prev.LastSeen, Role: "master"}
	topo := Topology{Kind: KindCluster}
	c.mu.Lock()
	nodes := make(map[string]*Sampler, len(c.nodes))
	for a, n := range c.nodes {
		nodes[a] = n
	}
	c.mu.Unlock()

	var reason string
	if derr != nil {
		reason = derr.Error()
	}
	fresh := derr == nil && c.view != nil
	if fresh {
		v := c.view
		topo.ClusterState, topo.SlotsAssigned, topo.SlotsOK, topo.KnownNodes = v.state, v.slotsAssigned, v.slotsOK, v.knownNodes
	}
	addrOf := map[string]string{}
	var lines []clusterNodeLine
	if c.view != nil {
		lines = c.view.nodes
		for _, nl := range lines {
			addrOf[nl.id] = nl.addr
		}
	}
	masters, mastersUp, nodesUp := 0, 0, 0
	keys := map[int]*DBKeys{}
	commands := map[string]*CommandStat{}
	var slow []SlowlogEntry
	versionFromMaster := false // the snapshot's Version: a master's when one answered
	for _, nl := range lines {
		nd := Node{ID: nl.id, Addr: nl.addr, Role: nl.role, MasterID: nl.masterID, MasterAddr: addrOf[nl.masterID],
			Slots: nl.slots, SlotCount: nl.count, Flags: nl.flags, Conditions: FlagConditions(nl.flags)}
		ns := nodes[nl.addr]
		if ns != nil {
			ss := ns.Snapshot()
			nd.Up, nd.Error, nd.LastSeen = ss.Up, ss.Error, ss.LastSeen
			if ss.Up { // its figures are this round's; a down node's are unknown (Sampled false)
				nodesUp++
				nd.Sampled = true
				nd.MemoryUsedBytes, nd.OpsPerSec, nd.ConnectedClients = ss.MemoryUsedBytes, ss.OpsPerSec, ss.ConnectedClients
				for _, d := range ss.Keyspace {
					nd.Keys += d.Keys
				}
				if ns.prev != nil { // written by ns.Round, which returned before summarise
					nd.MasterLinkUp = ns.prev.info["master_link_status"] == "up"
				}
				addNodeTotals(&snap, ss, commands)
				slow = append(slow, ss.Slowlog...)
				if snap.Version == "" || nl.role == "master" && !versionFromMaster {
					snap.Version, versionFromMaster = ss.Version, nl.role == "master"
				}
			}
		} else {
			nd.Error = "not watched"
		}
		if nl.role == "master" && nl.count > 0 {
			masters++
			if nd.Up {
				mastersUp++
				ss := ns.Snapshot()
				for _, d := range ss.Keyspace {
					k := keys[d.DB]
					if k == nil {
						k = &DBKeys{DB: d.DB}
						keys[d.DB] = k
					}
					k.Keys += d.Keys
					k.Expires += d.Expires
				}
			} else if reason == "" && fresh {
				reason = fmt.Sprintf("master %s is down: %s", nl.addr, nd.Error)
			}
		}
		topo.Nodes = append(topo.Nodes, nd)
	}
	switch {
	case reason != "":
	case !fresh:
		reason = "no cluster node answered yet"
	case topo.ClusterState != "ok":
		reason = fmt.Sprintf("cluster_state is %s (slots ok %d of %d assigned)", topo.ClusterState, topo.SlotsOK, topo.SlotsAssigned)
	case masters == 0:
		reason = "no master serves slots"
	}
	serving := reason == ""
	snap.Up, snap.Error = serving, reason
	if serving {
		snap.LastSeen = now
	}

	label := []tsdb.Label{{Name: "instance", Value: s.cfg.Name}}
	out := make([]tsdb.Sample, 0, 16)
	add := func(name string, v float64, extra ...tsdb.Label) {
		l := label
		if len(extra) > 0 {
			l = append(append([]tsdb.Label(nil), label...), extra...)
		}
		out = append(out, tsdb.Sample{Name: name, Labels: l, Timestamp: ts, Value: v})
	}
	add("redis_up", b2f(serving))
	if fresh {
		add("redis_cluster_state_ok", b2f(topo.ClusterState == "ok"))
		add("redis_cluster_slots_assigned", float64(topo.SlotsAssigned))
		add("redis_cluster_slots_ok", float64(topo.SlotsOK))
		add("redis_cluster_slots_pfail", float64(c.view.slotsPFail))
		add("redis_cluster_slots_fail", float64(c.view.slotsFail))
		add("redis_cluster_known_nodes", float64(topo.KnownNodes))
		add("redis_cluster_masters", float64(masters))
		add("redis_cluster_nodes", float64(len(lines)))
		add("redis_cluster_nodes_up", float64(nodesUp))
		if mastersUp == masters {
			// Sums only when every master was read this round: a partial sum would be wrong.
			for _, k := range sortedDBKeys(keys) {
				db := tsdb.Label{Name: "db", Value: strconv.Itoa(k.DB)}
				add("redis_db_keys", float64(k.Keys), db)
				add("redis_db_keys_expiring", float64(k.Expires), db)
			}
		}
	}
	if mastersUp == masters {
		snap.Keyspace = sortedDBKeys(keys)
	}
	snap.Commands = sortedCommands(commands)
	sort.Slice(slow, func(i, j int) bool { return slow[i].Time.After(slow[j].Time) })
	if len(slow) > slowlogKept {
		slow = slow[:slowlogKept]
	}
	snap.Slowlog = slow
	snap.KeysWatched, snap.PatternsWatched = s.keys.Counts()

	c.noteEvents(now, &topo, serving, reason)
	snap.Topology = topo
	return out, snap
}

// addNodeTotals adds a reachable node's figures to the instance's: rates, memory, clients and
// commands are sums over the nodes; PingLatency is the slowest node's.
func addNodeTotals(snap *InstanceSnapshot, ss InstanceSnapshot, commands map[string]*CommandStat) {
	snap.OpsPerSec += ss.OpsPerSec
	snap.MemoryUsedBytes += ss.MemoryUsedBytes
	snap.MemoryMaxBytes += ss.MemoryMaxBytes
	snap.MemoryRSSBytes += ss.MemoryRSSBytes
	snap.ConnectedClients += ss.ConnectedClients
	snap.RedwatchConnections += ss.RedwatchConnections
	snap.BlockedClients += ss.BlockedClients
	snap.NetInputBytesPerSec += ss.NetInputBytesPerSec
	snap.NetOutputBytesPerSec += ss.NetOutputBytesPerSec
	snap.ConnectedReplicas += ss.ConnectedReplicas
	snap.PingLatency = max(snap.PingLatency, ss.PingLatency)
	if snap.UptimeSeconds == 0 || ss.UptimeSeconds < snap.UptimeSeconds {
		snap.UptimeSeconds = ss.UptimeSeconds // the youngest node's
	}
	snap.Clients = append(snap.Clients, ss.Clients...)
	for _, cs := range ss.Commands {
		t := commands[cs.Name]
		if t == nil {
			t = &CommandStat{Name: cs.Name}
			commands[cs.Name] = t
		}
		// usec_per_call weighted by calls; percentiles cannot be merged and stay unknown (0).
		if calls := t.Calls + cs.Calls; calls > 0 {
			t.UsecPerCall = (t.UsecPerCall*float64(t.Calls) + cs.UsecPerCall*float64(cs.Calls)) / float64(calls)
		}
		t.Calls += cs.Calls
		t.FailedCalls += cs.FailedCalls
	}
}

func sortedDBKeys(m map[int]*DBKeys) []DBKeys {
	out := make([]DBKeys, 0, len(m))
	for _, k := range m {
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DB < out[j].DB })
	return out
}

func sortedCommands(m map[string]*CommandStat) []CommandStat {
	out := make([]CommandStat, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Calls != out[j].Calls {
			return out[i].Calls > out[j].Calls
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// noteEvents compares topo with the previous round's, records (and logs) what changed as
// events, newest first, and keeps the events on topo. The first round records none: it is
// the starting point, not a change.
func (c *clusterSampler) noteEvents(now time.Time, topo *Topology, serving bool, reason string) {
	log := c.s.log
	ev := func(kind, text string, warn bool) {
		c.events = append([]TopologyEvent{{At: now, Kind: kind, Text: text}}, c.events...)
		if len(c.events) > MaxTopologyEvents {
			c.events = c.events[:MaxTopologyEvents]
		}
		if warn {
			log.Warn("redis cluster: "+text, "event", kind)
		} else {
			log.Info("redis cluster: "+text, "event", kind)
		}
	}
	if c.seenTopo {
		prev := c.prevTopo
		was := map[string]Node{}
		for _, n := range prev.Nodes {
			was[n.Addr] = n
		}
		is := map[string]bool{}
		for _, n := range topo.Nodes {
			is[n.Addr] = true
			p, ok := was[n.Addr]
			switch {
			case !ok:
				ev("node_added", fmt.Sprintf("node %s added as %s", n.Addr, n.Role), false)
			case p.Up && !n.Up:
				ev("node_down", fmt.Sprintf("node %s (%s) down: %s", n.Addr, n.Role, n.Error), true)
			case !p.Up && n.Up:
				ev("node_up", fmt.Sprintf("node %s (%s) up again", n.Addr, n.Role), false)
			}
			if ok && p.Role == "replica" && n.Role == "master" {
				ev("failover", fmt.Sprintf("failover: %s is master (was replica of %s)", n.Addr, orUnknown(p.MasterAddr)), true)
			}
		}
		for _, p := range prev.Nodes {
			if !is[p.Addr] {
				ev("node_removed", fmt.Sprintf("node %s (%s) removed", p.Addr, p.Role), false)
			}
		}
		if topo.ClusterState != "" && prev.ClusterState != "" && topo.ClusterState != prev.ClusterState {
			ev("state", fmt.Sprintf("cluster_state %s -> %s", prev.ClusterState, topo.ClusterState), topo.ClusterState != "ok")
		}
	}
	// The instance's own state: logged once per change, like a standalone instance.
	switch {
	case serving && !c.serving:
		log.Info("redis cluster serving", "addr", c.s.cfg.Addr, "masters", topo.Masters())
	case !serving && (c.serving || !c.downLogged):
		log.Warn("redis cluster cannot serve", "addr", c.s.cfg.Addr, "error", reason)
		c.downLogged = true
	}
	c.serving = serving
	if len(topo.Nodes) > 0 || !c.seenTopo {
		c.prevTopo, c.seenTopo = *topo, len(topo.Nodes) > 0
		c.prevTopo.Events = nil
	}
	topo.Events = c.events
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// close closes the key client and every node Sampler; safe concurrently with round, which
// then fails at once. Called once, after or while Run stops.
func (c *clusterSampler) close() error {
	c.mu.Lock()
	c.closed = true
	nodes := c.nodes
	c.nodes = map[string]*Sampler{}
	c.mu.Unlock()
	err := c.cc.Close()
	for _, n := range nodes {
		_ = n.Close()
	}
	return err
}

var (
	_ Writer       = nodeWriter{}
	_ goredis.Hook = pipelineCounter{}
)
