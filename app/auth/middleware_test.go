package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"
)

type testApp struct {
	e        *echo.Echo
	users    *Users
	sessions *Sessions
	limiter  *Limiter
	clock    *fakeClock
}

// newTestApp builds an echo instance with the auth middleware applied once, as the web
// package does, and a few routes that echo the user they see.
func newTestApp(t *testing.T) *testApp {
	t.Helper()
	users, err := newUsers([]User{
		{Name: "alice", PasswordHash: mustHash(t, "alice-pw"), Role: RoleAdmin},
		{Name: "bob", PasswordHash: mustHash(t, "bob-pw"), Role: RoleViewer},
	}, t.TempDir(), "", nil, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	sessions, err := NewSessions(t.TempDir(), time.Hour, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	limiter := NewLimiter(clock.Now)
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(Middleware(MiddlewareConfig{Users: users, Sessions: sessions, IsPublic: PublicPath, Limiter: limiter}))
	whoami := func(c echo.Context) error {
		u, ok := UserFrom(c)
		if !ok {
			return c.String(http.StatusOK, "anonymous")
		}
		return c.String(http.StatusOK, u.Name+":"+string(u.Role)+":"+u.PasswordHash)
	}
	e.GET("/health/", whoami)
	e.GET("/health/ready/", whoami)
	e.GET("/assets/app.css", whoami)
	e.GET("/login", whoami)
	e.GET("/", whoami)
	e.GET("/keys", whoami)
	e.GET("/api/instances", whoami)
	e.GET("/settings", whoami)
	e.POST("/settings", whoami, RequireAdmin())
	return &testApp{e: e, users: users, sessions: sessions, limiter: limiter, clock: clock}
}

func (a *testApp) do(t *testing.T, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

func basic(user, pw string) map[string]string {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, pw)
	return map[string]string{"Authorization": req.Header.Get("Authorization")}
}

func wantJSONError(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] != want {
		t.Fatalf("body = %q, want JSON error %q", rec.Body.String(), want)
	}
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func TestMiddlewarePublicPaths(t *testing.T) {
	a := newTestApp(t)
	for _, p := range []string{"/health/", "/health/ready/", "/assets/app.css", "/login"} {
		rec := a.do(t, http.MethodGet, p, nil)
		if rec.Code != http.StatusOK || rec.Body.String() != "anonymous" {
			t.Errorf("GET %s = %d %q, want 200 anonymous", p, rec.Code, rec.Body)
		}
	}
}

// The write endpoints take Basic credentials whose password is an ingest token: the login
// middleware must pass them through untouched and must not count them as failed logins.
func TestMiddlewareTokenAuthPaths(t *testing.T) {
	a := newTestApp(t)
	a.e.POST("/write", func(c echo.Context) error {
		if _, ok := UserFrom(c); ok {
			return c.String(http.StatusOK, "user")
		}
		return c.String(http.StatusOK, "anonymous")
	})
	for range 20 {
		rec := a.do(t, http.MethodPost, "/write", basic("telegraf", "some-ingest-token"))
		if rec.Code != http.StatusOK || rec.Body.String() != "anonymous" {
			t.Fatalf("POST /write with Basic = %d %q, want 200 anonymous", rec.Code, rec.Body)
		}
	}
	if ips, pairs := a.limiter.len(); ips != 0 || pairs != 0 {
		t.Fatal("token requests were counted as failed logins")
	}
	if rec := a.do(t, http.MethodPost, "/write/", basic("telegraf", "x")); rec.Code != http.StatusUnauthorized {
		t.Fatalf("POST /write/ = %d, want 401 (only the exact paths skip login)", rec.Code)
	}
}

func TestMiddlewareWithoutCredentials(t *testing.T) {
	a := newTestApp(t)

	t.Run("browser page load redirects to login with next", func(t *testing.T) {
		rec := a.do(t, http.MethodGet, "/keys?range=1h&x=a%26b", map[string]string{"Accept": browserAccept})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("status = %d, want 303", rec.Code)
		}
		loc, err := url.Parse(rec.Header().Get("Location"))
		if err != nil || loc.Path != "/login" || loc.Query().Get("next") != "/keys?range=1h&x=a%26b" {
			t.Fatalf("Location = %q", rec.Header().Get("Location"))
		}
	})
	t.Run("browser at root gets plain /login", func(t *testing.T) {
		rec := a.do(t, http.MethodHead, "/", map[string]string{"Accept": browserAccept})
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
			t.Fatalf("= %d %q", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("htmx gets 401 with HX-Redirect", func(t *testing.T) {
		rec := a.do(t, http.MethodGet, "/keys", map[string]string{"Accept": browserAccept, "HX-Request": "true"})
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("HX-Redirect") != "/login" {
			t.Fatalf("= %d, HX-Redirect %q", rec.Code, rec.Header().Get("HX-Redirect"))
		}
	})
	t.Run("API client gets 401 Basic challenge", func(t *testing.T) {
		rec := a.do(t, http.MethodGet, "/api/instances", map[string]string{"Accept": "*/*"})
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != `Basic realm="redwatch"` {
			t.Fatalf("= %d, WWW-Authenticate %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
		}
		wantJSONError(t, rec, "authentication required")
	})
	t.Run("browser POST is not redirected", func(t *testing.T) {
		rec := a.do(t, http.MethodPost, "/settings", map[string]string{"Accept": browserAccept})
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("= %d, want 401", rec.Code)
		}
	})
	t.Run("unknown route needs login too", func(t *testing.T) {
		rec := a.do(t, http.MethodGet, "/no/such/page", nil)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("= %d, want 401", rec.Code)
		}
	})
	t.Run("dot segments do not make a path public", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = "/assets/../settings"
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("= %d, want 401", rec.Code)
		}
	})
	t.Run("scheme-relative path is not used as next", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = "//evil.example/x"
		req.Header.Set("Accept", browserAccept)
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
			t.Fatalf("= %d %q", rec.Code, rec.Header().Get("Location"))
		}
	})
}

func TestMiddlewareBasic(t *testing.T) {
	a := newTestApp(t)
	rec := a.do(t, http.MethodGet, "/api/instances", basic("alice", "alice-pw"))
	if rec.Code != http.StatusOK || rec.Body.String() != "alice:admin:" {
		t.Fatalf("= %d %q, want 200 alice:admin: (no hash)", rec.Code, rec.Body)
	}
	for name, h := range map[string]map[string]string{
		"wrong password": basic("alice", "nope"),
		"unknown user":   basic("mallory", "alice-pw"),
		"malformed":      {"Authorization": "Basic !!!"},
	} {
		rec := a.do(t, http.MethodGet, "/api/instances", h)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("%s: = %d, want 401", name, rec.Code)
		}
		wantJSONError(t, rec, "invalid credentials")
	}

	// Wrong Basic credentials are not rescued by a valid session cookie.
	id := login(t, a.sessions, a.users, "alice")
	req := httptest.NewRequest(http.MethodGet, "/api/instances", nil)
	req.SetBasicAuth("alice", "nope")
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: id})
	rec = httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong Basic + valid cookie = %d, want 401", rec.Code)
	}
}

func TestMiddlewareBasicRateLimited(t *testing.T) {
	a := newTestApp(t)
	for i := range LoginFailuresPerUserIP {
		if rec := a.do(t, http.MethodGet, "/api/instances", basic("alice", "nope")); rec.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d = %d, want 401", i, rec.Code)
		}
	}
	rec := a.do(t, http.MethodGet, "/api/instances", basic("alice", "alice-pw"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "300" {
		t.Fatalf("= %d Retry-After %q, want 429 300", rec.Code, rec.Header().Get("Retry-After"))
	}
	a.clock.Advance(LoginFailureWindow)
	if rec := a.do(t, http.MethodGet, "/api/instances", basic("alice", "alice-pw")); rec.Code != http.StatusOK {
		t.Fatalf("after window = %d, want 200", rec.Code)
	}
}

func TestMiddlewareSessionCookie(t *testing.T) {
	a := newTestApp(t)
	get := func(cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Accept", browserAccept)
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie})
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		return rec
	}
	id := login(t, a.sessions, a.users, "bob")
	if rec := get(id); rec.Code != http.StatusOK || rec.Body.String() != "bob:viewer:" {
		t.Fatalf("= %d %q", rec.Code, rec.Body)
	}
	if rec := get("forged"); rec.Code != http.StatusSeeOther {
		t.Fatalf("forged cookie = %d, want 303", rec.Code)
	}
	// A session whose user no longer exists (removed from config) is worthless.
	ghost, _, _ := a.sessions.Create(User{Name: "ghost", PasswordHash: mustHash(t, "g"), Role: RoleAdmin})
	if rec := get(ghost); rec.Code != http.StatusSeeOther {
		t.Fatalf("session of removed user = %d, want 303", rec.Code)
	}
	// The role comes from Users, not from the user the session was created for.
	bob, _ := a.users.Get("bob")
	bob.Role = RoleAdmin
	stale, _, _ := a.sessions.Create(bob)
	if rec := get(stale); rec.Body.String() != "bob:viewer:" {
		t.Fatalf("stale role used: %q", rec.Body)
	}
	a.clock.Advance(time.Hour)
	if rec := get(id); rec.Code != http.StatusSeeOther {
		t.Fatalf("expired session = %d, want 303", rec.Code)
	}
}

func TestRequireAdmin(t *testing.T) {
	a := newTestApp(t)
	rec := a.do(t, http.MethodPost, "/settings", basic("bob", "bob-pw"))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("viewer = %d, want 403", rec.Code)
	}
	wantJSONError(t, rec, "admin role required")
	if rec := a.do(t, http.MethodPost, "/settings", basic("alice", "alice-pw")); rec.Code != http.StatusOK {
		t.Fatalf("admin = %d, want 200", rec.Code)
	}
	if rec := a.do(t, http.MethodGet, "/settings", basic("bob", "bob-pw")); rec.Code != http.StatusOK {
		t.Fatalf("viewer reading = %d, want 200", rec.Code)
	}

	// Without Middleware in front, RequireAdmin fails closed.
	e := echo.New()
	e.POST("/x", func(c echo.Context) error { return c.NoContent(http.StatusOK) }, RequireAdmin())
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/x", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("no user = %d, want 401", rec.Code)
	}
}

func TestSessionCookieHelpers(t *testing.T) {
	e := echo.New()
	expires := time.Now().Add(time.Hour).Truncate(time.Second)
	for _, secure := range []bool{false, true} {
		rec := httptest.NewRecorder()
		c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
		SetSessionCookie(c, "the-id", expires, secure)
		ck := rec.Result().Cookies()[0]
		if ck.Name != SessionCookie || ck.Value != "the-id" || ck.Path != "/" || !ck.HttpOnly ||
			ck.SameSite != http.SameSiteLaxMode || ck.Secure != secure || !ck.Expires.Equal(expires) {
			t.Fatalf("secure=%v: cookie = %+v", secure, ck)
		}

		rec = httptest.NewRecorder()
		c = e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
		ClearSessionCookie(c, secure)
		ck = rec.Result().Cookies()[0]
		if ck.Name != SessionCookie || ck.Value != "" || ck.MaxAge >= 0 || ck.Path != "/" || ck.Secure != secure {
			t.Fatalf("secure=%v: cleared cookie = %+v", secure, ck)
		}
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/keys", "/keys"},
		{"/keys?range=1h&x=1", "/keys?range=1h&x=1"},
		{"/redis/cache#clients", "/redis/cache#clients"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"},
		{"//evil.example", "/"},
		{"//evil.example/path", "/"},
		{`/\evil.example`, "/"},
		{`/a\b`, "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"https://evil.example", "/"},
		{"http:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"keys", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
	}
	for _, tc := range tests {
		if got := SafeNext(tc.in); got != tc.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPublicPath(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/health", true},
		{"/health/", true},
		{"/health/ready", true},
		{"/health/redis/cache/", true},
		{"/login", true},
		{"/login/", true},
		{"/assets/app.3f2a.css", true},
		{"/assets/js/htmx.min.js", true},
		{"/", false},
		{"/healthz", false},
		{"/health-check", false},
		{"/loginx", false},
		{"/login/other", false},
		{"/logout", false},
		{"/assets", false},
		{"/metrics", false},
		{"/api/instances", false},
		{"/assets/../settings", false},
		{"/health/../api/instances", false},
		{"/health//x", false},
		{"/assets/./x", false},
		{"", false},
		// Write endpoints check their own token.
		{"/api/v1/write", true},
		{"/write", true},
		{"/api/v2/write", true},
	}
	for _, tc := range tests {
		if got := PublicPath(tc.path); got != tc.want {
			t.Errorf("PublicPath(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestTokenAuthPath(t *testing.T) {
	for _, p := range []string{"/api/v1/write", "/write", "/api/v2/write"} {
		if !TokenAuthPath(p) || !PublicPath(p) {
			t.Errorf("%s: TokenAuthPath %v, PublicPath %v; want both true", p, TokenAuthPath(p), PublicPath(p))
		}
	}
	for _, p := range []string{"/write/", "/writes", "/api/v1/write/", "/api/v1/writex", "/api/v1/write/../series",
		"/api/v1//write", "/api/v1/./write", "/API/V1/WRITE", "/api/v1", "/api/v3/write", "/x/write", "/", ""} {
		if TokenAuthPath(p) || PublicPath(p) {
			t.Errorf("%s: TokenAuthPath %v, PublicPath %v; want both false", p, TokenAuthPath(p), PublicPath(p))
		}
	}
}
