package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/tsdb"
)

// A 70 KB key appearing under a watched pattern, a 70 KB stream group name and a 70 KB client
// name (which crashed redwatch within 3 s: "BUG: s len 65536 cannot exceed 65535") leave the
// process running and healthy; /api/keys shows the key in full and its series are stored under
// the shortened label, found by the full name, across a restart.
func TestLongRedisNamesKeepRunning(t *testing.T) {
	srv := redistest.Start(t)
	longKey := "x:" + strings.Repeat("a", 70_000)
	group := strings.Repeat("g", 70_000)
	clientName := "n" + strings.Repeat("c", 70_000)
	srv.Do("xadd", "events", "*", "f", "v")
	srv.Do("xgroup", "create", "events", group, "0")
	named := srv.Client()
	defer named.Close()
	if err := named.Do(t.Context(), "client", "setname", clientName).Err(); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`[system]
enabled = false
[[redis]]
name = "main"
addr = %q
interval = "1s"
timeout = "500ms"
  [[redis.keys]]
  key = "events"
  interval = "1s"
  [[redis.keys]]
  pattern = "x:*"
  interval = "1s"
  scan_interval = "1s"
`, srv.Addr())
	in := start(t, cfg, "REDWATCH_ADMIN_PASSWORD="+e2ePassword)
	srv.Do("rpush", longKey, "1", "2", "3")

	type apiKey struct {
		Key      string `json:"key"`
		KeyLabel string `json:"key_label"`
		Length   int64  `json:"length"`
		Groups   []struct {
			Name string `json:"name"`
		} `json:"groups"`
	}
	keys := func() map[string]apiKey {
		var body struct {
			Keys []apiKey `json:"keys"`
		}
		if code := in.getJSON(t, "/api/keys", &body); code != 200 {
			t.Fatalf("/api/keys: %d", code)
		}
		m := map[string]apiKey{}
		for _, k := range body.Keys {
			m[k.Key] = k
		}
		return m
	}
	eventually(t, 10*time.Second, "the 70 KB key sampled", func() (bool, string) {
		k, ok := keys()[longKey]
		return ok && k.Length == 3, fmt.Sprintf("found %v, length %d", ok, k.Length)
	})
	if k := keys()[longKey]; k.KeyLabel != tsdb.LabelValue(longKey) {
		t.Errorf("key_label: %d bytes, want the %d-byte stored label", len(k.KeyLabel), len(tsdb.LabelValue(longKey)))
	}
	if g := keys()["events"].Groups; len(g) != 1 || g[0].Name != group {
		t.Errorf("stream groups: %d", len(g))
	}

	// Several rounds later (the crash came within 3 s) it still runs and answers health checks.
	time.Sleep(4 * time.Second)
	select {
	case err := <-in.done:
		t.Fatalf("redwatch exited: %v", err)
	default:
	}
	for _, path := range []string{"/health/", "/health/ready/"} {
		res, err := http.Get(in.base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
	}

	// Stored under the shortened labels; the full names select them.
	query := func(sel string) []map[string]string {
		t.Helper()
		var body struct {
			Data []map[string]string `json:"data"`
		}
		if code := in.getJSON(t, "/api/v1/series?match[]="+url.QueryEscape(sel), &body); code != 200 {
			t.Fatalf("series %.40s...: %d", sel, code)
		}
		return body.Data
	}
	for _, c := range []struct{ sel, label, full string }{
		{`redis_key_length{key=` + strconv.Quote(longKey) + `}`, "key", longKey},
		{`redis_stream_group_pending{group=` + strconv.Quote(group) + `}`, "group", group},
		{`redis_clients_by_name{client_name=` + strconv.Quote(clientName) + `}`, "client_name", clientName},
	} {
		got := query(c.sel)
		if len(got) != 1 || got[0][c.label] != tsdb.LabelValue(c.full) || !strings.Contains(got[0][c.label], "…[sha256:") {
			t.Errorf("%.40s...: %d series (want 1 with the shortened %s)", c.sel, len(got), c.label)
		}
	}
	in.stop(t)

	// The crash came again after every restart; now a restart samples the key again under the
	// same stored label (one series, its digest is stable).
	in = restart(t, in.cmd.Args[len(in.cmd.Args)-1])
	eventually(t, 10*time.Second, "the 70 KB key sampled after a restart", func() (bool, string) {
		k, ok := keys()[longKey]
		return ok && k.Length == 3, fmt.Sprintf("found %v, length %d", ok, k.Length)
	})
	time.Sleep(2 * time.Second)
	select {
	case err := <-in.done:
		t.Fatalf("restarted redwatch exited: %v", err)
	default:
	}
	if got := query(`redis_key_length{key=` + strconv.Quote(longKey) + `}`); len(got) != 1 {
		t.Errorf("after a restart: %d series of the long key, want the same one", len(got))
	}
	in.stop(t)
}
