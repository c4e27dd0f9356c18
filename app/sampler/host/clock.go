package host

import "github.com/redwatch/redwatch/internal/clock"

// Clock is where a Sampler's Run reads the time of its rounds (their samples' timestamp and
// LastRun) and waits between them. Tests inject a fake one to drive rounds without waiting; nil
// in Options means the real clock. What measures the machine rather than the schedule stays on
// the real clock: the CPU window of host_cpu_usage_percent and LastDuration.
type Clock = clock.Clock
