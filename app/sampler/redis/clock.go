package redis

import "github.com/redwatch/redwatch/internal/clock"

// Clock is where a Sampler reads the time and waits: the time of its rounds and samples (and
// of the INFO calls its rates are computed over), and the waits between rounds, the key
// sampler's included. Tests inject a fake one to drive rounds without waiting; nil in Options
// means the real clock. How long a Redis round trip took (redis_ping_latency_seconds,
// LastDuration, slow commands) is always measured on the real clock: it measures the server,
// not the schedule.
type Clock = clock.Clock
