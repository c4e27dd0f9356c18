package redistest

import (
	"testing"
	"time"
)

// TestSentinelSetFailsOver: the set starts ready (the sentinels name the master) and a killed
// master is replaced by one of its replicas within a few seconds.
func TestSentinelSetFailsOver(t *testing.T) {
	set := StartSentinelSet(t, SentinelOptions{})
	old := set.MasterAddr()
	if old != set.Master.Addr() {
		t.Fatalf("sentinels name %q as master, want %s", old, set.Master.Addr())
	}
	set.Master.Kill()
	t0 := time.Now()
	addr := set.WaitFailover(old, 15*time.Second)
	if srv := set.Server(addr); srv == nil || srv == set.Master {
		t.Fatalf("new master %s is not one of the replicas", addr)
	}
	t.Logf("failover to %s in %s", addr, time.Since(t0))
}
