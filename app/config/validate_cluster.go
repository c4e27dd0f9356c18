package config

import "fmt"

// validateCluster checks the Cluster keys of r; p is the path prefix of its keys ("redis[1].").
//
// With cluster = true, addr is the first seed and cluster_addrs lists more (each host:port, no
// address twice): redwatch asks any seed that answers for the cluster's nodes, so one live
// seed is enough. A Redis Cluster has only database 0, so db must be 0. cluster_addrs without
// cluster = true is an error rather than ignored.
func (r *Redis) validateCluster(l *errorList, p string) {
	if !r.Cluster {
		if len(r.ClusterAddrs) > 0 {
			l.add(p+"cluster_addrs", ErrInvalid, "needs cluster = true")
		}
		return
	}
	if r.IsSentinel() {
		l.add(p+"cluster", ErrInvalid, "cannot be combined with sentinel_addrs/master_name (a Redis Cluster fails over by itself)")
	}
	if r.DB != 0 {
		l.add(p+"db", ErrInvalid, fmt.Sprintf("must be 0 with cluster = true (a Redis Cluster has only database 0), got %d", r.DB))
	}
	seen := map[string]string{r.Addr: p + "addr"}
	for i, a := range r.ClusterAddrs {
		ap := indexPath(p+"cluster_addrs", i)
		hostPort(l, ap, a, true, `"10.0.0.2:6379"`)
		if first, dup := seen[a]; dup && a != "" {
			l.add(ap, ErrDuplicate, fmt.Sprintf("%q is also %s", a, first))
			continue
		}
		seen[a] = ap
	}
}
