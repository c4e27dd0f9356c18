package auth

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(clock.Now)
	const ip, other = "192.0.2.1", "192.0.2.2"

	for i := range LoginFailuresAllowed {
		if !l.Allow(ip) {
			t.Fatalf("blocked after %d failures", i)
		}
		l.Fail(ip)
		clock.Advance(20 * time.Second)
	}
	if l.Allow(ip) {
		t.Fatal("allowed after 10 failures")
	}
	if !l.Allow(other) {
		t.Fatal("another IP is blocked")
	}
	// The window runs from the first failure: 200s have passed, 100s remain.
	if got := l.RetryAfter(ip); got != 100*time.Second {
		t.Fatalf("RetryAfter = %v, want 100s", got)
	}
	clock.Advance(99 * time.Second)
	if l.Allow(ip) {
		t.Fatal("allowed before the window passed")
	}
	clock.Advance(time.Second)
	if !l.Allow(ip) {
		t.Fatal("still blocked after the window passed")
	}
	// A fresh window: one failure is far from the limit.
	l.Fail(ip)
	if !l.Allow(ip) {
		t.Fatal("blocked after one failure in a new window")
	}

	// Success forgets the failures.
	for range LoginFailuresAllowed - 1 {
		l.Fail(other)
	}
	l.Success(other)
	l.Fail(other)
	if !l.Allow(other) {
		t.Fatal("Success did not reset the count")
	}
}

func TestLimiterSweep(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(clock.Now)
	for i := range limiterSweepAt {
		l.Fail(string(rune(i)))
	}
	clock.Advance(LoginFailureWindow)
	l.Fail("fresh")
	if n := len(l.byKey); n != 1 {
		t.Fatalf("after sweep %d entries, want 1", n)
	}
}
