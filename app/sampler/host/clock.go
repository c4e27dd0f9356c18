package host

import "time"

// Clock is where a Sampler's Run reads the time of its rounds (their samples' timestamp and
// LastRun) and waits between them. Tests inject a fake one to drive rounds without waiting; nil
// in Options means the real clock. What measures the machine rather than the schedule stays on
// the real clock: the CPU window of host_cpu_usage_percent and LastDuration.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed (at once when d <= 0).
	After(d time.Duration) <-chan time.Time
}

// realClock is the Clock of time.Now and time.After.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
