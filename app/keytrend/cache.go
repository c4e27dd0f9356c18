package keytrend

import (
	"slices"
	"sync"
	"time"
)

// changeCacheEntries bounds the ranges whose changes are cached at once.
const changeCacheEntries = 8

// changeCache holds the changes of every key over recently asked ranges. Concurrent requests
// for the same range wait for one computation. The zero value is ready to use; it is safe for
// concurrent use.
type changeCache struct {
	mu      sync.Mutex
	entries map[string]*changeEntry
}

type changeEntry struct {
	done   chan struct{} // closed once trends and err are set
	at     time.Time     // when the computation started
	trends map[Key]Trend
	err    error
}

// get returns the changes for key computed less than ttl before now, or computes them. The
// returned map is shared: callers must not modify it.
func (c *changeCache) get(key string, now time.Time, ttl time.Duration, compute func() (map[Key]Trend, error)) (map[Key]Trend, error) {
	c.mu.Lock()
	e := c.entries[key]
	if e == nil || now.Sub(e.at) >= ttl && isDone(e.done) {
		e = &changeEntry{done: make(chan struct{}), at: now}
		if c.entries == nil {
			c.entries = map[string]*changeEntry{}
		}
		c.entries[key] = e
		c.evict(now, ttl)
		c.mu.Unlock()
		e.trends, e.err = compute()
		close(e.done)
		if e.err != nil { // do not keep a failure (a cancelled request, say) for the next ones
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key)
			}
			c.mu.Unlock()
		}
		return e.trends, e.err
	}
	c.mu.Unlock()
	<-e.done
	return e.trends, e.err
}

// evict drops expired entries, then the oldest while there are too many. Callers hold mu.
func (c *changeCache) evict(now time.Time, ttl time.Duration) {
	for k, e := range c.entries {
		if now.Sub(e.at) >= ttl && isDone(e.done) {
			delete(c.entries, k)
		}
	}
	for len(c.entries) > changeCacheEntries {
		keys := make([]string, 0, len(c.entries))
		for k := range c.entries {
			keys = append(keys, k)
		}
		oldest := slices.MinFunc(keys, func(a, b string) int { return c.entries[a].at.Compare(c.entries[b].at) })
		delete(c.entries, oldest)
	}
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
