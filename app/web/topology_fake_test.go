package web

import (
	"time"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// topologySnapshots are a Sentinel instance "sent" (master up, one sentinel down, one
// failover) and a Cluster instance "clu" of 3 masters with one down (so not up), as the
// Sentinel and Cluster samplers publish them.
func topologySnapshots(now time.Time) []redis.InstanceSnapshot {
	seen := now.Add(-5 * time.Second)
	sent := redis.InstanceSnapshot{
		Name: "sent", Addr: "127.0.0.1:7001", Interval: 10 * time.Second, Up: true, LastSeen: seen, LastRunAt: seen,
		Version: "7.2.4", Role: "master", Mode: "standalone",
		Topology: redis.Topology{
			Kind: redis.KindSentinel, MasterName: "mymaster", MasterAddr: "127.0.0.1:7001",
			Failovers: 1, LastFailover: now.Add(-time.Minute), Quorum: 2, QuorumOK: true, QuorumKnown: true,
			Sentinels: []redis.SentinelNode{{Addr: "127.0.0.1:26379", Up: true}, {Addr: "127.0.0.1:26380", Up: true}, {Addr: "127.0.0.1:26381", Error: "connection refused"}},
			Nodes: []redis.Node{
				{Addr: "127.0.0.1:7001", Role: "master", Flags: "master", Up: true, LastSeen: seen, Sampled: true, MemoryUsedBytes: 2 * mib, OpsPerSec: 120, ConnectedClients: 7, Keys: 42},
				{Addr: "127.0.0.1:7002", Role: "replica", Flags: "slave", MasterAddr: "127.0.0.1:7001", Up: true, MasterLinkUp: true},
				{Addr: "127.0.0.1:7003", Role: "replica", Flags: "slave,s_down,disconnected", Conditions: redis.FlagConditions("slave,s_down,disconnected"), MasterAddr: "127.0.0.1:7001", MasterLinkUp: false},
			},
			Events: []redis.TopologyEvent{{At: now.Add(-time.Minute), Kind: "failover", Text: "failover: master 127.0.0.1:7000 -> 127.0.0.1:7001"}},
		},
	}
	clu := redis.InstanceSnapshot{
		Name: "clu", Addr: "127.0.0.1:7101", Interval: 10 * time.Second, Up: false,
		Error: "master 127.0.0.1:7102 down", LastSeen: seen, LastRunAt: seen, Version: "7.2.4", Mode: "cluster",
		Topology: redis.Topology{
			Kind: redis.KindCluster, ClusterState: "fail", SlotsAssigned: 16384, SlotsOK: 10923, KnownNodes: 3,
			Nodes: []redis.Node{
				{ID: "a1", Addr: "127.0.0.1:7101", Role: "master", Slots: "0-5460", SlotCount: 5461, Flags: "myself,master", Up: true, LastSeen: seen, Sampled: true, MemoryUsedBytes: 3 * mib, OpsPerSec: 500, ConnectedClients: 4, Keys: 10000},
				{ID: "b2", Addr: "127.0.0.1:7102", Role: "master", Slots: "5461-10922", SlotCount: 5462, Flags: "master,fail", Conditions: []string{"failing"}, Error: "dial tcp 127.0.0.1:7102: connection refused", LastSeen: now.Add(-time.Minute)},
				{ID: "c3", Addr: "127.0.0.1:7103", Role: "master", Slots: "10923-16383", SlotCount: 5461, Flags: "master", Up: true, LastSeen: seen, Sampled: true, Keys: 9990},
			},
			Events: []redis.TopologyEvent{
				{At: now.Add(-time.Minute), Kind: "node_down", Text: "node 127.0.0.1:7102 down"},
				{At: now.Add(-time.Hour), Kind: "node_added", Text: "node 127.0.0.1:7103 added"},
			},
		},
	}
	return []redis.InstanceSnapshot{sent, clu}
}
