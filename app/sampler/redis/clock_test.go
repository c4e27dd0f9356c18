package redis

import (
	"sync/atomic"
	"time"
)

// steppingClock is a Clock on which every look is a second later than the one before and no
// wait takes any time: whatever was due is due by the next look.
type steppingClock struct{ seconds atomic.Int64 }

func (c *steppingClock) Now() time.Time { return keyTestAt(int(c.seconds.Add(1))) }

func (c *steppingClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- keyTestAt(int(c.seconds.Load()))
	return ch
}
