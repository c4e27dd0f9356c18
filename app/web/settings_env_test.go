package web

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/settings"
)

// settingsEnv is an env whose server has a real settings service over dir.
type settingsEnv struct {
	*env
	dir    string
	svc    *settings.Service
	apply  *applyRecorder[config.Redis]
	latest *latestStore // the server's Store; nil with settingsEnvOptions.db
}

// applyRecorder is a settings.Service hook that applies sets of T (Apply: instances,
// ApplyRules: alert rules): it records every set and fails with fail, else answers what next
// does (nil: accepts).
type applyRecorder[T any] struct {
	mu   sync.Mutex
	sets [][]T
	fail error
	next func([]T) error
}

func (a *applyRecorder[T]) apply(set []T) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sets = append(a.sets, set)
	if a.fail != nil {
		return a.fail
	}
	if a.next != nil {
		return a.next(set)
	}
	return nil
}

// count is how many sets were applied, failed ones included.
func (a *applyRecorder[T]) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sets)
}

// last is the last set applied; nil: none.
func (a *applyRecorder[T]) last() []T {
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

// newSettingsEnv builds what newEnv builds on a latestStore, plus a settings service over a
// fresh data directory whose Apply is recorded (and passed on to next, when set). src replaces
// the fake RedisSource when not nil.
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
	rules      []config.Rule             // the config file's alert rules
	defaults   []config.Rule             // seeded once
	applyRules func([]config.Rule) error // the service's ApplyRules hook; nil: none
	secretsDir string                    // server.secrets_dir
	db         bool                      // a real tsdb (env.db) instead of a latestStore
}

func newSettingsEnvWith(t *testing.T, o settingsEnvOptions) *settingsEnv {
	t.Helper()
	dir := t.TempDir()
	for _, d := range o.seed {
		if err := settings.Save(dir, d); err != nil {
			t.Fatal(err)
		}
	}
	a := &applyRecorder[config.Redis]{next: o.next}
	svc, err := settings.Open(settings.Options{Dir: dir, FromConfig: o.fromConfig, Apply: a.apply,
		FromConfigRules: o.rules, DefaultRules: o.defaults, ApplyRules: o.applyRules, SecretsDir: o.secretsDir})
	if err != nil {
		t.Fatal(err)
	}
	se := &settingsEnv{dir: dir, svc: svc, apply: a}
	eo := envOptions{mod: func(opts *Options) {
		opts.Settings = svc
		if o.src != nil {
			opts.Redis = o.src
		}
	}}
	if !o.db {
		se.latest = newLatestStore()
		eo.store = se.latest
	}
	se.env = newEnvWith(t, eo)
	return se
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

// instanceNamed is the instance called name in rs, or a zero one.
func instanceNamed(rs []config.Redis, name string) config.Redis {
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	return config.Redis{}
}
