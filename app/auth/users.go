package auth

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/redwatch/redwatch/app/atomicfile"
)

// FirstAdminName is the name of the admin created on first start when no users are configured.
const FirstAdminName = "admin"

const (
	adminFile                 = "admin.json"
	generatedPasswordLength   = 20
	generatedPasswordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// Users is the immutable set of accounts redwatch accepts. It is safe for concurrent use. It
// keeps a small in-memory cache of successful HTTP Basic verifications (AuthenticateBasic).
type Users struct {
	byName map[string]User
	// dummyHash is compared against when the user is unknown, so that a wrong name costs
	// about as much time as a wrong password.
	dummyHash []byte
	// verified remembers successful verifications for AuthenticateBasic.
	verified *verifyCache
	// compare checks a password against a bcrypt hash: bcrypt.CompareHashAndPassword, or a
	// counting wrapper in tests.
	compare func(hash, password []byte) error
}

// storedAdmin is the content of <dataDir>/auth/admin.json.
type storedAdmin struct {
	Name         string    `json:"name"`
	PasswordHash string    `json:"password_hash"`
	Role         Role      `json:"role"`
	Created      time.Time `json:"created"`
}

// NewUsers returns the accounts redwatch accepts.
//
// If configured is not empty, exactly those users are used (names must be unique and non-empty,
// roles admin or viewer, hashes valid bcrypt); nothing is read from or written to dataDir.
//
// Otherwise the first admin stored in <dataDir>/auth/admin.json is used. If that file does not
// exist it is created (mode 0600, written atomically) for user "admin" with role admin, holding
// only the bcrypt hash of envPassword (REDWATCH_ADMIN_PASSWORD) when that is non-empty, or of a
// random 20-character password. A generated password is logged once, at warn level under the
// attribute key "generated"; it is never shown again. envPassword is ignored (with an info log
// line, never the password) once the file exists or when users are configured.
//
// log may be nil.
func NewUsers(configured []User, dataDir, envPassword string, log *slog.Logger) (*Users, error) {
	return newUsers(configured, dataDir, envPassword, log, bcrypt.DefaultCost)
}

func newUsers(configured []User, dataDir, envPassword string, log *slog.Logger, cost int) (*Users, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var users []User
	if len(configured) > 0 {
		if envPassword != "" {
			log.Info("REDWATCH_ADMIN_PASSWORD is ignored because users are configured")
		}
		users = configured
	} else {
		admin, err := loadOrCreateFirstAdmin(dataDir, envPassword, log, cost)
		if err != nil {
			return nil, err
		}
		users = []User{admin}
	}

	u := &Users{
		byName:   make(map[string]User, len(users)),
		verified: newVerifyCache(VerifyCacheTTL, VerifyCacheSize, time.Now),
		compare:  bcrypt.CompareHashAndPassword,
	}
	for i, user := range users {
		if user.Name == "" {
			return nil, fmt.Errorf("user %d: name must not be empty", i)
		}
		if _, dup := u.byName[user.Name]; dup {
			return nil, fmt.Errorf("user %q: duplicate name", user.Name)
		}
		if !user.Role.Valid() {
			return nil, fmt.Errorf("user %q: role %q must be %q or %q", user.Name, user.Role, RoleAdmin, RoleViewer)
		}
		if _, err := bcrypt.Cost([]byte(user.PasswordHash)); err != nil {
			return nil, fmt.Errorf("user %q: password_hash is not a bcrypt hash (make one with `redwatch hash-password`): %w", user.Name, err)
		}
		u.byName[user.Name] = user
	}

	// Match the dummy hash's cost to the real ones so unknown names take as long as known ones.
	dummyCost, _ := bcrypt.Cost([]byte(users[0].PasswordHash))
	pw, err := randomPassword()
	if err != nil {
		return nil, err
	}
	u.dummyHash, err = bcrypt.GenerateFromPassword([]byte(pw), dummyCost)
	if err != nil {
		return nil, fmt.Errorf("cannot prepare dummy hash: %w", err)
	}
	return u, nil
}

func loadOrCreateFirstAdmin(dataDir, envPassword string, log *slog.Logger, cost int) (User, error) {
	dir, err := authDir(dataDir)
	if err != nil {
		return User{}, err
	}
	path := filepath.Join(dir, adminFile)

	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		var s storedAdmin
		if err := json.Unmarshal(data, &s); err != nil {
			return User{}, fmt.Errorf("cannot parse %s (delete it to create a new first admin): %w", path, err)
		}
		if envPassword != "" {
			log.Info("REDWATCH_ADMIN_PASSWORD is ignored because the first admin already exists", "file", path)
		}
		return User{Name: s.Name, PasswordHash: s.PasswordHash, Role: s.Role}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return User{}, fmt.Errorf("cannot read %s: %w", path, err)
	}

	password, generated := envPassword, false
	if password == "" {
		if password, err = randomPassword(); err != nil {
			return User{}, err
		}
		generated = true
	}
	hash, err := hashPassword(password, cost)
	if err != nil {
		return User{}, fmt.Errorf("cannot use REDWATCH_ADMIN_PASSWORD: %w", err)
	}
	s := storedAdmin{Name: FirstAdminName, PasswordHash: hash, Role: RoleAdmin, Created: time.Now().UTC()}
	data, err = json.MarshalIndent(s, "", "  ")
	if err != nil {
		return User{}, fmt.Errorf("BUG: cannot marshal first admin: %w", err)
	}
	if err := atomicfile.Write(path, append(data, '\n')); err != nil {
		return User{}, fmt.Errorf("cannot store first admin: %w", err)
	}
	if generated {
		// The one place a secret is logged, on purpose: there is no other way to hand it over.
		log.Warn("generated first admin password: store it now; it is not shown again",
			"user", FirstAdminName, "generated", password, "file", path)
	} else {
		log.Info("created first admin from REDWATCH_ADMIN_PASSWORD", "user", FirstAdminName, "file", path)
	}
	return User{Name: s.Name, PasswordHash: s.PasswordHash, Role: s.Role}, nil
}

// randomPassword returns generatedPasswordLength characters drawn uniformly from
// generatedPasswordAlphabet with crypto/rand (about 119 bits).
func randomPassword() (string, error) {
	b := make([]byte, generatedPasswordLength)
	n62 := big.NewInt(int64(len(generatedPasswordAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, n62)
		if err != nil {
			return "", fmt.Errorf("cannot generate password: %w", err)
		}
		b[i] = generatedPasswordAlphabet[n.Int64()]
	}
	return string(b), nil
}

// Authenticate reports whether password is right for the user called name and returns that
// user. Unknown names are compared against a dummy hash so they cost about as much time as
// known ones. Empty passwords and passwords over 72 bytes never match.
func (u *Users) Authenticate(name, password string) (User, bool) {
	user, known := u.byName[name]
	hash := u.dummyHash
	if known {
		hash = []byte(user.PasswordHash)
	}
	if checkPassword(password) != nil {
		return User{}, false
	}
	if u.compare(hash, []byte(password)) != nil || !known {
		return User{}, false
	}
	return user, true
}

// AuthenticateBasic is Authenticate for HTTP Basic, where a client sends the same
// credentials with every request: a success is remembered for VerifyCacheTTL (see
// verifyCache), so repeating it costs a SHA-256 instead of a bcrypt. Failures are never
// remembered and always cost a bcrypt, like Authenticate. The login form should use
// Authenticate: it runs once per session.
func (u *Users) AuthenticateBasic(name, password string) (User, bool) {
	if user, ok := u.VerifiedBefore(name, password); ok {
		return user, true
	}
	user, known := u.byName[name]
	if !known || checkPassword(password) != nil {
		return u.Authenticate(name, password) // costs the dummy bcrypt (or nothing), fails
	}
	user, ok := u.Authenticate(name, password)
	if ok {
		u.verified.add(u.verified.key(name, password), name, user.PasswordHash)
	}
	return user, ok
}

// VerifiedBefore reports whether AuthenticateBasic verified exactly these credentials with
// bcrypt less than VerifyCacheTTL ago, against the user's current password hash. It costs a
// SHA-256, never a bcrypt, and can only succeed for someone who sent the right password, so
// callers may let it pass before the login limiter's per-IP bound (a client that knows its
// password keeps working while others fail from the same address), but only while
// Limiter.Blocked does not refuse this user and address: a hit tells a right guess from a
// wrong one, so it must not become an unlimited guessing oracle.
func (u *Users) VerifiedBefore(name, password string) (User, bool) {
	if checkPassword(password) != nil {
		return User{}, false
	}
	user, known := u.byName[name]
	if !known || !u.verified.hit(u.verified.key(name, password), name, user.PasswordHash) {
		return User{}, false
	}
	return user, true
}

// Get returns the user called name, including its password hash.
func (u *Users) Get(name string) (User, bool) {
	user, ok := u.byName[name]
	return user, ok
}
