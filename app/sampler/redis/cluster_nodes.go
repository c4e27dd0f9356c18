package redis

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// clusterView is one node's answer to CLUSTER INFO and CLUSTER NODES: the cluster as that node
// sees it.
type clusterView struct {
	from          string // the address that answered
	state         string // cluster_state: ok | fail
	slotsAssigned int
	slotsOK       int
	slotsPFail    int
	slotsFail     int
	knownNodes    int
	nodes         []clusterNodeLine // masters first (by address), then replicas (by address)
}

// clusterNodeLine is one line of CLUSTER NODES.
type clusterNodeLine struct {
	id       string
	addr     string // host:port of its clients' port (the bus port and hostname are cut)
	flags    string // as reported: "myself,master", "slave", "master,fail", ...
	role     string // master | replica
	masterID string // replicas: the master's ID
	failing  bool   // flagged fail or fail? by the node that answered
	slots    string // "0-5460 10923"; migrating/importing entries ("[5461->-id]") are left out
	slotLow  int    // the lowest slot it serves; -1 for none
	count    int    // how many slots it serves
}

// parseClusterNodes parses the text of CLUSTER NODES (the same format on Redis 3 to 8, which is
// why it is used rather than CLUSTER SHARDS, Redis 7+). Nodes without an address (noaddr) or
// still in handshake are left out: they cannot be sampled. An unparseable line is an error.
func parseClusterNodes(text string) ([]clusterNodeLine, error) {
	var out []clusterNodeLine
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("cannot parse CLUSTER NODES line %q: %d fields, want at least 8", logKey(line), len(f))
		}
		n := clusterNodeLine{id: f[0], flags: f[2], slotLow: -1}
		addr, _, _ := strings.Cut(f[1], "@") // ip:port@cport[,hostname]
		addr, _, _ = strings.Cut(addr, ",")  // Redis 7 before the bus port: ip:port,hostname
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("cannot parse the address %q in CLUSTER NODES: %w", f[1], err)
		}
		flags := "," + n.flags + ","
		if host == "" || port == "0" || strings.Contains(flags, ",noaddr,") || strings.Contains(flags, ",handshake,") {
			continue
		}
		n.addr = net.JoinHostPort(host, port)
		switch {
		case strings.Contains(flags, ",master,"):
			n.role = "master"
		case strings.Contains(flags, ",slave,"):
			n.role = "replica"
			n.masterID = f[3]
		default:
			n.role = "unknown"
		}
		n.failing = strings.Contains(flags, ",fail,") || strings.Contains(flags, ",fail?,")
		var ranges []string
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue // a slot being migrated or imported: still served by its owner
			}
			lo, hi, isRange := strings.Cut(s, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || a < 0 || b < a || b > 16383 {
				return nil, fmt.Errorf("cannot parse the slot range %q in CLUSTER NODES", s)
			}
			if n.slotLow < 0 || a < n.slotLow {
				n.slotLow = a
			}
			n.count += b - a + 1
			ranges = append(ranges, s)
		}
		n.slots = strings.Join(ranges, " ")
		out = append(out, n)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if mi, mj := out[i].role == "master", out[j].role == "master"; mi != mj {
			return mi
		}
		return out[i].addr < out[j].addr
	})
	return out, nil
}

// parseClusterInfo fills the CLUSTER INFO fields of v from its text (field:value lines, like
// INFO). A reply without cluster_state is an error: the node is not in cluster mode.
func parseClusterInfo(text string, v *clusterView) error {
	in := parseInfo(text)
	v.state = in["cluster_state"]
	if v.state == "" {
		return fmt.Errorf("CLUSTER INFO has no cluster_state")
	}
	num := func(k string) int {
		n, _ := in.int(k)
		return int(n)
	}
	v.slotsAssigned, v.slotsOK = num("cluster_slots_assigned"), num("cluster_slots_ok")
	v.slotsPFail, v.slotsFail = num("cluster_slots_pfail"), num("cluster_slots_fail")
	v.knownNodes = num("cluster_known_nodes")
	return nil
}
