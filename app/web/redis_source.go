package web

import (
	"fmt"
	"time"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/views/partials"
)

// RedisSource is what pages and the JSON API read about watched Redis instances: in-memory
// snapshots kept by the samplers. Reading them never sends a command to Redis.
type RedisSource interface {
	Instances() []redis.InstanceSnapshot // sorted by name
	Instance(name string) (redis.InstanceSnapshot, bool)
	Keys() []redis.KeySnapshot // sorted by instance, then key
	Patterns() []redis.PatternSnapshot
}

// noRedis is the RedisSource used when Options.Redis is nil.
type noRedis struct{}

func (noRedis) Instances() []redis.InstanceSnapshot { return nil }
func (noRedis) Instance(string) (redis.InstanceSnapshot, bool) {
	return redis.InstanceSnapshot{}, false
}
func (noRedis) Keys() []redis.KeySnapshot         { return nil }
func (noRedis) Patterns() []redis.PatternSnapshot { return nil }

// staleAfter is how long after its last round an instance or key counts as stale.
func staleAfter(interval time.Duration) time.Duration {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	return 3 * interval
}

// instanceCard maps a snapshot to the card shown on the overview and atop the instance page.
func instanceCard(in *redis.InstanceSnapshot, now time.Time) partials.InstanceCardProps {
	return partials.InstanceCardProps{
		Name:             in.Name,
		Addr:             in.Addr,
		Version:          in.Version,
		Role:             in.Role,
		Mode:             in.Mode,
		Topology:         topologyText(in.Topology),
		Up:               in.Up,
		Error:            in.Error,
		LastSeen:         in.LastSeen,
		LastRunAt:        in.LastRunAt,
		Stale:            !in.LastRunAt.IsZero() && now.Sub(in.LastRunAt) > staleAfter(in.Interval),
		OpsPerSec:        in.OpsPerSec,
		MemoryUsedBytes:  float64(in.MemoryUsedBytes),
		MemoryMaxBytes:   float64(in.MemoryMaxBytes),
		ConnectedClients: in.ConnectedClients,
		HitRatio:         in.HitRatio,
		HitRatioKnown:    in.HitRatioKnown,
		Now:              now,
	}
}

// topologyText is the card's deployment badge: "sentinel", "cluster, 3 masters", or
// "cluster, 2 of 3 masters up" when some are down; "" for standalone.
func topologyText(t redis.Topology) string {
	switch t.Kind {
	case redis.KindSentinel:
		return "sentinel"
	case redis.KindCluster:
		masters, up := 0, 0
		for _, n := range t.Nodes {
			if n.Role == "master" {
				masters++
				if n.Up {
					up++
				}
			}
		}
		if up < masters {
			return fmt.Sprintf("cluster, %d of %d masters up", up, masters)
		}
		return fmt.Sprintf("cluster, %d masters", masters)
	}
	return ""
}

// topologyProps maps a snapshot's topology to the instance page's panel; nil for standalone.
func topologyProps(t redis.Topology) *partials.TopologyProps {
	if t.Kind != redis.KindSentinel && t.Kind != redis.KindCluster {
		return nil
	}
	p := &partials.TopologyProps{
		Kind: t.Kind, MasterName: t.MasterName, MasterAddr: t.MasterAddr, Failovers: t.Failovers,
		LastFailover: t.LastFailover, Quorum: t.Quorum, QuorumOK: t.QuorumOK, QuorumKnown: t.QuorumKnown,
		ClusterState: t.ClusterState, SlotsOK: t.SlotsOK, SlotsAssigned: t.SlotsAssigned,
	}
	for _, s := range t.Sentinels {
		p.Sentinels = append(p.Sentinels, partials.TopologySentinel{Addr: s.Addr, Up: s.Up, Error: s.Error})
	}
	for _, n := range t.Nodes {
		p.Nodes = append(p.Nodes, partials.TopologyNode{
			Addr: n.Addr, Role: n.Role, Slots: n.Slots, Error: n.Error, Conditions: n.Conditions, Up: n.Up, IsReplica: n.Role == "replica",
			LinkUp: n.MasterLinkUp, Sampled: n.Sampled, MemoryUsedBytes: float64(n.MemoryUsedBytes), OpsPerSec: n.OpsPerSec,
			Clients: n.ConnectedClients, Keys: n.Keys, LastSeen: n.LastSeen,
		})
	}
	for _, e := range t.Events {
		p.Events = append(p.Events, partials.TopologyEvent{At: e.At, Kind: e.Kind, Text: e.Text})
	}
	return p
}
