package web

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/internal/testutil"
)

// Without trusted proxies X-Forwarded-For is never believed: rotating it does not buy more
// password checks (before: 200 in a row were checked).
func TestLoginLimiterIgnoresForgedXFF(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	checked, refused := 0, 0
	for i := range 30 {
		switch code := e.postLogin("admin", fmt.Sprint("guess", i), fmt.Sprintf("203.0.113.%d", i+1)); code {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if checked != auth.LoginFailuresPerUserIP || refused != 30-auth.LoginFailuresPerUserIP {
		t.Fatalf("%d passwords checked, %d refused; want %d checked", checked, refused, auth.LoginFailuresPerUserIP)
	}
	// HTTP Basic clients that proved their password keep working from the same address,
	// and the viewer can still log in there (the bound is per user name).
	if code := e.postLogin("viewer", viewerPass, ""); code != http.StatusSeeOther {
		t.Fatalf("viewer login from the attacker's address = %d, want 303", code)
	}
}

// TestLoginLimiterTrustedProxy: behind a trusted proxy each client is counted by its own
// address: the attacker is stopped, the admin elsewhere logs in, and the request log names
// the client, not the proxy.
func TestLoginLimiterTrustedProxy(t *testing.T) {
	t.Parallel()
	var logs testutil.SyncBuffer
	e := newAccessEnv(t, envOptions{mod: func(o *Options) {
		o.TrustedProxies = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(32, 32)}}
		o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	}})
	const attacker, admin = "203.0.113.9", "198.51.100.7"
	for i := range auth.LoginFailuresPerUserIP {
		if code := e.postLogin("admin", fmt.Sprint("guess", i), attacker); code != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d, want 401", i, code)
		}
	}
	if code := e.postLogin("admin", adminPass, attacker); code != http.StatusTooManyRequests {
		t.Fatalf("attacker past the bound = %d, want 429", code)
	}
	// A forged entry left of the proxy's does not help: the rightmost untrusted one counts.
	if code := e.postLogin("admin", "guess", "198.51.100.200, "+attacker); code != http.StatusTooManyRequests {
		t.Fatalf("attacker prepending an address = %d, want 429", code)
	}
	if code := e.postLogin("admin", adminPass, admin); code != http.StatusSeeOther {
		t.Fatalf("admin from another address = %d, want 303", code)
	}
	found := false
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["msg"] != "request" || m["path"] != "/login" || m["method"] != "POST" {
			continue
		}
		if m["ip"] != attacker && m["ip"] != admin {
			t.Fatalf("request log ip %v, want the client behind the proxy: %s", m["ip"], line)
		}
		found = true
	}
	if !found {
		t.Fatalf("no request log line for POST /login:\n%s", logs.String())
	}
}

// A scraper with the right Basic credentials keeps working while someone hammers the login
// form and Basic with wrong ones for other names from the same address; once its own user's
// password is guessed at over Basic from there, its remembered credentials get 429 like the
// guesses (a 200 would tell the guesser which guess was right).
func TestBasicScraperSurvivesGuessing(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	scrape := func() int {
		res, _ := e.do(nil, "GET", "/metrics", nil, "Authorization: Basic "+basic("admin", adminPass))
		return res.StatusCode
	}
	if code := scrape(); code != http.StatusOK {
		t.Fatalf("scrape = %d", code)
	}
	for i := range 30 {
		e.postLogin("viewer", fmt.Sprint("guess", i), "")
		e.do(nil, "GET", "/metrics", nil, "Authorization: Basic "+basic(fmt.Sprint("user", i), "guess"))
	}
	if res, _ := e.do(nil, "GET", "/metrics", nil, "Authorization: Basic "+basic("viewer", "guess")); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("guessing over Basic = %d, want 429", res.StatusCode)
	}
	if code := scrape(); code != http.StatusOK {
		t.Fatalf("scrape while other names are guessed at = %d, want 200", code)
	}
	for i := range auth.LoginFailuresPerUserIP {
		e.do(nil, "GET", "/metrics", nil, "Authorization: Basic "+basic("admin", fmt.Sprint("guess", i)))
	}
	if code := scrape(); code != http.StatusTooManyRequests {
		t.Fatalf("scrape while its own password is guessed at = %d, want 429", code)
	}
}

// An attacker who plants _csrf=x and posts _csrf=x is refused (before: accepted); the token
// rendered into the page works, and only for its own session.
func TestCSRFTokenIsTheSessions(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	admin, viewer := e.login("admin", adminPass), e.login("viewer", viewerPass)
	base, _ := url.Parse(e.ts.URL)
	admin.Jar.SetCookies(base, []*http.Cookie{{Name: "_csrf", Value: "x", Path: "/"}})
	form := "Content-Type: application/x-www-form-urlencoded"
	if res, _ := e.do(admin, "POST", "/logout", strings.NewReader("_csrf=x"), form); res.StatusCode != http.StatusForbidden {
		t.Fatalf("_csrf=x = %d, want 403", res.StatusCode)
	}
	_, page := e.do(viewer, "GET", "/", nil, "Accept: text/html")
	viewerTok := csrfInput.FindStringSubmatch(page)[1]
	if res, _ := e.do(admin, "POST", "/logout", strings.NewReader("_csrf="+url.QueryEscape(viewerTok)), form); res.StatusCode != http.StatusForbidden {
		t.Fatalf("another session's token = %d, want 403", res.StatusCode)
	}
	// An Authorization header does not exempt a cookie-authenticated request.
	if res, _ := e.do(admin, "POST", "/logout", nil, "Authorization: Bearer "+ingestToken); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cookie plus Bearer without token = %d, want 403", res.StatusCode)
	}
	_, page = e.do(admin, "GET", "/", nil, "Accept: text/html")
	tok := csrfInput.FindStringSubmatch(page)[1]
	if res, _ := e.do(admin, "POST", "/logout", strings.NewReader("_csrf="+url.QueryEscape(tok)), form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout with the page's token = %d, want 303", res.StatusCode)
	}
	if res, _ := e.do(admin, "GET", "/", nil, "Accept: text/html"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout = %d, want 303 to /login", res.StatusCode)
	}
}

// Logging in replaces the session the browser had (fixation): the old id is dead on the
// server.
func TestLoginRotatesSession(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	c := e.login("admin", adminPass)
	base, _ := url.Parse(e.ts.URL)
	old := sessionCookie(c, base)
	_, page := e.do(c, "GET", "/", nil, "Accept: text/html")
	form := url.Values{"username": {"viewer"}, "password": {viewerPass}, "_csrf": {csrfInput.FindStringSubmatch(page)[1]}}
	res, _ := e.do(c, "POST", "/login", strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second login = %d, want 303", res.StatusCode)
	}
	if now := sessionCookie(c, base); now == "" || now == old {
		t.Fatalf("session id not rotated at login: %q", now)
	}
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(base, []*http.Cookie{{Name: auth.SessionCookie, Value: old, Path: "/"}})
	if res, _ := e.do(noRedirect(jar), "GET", "/", nil, "Accept: text/html"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the previous session id = %d, want 303 (ended)", res.StatusCode)
	}
}

// HSTS only under TLS; cookies Secure there.
func TestHSTS(t *testing.T) {
	t.Parallel()
	plain := newAccessEnv(t, envOptions{})
	if res, _ := plain.do(nil, "GET", "/health/", nil); res.Header.Get("Strict-Transport-Security") != "" {
		t.Fatalf("HSTS over plain HTTP: %q", res.Header.Get("Strict-Transport-Security"))
	}
	e := newAccessEnv(t, envOptions{tls: true})
	jar, _ := cookiejar.New(nil)
	c := e.ts.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, p := range []string{"/health/", "/login"} {
		res, _ := e.do(c, "GET", p, nil, "Accept: text/html")
		if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Fatalf("GET %s over TLS: Strict-Transport-Security %q", p, got)
		}
	}
	res, body := e.do(c, "GET", "/login", nil, "Accept: text/html")
	for _, ck := range res.Cookies() {
		if !ck.Secure {
			t.Fatalf("cookie %s not Secure over TLS", ck.Name)
		}
	}
	form := url.Values{"username": {"admin"}, "password": {adminPass}, "_csrf": {csrfInput.FindStringSubmatch(body)[1]}}
	res, _ = e.do(c, "POST", "/login", strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login over TLS = %d", res.StatusCode)
	}
	var session *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == auth.SessionCookie {
			session = ck
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie over TLS: %+v", session)
	}
}

// Behind a TLS-terminating proxy: HSTS and Secure cookies when a trusted proxy says https,
// never when anyone else does.
func TestForwardedProtoFromTrustedProxyOnly(t *testing.T) {
	t.Parallel()
	for _, trusted := range []bool{false, true} {
		e := newAccessEnv(t, envOptions{mod: func(o *Options) {
			if trusted {
				o.TrustedProxies = []*net.IPNet{{IP: net.IPv4(127, 0, 0, 1).To4(), Mask: net.CIDRMask(32, 32)}}
			}
		}})
		res, _ := e.do(nil, "GET", "/login", nil, "Accept: text/html", "X-Forwarded-Proto: https")
		hsts := res.Header.Get("Strict-Transport-Security") != ""
		secure := len(res.Cookies()) > 0 && res.Cookies()[0].Secure
		if hsts != trusted || secure != trusted {
			t.Fatalf("trusted proxy %v: HSTS %v, Secure cookie %v; want both %v", trusted, hsts, secure, trusted)
		}
	}
}

// Anyone may POST /login: a body over 64 KiB gets 413 before anything parses it, with or
// without a Content-Length (a chunked one is cut while being read); a real login still works.
func TestLoginBodyBounded(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	big := url.Values{"username": {"admin"}, "password": {strings.Repeat("p", 100<<10)}}.Encode()
	form := "Content-Type: application/x-www-form-urlencoded"
	if res, _ := e.do(nil, "POST", "/login", strings.NewReader(big), form); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("100 KiB login form = %d, want 413", res.StatusCode)
	}
	chunked := struct{ io.Reader }{strings.NewReader(big)} // no length known: sent chunked
	if res, _ := e.do(nil, "POST", "/login", chunked, form); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("100 KiB chunked login form = %d, want 413", res.StatusCode)
	}
	if code := e.postLogin("admin", adminPass, ""); code != http.StatusSeeOther {
		t.Fatalf("login = %d, want 303", code)
	}
}
