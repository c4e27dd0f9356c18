package web

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
)

// publicRoutes are the routes that answer without a login, exactly: the health endpoints,
// the assets, the login form and InfluxDB's /ping. A route added to the public group fails
// TestEveryNonPublicRouteRequiresLogin until it is listed here.
var publicRoutes = []string{
	"GET /health", "GET /health/", "GET /health/ready", "GET /health/ready/", "GET /health/db", "GET /health/db/",
	"GET /health/targets", "GET /health/targets/", "GET /health/redis/:name", "GET /health/redis/:name/",
	"GET /assets/*", "GET /login", "POST /login", "GET /ping", "HEAD /ping",
}

// tokenRoutes are the write endpoints, which check an ingest token instead of a login.
var tokenRoutes = []string{"POST /api/v1/write", "POST /write", "POST /api/v2/write"}

// Every route answers only after a login but the listed public and token routes: without
// one, API clients get 401 with a Basic challenge and browsers a redirect to /login; the
// public routes answer, and the write endpoints want their token.
func TestEveryNonPublicRouteRequiresLogin(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	routes := e.srv.Echo().Routes()
	if len(routes) < 10 {
		t.Fatalf("route table looks empty: %d routes", len(routes))
	}
	checked, registered := 0, map[string]bool{}
	session := e.login("admin", adminPass)
	for _, r := range routes {
		path := regexp.MustCompile(`:[a-z]+`).ReplaceAllString(r.Path, "x")
		path = strings.ReplaceAll(path, "*", "x")
		method, route := r.Method, r.Method+" "+r.Path
		if method == echo.RouteNotFound { // the answer for unknown paths under r.Path
			method, route = http.MethodGet, "unknown "+r.Path
		}
		registered[route] = true
		switch {
		case slices.Contains(tokenRoutes, route):
			// 401 JSON without a token, with a wrong one, with login credentials, or with only
			// a session cookie; never a CSRF 403.
			for _, c := range []struct {
				client *http.Client
				header []string
			}{
				{nil, nil},
				{nil, []string{"Authorization: Bearer wrong-token"}},
				{nil, []string{"Authorization: Basic " + basic("admin", adminPass)}},
				{session, nil},
			} {
				res, body := e.do(c.client, method, path, strings.NewReader("m v=1\n"), c.header...)
				if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"error"`) {
					t.Errorf("%s with %v (session %v): got %d %s, want 401 JSON", route, c.header, c.client != nil, res.StatusCode, body)
				}
			}
			continue
		case slices.Contains(publicRoutes, route):
			res, _ := e.do(nil, method, path, nil, "Accept: text/html")
			if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusSeeOther {
				t.Errorf("%s without login: got %d, want an answer (it is public)", route, res.StatusCode)
			}
			continue
		}
		checked++
		// API client: 401 with a Basic challenge.
		res, _ := e.do(nil, method, path, nil)
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without login: got %d, want 401 with WWW-Authenticate", route, res.StatusCode)
		}
		// Browser page load: redirect to the login page.
		if method == http.MethodGet {
			res, _ = e.do(nil, method, path, nil, "Accept: text/html")
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
				t.Errorf("%s from a browser without login: got %d %q, want 303 to /login", route, res.StatusCode, res.Header.Get("Location"))
			}
		}
		// Wrong password (a few routes only: the login limiter answers 429 after 10 failures).
		if checked > 3 {
			continue
		}
		res, _ = e.do(nil, method, path, nil, "Authorization: Basic "+basic("admin", "wrong"))
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with a wrong password: got %d, want 401", route, res.StatusCode)
		}
	}
	if checked < 6 {
		t.Fatalf("only %d protected routes checked", checked)
	}
	for _, route := range append(slices.Clone(publicRoutes), tokenRoutes...) {
		if !registered[route] {
			t.Errorf("%s is listed as public but not registered", route)
		}
	}
}

// Paths no route names exactly need a login before they get an answer, even under a public
// route's prefix: unclean paths that a public route's pattern matches, unknown paths next to
// public ones, and the write endpoints asked with another method.
func TestUnknownAndUncleanPathsNeedLogin(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	viewer := e.login("viewer", viewerPass)
	for _, c := range []struct{ method, path string }{
		{"GET", "/assets/../settings"},
		{"GET", "/assets/%2e%2e/settings"},
		{"GET", "/assets/./app.css"},
		{"GET", "/assets//app.css"},
		{"GET", "/health/../api/instances"},
		{"GET", "/health//x"},
		{"GET", "/health/nope"},
		{"GET", "/login/"},
		{"POST", "/login/"},
		{"GET", "/api/v1/write"},
		{"GET", "/write/"},
		{"POST", "/ping"},
		{"GET", "/no/such/page"},
	} {
		res, _ := e.do(nil, c.method, c.path, nil)
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s without login: got %d, want 401 with WWW-Authenticate", c.method, c.path, res.StatusCode)
		}
		// Logged in, the login is no longer in the way.
		if res, _ := e.do(viewer, c.method, c.path, nil); res.StatusCode == http.StatusUnauthorized {
			t.Errorf("%s %s logged in: got 401", c.method, c.path)
		}
	}
}

// Telegraf sends its ingest token as an HTTP Basic password: the write endpoints never count
// that as a failed login, so the user whose name it carries keeps logging in from there.
func TestTokenWritesAreNoFailedLogins(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	for i := range auth.LoginFailuresPerUserIP + 1 {
		res, body := e.do(nil, "POST", "/write", strings.NewReader(fmt.Sprintf("m v=%d\n", i)), "Authorization: Basic "+basic("admin", ingestToken))
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("write %d with the token as Basic password: %d %s", i, res.StatusCode, body)
		}
	}
	if res, _ := e.do(nil, "GET", "/metrics", nil, "Authorization: Basic "+basic("admin", adminPass)); res.StatusCode != http.StatusOK {
		t.Fatalf("admin after the writes: %d, want 200 (not limited)", res.StatusCode)
	}
}

// A browser asking for a page that does not exist gets the error page inside the layout; API
// clients get JSON.
func TestNotFoundPage(t *testing.T) {
	t.Parallel()
	e := newAccessEnv(t, envOptions{})
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/no-such-page", nil, "Accept: text/html")
	if res.StatusCode != 404 || !strings.Contains(body, `data-testid="error-page" data-code="404"`) || !strings.Contains(body, `data-testid="nav"`) || !strings.Contains(body, "There is no page at /no-such-page.") {
		t.Fatalf("404 page: %d %s", res.StatusCode, body)
	}
	res, body = e.do(c, "GET", "/no-such-page", nil, "Accept: application/json")
	if res.StatusCode != 404 || decode(t, body)["status"] != "error" {
		t.Fatalf("404 JSON: %d %s", res.StatusCode, body)
	}
}
