package remotewrite

import (
	"math/rand/v2"
	"time"
)

// Default bounds of a Backoff.
const (
	DefaultMinBackoff = time.Second
	DefaultMaxBackoff = time.Minute
)

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

// Cap is the longest wait Next returns.
func (b *Backoff) Cap() time.Duration {
	_, hi := b.bounds()
	return hi
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
