package auth

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// testUsers returns Users with alice (admin) and bob (viewer), passwords "<name>-pw", hashed
// at bcrypt's lowest cost.
func testUsers(t *testing.T) *Users {
	t.Helper()
	users, err := newUsers([]User{
		{Name: "alice", PasswordHash: mustHash(t, "alice-pw"), Role: RoleAdmin},
		{Name: "bob", PasswordHash: mustHash(t, "bob-pw"), Role: RoleViewer},
	}, t.TempDir(), "", nil, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return users
}

// login is what the login handler does after Users.Authenticate: a session for the user with
// its hash.
func login(t *testing.T, s *Sessions, users *Users, name string) string {
	t.Helper()
	u, ok := users.Get(name)
	if !ok {
		t.Fatalf("no user %q", name)
	}
	id, _, err := s.Create(u)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSessionsLifecycle(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	users := testUsers(t)
	s, err := NewSessions(dir, time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := users.Get("alice")
	id, expires, err := s.Create(alice)
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(id); err != nil || len(raw) != 32 {
		t.Fatalf("id %q is not 32 base64url bytes: %v", id, err)
	}
	if !expires.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("expires = %v", expires)
	}
	u, ok := s.Lookup(id, users)
	if !ok || u.Name != "alice" || u.Role != RoleAdmin || u.PasswordHash != "" {
		t.Fatalf("Lookup = %+v, %v", u, ok)
	}
	for _, bad := range []string{"", "nope", id + "x", strings.Repeat("a", 1000)} {
		if _, ok := s.Lookup(bad, users); ok {
			t.Fatalf("Lookup(%q) succeeded", bad)
		}
	}

	// Only the hash of the id is stored, and the file is private.
	path := filepath.Join(dir, "auth", "sessions.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), id) || strings.Contains(string(data), alice.PasswordHash) {
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
	if u, ok := s2.Lookup(id, users); !ok || u.Name != "alice" {
		t.Fatalf("session lost across reload: %+v %v", u, ok)
	}

	// Delete persists too.
	if err := s2.Delete(id); err != nil {
		t.Fatal(err)
	}
	if err := s2.Delete(id); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if _, ok := s2.Lookup(id, users); ok {
		t.Fatal("deleted session still valid")
	}
	s3, err := NewSessions(dir, time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s3.Lookup(id, users); ok {
		t.Fatal("deleted session came back after reload")
	}
}

func TestSessionsExpiry(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	users := testUsers(t)
	s, err := NewSessions(dir, 10*time.Minute, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	old := login(t, s, users, "alice")
	clock.Advance(9 * time.Minute)
	young := login(t, s, users, "bob")
	if _, ok := s.Lookup(old, users); !ok {
		t.Fatal("session expired early")
	}
	clock.Advance(time.Minute)
	if _, ok := s.Lookup(old, users); ok {
		t.Fatal("session valid at its expiry time")
	}
	if _, ok := s.Lookup(young, users); !ok {
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
	if _, _, err := s.Create(User{Name: "alice", Role: RoleAdmin}); err == nil {
		t.Fatal("session without the password hash it was verified against created")
	}
}

func TestSessionsConcurrent(t *testing.T) {
	users := testUsers(t)
	s, err := NewSessions(t.TempDir(), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 10 {
				bob, _ := users.Get("bob")
				id, _, err := s.Create(bob)
				if err != nil {
					t.Error(err)
					return
				}
				if _, ok := s.Lookup(id, users); !ok {
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

// TestSessionsEndWithTheCredential: a session is honoured only while its user exists with the
// password hash it logged in with, across restarts (users come from the config file); a role
// change applies to live sessions at once.
func TestSessionsEndWithTheCredential(t *testing.T) {
	dir := t.TempDir()
	users := testUsers(t)
	s, err := NewSessions(dir, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	aliceID, bobID := login(t, s, users, "alice"), login(t, s, users, "bob")
	aliceOther := login(t, s, users, "alice") // a second browser

	// Restart with alice's password changed and bob's role changed to admin.
	alice, _ := users.Get("alice")
	bob, _ := users.Get("bob")
	changed, err := newUsers([]User{
		{Name: "alice", PasswordHash: mustHash(t, "alice-new-pw"), Role: RoleAdmin},
		{Name: "bob", PasswordHash: bob.PasswordHash, Role: RoleAdmin},
	}, t.TempDir(), "", nil, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := NewSessions(dir, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{aliceID, aliceOther} {
		if u, ok := s2.Lookup(id, changed); ok {
			t.Fatalf("alice's session survived her password change: %+v", u)
		}
	}
	if u, ok := s2.Lookup(bobID, changed); !ok || u.Role != RoleAdmin {
		t.Fatalf("bob after his role change: %+v %v, want admin", u, ok)
	}
	// Going back to the old hash does not revive what was ended.
	if _, ok := s2.Lookup(aliceID, users); ok {
		t.Fatal("an ended session came back")
	}

	// Restart with bob removed: EndStale ends his session at start-up and says how many.
	s3, err := NewSessions(dir, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	onlyAlice, err := newUsers([]User{alice}, t.TempDir(), "", nil, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s3.EndStale(onlyAlice); n != 1 || err != nil {
		t.Fatalf("EndStale = %d, %v; want 1 (bob's)", n, err)
	}
	s4, err := NewSessions(dir, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := s4.Len(); n != 0 {
		t.Fatalf("%d sessions left on disk, want 0", n)
	}
}

// Sessions stored before they were bound to a credential are not honoured.
func TestSessionsWithoutCredential(t *testing.T) {
	dir := t.TempDir()
	users := testUsers(t)
	if err := os.MkdirAll(filepath.Join(dir, "auth"), 0o700); err != nil {
		t.Fatal(err)
	}
	id := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	old := `{"sessions":{"` + hashID(id) + `":{"user":"alice","role":"admin","expires":"2999-01-01T00:00:00Z"}}}`
	if err := os.WriteFile(filepath.Join(dir, "auth", "sessions.json"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := NewSessions(dir, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := s.Lookup(id, users); ok {
		t.Fatalf("an unbound session was honoured: %+v", u)
	}
}

// One user's logins beyond MaxSessionsPerUser end that user's oldest session, never another
// user's, so scripted logins cannot grow sessions.json without bound.
func TestSessionsPerUserBounded(t *testing.T) {
	users := testUsers(t)
	clock := newFakeClock()
	s, err := NewSessions(t.TempDir(), time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	bob := login(t, s, users, "bob")
	var ids []string
	for range MaxSessionsPerUser + 3 {
		ids = append(ids, login(t, s, users, "alice"))
		clock.Advance(time.Second)
	}
	if n := s.Len(); n != MaxSessionsPerUser+1 {
		t.Fatalf("Len = %d, want %d (alice's bound plus bob's)", n, MaxSessionsPerUser+1)
	}
	for i, id := range ids {
		if _, ok := s.Lookup(id, users); ok != (i >= 3) {
			t.Fatalf("alice's session %d honoured = %v", i, ok)
		}
	}
	if _, ok := s.Lookup(bob, users); !ok {
		t.Fatal("bob's session ended by alice's logins")
	}
}
