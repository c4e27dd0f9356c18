package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestLoginFlow wires the pieces as the web package is meant to: Middleware then CSRF on the
// routes that need a login, CSRF alone on the public ones, a login handler using Limiter,
// Users, Sessions and SafeNext, and logout.
func TestLoginFlow(t *testing.T) {
	protect := CSRF(func(echo.Context) bool { return false })
	a := newTestApp(t, protect)
	e := a.e
	e.POST("/login", func(c echo.Context) error {
		ip, name := c.RealIP(), c.FormValue("username")
		if a.limiter.Attempt(name, ip) > 0 {
			return c.String(http.StatusTooManyRequests, "too many attempts")
		}
		u, ok := a.users.Authenticate(name, c.FormValue("password"))
		if !ok {
			return c.String(http.StatusUnauthorized, "wrong")
		}
		a.limiter.Success(name, ip)
		id, exp, err := a.sessions.Create(u)
		if err != nil {
			return err
		}
		SetSessionCookie(c, id, exp, false)
		return c.Redirect(http.StatusSeeOther, SafeNext(c.FormValue("next")))
	}, protect)
	// What a page renders into its forms: public before login, behind it after.
	token := func(c echo.Context) error { return c.String(http.StatusOK, CSRFToken(c)) }
	e.GET("/health/token", token, protect)
	a.private.GET("/token", token)
	a.private.POST("/logout", func(c echo.Context) error {
		if ck, err := c.Cookie(SessionCookie); err == nil {
			if err := a.sessions.Delete(ck.Value); err != nil {
				return err
			}
		}
		ClearSessionCookie(c, false)
		return c.Redirect(http.StatusSeeOther, LoginPath)
	})

	jar := map[string]string{}
	do := func(method, target string, form url.Values) *httptest.ResponseRecorder {
		t.Helper()
		var req *http.Request
		if form != nil {
			req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(method, target, nil)
		}
		req.Header.Set("Accept", browserAccept)
		for k, v := range jar {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		for _, ck := range rec.Result().Cookies() {
			if ck.MaxAge < 0 {
				delete(jar, ck.Name)
			} else {
				jar[ck.Name] = ck.Value
			}
		}
		return rec
	}

	rec := do(http.MethodGet, "/keys?range=1h", nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("GET /keys = %d", rec.Code)
	}
	loginPage, _ := url.Parse(rec.Header().Get("Location"))
	next := loginPage.Query().Get("next")

	rec = do(http.MethodGet, "/health/token", nil) // as the login page: public, issues the pre-session secret
	if rec.Code != http.StatusOK || jar["_csrf"] == "" || rec.Body.String() == "" {
		t.Fatalf("GET /health/token = %d, secret %q, token %q", rec.Code, jar["_csrf"], rec.Body)
	}
	csrf := rec.Body.String()
	if rec := do(http.MethodPost, "/login", url.Values{"username": {"bob"}, "password": {"bob-pw"}, "_csrf": {jar["_csrf"]}}); rec.Code != http.StatusForbidden {
		t.Fatalf("login with the cookie's value as token = %d, want 403", rec.Code)
	}

	rec = do(http.MethodPost, "/login", url.Values{"username": {"bob"}, "password": {"bob-pw"}, "next": {next}})
	if rec.Code != http.StatusForbidden {
		t.Fatalf("login without CSRF token = %d, want 403", rec.Code)
	}
	rec = do(http.MethodPost, "/login", url.Values{"username": {"bob"}, "password": {"nope"}, "_csrf": {csrf}})
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong password = %d, want 401", rec.Code)
	}
	rec = do(http.MethodPost, "/login", url.Values{"username": {"bob"}, "password": {"bob-pw"}, "next": {next}, "_csrf": {csrf}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/keys?range=1h" {
		t.Fatalf("login = %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if jar[SessionCookie] == "" {
		t.Fatal("no session cookie after login")
	}

	rec = do(http.MethodGet, "/keys?range=1h", nil)
	if rec.Code != http.StatusOK || rec.Body.String() != "bob:viewer:" {
		t.Fatalf("GET /keys after login = %d %q", rec.Code, rec.Body)
	}
	// The pre-session token is worth nothing once logged in: the token is the session's.
	if rec := do(http.MethodPost, "/logout", url.Values{"_csrf": {csrf}}); rec.Code != http.StatusForbidden {
		t.Fatalf("logout with the pre-login token = %d, want 403", rec.Code)
	}
	csrf = do(http.MethodGet, "/token", nil).Body.String()
	if rec := do(http.MethodPost, "/settings", url.Values{"_csrf": {csrf}}); rec.Code != http.StatusForbidden {
		t.Fatalf("viewer POST /settings = %d, want 403", rec.Code)
	}

	sessionID := jar[SessionCookie]
	rec = do(http.MethodPost, "/logout", url.Values{"_csrf": {csrf}})
	if rec.Code != http.StatusSeeOther || jar[SessionCookie] != "" {
		t.Fatalf("logout = %d, cookie %q", rec.Code, jar[SessionCookie])
	}
	if _, ok := a.sessions.Lookup(sessionID, a.users); ok {
		t.Fatal("session still valid on the server after logout")
	}
	if rec := do(http.MethodGet, "/keys", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("GET /keys after logout = %d, want 303", rec.Code)
	}
}
