package app

import (
	"time"

	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/sampler/redis"
)

// topologyStatus maps a snapshot's topology to its health detail; nil for standalone
// instances (their health answers stay as they were).
func topologyStatus(t redis.Topology) *health.TopologyStatus {
	if t.Kind == "" || t.Kind == redis.KindStandalone {
		return nil
	}
	st := &health.TopologyStatus{Kind: t.Kind, Nodes: make([]health.NodeStatus, 0, len(t.Nodes))}
	for _, n := range t.Nodes {
		ns := health.NodeStatus{Addr: n.Addr, Role: n.Role, Slots: n.Slots, Status: "down", Error: n.Error}
		if n.Up {
			ns.Status = "up"
		}
		if !n.LastSeen.IsZero() {
			ns.LastSeen = new(n.LastSeen.UTC().Format(time.RFC3339Nano))
		}
		if n.Role == "master" {
			st.Masters++
			if n.Up {
				st.MastersUp++
			}
		}
		st.Nodes = append(st.Nodes, ns)
	}
	switch t.Kind {
	case redis.KindSentinel:
		st.MasterName, st.MasterAddr = t.MasterName, t.MasterAddr
		st.Failovers, st.Quorum = new(t.Failovers), new(t.Quorum)
		if !t.LastFailover.IsZero() {
			st.LastFailover = t.LastFailover.UTC().Format(time.RFC3339Nano)
		}
		if t.QuorumKnown {
			st.QuorumOK = new(t.QuorumOK)
		}
		st.Sentinels = make([]health.SentinelStatus, 0, len(t.Sentinels))
		for _, s := range t.Sentinels {
			ss := health.SentinelStatus{Addr: s.Addr, Status: "down", Error: s.Error}
			if s.Up {
				ss.Status = "up"
			}
			st.Sentinels = append(st.Sentinels, ss)
		}
	case redis.KindCluster:
		st.ClusterState = t.ClusterState
		st.SlotsAssigned, st.SlotsOK = new(t.SlotsAssigned), new(t.SlotsOK)
	}
	return st
}
