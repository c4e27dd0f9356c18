package auth

import (
	"net"
	"sync"
	"time"
)

const (
	// LoginFailuresPerUserIP is how many failed logins one client may make for one user name
	// per LoginFailureWindow. It is the tight bound: it stops guessing one account's password
	// from one place, without touching that account's logins from anywhere else.
	LoginFailuresPerUserIP = 5
	// LoginFailuresPerIP is how many failed logins one client may make per
	// LoginFailureWindow across all user names (so that rotating names does not reset the
	// count).
	LoginFailuresPerIP = 20
	// LoginFailureWindow starts at a client's (or a client and user's) first failed login;
	// when it has passed, that count starts again from zero.
	LoginFailureWindow = 5 * time.Minute
	// LimiterMaxEntries bounds each of the Limiter's two tables (per client, per client and
	// user). When a table is full, entries whose window has passed are dropped, then the
	// oldest one.
	LimiterMaxEntries = 10000

	// maxLimiterUserBytes is how much of a user name goes into a key: a name longer than any
	// configured one cannot log in anyway, and must not make the key large.
	maxLimiterUserBytes = 128
)

// Limiter bounds password checks per client and per (client, user name), so that whoever
// guesses passwords from one place is stopped there while the real user (from another
// address) and HTTP Basic clients that know their password are not. A client is an IP
// address, or for IPv6 its /64 network (one host commonly holds a whole /64).
//
// Use: call Attempt before checking a password; when it returns 0 the attempt is counted as
// a failure right away (so concurrent guesses cannot all pass before the first one fails),
// then call Success if the password was right, which takes that attempt back and forgets the
// failures of that (client, user). Callers answer 429 with Retry-After when Attempt returns
// more than 0, and do not check the password at all. A shortcut that accepts a password
// without Attempt (the HTTP Basic cache) must first ask Blocked, and count the attempts that
// Attempt refused with CountRefused: otherwise a client that the limiter refuses could still
// tell a right guess (accepted) from a wrong one (429).
//
// The IP must come from echo's Context.RealIP with an IPExtractor that believes
// X-Forwarded-For only from trusted proxies; otherwise a client can pick its own IP.
// A Limiter is safe for concurrent use; its memory is bounded by LimiterMaxEntries.
type Limiter struct {
	now func() time.Time

	mu       sync.Mutex
	byIP     map[string]window // key: clientKey(ip)
	byUserIP map[string]window // key: clientKey(ip) + "\x00" + user (clipped)
}

// window counts the attempts within LoginFailureWindow of start.
type window struct {
	count int
	start time.Time
}

// NewLimiter returns an empty Limiter. now is the clock; nil means time.Now.
func NewLimiter(now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{now: now, byIP: map[string]window{}, byUserIP: map[string]window{}}
}

// Attempt asks whether ip may check a password for user now. It returns 0 and counts the
// attempt as a failure, or returns how long to wait (and counts nothing; see CountRefused)
// when ip failed LoginFailuresPerIP times, or LoginFailuresPerUserIP times for user, within
// the window.
func (l *Limiter) Attempt(user, ip string) (retryAfter time.Duration) {
	client := clientKey(ip)
	pair := pairKey(user, client)
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	ipw := current(l.byIP, client, t)
	pw := current(l.byUserIP, pair, t)
	if ipw.count >= LoginFailuresPerIP {
		retryAfter = ipw.start.Add(LoginFailureWindow).Sub(t)
	}
	if pw.count >= LoginFailuresPerUserIP {
		retryAfter = max(retryAfter, pw.start.Add(LoginFailureWindow).Sub(t))
	}
	if retryAfter > 0 {
		return retryAfter
	}
	put(l.byIP, client, count(ipw, t))
	put(l.byUserIP, pair, count(pw, t))
	return 0
}

// Blocked returns how long ip must wait before it may check a password for user again
// because it failed LoginFailuresPerUserIP times for user within the window, or 0. It counts
// nothing, and ignores the per-IP bound (so a client that knows its password is not locked
// out by someone else's guesses at other names from the same address).
func (l *Limiter) Blocked(user, ip string) (retryAfter time.Duration) {
	pair := pairKey(user, clientKey(ip))
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	if pw := current(l.byUserIP, pair, t); pw.count >= LoginFailuresPerUserIP {
		return pw.start.Add(LoginFailureWindow).Sub(t)
	}
	return 0
}

// CountRefused counts an attempt that Attempt refused towards (ip, user), until that pair is
// blocked too (Blocked). Call it for refused HTTP Basic attempts at a user that exists, so
// that a client over the per-IP bound cannot keep a pair's count frozen below its own and
// test guesses against the Basic cache. Only for existing users: names are few then, so
// refused requests, which cost no bcrypt, cannot flood the table and evict other entries.
func (l *Limiter) CountRefused(user, ip string) {
	pair := pairKey(user, clientKey(ip))
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	if pw := current(l.byUserIP, pair, t); pw.count < LoginFailuresPerUserIP {
		put(l.byUserIP, pair, count(pw, t))
	}
}

// Success records that the attempt Attempt counted for (user, ip) was a right password: it
// takes that attempt back from ip's count and forgets ip's failures for user. ip's failures
// for other names stay counted.
func (l *Limiter) Success(user, ip string) {
	client := clientKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byUserIP, pairKey(user, client))
	if w, ok := l.byIP[client]; ok {
		if w.count--; w.count <= 0 {
			delete(l.byIP, client)
		} else {
			l.byIP[client] = w
		}
	}
}

// len returns the sizes of the two tables (for tests).
func (l *Limiter) len() (ips, pairs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byIP), len(l.byUserIP)
}

// current returns m[key] if its window is still open at t, else an empty window.
func current(m map[string]window, key string, t time.Time) window {
	w, ok := m[key]
	if !ok || !t.Before(w.start.Add(LoginFailureWindow)) {
		return window{}
	}
	return w
}

// count returns w with one more attempt at t (starting the window if it is empty).
func count(w window, t time.Time) window {
	if w.count == 0 {
		w.start = t
	}
	w.count++
	return w
}

// put stores w under key, first making room when m is full: windows that have passed are
// dropped, then the oldest one.
func put(m map[string]window, key string, w window) {
	if _, ok := m[key]; !ok && len(m) >= LimiterMaxEntries {
		for k, old := range m {
			if !w.start.Before(old.start.Add(LoginFailureWindow)) {
				delete(m, k)
			}
		}
		for len(m) >= LimiterMaxEntries {
			oldest, first := "", true
			for k, old := range m {
				if first || old.start.Before(m[oldest].start) {
					oldest, first = k, false
				}
			}
			delete(m, oldest)
		}
	}
	m[key] = w
}

// clientKey is ip as the limiter counts it: an IPv4 address as is, an IPv6 address as its
// /64 network, anything else (clipped) as given.
func clientKey(ip string) string {
	parsed := net.ParseIP(ip)
	switch {
	case parsed == nil:
		return clip(ip, 64)
	case parsed.To4() != nil:
		return parsed.To4().String()
	default:
		return parsed.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
}

func pairKey(user, client string) string {
	return client + "\x00" + clip(user, maxLimiterUserBytes)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
