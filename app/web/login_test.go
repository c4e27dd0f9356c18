package web

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

func TestLoginSessionLogout(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/", nil, "Accept: text/html")
	if res.StatusCode != 200 || !strings.Contains(body, `data-testid="host-panel"`) {
		t.Fatalf("GET / with session: %d", res.StatusCode)
	}
	if strings.Contains(body, `href="/settings"`) {
		t.Fatal("viewer sees the settings link")
	}
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("page has no logout form token")
	}
	// Logout without the token is rejected; with it the session ends.
	res, _ = e.do(c, "POST", "/logout", nil)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without CSRF token: %d, want 403", res.StatusCode)
	}
	res, _ = e.do(c, "POST", "/logout", strings.NewReader("_csrf="+url.QueryEscape(m[1])), "Content-Type: application/x-www-form-urlencoded")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	res, _ = e.do(c, "GET", "/", nil, "Accept: text/html")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout: %d, want redirect to login", res.StatusCode)
	}
}

func TestLoginRejectsWrongPasswordAndMissingCSRF(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	jar, _ := cookiejar.New(nil)
	c := noRedirect(jar)
	_, body := e.do(c, "GET", "/login", nil)
	tok := csrfInput.FindStringSubmatch(body)[1]
	form := url.Values{"username": {"admin"}, "password": {"nope"}, "_csrf": {tok}}
	res, body := e.do(c, "POST", "/login", strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `data-testid="login-error"`) {
		t.Fatalf("wrong password: %d", res.StatusCode)
	}
	form.Set("password", adminPass)
	form.Del("_csrf")
	res, _ = e.do(c, "POST", "/login", strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d, want 403", res.StatusCode)
	}
}
