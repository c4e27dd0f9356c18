package keytrend

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestChangeCache(t *testing.T) {
	t.Parallel()
	var c changeCache
	t0 := time.Unix(1700000000, 0)
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func() (map[Key]Trend, error) {
		calls.Add(1)
		<-release
		return map[Key]Trend{{Key: "k"}: {OK: true}}, nil
	}
	// Concurrent requests for one range compute it once.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if m, err := c.get("1h", t0, time.Second, compute); err != nil || !m[Key{Key: "k"}].OK {
				t.Errorf("get: %v %v", m, err)
			}
		})
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d computations, want 1", n)
	}
	c.get("1h", t0.Add(999*time.Millisecond), time.Second, compute)
	if n := calls.Load(); n != 1 {
		t.Errorf("recomputed within the ttl")
	}
	c.get("1h", t0.Add(time.Second), time.Second, compute)
	if n := calls.Load(); n != 2 {
		t.Errorf("not recomputed after the ttl")
	}
	// A failure is not kept.
	fail := func() (map[Key]Trend, error) { calls.Add(1); return nil, errors.New("boom") }
	if _, err := c.get("6h", t0, time.Second, fail); err == nil {
		t.Errorf("error lost")
	}
	c.get("6h", t0, time.Second, compute)
	if n := calls.Load(); n != 4 {
		t.Errorf("%d computations: a failure was cached", n)
	}
	// Bounded.
	for i := range 3 * changeCacheEntries {
		c.get(strconv.Itoa(i), t0, time.Hour, compute)
	}
	if n := len(c.entries); n > changeCacheEntries {
		t.Errorf("%d entries cached", n)
	}
}
