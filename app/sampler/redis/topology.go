package redis

import (
	"slices"
	"strings"
	"time"
)

// Topology kinds: how an instance is deployed.
const (
	KindStandalone = "standalone" // one node at addr (master or replica)
	KindSentinel   = "sentinel"   // whatever node Sentinel names master for master_name
	KindCluster    = "cluster"    // every node of a Redis Cluster, discovered from seed addrs
)

// Topology is how an instance is deployed, as its sampler last saw it. Standalone instances
// have Kind KindStandalone and nothing else set. Like the rest of a snapshot it is a plain value,
// never mutated after it is published: its slices are read-only.
type Topology struct {
	Kind string

	// Sentinel (Kind == KindSentinel).
	MasterName string // master_name
	// MasterAddr is the node Sentinel names master now ("" when no sentinel answered).
	MasterAddr string
	// Failovers is how many master changes the sampler has seen since it started;
	// LastFailover is when it saw the latest (zero: none).
	Failovers    int64
	LastFailover time.Time
	Sentinels    []SentinelNode
	// Quorum is the master's configured quorum; QuorumOK is SENTINEL CKQUORUM's answer, known
	// only when QuorumKnown.
	Quorum      int
	QuorumOK    bool
	QuorumKnown bool

	// Cluster (Kind == KindCluster).
	// ClusterState is CLUSTER INFO's cluster_state as the nodes report it: "ok", "fail", or ""
	// when no node answered.
	ClusterState  string
	SlotsAssigned int
	SlotsOK       int
	KnownNodes    int

	// Events are the latest changes the sampler saw (failovers, nodes added, removed, down,
	// back), newest first, at most MaxTopologyEvents.
	Events []TopologyEvent

	// Nodes are the data nodes: for Sentinel the master and the replicas it lists, for Cluster
	// every node CLUSTER NODES lists, masters first (by address), then replicas.
	Nodes []Node
}

// Masters counts the nodes whose role is master.
func (t Topology) Masters() int {
	n := 0
	for _, nd := range t.Nodes {
		if nd.Role == "master" {
			n++
		}
	}
	return n
}

// SentinelNode is one sentinel watching the master.
type SentinelNode struct {
	Addr  string
	Up    bool   // it answered this round (or, for the ones listed by others, is not flagged down)
	Error string // why not, when !Up
}

// Node is one data node of a Sentinel or Cluster instance.
type Node struct {
	ID   string // cluster node ID; "" for Sentinel
	Addr string // host:port, also the value of the node label on its series
	Role string // master | replica (Sentinel's and Cluster's "slave") | unknown
	// MasterID (cluster) or MasterAddr (sentinel) is what a replica replicates.
	MasterID   string
	MasterAddr string
	Slots      string // cluster: the slot ranges it serves, "0-5460 10923"; "" for none
	SlotCount  int
	Flags      string // CLUSTER NODES flags or Sentinel's flags, raw as reported ("myself,master")
	// Conditions are the flags beyond the role, in words ("objectively down", "failing"),
	// for people; see FlagConditions.
	Conditions []string
	RunID      string // sentinel: the run_id Sentinel reports for it; "" when unknown
	Up         bool
	Error      string    // why it is down; never secrets
	LastSeen   time.Time // last successful round redwatch had with it; zero if never (or not sampled)

	// Sampled says the INFO figures below are the node's own, from redwatch's latest round with
	// it. False means they are unknown (zero here, not a measurement): a Sentinel replica
	// redwatch does not sample, a node down this round, a master before its first round.
	Sampled          bool
	MemoryUsedBytes  int64
	OpsPerSec        float64
	ConnectedClients int64 // others' connections (redwatch's own excluded)
	Keys             int64 // sum of its keyspace
	MasterLinkUp     bool  // replicas: master_link_status:up (Sentinel: master-link-status ok)
}

// FlagConditions turns CLUSTER NODES or Sentinel flags into words, leaving out the role
// (master, slave), myself and noflags; a flag it does not know is kept as is.
func FlagConditions(flags string) []string {
	var out []string
	for f := range strings.SplitSeq(flags, ",") {
		if w := flagWord(f); w != "" && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// flagWord is one flag in words; "" for the ones FlagConditions leaves out.
func flagWord(f string) string {
	switch f {
	case "", "master", "slave", "myself", "noflags":
		return ""
	// Sentinel
	case "s_down":
		return "subjectively down"
	case "o_down":
		return "objectively down"
	case "failover_in_progress":
		return "failover in progress"
	case "reconf_sent", "reconf_inprog":
		return "reconfiguring"
	case "reconf_done":
		return "reconfigured"
	case "master_down":
		return "sees the master down"
	// Cluster
	case "fail?":
		return "suspected failing (pfail)"
	case "fail":
		return "failing"
	case "handshake":
		return "in handshake"
	case "noaddr":
		return "no address"
	case "nofailover":
		return "no failover"
	}
	return f // disconnected, promoted, and flags of later versions
}

// MaxTopologyEvents is how many topology events an instance keeps.
const MaxTopologyEvents = 50

// TopologyEvent is one change of a Sentinel or Cluster topology.
type TopologyEvent struct {
	At   time.Time
	Kind string // failover | node_added | node_removed | node_down | node_up | state
	Text string // for people: "failover: master 10.0.0.1:6379 -> 10.0.0.2:6379"
}
