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
	private  *echo.Group // routes behind Middleware, and the answer for unknown ones
	users    *Users
	sessions *Sessions
	limiter  *Limiter
	clock    *fakeClock
}

// newTestApp builds an echo instance whose routes need a login, as the web package's route
// groups do: Middleware, then after (CSRF, say), on every route of a.private and on unknown
// paths; a few routes that echo the user they see. Routes added to a.e directly are public.
func newTestApp(t *testing.T, after ...echo.MiddlewareFunc) *testApp {
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
	mw := append([]echo.MiddlewareFunc{Middleware(MiddlewareConfig{Users: users, Sessions: sessions, Limiter: limiter})}, after...)
	private := e.Group("", mw...) // also answers unknown paths, after mw
	whoami := func(c echo.Context) error {
		u, ok := UserFrom(c)
		if !ok {
			return c.String(http.StatusOK, "anonymous")
		}
		return c.String(http.StatusOK, u.Name+":"+string(u.Role)+":"+u.PasswordHash)
	}
	private.GET("/", whoami)
	private.GET("/keys", whoami)
	private.GET("/api/instances", whoami)
	private.GET("/settings", whoami)
	private.POST("/settings", whoami, RequireAdmin())
	return &testApp{e: e, private: private, users: users, sessions: sessions, limiter: limiter, clock: clock}
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
