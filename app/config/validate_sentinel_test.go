package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const testSentinel = "[[redis]]\nname = \"ha\"\nsentinel_addrs = [\"127.0.0.1:26379\", \"10.0.0.2:26379\"]\nmaster_name = \"mymaster\"\n"

func TestSentinelKeysAccepted(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "sentinel.pw")
	if err := os.WriteFile(pwFile, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	c, err := loadText(t, testSentinel+"sentinel_username = \"watcher\"\nsentinel_password_file = \""+pwFile+"\"\npassword = \"data\"\n")
	if err != nil {
		t.Fatalf("unexpected error: %s", err)
	}
	r := c.Redis[0]
	if !r.IsSentinel() || r.Addr != "" || r.MasterName != "mymaster" ||
		!slices.Equal(r.SentinelAddrs, []string{"127.0.0.1:26379", "10.0.0.2:26379"}) {
		t.Fatalf("sentinel keys not loaded: %+v", r)
	}
	if r.SentinelUsername != "watcher" || r.SentinelPassword != "s3cret" || r.Password != "data" {
		t.Fatalf("credentials: username %q, sentinel password %q (want the trimmed file), password %q", r.SentinelUsername, r.SentinelPassword, r.Password)
	}
	// The file's content beside the same password is how Load leaves it: still valid.
	if err := r.Validate(); err != nil {
		t.Fatalf("Validate after Load: %s", err)
	}

	// A UI-made instance goes through the same checks.
	ui := Redis{Name: "ui", SentinelAddrs: []string{"[::1]:26379"}, MasterName: "m", SentinelPassword: "x"}
	ui.ApplyDefaults()
	if err := ui.Validate(); err != nil {
		t.Fatalf("Validate: %s", err)
	}
	// A standalone instance is not a Sentinel one.
	if (&Redis{Addr: "h:1"}).IsSentinel() {
		t.Fatal("IsSentinel without sentinel keys")
	}
}

func TestSentinelKeysRejected(t *testing.T) {
	tests := []struct {
		name     string
		toml     string
		want     string // a substring of exactly one error line
		sentinel error
	}{
		{"addrs without master_name", "[[redis]]\nname = \"ha\"\nsentinel_addrs = [\"127.0.0.1:26379\"]",
			`redis[0].master_name: required with sentinel_addrs`, ErrRequired},
		{"master_name without addrs", "[[redis]]\nname = \"ha\"\nmaster_name = \"mymaster\"",
			`redis[0].sentinel_addrs: required with master_name`, ErrRequired},
		{"master_name with a space", "[[redis]]\nname = \"ha\"\nsentinel_addrs = [\"h:26379\"]\nmaster_name = \"my master\"",
			`redis[0].master_name: "my master" must not contain white space`, ErrInvalid},
		{"sentinel addr not host:port", "[[redis]]\nname = \"ha\"\nsentinel_addrs = [\"h:26379\", \"h\"]\nmaster_name = \"m\"",
			`redis[0].sentinel_addrs[1]: "h" is not host:port such as "10.0.0.1:26379"`, ErrInvalid},
		{"sentinel addr empty", "[[redis]]\nname = \"ha\"\nsentinel_addrs = [\"\"]\nmaster_name = \"m\"",
			`redis[0].sentinel_addrs[0]: required: host:port`, ErrRequired},
		{"sentinel addr twice", "[[redis]]\nname = \"ha\"\nsentinel_addrs = [\"h:26379\", \"h:26379\"]\nmaster_name = \"m\"",
			`redis[0].sentinel_addrs[1]: "h:26379" is also redis[0].sentinel_addrs[0]`, ErrDuplicate},
		{"addr beside sentinel", testSentinel + "addr = \"127.0.0.1:6379\"",
			`redis[0].addr: must be empty with sentinel_addrs`, ErrInvalid},
		{"sentinel_password without sentinel", testRedis + "sentinel_password = \"x\"",
			`redis[0].sentinel_password: applies only with sentinel_addrs and master_name`, ErrInvalid},
		{"sentinel_username without sentinel", testRedis + "sentinel_username = \"x\"",
			`redis[0].sentinel_username: applies only with sentinel_addrs and master_name`, ErrInvalid},
		{"sentinel_password_file missing", testSentinel + "sentinel_password_file = \"/nonexistent/pw\"",
			`redis[0].sentinel_password_file: cannot read "/nonexistent/pw": no such file or directory`, fs.ErrNotExist},
		{"sentinel_addrs not a list", "[[redis]]\nname = \"ha\"\nsentinel_addrs = 5\nmaster_name = \"m\"",
			`redis[0].sentinel_addrs`, ErrWrongType},
		{"sentinel_addrs typo", testSentinel + "sentinel_adrs = [\"h:1\"]",
			`redis[0].sentinel_adrs`, ErrUnknownKey},
		{"sentinel and cluster", testSentinel + "cluster = true",
			`redis[0].cluster: cannot be combined with sentinel_addrs/master_name`, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadText(t, tt.toml+"\n")
			wantError(t, err, tt.want, tt.sentinel)
		})
	}

	// Without Sentinel, addr stays required.
	_, err := loadText(t, "[[redis]]\nname = \"plain\"\n")
	wantError(t, err, `redis[0].addr: required: host:port such as "127.0.0.1:6379"`, ErrRequired)

	// A file beside a different sentinel_password.
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = loadText(t, testSentinel+"sentinel_password = \"two\"\nsentinel_password_file = \""+pwFile+"\"\n")
	wantError(t, err, `redis[0].sentinel_password: set either sentinel_password or sentinel_password_file, not both`, ErrInvalid)
}
