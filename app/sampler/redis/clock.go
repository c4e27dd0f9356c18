package redis

import "time"

// Clock is where a Sampler reads the time and waits: the time of its rounds and samples (and
// of the INFO calls its rates are computed over), and the waits between rounds, the key
// sampler's included. Tests inject a fake one to drive rounds without waiting; nil in Options
// means the real clock. How long a Redis round trip took (redis_ping_latency_seconds,
// LastDuration, slow commands) is always measured on the real clock: it measures the server,
// not the schedule.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed (at once when d <= 0).
	After(d time.Duration) <-chan time.Time
}

// realClock is the Clock of time.Now and time.After.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// clockOrReal returns c, or the real clock when c is nil.
func clockOrReal(c Clock) Clock {
	if c == nil {
		return realClock{}
	}
	return c
}
