package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func testLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewJSONHandler(&buf, nil)), &buf
}

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := hashPassword(pw, bcrypt.MinCost)
	if err != nil {
		t.Fatalf("hashPassword: %v", err)
	}
	return h
}

// generatedFromLog returns the password logged under "generated" and how many log lines
// carried one.
func generatedFromLog(t *testing.T, buf *bytes.Buffer) (pw string, lines int) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if g, ok := rec["generated"].(string); ok {
			lines++
			pw = g
			if rec["level"] != "WARN" || rec["user"] != "admin" ||
				!strings.Contains(rec["msg"].(string), "generated first admin password") ||
				!strings.Contains(rec["msg"].(string), "not shown again") {
				t.Fatalf("unexpected generated-password log line: %s", line)
			}
		}
	}
	return pw, lines
}

func TestHashPassword(t *testing.T) {
	if _, err := HashPassword(""); !errors.Is(err, ErrEmptyPassword) {
		t.Fatalf("empty: got %v, want ErrEmptyPassword", err)
	}
	if _, err := HashPassword(strings.Repeat("x", 73)); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("73 bytes: got %v, want ErrPasswordTooLong", err)
	}
	pw := strings.Repeat("p", 72)
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatalf("72 bytes: %v", err)
	}
	if cost, _ := bcrypt.Cost([]byte(h)); cost != bcrypt.DefaultCost {
		t.Fatalf("cost = %d, want %d", cost, bcrypt.DefaultCost)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte(pw)) != nil {
		t.Fatalf("hash does not verify")
	}
}

func TestNewUsersFirstStartGeneratesAdmin(t *testing.T) {
	dir := t.TempDir()
	log, buf := testLogger()
	users, err := newUsers(nil, dir, "", log, bcrypt.MinCost)
	if err != nil {
		t.Fatalf("newUsers: %v", err)
	}
	pw, lines := generatedFromLog(t, buf)
	if lines != 1 || len(pw) != generatedPasswordLength {
		t.Fatalf("want one generated password of %d chars in the log, got %d lines, %q", generatedPasswordLength, lines, pw)
	}
	if n := strings.Count(buf.String(), pw); n != 1 {
		t.Fatalf("password appears %d times in the log, want 1", n)
	}

	path := filepath.Join(dir, "auth", "admin.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("admin.json: %v", err)
	}
	if bytes.Contains(data, []byte(pw)) {
		t.Fatalf("admin.json contains the password: %s", data)
	}
	var s storedAdmin
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("admin.json: %v", err)
	}
	if s.Name != "admin" || s.Role != RoleAdmin || !strings.HasPrefix(s.PasswordHash, "$2") {
		t.Fatalf("admin.json = %+v", s)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin.json mode: %v %v", fi.Mode(), err)
	}
	if u, ok := users.Authenticate("admin", pw); !ok || u.Role != RoleAdmin {
		t.Fatalf("Authenticate(admin, generated) = %+v, %v", u, ok)
	}

	// Second start: same admin, nothing generated or logged; the env password is ignored.
	log2, buf2 := testLogger()
	users2, err := newUsers(nil, dir, "env-password-ignored", log2, bcrypt.MinCost)
	if err != nil {
		t.Fatalf("second newUsers: %v", err)
	}
	if _, lines := generatedFromLog(t, buf2); lines != 0 {
		t.Fatalf("second start logged a generated password: %s", buf2)
	}
	if strings.Contains(buf2.String(), pw) || strings.Contains(buf2.String(), "env-password-ignored") {
		t.Fatalf("second start logged a secret: %s", buf2)
	}
	if _, ok := users2.Authenticate("admin", pw); !ok {
		t.Fatalf("generated password no longer works after restart")
	}
	if _, ok := users2.Authenticate("admin", "env-password-ignored"); ok {
		t.Fatalf("env password replaced the stored admin")
	}
	data2, _ := os.ReadFile(path)
	if !bytes.Equal(data, data2) {
		t.Fatalf("admin.json rewritten on second start")
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "auth"))
	if len(entries) != 1 {
		t.Fatalf("auth dir holds %d entries, want only admin.json", len(entries))
	}
}

func TestNewUsersEnvPassword(t *testing.T) {
	dir := t.TempDir()
	log, buf := testLogger()
	users, err := newUsers(nil, dir, "s3cret-from-env", log, bcrypt.MinCost)
	if err != nil {
		t.Fatalf("newUsers: %v", err)
	}
	if _, ok := users.Authenticate("admin", "s3cret-from-env"); !ok {
		t.Fatalf("env password rejected")
	}
	if _, lines := generatedFromLog(t, buf); lines != 0 || strings.Contains(buf.String(), "s3cret-from-env") {
		t.Fatalf("log must not carry the password: %s", buf)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "auth", "admin.json"))
	if len(data) == 0 || bytes.Contains(data, []byte("s3cret-from-env")) {
		t.Fatalf("admin.json must exist and hold only the hash: %s", data)
	}

	if _, err := newUsers(nil, t.TempDir(), strings.Repeat("x", 73), nil, bcrypt.MinCost); !errors.Is(err, ErrPasswordTooLong) {
		t.Fatalf("too long env password: got %v", err)
	}
}

func TestNewUsersConfiguredTakePrecedence(t *testing.T) {
	dir := t.TempDir()
	log, buf := testLogger()
	configured := []User{
		{Name: "alice", PasswordHash: mustHash(t, "alice-pw"), Role: RoleAdmin},
		{Name: "bob", PasswordHash: mustHash(t, "bob-pw"), Role: RoleViewer},
	}
	users, err := newUsers(configured, dir, "env-pw", log, bcrypt.MinCost)
	if err != nil {
		t.Fatalf("newUsers: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "auth", "admin.json")); !os.IsNotExist(err) {
		t.Fatalf("admin.json created despite configured users: %v", err)
	}
	if _, ok := users.Get("admin"); ok {
		t.Fatalf("admin exists despite configured users")
	}
	if _, ok := users.Authenticate("admin", "env-pw"); ok {
		t.Fatalf("env password accepted despite configured users")
	}
	if strings.Contains(buf.String(), "env-pw") {
		t.Fatalf("log carries a secret: %s", buf)
	}

	tests := []struct {
		name, user, password string
		ok                   bool
		role                 Role
	}{
		{"right admin", "alice", "alice-pw", true, RoleAdmin},
		{"right viewer", "bob", "bob-pw", true, RoleViewer},
		{"wrong password", "alice", "bob-pw", false, ""},
		{"unknown user", "mallory", "alice-pw", false, ""},
		{"empty password", "alice", "", false, ""},
		{"empty name", "", "alice-pw", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, ok := users.Authenticate(tc.user, tc.password)
			if ok != tc.ok || u.Role != tc.role {
				t.Fatalf("Authenticate(%q, %q) = %+v, %v; want ok=%v role=%q", tc.user, tc.password, u, ok, tc.ok, tc.role)
			}
		})
	}
}

func TestAuthenticateRejectsOver72Bytes(t *testing.T) {
	pw := strings.Repeat("a", 72)
	users, err := newUsers([]User{{Name: "u", PasswordHash: mustHash(t, pw), Role: RoleViewer}}, t.TempDir(), "", nil, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := users.Authenticate("u", pw); !ok {
		t.Fatalf("72-byte password rejected")
	}
	// bcrypt would truncate and accept this; Authenticate must not.
	if _, ok := users.Authenticate("u", pw+"extra"); ok {
		t.Fatalf("password longer than 72 bytes accepted")
	}
}

func TestNewUsersRejectsBadConfig(t *testing.T) {
	h := mustHash(t, "pw")
	tests := []struct {
		name  string
		users []User
		want  string
	}{
		{"empty name", []User{{Name: "", PasswordHash: h, Role: RoleAdmin}}, "name must not be empty"},
		{"duplicate", []User{{Name: "a", PasswordHash: h, Role: RoleAdmin}, {Name: "a", PasswordHash: h, Role: RoleViewer}}, "duplicate"},
		{"bad role", []User{{Name: "a", PasswordHash: h, Role: "root"}}, `role "root"`},
		{"empty role", []User{{Name: "a", PasswordHash: h}}, `role ""`},
		{"plain password", []User{{Name: "a", PasswordHash: "hunter2", Role: RoleAdmin}}, "not a bcrypt hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newUsers(tc.users, t.TempDir(), "", nil, bcrypt.MinCost)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks the value: %v", err)
			}
		})
	}
}

func TestNewUsersCorruptAdminFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "auth"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "auth", "admin.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newUsers(nil, dir, "", nil, bcrypt.MinCost); err == nil || !strings.Contains(err.Error(), "admin.json") {
		t.Fatalf("got %v, want an error naming admin.json", err)
	}
}

func TestNewUsersDefaultCost(t *testing.T) {
	// The exported constructor, once, at the real cost.
	users, err := NewUsers(nil, t.TempDir(), "default-cost-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := users.Get("admin")
	if !ok {
		t.Fatal("no admin")
	}
	if cost, _ := bcrypt.Cost([]byte(u.PasswordHash)); cost != bcrypt.DefaultCost {
		t.Fatalf("cost = %d, want %d", cost, bcrypt.DefaultCost)
	}
}
