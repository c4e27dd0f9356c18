package auth

import (
	"sync"
	"time"
)

const (
	// LoginFailuresAllowed is how many failed logins one IP may make per LoginFailureWindow.
	LoginFailuresAllowed = 10
	// LoginFailureWindow starts at an IP's first failed login; when it has passed, the IP's
	// count starts again from zero.
	LoginFailureWindow = 5 * time.Minute

	// limiterSweepAt is the map size above which Fail drops entries whose window has passed.
	limiterSweepAt = 10000
)

// Limiter counts failed logins per client IP: after LoginFailuresAllowed failures within
// LoginFailureWindow of the first one, Allow reports false until that window has passed.
// Callers answer 429 when Allow is false and should not check the password at all.
// A Limiter is safe for concurrent use.
//
// The IP should come from echo's Context.RealIP with an IPExtractor configured on the echo
// instance; without one, echo trusts X-Forwarded-For and a client can pick its own IP.
type Limiter struct {
	now func() time.Time

	mu    sync.Mutex
	byKey map[string]failures
}

type failures struct {
	count int
	start time.Time
}

// NewLimiter returns an empty Limiter. now is the clock; nil means time.Now.
func NewLimiter(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, byKey: map[string]failures{}}
}

// Allow reports whether ip may attempt a login now.
func (l *Limiter) Allow(ip string) bool {
	return l.RetryAfter(ip) == 0
}

// RetryAfter returns how long ip must wait before Allow reports true again; 0 if it may
// try now.
func (l *Limiter) RetryAfter(ip string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.byKey[ip]
	if !ok {
		return 0
	}
	left := f.start.Add(LoginFailureWindow).Sub(l.now())
	if left <= 0 {
		delete(l.byKey, ip)
		return 0
	}
	if f.count < LoginFailuresAllowed {
		return 0
	}
	return left
}

// Fail records a failed login from ip.
func (l *Limiter) Fail(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	if len(l.byKey) >= limiterSweepAt {
		for k, f := range l.byKey {
			if !t.Before(f.start.Add(LoginFailureWindow)) {
				delete(l.byKey, k)
			}
		}
	}
	f, ok := l.byKey[ip]
	if !ok || !t.Before(f.start.Add(LoginFailureWindow)) {
		f = failures{start: t}
	}
	f.count++
	l.byKey[ip] = f
}

// Success forgets ip's failed logins.
func (l *Limiter) Success(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byKey, ip)
}
