package cli_test

import (
	"strings"
	"testing"
)

// TestCheckConfigShortInterval: a Redis sampled every 1s or 2s without a timeout checks OK
// (the timeout defaults to min(2s, interval)); timeout = interval is OK; timeout > interval
// exits 2 naming redis[0].timeout.
func TestCheckConfigShortInterval(t *testing.T) {
	f := func(body string, code int, stderr string) {
		t.Helper()
		cfg := writeFile(t, "redwatch.toml", "[[redis]]\nname = \"cache\"\naddr = \"127.0.0.1:6379\"\n"+body)
		r := run(t, "", nil, "check-config", "--config", cfg)
		if r.code != code || !strings.Contains(r.stderr, stderr) {
			t.Fatalf("%q: exit %d (want %d)\nstdout: %s\nstderr: %s", body, r.code, code, r.stdout, r.stderr)
		}
		if code == 0 && !strings.Contains(r.stdout, "configuration OK") {
			t.Fatalf("%q: stdout %q", body, r.stdout)
		}
	}
	f(`interval = "1s"`, 0, "")
	f(`interval = "2s"`, 0, "")
	f("interval = \"1s\"\ntimeout = \"1s\"", 0, "")
	f("interval = \"1s\"\ntimeout = \"2s\"", 2, "redis[0].timeout: must not exceed interval (1s), got 2s")
}
