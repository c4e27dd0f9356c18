package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/auth/authtest"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/app/settings"
	"github.com/redwatch/redwatch/tsdb"
)

// settingsEnv is an env whose server has a settings service over dir.
type settingsEnv struct {
	*env
	dir   string
	svc   *settings.Service
	apply *recordApply
}

// recordApply is the service's Apply hook: it records every set and fails with fail.
type recordApply struct {
	mu   sync.Mutex
	sets [][]config.Redis
	fail error
	next func([]config.Redis) error // called when fail is nil; nil: accept
}

func (a *recordApply) apply(rs []config.Redis) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sets = append(a.sets, rs)
	if a.fail != nil {
		return a.fail
	}
	if a.next != nil {
		return a.next(rs)
	}
	return nil
}

func (a *recordApply) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sets)
}

func (a *recordApply) last() []config.Redis {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sets) == 0 {
		return nil
	}
	return a.sets[len(a.sets)-1]
}

// settingsConfig is the config file's one instance, "cache", with one key and one pattern.
func settingsConfig(addr string) []config.Redis {
	r := config.Redis{Name: "cache", Addr: addr, Password: "config-secret", Interval: config.Duration(time.Second),
		Timeout: config.Duration(500 * time.Millisecond),
		Keys:    []config.Key{{Key: "queue:emails"}, {Pattern: "session:*"}}}
	r.ApplyDefaults()
	return []config.Redis{r}
}

// newSettingsEnv builds what newEnv builds, plus a settings service over a fresh data
// directory whose Apply is recorded (and passed on to next, when set). src replaces the fake
// RedisSource when not nil.
func newSettingsEnv(t *testing.T, fromConfig []config.Redis, src RedisSource, next func([]config.Redis) error, seed ...settings.Data) *settingsEnv {
	t.Helper()
	return newSettingsEnvWith(t, settingsEnvOptions{fromConfig: fromConfig, src: src, next: next, seed: seed})
}

// settingsEnvOptions configure newSettingsEnvWith.
type settingsEnvOptions struct {
	fromConfig []config.Redis
	src        RedisSource
	next       func([]config.Redis) error
	seed       []settings.Data
	rules      []config.Rule // the config file's alert rules
	defaults   []config.Rule // seeded once
	// applyRules returns the service's ApplyRules hook, given the env's storage; nil: none.
	applyRules func(db *tsdb.DB) func([]config.Rule) error
	secretsDir string // server.secrets_dir
}

func newSettingsEnvWith(t *testing.T, o settingsEnvOptions) *settingsEnv {
	t.Helper()
	fromConfig, src, next, seed := o.fromConfig, o.src, o.next, o.seed
	dir := t.TempDir()
	for _, d := range seed {
		if err := settings.Save(dir, d); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := tsdb.Open(tsdb.Options{Path: dir, Logger: log})
	if err != nil {
		t.Fatal(err)
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
	a := &recordApply{next: next}
	opts := settings.Options{Dir: dir, FromConfig: fromConfig, Apply: a.apply, FromConfigRules: o.rules, DefaultRules: o.defaults, SecretsDir: o.secretsDir}
	if o.applyRules != nil {
		opts.ApplyRules = o.applyRules(db)
	}
	svc, err := settings.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, redis: &fakeRedis{}}
	if src == nil {
		src = e.redis
	}
	e.checker = &health.Checker{Started: time.Now(), Storage: db, Targets: func() []health.Target { return e.targets }}
	e.srv = New(Options{
		Refresh: 2 * time.Second, SystemInterval: 10 * time.Second, LocalHost: "testhost",
		Store: db, Users: users, Sessions: sessions, Health: e.checker, Stats: selfmon.New(), Redis: src,
		Settings: svc,
		Logger:   slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(func() {
		e.ts.Close()
		db.Close()
	})
	return &settingsEnv{env: e, dir: dir, svc: svc, apply: a}
}

// settingsToken returns a CSRF token for c's session.
func (e *env) settingsToken(c *http.Client) string {
	e.t.Helper()
	_, body := e.do(c, "GET", "/", nil, "Accept: text/html")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatal("no CSRF token on /")
	}
	return html.UnescapeString(m[1])
}

// settingsPost submits form (plus a CSRF token) to path as a browser would.
func (e *env) settingsPost(c *http.Client, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	form.Set("_csrf", e.settingsToken(c))
	return e.do(c, "POST", path, strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded", "Accept: text/html")
}

// settingsDoc GETs /settings (or path) as admin, expecting 200.
func (e *env) settingsDoc(c *http.Client, path string) *html.Node {
	e.t.Helper()
	res, body := e.do(c, "GET", path, nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	return parse(e.t.(*testing.T), body)
}

// settingsWithAttr returns the nodes with data-testid=testID whose attribute key is val.
func settingsWithAttr(n *html.Node, testID, key, val string) []*html.Node {
	var out []*html.Node
	for _, d := range find(n, testID) {
		if attr(d, key) == val {
			out = append(out, d)
		}
	}
	return out
}

func settingsOne(t *testing.T, n *html.Node, testID, key, val string) *html.Node {
	t.Helper()
	ns := settingsWithAttr(n, testID, key, val)
	if len(ns) != 1 {
		t.Fatalf("want one data-testid=%q with %s=%q, found %d", testID, key, val, len(ns))
	}
	return ns[0]
}

func settingsRedirected(t *testing.T, res *http.Response, body, wantPrefix string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), wantPrefix) {
		t.Fatalf("got %d %q, want 303 to %s...\n%.2000s", res.StatusCode, res.Header.Get("Location"), wantPrefix, body)
	}
}

func settingsInstanceForm(name, addr string) url.Values {
	return url.Values{"name": {name}, "addr": {addr}, "db": {"0"}, "interval": {"5s"}, "timeout": {"1s"}}
}

func TestSettingsViewerForbidden(t *testing.T) {
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	res, _ := e.settingsPost(admin, "/settings/instances", settingsInstanceForm("ui1", "127.0.0.1:7000"))
	settingsRedirected(t, res, "", "/settings?added=instance%3Aui1")
	res, _ = e.settingsPost(admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"k1"}})
	settingsRedirected(t, res, "", "/settings?added=key%3Ak1")
	res, _ = e.settingsPost(admin, "/settings/rules", settingsRuleForm("r1", "redis_up"))
	settingsRedirected(t, res, "", "/settings?added=rule%3Ar1")
	id := e.svc.View().Instances[0].Keys[2].ID
	if id == "" {
		t.Fatal("no UI key id")
	}
	before, applied := e.svc.View(), e.apply.count()

	viewer := e.login("viewer", viewerPass)
	res, body := e.do(viewer, "GET", "/settings", nil, "Accept: text/html")
	if res.StatusCode != http.StatusForbidden || strings.Contains(body, "settings-instance") || strings.Contains(body, "ui1") || !strings.Contains(body, `data-testid="error-page"`) {
		t.Fatalf("viewer GET /settings: %d\n%.1000s", res.StatusCode, body)
	}
	res, body = e.do(viewer, "GET", "/settings", nil)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "admin role required") {
		t.Fatalf("viewer GET /settings (JSON): %d %s", res.StatusCode, body)
	}
	res, _ = e.do(viewer, "GET", "/settings/anything", nil, "Accept: text/html")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer GET /settings/anything: %d", res.StatusCode)
	}
	posts := 0
	for _, r := range e.srv.Echo().Routes() {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Path, "/settings") {
			continue
		}
		posts++
		path := strings.NewReplacer(":name", "ui1", ":id", id).Replace(r.Path)
		if strings.HasPrefix(r.Path, "/settings/rules/") {
			path = strings.Replace(r.Path, ":name", "r1", 1)
		}
		form := settingsInstanceForm("ui2", "127.0.0.1:7001")
		form.Set("kind", "key")
		form.Set("key", "viewer-key")
		for k, v := range settingsRuleForm("viewer-rule", "redis_up") {
			form[k] = v
		}
		res, body := e.settingsPost(viewer, path, form)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "admin role required") {
			t.Errorf("viewer POST %s: %d %.300s", path, res.StatusCode, body)
		}
	}
	if posts != 15 {
		t.Fatalf("%d POST routes under /settings, want 15", posts)
	}
	if !reflect.DeepEqual(e.svc.View(), before) || e.apply.count() != applied {
		t.Fatal("a viewer changed the settings")
	}
	// The admin still sees the page.
	doc := e.settingsDoc(admin, "/settings")
	settingsOne(t, doc, "settings-instance", "data-instance", "ui1")
}

func TestSettingsAddInstanceAndKey(t *testing.T) {
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)

	form := settingsInstanceForm("ui1", "127.0.0.1:7000")
	form.Set("password", "hunter2")
	res, body := e.settingsPost(admin, "/settings/instances", form)
	settingsRedirected(t, res, body, "/settings?added=instance%3Aui1")
	doc := e.settingsDoc(admin, res.Header.Get("Location"))
	if got := text(one(t, doc, "settings-notice")); got != "Instance “ui1” added." || !strings.Contains(got, "added") {
		t.Fatalf("notice: %q", got)
	}
	in := settingsOne(t, doc, "settings-instance", "data-instance", "ui1")
	if attr(in, "data-source") != "ui" {
		t.Fatalf("ui1 source %q", attr(in, "data-source"))
	}
	if cfg := settingsOne(t, doc, "settings-instance", "data-instance", "cache"); attr(cfg, "data-source") != "config" {
		t.Fatalf("cache source %q", attr(cfg, "data-source"))
	}
	if strings.Contains(body, "hunter2") || strings.Contains(settingsHTML(doc), "hunter2") || strings.Contains(settingsHTML(doc), "config-secret") {
		t.Fatal("a password is on the page")
	}
	if got := text(one(t, in, "settings-password")); got != "set" {
		t.Fatalf("password shown as %q", got)
	}

	// A key on the UI instance, a pattern on the config one.
	res, body = e.settingsPost(admin, "/settings/instances/ui1/keys", url.Values{"kind": {"key"}, "key": {"queue:jobs"}, "interval": {"2s"}, "enabled": {"false", "true"}})
	settingsRedirected(t, res, body, "/settings?added=key%3Aqueue%3Ajobs")
	res, body = e.settingsPost(admin, "/settings/instances/cache/keys", url.Values{"kind": {"pattern"}, "key": {"job:*"}, "max_keys": {"50"}, "scan_interval": {"1m"}, "enabled": {"false"}})
	settingsRedirected(t, res, body, "/settings?added=key%3Ajob%3A%2A")

	doc = e.settingsDoc(admin, "/settings")
	in = settingsOne(t, doc, "settings-instance", "data-instance", "ui1")
	k := settingsOne(t, in, "settings-key", "data-key", "queue:jobs")
	if attr(k, "data-source") != "ui" || text(one(t, k, "key-state")) != "active" {
		t.Fatalf("queue:jobs row: source %q state %q", attr(k, "data-source"), text(one(t, k, "key-state")))
	}
	cache := settingsOne(t, doc, "settings-instance", "data-instance", "cache")
	var got []string
	for _, k := range find(cache, "settings-key") {
		got = append(got, attr(k, "data-key")+"/"+attr(k, "data-source"))
	}
	if strings.Join(got, " ") != "queue:emails/config session:*/config job:*/ui" {
		t.Fatalf("cache keys: %v", got)
	}
	if text(one(t, settingsOne(t, cache, "settings-key", "data-key", "job:*"), "key-state")) != "paused" {
		t.Fatal("the pattern added without enabled is not paused")
	}

	// The apply hook got the merged set: the config's instance with its keys then the UI's.
	last := e.apply.last()
	if !reflect.DeepEqual(last, e.svc.Effective()) || len(last) != 2 || last[0].Name != "cache" || last[1].Name != "ui1" {
		t.Fatalf("applied set: %+v", last)
	}
	if ks := last[0].Keys; len(ks) != 3 || ks[2].Pattern != "job:*" || ks[2].MaxKeys != 50 || ks[2].IsEnabled() {
		t.Fatalf("cache keys applied: %+v", ks)
	}
	if ks := last[1].Keys; len(ks) != 1 || ks[0].Key != "queue:jobs" || ks[0].Interval != config.Duration(2*time.Second) || last[1].Password != "hunter2" {
		t.Fatalf("ui1 applied: %+v", last[1])
	}
	// Saved with mode 0600.
	if st, err := os.Stat(filepath.Join(e.dir, settings.FileName)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("settings.json: %v %v", st, err)
	}
}

// settingsHTML renders a parsed document back to text.
func settingsHTML(n *html.Node) string {
	var b strings.Builder
	_ = html.Render(&b, n)
	return b.String()
}

func TestSettingsInvalidInputIsShownInPlace(t *testing.T) {
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)

	form := settingsInstanceForm("ui1", "127.0.0.1:7000")
	form.Set("interval", "5x")
	form.Set("password", "typed-secret")
	res, body := e.settingsPost(admin, "/settings/instances", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("interval 5x: %d", res.StatusCode)
	}
	doc := parse(t, body)
	f := one(t, doc, "add-instance-form")
	fe := settingsOne(t, f, "field-error", "data-field", "interval")
	if got := text(fe); !strings.Contains(got, `"5x" is not a duration`) {
		t.Fatalf("interval error: %q", got)
	}
	// Next to its field: in the same .field as the input, which points at it.
	input := fe.Parent.FirstChild
	for input != nil && !(input.Type == html.ElementNode && input.Data == "input") {
		input = input.NextSibling
	}
	if input == nil || attr(input, "name") != "interval" || attr(input, "aria-describedby") != attr(fe, "id") || attr(input, "aria-invalid") != "true" || attr(input, "value") != "5x" {
		t.Fatalf("the error is not next to the interval input: %+v", input)
	}
	if strings.Contains(body, "typed-secret") {
		t.Fatal("the typed password was rendered back")
	}
	if !strings.Contains(body, `value="127.0.0.1:7000"`) || !strings.Contains(body, `value="ui1"`) {
		t.Fatal("the user's input was not kept")
	}
	if e.apply.count() != 0 {
		t.Fatal("an invalid form was applied")
	}

	// Problems found by config's validation land on their fields too, all at once.
	form = settingsInstanceForm("Bad!", "nohost")
	form.Set("interval", "500ms")
	res, body = e.settingsPost(admin, "/settings/instances", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad instance: %d", res.StatusCode)
	}
	f = one(t, parse(t, body), "add-instance-form")
	for field, want := range map[string]string{"name": "may contain only", "addr": "is not host:port", "interval": "must be >= 1s"} {
		if got := text(settingsOne(t, f, "field-error", "data-field", field)); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	// A name taken by the config file.
	res, body = e.settingsPost(admin, "/settings/instances", settingsInstanceForm("cache", "127.0.0.1:7000"))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(settingsOne(t, parse(t, body), "field-error", "data-field", "name")), "config file") {
		t.Fatalf("duplicate of a config name: %d", res.StatusCode)
	}

	// A key form: the error shows in that instance's add-key form, with the input kept.
	// Values that do not parse are reported with what validating the rest finds.
	res, body = e.settingsPost(admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"queue:emails"}, "interval": {"5x"}, "max_keys": {"5"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("key interval 5x: %d", res.StatusCode)
	}
	kf := settingsOne(t, parse(t, body), "add-key-form", "data-instance", "cache")
	for field, want := range map[string]string{"interval": `"5x" is not a duration`, "max_keys": "applies only to pattern entries", "key": "already watched"} {
		if got := text(settingsOne(t, kf, "field-error", "data-field", field)); !strings.Contains(got, want) {
			t.Errorf("key form %s error: %q, want %q", field, got, want)
		}
	}
	for _, in := range settingsTags(kf, "input") {
		if attr(in, "name") == "interval" && attr(in, "value") != "5x" {
			t.Fatalf("interval input not kept: %q", attr(in, "value"))
		}
	}
	// A duplicate of the config file's key on the same instance.
	res, body = e.settingsPost(admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"queue:emails"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate key: %d", res.StatusCode)
	}
	kf = settingsOne(t, parse(t, body), "add-key-form", "data-instance", "cache")
	if got := text(settingsOne(t, kf, "field-error", "data-field", "key")); !strings.Contains(got, "already watched") {
		t.Fatalf("duplicate key error: %q", got)
	}
	// max_keys on an exact key.
	res, body = e.settingsPost(admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"k2"}, "max_keys": {"5"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(settingsOne(t, parse(t, body), "field-error", "data-field", "max_keys")), "pattern") {
		t.Fatalf("max_keys on a key: %d", res.StatusCode)
	}
	if e.apply.count() != 0 {
		t.Fatal("an invalid form was applied")
	}
	if _, err := os.Stat(filepath.Join(e.dir, settings.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an invalid form was saved: %v", err)
	}
	// Unknown objects: 404.
	res, _ = e.settingsPost(admin, "/settings/instances/nope/keys", url.Values{"kind": {"key"}, "key": {"k"}})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("key on an unknown instance: %d", res.StatusCode)
	}
	res, _ = e.settingsPost(admin, "/settings/keys/0123456789abcdef/delete", url.Values{})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown key: %d", res.StatusCode)
	}
}

func TestSettingsConfigObjectsAreReadOnly(t *testing.T) {
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	res, _ := e.settingsPost(admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"mine"}})
	settingsRedirected(t, res, "", "/settings?added=")
	res, _ = e.settingsPost(admin, "/settings/instances", settingsInstanceForm("ui1", "127.0.0.1:7000"))
	settingsRedirected(t, res, "", "/settings?added=")

	doc := e.settingsDoc(admin, "/settings")
	cache := settingsOne(t, doc, "settings-instance", "data-instance", "cache")
	for _, id := range []string{"edit-instance", "delete-instance", "pause-instance"} {
		if len(find(cache, id)) != 0 {
			t.Errorf("the config instance has %s", id)
		}
	}
	if got := text(one(t, cache, "settings-source")); got != "from config file" {
		t.Errorf("config source label %q", got)
	}
	// Its fields are shown, its password is not.
	if !strings.Contains(text(cache), "127.0.0.1:6390") || text(one(t, cache, "settings-password")) != "set" {
		t.Errorf("config fields: %s", text(cache))
	}
	for _, k := range settingsWithAttr(cache, "settings-key", "data-source", "config") {
		for _, id := range []string{"edit-key", "delete-key", "pause-key"} {
			if len(find(k, id)) != 0 {
				t.Errorf("config key %s has %s", attr(k, "data-key"), id)
			}
		}
	}
	mine := settingsOne(t, cache, "settings-key", "data-key", "mine")
	for _, id := range []string{"edit-key", "delete-key", "pause-key", "confirm-delete-key"} {
		one(t, mine, id)
	}
	ui1 := settingsOne(t, doc, "settings-instance", "data-instance", "ui1")
	for _, id := range []string{"edit-instance", "delete-instance", "pause-instance", "confirm-delete-instance"} {
		one(t, ui1, id)
	}
	// One add-key form per instance, config ones included.
	if len(find(doc, "add-key-form")) != 2 {
		t.Fatalf("add-key forms: %d", len(find(doc, "add-key-form")))
	}
	// Posting changes to the config instance anyway: 409.
	for _, p := range []string{"/settings/instances/cache", "/settings/instances/cache/pause", "/settings/instances/cache/delete"} {
		res, _ := e.settingsPost(admin, p, settingsInstanceForm("cache", "127.0.0.1:1"))
		if res.StatusCode != http.StatusConflict {
			t.Errorf("POST %s: %d, want 409", p, res.StatusCode)
		}
	}
	// ?edit= on a config object opens nothing.
	doc = e.settingsDoc(admin, "/settings?edit=instance:cache")
	if len(find(doc, "edit-instance-form")) != 0 {
		t.Fatal("edit form for a config instance")
	}
}

func TestSettingsHostileKeyRendersAsText(t *testing.T) {
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	res, body := e.settingsPost(admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {hostileKey}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add hostile key: %d %.500s", res.StatusCode, body)
	}
	res, body = e.do(admin, "GET", res.Header.Get("Location"), nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("GET: %d", res.StatusCode)
	}
	if strings.Contains(body, "<img") {
		t.Fatal("the hostile key is rendered as markup")
	}
	doc := parse(t, body)
	if len(settingsTags(doc, "img")) != 0 {
		t.Fatal("an <img> element exists")
	}
	k := settingsOne(t, doc, "settings-key", "data-key", hostileKey)
	if got := text(one(t, k, "settings-key-name")); got != hostileKey {
		t.Fatalf("key text %q", got)
	}
	if got := text(one(t, doc, "settings-notice")); !strings.Contains(got, hostileKey) {
		t.Fatalf("notice %q", got)
	}
	// Its edit form keeps it as a value.
	doc = e.settingsDoc(admin, "/settings?edit="+url.QueryEscape("key:"+attr(k, "id")[len("key-"):]))
	ef := one(t, doc, "edit-key-form")
	for _, in := range settingsTags(ef, "input") {
		if attr(in, "name") == "key" && attr(in, "value") != hostileKey {
			t.Fatalf("edit value %q", attr(in, "value"))
		}
	}
}

func settingsTags(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

func TestSettingsFailingApplySavesNothing(t *testing.T) {
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	e.apply.fail = errors.New("cannot read tls_ca_file: boom")
	res, body := e.settingsPost(admin, "/settings/instances", settingsInstanceForm("ui1", "127.0.0.1:7000"))
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("failing apply: %d", res.StatusCode)
	}
	doc := parse(t, body)
	if got := text(one(t, one(t, doc, "add-instance-form"), "form-error")); !strings.Contains(got, "boom") {
		t.Fatalf("form error %q", got)
	}
	if len(settingsWithAttr(doc, "settings-instance", "data-instance", "ui1")) != 0 {
		t.Fatal("the refused instance is listed")
	}
	if _, err := os.Stat(filepath.Join(e.dir, settings.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("settings.json written after a failed apply: %v", err)
	}
	if len(e.svc.View().Instances) != 1 {
		t.Fatal("the service kept the refused instance")
	}

	// A failed save: 500 with the reason; the previous set is applied again.
	e.apply.fail = nil
	path := filepath.Join(e.dir, settings.FileName)
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	n := e.apply.count()
	res, body = e.settingsPost(admin, "/settings/instances", settingsInstanceForm("ui1", "127.0.0.1:7000"))
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(text(one(t, parse(t, body), "settings-error")), "not saved") {
		t.Fatalf("failed save: %d", res.StatusCode)
	}
	if e.apply.count() != n+2 || len(e.apply.last()) != 1 {
		t.Fatalf("apply calls %d, last %+v: want the change then the previous set", e.apply.count()-n, e.apply.last())
	}
}

func TestSettingsEditPauseDelete(t *testing.T) {
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	form := settingsInstanceForm("ui1", "127.0.0.1:7000")
	form.Set("password", "hunter2")
	res, _ := e.settingsPost(admin, "/settings/instances", form)
	settingsRedirected(t, res, "", "/settings?added=")
	res, _ = e.settingsPost(admin, "/settings/instances/ui1/keys", url.Values{"kind": {"key"}, "key": {"k1"}})
	settingsRedirected(t, res, "", "/settings?added=")

	// The edit form shows the values, never the password.
	doc := e.settingsDoc(admin, "/settings?edit=instance:ui1")
	ef := one(t, doc, "edit-instance-form")
	vals := map[string]string{}
	for _, in := range settingsTags(ef, "input") {
		vals[attr(in, "name")] = attr(in, "value")
	}
	if vals["addr"] != "127.0.0.1:7000" || vals["interval"] != "5s" || vals["password"] != "" || vals["clear_password"] != "true" {
		t.Fatalf("edit form values: %v", vals)
	}
	if strings.Contains(settingsHTML(doc), "hunter2") {
		t.Fatal("the stored password is on the page")
	}
	// Save with a blank password: kept. An invalid timeout: 422 in the edit form.
	form = settingsInstanceForm("ui1", "127.0.0.1:7001")
	form.Set("timeout", "9s")
	res, body := e.settingsPost(admin, "/settings/instances/ui1", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("timeout > interval: %d", res.StatusCode)
	}
	ef = one(t, parse(t, body), "edit-instance-form")
	if got := text(settingsOne(t, ef, "field-error", "data-field", "timeout")); !strings.Contains(got, "must not exceed interval (5s), got 9s") {
		t.Fatalf("timeout error %q", got)
	}
	res, body = e.settingsPost(admin, "/settings/instances/ui1", settingsInstanceForm("ui1", "127.0.0.1:7001"))
	settingsRedirected(t, res, body, "/settings?saved=instance%3Aui1")
	if r := e.apply.last()[1]; r.Addr != "127.0.0.1:7001" || r.Password != "hunter2" || len(r.Keys) != 1 {
		t.Fatalf("after edit: %+v", r)
	}

	// Pause: out of the running set, shown paused with a Resume button; resume.
	res, _ = e.settingsPost(admin, "/settings/instances/ui1/pause", url.Values{})
	settingsRedirected(t, res, "", "/settings?paused=instance%3Aui1")
	if len(e.apply.last()) != 1 {
		t.Fatalf("paused instance still applied: %+v", e.apply.last())
	}
	doc = e.settingsDoc(admin, "/settings")
	ui1 := settingsOne(t, doc, "settings-instance", "data-instance", "ui1")
	if attr(one(t, ui1, "settings-status"), "data-status") != "paused" || text(one(t, ui1, "pause-instance")) != "Resume" {
		t.Fatalf("paused instance: %s", text(ui1))
	}
	res, _ = e.settingsPost(admin, "/settings/instances/ui1/resume", url.Values{})
	settingsRedirected(t, res, "", "/settings?resumed=instance%3Aui1")

	// Key: edit, pause, delete.
	id := e.svc.View().Instances[1].Keys[0].ID
	doc = e.settingsDoc(admin, "/settings?edit=key:"+id)
	one(t, doc, "edit-key-form")
	res, body = e.settingsPost(admin, "/settings/keys/"+id, url.Values{"kind": {"pattern"}, "key": {"k*"}, "interval": {"3s"}})
	settingsRedirected(t, res, body, "/settings?saved=key%3Ak%2A")
	if k := e.apply.last()[1].Keys[0]; k.Pattern != "k*" || k.Interval != config.Duration(3*time.Second) {
		t.Fatalf("edited key: %+v", k)
	}
	res, _ = e.settingsPost(admin, "/settings/keys/"+id+"/pause", url.Values{})
	settingsRedirected(t, res, "", "/settings?paused=key%3Ak%2A")
	if e.apply.last()[1].Keys[0].IsEnabled() {
		t.Fatal("paused key enabled")
	}
	res, _ = e.settingsPost(admin, "/settings/keys/"+id+"/delete", url.Values{})
	settingsRedirected(t, res, "", "/settings?deleted=key%3Ak%2A")
	if len(e.apply.last()[1].Keys) != 0 {
		t.Fatal("deleted key still applied")
	}
	// Delete the instance.
	res, _ = e.settingsPost(admin, "/settings/instances/ui1/delete", url.Values{})
	settingsRedirected(t, res, "", "/settings?deleted=instance%3Aui1")
	doc = e.settingsDoc(admin, "/settings")
	if len(settingsWithAttr(doc, "settings-instance", "data-instance", "ui1")) != 0 || len(e.apply.last()) != 1 {
		t.Fatal("deleted instance still there")
	}
}

// Keys added to a config instance that the config file no longer has are listed as orphans,
// with only a delete button.
func TestSettingsOrphanedKeys(t *testing.T) {
	d := settings.Data{Version: settings.Version, Keys: []settings.Key{{ID: "00000000000000aa", Instance: "gone", Key: "old:key"}}}
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil, d)
	admin := e.login("admin", adminPass)
	doc := e.settingsDoc(admin, "/settings")
	o := one(t, doc, "settings-orphans")
	k := settingsOne(t, o, "settings-key", "data-key", "old:key")
	if attr(k, "data-orphan") != "true" || attr(k, "data-instance") != "gone" {
		t.Fatalf("orphan row: %s", settingsHTML(k))
	}
	one(t, k, "delete-key")
	if len(find(k, "edit-key"))+len(find(k, "pause-key")) != 0 {
		t.Fatal("an orphan can be edited or paused")
	}
	res, _ := e.settingsPost(admin, "/settings/keys/00000000000000aa/delete", url.Values{})
	settingsRedirected(t, res, "", "/settings?deleted=key%3Aold%3Akey")
	doc = e.settingsDoc(admin, "/settings")
	if len(find(doc, "settings-orphans")) != 0 {
		t.Fatal("orphan still listed")
	}
}

// Without a settings service the page lists the watched instances read-only.
func TestSettingsWithoutService(t *testing.T) {
	e := newEnv(t)
	e.fill()
	admin := e.login("admin", adminPass)
	res, body := e.do(admin, "GET", "/settings", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("GET /settings: %d", res.StatusCode)
	}
	doc := parse(t, body)
	one(t, doc, "settings-readonly")
	if len(find(doc, "settings-instance")) != 2 || len(find(doc, "add-instance-form"))+len(find(doc, "add-key-form"))+len(find(doc, "edit-instance")) != 0 {
		t.Fatalf("read-only page:\n%.2000s", body)
	}
	res, _ = e.do(nil, "POST", "/settings/instances", strings.NewReader(""), "Authorization: Basic "+basic("admin", adminPass))
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("POST without a service: %d", res.StatusCode)
	}
}

// The whole path with a real redis-server and a real redis.Manager: a key added through the
// form is sampled within an interval, pausing it stops it, and a restart (reopening the
// settings) gives the same effective set.
func TestSettingsRealRedis(t *testing.T) {
	srv := redistest.Start(t)
	cli := srv.Client()
	defer cli.Close()
	ctx := context.Background()
	if err := cli.RPush(ctx, "queue:ui", "a", "b", "c").Err(); err != nil {
		t.Fatal(err)
	}
	fromConfig := settingsConfig(srv.Addr())
	fromConfig[0].Password = "" // the test server has none
	fromConfig[0].Keys = nil
	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := redis.NewManager(redis.ManagerOptions{Writer: db}, fromConfig)
	if err != nil {
		t.Fatal(err)
	}
	mctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(mctx) })
	defer func() { stop(); wg.Wait() }()

	e := newSettingsEnv(t, fromConfig, m, m.Set)
	admin := e.login("admin", adminPass)
	res, body := e.settingsPost(admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"queue:ui"}, "interval": {"1s"}})
	settingsRedirected(t, res, body, "/settings?added=")

	sampled := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var found *redis.KeySnapshot
			for _, k := range m.Keys() {
				if k.Key == "queue:ui" {
					found = &k
				}
			}
			if want && found != nil && found.Exists && found.Length == 3 {
				return
			}
			if !want && found == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("queue:ui sampled=%v after 5s, want %v: %+v", found != nil, want, found)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	sampled(true)
	// The page shows the instance up.
	doc := e.settingsDoc(admin, "/settings")
	if st := attr(one(t, settingsOne(t, doc, "settings-instance", "data-instance", "cache"), "settings-status"), "data-status"); st != "up" {
		t.Fatalf("status %q", st)
	}

	id := e.svc.View().Instances[0].Keys[0].ID
	res, _ = e.settingsPost(admin, "/settings/keys/"+id+"/pause", url.Values{})
	settingsRedirected(t, res, "", "/settings?paused=")
	sampled(false)
	res, _ = e.settingsPost(admin, "/settings/keys/"+id+"/resume", url.Values{})
	settingsRedirected(t, res, "", "/settings?resumed=")
	sampled(true)

	// Restart: reopening the settings gives the same effective set, which is what runs.
	reopened, err := settings.Open(settings.Options{Dir: e.dir, FromConfig: fromConfig})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(reopened.Effective(), e.svc.Effective()) {
		t.Fatalf("after reopening:\n got %+v\nwant %+v", reopened.Effective(), e.svc.Effective())
	}
	if eff := reopened.Effective(); len(eff) != 1 || len(eff[0].Keys) != 1 || eff[0].Keys[0].Key != "queue:ui" || !eff[0].Keys[0].IsEnabled() {
		t.Fatalf("effective after reopening: %+v", eff)
	}
}

// settingsRuleForm is a valid rule form: name, series, threshold 1; everything else default.
func settingsRuleForm(name, series string) url.Values {
	return url.Values{"name": {name}, "series": {series}, "aggregate": {"last"}, "window": {""}, "op": {">"},
		"threshold": {"1"}, "clear_threshold": {""}, "for": {""}, "severity": {"warning"}, "summary": {""}, "labels": {""}}
}

// settingsConfigRules are the config file's alert rules: RedisDown (also a shipped default's
// name) and, for hostile input, a rule named like an HTML tag.
func settingsConfigRules() []config.Rule {
	rs := []config.Rule{
		{Name: "RedisDown", Series: "redis_up", Op: "<", Threshold: 1, For: config.Duration(30 * time.Second), Severity: "critical"},
		{Name: hostileKey, Series: `redis_key_length{key="` + hostileKey + `"}`, Threshold: 5, Summary: hostileKey},
	}
	for i := range rs {
		rs[i].ApplyDefaults()
	}
	return rs
}

// recordRules is an ApplyRules hook that records every set and fails with fail.
type recordRules struct {
	mu   sync.Mutex
	sets [][]config.Rule
	fail error
}

func (a *recordRules) hook(*tsdb.DB) func([]config.Rule) error {
	return func(rs []config.Rule) error {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.sets = append(a.sets, rs)
		return a.fail
	}
}

func (a *recordRules) last() []config.Rule {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sets) == 0 {
		return nil
	}
	return a.sets[len(a.sets)-1]
}

func (a *recordRules) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sets)
}

func ruleNamesOf(rs []config.Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestSettingsRuleAdd(t *testing.T) {
	rec := &recordRules{}
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules(), applyRules: rec.hook})
	admin := e.login("admin", adminPass)
	now := time.Now()
	if err := e.db.Write([]tsdb.Sample{
		{Name: "redis_key_length", Labels: []tsdb.Label{{Name: "instance", Value: "cache"}, {Name: "key", Value: "queue:emails"}}, Timestamp: now.UnixMilli(), Value: 3},
		{Name: "redis_key_length", Labels: []tsdb.Label{{Name: "instance", Value: "other"}, {Name: "key", Value: "queue:emails"}}, Timestamp: now.UnixMilli(), Value: 4},
	}); err != nil {
		t.Fatal(err)
	}

	form := url.Values{"name": {"QueueBacklog"}, "series": {`redis_key_length{key="queue:emails"}`}, "aggregate": {"avg"}, "window": {"5m"},
		"op": {">="}, "threshold": {"1e4"}, "clear_threshold": {"9000.5"}, "for": {"2m"}, "severity": {"critical"},
		"summary": {"{{ .Labels.key }} has {{ .Value }} items"}, "labels": {"team = db\r\nenv=\"prod, eu\"\r\n"}}
	res, body := e.settingsPost(admin, "/settings/rules", form)
	settingsRedirected(t, res, body, "/settings?added=rule%3AQueueBacklog#rule-QueueBacklog")
	doc := e.settingsDoc(admin, res.Header.Get("Location"))
	if got := text(one(t, doc, "settings-notice")); got != "Rule “QueueBacklog” added." {
		t.Fatalf("notice %q", got)
	}
	row := settingsOne(t, doc, "settings-rule", "data-rule", "QueueBacklog")
	if attr(row, "data-source") != "ui" || attr(row, "data-paused") != "false" || attr(row, "id") != "rule-QueueBacklog" {
		t.Fatalf("row: %s", settingsHTML(row))
	}
	for id, want := range map[string]string{
		"rule-series":    `redis_key_length{key="queue:emails"}`,
		"rule-condition": ">= 10000 (clears at 9000.5)",
		"rule-labels":    "labels: env=prod, eu · team=db",
		"rule-matches":   "matches 2 series",
		"rule-severity":  "critical",
		"rule-state":     "active",
		"rule-summary":   "{{ .Labels.key }} has {{ .Value }} items",
	} {
		if got := text(one(t, row, id)); got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	if !strings.Contains(text(row), "avg over 5m") || !strings.Contains(text(row), "2m") {
		t.Errorf("row text: %s", text(row))
	}
	for _, id := range []string{"edit-rule", "pause-rule", "delete-rule", "confirm-delete-rule"} {
		one(t, row, id)
	}
	// What was applied: the config file's rules, then the new one, parsed as typed.
	got := rec.last()
	if names := ruleNamesOf(got); !reflect.DeepEqual(names, []string{"RedisDown", hostileKey, "QueueBacklog"}) {
		t.Fatalf("applied %v", names)
	}
	r := got[2]
	if r.Aggregate != "avg" || r.Window != config.Duration(5*time.Minute) || r.Op != ">=" || r.Threshold != 1e4 || r.ClearThreshold == nil ||
		*r.ClearThreshold != 9000.5 || r.For != config.Duration(2*time.Minute) || r.Severity != "critical" ||
		!reflect.DeepEqual(r.Labels, map[string]string{"team": "db", "env": "prod, eu"}) {
		t.Fatalf("applied rule: %+v", r)
	}
	// Blank window, for and clear threshold take the defaults; the form defaults are last, >, warning.
	res, body = e.settingsPost(admin, "/settings/rules", settingsRuleForm("Plain", "redis_up"))
	settingsRedirected(t, res, body, "/settings?added=rule%3APlain")
	if r := rec.last()[3]; r.Window != config.DefaultRuleWindow || r.For != 0 || r.ClearThreshold != nil || r.Labels != nil {
		t.Fatalf("defaults: %+v", r)
	}
	doc = e.settingsDoc(admin, "/settings")
	plain := settingsOne(t, doc, "settings-rule", "data-rule", "Plain")
	if got := text(one(t, plain, "rule-matches")); got != "matches no series" || attr(one(t, plain, "rule-matches"), "data-count") != "0" {
		t.Fatalf("matches of a selector with no series: %q", got)
	}
	// The blank add form preselects the defaults.
	af := one(t, doc, "add-rule-form")
	for name, want := range map[string]string{"aggregate": "last", "op": ">", "severity": "warning"} {
		if got := settingsSelected(af, name); got != want {
			t.Errorf("add form %s preselects %q, want %q", name, got, want)
		}
	}
	// Saved in settings.json.
	d, err := settings.Load(e.dir)
	if err != nil || len(d.Rules) != 2 || d.Rules[0].Name != "QueueBacklog" {
		t.Fatalf("saved: %+v %v", d.Rules, err)
	}
}

// settingsSelected is the value of the selected option of the select named name in n.
func settingsSelected(n *html.Node, name string) string {
	for _, sel := range settingsTags(n, "select") {
		if attr(sel, "name") != name {
			continue
		}
		for _, o := range settingsTags(sel, "option") {
			for _, a := range o.Attr {
				if a.Key == "selected" {
					return attr(o, "value")
				}
			}
		}
	}
	return ""
}

func TestSettingsRuleInvalidInput(t *testing.T) {
	rec := &recordRules{}
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules(), applyRules: rec.hook})
	admin := e.login("admin", adminPass)

	post := func(form url.Values, want map[string]string) *html.Node {
		t.Helper()
		res, body := e.settingsPost(admin, "/settings/rules", form)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%v: status %d, want 422", form, res.StatusCode)
		}
		f := one(t, parse(t, body), "add-rule-form")
		for field, substr := range want {
			if got := text(settingsOne(t, f, "field-error", "data-field", field)); !strings.Contains(got, substr) {
				t.Errorf("%s error %q, want %q", field, got, substr)
			}
		}
		if n := len(find(f, "field-error")); n != len(want) {
			t.Errorf("%d field errors, want %d: %s", n, len(want), text(f))
		}
		return f
	}
	form := settingsRuleForm("Bad", `redis_up{instance="a"`)
	f := post(form, map[string]string{"series": "cannot parse selector"})
	// The input is kept, next to its error.
	fe := settingsOne(t, f, "field-error", "data-field", "series")
	for _, in := range settingsTags(f, "input") {
		if attr(in, "name") == "series" && (attr(in, "value") != `redis_up{instance="a"` || attr(in, "aria-describedby") != attr(fe, "id")) {
			t.Fatalf("series input: %s", settingsHTML(in))
		}
	}
	// Values that do not parse, and what validating the rest finds, all at once.
	form = settingsRuleForm("Bad", "redis_up")
	form.Set("window", "5x")
	form.Set("op", "~")
	form.Set("threshold", "lots")
	form.Set("clear_threshold", "2")
	form.Set("labels", "team")
	f = post(form, map[string]string{"window": `"5x" is not a duration`, "op": "must be one of", "threshold": `"lots" is not a number`, "labels": `"team" is not key=value`})
	if got := settingsSelected(f, "op"); got != "~" {
		t.Fatalf("the posted op is not kept: %q", got)
	}
	form = settingsRuleForm("Bad", "redis_up")
	form.Set("clear_threshold", "5")
	form.Set("labels", "1x=a, alertname=b")
	post(form, map[string]string{"clear_threshold": "must be <= threshold (1)", "labels": `"1x": label names must match`})
	form = settingsRuleForm("RedisDown", "redis_up")
	form.Set("threshold", "")
	form.Set("severity", "fatal")
	post(form, map[string]string{"name": "a rule from the config file", "threshold": "required", "severity": "must be one of"})
	post(settingsRuleForm("High CPU", "host_cpu_usage_percent"), map[string]string{"name": "may contain only"})
	form = settingsRuleForm("x", "redis_up")
	form.Set("threshold", "NaN")
	post(form, map[string]string{"threshold": `"NaN" is not a number`})

	if rec.count() != 0 {
		t.Fatal("an invalid rule was applied")
	}
	if _, err := os.Stat(filepath.Join(e.dir, settings.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an invalid rule was saved: %v", err)
	}

	// The engine refuses the set: its reason is shown in the form, nothing is saved.
	rec.fail = errors.New(`alert rule "Ok": the engine says no`)
	res, body := e.settingsPost(admin, "/settings/rules", settingsRuleForm("Ok", "redis_up"))
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("refused by the engine: %d", res.StatusCode)
	}
	doc := parse(t, body)
	if got := text(one(t, one(t, doc, "add-rule-form"), "form-error")); !strings.Contains(got, "the engine says no") {
		t.Fatalf("form error %q", got)
	}
	if len(settingsWithAttr(doc, "settings-rule", "data-rule", "Ok")) != 0 || len(e.svc.View().Rules) != 2 {
		t.Fatal("the refused rule is listed")
	}
	if _, err := os.Stat(filepath.Join(e.dir, settings.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("settings.json written after a refused rule: %v", err)
	}
	// Unknown rules: 404.
	for _, p := range []string{"/settings/rules/nope", "/settings/rules/nope/pause", "/settings/rules/nope/delete"} {
		if res, _ := e.settingsPost(admin, p, settingsRuleForm("nope", "redis_up")); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", p, res.StatusCode)
		}
	}
}

// Config rules are read-only, and hostile names, selectors and summaries render as text.
func TestSettingsConfigRulesAreReadOnly(t *testing.T) {
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules()})
	admin := e.login("admin", adminPass)
	form := settingsRuleForm("Mine", "redis_up")
	form.Set("summary", hostileKey)
	form.Set("labels", "note="+hostileKey)
	res, body := e.settingsPost(admin, "/settings/rules", form)
	settingsRedirected(t, res, body, "/settings?added=rule%3AMine")

	res, body = e.do(admin, "GET", "/settings", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d", res.StatusCode)
	}
	doc := parse(t, body)
	if len(settingsTags(doc, "img")) != 0 || strings.Contains(body, "<img") {
		t.Fatal("hostile text rendered as markup")
	}
	rows := find(doc, "settings-rule")
	var got []string
	for _, r := range rows {
		got = append(got, attr(r, "data-rule")+"/"+attr(r, "data-source"))
	}
	if !reflect.DeepEqual(got, []string{"RedisDown/config", hostileKey + "/config", "Mine/ui"}) {
		t.Fatalf("rules: %v", got)
	}
	for _, r := range rows[:2] {
		for _, id := range []string{"edit-rule", "pause-rule", "delete-rule", "confirm-delete-rule"} {
			if len(find(r, id)) != 0 {
				t.Errorf("config rule %s has %s", attr(r, "data-rule"), id)
			}
		}
	}
	hostile := rows[1]
	if text(one(t, hostile, "rule-name")) != hostileKey || text(one(t, hostile, "rule-summary")) != hostileKey ||
		text(one(t, hostile, "rule-series")) != `redis_key_length{key="`+hostileKey+`"}` {
		t.Fatalf("hostile config rule: %s", text(hostile))
	}
	if got := text(one(t, rows[2], "rule-labels")); got != "labels: note="+hostileKey {
		t.Fatalf("hostile label: %q", got)
	}
	for _, p := range []string{"/settings/rules/RedisDown", "/settings/rules/RedisDown/pause", "/settings/rules/RedisDown/delete"} {
		if res, _ := e.settingsPost(admin, p, settingsRuleForm("RedisDown", "redis_up")); res.StatusCode != http.StatusConflict {
			t.Errorf("POST %s: %d, want 409", p, res.StatusCode)
		}
	}
	if doc := e.settingsDoc(admin, "/settings?edit=rule:RedisDown"); len(find(doc, "edit-rule-form")) != 0 {
		t.Fatal("edit form for a config rule")
	}
}

func TestSettingsRuleEditPauseDelete(t *testing.T) {
	rec := &recordRules{}
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules(), applyRules: rec.hook})
	admin := e.login("admin", adminPass)
	form := settingsRuleForm("Backlog", `redis_key_length{key="q"}`)
	form.Set("window", "2m")
	form.Set("labels", "team=db, env=prod")
	res, body := e.settingsPost(admin, "/settings/rules", form)
	settingsRedirected(t, res, body, "/settings?added=rule%3ABacklog")

	// The edit form shows the values; labels one per line.
	doc := e.settingsDoc(admin, "/settings?edit=rule:Backlog")
	ef := one(t, doc, "edit-rule-form")
	if attr(ef, "data-rule") != "Backlog" || attr(ef, "action") != "/settings/rules/Backlog" {
		t.Fatalf("edit form: %s", settingsHTML(ef))
	}
	vals := map[string]string{}
	for _, in := range settingsTags(ef, "input") {
		vals[attr(in, "name")] = attr(in, "value")
	}
	if vals["name"] != "Backlog" || vals["series"] != `redis_key_length{key="q"}` || vals["window"] != "2m" || vals["threshold"] != "1" || vals["for"] != "0s" {
		t.Fatalf("edit form values: %v", vals)
	}
	if ta := settingsTags(ef, "textarea"); len(ta) != 1 || text(ta[0]) != "env=prod team=db" || !strings.Contains(settingsHTML(ta[0]), "env=prod\nteam=db") {
		t.Fatalf("labels textarea: %v", settingsHTML(ef))
	}
	// An invalid edit: 422 in the edit form.
	form.Set("for", "-1s")
	res, body = e.settingsPost(admin, "/settings/rules/Backlog", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid edit: %d", res.StatusCode)
	}
	ef = one(t, parse(t, body), "edit-rule-form")
	if got := text(settingsOne(t, ef, "field-error", "data-field", "for")); !strings.Contains(got, "must be >= 0") {
		t.Fatalf("for error %q", got)
	}
	// Rename and raise the threshold.
	form.Set("for", "1m")
	form.Set("name", "QueueBacklog")
	form.Set("threshold", "50")
	res, body = e.settingsPost(admin, "/settings/rules/Backlog", form)
	settingsRedirected(t, res, body, "/settings?saved=rule%3AQueueBacklog#rule-QueueBacklog")
	if r := rec.last()[2]; r.Name != "QueueBacklog" || r.Threshold != 50 || r.For != config.Duration(time.Minute) {
		t.Fatalf("after edit: %+v", r)
	}

	// Pause: out of the evaluated set, shown paused with a Resume button.
	res, _ = e.settingsPost(admin, "/settings/rules/QueueBacklog/pause", url.Values{})
	settingsRedirected(t, res, "", "/settings?paused=rule%3AQueueBacklog")
	if names := ruleNamesOf(rec.last()); len(names) != 2 {
		t.Fatalf("paused rule applied: %v", names)
	}
	doc = e.settingsDoc(admin, "/settings")
	row := settingsOne(t, doc, "settings-rule", "data-rule", "QueueBacklog")
	if attr(row, "data-paused") != "true" || attr(one(t, row, "rule-state"), "data-state") != "paused" || text(one(t, row, "pause-rule")) != "Resume" {
		t.Fatalf("paused row: %s", text(row))
	}
	res, _ = e.settingsPost(admin, "/settings/rules/QueueBacklog/resume", url.Values{})
	settingsRedirected(t, res, "", "/settings?resumed=rule%3AQueueBacklog")
	if names := ruleNamesOf(rec.last()); len(names) != 3 {
		t.Fatalf("resumed rule not applied: %v", names)
	}
	doc = e.settingsDoc(admin, "/settings")
	if attr(settingsOne(t, doc, "settings-rule", "data-rule", "QueueBacklog"), "data-paused") != "false" {
		t.Fatal("resumed rule shown paused")
	}

	// Delete, through the confirmation's form.
	row = settingsOne(t, doc, "settings-rule", "data-rule", "QueueBacklog")
	confirm := one(t, row, "confirm-delete-rule")
	action := attr(confirm.Parent, "action")
	if action != "/settings/rules/QueueBacklog/delete" {
		t.Fatalf("delete form action %q", action)
	}
	res, _ = e.settingsPost(admin, action, url.Values{})
	settingsRedirected(t, res, "", "/settings?deleted=rule%3AQueueBacklog")
	doc = e.settingsDoc(admin, res.Header.Get("Location"))
	if len(settingsWithAttr(doc, "settings-rule", "data-rule", "QueueBacklog")) != 0 || len(rec.last()) != 2 {
		t.Fatal("deleted rule still there")
	}
	if got := text(one(t, doc, "settings-notice")); got != "Rule “QueueBacklog” deleted." {
		t.Fatalf("notice %q", got)
	}
}

// With the real alert engine as the target: the shipped defaults are seeded as editable
// rules, a rule added through the form is evaluated, and pausing or deleting it takes it out.
func TestSettingsRulesRealEngine(t *testing.T) {
	var engine *alert.Engine
	e := newSettingsEnvWith(t, settingsEnvOptions{
		fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules()[:1], defaults: alert.DefaultRules(),
		applyRules: func(db *tsdb.DB) func([]config.Rule) error {
			return func(rs []config.Rule) error { return engine.SetRules(rs) }
		},
	})
	var err error
	engine, err = alert.New(alert.Options{Store: e.db, Interval: time.Second}, e.svc.EffectiveRules())
	if err != nil {
		t.Fatal(err)
	}
	engineRules := func() []string {
		var out []string
		for _, r := range engine.Rules() {
			out = append(out, r.Name)
		}
		return out
	}
	// RedisDown is the config file's; the other defaults are UI rules with controls.
	var want []string
	for _, r := range alert.DefaultRules() {
		want = append(want, r.Name)
	}
	if got := engineRules(); len(got) != len(want) || got[0] != "RedisDown" {
		t.Fatalf("engine rules %v, want RedisDown first and %d in all", got, len(want))
	}
	admin := e.login("admin", adminPass)
	doc := e.settingsDoc(admin, "/settings")
	for _, r := range find(doc, "settings-rule") {
		name, src := attr(r, "data-rule"), attr(r, "data-source")
		if (name == "RedisDown") != (src == "config") {
			t.Errorf("%s: source %s", name, src)
		}
		if src == "ui" {
			one(t, r, "edit-rule")
		}
	}
	if n := len(settingsWithAttr(doc, "settings-rule", "data-rule", "RedisDown")); n != 1 {
		t.Fatalf("RedisDown listed %d times", n)
	}

	form := settingsRuleForm("QueueFull", `redis_key_length{key="queue:emails"}`)
	form.Set("threshold", "100")
	form.Set("summary", "{{ .Labels.key }} has {{ .Value }} items")
	res, body := e.settingsPost(admin, "/settings/rules", form)
	settingsRedirected(t, res, body, "/settings?added=rule%3AQueueFull")
	if got := engineRules(); got[len(got)-1] != "QueueFull" || len(got) != len(want)+1 {
		t.Fatalf("engine rules after adding: %v", got)
	}
	// It is evaluated: a series over the threshold fires it.
	now := time.Now()
	if err := e.db.Write([]tsdb.Sample{{Name: "redis_key_length", Labels: []tsdb.Label{{Name: "instance", Value: "cache"}, {Name: "key", Value: "queue:emails"}},
		Timestamp: now.UnixMilli(), Value: 150}}); err != nil {
		t.Fatal(err)
	}
	if err := engine.Evaluate(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	var firing []string
	for _, a := range engine.Alerts() {
		if a.Rule == "QueueFull" && a.State == alert.StateFiring {
			firing = append(firing, a.Summary)
		}
	}
	if !reflect.DeepEqual(firing, []string{"queue:emails has 150 items"}) {
		t.Fatalf("firing QueueFull alerts: %v (all %+v)", firing, engine.Alerts())
	}
	// Edit keeps its state; pausing takes it out of the engine and resolves its alert.
	form.Set("summary", "backlog {{ .Value }}")
	res, body = e.settingsPost(admin, "/settings/rules/QueueFull", form)
	settingsRedirected(t, res, body, "/settings?saved=rule%3AQueueFull")
	if st := engine.Rules()[len(want)]; st.Name != "QueueFull" || st.Rule.Summary != "backlog {{ .Value }}" || st.State != "firing" {
		t.Fatalf("after edit: %+v", st)
	}
	res, _ = e.settingsPost(admin, "/settings/rules/QueueFull/pause", url.Values{})
	settingsRedirected(t, res, "", "/settings?paused=")
	if got := engineRules(); slices.Contains(got, "QueueFull") {
		t.Fatalf("paused rule still in the engine: %v", got)
	}
	// A seeded default can be deleted like any UI rule.
	res, _ = e.settingsPost(admin, "/settings/rules/HostDiskHigh/delete", url.Values{})
	settingsRedirected(t, res, "", "/settings?deleted=rule%3AHostDiskHigh")
	if got := engineRules(); slices.Contains(got, "HostDiskHigh") || len(got) != len(want)-1 {
		t.Fatalf("engine rules after deleting a default: %v", got)
	}
	// A rule the engine refuses (the same check settings makes, e.g. clear_threshold on the
	// wrong side) never reaches it.
	bad := settingsRuleForm("Flappy", "redis_up")
	bad.Set("op", "<")
	bad.Set("clear_threshold", "0")
	res, _ = e.settingsPost(admin, "/settings/rules", bad)
	if res.StatusCode != http.StatusUnprocessableEntity || slices.Contains(engineRules(), "Flappy") {
		t.Fatalf("a bad clear_threshold: %d, engine %v", res.StatusCode, engineRules())
	}
}

// A UI rule that no longer validates (a hand edit of settings.json) does not stop anything:
// it is shown as not applied with the reason, and fixing it through the form applies it.
func TestSettingsRuleNotApplied(t *testing.T) {
	bad := settings.Rule{Name: "Broken", Series: "redis_up", Aggregate: "last", Window: config.Duration(time.Minute), Op: "~", Threshold: 1, Severity: "warning"}
	rec := &recordRules{}
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), applyRules: rec.hook,
		seed: []settings.Data{{Version: settings.Version, Rules: []settings.Rule{bad}, RulesSeeded: true}}})
	if len(e.svc.EffectiveRules()) != 0 {
		t.Fatalf("the broken rule is evaluated: %+v", e.svc.EffectiveRules())
	}
	admin := e.login("admin", adminPass)
	doc := e.settingsDoc(admin, "/settings")
	row := settingsOne(t, doc, "settings-rule", "data-rule", "Broken")
	if st := attr(one(t, row, "rule-state"), "data-state"); st != "not-applied" || !strings.Contains(text(one(t, row, "rule-problem")), `op: must be one of`) {
		t.Fatalf("broken row: state %q, %s", st, text(row))
	}
	doc = e.settingsDoc(admin, "/settings?edit=rule:Broken")
	ef := one(t, doc, "edit-rule-form")
	if got := text(one(t, ef, "form-error")); !strings.Contains(got, "Not evaluated: op: must be one of") {
		t.Fatalf("edit form error %q", got)
	}
	form := settingsRuleForm("Broken", "redis_up")
	form.Set("op", "<")
	res, body := e.settingsPost(admin, "/settings/rules/Broken", form)
	settingsRedirected(t, res, body, "/settings?saved=rule%3ABroken")
	if got := ruleNamesOf(rec.last()); !reflect.DeepEqual(got, []string{"Broken"}) || rec.last()[0].Op != "<" {
		t.Fatalf("applied after the fix: %+v", rec.last())
	}
	doc = e.settingsDoc(admin, "/settings")
	if st := attr(one(t, settingsOne(t, doc, "settings-rule", "data-rule", "Broken"), "rule-state"), "data-state"); st != "active" {
		t.Fatalf("state after the fix: %q", st)
	}
}

// settingsInput is the element named name (input or select) inside n.
func settingsInput(t *testing.T, n *html.Node, name string) *html.Node {
	t.Helper()
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && (d.Data == "input" || d.Data == "select") && attr(d, "name") == name {
			return d
		}
	}
	t.Fatalf("no field named %q", name)
	return nil
}

// TestSettingsShortIntervalTimeout: the instance forms prefill no timeout (the placeholder
// says min(2s, interval)), so an instance added or edited at interval 1s with the form as
// rendered is accepted with a 1s timeout; only a typed timeout above the interval is refused.
func TestSettingsShortIntervalTimeout(t *testing.T) {
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)

	add := one(t, e.settingsDoc(admin, "/settings"), "add-instance-form")
	timeout := settingsInput(t, add, "timeout")
	if attr(timeout, "value") != "" || attr(timeout, "placeholder") != "min(2s, interval)" {
		t.Fatalf("add form timeout: value %q placeholder %q", attr(timeout, "value"), attr(timeout, "placeholder"))
	}
	form := url.Values{"name": {"fast"}, "addr": {"127.0.0.1:7000"}, "db": {"0"}, "interval": {"1s"}, "timeout": {attr(timeout, "value")}}
	res, body := e.settingsPost(admin, "/settings/instances", form)
	settingsRedirected(t, res, body, "/settings?added=instance%3Afast")
	if got := find2(e.apply.last(), "fast"); got.Timeout != config.Duration(time.Second) || got.Interval != config.Duration(time.Second) {
		t.Fatalf("applied: interval %s timeout %s, want 1s and 1s", got.Interval, got.Timeout)
	}
	doc := e.settingsDoc(admin, "/settings")
	if got := text(one(t, settingsOne(t, doc, "settings-instance", "data-instance", "fast"), "settings-timeout")); !strings.Contains(got, "1s") || !strings.Contains(got, "min(2s, interval)") {
		t.Fatalf("instance timeout shown as %q", got)
	}

	// Edit: 30s (timeout 2s), then back to 1s with the edit form as rendered.
	form.Set("interval", "30s")
	res, body = e.settingsPost(admin, "/settings/instances/fast", form)
	settingsRedirected(t, res, body, "/settings?saved=instance%3Afast")
	if got := find2(e.apply.last(), "fast"); got.Timeout != config.Duration(2*time.Second) {
		t.Fatalf("interval 30s: timeout %s, want 2s", got.Timeout)
	}
	edit := one(t, e.settingsDoc(admin, "/settings?edit=instance%3Afast"), "edit-instance-form")
	if v := attr(settingsInput(t, edit, "timeout"), "value"); v != "" {
		t.Fatalf("edit form prefills timeout %q; want blank (it follows the interval)", v)
	}
	form.Set("interval", "1s")
	form.Set("timeout", attr(settingsInput(t, edit, "timeout"), "value"))
	res, body = e.settingsPost(admin, "/settings/instances/fast", form)
	settingsRedirected(t, res, body, "/settings?saved=instance%3Afast")
	if got := find2(e.apply.last(), "fast"); got.Timeout != config.Duration(time.Second) {
		t.Fatalf("interval 1s: timeout %s, want 1s", got.Timeout)
	}

	// timeout = interval is fine; above it is refused next to the field.
	form.Set("timeout", "1s")
	res, body = e.settingsPost(admin, "/settings/instances/fast", form)
	settingsRedirected(t, res, body, "/settings?saved=instance%3Afast")
	edit = one(t, e.settingsDoc(admin, "/settings?edit=instance%3Afast"), "edit-instance-form")
	if v := attr(settingsInput(t, edit, "timeout"), "value"); v != "1s" {
		t.Fatalf("an explicit timeout is shown as %q in the edit form", v)
	}
	form.Set("timeout", "2s")
	res, body = e.settingsPost(admin, "/settings/instances/fast", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("timeout 2s > interval 1s: %d", res.StatusCode)
	}
	fe := settingsOne(t, one(t, parse(t, body), "edit-instance-form"), "field-error", "data-field", "timeout")
	if got := text(fe); got != "must not exceed interval (1s), got 2s" {
		t.Fatalf("timeout error: %q", got)
	}
}

func find2(rs []config.Redis, name string) config.Redis {
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	return config.Redis{}
}

// TestSettingsKeyExpectExists: the key form's "Missing alarms" select sets expect_exists on
// exact keys; a pattern with it is refused next to the field.
func TestSettingsKeyExpectExists(t *testing.T) {
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	addKey := settingsOne(t, e.settingsDoc(admin, "/settings"), "add-key-form", "data-instance", "cache")
	sel := settingsInput(t, addKey, "expect_exists")
	var opts []string
	for d := range sel.Descendants() {
		if d.Type == html.ElementNode && d.Data == "option" {
			opts = append(opts, attr(d, "value")+"="+text(d))
		}
	}
	if strings.Join(opts, ",") != "=by type,true=always,false=never" {
		t.Fatalf("expect_exists options: %v", opts)
	}
	res, body := e.settingsPost(admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"config:flags"}, "expect_exists": {"true"}})
	settingsRedirected(t, res, body, "/settings?added=key%3Aconfig%3Aflags")
	ks := find2(e.apply.last(), "cache").Keys
	if k := ks[len(ks)-1]; k.Key != "config:flags" || k.ExpectExists == nil || !*k.ExpectExists {
		t.Fatalf("applied key: %+v", k)
	}
	doc := e.settingsDoc(admin, "/settings")
	row := settingsOne(t, doc, "settings-key", "data-key", "config:flags")
	if c := one(t, row, "key-expect-exists"); attr(c, "data-expect-exists") != "true" || text(c) != "always" {
		t.Fatalf("row shows expect_exists %q %q", attr(c, "data-expect-exists"), text(c))
	}
	if c := one(t, settingsOne(t, doc, "settings-key", "data-key", "queue:emails"), "key-expect-exists"); text(c) != "by type" {
		t.Fatalf("a config key without expect_exists shows %q", text(c))
	}
	res, body = e.settingsPost(admin, "/settings/instances/cache/keys", url.Values{"kind": {"pattern"}, "key": {"job:*"}, "expect_exists": {"true"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("pattern with expect_exists: %d", res.StatusCode)
	}
	f := settingsOne(t, parse(t, body), "add-key-form", "data-instance", "cache")
	if got := text(settingsOne(t, f, "field-error", "data-field", "expect_exists")); !strings.Contains(got, "applies only to exact keys") {
		t.Fatalf("expect_exists error: %q", got)
	}
	if v := settingsSelected(f, "expect_exists"); v != "true" {
		t.Fatalf("the refused form does not keep the choice: %q", v)
	}
}
