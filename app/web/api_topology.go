package web

import (
	"time"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// topologyJSON is a Sentinel or Cluster instance's deployment in /api/instances; absent for
// standalone instances. Sentinel fields are omitted for Cluster and the other way round.
type topologyJSON struct {
	Kind          string              `json:"kind"` // sentinel | cluster
	MasterName    string              `json:"master_name,omitempty"`
	MasterAddr    string              `json:"master_addr,omitempty"` // "" (omitted) when no sentinel answered
	Failovers     *int64              `json:"failovers,omitempty"`   // master changes seen since redwatch started
	LastFailover  *time.Time          `json:"last_failover,omitempty"`
	Sentinels     []sentinelJSON      `json:"sentinels,omitempty"`
	Quorum        *int                `json:"quorum,omitempty"`
	QuorumOK      *bool               `json:"quorum_ok,omitempty"` // omitted when SENTINEL CKQUORUM did not answer
	ClusterState  string              `json:"cluster_state,omitempty"`
	SlotsAssigned *int                `json:"slots_assigned,omitempty"`
	SlotsOK       *int                `json:"slots_ok,omitempty"`
	KnownNodes    *int                `json:"known_nodes,omitempty"`
	Masters       int                 `json:"masters"`
	MastersUp     int                 `json:"masters_up"`
	Nodes         []nodeJSON          `json:"nodes"`
	Events        []topologyEventJSON `json:"events"` // newest first
}

type sentinelJSON struct {
	Addr  string `json:"addr"`
	Up    bool   `json:"up"`
	Error string `json:"error,omitempty"`
}

// nodeJSON is one data node; the INFO figures are those of its last successful round.
type nodeJSON struct {
	ID         string     `json:"id,omitempty"`
	Addr       string     `json:"addr"`
	Role       string     `json:"role"`
	MasterID   string     `json:"master_id,omitempty"`
	MasterAddr string     `json:"master_addr,omitempty"`
	Slots      string     `json:"slots,omitempty"`
	SlotCount  int        `json:"slot_count"`
	Flags      string     `json:"flags,omitempty"`      // raw, as Sentinel or CLUSTER NODES report them
	Conditions []string   `json:"conditions,omitempty"` // the flags beyond the role, in words
	Up         bool       `json:"up"`
	Error      string     `json:"error,omitempty"`
	LastSeen   *time.Time `json:"last_seen"` // redwatch's last round with it; null: never (or not sampled)
	// The INFO figures are null when unknown: a node redwatch does not sample (Sentinel
	// replicas) or one that is down this round. Never a 0 that was not measured.
	MemoryUsedBytes  *int64   `json:"memory_used_bytes"`
	OpsPerSecond     *float64 `json:"ops_per_second"`
	ConnectedClients *int64   `json:"connected_clients"`
	Keys             *int64   `json:"keys"`
	MasterLinkUp     *bool    `json:"master_link_up,omitempty"` // replicas only
}

type topologyEventJSON struct {
	At   *time.Time `json:"at"`
	Kind string     `json:"kind"`
	Text string     `json:"text"`
}

// newTopologyJSON maps a snapshot's topology; nil for standalone.
func newTopologyJSON(t redis.Topology) *topologyJSON {
	if t.Kind == "" || t.Kind == redis.KindStandalone {
		return nil
	}
	out := &topologyJSON{Kind: t.Kind, Nodes: make([]nodeJSON, len(t.Nodes)), Events: make([]topologyEventJSON, len(t.Events))}
	for i, n := range t.Nodes {
		nj := nodeJSON{
			ID: n.ID, Addr: n.Addr, Role: n.Role, MasterID: n.MasterID, MasterAddr: n.MasterAddr, Slots: n.Slots,
			SlotCount: n.SlotCount, Flags: n.Flags, Conditions: n.Conditions, Up: n.Up, Error: n.Error, LastSeen: utcTime(n.LastSeen),
		}
		if n.Sampled {
			nj.MemoryUsedBytes, nj.OpsPerSecond, nj.ConnectedClients, nj.Keys = new(n.MemoryUsedBytes), new(n.OpsPerSec), new(n.ConnectedClients), new(n.Keys)
		}
		if n.Role == "replica" {
			nj.MasterLinkUp = new(n.MasterLinkUp)
		}
		if n.Role == "master" {
			out.Masters++
			if n.Up {
				out.MastersUp++
			}
		}
		out.Nodes[i] = nj
	}
	for i, e := range t.Events {
		out.Events[i] = topologyEventJSON{At: utcTime(e.At), Kind: e.Kind, Text: e.Text}
	}
	switch t.Kind {
	case redis.KindSentinel:
		out.MasterName, out.MasterAddr = t.MasterName, t.MasterAddr
		out.Failovers, out.LastFailover, out.Quorum = new(t.Failovers), utcTime(t.LastFailover), new(t.Quorum)
		if t.QuorumKnown {
			out.QuorumOK = new(t.QuorumOK)
		}
		out.Sentinels = make([]sentinelJSON, len(t.Sentinels))
		for i, s := range t.Sentinels {
			out.Sentinels[i] = sentinelJSON{Addr: s.Addr, Up: s.Up, Error: s.Error}
		}
	case redis.KindCluster:
		out.ClusterState = t.ClusterState
		out.SlotsAssigned, out.SlotsOK, out.KnownNodes = new(t.SlotsAssigned), new(t.SlotsOK), new(t.KnownNodes)
	}
	return out
}
