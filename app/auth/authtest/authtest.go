// Package authtest is the test hook for bcrypt's cost: Hash makes password hashes at
// bcrypt.MinCost, so tests that log in do not spend ~50 ms of CPU per hash and per check.
// auth.Users matches its dummy hash's cost to the configured hashes, so unknown names are cheap
// too. The product never imports it: it hashes with auth.HashPassword (bcrypt's default cost).
package authtest

import (
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

var (
	mu     sync.Mutex
	hashes = map[string]string{}
)

// Hash returns a bcrypt hash of password at bcrypt.MinCost, the same one for the same password
// within a test binary.
func Hash(t testing.TB, password string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if h, ok := hashes[password]; ok {
		return h
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hashes[password] = string(h)
	return string(h)
}
