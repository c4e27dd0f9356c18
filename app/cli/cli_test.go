package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/redwatch/redwatch/app/cli"
)

// result is what one cli.Main call produced.
type result struct {
	code           int
	stdout, stderr string
}

// run calls cli.Main with buffers for the streams.
func run(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, cli.IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Env: env})
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// writeFile writes content to a file in a fresh temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodConfig = `
[server]
listen = "127.0.0.1:0"

[storage]
retention = "7d"

[[redis]]
name = "cache"
addr = "127.0.0.1:6379"
interval = "5s"

  [[redis.keys]]
  key = "queue:emails"
  interval = "5s"
`

const badConfig = `
[server]
listen = "no-port-here"
colour = "red"

[[redis]]
name = "cache"
addr = "127.0.0.1:6379"
interval = "5x"
`

// vmFlags are flags VictoriaMetrics registers on flag.CommandLine (the cli package links it in
// through tsdb); none may leak into redwatch's help.
var vmFlags = []string{"memory.allowedBytes", "memory.allowedPercent", "loggerLevel", "dedup", "storageDataPath", "retentionPeriod"}

func TestCommands(t *testing.T) {
	good := writeFile(t, "good.toml", goodConfig)
	bad := writeFile(t, "bad.toml", badConfig)

	type check func(t *testing.T, r result)
	stdoutHas := func(subs ...string) check {
		return func(t *testing.T, r result) {
			t.Helper()
			for _, s := range subs {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
		}
	}
	stdoutLacks := func(subs ...string) check {
		return func(t *testing.T, r result) {
			t.Helper()
			for _, s := range subs {
				if strings.Contains(r.stdout, s) {
					t.Errorf("stdout contains %q:\n%s", s, r.stdout)
				}
			}
		}
	}
	stderrHas := func(subs ...string) check {
		return func(t *testing.T, r result) {
			t.Helper()
			for _, s := range subs {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
		}
	}
	// stderrLines asserts that each want is exactly one whole line of stderr.
	stderrLines := func(want ...string) check {
		return func(t *testing.T, r result) {
			t.Helper()
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			for _, w := range want {
				n := 0
				for _, l := range lines {
					if strings.HasPrefix(l, w) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("want exactly one stderr line starting with %q, got %d:\n%s", w, n, r.stderr)
				}
			}
		}
	}

	tests := []struct {
		name   string
		args   []string
		stdin  string
		env    []string
		code   int
		checks []check
	}{
		{
			name: "version",
			args: []string{"version"},
			code: 0,
			checks: []check{stdoutHas("redwatch ", "commit ", runtime.Version()), func(t *testing.T, r result) {
				if n := strings.Count(r.stdout, "\n"); n != 3 {
					t.Errorf("version prints %d lines, want 3:\n%s", n, r.stdout)
				}
			}},
		},
		{
			name:   "--help",
			args:   []string{"--help"},
			code:   0,
			checks: []check{stdoutHas("--config", "--listen", "--data", "check-config", "hash-password"), stdoutLacks(vmFlags...)},
		},
		{
			name:   "-h",
			args:   []string{"-h"},
			code:   0,
			checks: []check{stdoutHas("--config", "--listen", "--data"), stdoutLacks(vmFlags...)},
		},
		{
			name:   "help command",
			args:   []string{"help"},
			code:   0,
			checks: []check{stdoutHas("--config", "--listen", "--data"), stdoutLacks(vmFlags...)},
		},
		{
			name:   "serve --help",
			args:   []string{"serve", "--help"},
			code:   0,
			checks: []check{stdoutHas("--config", "--listen", "--data"), stdoutLacks(vmFlags...)},
		},
		{
			name:   "check-config --help",
			args:   []string{"check-config", "--help"},
			code:   0,
			checks: []check{stdoutHas("--config"), stdoutLacks(vmFlags...)},
		},
		{
			name:   "unknown command",
			args:   []string{"frobnicate"},
			code:   2,
			checks: []check{stderrHas(`unknown command "frobnicate"`, "--config")},
		},
		{
			name:   "unknown flag",
			args:   []string{"--frobnicate"},
			code:   2,
			checks: []check{stderrHas("frobnicate")},
		},
		{
			name:   "VictoriaMetrics flag is not ours",
			args:   []string{"check-config", "-loggerLevel=ERROR"},
			code:   2,
			checks: []check{stderrHas("loggerLevel")},
		},
		{
			name:   "unexpected argument",
			args:   []string{"check-config", "--config", good, "extra"},
			code:   2,
			checks: []check{stderrHas(`unexpected argument "extra"`)},
		},
		{
			name:   "check-config good",
			args:   []string{"check-config", "--config", good},
			code:   0,
			checks: []check{stdoutHas("configuration OK")},
		},
		{
			name:   "check-config good with --config=",
			args:   []string{"check-config", "--config=" + good},
			code:   0,
			checks: []check{stdoutHas("configuration OK")},
		},
		{
			name:   "check-config without a file uses the defaults",
			args:   []string{"check-config"},
			code:   0,
			checks: []check{stdoutHas("configuration OK")},
		},
		{
			name: "check-config every error on its own line",
			args: []string{"check-config", "--config", bad},
			code: 2,
			checks: []check{
				stderrLines(`redis[0].interval: "5x" is not a duration`, "server.colour: ", "server.listen: "),
				stdoutLacks("configuration OK"),
			},
		},
		{
			name: "check-config alert rule series not a selector",
			args: []string{"check-config", "--config", writeFile(t, "series.toml",
				"[[alerts.rules]]\nname = \"ok\"\nseries = \"up\"\n[[alerts.rules]]\nname = \"r\"\nseries = \"rate(up[5m])\"\n")},
			code: 2,
			checks: []check{
				stderrLines(`alerts.rules[1].series: "rate(up[5m])" is not a series selector`),
				stdoutLacks("configuration OK"),
			},
		},
		{
			name: "check-config expr rules: a good one passes, a bad one names its expr",
			args: []string{"check-config", "--config", writeFile(t, "expr.toml",
				"[[alerts.rules]]\nname = \"ok\"\nexpr = \"rate(up[5m]) > 1\"\n[[alerts.rules]]\nname = \"r\"\nexpr = \"rate(up[5m]\"\n")},
			code: 2,
			checks: []check{
				stderrHas(`alerts.rules[1].expr: not a valid MetricsQL expression: `),
				stdoutLacks("configuration OK"),
			},
		},
		{
			name:   "check-config expr rule",
			args:   []string{"check-config", "--config", writeFile(t, "expr-ok.toml", "[[alerts.rules]]\nname = \"ok\"\nexpr = 'sum(rate(up[5m])) by (instance) > 1'\n")},
			checks: []check{stdoutHas("configuration OK")},
		},
		{
			name:   "check-config missing file",
			args:   []string{"check-config", "--config", filepath.Join(t.TempDir(), "nope.toml")},
			code:   2,
			checks: []check{stderrHas("nope.toml", "cannot read config file")},
		},
		{
			name:   "check-config TOML syntax error",
			args:   []string{"check-config", "--config", writeFile(t, "syntax.toml", "[server\nlisten = 1\n")},
			code:   2,
			checks: []check{stderrHas("syntax.toml:")},
		},
		{
			name:   "env: unknown variable",
			args:   []string{"check-config", "--config", good},
			env:    []string{"REDWATCH_SERVER__LISTN=x"},
			code:   2,
			checks: []check{stderrHas("REDWATCH_SERVER__LISTN")},
		},
		{
			name:   "env: bad value",
			args:   []string{"check-config"},
			env:    []string{"REDWATCH_STORAGE__RETENTION=5x"},
			code:   2,
			checks: []check{stderrHas("storage.retention", "REDWATCH_STORAGE__RETENTION")},
		},
		{
			name:   "env: admin password and foreign variables are not errors",
			args:   []string{"check-config"},
			env:    []string{"REDWATCH_ADMIN_PASSWORD=secret", "HOME=/root", "PATH=/bin"},
			code:   0,
			checks: []check{stdoutHas("configuration OK")},
		},
		{
			name:   "flag overrides a bad env listen",
			args:   []string{"check-config", "--listen", "127.0.0.1:9"},
			env:    []string{"REDWATCH_SERVER__LISTEN=nonsense"},
			code:   0,
			checks: []check{stdoutHas("configuration OK")},
		},
		{
			name:   "bad --listen",
			args:   []string{"check-config", "--listen", "nonsense"},
			code:   2,
			checks: []check{stderrHas("server.listen: ")},
		},
		{
			name:  "hash-password empty",
			args:  []string{"hash-password"},
			stdin: "\n",
			code:  2,
			checks: []check{stderrHas("empty"), func(t *testing.T, r result) {
				if r.stdout != "" {
					t.Errorf("stdout: %q, want nothing", r.stdout)
				}
			}},
		},
		{
			name:  "hash-password no input",
			args:  []string{"hash-password"},
			stdin: "",
			code:  2,
		},
		{
			name:   "hash-password too long",
			args:   []string{"hash-password"},
			stdin:  strings.Repeat("x", 73) + "\n",
			code:   2,
			checks: []check{stderrHas("72")},
		},
		{
			name:  "hash-password takes no arguments",
			args:  []string{"hash-password", "secret-pass"},
			stdin: "secret-pass\n",
			code:  2,
		},
		{
			name:   "serve with a bad config starts nothing",
			args:   []string{"serve", "--config", bad, "--data", filepath.Join(t.TempDir(), "data")},
			code:   2,
			checks: []check{stderrLines(`redis[0].interval: "5x" is not a duration`)},
		},
		{
			name:   "default command is serve",
			args:   []string{"--config", bad},
			code:   2,
			checks: []check{stderrLines(`redis[0].interval: "5x" is not a duration`)},
		},
		{
			name:   "serve with a bad env",
			args:   []string{"serve"},
			env:    []string{"REDWATCH_SERVER__LISTN=x"},
			code:   2,
			checks: []check{stderrHas("REDWATCH_SERVER__LISTN")},
		},
		{
			name:   "serve with an unknown flag",
			args:   []string{"serve", "--frobnicate"},
			code:   2,
			checks: []check{stderrHas("frobnicate")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.stdin, tt.env, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, c := range tt.checks {
				c(t, r)
			}
		})
	}
}

func TestServeBadConfigCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	bad := writeFile(t, "bad.toml", badConfig)
	r := run(t, "", nil, "serve", "--config", bad, "--data", data)
	if r.code != 2 {
		t.Fatalf("exit code %d, want 2; stderr:\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("serve with a bad config touched the data directory: %v", err)
	}
}

func TestHashPassword(t *testing.T) {
	for _, stdin := range []string{"secret-pass\n", "secret-pass\r\n", "secret-pass"} {
		r := run(t, stdin, nil, "hash-password")
		if r.code != 0 {
			t.Fatalf("stdin %q: exit code %d, stderr:\n%s", stdin, r.code, r.stderr)
		}
		if !strings.HasSuffix(r.stdout, "\n") || strings.Count(r.stdout, "\n") != 1 {
			t.Fatalf("stdin %q: want the hash on one line, got %q", stdin, r.stdout)
		}
		hash := strings.TrimSuffix(r.stdout, "\n")
		if !strings.HasPrefix(hash, "$2") {
			t.Fatalf("stdin %q: not a bcrypt hash: %q", stdin, hash)
		}
		if strings.Contains(r.stdout+r.stderr, "secret-pass") {
			t.Fatalf("stdin %q: the password is echoed", stdin)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("secret-pass")); err != nil {
			t.Fatalf("stdin %q: hash does not match the password: %s", stdin, err)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("secret-pass\n")); err == nil {
			t.Fatalf("stdin %q: the newline was hashed", stdin)
		}
		if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost < bcrypt.DefaultCost {
			t.Fatalf("stdin %q: cost %d (%v), want >= %d", stdin, cost, err, bcrypt.DefaultCost)
		}
	}
}

func TestAgentCommand(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        []string
		code       int
		stdoutHas  []string
		stdoutNot  []string
		stderrHas  []string
		stderrNot  []string
		stderrOnly bool // stderr has nothing but "redwatch agent: " lines
	}{
		{
			name:      "--help lists only the agent's flags",
			args:      []string{"agent", "--help"},
			code:      0,
			stdoutHas: []string{"redwatch agent --hub URL --token T", "--hub", "--token", "--interval", "REDWATCH_AGENT_TOKEN", "--log-level", "--log-format"},
			stdoutNot: append([]string{"--config", "--listen", "--data"}, vmFlags...),
		},
		{
			name:       "no --hub",
			args:       []string{"agent", "--token", "agent-token-0123456789"},
			code:       2,
			stderrHas:  []string{"--hub is required"},
			stderrNot:  []string{"--token", "agent-token-0123456789"},
			stderrOnly: true,
		},
		{
			name:      "nothing at all names both required flags",
			args:      []string{"agent"},
			code:      2,
			stderrHas: []string{"--hub is required", "--token is required", "REDWATCH_AGENT_TOKEN"},
		},
		{
			name:       "token from the environment",
			args:       []string{"agent"},
			env:        []string{"REDWATCH_AGENT_TOKEN=agent-token-0123456789"},
			code:       2,
			stderrHas:  []string{"--hub is required"},
			stderrNot:  []string{"--token"},
			stderrOnly: true,
		},
		{
			name:      "bad --hub",
			args:      []string{"agent", "--hub", "hub.example:8080", "--token", "t"},
			code:      2,
			stderrHas: []string{"--hub: ", "hub.example:8080", "http://"},
		},
		{
			name:      "bad --interval",
			args:      []string{"agent", "--hub", "http://hub:8080", "--token", "t", "--interval", "5x"},
			code:      2,
			stderrHas: []string{`--interval: "5x" is not a duration`},
		},
		{
			name:      "too short --interval",
			args:      []string{"agent", "--hub", "http://hub:8080", "--token", "t", "--interval", "100ms"},
			code:      2,
			stderrHas: []string{"--interval: must be at least 1s"},
		},
		{
			name:      "bad --log-level and --log-format",
			args:      []string{"agent", "--hub", "http://hub:8080", "--token", "t", "--log-level", "loud", "--log-format", "xml"},
			code:      2,
			stderrHas: []string{"--log-level: ", "loud", "--log-format: ", "xml"},
		},
		{
			name:      "unknown flag",
			args:      []string{"agent", "--config", "x.toml"},
			code:      2,
			stderrHas: []string{"unknown flag: --config", "--hub"},
		},
		{
			name:      "unexpected argument",
			args:      []string{"agent", "--hub", "http://hub:8080", "--token", "t", "extra"},
			code:      2,
			stderrHas: []string{`unexpected argument "extra"`},
		},
		{
			name:      "listed in the main help",
			args:      []string{"--help"},
			code:      0,
			stdoutHas: []string{"redwatch agent --hub URL --token T"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.env, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, s := range tt.stdoutHas {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.stdoutNot {
				if strings.Contains(r.stdout, s) {
					t.Errorf("stdout contains %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.stderrHas {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			for _, s := range tt.stderrNot {
				if strings.Contains(r.stderr, s) {
					t.Errorf("stderr contains %q:\n%s", s, r.stderr)
				}
			}
			if tt.stderrOnly {
				for _, l := range strings.Split(strings.TrimRight(r.stderr, "\n"), "\n") {
					if !strings.HasPrefix(l, "redwatch agent: ") {
						t.Errorf("stderr line %q is not an error message:\n%s", l, r.stderr)
					}
				}
			}
		})
	}
}
