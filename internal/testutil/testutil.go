// Package testutil holds the helpers redwatch's tests share: a log buffer that several
// goroutines write to, and a wait for a condition reached by real processes (a redis-server, the
// real binary, an HTTP server). Logic that runs on time uses testing/synctest or an injected
// clock instead of waiting.
package testutil

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for concurrent use: give it to a logger that goroutines
// write to, and read it from the test.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Reset forgets everything written so far.
func (s *SyncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// Eventually polls cond every 10 ms until it holds, failing the test after within. cond
// returns whether it holds and, when not, what it saw, which the failure reports.
func Eventually(t testing.TB, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	EventuallyEvery(t, within, 10*time.Millisecond, what, cond)
}

// EventuallyEvery is Eventually polling every every: for a condition that costs the process
// under test real work (a browser query, a large export), asked less often.
func EventuallyEvery(t testing.TB, within, every time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(within); ; time.Sleep(every) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			break
		}
	}
	t.Fatalf("%s: not within %s (last: %s)", what, within, last)
}

// WaitFor is Eventually for a condition with nothing to report, within 5 s.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Eventually(t, 5*time.Second, what, func() (bool, string) { return cond(), "" })
}
