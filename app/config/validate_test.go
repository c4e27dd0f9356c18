package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

const (
	testRedis = "[[redis]]\nname = \"cache\"\naddr = \"127.0.0.1:6379\"\n"
	testHash  = "$2a$10$WFBK0k8vUlswHxcpd0pSa.1spFD42flzYvI1BNnpDXmt6huJIePHW"
	testRule  = "[[alerts.rules]]\nname = \"r\"\nseries = \"up\"\n"
)

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name     string
		toml     string
		want     string // a substring of exactly one error line
		sentinel error
	}{
		// server
		{"listen not host:port", "[server]\nlisten = \"nope\"", `server.listen: "nope" is not host:port`, ErrInvalid},
		{"listen empty", "[server]\nlisten = \"\"", `server.listen: required`, ErrRequired},
		{"listen bad port", "[server]\nlisten = \":99999\"", `server.listen: ":99999" is not host:port`, ErrInvalid},
		{"listen named port", "[server]\nlisten = \"localhost:http\"", `server.listen: "localhost:http" is not host:port`, ErrInvalid},
		{"tls_cert without key", "[server]\ntls_cert = \"c.pem\"", `server.tls_key: required when server.tls_cert is set`, ErrRequired},
		{"tls_key without cert", "[server]\ntls_key = \"k.pem\"", `server.tls_cert: required when server.tls_key is set`, ErrRequired},
		{"tls files missing", "[server]\ntls_cert = \"/nonexistent/c.pem\"\ntls_key = \"/nonexistent/k.pem\"", `server.tls_cert: cannot read "/nonexistent/c.pem": no such file or directory`, ErrFile},
		{"trusted proxy not an IP", "[server]\ntrusted_proxies = [\"10.0.0.1\", \"proxy.local\"]", `server.trusted_proxies[1]: "proxy.local" is not an IP address or CIDR range`, ErrInvalid},
		{"trusted proxy bad CIDR", "[server]\ntrusted_proxies = [\"10.0.0.0/33\"]", `server.trusted_proxies[0]: "10.0.0.0/33" is not an IP address or CIDR range`, ErrInvalid},
		{"secrets_dir missing", "[server]\nsecrets_dir = \"/nonexistent/secrets\"", `server.secrets_dir: cannot use "/nonexistent/secrets": no such file or directory`, ErrFile},
		{"secrets_dir a file", "[server]\nsecrets_dir = \"/etc/hostname\"", `server.secrets_dir: "/etc/hostname" is not a directory`, ErrInvalid},
		{"tls key missing", "[server]\ntls_cert = \"/nonexistent/c.pem\"\ntls_key = \"/nonexistent/k.pem\"", `server.tls_key: cannot read "/nonexistent/k.pem"`, fs.ErrNotExist},

		// storage, log, ui, auth, system
		{"storage path empty", "[storage]\npath = \"\"", `storage.path: required`, ErrRequired},
		{"retention too short", "[storage]\nretention = \"23h\"", `storage.retention: must be >= 1d, got 23h`, ErrInvalid},
		{"max_series negative", "[storage]\nmax_series = -1", `storage.max_series: must be 0 (derived from the memory budget) or between 1000 and 100000000, got -1`, ErrInvalid},
		{"max_series too small", "[storage]\nmax_series = 999", `storage.max_series: must be 0 (derived from the memory budget) or between 1000 and 100000000, got 999`, ErrInvalid},
		{"max_series too large", "[storage]\nmax_series = 100000001", `storage.max_series: must be 0 (derived from the memory budget) or between 1000 and 100000000, got 100000001`, ErrInvalid},
		{"memory_limit too small", "[storage]\nmemory_limit = \"32MiB\"", `storage.memory_limit: must be at least 64MiB (67108864 bytes), got 33554432 bytes`, ErrInvalid},
		{"memory_limit no unit known", "[storage]\nmemory_limit = \"512 megs\"", `storage.memory_limit: "512 megs" is not a size such as 536870912, "512MiB" or "2GB"`, ErrInvalid},
		{"memory_limit negative", "[storage]\nmemory_limit = \"-1GiB\"", `storage.memory_limit: "-1GiB" is not a size`, ErrInvalid},
		{"max_series not a number", "[storage]\nmax_series = \"many\"", `storage.max_series: must be an integer, not a string`, ErrWrongType},
		{"remote not a URL", "[storage]\nremote = \"vm:8428\"", `storage.remote: "vm:8428" is not an http(s) URL without credentials of a VictoriaMetrics query API`, ErrInvalid},
		{"remote with credentials", "[storage]\nremote = \"http://u:p@vm:8428\"", `storage.remote: "http://u:p@vm:8428" is not an http(s) URL without credentials of a VictoriaMetrics query API`, ErrInvalid},
		{"log level", "[log]\nlevel = \"trace\"", `log.level: must be one of debug, info, warn, error; got "trace"`, ErrInvalid},
		{"log format", "[log]\nformat = \"xml\"", `log.format: must be one of json, text; got "xml"`, ErrInvalid},
		{"max_size_mb zero", "[log]\nmax_size_mb = 0", `log.max_size_mb: must be > 0, got 0`, ErrInvalid},
		{"max_backups negative", "[log]\nmax_backups = -1", `log.max_backups: must be >= 0, got -1`, ErrInvalid},
		{"slow_command zero", "[log]\nslow_command = \"0s\"", `log.slow_command: must be > 0, got 0s`, ErrInvalid},
		{"ui refresh", "[ui]\nrefresh = \"100ms\"", `ui.refresh: must be >= 500ms, got 100ms`, ErrInvalid},
		{"session_ttl", "[auth]\nsession_ttl = \"30s\"", `auth.session_ttl: must be >= 1m, got 30s`, ErrInvalid},
		{"user name", "[[auth.users]]\npassword_hash = \"" + testHash + "\"", `auth.users[0].name: required`, ErrRequired},
		{"user duplicate", "[[auth.users]]\nname = \"a\"\npassword_hash = \"" + testHash + "\"\n[[auth.users]]\nname = \"a\"\npassword_hash = \"" + testHash + "\"", `auth.users[1].name: "a" is also the name of auth.users[0]`, ErrDuplicate},
		{"user hash missing", "[[auth.users]]\nname = \"a\"", `auth.users[0].password_hash: required`, ErrRequired},
		{"user hash not bcrypt", "[[auth.users]]\nname = \"a\"\npassword_hash = \"secret\"", `auth.users[0].password_hash: must be a bcrypt hash`, ErrInvalid},
		{"user hash bad version", "[[auth.users]]\nname = \"a\"\npassword_hash = \"$2x$10$WFBK0k8vUlswHxcpd0pSa.1spFD42flzYvI1BNnpDXmt6huJIePHW\"", `auth.users[0].password_hash: must be a bcrypt hash`, ErrInvalid},
		{"user hash bad cost", "[[auth.users]]\nname = \"a\"\npassword_hash = \"$2b$99$WFBK0k8vUlswHxcpd0pSa.1spFD42flzYvI1BNnpDXmt6huJIePHW\"", `auth.users[0].password_hash: must be a bcrypt hash`, ErrInvalid},
		{"user role", "[[auth.users]]\nname = \"a\"\npassword_hash = \"" + testHash + "\"\nrole = \"root\"", `auth.users[0].role: must be one of admin, viewer; got "root"`, ErrInvalid},
		{"user role empty", "[[auth.users]]\nname = \"a\"\npassword_hash = \"" + testHash + "\"\nrole = \"\"", `auth.users[0].role: must be one of admin, viewer; got ""`, ErrInvalid},
		{"system interval", "[system]\ninterval = \"500ms\"", `system.interval: must be >= 1s, got 500ms`, ErrInvalid},

		// redis
		{"redis name missing", "[[redis]]\naddr = \"h:1\"", `redis[0].name: required`, ErrRequired},
		{"redis name chars", "[[redis]]\nname = \"Cache 1\"\naddr = \"h:1\"", `redis[0].name: "Cache 1" may contain only a-z, 0-9, _ and -`, ErrInvalid},
		{"redis name duplicate", testRedis + testRedis, `redis[1].name: "cache" is also the name of redis[0]`, ErrDuplicate},
		{"redis addr missing", "[[redis]]\nname = \"a\"", `redis[0].addr: required`, ErrRequired},
		{"redis addr no port", "[[redis]]\nname = \"a\"\naddr = \"localhost\"", `redis[0].addr: "localhost" is not host:port`, ErrInvalid},
		{"redis addr no host", "[[redis]]\nname = \"a\"\naddr = \":6379\"", `redis[0].addr: ":6379" is not host:port`, ErrInvalid},
		{"redis addr port 0", "[[redis]]\nname = \"a\"\naddr = \"h:0\"", `redis[0].addr: "h:0" is not host:port`, ErrInvalid},
		{"redis db", testRedis + "db = -1", `redis[0].db: must be >= 0, got -1`, ErrInvalid},
		{"redis interval", testRedis + "interval = \"500ms\"", `redis[0].interval: must be >= 1s, got 500ms`, ErrInvalid},
		{"redis timeout zero", testRedis + "timeout = \"0s\"", `redis[0].timeout: must be > 0, got 0s`, ErrInvalid},
		{"redis timeout > interval", testRedis + "interval = \"5s\"\ntimeout = \"6s\"", `redis[0].timeout: must not exceed interval (5s), got 6s`, ErrInvalid},
		{"redis timeout > short interval", testRedis + "interval = \"1s\"\ntimeout = \"2s\"", `redis[0].timeout: must not exceed interval (1s), got 2s`, ErrInvalid},
		{"redis timeout vs default interval", testRedis + "timeout = \"1m\"", `redis[0].timeout: must not exceed interval (10s), got 1m`, ErrInvalid},
		{"pattern expect_exists", testRedis + "[[redis.keys]]\npattern = \"job:*\"\nexpect_exists = true", `redis[0].keys[0].expect_exists: applies only to exact keys`, ErrInvalid},
		{"pattern expect_exists false", testRedis + "[[redis.keys]]\nkey = \"a\"\n[[redis.keys]]\npattern = \"job:*\"\nexpect_exists = false", `redis[0].keys[1].expect_exists: applies only to exact keys`, ErrInvalid},
		{"redis password_file missing", testRedis + "password_file = \"/nonexistent/pw\"", `redis[0].password_file: cannot read "/nonexistent/pw"`, ErrFile},
		{"key neither", testRedis + "[[redis.keys]]\ninterval = \"5s\"", `redis[0].keys[0]: set key (an exact key) or pattern (a glob)`, ErrRequired},
		{"key both", testRedis + "[[redis.keys]]\nkey = \"a\"\npattern = \"a*\"", `redis[0].keys[0]: set either key or pattern, not both`, ErrInvalid},
		{"key interval", testRedis + "[[redis.keys]]\nkey = \"a\"\ninterval = \"0s\"", `redis[0].keys[0].interval: must be >= 1s, got 0s`, ErrInvalid},
		{"key interval inherited", testRedis + "interval = \"500ms\"\ntimeout = \"100ms\"\n[[redis.keys]]\nkey = \"a\"", `redis[0].keys[0].interval: must be >= 1s, got 500ms`, ErrInvalid},
		{"pattern max_keys", testRedis + "[[redis.keys]]\npattern = \"a*\"\nmax_keys = -5", `redis[0].keys[0].max_keys: must be >= 1, got -5`, ErrInvalid},
		{"key max_keys", testRedis + "[[redis.keys]]\nkey = \"a\"\nmax_keys = 5", `redis[0].keys[0].max_keys: applies only to pattern entries`, ErrInvalid},
		{"key scan_interval", testRedis + "[[redis.keys]]\nkey = \"a\"\nscan_interval = \"1m\"", `redis[0].keys[0].scan_interval: applies only to pattern entries`, ErrInvalid},
		{"pattern scan_interval", testRedis + "[[redis.keys]]\npattern = \"a*\"\nscan_interval = \"10ms\"", `redis[0].keys[0].scan_interval: must be >= 1s, got 10ms`, ErrInvalid},
		{"tls file without tls", testRedis + "tls_ca_file = \"/etc/hostname\"", `redis[0].tls_ca_file: applies only with tls = true`, ErrInvalid},
		{"tls ca not pem", testRedis + "tls = true\ntls_ca_file = \"/etc/hostname\"", `redis[0].tls_ca_file: "/etc/hostname" holds no PEM certificate`, ErrInvalid},
		{"tls key missing", testRedis + "tls = true\ntls_cert_file = \"/etc/hostname\"", `redis[0].tls_key_file: required when tls_cert_file is set`, ErrRequired},
		{"key_memory_samples", testRedis + "key_memory_samples = -1", `redis[0].key_memory_samples: must be >= 0, got -1`, ErrInvalid},
		{"key_memory_interval", testRedis + "key_memory_interval = \"5ms\"", `redis[0].key_memory_interval: must be >= 1s, got 5ms`, ErrInvalid},
		{"key duplicate", testRedis + "[[redis.keys]]\nkey = \"q\"\n[[redis.keys]]\npattern = \"q\"\n[[redis.keys]]\nkey = \"q\"", `redis[0].keys[2].key: "q" is also watched by redis[0].keys[0]`, ErrDuplicate},
		{"pattern duplicate", testRedis + "[[redis.keys]]\npattern = \"s:*\"\n[[redis.keys]]\npattern = \"s:*\"", `redis[0].keys[1].pattern: "s:*" is also watched by redis[0].keys[0]`, ErrDuplicate},
		{"second instance path", testRedis + "[[redis]]\nname = \"b\"\naddr = \"h:1\"\n[[redis.keys]]\nkey = \"k\"\ninterval = \"1ms\"", `redis[1].keys[0].interval: must be >= 1s, got 1ms`, ErrInvalid},

		// alerts
		{"rule name", "[[alerts.rules]]\nseries = \"up\"", `alerts.rules[0].name: required`, ErrRequired},
		{"rule duplicate", testRule + testRule, `alerts.rules[1].name: "r" is also the name of alerts.rules[0]`, ErrDuplicate},
		{"rule series missing", "[[alerts.rules]]\nname = \"r\"", `alerts.rules[0].series: required`, ErrRequired},
		{"rule aggregate", testRule + "aggregate = \"sum\"", `alerts.rules[0].aggregate: must be one of last, avg, min, max, rate; got "sum"`, ErrInvalid},
		{"rule window", testRule + "window = \"0s\"", `alerts.rules[0].window: must be > 0, got 0s`, ErrInvalid},
		{"rule op", testRule + "op = \"=>\"", `alerts.rules[0].op: must be one of >, >=, <, <=, ==, !=; got "=>"`, ErrInvalid},
		{"rule for", testRule + "for = \"-1m\"", `alerts.rules[0].for: must be >= 0, got -1m`, ErrInvalid},
		{"rule severity", testRule + "severity = \"page\"", `alerts.rules[0].severity: must be one of critical, warning, info; got "page"`, ErrInvalid},
		{"rule summary", testRule + "summary = \"{{ .Value\"", `alerts.rules[0].summary: not a valid template`, ErrInvalid},
		{"rule series and expr", testRule + "expr = \"up == 0\"", `alerts.rules[0].expr: give either series (with aggregate and window) or expr, not both`, ErrInvalid},
		{"rule expr blank", "[[alerts.rules]]\nname = \"r\"\nexpr = \" \"", `alerts.rules[0].expr: must not be blank`, ErrRequired},
		{"rule expr aggregate", "[[alerts.rules]]\nname = \"r\"\nexpr = \"up\"\naggregate = \"avg\"", `alerts.rules[0].aggregate: does not apply to an expr rule`, ErrInvalid},
		{"rule expr window", "[[alerts.rules]]\nname = \"r\"\nexpr = \"up\"\nwindow = \"5m\"", `alerts.rules[0].window: does not apply to an expr rule`, ErrInvalid},
		{"rule expr threshold without op", "[[alerts.rules]]\nname = \"r\"\nexpr = \"up\"\nthreshold = 3", `alerts.rules[0].threshold: needs an op`, ErrInvalid},
		{"rule expr clear without op", "[[alerts.rules]]\nname = \"r\"\nexpr = \"up\"\nclear_threshold = 3", `alerts.rules[0].clear_threshold: needs an op and a threshold`, ErrInvalid},
		{"rule expr op", "[[alerts.rules]]\nname = \"r\"\nexpr = \"up\"\nop = \"=>\"", `alerts.rules[0].op: must be one of >, >=, <, <=, ==, !=; got "=>"`, ErrInvalid},
		{"rule expr clear side", "[[alerts.rules]]\nname = \"r\"\nexpr = \"up\"\nop = \">\"\nthreshold = 1\nclear_threshold = 2", `alerts.rules[0].clear_threshold: must be <= threshold (1) for op ">", got 2`, ErrInvalid},
		{"rule label name", testRule + "labels = { \"1team\" = \"ops\" }", `alerts.rules[0].labels.1team: label names must match`, ErrInvalid},

		// notify
		{"webhook url missing", "[[notify.webhook]]\nsend_resolved = true", `notify.webhook[0].url: required`, ErrRequired},
		{"webhook url scheme", "[[notify.webhook]]\nurl = \"ftp://example.invalid/x\"", `notify.webhook[0].url: must be an absolute http:// or https:// URL`, ErrInvalid},
		{"webhook url relative", "[[notify.webhook]]\nurl = \"/hook\"", `notify.webhook[0].url: must be an absolute`, ErrInvalid},
		{"webhook severities", "[[notify.webhook]]\nurl = \"https://x.invalid\"\nseverities = [\"critical\", \"page\"]", `notify.webhook[0].severities[1]: must be one of critical, warning, info; got "page"`, ErrInvalid},
		{"webhook repeat", "[[notify.webhook]]\nurl = \"https://x.invalid\"\nrepeat_interval = \"-1s\"", `notify.webhook[0].repeat_interval: must be >= 0, got -1s`, ErrInvalid},
		{"slack url", "[[notify.slack]]\nurl = \"hooks.slack.com/x\"", `notify.slack[0].url: must be an absolute`, ErrInvalid},
		{"alertmanager url", "[[notify.alertmanager]]\nseverities = []", `notify.alertmanager[0].url: required`, ErrRequired},
		{"email from missing", "[notify.email]\nhost = \"smtp\"\nto = [\"a@b.c\"]", `notify.email.from: required when notify.email.host is set`, ErrRequired},
		{"email to missing", "[notify.email]\nhost = \"smtp\"\nfrom = \"a@b.c\"", `notify.email.to: at least one address is required`, ErrRequired},
		{"email from bad", "[notify.email]\nhost = \"smtp\"\nfrom = \"nobody\"\nto = [\"a@b.c\"]", `notify.email.from: "nobody" is not an email address`, ErrInvalid},
		{"email to bad", "[notify.email]\nhost = \"smtp\"\nfrom = \"a@b.c\"\nto = [\"a@b.c\", \"x\"]", `notify.email.to[1]: "x" is not an email address`, ErrInvalid},
		{"email tls", "[notify.email]\ntls = \"ssl\"", `notify.email.tls: must be one of starttls, tls, none; got "ssl"`, ErrInvalid},
		{"email port", "[notify.email]\nhost = \"smtp\"\nport = 0\nfrom = \"a@b.c\"\nto = [\"a@b.c\"]", `notify.email.port: must be 1..65535, got 0`, ErrInvalid},
		{"email host missing", "[notify.email]\nto = [\"a@b.c\"]", `notify.email.host: required when notify.email.from or to is set`, ErrRequired},
		{"email severities", "[notify.email]\nseverities = [\"x\"]", `notify.email.severities[0]: must be one of`, ErrInvalid},

		// ingest, remote_write
		{"token empty", "[ingest]\ntokens = [\"\"]", `ingest.tokens[0]: must not be empty`, ErrRequired},
		{"token short", "[ingest]\ntokens = [\"0123456789abcdef\", \"short\"]", `ingest.tokens[1]: must be at least 16 characters long`, ErrInvalid},
		{"remote_write url", "[remote_write]\nurl = \"localhost:8428\"", `remote_write.url: must be an absolute http:// or https:// URL`, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadText(t, tt.toml+"\n")
			wantError(t, err, tt.want, tt.sentinel)
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	f := func(text string) {
		t.Helper()
		if _, err := loadText(t, text); err != nil {
			t.Fatalf("unexpected error for\n%s\n%s", text, err)
		}
	}
	f("[server]\nlisten = \":8080\"\n")
	f("[server]\nlisten = \"[::1]:0\"\n")
	f("[server]\ntrusted_proxies = [\"127.0.0.1\", \"::1\", \"10.0.0.0/8\", \"fd00::/8\"]\nsecrets_dir = \"/tmp\"\n")
	f("[storage]\nretention = \"1d\"\n")
	f("[storage]\nmax_series = 1000\n")
	f("[storage]\nmax_series = 100000000\n")
	f("[ui]\nrefresh = \"500ms\"\n")
	f(testRedis + "interval = \"1s\"\ntimeout = \"999ms\"\ndb = 15\n")
	f(testRedis + "interval = \"1s\"\ntimeout = \"1s\"\n") // timeout may equal interval
	f(testRedis + "interval = \"1s\"\n")                   // the default timeout follows a short interval
	f(testRedis + "[[redis.keys]]\nkey = \"config:flags\"\nexpect_exists = true\n[[redis.keys]]\nkey = \"lock\"\nexpect_exists = false\n")
	f("[[redis]]\nname = \"a-b_1\"\naddr = \"redis.internal:6380\"\n")
	f("[[alerts.rules]]\nname = \"r\"\nseries = 'redis_key_length{instance=~\"c.*\",key!=\"x\"}'\nop = \"<=\"\nclear_threshold = 1.5\nfor = \"5m\"\n")
	f("[[alerts.rules]]\nname = \"r\"\nseries = '{__name__=\"up\"}'\n")
	f("[[alerts.rules]]\nname = \"r\"\nexpr = 'redis_memory_used_bytes / redis_memory_max_bytes > 0.9'\nfor = \"5m\"\n")
	f("[[alerts.rules]]\nname = \"r\"\nexpr = 'rate(redis_commands_processed_total[5m])'\nop = \">\"\nthreshold = 1e4\nclear_threshold = 8e3\n")
	f("[[notify.slack]]\nurl = \"http://127.0.0.1:8080/x\"\nchannel = \"#ops\"\n")
	f("[notify.email]\nhost = \"smtp\"\nfrom = \"Redwatch <rw@example.invalid>\"\nto = [\"a@example.invalid\"]\ntls = \"none\"\n")
	f("[ingest]\ntokens = [\"0123456789abcdef\"]\n")
	f("[remote_write]\nurl = \"https://vm.example.invalid/api/v1/write\"\n")
}

func TestValidateCollectsEverything(t *testing.T) {
	c := Default()
	c.Server.Listen = ""
	c.Log.Level = "x"
	c.Redis = append(c.Redis, Redis{Name: "local", Addr: "h:1", Interval: DefaultInterval, Timeout: DefaultRedisTimeout,
		Keys: []Key{{Interval: DefaultInterval}, {Key: "a", Pattern: "b", Interval: DefaultInterval}}})
	c.Alerts.Rules = []Rule{{Name: "r"}}
	err := c.Validate()
	want := []string{
		`server.listen: required: host:port such as "127.0.0.1:8080" or ":8080"`,
		`log.level: must be one of debug, info, warn, error; got "x"`,
		`redis[1].keys[0]: set key (an exact key) or pattern (a glob)`,
		`redis[1].keys[1]: set either key or pattern, not both`,
		`redis[1].name: "local" is also the name of redis[0]`,
		`alerts.rules[0].series: required: a series selector such as redis_up{instance="local"}, or an expr`,
		`alerts.rules[0].aggregate: must be one of last, avg, min, max, rate; got ""`,
		`alerts.rules[0].window: must be > 0, got 0s`,
		`alerts.rules[0].op: must be one of >, >=, <, <=, ==, !=; got ""`,
		`alerts.rules[0].severity: must be one of critical, warning, info; got ""`,
	}
	got := Errors(err)
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(want), err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("error %d = %q; want %q", i, got[i], want[i])
		}
	}
}

func TestEntryValidateAndDefaults(t *testing.T) {
	r := Redis{Name: "ui-made", Addr: "127.0.0.1:6379", Interval: Duration(30 * time.Second),
		Keys: []Key{{Key: "a"}, {Pattern: "b:*"}}}
	r.ApplyDefaults()
	if r.Timeout != DefaultRedisTimeout || r.Keys[0].Interval != r.Interval || r.Keys[1].MaxKeys != DefaultKeyMaxKeys || r.Keys[0].MaxKeys != 0 {
		t.Fatalf("ApplyDefaults: %+v", r)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("Validate: %s", err)
	}
	r.Keys[0].Interval = 0
	if msgs := Errors(r.Validate()); len(msgs) != 1 || msgs[0] != "keys[0].interval: must be >= 1s, got 0s" {
		t.Fatalf("Validate: %q", msgs)
	}

	rule := Rule{Name: "x", Series: "up"}
	rule.ApplyDefaults()
	if rule.Aggregate != "last" || rule.Window != DefaultRuleWindow || rule.Op != ">" || rule.Severity != "warning" {
		t.Fatalf("ApplyDefaults: %+v", rule)
	}
	if err := rule.Validate(); err != nil {
		t.Fatalf("Validate: %s", err)
	}
	rule.Op = "~"
	if err := rule.Validate(); !errors.Is(err, ErrInvalid) || Errors(err)[0] != `op: must be one of >, >=, <, <=, ==, !=; got "~"` {
		t.Fatalf("Validate: %v", err)
	}
}

func TestValidateTLS(t *testing.T) {
	dir := t.TempDir()
	certA, keyA := writeKeyPair(t, dir, "a")
	_, keyB := writeKeyPair(t, dir, "b")

	c := Default()
	c.Server.TLSCert, c.Server.TLSKey = certA, keyA
	if err := c.Validate(); err != nil {
		t.Fatalf("matching key pair: %s", err)
	}
	c.Server.TLSKey = keyB
	err := c.Validate()
	wantError(t, err, "server.tls_cert: cannot load the certificate with server.tls_key", ErrInvalid)
}

// writeKeyPair writes a self-signed certificate and its key as PEM files.
func writeKeyPair(t *testing.T, dir, name string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "redwatch-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath = filepath.Join(dir, name+".crt")
	keyPath = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func TestParseQuietHours(t *testing.T) {
	f := func(s string, from, to int, wantErr bool) {
		t.Helper()
		a, b, err := ParseQuietHours(s)
		if (err != nil) != wantErr || (!wantErr && (a != from || b != to)) {
			t.Fatalf("ParseQuietHours(%q) = %d, %d, %v", s, a, b, err)
		}
	}
	f("22:00-07:00", 22*60, 7*60, false)
	f("09:30 - 17:45", 9*60+30, 17*60+45, false)
	f("22:00", 0, 0, true)
	f("25:00-07:00", 0, 0, true)
	f("08:00-08:00", 0, 0, true)
}

func TestTrustedProxyNets(t *testing.T) {
	s := Server{TrustedProxies: []string{"127.0.0.1", "::1", "10.0.0.0/8"}}
	var got []string
	for _, n := range s.TrustedProxyNets() {
		got = append(got, n.String())
	}
	if want := []string{"127.0.0.1/32", "::1/128", "10.0.0.0/8"}; !slices.Equal(got, want) {
		t.Fatalf("TrustedProxyNets = %v, want %v", got, want)
	}
}
