package auth

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// countBcrypt makes users count its bcrypt comparisons and run its cache on clock.
func countBcrypt(users *Users, clock *fakeClock) *atomic.Int64 {
	var n atomic.Int64
	users.compare = func(hash, pw []byte) error {
		n.Add(1)
		return bcrypt.CompareHashAndPassword(hash, pw)
	}
	users.verified = newVerifyCache(VerifyCacheTTL, VerifyCacheSize, clock.Now)
	return &n
}

func TestBasicAuthCacheSkipsBcrypt(t *testing.T) {
	a := newTestApp(t)
	bcrypts := countBcrypt(a.users, a.clock)

	get := func(user, pw string) int {
		t.Helper()
		return a.do(t, http.MethodGet, "/api/instances", basic(user, pw)).Code
	}
	want := func(step string, code, gotCode int, bcryptsWant int64) {
		t.Helper()
		if gotCode != code || bcrypts.Load() != bcryptsWant {
			t.Fatalf("%s: status %d, %d bcrypts; want %d, %d", step, gotCode, bcrypts.Load(), code, bcryptsWant)
		}
	}

	want("first request", http.StatusOK, get("alice", "alice-pw"), 1)
	want("same credentials again", http.StatusOK, get("alice", "alice-pw"), 1)
	want("and again", http.StatusOK, get("alice", "alice-pw"), 1)
	rec := a.do(t, http.MethodGet, "/api/instances", basic("alice", "alice-pw"))
	if rec.Body.String() != "alice:admin:" {
		t.Fatalf("cache hit sees %q, want alice:admin: (role, no hash)", rec.Body)
	}
	want("another user", http.StatusOK, get("bob", "bob-pw"), 2)
	want("another user again", http.StatusOK, get("bob", "bob-pw"), 2)

	// Failures are never answered from the cache and never cached.
	want("wrong password", http.StatusUnauthorized, get("alice", "alice-pw2"), 3)
	want("wrong password again", http.StatusUnauthorized, get("alice", "alice-pw2"), 4)
	want("a user's name with another user's password", http.StatusUnauthorized, get("bob", "alice-pw"), 5)
	want("unknown user", http.StatusUnauthorized, get("mallory", "alice-pw"), 6)
	want("unknown user again", http.StatusUnauthorized, get("mallory", "alice-pw"), 7)
	want("empty password", http.StatusUnauthorized, get("alice", ""), 7) // rejected before bcrypt
	if n := a.users.verified.len(); n != 2 {
		t.Fatalf("cache holds %d entries, want 2 (alice and bob)", n)
	}
	want("right password still cached", http.StatusOK, get("alice", "alice-pw"), 7)
}

// Guesses are limited; credentials proven right before keep working from the same address
// while someone there guesses other names (a scraper next to the attacker), and cost no
// bcrypt; but once this user's password is being guessed from there, right credentials are
// refused too, or 200 against 429 would tell a guesser which guess was right.
func TestBasicAuthCacheFailuresStillLimited(t *testing.T) {
	a := newTestApp(t)
	bcrypts := countBcrypt(a.users, a.clock)
	get := func(user, pw string) int {
		t.Helper()
		return a.do(t, http.MethodGet, "/", basic(user, pw)).Code
	}
	if code := get("alice", "alice-pw"); code != http.StatusOK {
		t.Fatalf("= %d", code)
	}
	for i := range LoginFailuresPerIP {
		if code := get(fmt.Sprint("user", i), "guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d, want 401", i, code)
		}
	}
	if got := bcrypts.Load(); got != 1+LoginFailuresPerIP {
		t.Fatalf("%d bcrypts, want one per failure plus the first success (%d)", got, 1+LoginFailuresPerIP)
	}
	for i := range 100 {
		if code := get(fmt.Sprint("nobody", i), "guess"); code != http.StatusTooManyRequests {
			t.Fatalf("guess over the per-IP bound = %d, want 429", code)
		}
	}
	if _, pairs := a.limiter.len(); pairs != LoginFailuresPerIP {
		t.Fatalf("refused guesses at unknown names grew the limiter to %d pairs, want %d (they cost no bcrypt: a flood would evict real entries)", pairs, LoginFailuresPerIP)
	}
	if code := get("alice", "alice-pw"); code != http.StatusOK {
		t.Fatalf("cached right credentials from an IP over its per-IP bound = %d, want 200", code)
	}

	// Guesses at alice's password from there, refused by the per-IP bound, still count for
	// (alice, that IP); once that pair is blocked, the right password gets 429 like a wrong one.
	for i := range LoginFailuresPerUserIP {
		if code := get("alice", fmt.Sprint("guess", i)); code != http.StatusTooManyRequests {
			t.Fatalf("alice guess %d = %d, want 429", i, code)
		}
	}
	if code := get("alice", "alice-pw"); code != http.StatusTooManyRequests {
		t.Fatalf("cached right credentials after %d guesses at alice = %d, want 429 (a guessing oracle otherwise)", LoginFailuresPerUserIP, code)
	}
	if got := bcrypts.Load(); got != 1+LoginFailuresPerIP {
		t.Fatalf("a blocked IP ran bcrypt: %d", got)
	}
	a.clock.Advance(LoginFailureWindow)
	if code := get("alice", "alice-pw"); code != http.StatusOK {
		t.Fatalf("after the window = %d, want 200", code)
	}
}

func TestBasicAuthCacheExpires(t *testing.T) {
	a := newTestApp(t)
	bcrypts := countBcrypt(a.users, a.clock)
	get := func() {
		t.Helper()
		if rec := a.do(t, http.MethodGet, "/", basic("bob", "bob-pw")); rec.Code != http.StatusOK {
			t.Fatalf("= %d", rec.Code)
		}
	}
	get()
	a.clock.Advance(VerifyCacheTTL - time.Second)
	get() // a hit does not extend the entry
	if n := bcrypts.Load(); n != 1 {
		t.Fatalf("before expiry: %d bcrypts, want 1", n)
	}
	a.clock.Advance(time.Second)
	get()
	if n := bcrypts.Load(); n != 2 {
		t.Fatalf("at expiry: %d bcrypts, want 2", n)
	}
	a.clock.Advance(VerifyCacheTTL - time.Second)
	get()
	if n := bcrypts.Load(); n != 2 {
		t.Fatalf("re-verified entry: %d bcrypts, want 2", n)
	}
}

func TestBasicAuthCachePasswordChange(t *testing.T) {
	a := newTestApp(t)
	bcrypts := countBcrypt(a.users, a.clock)
	if _, ok := a.users.AuthenticateBasic("alice", "alice-pw"); !ok {
		t.Fatal("alice-pw rejected")
	}
	// Users is immutable today; a future edit would replace the user. Simulate that.
	a.users.byName["alice"] = User{Name: "alice", PasswordHash: mustHash(t, "new-pw"), Role: RoleViewer}
	if _, ok := a.users.AuthenticateBasic("alice", "alice-pw"); ok {
		t.Fatal("the old password is still accepted from the cache after the hash changed")
	}
	if n := bcrypts.Load(); n != 2 {
		t.Fatalf("%d bcrypts, want 2: the stale entry must not answer", n)
	}
	if a.users.verified.len() != 0 {
		t.Fatal("the stale entry was not dropped")
	}
	if u, ok := a.users.AuthenticateBasic("alice", "new-pw"); !ok || u.Role != RoleViewer {
		t.Fatalf("new password: %+v %v", u, ok)
	}
	// Removing the user invalidates as well.
	delete(a.users.byName, "alice")
	if _, ok := a.users.AuthenticateBasic("alice", "new-pw"); ok {
		t.Fatal("a removed user is still accepted")
	}
}

func TestVerifyCacheKey(t *testing.T) {
	c := newVerifyCache(time.Minute, 10, nil)
	keys := map[verifyKey]string{}
	for _, cred := range [][2]string{
		{"alice", "pw"}, {"alice", "pw2"}, {"alic", "epw"}, {"alice\x00", "pw"},
		{"a\x00b", "c"}, {"a", "b\x00c"}, {"", "alicepw"}, {"alicepw", ""},
	} {
		k := c.key(cred[0], cred[1])
		if prev, dup := keys[k]; dup {
			t.Fatalf("%q collides with %s", cred, prev)
		}
		keys[k] = fmt.Sprintf("%q", cred)
	}
	if c.key("alice", "pw") != c.key("alice", "pw") {
		t.Fatal("key is not deterministic")
	}
	if newVerifyCache(time.Minute, 10, nil).key("alice", "pw") == c.key("alice", "pw") {
		t.Fatal("two caches share a salt")
	}
	// A hit also needs the same name: an entry never answers for another user.
	c.add(c.key("alice", "pw"), "alice", "hash")
	if c.hit(c.key("alice", "pw"), "bob", "hash") {
		t.Fatal("entry answered for another name")
	}
}

func TestVerifyCacheBounded(t *testing.T) {
	clock := newFakeClock()
	const size = 4
	c := newVerifyCache(time.Minute, size, clock.Now)
	key := func(i int) verifyKey { return c.key(fmt.Sprint("user", i), "pw") }
	for i := range 3 * size {
		c.add(key(i), fmt.Sprint("user", i), "h")
		if n := c.len(); n > size {
			t.Fatalf("after %d adds: %d entries, want <= %d", i+1, n, size)
		}
		clock.Advance(time.Second)
	}
	for i := range 3 * size {
		want := i >= 2*size // only the newest survive
		if got := c.hit(key(i), fmt.Sprint("user", i), "h"); got != want {
			t.Fatalf("user%d: hit %v, want %v", i, got, want)
		}
	}
	// Expired entries are dropped when something is added, before anything unexpired is.
	clock.Advance(time.Minute - 3*time.Second) // user8, user9 expired; user10, user11 not yet
	c.add(key(100), "user100", "h")
	if n := c.len(); n != 3 {
		t.Fatalf("%d entries after expiry sweep, want 3", n)
	}
	for _, i := range []int{10, 11, 100} {
		if !c.hit(key(i), fmt.Sprint("user", i), "h") {
			t.Fatalf("user%d evicted, want kept", i)
		}
	}
	// Re-adding a present key does not duplicate it.
	c.add(key(100), "user100", "h")
	if n := c.len(); n != 3 || len(c.entries) != 3 {
		t.Fatalf("re-add: list %d, map %d, want 3", n, len(c.entries))
	}
}

func TestVerifyCacheUsersBound(t *testing.T) {
	// Through Users as well: more distinct successful users than the cache holds.
	var configured []User
	for i := range 8 {
		configured = append(configured, User{Name: fmt.Sprint("u", i), PasswordHash: mustHash(t, fmt.Sprint("pw", i)), Role: RoleViewer})
	}
	users, err := newUsers(configured, t.TempDir(), "", nil, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users.verified = newVerifyCache(VerifyCacheTTL, 3, nil)
	for i := range 8 {
		if _, ok := users.AuthenticateBasic(fmt.Sprint("u", i), fmt.Sprint("pw", i)); !ok {
			t.Fatalf("u%d rejected", i)
		}
	}
	if n := users.verified.len(); n != 3 {
		t.Fatalf("%d entries, want 3", n)
	}
}

// TestBasicAuthCacheConcurrent runs successes and failures from many goroutines; run with -race.
func TestBasicAuthCacheConcurrent(t *testing.T) {
	a := newTestApp(t)
	bcrypts := countBcrypt(a.users, a.clock)
	var wg sync.WaitGroup
	var okCount, failCount atomic.Int64
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				name, pw := "alice", "alice-pw"
				if g%2 == 1 {
					name, pw = "bob", "bob-pw"
				}
				if i%10 == 9 {
					pw = "wrong"
				}
				_, ok := a.users.AuthenticateBasic(name, pw)
				if ok != (pw != "wrong") {
					t.Errorf("%s/%s: ok=%v", name, pw, ok)
					return
				}
				if ok {
					okCount.Add(1)
				} else {
					failCount.Add(1)
				}
				if i%25 == 0 {
					a.clock.Advance(VerifyCacheTTL / 3)
				}
			}
		})
	}
	wg.Wait()
	// Every failure runs bcrypt; successes mostly do not (only on a miss: first use, expiry).
	if got, fails := bcrypts.Load(), failCount.Load(); got < fails || got >= fails+okCount.Load() {
		t.Fatalf("%d bcrypts for %d failures and %d successes", got, fails, okCount.Load())
	}
}
