package auth

import (
	"container/list"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

const (
	// VerifyCacheTTL is how long a successful HTTP Basic verification is remembered, counted
	// from the bcrypt check that proved it (a hit does not extend it).
	VerifyCacheTTL = 5 * time.Minute
	// VerifyCacheSize bounds the number of remembered verifications; when full, the oldest is
	// dropped.
	VerifyCacheSize = 1024
)

// verifyCache remembers successful password verifications so that HTTP Basic clients (curl,
// a Prometheus scrape, API scripts), which send the password with every request, pay for
// bcrypt (tens of milliseconds by design) once per VerifyCacheTTL instead of on every request.
//
// Design, and why it is safe:
//   - Only successes are stored. A wrong password never finds an entry (its key differs), so it
//     always goes through bcrypt, and through the login limiter in Middleware.
//   - The key is SHA-256 over a per-process random 32-byte salt, the user name (length-prefixed),
//     a 0 byte and the password. Neither the password nor an unsalted hash of it is kept; the
//     salt is never stored or logged, so the keys are useless outside this process. A memory
//     dump could still be attacked at SHA-256 speed rather than bcrypt speed for the few
//     passwords used within the last VerifyCacheTTL; that is the trade-off of any such cache.
//   - The entry also records the name and the bcrypt hash it was verified against. A hit counts
//     only if the name is the same and the user still exists with that same PasswordHash, so a
//     changed password or a removed user invalidates the entry at once.
//   - Entries expire VerifyCacheTTL after they were created and at most VerifyCacheSize are
//     kept (oldest dropped first), so memory is bounded whatever clients send. As entries are
//     only created by correct passwords, there is in practice at most one per user.
//   - No constant-time comparison is needed: a lookup is a map access on a hash, and it can
//     only succeed for someone who already sent the right password.
//
// A verifyCache is safe for concurrent use.
type verifyCache struct {
	salt [32]byte
	ttl  time.Duration
	max  int
	now  func() time.Time

	mu      sync.Mutex
	entries map[verifyKey]*list.Element // values are *verifyEntry
	order   *list.List                  // oldest first; insertion order is expiry order
}

type verifyKey [sha256.Size]byte

type verifyEntry struct {
	key     verifyKey
	name    string
	hash    string // the PasswordHash the password was verified against
	expires time.Time
}

// newVerifyCache returns an empty cache with a fresh random salt. now nil means time.Now.
func newVerifyCache(ttl time.Duration, size int, now func() time.Time) *verifyCache {
	if now == nil {
		now = time.Now
	}
	c := &verifyCache{ttl: ttl, max: size, now: now, entries: make(map[verifyKey]*list.Element), order: list.New()}
	rand.Read(c.salt[:]) // never fails (crypto/rand crashes the program instead)
	return c
}

// key returns the cache key for the credentials.
func (c *verifyCache) key(name, password string) verifyKey {
	h := sha256.New()
	h.Write(c.salt[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(name)))
	h.Write(n[:])
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(password))
	var k verifyKey
	h.Sum(k[:0])
	return k
}

// hit reports whether key was verified for name against hash (the user's current
// PasswordHash) less than ttl ago. A stale or mismatching entry is dropped.
func (c *verifyCache) hit(key verifyKey, name, hash string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return false
	}
	e := el.Value.(*verifyEntry)
	if e.name == name && e.hash == hash && c.now().Before(e.expires) {
		return true
	}
	c.remove(el)
	return false
}

// add remembers that key was verified for name against hash, now.
func (c *verifyCache) add(key verifyKey, name, hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if el, ok := c.entries[key]; ok { // verified concurrently by another request
		c.remove(el)
	}
	// Drop what has expired (the oldest entries expire first), then the oldest if still full.
	for el := c.order.Front(); el != nil && !now.Before(el.Value.(*verifyEntry).expires); el = c.order.Front() {
		c.remove(el)
	}
	for c.order.Len() >= c.max && c.order.Len() > 0 {
		c.remove(c.order.Front())
	}
	if c.max <= 0 {
		return
	}
	e := &verifyEntry{key: key, name: name, hash: hash, expires: now.Add(c.ttl)}
	c.entries[key] = c.order.PushBack(e)
}

// len returns the number of entries, expired ones included until they are dropped.
func (c *verifyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *verifyCache) remove(el *list.Element) {
	delete(c.entries, el.Value.(*verifyEntry).key)
	c.order.Remove(el)
}
