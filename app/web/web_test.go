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

type env struct {
	t       testing.TB
	db      *tsdb.DB
	srv     *Server
	ts      *httptest.Server
	targets []health.Target
	checker *health.Checker
	redis   *fakeRedis // what Options.Redis returns; tests fill it
}

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

func noRedirect(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func basic(u, p string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(u, p)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

func decode(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %s: %q", err, body)
	}
	return m
}

func TestHealthEndpoints(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	e.targets = []health.Target{{Kind: "host", Name: "testhost", Up: true, LastSeen: now, LastRunAt: now, Interval: 10 * time.Second}}
	for _, p := range []string{"/health", "/health/", "/health/?verbose"} {
		res, body := e.do(nil, "GET", p, nil)
		m := decode(t, body)
		if res.StatusCode != 200 || m["status"] != "ok" || m["service"] != "redwatch" || m["version"] == nil || m["uptime_seconds"] == nil || m["timestamp"] == nil {
			t.Fatalf("%s: %d %s", p, res.StatusCode, body)
		}
		if strings.Contains(p, "verbose") != (m["go_version"] != nil) {
			t.Fatalf("%s: verbose detail mismatch: %s", p, body)
		}
	}
	for _, p := range []string{"/health/ready", "/health/ready/"} {
		res, body := e.do(nil, "GET", p, nil)
		m := decode(t, body)
		checks, _ := m["checks"].(map[string]any)
		storage, _ := checks["storage"].(map[string]any)
		if res.StatusCode != 200 || m["status"] != "ready" || storage["status"] != "ok" || storage["latency_ms"] == nil {
			t.Fatalf("%s: %d %s", p, res.StatusCode, body)
		}
	}
	res, body := e.do(nil, "GET", "/health/db/", nil)
	m := decode(t, body)
	for _, k := range []string{"engine", "version", "latency_ms", "series", "rows", "disk_used_bytes", "disk_free_bytes"} {
		if _, ok := m[k]; !ok || res.StatusCode != 200 {
			t.Fatalf("/health/db/ lacks %s: %d %s", k, res.StatusCode, body)
		}
	}
	res, body = e.do(nil, "GET", "/health/targets/", nil)
	if res.StatusCode != 200 || !strings.Contains(body, `"testhost"`) {
		t.Fatalf("targets: %d %s", res.StatusCode, body)
	}
	res, _ = e.do(nil, "GET", "/health/redis/nope/", nil)
	if res.StatusCode != 404 {
		t.Fatalf("unknown redis: %d", res.StatusCode)
	}

	// A target down: targets 503; a sampler that stopped running: ready 503.
	e.targets = append(e.targets, health.Target{Kind: "redis", Name: "cache", Up: false, Error: "connection refused", LastRunAt: now, Interval: 10 * time.Second})
	res, body = e.do(nil, "GET", "/health/targets", nil)
	if res.StatusCode != 503 || decode(t, body)["status"] != "degraded" {
		t.Fatalf("targets with one down: %d %s", res.StatusCode, body)
	}
	res, body = e.do(nil, "GET", "/health/redis/cache", nil)
	if res.StatusCode != 503 || !strings.Contains(body, "connection refused") {
		t.Fatalf("redis down: %d %s", res.StatusCode, body)
	}
	e.checker.Started = now.Add(-time.Hour)
	e.targets = []health.Target{{Kind: "host", Name: "testhost", Up: true, LastRunAt: now.Add(-10 * time.Minute), Interval: 10 * time.Second}}
	res, body = e.do(nil, "GET", "/health/ready", nil)
	if res.StatusCode != 503 || decode(t, body)["status"] != "not_ready" || !strings.Contains(body, "host:testhost") {
		t.Fatalf("ready with a stuck sampler: %d %s", res.StatusCode, body)
	}
	// Storage gone: not ready, db 503.
	e.targets = nil
	e.db.Close()
	res, body = e.do(nil, "GET", "/health/ready", nil)
	if res.StatusCode != 503 || decode(t, body)["status"] != "not_ready" {
		t.Fatalf("ready with storage closed: %d %s", res.StatusCode, body)
	}
	res, _ = e.do(nil, "GET", "/health/db", nil)
	if res.StatusCode != 503 {
		t.Fatalf("db with storage closed: %d", res.StatusCode)
	}
	res, _ = e.do(nil, "GET", "/health", nil)
	if res.StatusCode != 200 {
		t.Fatalf("liveness must not depend on storage: %d", res.StatusCode)
	}
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// login logs in through the form and returns a client carrying the session cookie.
func (e *env) login(user, pass string) *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := noRedirect(jar)
	res, body := e.do(c, "GET", "/login?next=/metrics", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		e.t.Fatalf("GET /login: %d", res.StatusCode)
	}
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("login form has no CSRF token: %s", body)
	}
	form := url.Values{"username": {user}, "password": {pass}, "next": {"/metrics"}, "_csrf": {m[1]}}
	res, _ = e.do(c, "POST", "/login", strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/metrics" {
		e.t.Fatalf("POST /login: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	return c
}

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

func TestQueryAPI(t *testing.T) {
	e := newEnv(t)
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	var samples []tsdb.Sample
	for i := 0; i < 30; i++ {
		samples = append(samples, tsdb.Sample{Name: "host_cpu_usage_percent", Labels: []tsdb.Label{{Name: "host", Value: "testhost"}}, Timestamp: t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), Value: float64(i)})
	}
	if err := e.db.Write(samples); err != nil {
		t.Fatal(err)
	}
	e.db.Flush()
	auth := "Authorization: Basic " + basic("viewer", viewerPass)
	q := url.Values{"query": {`host_cpu_usage_percent{host="testhost"}`}, "start": {itoa(t0.Add(time.Minute).Unix())}, "end": {itoa(t0.Add(3 * time.Minute).Unix())}, "step": {"60"}, "agg": {"max"}}
	res, body := e.do(nil, "GET", "/api/v1/query_range?"+q.Encode(), nil, auth)
	if res.StatusCode != 200 {
		t.Fatalf("query_range: %d %s", res.StatusCode, body)
	}
	var qr struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Values [][2]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &qr); err != nil {
		t.Fatal(err)
	}
	if qr.Status != "success" || qr.Data.ResultType != "matrix" || len(qr.Data.Result) != 1 || qr.Data.Result[0].Metric["host"] != "testhost" {
		t.Fatalf("shape: %s", body)
	}
	vals := qr.Data.Result[0].Values
	if len(vals) != 3 || vals[0][1] != "6" || vals[2][1] != "18" || vals[0][0].(float64) != float64(t0.Add(time.Minute).Unix()) {
		t.Fatalf("values: %v", vals)
	}
	for _, bad := range []string{"query=rate(x[5m])", "query=x&step=-1", "query=x&agg=median", "query=x&start=yesterday", "query=x&start=0&end=1000000&step=1"} {
		res, body := e.do(nil, "GET", "/api/v1/query_range?"+bad, nil, auth)
		if res.StatusCode != 400 || decode(t, body)["status"] != "error" || decode(t, body)["error"] == "" {
			t.Errorf("%s: %d %s, want 400 with a reason", bad, res.StatusCode, body)
		}
	}
	res, body = e.do(nil, "GET", "/api/v1/series?match[]="+url.QueryEscape(`{host="testhost"}`), nil, auth)
	if res.StatusCode != 200 || !strings.Contains(body, `"__name__":"host_cpu_usage_percent"`) {
		t.Fatalf("series: %d %s", res.StatusCode, body)
	}
	res, body = e.do(nil, "GET", "/api/v1/export?format=csv&match[]=host_cpu_usage_percent&start="+itoa(t0.Unix()), nil, auth)
	if res.StatusCode != 200 || !strings.HasPrefix(body, "__name__,host,timestamp_ms,value\n") || strings.Count(body, "\n") != 31 {
		t.Fatalf("export csv: %d %q", res.StatusCode, body[:min(len(body), 200)])
	}
	res, body = e.do(nil, "GET", "/metrics", nil, auth)
	if res.StatusCode != 200 || !strings.Contains(body, `host_cpu_usage_percent{host="testhost"} 29 `) {
		t.Fatalf("metrics: %d %s", res.StatusCode, body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A silent pushing agent is down in /health/targets but does not make redwatch not ready.
func TestSilentAgentDoesNotFailReadiness(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	e.checker.Started = now.Add(-time.Hour)
	e.targets = []health.Target{
		{Kind: "host", Name: "testhost", Up: true, LastSeen: now, LastRunAt: now, Interval: 10 * time.Second},
		{Kind: "host", Name: "agent-1", Up: false, LastSeen: now.Add(-time.Hour), Interval: 10 * time.Second, Error: "no push for 3600s", Pushed: true},
	}
	res, body := e.do(nil, "GET", "/health/ready", nil)
	if res.StatusCode != 200 {
		t.Fatalf("ready with a silent agent: %d %s", res.StatusCode, body)
	}
	res, body = e.do(nil, "GET", "/health/targets", nil)
	if res.StatusCode != 503 || !strings.Contains(body, `"pushed":true`) || !strings.Contains(body, "no push for 3600s") {
		t.Fatalf("targets with a silent agent: %d %s", res.StatusCode, body)
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
