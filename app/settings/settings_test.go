package settings

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// fromConfig is one config-file instance "cache" watching key "queue:emails", as config.Load
// returns it.
func fromConfig() []config.Redis {
	r := config.Redis{Name: "cache", Addr: "127.0.0.1:6379", Password: "config-secret",
		Keys: []config.Key{{Key: "queue:emails"}}}
	r.ApplyDefaults()
	return []config.Redis{r}
}

// applier records every set Apply is called with; fail makes the next calls fail.
type applier struct {
	mu   sync.Mutex
	sets [][]config.Redis
	fail error
}

func (a *applier) apply(rs []config.Redis) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sets = append(a.sets, rs)
	return a.fail
}

func (a *applier) last() []config.Redis {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sets) == 0 {
		return nil
	}
	return a.sets[len(a.sets)-1]
}

func open(t *testing.T, dir string, a *applier, log *bytes.Buffer) *Service {
	t.Helper()
	opts := Options{Dir: dir, FromConfig: fromConfig(), SecretsDir: filepath.Join(dir, "secrets"), Now: func() time.Time { return t0 }}
	if err := os.MkdirAll(opts.SecretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if a != nil {
		opts.Apply = a.apply
	}
	if log != nil {
		opts.Logger = slog.New(slog.NewJSONHandler(log, nil)).With("logger", "settings")
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustUpdate(t *testing.T, s *Service, m Mutation) {
	t.Helper()
	if err := s.Update("alice", m); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func names(rs []config.Redis) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func keyNames(r config.Redis) []string {
	var out []string
	for _, k := range r.Keys {
		n := k.Key + k.Pattern
		if !k.IsEnabled() {
			n += " (paused)"
		}
		out = append(out, n)
	}
	return out
}

func find(rs []config.Redis, name string) config.Redis {
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	return config.Redis{}
}

func TestStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	// No file yet: empty settings.
	d, err := Load(dir)
	if err != nil || d.Version != Version || len(d.Instances)+len(d.Keys) != 0 {
		t.Fatalf("empty dir: %+v, %v", d, err)
	}
	meta := Meta{CreatedAt: t0, UpdatedAt: t0.Add(time.Hour), UpdatedBy: "alice"}
	d = Data{Version: Version,
		Instances: []Instance{{Name: "ui1", Addr: "10.0.0.1:6380", Username: "u", Password: "p@ss", DB: 2, TLS: true,
			TLSCAFile: "/ca.pem", Interval: config.Duration(5 * time.Second), Timeout: config.Duration(time.Second), Paused: true, Meta: meta}},
		Keys: []Key{
			{ID: "0123456789abcdef", Instance: "ui1", Key: `<img src=x onerror=alert(1)>`, Interval: config.Duration(3 * time.Second), Meta: meta},
			{ID: "fedcba9876543210", Instance: "cache", Pattern: "session:*", MaxKeys: 50, ScanInterval: config.Duration(time.Minute), Paused: true, Meta: meta},
		},
		Rules: []Rule{
			{Name: "QueueBacklog", Series: `redis_key_length{key="queue:emails"}`, Aggregate: "avg", Window: config.Duration(time.Minute),
				Op: ">", Threshold: 1e4, ClearThreshold: ptr(9000.5), For: config.Duration(2 * time.Minute), Severity: "warning",
				Summary: "{{ .Labels.key }} has {{ .Value }} items", Labels: map[string]string{"team": "db"}, Meta: meta},
			{Name: "Down", Series: "redis_up", Aggregate: "last", Window: config.Duration(time.Minute), Op: "<", Threshold: 1,
				Severity: "critical", Paused: true, Meta: meta},
		},
		RulesSeeded: true}
	if err := Save(dir, d); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("settings.json mode: %v %v", st.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != FileName {
		t.Fatalf("the atomic write left other files: %v", entries)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, d)
	}
	b, _ := os.ReadFile(filepath.Join(dir, FileName))
	for _, want := range []string{`"version": 1`, `"interval": "5s"`, `"redis": [`, `"keys": [`, `"rules": [`, `"rules_seeded": true`,
		`"window": "1m"`, `"for": "2m"`, `"clear_threshold": 9000.5`, `"op": ">"`, `"paused": true`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("settings.json lacks %s:\n%s", want, b)
		}
	}

	// A file written before rules existed loads with none, not seeded.
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(`{"version": 1, "redis": [], "keys": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(dir); err != nil || len(got.Rules) != 0 || got.RulesSeeded {
		t.Fatalf("a file without rules: %+v, %v", got, err)
	}

	// Broken and newer files are refused, never replaced.
	for _, bad := range []string{`{"version":`, `{"redis":[]}`, `{"version": 99, "redis": []}`, `[]`} {
		if err := os.WriteFile(filepath.Join(dir, FileName), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); err == nil {
			t.Errorf("Load accepted %s", bad)
		}
		if _, err := Open(Options{Dir: dir}); err == nil {
			t.Errorf("Open accepted %s", bad)
		}
	}
}

// Changes made through a Service survive a restart: reopening gives the same view and the
// same effective set.
func TestServiceReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, &applier{}, nil)
	mustUpdate(t, s, AddInstance(Instance{Name: "ui1", Addr: "127.0.0.1:7000", Password: "pw"}))
	mustUpdate(t, s, AddKey("ui1", Key{Key: "k1"}))
	mustUpdate(t, s, AddKey("cache", Key{Pattern: "job:*", MaxKeys: 10}))
	before, beforeView := s.Effective(), s.View()

	s2 := open(t, dir, nil, nil)
	if after := s2.Effective(); !reflect.DeepEqual(before, after) {
		t.Fatalf("effective set after reopening:\n got %+v\nwant %+v", after, before)
	}
	if v := s2.View(); !reflect.DeepEqual(beforeView, v) {
		t.Fatalf("view after reopening:\n got %+v\nwant %+v", v, beforeView)
	}
	if got := names(before); !slices.Equal(got, []string{"cache", "ui1"}) {
		t.Fatalf("instances: %v", got)
	}
}

func TestEffective(t *testing.T) {
	fc := fromConfig()
	paused := true
	d := Data{Version: Version,
		Instances: []Instance{
			{Name: "ui1", Addr: "127.0.0.1:7001", Interval: config.Duration(20 * time.Second)},
			{Name: "ui2", Addr: "127.0.0.1:7002", Paused: paused},
			{Name: "cache", Addr: "127.0.0.1:7003"}, // the config file took this name since
		},
		Keys: []Key{
			{ID: "a", Instance: "cache", Key: "ui:on-config"},
			{ID: "b", Instance: "cache", Pattern: "p:*", Paused: true},
			{ID: "c", Instance: "ui1", Key: "k1"},
			{ID: "d", Instance: "ui2", Key: "on-paused"},
			{ID: "e", Instance: "gone", Key: "orphan"},
			{ID: "f", Instance: "ui1", Key: "k2", Interval: config.Duration(3 * time.Second)},
		}}
	eff := d.Effective(fc, "")
	if got := names(eff); !slices.Equal(got, []string{"cache", "ui1"}) {
		t.Fatalf("instances %v, want the config's cache then ui1 (ui2 paused, the UI's cache shadowed)", got)
	}
	cache, ui1 := eff[0], eff[1]
	if got := keyNames(cache); !slices.Equal(got, []string{"queue:emails", "ui:on-config", "p:* (paused)"}) {
		t.Fatalf("cache keys: %v", got)
	}
	if cache.Addr != "127.0.0.1:6379" || cache.Password != "config-secret" {
		t.Fatalf("the config instance was changed: %+v", cache)
	}
	if p := cache.Keys[2]; p.MaxKeys != config.DefaultKeyMaxKeys || p.ScanInterval != config.DefaultScanInterval || p.Interval != config.DefaultInterval {
		t.Fatalf("pattern defaults: %+v", p)
	}
	if got := keyNames(ui1); !slices.Equal(got, []string{"k1", "k2"}) {
		t.Fatalf("ui1 keys: %v", got)
	}
	if ui1.Keys[0].Interval != config.Duration(20*time.Second) || ui1.Keys[1].Interval != config.Duration(3*time.Second) {
		t.Fatalf("key intervals: %v %v (want the instance's 20s, then its own 3s)", ui1.Keys[0].Interval, ui1.Keys[1].Interval)
	}
	if ui1.Timeout != config.DefaultRedisTimeout || ui1.KeyMemoryInterval != config.DefaultKeyMemoryInterval {
		t.Fatalf("ui1 defaults: %+v", ui1)
	}
	for _, r := range eff {
		if err := r.Validate(); err != nil {
			t.Errorf("effective %s does not validate: %v", r.Name, err)
		}
	}
	// Effective never writes into the caller's config slices.
	fc[0].Keys = append(make([]config.Key, 0, 8), fc[0].Keys...) // room to append in place
	eff[0].Keys[0].Key = "changed"
	if d.Effective(fc, ""); fc[0].Keys[0].Key != "queue:emails" || len(fc[0].Keys[:cap(fc[0].Keys)][1].Key) != 0 {
		t.Fatalf("Effective wrote into the config's keys: %+v", fc[0].Keys[:2])
	}
	if len(fc[0].Keys) != 1 {
		t.Fatalf("config keys changed: %v", fc[0].Keys)
	}

	v := d.view(fc)
	if len(v.Orphans) != 1 || v.Orphans[0].Name() != "orphan" || v.Orphans[0].Source != SourceUI {
		t.Fatalf("orphans: %+v", v.Orphans)
	}
	var sources []string
	for _, iv := range v.Instances {
		sources = append(sources, iv.Redis.Name+":"+string(iv.Source)+map[bool]string{true: ":paused"}[iv.Paused]+map[bool]string{true: ":shadowed"}[iv.Shadowed])
		if iv.Redis.Password != "" {
			t.Fatalf("view carries a password: %+v", iv)
		}
	}
	if !slices.Equal(sources, []string{"cache:config", "ui1:ui", "ui2:ui:paused", "cache:ui:shadowed"}) {
		t.Fatalf("view instances: %v", sources)
	}
	if ks := v.Instances[0].Keys; len(ks) != 3 || ks[0].Source != SourceConfig || ks[1].Source != SourceUI || ks[1].ID != "a" || !ks[2].Paused {
		t.Fatalf("cache keys in view: %+v", ks)
	}
	if ks := v.Instances[2].Keys; len(ks) != 1 || ks[0].Name() != "on-paused" {
		t.Fatalf("the paused instance's keys are still listed: %+v", ks)
	}
	if !v.Instances[0].HasPassword {
		t.Fatal("HasPassword")
	}
}

func TestValidation(t *testing.T) {
	s := open(t, t.TempDir(), &applier{}, nil)
	mustUpdate(t, s, AddInstance(Instance{Name: "ui1", Addr: "127.0.0.1:7000"}))
	mustUpdate(t, s, AddKey("ui1", Key{Key: "taken"}))

	invalid := func(m Mutation, want map[string]string) {
		t.Helper()
		err := s.Update("alice", m)
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
			t.Fatalf("got %v, want a ValidationError", err)
		}
		for field, substr := range want {
			if !strings.Contains(ve.Fields[field], substr) {
				t.Errorf("field %s: got %q, want it to contain %q (all: %v)", field, ve.Fields[field], substr, ve)
			}
		}
		if len(ve.Fields) != len(want) {
			t.Errorf("fields %v, want exactly %v", ve.Fields, want)
		}
	}
	invalid(AddInstance(Instance{Name: "Bad Name", Addr: "nope", Interval: config.Duration(500 * time.Millisecond)}),
		map[string]string{"name": "may contain only a-z, 0-9, _ and -", "addr": "is not host:port", "interval": "must be >= 1s"})
	invalid(AddInstance(Instance{Name: "cache", Addr: "127.0.0.1:1"}), map[string]string{"name": "from the config file"})
	invalid(AddInstance(Instance{Name: "ui1", Addr: "127.0.0.1:1"}), map[string]string{"name": "already the name of an instance"})
	invalid(AddInstance(Instance{Name: "x", Addr: "127.0.0.1:1", TLSCAFile: "/ca.pem"}), map[string]string{"tls_ca_file": "applies only with tls = true"})
	invalid(AddInstance(Instance{Name: "x", Addr: "127.0.0.1:1", PasswordFile: "/nonexistent/pw"}), map[string]string{"password_file": "must be a file inside server.secrets_dir"})
	invalid(AddInstance(Instance{Name: "x", Addr: "127.0.0.1:1", PasswordFile: "missing"}), map[string]string{"password_file": "cannot read"})
	invalid(AddInstance(Instance{Name: "x", Addr: "127.0.0.1:1", Interval: config.Duration(2 * time.Second), Timeout: config.Duration(3 * time.Second)}),
		map[string]string{"timeout": "must not exceed interval (2s), got 3s"})
	invalid(EditInstance("ui1", Instance{Name: "cache", Addr: "127.0.0.1:7000"}, false), map[string]string{"name": "from the config file"})

	if err := s.Check("alice", AddKey("ui1", Key{Key: "taken"})); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Check: %v", err)
	}
	if err := s.Check("alice", AddKey("ui1", Key{Key: "free"})); err != nil {
		t.Fatalf("Check: %v", err)
	}
	invalid(AddKey("ui1", Key{Key: "taken"}), map[string]string{"key": "already watched"})
	invalid(AddKey("cache", Key{Key: "queue:emails"}), map[string]string{"key": "already watched"}) // the config file's key
	invalid(AddKey("cache", Key{}), map[string]string{"key": "required"})
	invalid(AddKey("cache", Key{Key: "k", Interval: config.Duration(time.Millisecond)}), map[string]string{"interval": "must be >= 1s"})
	invalid(AddKey("cache", Key{Key: "k", MaxKeys: 5}), map[string]string{"max_keys": "applies only to pattern entries"})
	invalid(AddKey("cache", Key{Pattern: "p:*", MaxKeys: -1, ScanInterval: config.Duration(time.Millisecond)}),
		map[string]string{"max_keys": "must be >= 1", "scan_interval": "must be >= 1s"})

	// An edit may keep its own name; a second key may not take it.
	mustUpdate(t, s, AddKey("ui1", Key{Key: "other"}))
	id := s.View().Instances[1].Keys[1].ID
	mustUpdate(t, s, EditKey(id, Key{Key: "other", Interval: config.Duration(5 * time.Second)}))
	invalid(EditKey(id, Key{Key: "taken"}), map[string]string{"key": "already watched"})

	for _, c := range []struct {
		m    Mutation
		want error
	}{
		{AddKey("nope", Key{Key: "k"}), ErrNotFound},
		{EditInstance("cache", Instance{Name: "cache", Addr: "127.0.0.1:1"}, false), ErrReadOnly},
		{PauseInstance("cache", true), ErrReadOnly},
		{DeleteInstance("cache"), ErrReadOnly},
		{DeleteInstance("nope"), ErrNotFound},
		{PauseKey("0000000000000000", true), ErrNotFound},
		{EditKey("0000000000000000", Key{Key: "x"}), ErrNotFound},
		{DeleteKey("0000000000000000"), ErrNotFound},
	} {
		if err := s.Update("alice", c.m); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.m.action, err, c.want)
		}
	}
	// Nothing of the refused changes was kept.
	if got := names(s.Effective()); !slices.Equal(got, []string{"cache", "ui1"}) {
		t.Fatalf("instances after refused changes: %v", got)
	}
	if got := keyNames(find(s.Effective(), "ui1")); !slices.Equal(got, []string{"taken", "other"}) {
		t.Fatalf("ui1 keys after refused changes: %v", got)
	}
}

func TestMutations(t *testing.T) {
	dir := t.TempDir()
	a := &applier{}
	var logs bytes.Buffer
	s := open(t, dir, a, &logs)

	mustUpdate(t, s, AddInstance(Instance{Name: "ui1", Addr: "127.0.0.1:7000", Password: "hunter2"}))
	if got := find(a.last(), "ui1"); got.Password != "hunter2" || got.Interval != config.DefaultInterval || got.Timeout != config.DefaultRedisTimeout {
		t.Fatalf("applied: %+v", got)
	}
	mustUpdate(t, s, AddKey("ui1", Key{Key: "k1"}))
	mustUpdate(t, s, AddKey("ui1", Key{Pattern: "p:*", Paused: true}))
	mustUpdate(t, s, AddKey("cache", Key{Key: "on-config"}))
	if got := keyNames(find(a.last(), "ui1")); !slices.Equal(got, []string{"k1", "p:* (paused)"}) {
		t.Fatalf("ui1 keys applied: %v", got)
	}
	if got := keyNames(find(a.last(), "cache")); !slices.Equal(got, []string{"queue:emails", "on-config"}) {
		t.Fatalf("cache keys applied: %v", got)
	}

	// Edit: a blank password keeps the stored one; clearPassword clears it.
	mustUpdate(t, s, EditInstance("ui1", Instance{Name: "ui1", Addr: "127.0.0.1:7001", Interval: config.Duration(30 * time.Second)}, false))
	ui1 := find(a.last(), "ui1")
	if ui1.Password != "hunter2" || ui1.Addr != "127.0.0.1:7001" || ui1.Keys[0].Interval != config.Duration(30*time.Second) {
		t.Fatalf("after edit: %+v", ui1)
	}
	mustUpdate(t, s, EditInstance("ui1", Instance{Name: "ui1", Addr: "127.0.0.1:7001"}, true))
	if find(a.last(), "ui1").Password != "" {
		t.Fatal("clear password kept it")
	}
	// password_file is read into the effective Password.
	pwFile := filepath.Join(s.opts.SecretsDir, "pw")
	os.WriteFile(pwFile, []byte("from-file\n"), 0o600)
	mustUpdate(t, s, EditInstance("ui1", Instance{Name: "ui1", Addr: "127.0.0.1:7001", PasswordFile: pwFile}, false))
	if got := find(a.last(), "ui1"); got.Password != "from-file" || got.PasswordFile != pwFile {
		t.Fatalf("password_file: %+v", got)
	}

	// Rename: the keys follow.
	mustUpdate(t, s, EditInstance("ui1", Instance{Name: "ui-renamed", Addr: "127.0.0.1:7001"}, false))
	if got := names(a.last()); !slices.Equal(got, []string{"cache", "ui-renamed"}) {
		t.Fatalf("after rename: %v", got)
	}
	if got := keyNames(find(a.last(), "ui-renamed")); len(got) != 2 {
		t.Fatalf("keys after rename: %v", got)
	}

	// Pause: the instance leaves the running set, its keys stay in the settings.
	mustUpdate(t, s, PauseInstance("ui-renamed", true))
	if got := names(a.last()); !slices.Equal(got, []string{"cache"}) {
		t.Fatalf("after pause: %v", got)
	}
	mustUpdate(t, s, PauseInstance("ui-renamed", false))
	if got := keyNames(find(a.last(), "ui-renamed")); len(got) != 2 {
		t.Fatalf("keys after resume: %v", got)
	}
	// Pause and resume a key.
	v := s.View()
	onConfig := v.Instances[0].Keys[1]
	mustUpdate(t, s, PauseKey(onConfig.ID, true))
	if got := keyNames(find(a.last(), "cache")); !slices.Equal(got, []string{"queue:emails", "on-config (paused)"}) {
		t.Fatalf("paused key: %v", got)
	}
	mustUpdate(t, s, PauseKey(onConfig.ID, false))
	mustUpdate(t, s, DeleteKey(onConfig.ID))
	if got := keyNames(find(a.last(), "cache")); !slices.Equal(got, []string{"queue:emails"}) {
		t.Fatalf("deleted key: %v", got)
	}
	// Delete: the instance's keys go too.
	mustUpdate(t, s, DeleteInstance("ui-renamed"))
	d, _ := Load(dir)
	if len(d.Instances) != 0 || len(d.Keys) != 0 {
		t.Fatalf("after delete: %+v", d)
	}

	// The log names user, action and object; never a password.
	out := logs.String()
	for _, want := range []string{`"msg":"settings changed"`, `"user":"alice"`, `"action":"add_instance"`, `"object":"ui1"`,
		`"action":"delete_instance"`, `"action":"pause_key"`, `"object":"cache on-config"`, `"logger":"settings"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") || strings.Contains(out, "from-file") {
		t.Fatalf("a password was logged:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, FileName)); strings.Contains(string(b), "hunter2") {
		t.Fatal("the cleared password is still in settings.json")
	}
}

// A failing Apply saves nothing; a failing save restores the previous running set.
func TestUpdateIsAtomic(t *testing.T) {
	dir := t.TempDir()
	a := &applier{}
	s := open(t, dir, a, nil)
	mustUpdate(t, s, AddInstance(Instance{Name: "ui1", Addr: "127.0.0.1:7000"}))
	saved, _ := os.ReadFile(filepath.Join(dir, FileName))
	view := s.View()

	a.fail = errors.New("boom")
	err := s.Update("alice", AddKey("ui1", Key{Key: "k"}))
	if !errors.Is(err, ErrApply) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v, want ErrApply", err)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, FileName)); !bytes.Equal(now, saved) {
		t.Fatalf("a failed apply changed settings.json:\n%s", now)
	}
	if !reflect.DeepEqual(s.View(), view) {
		t.Fatal("a failed apply changed the view")
	}

	// Make the save fail: settings.json becomes a non-empty directory the rename cannot replace.
	a.fail = nil
	path := filepath.Join(dir, FileName)
	os.Remove(path)
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	n := len(a.sets)
	err = s.Update("alice", AddKey("ui1", Key{Key: "k"}))
	if err == nil || errors.Is(err, ErrApply) || errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want a save error", err)
	}
	if len(a.sets) != n+2 {
		t.Fatalf("apply called %d times, want twice (the change, then the previous set)", len(a.sets)-n)
	}
	if got := keyNames(find(a.sets[n], "ui1")); len(got) != 1 {
		t.Fatalf("first apply lacks the new key: %v", got)
	}
	if len(find(a.last(), "ui1").Keys) != 0 {
		t.Fatalf("the previous set was not restored: %+v", a.last())
	}
	if !reflect.DeepEqual(s.View(), view) {
		t.Fatal("a failed save changed the view")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
}
