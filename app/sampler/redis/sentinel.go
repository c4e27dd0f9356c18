package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

// newFailoverClient is the data client of a Sentinel instance: go-redis's failover client, with
// the options of clientOptions. It is chosen over asking Sentinel ourselves on each failure
// because it follows a failover between instance rounds: it subscribes to +switch-master on a
// sentinel, asks Sentinel for the master on every new connection and drops pooled connections
// to a demoted master, so key rounds (which may run more often than the instance round) reach
// the new master at once; and it is a *goredis.Client, so the key sampler is unchanged.
//
// Own-command accounting: go-redis also dials its internal sentinel connections with
// FailoverOptions.Dialer, so the counting wrapper is not put there but in a dial hook on the
// client (ownDialHook), which only the data connections pass through: the sentinel
// connections never count as redwatch's share of the master's numbers. OnConnect (CLIENT
// SETNAME) names both kinds.
func newFailoverClient(cfg config.Redis, o *goredis.Options, onConnect func(context.Context, *goredis.Conn) error, own *ownTracker) *goredis.Client {
	c := goredis.NewFailoverClient(&goredis.FailoverOptions{
		MasterName:       cfg.MasterName,
		SentinelAddrs:    cfg.SentinelAddrs,
		SentinelUsername: cfg.SentinelUsername,
		SentinelPassword: cfg.SentinelPassword,
		OnConnect:        onConnect,
		Protocol:         o.Protocol,
		Username:         o.Username,
		Password:         o.Password,
		DB:               o.DB,
		MaxRetries:       o.MaxRetries,
		DialTimeout:      o.DialTimeout,
		DialerRetries:    o.DialerRetries,
		ReadTimeout:      o.ReadTimeout,
		WriteTimeout:     o.WriteTimeout,

		ContextTimeoutEnabled: o.ContextTimeoutEnabled,
		PoolSize:              o.PoolSize,
		PoolTimeout:           o.PoolTimeout,
		MaxIdleConns:          o.MaxIdleConns,
		PipelinePoolSize:      o.PipelinePoolSize,
		TLSConfig:             o.TLSConfig, // ServerName empty: taken from each address dialled
		DisableIdentity:       o.DisableIdentity,
	})
	c.AddHook(ownDialHook{own})
	return c
}

// ownDialHook counts the connections of the client it is added to in an ownTracker (the
// failover client's data connections; see newFailoverClient).
type ownDialHook struct{ o *ownTracker }

func (h ownDialHook) DialHook(next goredis.DialHook) goredis.DialHook {
	return goredis.DialHook(h.o.dialer(next))
}
func (h ownDialHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }
func (h ownDialHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// sentinelWatcher asks the sentinels of one instance, every instance round, what they know:
// SENTINEL MASTER, REPLICAS, SENTINELS and CKQUORUM, pipelined, to every configured sentinel at
// once. Its clients are its own (one connection per sentinel), never counted in the watched
// Redis's numbers. It remembers the master between rounds to see failovers. round is called
// from Run's goroutine only; close after Run returned.
type sentinelWatcher struct {
	name    string // master_name
	timeout time.Duration
	addrs   []string
	clients []*goredis.Client

	// Owned by the goroutine running Run.
	master       string // last master named ("" before the first answer)
	failovers    int64
	lastFailover time.Time
	events       []TopologyEvent
}

func newSentinelWatcher(cfg config.Redis, o *goredis.Options) *sentinelWatcher {
	w := &sentinelWatcher{name: cfg.MasterName, timeout: cfg.Timeout.Std(), addrs: cfg.SentinelAddrs}
	for _, a := range cfg.SentinelAddrs {
		w.clients = append(w.clients, goredis.NewClient(&goredis.Options{
			Addr: a, Username: cfg.SentinelUsername, Password: cfg.SentinelPassword,
			Protocol: 2, DisableIdentity: true, MaxRetries: -1, DialerRetries: 1,
			DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			PoolTimeout: o.PoolTimeout, ContextTimeoutEnabled: true,
			PoolSize: 1, MaxIdleConns: 1, PipelinePoolSize: -1, TLSConfig: o.TLSConfig,
		}))
	}
	return w
}

func (w *sentinelWatcher) close() {
	for _, c := range w.clients {
		_ = c.Close()
	}
}

// sentinelAnswer is one sentinel's reply to the round's pipeline.
type sentinelAnswer struct {
	err       error
	master    map[string]string
	replicas  []map[string]string
	sentinels []map[string]string
	quorum    error // CKQUORUM: nil OK, a NOQUORUM reply, or another error
}

// round asks every sentinel and returns the topology and the redis_sentinel_* samples at ts,
// and old, the previous master, when the master changed (a failover, logged by the caller).
//
// The master is the one named with the highest config-epoch (sentinels disagree during a
// failover); replicas, sentinels and quorum come from the first configured sentinel that
// answered. Topology.MasterAddr is "" when no sentinel answered; a master change is only
// counted between two answers.
func (w *sentinelWatcher) round(ctx context.Context, instance string, now time.Time) (topo Topology, samples []tsdb.Sample, old string) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	answers := make([]sentinelAnswer, len(w.clients))
	var wg sync.WaitGroup
	for i, c := range w.clients {
		wg.Go(func() { answers[i] = w.ask(ctx, c) })
	}
	wg.Wait()

	topo = Topology{Kind: KindSentinel, MasterName: w.name}
	var best *sentinelAnswer
	bestEpoch := int64(-1)
	for i := range answers {
		a := &answers[i]
		up := a.err == nil
		sn := SentinelNode{Addr: w.addrs[i], Up: up}
		if !up {
			sn.Error = describe(a.err).Error()
		}
		topo.Sentinels = append(topo.Sentinels, sn)
		if !up {
			continue
		}
		if best == nil {
			best = a
		}
		if e, err := strconv.ParseInt(a.master["config-epoch"], 10, 64); err == nil && e > bestEpoch {
			bestEpoch, topo.MasterAddr = e, hostPortOf(a.master)
		} else if topo.MasterAddr == "" {
			topo.MasterAddr = hostPortOf(a.master)
		}
	}
	ts := now.UnixMilli()
	add := func(name string, v float64) {
		samples = append(samples, tsdb.Sample{Name: name, Labels: []tsdb.Label{{Name: "instance", Value: instance}}, Timestamp: ts, Value: v})
	}
	if best != nil {
		// Sentinels the answering one knows beyond the configured ones.
		for _, s := range best.sentinels {
			addr := hostPortOf(s)
			if addr == "" || containsSentinel(topo.Sentinels, addr) {
				continue
			}
			topo.Sentinels = append(topo.Sentinels, SentinelNode{Addr: addr, Up: !flagged(s["flags"], "s_down", "o_down", "disconnected")})
		}
		topo.Quorum, _ = strconv.Atoi(best.master["quorum"])
		switch {
		case best.quorum == nil:
			topo.QuorumOK, topo.QuorumKnown = true, true
		case strings.HasPrefix(best.quorum.Error(), "NOQUORUM"):
			topo.QuorumOK, topo.QuorumKnown = false, true
		}
		masterUp := topo.MasterAddr != "" && !flagged(best.master["flags"], "s_down", "o_down", "disconnected")
		// The figures of these nodes are unknown here (Sampled false): fillSentinelNode sets the
		// master's from the instance's INFO.
		topo.Nodes = append(topo.Nodes, Node{Addr: topo.MasterAddr, Role: "master", Flags: best.master["flags"],
			Conditions: FlagConditions(best.master["flags"]), RunID: best.master["runid"], Up: masterUp})
		replicasUp := 0
		var replicas []Node
		for _, r := range best.replicas {
			up := !flagged(r["flags"], "s_down", "o_down", "disconnected")
			if up {
				replicasUp++
			}
			replicas = append(replicas, Node{Addr: hostPortOf(r), Role: "replica", Flags: r["flags"],
				Conditions: FlagConditions(r["flags"]), RunID: r["runid"], Up: up,
				MasterAddr: replicaOf(r), MasterLinkUp: r["master-link-status"] == "ok"})
		}
		sort.Slice(replicas, func(i, j int) bool { return replicas[i].Addr < replicas[j].Addr })
		topo.Nodes = append(topo.Nodes, replicas...)
		add("redis_sentinel_master_up", boolFloat(masterUp))
		add("redis_sentinel_replicas", float64(replicasUp))
		add("redis_sentinel_quorum", float64(topo.Quorum))
		if topo.QuorumKnown {
			add("redis_sentinel_quorum_ok", boolFloat(topo.QuorumOK))
		}
	} else {
		add("redis_sentinel_master_up", 0)
	}
	up := 0
	for _, s := range topo.Sentinels {
		if s.Up {
			up++
		}
	}
	add("redis_sentinel_sentinels", float64(up))

	if topo.MasterAddr != "" {
		if w.master != "" && w.master != topo.MasterAddr {
			old = w.master
			w.failovers++
			w.lastFailover = now
			ev := TopologyEvent{At: now, Kind: "failover", Text: "failover: master " + old + " -> " + topo.MasterAddr}
			w.events = append([]TopologyEvent{ev}, w.events[:min(len(w.events), MaxTopologyEvents-1)]...)
		}
		w.master = topo.MasterAddr
	}
	add("redis_sentinel_failovers_total", float64(w.failovers))
	topo.Failovers, topo.LastFailover, topo.Events = w.failovers, w.lastFailover, w.events
	return topo, samples, old
}

// ask sends one sentinel the round's pipeline. err is set when the sentinel cannot tell the
// master (unreachable, refused, or it does not monitor master_name).
func (w *sentinelWatcher) ask(ctx context.Context, c *goredis.Client) sentinelAnswer {
	master := goredis.NewMapStringStringCmd(ctx, "sentinel", "master", w.name)
	replicas := goredis.NewMapStringStringSliceCmd(ctx, "sentinel", "replicas", w.name)
	sentinels := goredis.NewMapStringStringSliceCmd(ctx, "sentinel", "sentinels", w.name)
	quorum := goredis.NewStringCmd(ctx, "sentinel", "ckquorum", w.name)
	pipe := c.Pipeline()
	for _, cmd := range []goredis.Cmder{master, replicas, sentinels, quorum} {
		_ = pipe.Process(ctx, cmd)
	}
	_, _ = pipe.Exec(ctx)
	var a sentinelAnswer
	a.master, a.err = master.Result()
	if a.err == nil && hostPortOf(a.master) == "" {
		a.err = errors.New("SENTINEL MASTER gave no address")
	}
	if a.err != nil {
		a.err = fmt.Errorf("SENTINEL MASTER %s: %w", w.name, a.err)
		return a
	}
	a.replicas, _ = replicas.Result()
	a.sentinels, _ = sentinels.Result()
	a.quorum = quorum.Err()
	return a
}

// hostPortOf is ip:port of a SENTINEL MASTER / REPLICAS / SENTINELS entry; "" without them.
func hostPortOf(m map[string]string) string {
	if m["ip"] == "" || m["port"] == "" {
		return ""
	}
	return net.JoinHostPort(m["ip"], m["port"])
}

// replicaOf is the master a SENTINEL REPLICAS entry replicates; "" when Sentinel does not know
// ("?" and port 0 while it has no INFO of the replica).
func replicaOf(r map[string]string) string {
	if h, p := r["master-host"], r["master-port"]; h != "" && h != "?" && p != "" && p != "0" {
		return net.JoinHostPort(h, p)
	}
	return ""
}

// flagged reports whether the comma-separated flags hold one of any.
func flagged(flags string, any ...string) bool {
	for f := range strings.SplitSeq(flags, ",") {
		for _, a := range any {
			if f == a {
				return true
			}
		}
	}
	return false
}

func containsSentinel(ss []SentinelNode, addr string) bool {
	for _, s := range ss {
		if s.Addr == addr {
			return true
		}
	}
	return false
}

// sentinelRound runs the Sentinel part of an instance round (a no-op for other instances): it
// publishes the topology and the current master as the snapshot's Addr, writes the
// redis_sentinel_* samples, and on a master change logs the failover once and clears the retry
// backoff, so that the new master is asked in this very round.
func (s *Sampler) sentinelRound(ctx context.Context, now time.Time) {
	if s.sentinel == nil {
		return
	}
	topo, samples, old := s.sentinel.round(ctx, s.cfg.Name, now)
	if ctx.Err() != nil {
		return
	}
	if old != "" {
		s.log.Info("sentinel failover", "master_name", s.cfg.MasterName, "old", old, "new", topo.MasterAddr)
		// Ask the new master in this very round, and start its backoff afresh: failures
		// counted against the dead master would otherwise put a retry after one failed first
		// INFO (a sentinel go-redis asks may not know the new master yet) up to 32 s away.
		// (The next INFO has another run_id: no per-interval values across it.)
		s.failures, s.retryAt = 0, time.Time{}
	}
	s.write(samples)
	s.mu.Lock()
	// A node's last round with redwatch outlives this round's fresh topology.
	for i := range topo.Nodes {
		for _, p := range s.snap.Topology.Nodes {
			if p.Addr == topo.Nodes[i].Addr {
				topo.Nodes[i].LastSeen = p.LastSeen
			}
		}
	}
	s.snap.Topology = topo
	if topo.MasterAddr != "" {
		s.snap.Addr = topo.MasterAddr
	}
	s.mu.Unlock()
}

// addr is the address the instance is watched at: addr, or the master Sentinel named last.
func (s *Sampler) addr() string {
	if s.sentinel == nil {
		return s.cfg.Addr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap.Addr
}

// fillSentinelNode gives the node of snap's Sentinel topology that redwatch just sampled the
// figures of snap's INFO round (in, its fields): the master, normally, unless go-redis's client
// already reached another node. Nodes are matched by the run_id Sentinel reports, not by
// address, so figures never land on a node they are not from (a node whose run_id Sentinel does
// not know yet must have INFO's tcp_port and role); no match leaves every node unknown. Topology.Nodes is replaced, not written to: it is shared with older snapshots.
func fillSentinelNode(snap *InstanceSnapshot, in info) {
	runID := in["run_id"]
	if snap.Topology.Kind != KindSentinel || runID == "" || !snap.Up {
		return
	}
	role := map[string]string{"master": "master", "slave": "replica"}[in["role"]]
	for i, n := range snap.Topology.Nodes {
		_, port, _ := net.SplitHostPort(n.Addr)
		// Right after a failover Sentinel does not know the new master's run_id yet: then the
		// port and role must match.
		if n.RunID != runID && (n.RunID != "" || port != in["tcp_port"] || role != n.Role) {
			continue
		}
		nodes := slices.Clone(snap.Topology.Nodes)
		nd := &nodes[i]
		nd.Sampled, nd.Up, nd.LastSeen = true, true, snap.LastSeen // up: redwatch reached it, whatever Sentinel's flags say yet
		nd.MemoryUsedBytes, nd.OpsPerSec, nd.ConnectedClients = snap.MemoryUsedBytes, snap.OpsPerSec, snap.ConnectedClients
		nd.Keys = 0
		for _, d := range snap.Keyspace {
			nd.Keys += d.Keys
		}
		if nd.Role == "replica" {
			nd.MasterLinkUp = in["master_link_status"] == "up"
		}
		snap.Topology.Nodes = nodes
		return
	}
}
