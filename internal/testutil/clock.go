package testutil

import (
	"sync"
	"time"
)

// Clock is a fake clock for code with an injected Now and After (the host sampler, the agent,
// a remote-write forwarder): Now stands still until Advance, and a wait of After fires once
// Advance reaches its end (at once when it is not in the future). It is safe for concurrent use.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	waits []clockWait
}

type clockWait struct {
	d  time.Duration // as asked for
	at time.Time
	c  chan time.Time
}

// NewClock returns a Clock at t0.
func NewClock(t0 time.Time) *Clock { return &Clock{now: t0} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the clock's time once Advance has moved it d on.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
	} else {
		c.waits = append(c.waits, clockWait{d: d, at: c.now.Add(d), c: ch})
	}
	return ch
}

// Advance moves the clock d on and fires the waits that have ended by then.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	left := c.waits[:0]
	for _, w := range c.waits {
		if w.at.After(c.now) {
			left = append(left, w)
			continue
		}
		w.c <- c.now
	}
	c.waits = left
}

// Waits returns the durations asked for by the waits that have not fired yet, oldest first;
// a test reads there whether the code under test is waiting, and for how long.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Duration, len(c.waits))
	for i, w := range c.waits {
		out[i] = w.d
	}
	return out
}
