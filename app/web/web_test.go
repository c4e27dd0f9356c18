package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/auth/authtest"
	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/ingest"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/tsdb"
)

const (
	adminPass   = "admin-password-1"
	viewerPass  = "viewer-password-1"
	ingestToken = "ingest-token-1"
)

// env is a whole server under test on an httptest server, with the users admin and viewer
// (adminPass, viewerPass); build it with newEnv or newEnvWith.
type env struct {
	t       testing.TB
	db      *tsdb.DB
	srv     *Server
	ts      *httptest.Server
	targets []health.Target
	checker *health.Checker
	redis   *fakeRedis // what Options.Redis returns; tests fill it
}

// newEnv is a server on a real tsdb in a temporary directory (env.db), closed when t ends.
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, envOptions{})
}

// envOptions vary newEnv: mod changes the server's Options before New; tls serves HTTPS
// (httptest's certificate; use env.ts.Client()); store replaces the real tsdb (then env.db is
// nil and health reports no storage): a fake, for tests in which storage is not what is tested.
type envOptions struct {
	mod   func(*Options)
	tls   bool
	store Store
}

// newEnvWith is newEnv varied by o.
func newEnvWith(t testing.TB, o envOptions) *env {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var db *tsdb.DB
	var store Store = o.store
	if store == nil {
		var err error
		if db, err = tsdb.Open(tsdb.Options{Path: dir, Logger: log}); err != nil {
			t.Fatal(err)
		}
		store = db
	}
	ah, vh := authtest.Hash(t, adminPass), authtest.Hash(t, viewerPass)
	users, err := auth.NewUsers([]auth.User{{Name: "admin", PasswordHash: ah, Role: auth.RoleAdmin}, {Name: "viewer", PasswordHash: vh, Role: auth.RoleViewer}}, dir, "", log)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := auth.NewSessions(dir, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, redis: &fakeRedis{}}
	e.checker = &health.Checker{Started: time.Now(), Targets: func() []health.Target { return e.targets }}
	if db != nil {
		e.checker.Storage = db
	}
	opts := Options{
		Refresh: 2 * time.Second, SystemInterval: 10 * time.Second, LocalHost: "testhost",
		Store: store, Users: users, Sessions: sessions, Health: e.checker, Stats: selfmon.New(), Redis: e.redis,
		Logger: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if db != nil {
		opts.Ingest = ingest.New(ingest.Options{Tokens: []string{ingestToken}, Writer: db, Logger: slog.New(slog.DiscardHandler)})
	}
	if o.mod != nil {
		o.mod(&opts)
	}
	e.srv = New(opts)
	if o.tls {
		e.ts = httptest.NewTLSServer(e.srv.Handler())
	} else {
		e.ts = httptest.NewServer(e.srv.Handler())
	}
	t.Cleanup(func() {
		e.ts.Close()
		if db != nil {
			db.Close()
		}
	})
	return e
}

// do sends a request with optional headers ("Name: value") and returns status and body.
func (e *env) do(client *http.Client, method, path string, body io.Reader, headers ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	if client == nil {
		client = noRedirect(nil)
	}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// noRedirect is a client with jar (nil: none) that returns redirects instead of following them.
func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// basic is the credentials of an HTTP Basic Authorization header for u and p.
func basic(u, p string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(u, p)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// decode parses body as a JSON object, failing the test if it is not one.
func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %s: %q", err, body)
	}
	return m
}

// csrfInput finds the CSRF token in a page's forms.
var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// login logs in through the form and returns a client carrying the session cookie.
func (e *env) login(user, pass string) *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := noRedirect(jar)
	res := e.submitLogin(c, user, pass, "/metrics", "")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/metrics" {
		e.t.Fatalf("POST /login: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	return c
}

// postLogin posts the login form from a new client, from X-Forwarded-For xff when not empty,
// and returns the status.
func (e *env) postLogin(user, pass, xff string) int {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	return e.submitLogin(noRedirect(jar), user, pass, "", xff).StatusCode
}

// submitLogin GETs the login form with c for its pre-session CSRF token and posts it, with
// next when not empty and from X-Forwarded-For xff when not empty.
func (e *env) submitLogin(c *http.Client, user, pass, next, xff string) *http.Response {
	e.t.Helper()
	path, form := "/login", url.Values{"username": {user}, "password": {pass}}
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
		form.Set("next", next)
	}
	res, body := e.do(c, "GET", path, nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("login form has no CSRF token: %s", body)
	}
	form.Set("_csrf", m[1])
	headers := []string{"Content-Type: application/x-www-form-urlencoded"}
	if xff != "" {
		headers = append(headers, "X-Forwarded-For: "+xff)
	}
	res, _ = e.do(c, "POST", "/login", strings.NewReader(form.Encode()), headers...)
	return res
}

// sessionCookie is the session cookie c carries for base; empty: none.
func sessionCookie(c *http.Client, base *url.URL) string {
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == auth.SessionCookie {
			return ck.Value
		}
	}
	return ""
}

// page GETs path as a browser with c (nil: no session), asserting 200, and parses it.
func (e *env) page(t *testing.T, c *http.Client, path string) *html.Node {
	t.Helper()
	doc, _ := e.pageStatus(t, c, path, http.StatusOK)
	return doc
}

// pageStatus GETs path as a browser with c, asserting the status want, and returns the page
// parsed and as text.
func (e *env) pageStatus(t *testing.T, c *http.Client, path string, want int) (*html.Node, string) {
	t.Helper()
	res, body := e.do(c, "GET", path, nil, "Accept: text/html")
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%.500s", path, res.StatusCode, want, body)
	}
	return parse(t, body), body
}

// postForm submits form to path as a browser would, with the CSRF token of c's session.
func (e *env) postForm(t *testing.T, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	_, body := e.do(c, "GET", "/", nil, "Accept: text/html")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on /")
	}
	form.Set("_csrf", html.UnescapeString(m[1]))
	return e.do(c, "POST", path, strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded", "Accept: text/html")
}

// itoa is n in decimal.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// newAccessEnv is newEnvWith on an emptyStore (o.store, if set, replaces it), with the write
// endpoints (their writes dropped): for the tests of login and of who may call what, in
// which storage is not what is tested.
func newAccessEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if o.store == nil {
		o.store = emptyStore{}
	}
	mod := o.mod
	o.mod = func(opts *Options) {
		opts.Ingest = ingest.New(ingest.Options{Tokens: []string{ingestToken}, Writer: emptyStore{}, Logger: slog.New(slog.DiscardHandler)})
		if mod != nil {
			mod(opts)
		}
	}
	e := newEnvWith(t, o)
	e.checker.Storage = emptyStore{}
	return e
}

// newLatestEnv is newEnv running on an empty latestStore instead of a real tsdb.
func newLatestEnv(t *testing.T) (*env, *latestStore) {
	t.Helper()
	st := newLatestStore()
	return newEnvWith(t, envOptions{store: st}), st
}

// newSnapshotEnv is a server over e.redis's snapshots and no storage.
func newSnapshotEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, envOptions{store: snapshotOnlyStore{}})
}

// restart serves e (plain HTTP) with a new server built from its options changed by mod, at
// a new address.
func (e *env) restart(mod func(*Options)) {
	opts := e.srv.opts
	mod(&opts)
	e.srv = New(opts)
	e.ts.Close()
	e.ts = httptest.NewServer(e.srv.Handler()) // closed by newEnv's cleanup
}
