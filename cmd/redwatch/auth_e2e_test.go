package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// browser is an HTTP client with a cookie jar that does not follow redirects.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send makes a request as a browser would (Accept: text/html) and returns status and body.
func send(t *testing.T, c *http.Client, method, target string, form url.Values, headers ...string) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// formLogin logs in through the login form with client c and returns the POST's status.
func formLogin(t *testing.T, c *http.Client, base, user, pass string, headers ...string) int {
	t.Helper()
	code, body := send(t, c, "GET", base+"/login", nil)
	m := csrfField.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("GET /login: %d, token %v", code, m != nil)
	}
	code, _ = send(t, c, "POST", base+"/login", url.Values{"username": {user}, "password": {pass}, "_csrf": {m[1]}}, headers...)
	return code
}

func lowCostHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func usersTOML(adminHash, opsHash, opsRole string) string {
	return fmt.Sprintf("[[auth.users]]\nname = \"admin\"\npassword_hash = %q\nrole = \"admin\"\n"+
		"[[auth.users]]\nname = \"ops\"\npassword_hash = %q\nrole = %q\n", adminHash, opsHash, opsRole)
}

// TestSessionsEndWithPasswordChange: users come from the config file, so a password change is
// a config edit and a restart. The sessions (kept on disk across restarts) of a user whose
// password changed end; a changed role applies to the live session of that user.
func TestSessionsEndWithPasswordChange(t *testing.T) {
	opsHash := lowCostHash(t, "ops-password-1")
	in := start(t, "[system]\nenabled = false\n"+usersTOML(lowCostHash(t, "admin-password-1"), opsHash, "viewer"))
	admin, ops := browser(t), browser(t)
	if code := formLogin(t, admin, in.base, "admin", "admin-password-1"); code != http.StatusSeeOther {
		t.Fatalf("admin login: %d", code)
	}
	if code := formLogin(t, ops, in.base, "ops", "ops-password-1"); code != http.StatusSeeOther {
		t.Fatalf("ops login: %d", code)
	}
	if code, _ := send(t, admin, "GET", in.base+"/settings", nil); code != http.StatusOK {
		t.Fatalf("admin /settings: %d", code)
	}
	if code, _ := send(t, ops, "GET", in.base+"/settings", nil); code == http.StatusOK {
		t.Fatal("viewer may open /settings")
	}
	in.stop(t)

	cfgPath := in.cmd.Args[len(in.cmd.Args)-1]
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	cfg = cfg[:strings.Index(cfg, "[[auth.users]]")] + usersTOML(lowCostHash(t, "admin-password-2"), opsHash, "admin")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	in2 := restart(t, cfgPath)
	defer in2.stop(t)
	code, _ := send(t, admin, "GET", in2.base+"/settings", nil)
	if code != http.StatusSeeOther {
		t.Fatalf("admin's session after the password change: %d, want 303 to /login", code)
	}
	if code, _ := send(t, ops, "GET", in2.base+"/settings", nil); code != http.StatusOK {
		t.Fatalf("ops (now admin) /settings with the old session: %d, want 200", code)
	}
	if code := formLogin(t, browser(t), in2.base, "admin", "admin-password-2"); code != http.StatusSeeOther {
		t.Fatalf("login with the new password: %d", code)
	}
}

// TestLoginLimiterIgnoresXFF: without server.trusted_proxies a client rotating
// X-Forwarded-For gets LoginFailuresPerUserIP (5) password checks, not one per address; with
// the proxy trusted, the admin logs in from another address while the attacker is refused.
func TestLoginLimiterIgnoresXFF(t *testing.T) {
	users := usersTOML(lowCostHash(t, "admin-password-1"), lowCostHash(t, "ops-password-1"), "viewer")
	count := func(base string) (checked, refused int) {
		for i := range 40 {
			switch code := formLogin(t, browser(t), base, "admin", fmt.Sprint("guess", i), fmt.Sprintf("X-Forwarded-For: 203.0.113.%d", i+1)); code {
			case http.StatusUnauthorized:
				checked++
			case http.StatusTooManyRequests:
				refused++
			default:
				t.Fatalf("guess %d: %d", i, code)
			}
		}
		return checked, refused
	}
	in := start(t, "[system]\nenabled = false\n"+users)
	if checked, refused := count(in.base); checked != 5 || refused != 35 {
		t.Fatalf("rotating X-Forwarded-For: %d checked, %d refused; want 5 and 35", checked, refused)
	}
	in.stop(t)

	in = start(t, "[system]\nenabled = false\n"+users, "REDWATCH_SERVER__TRUSTED_PROXIES=127.0.0.1")
	for i := range 6 {
		formLogin(t, browser(t), in.base, "admin", fmt.Sprint("guess", i), "X-Forwarded-For: 203.0.113.1")
	}
	if code := formLogin(t, browser(t), in.base, "admin", "admin-password-1", "X-Forwarded-For: 203.0.113.1"); code != http.StatusTooManyRequests {
		t.Fatalf("attacker behind the trusted proxy: %d, want 429", code)
	}
	if code := formLogin(t, browser(t), in.base, "admin", "admin-password-1", "X-Forwarded-For: 198.51.100.7"); code != http.StatusSeeOther {
		t.Fatalf("admin from another address behind the proxy: %d, want 303", code)
	}
	in.stop(t)
}
