package redis

import (
	"sync"
	"sync/atomic"
	"time"
)

// testClock is a Clock the test moves: Now stands still until Advance, and a wait of After
// fires once Advance reaches its end (at once when it is not in the future). It starts at
// keyTestT0.
type testClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []testWait
}

type testWait struct {
	at time.Time
	c  chan time.Time
}

func newTestClock() *testClock { return &testClock{now: keyTestT0} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
	} else {
		c.waits = append(c.waits, testWait{at: c.now.Add(d), c: ch})
	}
	return ch
}

// Advance moves the clock d on and fires the waits that have ended by then.
func (c *testClock) Advance(d time.Duration) {
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

// steppingClock is a Clock on which every look is a second later than the one before and no
// wait takes any time: whatever was due is due by the next look.
type steppingClock struct{ seconds atomic.Int64 }

func (c *steppingClock) Now() time.Time { return keyTestAt(int(c.seconds.Add(1))) }

func (c *steppingClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- keyTestAt(int(c.seconds.Load()))
	return ch
}
