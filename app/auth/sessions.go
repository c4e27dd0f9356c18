package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/redwatch/redwatch/app/atomicfile"
)

// SessionCookie is the name of the cookie that carries the session id.
const SessionCookie = "redwatch_session"

const (
	sessionsFile       = "sessions.json"
	sessionIDBytes     = 32
	maxSessionIDLength = 64 // base64url of 32 bytes is 43 characters
)

// MaxSessionsPerUser bounds one user's live sessions: a login over it ends that user's session
// that expires first. Without it, anyone who knows one password (a viewer's) could script
// logins until sessions.json, rewritten whole on every login, took the disk and each login
// rewrote megabytes.
const MaxSessionsPerUser = 64

// Sessions maps session ids to users. Ids are 32 random bytes, base64url-encoded; only their
// SHA-256 is kept, in memory and in <dataDir>/auth/sessions.json (mode 0600, rewritten atomically
// on every Create and Delete), so a restart keeps people logged in and the file cannot be used
// to hijack a session. Expired sessions are dropped on load, on lookup, and whenever the file
// is rewritten.
//
// A session is bound to the credential it was created with: it records a fingerprint of the
// user's bcrypt hash at login, and Lookup honours it only while that user exists with that
// same hash. Changing a user's password (or removing the user) therefore ends all of that
// user's sessions, at the next request or at the next start (EndStale); a changed role takes
// effect at once because Lookup returns the user's current role. Sessions is safe for
// concurrent use.
type Sessions struct {
	path string
	ttl  time.Duration
	now  func() time.Time

	mu   sync.Mutex
	byID map[string]session // key: hex SHA-256 of the id
}

type session struct {
	User string `json:"user"`
	// Credential is credentialOf(the user's PasswordHash) when the session was created.
	// Sessions stored before it existed have none and are never honoured.
	Credential string    `json:"credential"`
	Expires    time.Time `json:"expires"`
}

// credentialOf fingerprints a bcrypt hash (a hash of the hash, never the password), so that
// sessions.json does not hold the bcrypt hash itself.
func credentialOf(passwordHash string) string {
	sum := sha256.Sum256([]byte("redwatch session credential\x00" + passwordHash))
	return hex.EncodeToString(sum[:16])
}

type sessionsFileContent struct {
	Sessions map[string]session `json:"sessions"`
}

// NewSessions loads the sessions stored in dataDir, dropping expired ones. Each new session
// lives for ttl, which must be positive. now is the clock; nil means time.Now.
func NewSessions(dataDir string, ttl time.Duration, now func() time.Time) (*Sessions, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("session ttl must be positive, got %s", ttl)
	}
	if now == nil {
		now = time.Now
	}
	dir, err := authDir(dataDir)
	if err != nil {
		return nil, err
	}
	s := &Sessions{path: filepath.Join(dir, sessionsFile), ttl: ttl, now: now, byID: map[string]session{}}

	data, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("cannot read %s: %w", s.path, err)
	}
	var content sessionsFileContent
	if err := json.Unmarshal(data, &content); err != nil {
		return nil, fmt.Errorf("cannot parse %s (delete it to log everyone out): %w", s.path, err)
	}
	t := now()
	for k, v := range content.Sessions {
		if t.Before(v.Expires) {
			s.byID[k] = v
		}
	}
	return s, nil
}

// Create starts a session for u, which must carry the PasswordHash its password was just
// verified against (Users.Authenticate returns it), and returns the session id (to be put in
// the cookie, never logged) and when it expires. When u already has MaxSessionsPerUser live
// sessions, the one expiring first ends. The session is on disk when Create returns without
// error.
func (s *Sessions) Create(u User) (id string, expires time.Time, err error) {
	if u.Name == "" {
		return "", time.Time{}, fmt.Errorf("cannot create a session without a user name")
	}
	if u.PasswordHash == "" {
		return "", time.Time{}, fmt.Errorf("cannot create a session for %q without its password hash", u.Name)
	}
	b := make([]byte, sessionIDBytes)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, fmt.Errorf("cannot generate session id: %w", err)
	}
	id = base64.RawURLEncoding.EncodeToString(b)
	key := hashID(id)

	s.mu.Lock()
	defer s.mu.Unlock()
	expires = s.now().Add(s.ttl)
	ended, endedKey := s.makeRoomLocked(u.Name)
	s.byID[key] = session{User: u.Name, Credential: credentialOf(u.PasswordHash), Expires: expires}
	if err := s.saveLocked(); err != nil {
		delete(s.byID, key)
		if endedKey != "" {
			s.byID[endedKey] = ended
		}
		return "", time.Time{}, err
	}
	return id, expires, nil
}

// makeRoomLocked ends user's session that expires first when user has MaxSessionsPerUser
// live ones, and returns it (key "" when none was ended). Callers hold mu.
func (s *Sessions) makeRoomLocked(user string) (ended session, key string) {
	t := s.now()
	n := 0
	for k, v := range s.byID {
		if v.User != user || !t.Before(v.Expires) {
			continue
		}
		n++
		if key == "" || v.Expires.Before(ended.Expires) {
			ended, key = v, k
		}
	}
	if n < MaxSessionsPerUser {
		return session{}, ""
	}
	delete(s.byID, key)
	return ended, key
}

// Lookup returns the user of session id as users has it now (Name and current Role; no hash).
// It fails for an unknown or expired id, and for a session whose user users no longer has or
// whose password hash changed since the session was created; such a session is ended (removed
// from memory and, best effort, from the file).
func (s *Sessions) Lookup(id string, users *Users) (User, bool) {
	if id == "" || len(id) > maxSessionIDLength {
		return User{}, false
	}
	key := hashID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.byID[key]
	if !ok {
		return User{}, false
	}
	if !s.now().Before(v.Expires) {
		delete(s.byID, key) // dropped from the file at the next rewrite
		return User{}, false
	}
	u, ok := users.Get(v.User)
	if !ok || credentialOf(u.PasswordHash) != v.Credential {
		delete(s.byID, key)
		_ = s.saveLocked() // on error it is still gone from memory, and fails the same check after a restart
		return User{}, false
	}
	return User{Name: u.Name, Role: u.Role}, true
}

// EndStale ends every session whose user users no longer has or whose password changed (see
// Lookup), and returns how many it ended. Call it at start-up, after a configuration change;
// Lookup alone already refuses such sessions.
func (s *Sessions) EndStale(users *Users) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.byID {
		if u, ok := users.Get(v.User); !ok || credentialOf(u.PasswordHash) != v.Credential {
			delete(s.byID, k)
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	return n, s.saveLocked()
}

// Delete ends session id (logout). Deleting an unknown id is not an error. The deletion is on
// disk when Delete returns without error; on error it still holds in memory.
func (s *Sessions) Delete(id string) error {
	if id == "" || len(id) > maxSessionIDLength {
		return nil
	}
	key := hashID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[key]; !ok {
		return nil
	}
	delete(s.byID, key)
	return s.saveLocked()
}

// Len returns the number of unexpired sessions.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	return len(s.byID)
}

func (s *Sessions) pruneLocked() {
	t := s.now()
	for k, v := range s.byID {
		if !t.Before(v.Expires) {
			delete(s.byID, k)
		}
	}
}

func (s *Sessions) saveLocked() error {
	s.pruneLocked()
	data, err := json.Marshal(sessionsFileContent{Sessions: s.byID})
	if err != nil {
		return fmt.Errorf("BUG: cannot marshal sessions: %w", err)
	}
	if err := atomicfile.Write(s.path, data); err != nil {
		return fmt.Errorf("cannot store sessions: %w", err)
	}
	return nil
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}
