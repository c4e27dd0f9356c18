// Package auth authenticates redwatch users: the user list (configured users, or a first admin
// created on first start), server-side sessions behind an HttpOnly cookie, HTTP Basic for curl,
// the one middleware that enforces login on every non-public route, admin-only guards, CSRF
// protection bound to the session, and a limiter of password checks per client and user.
//
// Nothing in this package logs a secret, with one deliberate exception: the password generated
// for the first admin is logged exactly once, when it is created.
package auth

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a user may do.
type Role string

const (
	// RoleAdmin may change settings.
	RoleAdmin Role = "admin"
	// RoleViewer may only read.
	RoleViewer Role = "viewer"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleViewer }

// User is one account. PasswordHash is a bcrypt hash; it is empty in users returned by
// Sessions.Lookup and UserFrom, which never carry hashes.
type User struct {
	Name         string
	PasswordHash string
	Role         Role
}

// IsAdmin reports whether u has the admin role.
func (u User) IsAdmin() bool { return u.Role == RoleAdmin }

// maxPasswordBytes is bcrypt's input limit; longer passwords would be silently truncated.
const maxPasswordBytes = 72

var (
	// ErrEmptyPassword is returned by HashPassword for an empty password.
	ErrEmptyPassword = errors.New("password must not be empty")
	// ErrPasswordTooLong is returned by HashPassword for passwords over 72 bytes, which bcrypt
	// cannot hash without truncating.
	ErrPasswordTooLong = fmt.Errorf("password must be at most %d bytes", maxPasswordBytes)
)

// HashPassword returns the bcrypt hash (cost bcrypt.DefaultCost) of password. It rejects an
// empty password (ErrEmptyPassword) and one longer than 72 bytes (ErrPasswordTooLong).
func HashPassword(password string) (string, error) {
	return hashPassword(password, bcrypt.DefaultCost)
}

func hashPassword(password string, cost int) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("cannot hash password: %w", err)
	}
	return string(h), nil
}

func checkPassword(password string) error {
	if password == "" {
		return ErrEmptyPassword
	}
	if len(password) > maxPasswordBytes {
		return fmt.Errorf("%w (got %d bytes)", ErrPasswordTooLong, len(password))
	}
	return nil
}
