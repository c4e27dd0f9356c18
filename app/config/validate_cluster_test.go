package config

import (
	"reflect"
	"testing"
)

func TestValidateCluster(t *testing.T) {
	bad := []struct {
		name, toml, want string
		sentinel         error
	}{
		{"db not 0", testRedis + "cluster = true\ndb = 1\n", `redis[0].db: must be 0 with cluster = true`, ErrInvalid},
		{"seeds without cluster", testRedis + "cluster_addrs = [\"127.0.0.1:7001\"]\n", `redis[0].cluster_addrs: needs cluster = true`, ErrInvalid},
		{"seed not host:port", testRedis + "cluster = true\ncluster_addrs = [\"127.0.0.1:7001\", \"nope\"]\n", `redis[0].cluster_addrs[1]: "nope" is not host:port`, ErrInvalid},
		{"seed empty", testRedis + "cluster = true\ncluster_addrs = [\"\"]\n", `redis[0].cluster_addrs[0]: required`, ErrRequired},
		{"seed is addr", testRedis + "cluster = true\ncluster_addrs = [\"127.0.0.1:6379\"]\n", `redis[0].cluster_addrs[0]: "127.0.0.1:6379" is also redis[0].addr`, ErrDuplicate},
		{"seed twice", testRedis + "cluster = true\ncluster_addrs = [\"h:1\", \"h:1\"]\n", `redis[0].cluster_addrs[1]: "h:1" is also redis[0].cluster_addrs[0]`, ErrDuplicate},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadText(t, tt.toml)
			wantError(t, err, tt.want, tt.sentinel)
		})
	}
	c, err := loadText(t, testRedis+"cluster = true\ncluster_addrs = [\"10.0.0.2:6379\", \"redis-3.internal:6379\"]\n")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Redis[0]
	if !r.Cluster || !reflect.DeepEqual(r.ClusterAddrs, []string{"10.0.0.2:6379", "redis-3.internal:6379"}) {
		t.Fatalf("cluster = %v, cluster_addrs = %q", r.Cluster, r.ClusterAddrs)
	}
}
