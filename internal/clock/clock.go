// Package clock is the clock redwatch's samplers read the time from and wait on, injected so
// that their tests drive rounds without waiting (internal/testutil.Clock is the fake one).
package clock

import "time"

// Clock gives the time and waits.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed (at once when d <= 0).
	After(d time.Duration) <-chan time.Time
}

// Real is the Clock of time.Now and time.After.
type Real struct{}

func (Real) Now() time.Time                         { return time.Now() }
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// OrReal returns c, or the real clock when c is nil.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}
