package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// writeConfig writes text to a fresh TOML file and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "redwatch.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadText loads text as the config file with the given environment.
func loadText(t *testing.T, text string, env ...string) (Config, error) {
	t.Helper()
	return Load(LoadOptions{File: writeConfig(t, text), Env: env})
}

func mustLoad(t *testing.T, opts LoadOptions) Config {
	t.Helper()
	c, err := Load(opts)
	if err != nil {
		t.Fatalf("Load: unexpected error:\n%s", err)
	}
	return c
}

// fieldErrors flattens err into its *FieldErrors.
func fieldErrors(t *testing.T, err error) []*FieldError {
	t.Helper()
	var out []*FieldError
	for _, e := range unjoin(err) {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("error %q is not a *FieldError", e)
		}
		out = append(out, fe)
	}
	return out
}

// wantError asserts that err holds exactly one problem containing want, and that it wraps
// sentinel.
func wantError(t *testing.T, err error, want string, sentinel error) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error containing %q, got none", want)
	}
	var found []*FieldError
	for _, fe := range fieldErrors(t, err) {
		if strings.Contains(fe.Error(), want) {
			found = append(found, fe)
		}
	}
	if len(found) != 1 {
		t.Fatalf("expected exactly one error containing %q, found %d in:\n%s", want, len(found), err)
	}
	if !errors.Is(found[0], sentinel) {
		t.Fatalf("error %q does not wrap %v", found[0], sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("joined error does not wrap %v", sentinel)
	}
}

func TestLoadDefaults(t *testing.T) {
	got := mustLoad(t, LoadOptions{})
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Load with nothing:\n got %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("Default does not validate: %s", err)
	}

	d := Default()
	f := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %v; want %v", name, got, want)
		}
	}
	f("server.listen", d.Server.Listen, "127.0.0.1:8080")
	f("storage.path", d.Storage.Path, "./redwatch-data")
	f("storage.retention", d.Storage.Retention.Std(), 30*24*time.Hour)
	f("log.level", d.Log.Level, "info")
	f("log.format", d.Log.Format, "json")
	f("log.max_size_mb", d.Log.MaxSizeMB, 50)
	f("log.max_backups", d.Log.MaxBackups, 10)
	f("log.slow_command", d.Log.SlowCommand.Std(), 100*time.Millisecond)
	f("ui.refresh", d.UI.Refresh.Std(), 2*time.Second)
	f("auth.session_ttl", d.Auth.SessionTTL.Std(), 12*time.Hour)
	f("system.enabled", d.System.Enabled, true)
	f("system.interval", d.System.Interval.Std(), 10*time.Second)
	f("redis", d.Redis, []Redis{{
		Name: "local", Addr: "127.0.0.1:6379",
		Interval: Duration(10 * time.Second), Timeout: Duration(2 * time.Second),
		KeyMemoryInterval: Duration(time.Minute), KeyMemorySamples: 5, builtIn: true,
	}})
	if !d.Redis[0].BuiltIn() {
		t.Errorf("the default local instance does not say it is built in")
	}
	f("notify.email.port", d.Notify.Email.Port, 587)
	f("notify.email.tls", d.Notify.Email.TLS, "starttls")

	// Each call returns an independent value.
	d.Redis[0].Name = "changed"
	f("Default().redis[0].name", Default().Redis[0].Name, "local")
}

func TestLoadFileOverridesDefaults(t *testing.T) {
	c := mustLoad(t, LoadOptions{File: writeConfig(t, `
[server]
listen = "0.0.0.0:9000"
[storage]
retention = "2w"
[log]
level = "debug"
[system]
enabled = false

[[redis]]
name = "cache"
addr = "10.0.0.1:6379"
interval = "20s"
  [[redis.keys]]
  key = "queue:emails"
  enabled = false
  [[redis.keys]]
  pattern = "session:*"
  interval = "30s"

[[alerts.rules]]
name = "Backlog"
series = 'redis_key_length{key="queue:emails"}'
threshold = 10000
labels = { team = "ops" }

[[notify.webhook]]
url = "https://example.invalid/hook"
send_resolved = true
severities = ["critical"]
`)})
	f := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %#v; want %#v", name, got, want)
		}
	}
	f("server.listen", c.Server.Listen, "0.0.0.0:9000")
	f("storage.path (default kept)", c.Storage.Path, "./redwatch-data")
	f("storage.retention", c.Storage.Retention.Std(), 14*24*time.Hour)
	f("log.level", c.Log.Level, "debug")
	f("log.format (default kept)", c.Log.Format, "json")
	f("system.enabled", c.System.Enabled, false)
	f("len(redis) (no local added)", len(c.Redis), 1)
	r := c.Redis[0]
	f("redis[0].interval", r.Interval.Std(), 20*time.Second)
	f("redis[0].timeout (default)", r.Timeout.Std(), 2*time.Second)
	f("redis[0].keys[0].interval (inherited)", r.Keys[0].Interval.Std(), 20*time.Second)
	f("redis[0].keys[0].enabled", r.Keys[0].IsEnabled(), false)
	f("redis[0].keys[0].max_keys (exact key: none)", r.Keys[0].MaxKeys, 0)
	f("redis[0].keys[1].interval", r.Keys[1].Interval.Std(), 30*time.Second)
	f("redis[0].keys[1].enabled (default)", r.Keys[1].IsEnabled(), true)
	f("redis[0].keys[1].max_keys (default)", r.Keys[1].MaxKeys, 1000)
	rule := c.Alerts.Rules[0]
	f("rule.threshold (integer read as float)", rule.Threshold, 10000.0)
	f("rule.clear_threshold", rule.ClearThreshold, (*float64)(nil))
	f("rule.aggregate", rule.Aggregate, "last")
	f("rule.window", rule.Window.Std(), time.Minute)
	f("rule.op", rule.Op, ">")
	f("rule.for", rule.For.Std(), time.Duration(0))
	f("rule.severity", rule.Severity, "warning")
	f("rule.labels", rule.Labels, map[string]string{"team": "ops"})
	w := c.Notify.Webhook[0]
	f("webhook.url", w.URL, "https://example.invalid/hook")
	f("webhook.send_resolved (squashed)", w.SendResolved, true)
	f("webhook.severities (squashed)", w.Severities, []string{"critical"})
}

func TestLoadNoRedis(t *testing.T) {
	c := mustLoad(t, LoadOptions{File: writeConfig(t, "redis = []\n")})
	if len(c.Redis) != 0 {
		t.Fatalf("redis = [] should watch no Redis; got %+v", c.Redis)
	}
}

func TestLoadExplicitZeroIsKept(t *testing.T) {
	// A key given explicitly keeps its value even when zero; only missing keys get defaults.
	_, err := loadText(t, `
[[redis]]
name = "cache"
addr = "127.0.0.1:6379"
timeout = "0s"
  [[redis.keys]]
  pattern = "a:*"
  max_keys = 0
`)
	wantError(t, err, `redis[0].timeout: must be > 0, got 0s`, ErrInvalid)
	wantError(t, err, `redis[0].keys[0].max_keys: must be >= 1, got 0`, ErrInvalid)
}

func TestLoadEnvOverridesFile(t *testing.T) {
	file := writeConfig(t, `
[server]
listen = "0.0.0.0:9000"
[storage]
retention = "60d"
[log]
level = "warn"
max_size_mb = 20
[notify.email]
send_resolved = false
`)
	c := mustLoad(t, LoadOptions{File: file, Env: []string{
		"PATH=/usr/bin",
		"HOME=/root",
		"redwatch_log__level=error", // prefix is case-sensitive: ignored
		"REDWATCH_SERVER__LISTEN=0.0.0.0:9100",
		"REDWATCH_STORAGE__RETENTION=7d",
		"REDWATCH_LOG__LEVEL=debug",
		"REDWATCH_LOG__MAX_SIZE_MB=5",
		"REDWATCH_SYSTEM__ENABLED=false",
		"REDWATCH_UI__REFRESH=1s",
		"REDWATCH_INGEST__TOKENS=0123456789abcdef, fedcba9876543210",
		"REDWATCH_NOTIFY__EMAIL__SEND_RESOLVED=true",
		"REDWATCH_REMOTE_WRITE__URL=https://vm.example.invalid/api/v1/write",
		"REDWATCH_ADMIN_PASSWORD=not-config",
		"REDWATCH_AGENT_TOKEN=not-config-either",
	}})
	f := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s = %#v; want %#v", name, got, want)
		}
	}
	f("server.listen", c.Server.Listen, "0.0.0.0:9100")
	f("storage.retention", c.Storage.Retention.Std(), 7*24*time.Hour)
	f("log.level", c.Log.Level, "debug")
	f("log.max_size_mb", c.Log.MaxSizeMB, 5)
	f("system.enabled", c.System.Enabled, false)
	f("ui.refresh", c.UI.Refresh.Std(), time.Second)
	f("ingest.tokens", c.Ingest.Tokens, []string{"0123456789abcdef", "fedcba9876543210"})
	f("notify.email.send_resolved", c.Notify.Email.SendResolved, true)
	f("remote_write.url", c.RemoteWrite.URL, "https://vm.example.invalid/api/v1/write")
}

func TestLoadFlagsOverrideEnv(t *testing.T) {
	file := writeConfig(t, "[server]\nlisten = \"0.0.0.0:9000\"\n[storage]\npath = \"/from/file\"\n")
	env := []string{"REDWATCH_SERVER__LISTEN=0.0.0.0:9100", "REDWATCH_STORAGE__PATH=/from/env"}
	f := func(args []string, wantListen, wantPath string) {
		t.Helper()
		fs := pflag.NewFlagSet("redwatch", pflag.ContinueOnError)
		RegisterFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		c := mustLoad(t, LoadOptions{File: file, Env: env, Flags: fs})
		if c.Server.Listen != wantListen || c.Storage.Path != wantPath {
			t.Fatalf("args %q: listen=%q path=%q; want %q %q", args, c.Server.Listen, c.Storage.Path, wantListen, wantPath)
		}
	}
	f(nil, "0.0.0.0:9100", "/from/env") // unchanged flags do not apply
	f([]string{"--listen", "127.0.0.1:1234"}, "127.0.0.1:1234", "/from/env")
	f([]string{"--data=/from/flag"}, "0.0.0.0:9100", "/from/flag")
	f([]string{"--listen=:80", "--data", "/d"}, ":80", "/d")
}

func TestLoadConfigFlag(t *testing.T) {
	file := writeConfig(t, "[log]\nlevel = \"warn\"\n")
	fs := pflag.NewFlagSet("redwatch", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse([]string{"--config", file}); err != nil {
		t.Fatal(err)
	}
	if c := mustLoad(t, LoadOptions{Flags: fs}); c.Log.Level != "warn" {
		t.Fatalf("--config was not read: log.level = %q", c.Log.Level)
	}
	for _, name := range []string{FlagConfig, FlagListen, FlagData} {
		if fs.Lookup(name) == nil {
			t.Fatalf("RegisterFlags did not define --%s", name)
		}
	}
}

func TestLoadEnvErrors(t *testing.T) {
	f := func(env, want string, sentinel error) {
		t.Helper()
		_, err := Load(LoadOptions{Env: []string{env}})
		wantError(t, err, want, sentinel)
	}
	f("REDWATCH_SERVER__LISTN=x", `REDWATCH_SERVER__LISTN: unknown configuration variable (did you mean REDWATCH_SERVER__LISTEN?)`, ErrUnknownKey)
	f("REDWATCH_SERVER_LISTEN=x", `REDWATCH_SERVER_LISTEN: unknown configuration variable`, ErrUnknownKey)
	f("REDWATCH_SERVER=x", `REDWATCH_SERVER: unknown configuration variable`, ErrUnknownKey)
	f("REDWATCH_FOO=x", `REDWATCH_FOO: unknown configuration variable`, ErrUnknownKey)
	f("REDWATCH_REDIS__NAME=x", `REDWATCH_REDIS__NAME: unknown configuration variable (keys inside list sections`, ErrUnknownKey)
	f("REDWATCH_NOTIFY__WEBHOOK__URL=x", `REDWATCH_NOTIFY__WEBHOOK__URL: unknown configuration variable (keys inside list sections`, ErrUnknownKey)
	f("REDWATCH_LOG__MAX_SIZE_MB=abc", `log.max_size_mb: "abc" is not an integer (from REDWATCH_LOG__MAX_SIZE_MB)`, ErrWrongType)
	f("REDWATCH_SYSTEM__ENABLED=maybe", `system.enabled: "maybe" is not true or false (from REDWATCH_SYSTEM__ENABLED)`, ErrWrongType)
	f("REDWATCH_STORAGE__RETENTION=7x", `storage.retention: "7x" is not a duration (from REDWATCH_STORAGE__RETENTION)`, ErrBadDuration)
	// Valid syntax, invalid value: reported by validation under the key path.
	f("REDWATCH_LOG__LEVEL=loud", `log.level: must be one of debug, info, warn, error; got "loud"`, ErrInvalid)
}

func TestLoadFileErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.toml")
	_, err := Load(LoadOptions{File: missing})
	wantError(t, err, missing+": cannot read config file: no such file or directory", ErrFile)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file error does not wrap fs.ErrNotExist: %s", err)
	}

	path := writeConfig(t, "[server]\nlisten = \n")
	_, err = Load(LoadOptions{File: path})
	wantError(t, err, path+":2:", ErrSyntax)
}

func TestLoadDecodeErrors(t *testing.T) {
	const redis = "[[redis]]\nname = \"cache\"\naddr = \"127.0.0.1:6379\"\n"
	f := func(text, want string, sentinel error) {
		t.Helper()
		_, err := loadText(t, text)
		wantError(t, err, want, sentinel)
	}
	// Unknown keys, at every level, with suggestions for likely typos.
	f(redis+"intervall = \"5s\"\n", `redis[0].intervall: unknown key (did you mean "interval"?)`, ErrUnknownKey)
	f("[servr]\nlisten = \":1\"\n", `servr: unknown key (did you mean "server"?)`, ErrUnknownKey)
	f("[server]\nport = 1\n", `server.port: unknown key`, ErrUnknownKey)
	f("verbose = true\n", `verbose: unknown key`, ErrUnknownKey)
	f(redis+"[[redis.keys]]\nkey = \"a\"\nttl = 5\n", `redis[0].keys[0].ttl: unknown key`, ErrUnknownKey)
	f("[[notify.webhook]]\nurl = \"https://x.invalid\"\nsend_resolve = true\n", `notify.webhook[0].send_resolve: unknown key (did you mean "send_resolved"?)`, ErrUnknownKey)
	f("[notify.email]\nhots = \"smtp\"\n", `notify.email.hots: unknown key (did you mean "host"?)`, ErrUnknownKey)

	// Wrong types.
	f("[log]\nmax_size_mb = \"50\"\n", `log.max_size_mb: must be an integer, not a string`, ErrWrongType)
	f("[log]\nmax_size_mb = 5.5\n", `log.max_size_mb: must be an integer, not a float`, ErrWrongType)
	f("[server]\nlisten = 8080\n", `server.listen: must be a string, not an integer`, ErrWrongType)
	f("[system]\nenabled = \"yes\"\n", `system.enabled: must be true or false, not a string`, ErrWrongType)
	f("[ui]\nrefresh = 2\n", `ui.refresh: must be a duration string such as "10s", not an integer`, ErrWrongType)
	f("server = \"x\"\n", `server: must be a table, not a string`, ErrWrongType)
	f("[redis]\nname = \"x\"\n", `redis: must be an array of tables, not a table`, ErrWrongType)
	f("[ingest]\ntokens = \"0123456789abcdef\"\n", `ingest.tokens: must be an array, not a string`, ErrWrongType)
	f("[ingest]\ntokens = [\"0123456789abcdef\", 5]\n", `ingest.tokens[1]: must be a string, not an integer`, ErrWrongType)
	f(redis+"[[redis.keys]]\nkey = \"a\"\nenabled = 1\n", `redis[0].keys[0].enabled: must be true or false, not an integer`, ErrWrongType)
	f("[[notify.webhook]]\nurl = \"https://x.invalid\"\nsend_resolved = \"yes\"\n", `notify.webhook[0].send_resolved: must be true or false, not a string`, ErrWrongType)
	f("[[notify.webhook]]\nurl = \"https://x.invalid\"\nheaders = { X-A = 1 }\n", `notify.webhook[0].headers.X-A: must be a string, not an integer`, ErrWrongType)
	f("[[alerts.rules]]\nname = \"a\"\nseries = \"up\"\nthreshold = \"high\"\n", `alerts.rules[0].threshold: must be a number, not a string`, ErrWrongType)
	f("[[alerts.rules]]\nname = \"a\"\nseries = \"up\"\nclear_threshold = true\n", `alerts.rules[0].clear_threshold: must be a number, not a boolean`, ErrWrongType)
	f("[log]\nmax_size_mb = 1979-05-27\n", `log.max_size_mb: must be an integer, not a date-time`, ErrWrongType)

	// Bad durations, exactly as SPEC.md shows.
	f(redis+"[[redis]]\nname = \"b\"\naddr = \"h:1\"\n[[redis.keys]]\nkey = \"k\"\ninterval = \"5x\"\n",
		`redis[1].keys[0].interval: "5x" is not a duration`, ErrBadDuration)
	f("[storage]\nretention = \"30days\"\n", `storage.retention: "30days" is not a duration`, ErrBadDuration)
}

func TestLoadNoFollowUpErrors(t *testing.T) {
	// A key that fails to decode is reported once: validation does not add "required" for it.
	_, err := loadText(t, "[[redis]]\nname = 5\naddr = \"127.0.0.1:6379\"\n")
	msgs := Errors(err)
	if len(msgs) != 1 || msgs[0] != "redis[0].name: must be a string, not an integer" {
		t.Fatalf("got errors %q", msgs)
	}
}

func TestLoadMultipleErrors(t *testing.T) {
	_, err := loadText(t, `
[server]
listen = "nope"
[storage]
retention = "1h"
[log]
level = "loud"
format = "xml"
[[redis]]
name = "Cache"
addr = "127.0.0.1:6379"
intervall = "5s"
  [[redis.keys]]
  interval = "5x"
[[redis]]
name = "cache2"
addr = "127.0.0.1"
`, "REDWATCH_UI__REFRES=1s")
	want := []string{
		`REDWATCH_UI__REFRES: unknown configuration variable (did you mean REDWATCH_UI__REFRESH?)`,
		`redis[0].keys[0].interval: "5x" is not a duration`,
		`redis[0].intervall: unknown key (did you mean "interval"?)`,
		`server.listen: "nope" is not host:port such as "127.0.0.1:8080" or ":8080"`,
		`storage.retention: must be >= 1d, got 1h`,
		`log.level: must be one of debug, info, warn, error; got "loud"`,
		`log.format: must be one of json, text; got "xml"`,
		`redis[0].name: "Cache" may contain only a-z, 0-9, _ and -`,
		`redis[0].keys[0]: set key (an exact key) or pattern (a glob)`,
		`redis[1].addr: "127.0.0.1" is not host:port such as "127.0.0.1:6379"`,
	}
	got := Errors(err)
	if !slices.Equal(got, want) {
		t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err.Error() != strings.Join(want, "\n") {
		t.Fatalf("err.Error() is not one problem a line:\n%s", err)
	}
}

func TestLoadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "redis-password")
	if err := os.WriteFile(secret, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, LoadOptions{File: writeConfig(t, `
[[redis]]
name = "cache"
addr = "127.0.0.1:6379"
password_file = "`+secret+`"
`)})
	if got := c.Redis[0].Password; got != "s3cret" {
		t.Fatalf("password = %q; want the trimmed file contents", got)
	}
	if c.Redis[0].PasswordFile != secret {
		t.Fatalf("password_file = %q; want %q", c.Redis[0].PasswordFile, secret)
	}
	// The loaded value validates again.
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate after Load: %s", err)
	}

	_, err := loadText(t, "[[redis]]\nname = \"cache\"\naddr = \"127.0.0.1:6379\"\npassword = \"x\"\npassword_file = \""+secret+"\"\n")
	wantError(t, err, `redis[0].password: set either password or password_file, not both`, ErrInvalid)

	missing := filepath.Join(dir, "missing")
	_, err = loadText(t, "[[redis]]\nname = \"cache\"\naddr = \"127.0.0.1:6379\"\npassword_file = \""+missing+"\"\n")
	wantError(t, err, `redis[0].password_file: cannot read "`+missing+`": no such file or directory`, ErrFile)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error does not wrap fs.ErrNotExist: %s", err)
	}
}

func TestErrors(t *testing.T) {
	if got := Errors(nil); got != nil {
		t.Fatalf("Errors(nil) = %q", got)
	}
	if got := Errors(errors.New("a\nb")); !slices.Equal(got, []string{"a b"}) {
		t.Fatalf("Errors(plain) = %q", got)
	}
	err := errors.Join(&FieldError{Path: "a", Reason: "x", Err: ErrInvalid}, errors.Join(&FieldError{Path: "b", Reason: "y", Err: ErrRequired}))
	if got := Errors(err); !slices.Equal(got, []string{"a: x", "b: y"}) {
		t.Fatalf("Errors(joined) = %q", got)
	}
}

// TestLoadTimeoutFollowsShortInterval: an unset timeout is min(2s, interval), as Prometheus'
// scrape_timeout; a timeout may equal the interval; only a longer one is an error.
func TestLoadTimeoutFollowsShortInterval(t *testing.T) {
	f := func(body string, want time.Duration) {
		t.Helper()
		c, err := loadText(t, "[[redis]]\nname = \"cache\"\naddr = \"127.0.0.1:6379\"\n"+body)
		if err != nil {
			t.Fatalf("%s: %s", body, err)
		}
		if got := c.Redis[0].Timeout.Std(); got != want {
			t.Fatalf("%s: timeout = %s; want %s", body, got, want)
		}
	}
	f(`interval = "1s"`, time.Second)
	f(`interval = "2s"`, 2*time.Second)
	f(`interval = "1500ms"`, 1500*time.Millisecond)
	f(`interval = "30s"`, 2*time.Second)
	f("", 2*time.Second) // default interval 10s
	f("interval = \"1s\"\ntimeout = \"1s\"", time.Second)
	f("interval = \"30s\"\ntimeout = \"5s\"", 5*time.Second)
	_, err := loadText(t, "[[redis]]\nname = \"cache\"\naddr = \"127.0.0.1:6379\"\ninterval = \"1s\"\ntimeout = \"2s\"\n")
	wantError(t, err, `redis[0].timeout: must not exceed interval (1s), got 2s`, ErrInvalid)
}

func TestLoadExpectExists(t *testing.T) {
	c, err := loadText(t, `
[[redis]]
name = "cache"
addr = "127.0.0.1:6379"
  [[redis.keys]]
  key = "config:flags"
  expect_exists = true
  [[redis.keys]]
  key = "queue:emails"
  [[redis.keys]]
  key = "lock:nightly"
  expect_exists = false
`)
	if err != nil {
		t.Fatal(err)
	}
	k := c.Redis[0].Keys
	if k[0].ExpectExists == nil || !*k[0].ExpectExists || k[1].ExpectExists != nil || k[2].ExpectExists == nil || *k[2].ExpectExists {
		t.Fatalf("expect_exists: %v %v %v; want true, unset, false", k[0].ExpectExists, k[1].ExpectExists, k[2].ExpectExists)
	}
	_, err = loadText(t, "[[redis]]\nname = \"cache\"\naddr = \"127.0.0.1:6379\"\n[[redis.keys]]\npattern = \"job:*\"\nexpect_exists = true\n")
	wantError(t, err, `redis[0].keys[0].expect_exists: applies only to exact keys`, ErrInvalid)
}

// TestBuiltInRedis: only the default "local", watched for want of [[redis]], is built in; an
// instance of that very name and address in the file is the file's.
func TestBuiltInRedis(t *testing.T) {
	cfg, err := loadText(t, "[[redis]]\nname = \"local\"\naddr = \"127.0.0.1:6379\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Redis) != 1 || cfg.Redis[0].BuiltIn() {
		t.Fatalf("redis = %+v; want one instance from the file, not built in", cfg.Redis)
	}
	cfg, err = loadText(t, "[server]\nlisten = \"127.0.0.1:9\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Redis) != 1 || !cfg.Redis[0].BuiltIn() {
		t.Fatalf("redis = %+v; want the built-in local", cfg.Redis)
	}
}
