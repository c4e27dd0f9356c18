package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fail makes n failed attempts of user from ip, each admitted.
func fail(t *testing.T, l *Limiter, user, ip string, n int) {
	t.Helper()
	for i := range n {
		if wait := l.Attempt(user, ip); wait != 0 {
			t.Fatalf("%s from %s: attempt %d refused (wait %v)", user, ip, i, wait)
		}
	}
}

func TestLimiterPerUserAndIP(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(clock.Now)
	const attacker, admin = "192.0.2.1", "198.51.100.7"

	for i := range LoginFailuresPerUserIP {
		if wait := l.Attempt("admin", attacker); wait != 0 {
			t.Fatalf("attempt %d refused", i)
		}
		clock.Advance(20 * time.Second)
	}
	// The window runs from the first failure: 100s have passed, 200s remain.
	if wait := l.Attempt("admin", attacker); wait != 200*time.Second {
		t.Fatalf("6th guess for admin: wait %v, want 200s", wait)
	}
	// The real admin, elsewhere, is not locked out, and succeeds.
	if wait := l.Attempt("admin", admin); wait != 0 {
		t.Fatalf("admin from another IP refused: %v", wait)
	}
	l.Success("admin", admin)
	// The attacker may still try other names, up to the per-IP bound.
	for i := LoginFailuresPerUserIP; i < LoginFailuresPerIP; i++ {
		if wait := l.Attempt(fmt.Sprint("user", i), attacker); wait != 0 {
			t.Fatalf("attempt %d with a new name refused", i)
		}
	}
	if wait := l.Attempt("someone-new", attacker); wait == 0 {
		t.Fatalf("attempt %d from one IP admitted, want the per-IP bound %d", LoginFailuresPerIP+1, LoginFailuresPerIP)
	}
	clock.Advance(LoginFailureWindow)
	if wait := l.Attempt("admin", attacker); wait != 0 {
		t.Fatalf("still refused after the window passed: %v", wait)
	}
}

func TestLimiterSuccess(t *testing.T) {
	l := NewLimiter(newFakeClock().Now)
	const ip = "192.0.2.1"
	fail(t, l, "alice", ip, LoginFailuresPerUserIP-1)
	if l.Attempt("alice", ip) != 0 {
		t.Fatal("refused before the bound")
	}
	// A right password takes its own attempt back and forgets alice's failures from ip.
	l.Success("alice", ip)
	fail(t, l, "alice", ip, LoginFailuresPerUserIP)
	if l.Attempt("alice", ip) == 0 {
		t.Fatal("admitted past the bound")
	}
	// Success for one name does not clear the IP's failures for others.
	l2 := NewLimiter(newFakeClock().Now)
	for i := range LoginFailuresPerIP - 1 {
		fail(t, l2, fmt.Sprint("u", i), ip, 1)
	}
	fail(t, l2, "viewer", ip, 1)
	l2.Success("viewer", ip)
	fail(t, l2, "x", ip, 1)
	if l2.Attempt("y", ip) == 0 {
		t.Fatal("a success reset the IP's count of other names' failures")
	}
}

// Concurrent guesses cannot all pass before the first one fails: the attempt is counted when
// it is admitted.
func TestLimiterConcurrentAttempts(t *testing.T) {
	l := NewLimiter(nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 200 {
		wg.Go(func() {
			if l.Attempt("admin", "192.0.2.1") == 0 {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if admitted != LoginFailuresPerUserIP {
		t.Fatalf("%d of 200 concurrent guesses admitted, want %d", admitted, LoginFailuresPerUserIP)
	}
}

func TestLimiterIPv6Networks(t *testing.T) {
	l := NewLimiter(newFakeClock().Now)
	// Every address of one /64 counts as one client.
	for i := range LoginFailuresPerIP {
		fail(t, l, fmt.Sprint("u", i), fmt.Sprintf("2001:db8:1:2::%x", i+1), 1)
	}
	if l.Attempt("v", "2001:db8:1:2:ffff::1") == 0 {
		t.Fatal("rotating addresses within a /64 escaped the per-IP bound")
	}
	if l.Attempt("v", "2001:db8:1:3::1") != 0 {
		t.Fatal("another /64 is refused")
	}
}

func TestLimiterBounded(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(clock.Now)
	long := string(make([]byte, 10000))
	for i := range LimiterMaxEntries + 500 {
		l.Attempt(long, fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	if ips, pairs := l.len(); ips != LimiterMaxEntries || pairs != LimiterMaxEntries {
		t.Fatalf("tables hold %d and %d entries, want %d each", ips, pairs, LimiterMaxEntries)
	}
	for k := range l.byUserIP {
		if len(k) > 64+1+maxLimiterUserBytes {
			t.Fatalf("key of %d bytes", len(k))
		}
	}
	// Windows that have passed are dropped first.
	clock.Advance(LoginFailureWindow)
	l.Attempt("fresh", "192.0.2.1")
	if ips, pairs := l.len(); ips != 1 || pairs != 1 {
		t.Fatalf("after the window: %d and %d entries, want 1 and 1", ips, pairs)
	}
}

// Attempts refused by the per-IP bound count for their (client, user) pair when CountRefused
// says so, so Blocked reports the pair once it reached its own bound.
func TestLimiterBlockedCountsRefusedAttempts(t *testing.T) {
	l := NewLimiter(newFakeClock().Now)
	const ip = "192.0.2.1"
	for i := range LoginFailuresPerIP {
		fail(t, l, fmt.Sprint("user", i), ip, 1)
	}
	if wait := l.Blocked("alice", ip); wait != 0 {
		t.Fatalf("alice blocked before any guess at her: %v", wait)
	}
	if _, pairs := l.len(); pairs != LoginFailuresPerIP {
		t.Fatalf("%d pairs, want %d", pairs, LoginFailuresPerIP)
	}
	if wait := l.Attempt("mallory", ip); wait == 0 {
		t.Fatal("attempt over the per-IP bound admitted")
	}
	if _, pairs := l.len(); pairs != LoginFailuresPerIP {
		t.Fatalf("a refused attempt added a pair: %d, want %d", pairs, LoginFailuresPerIP)
	}
	for i := range LoginFailuresPerUserIP + 2 {
		if wait := l.Attempt("alice", ip); wait == 0 {
			t.Fatalf("attempt %d over the per-IP bound admitted", i)
		}
		l.CountRefused("alice", ip)
		if i < LoginFailuresPerUserIP-1 && l.Blocked("alice", ip) != 0 {
			t.Fatalf("alice blocked after %d refused guesses", i+1)
		}
	}
	if wait := l.Blocked("alice", ip); wait != LoginFailureWindow {
		t.Fatalf("Blocked = %v after %d refused guesses, want %v", wait, LoginFailuresPerUserIP, LoginFailureWindow)
	}
	if wait := l.Blocked("alice", "198.51.100.7"); wait != 0 {
		t.Fatalf("alice blocked from another address: %v", wait)
	}
}
