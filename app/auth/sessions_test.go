package auth

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSessionsLifecycle(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	s, err := NewSessions(dir, time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	id, expires, err := s.Create(User{Name: "alice", PasswordHash: "$2a$secret", Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(id); err != nil || len(raw) != 32 {
		t.Fatalf("id %q is not 32 base64url bytes: %v", id, err)
	}
	if !expires.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("expires = %v", expires)
	}
	u, ok := s.Lookup(id)
	if !ok || u.Name != "alice" || u.Role != RoleAdmin || u.PasswordHash != "" {
		t.Fatalf("Lookup = %+v, %v", u, ok)
	}
	for _, bad := range []string{"", "nope", id + "x", strings.Repeat("a", 1000)} {
		if _, ok := s.Lookup(bad); ok {
			t.Fatalf("Lookup(%q) succeeded", bad)
		}
	}

	// Only the hash of the id is stored, and the file is private.
	path := filepath.Join(dir, "auth", "sessions.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), id) || strings.Contains(string(data), "$2a$secret") {
		t.Fatalf("sessions.json holds a secret: %s", data)
	}
	if !strings.Contains(string(data), hashID(id)) {
		t.Fatalf("sessions.json lacks the id hash: %s", data)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("sessions.json mode %v", fi.Mode())
	}

	// A restart keeps the session.
	s2, err := NewSessions(dir, time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := s2.Lookup(id); !ok || u.Name != "alice" {
		t.Fatalf("session lost across reload: %+v %v", u, ok)
	}

	// Delete persists too.
	if err := s2.Delete(id); err != nil {
		t.Fatal(err)
	}
	if err := s2.Delete(id); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if _, ok := s2.Lookup(id); ok {
		t.Fatal("deleted session still valid")
	}
	s3, err := NewSessions(dir, time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s3.Lookup(id); ok {
		t.Fatal("deleted session came back after reload")
	}
}

func TestSessionsExpiry(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	s, err := NewSessions(dir, 10*time.Minute, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	old, _, err := s.Create(User{Name: "a", Role: RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(9 * time.Minute)
	young, _, err := s.Create(User{Name: "b", Role: RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup(old); !ok {
		t.Fatal("session expired early")
	}
	clock.Advance(time.Minute)
	if _, ok := s.Lookup(old); ok {
		t.Fatal("session valid at its expiry time")
	}
	if _, ok := s.Lookup(young); !ok {
		t.Fatal("younger session expired")
	}
	if n := s.Len(); n != 1 {
		t.Fatalf("Len = %d, want 1", n)
	}

	// Expired entries are dropped on load.
	clock.Advance(9 * time.Minute)
	s2, err := NewSessions(dir, 10*time.Minute, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if n := s2.Len(); n != 0 {
		t.Fatalf("Len after reload past expiry = %d, want 0", n)
	}
}

func TestNewSessionsErrors(t *testing.T) {
	if _, err := NewSessions(t.TempDir(), 0, nil); err == nil {
		t.Fatal("zero ttl accepted")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "auth"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "auth", "sessions.json"), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSessions(dir, time.Hour, nil); err == nil || !strings.Contains(err.Error(), "sessions.json") {
		t.Fatalf("got %v, want an error naming sessions.json", err)
	}
	s, err := NewSessions(t.TempDir(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(User{}); err == nil {
		t.Fatal("session without user created")
	}
}

func TestSessionsConcurrent(t *testing.T) {
	s, err := NewSessions(t.TempDir(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 10 {
				id, _, err := s.Create(User{Name: "u", Role: RoleViewer})
				if err != nil {
					t.Error(err)
					return
				}
				if _, ok := s.Lookup(id); !ok {
					t.Errorf("goroutine %d: fresh session not found", i)
				}
				if err := s.Delete(id); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := s.Len(); n != 0 {
		t.Fatalf("Len = %d, want 0", n)
	}
}
