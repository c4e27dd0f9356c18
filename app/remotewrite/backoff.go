package remotewrite

import (
	"math/rand/v2"
	"time"
)

// Default bounds of a Backoff. The cap is short on purpose (Prometheus' remote write caps at
// 5 s too): a Forwarder resumes at most one wait after its receiver answers again, and one
// attempt per 2.5 to 5 s is no burden for a receiver that is down (a refused connection) or
// overloaded (it may ask for longer with Retry-After, up to MaxRetryAfter).
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = 5 * time.Second
)

// MaxRetryAfter bounds how long a Forwarder honours a receiver's Retry-After.
const MaxRetryAfter = time.Minute

// Backoff computes capped exponential delays with jitter: the n-th consecutive failure waits a
// random duration in [d/2, d] where d = Min·2^(n-1), capped at Max. The zero value uses
// DefaultMinBackoff and DefaultMaxBackoff. Not safe for concurrent use.
type Backoff struct {
	Min, Max time.Duration
	failures int
}

// bounds returns Min and Max with the defaults applied.
func (b *Backoff) bounds() (lo, hi time.Duration) {
	lo, hi = b.Min, b.Max
	if lo <= 0 {
		lo = DefaultMinBackoff
	}
	if hi <= 0 {
		hi = DefaultMaxBackoff
	}
	return lo, max(hi, lo)
}

// Next records a failure and returns how long to wait before the next attempt.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.bounds()
	d := lo
	for i := 0; i < b.failures && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	b.failures++
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

// Reset records a success: the next failure waits about Min again.
func (b *Backoff) Reset() { b.failures = 0 }
