package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// newCSRFApp is newTestApp with CSRF after Middleware, as the web package wires it, and a
// protected /form and a public /login/ (CSRF without Middleware) that answer with the token
// they would render.
func newCSRFApp(t *testing.T, secure bool) *testApp {
	t.Helper()
	csrf := CSRF(func(echo.Context) bool { return secure })
	a := newTestApp(t, csrf)
	token := func(c echo.Context) error { return c.String(http.StatusOK, CSRFToken(c)) }
	a.private.GET("/form", token)
	a.private.POST("/form", token)
	a.e.GET("/login/", token, csrf)
	a.e.POST("/login/", token, csrf)
	return a
}

type csrfReq struct {
	method   string
	path     string // default /form
	session  string // session cookie
	cookie   string // _csrf cookie (pre-session secret)
	header   string // X-CSRF-Token
	form     string // _csrf form field
	auth     string // Authorization
	secFetch string // Sec-Fetch-Site
}

func (r csrfReq) do(a *testApp) *httptest.ResponseRecorder {
	body := strings.NewReader("")
	if r.form != "" {
		body = strings.NewReader(url.Values{"_csrf": {r.form}, "x": {"1"}}.Encode())
	}
	if r.path == "" {
		r.path = "/form"
	}
	req := httptest.NewRequest(r.method, r.path, body)
	if r.form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.session != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: r.session})
	}
	if r.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "_csrf", Value: r.cookie})
	}
	if r.header != "" {
		req.Header.Set("X-CSRF-Token", r.header)
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	if r.secFetch != "" {
		req.Header.Set("Sec-Fetch-Site", r.secFetch)
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

// The login form (no session yet) gets a pre-session secret cookie; the token rendered is
// derived from it, never the cookie's value itself. A logged-in browser gets no such cookie.
func TestCSRFPreSession(t *testing.T) {
	for _, secure := range []bool{false, true} {
		a := newCSRFApp(t, secure)
		rec := csrfReq{method: http.MethodGet, path: "/login/"}.do(a)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET = %d", rec.Code)
		}
		cks := rec.Result().Cookies()
		if len(cks) != 1 {
			t.Fatalf("cookies = %v", cks)
		}
		ck, tok := cks[0], rec.Body.String()
		if ck.Name != "_csrf" || ck.Value == "" || tok == "" || tok == ck.Value || ck.Path != "/" ||
			!ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != secure || ck.MaxAge != 86400 {
			t.Fatalf("secure=%v: cookie = %+v, token %q", secure, ck, tok)
		}
		for _, tc := range []struct {
			name string
			req  csrfReq
			want int
		}{
			{"token and its cookie", csrfReq{cookie: ck.Value, form: tok}, http.StatusOK},
			{"token without cookie", csrfReq{form: tok}, http.StatusForbidden},
			{"cookie without token", csrfReq{cookie: ck.Value}, http.StatusForbidden},
			{"the cookie's value as token", csrfReq{cookie: ck.Value, form: ck.Value}, http.StatusForbidden},
			{"token of another cookie", csrfReq{cookie: "other", form: tok}, http.StatusForbidden},
		} {
			tc.req.method, tc.req.path = http.MethodPost, "/login/"
			if rec := tc.req.do(a); rec.Code != tc.want {
				t.Errorf("secure=%v %s: = %d %q, want %d", secure, tc.name, rec.Code, rec.Body, tc.want)
			}
		}

		id := login(t, a.sessions, a.users, "alice")
		rec = csrfReq{method: http.MethodGet, session: id}.do(a)
		if len(rec.Result().Cookies()) != 0 || rec.Body.String() != csrfTokenFor(id) {
			t.Fatalf("with a session: cookies %v, token %q", rec.Result().Cookies(), rec.Body)
		}
	}
}

func TestCSRFBoundToSession(t *testing.T) {
	a := newCSRFApp(t, false)
	alice, bob := login(t, a.sessions, a.users, "alice"), login(t, a.sessions, a.users, "bob")
	tok := csrfReq{method: http.MethodGet, session: alice}.do(a).Body.String()
	bobTok := csrfReq{method: http.MethodGet, session: bob}.do(a).Body.String()
	if tok == "" || tok == bobTok {
		t.Fatalf("tokens %q and %q", tok, bobTok)
	}
	basicAlice := "Basic " + basic("alice", "alice-pw")["Authorization"][len("Basic "):]
	tests := []struct {
		name string
		req  csrfReq
		want int
	}{
		{"header token", csrfReq{session: alice, header: tok}, http.StatusOK},
		{"form token", csrfReq{session: alice, form: tok}, http.StatusOK},
		{"no token", csrfReq{session: alice}, http.StatusForbidden},
		{"wrong token", csrfReq{session: alice, header: "wrong"}, http.StatusForbidden},
		{"attacker-chosen _csrf=x with a planted _csrf cookie", csrfReq{session: alice, cookie: "x", form: "x"}, http.StatusForbidden},
		{"another session's token", csrfReq{session: alice, header: bobTok}, http.StatusForbidden},
		{"the token with an unknown session", csrfReq{session: alice + "A", header: tok}, http.StatusUnauthorized},
		{"cookie session with a Bearer header", csrfReq{session: alice, auth: "Bearer t0ken"}, http.StatusForbidden},
		{"cookie session with an odd Authorization header", csrfReq{session: alice, auth: "Token x"}, http.StatusForbidden},
		{"Basic plus a session cookie", csrfReq{session: alice, auth: basicAlice}, http.StatusForbidden},
		{"Basic plus a session cookie and its token", csrfReq{session: alice, auth: basicAlice, header: tok}, http.StatusOK},
		{"Basic alone (curl)", csrfReq{auth: basicAlice}, http.StatusOK},
		{"same-origin needs no token", csrfReq{session: alice, secFetch: "same-origin"}, http.StatusOK},
		{"cross-site blocked", csrfReq{session: alice, secFetch: "cross-site"}, http.StatusForbidden},
		{"cross-site blocked even with token", csrfReq{session: alice, secFetch: "cross-site", header: tok}, http.StatusForbidden},
		{"same-site blocked even with token", csrfReq{session: alice, secFetch: "same-site", header: tok}, http.StatusForbidden},
		{"cross-site blocked with Basic", csrfReq{auth: basicAlice, secFetch: "cross-site"}, http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.method = http.MethodPost
			if rec := tc.req.do(a); rec.Code != tc.want {
				t.Fatalf("= %d %q, want %d", rec.Code, rec.Body, tc.want)
			}
		})
	}
	if rec := (csrfReq{method: http.MethodGet, session: alice, secFetch: "cross-site"}).do(a); rec.Code != http.StatusOK {
		t.Fatalf("cross-site GET = %d, want 200", rec.Code)
	}
}
