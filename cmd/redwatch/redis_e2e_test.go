package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/internal/testutil"
)

const e2ePassword = "e2e-password-123"

// getJSON fetches path with HTTP Basic as admin and decodes the JSON body into v; it returns
// the status code.
func (in *instance) getJSON(t *testing.T, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", in.base+path, nil)
	req.SetBasicAuth("admin", e2ePassword)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %d %v: %s", path, res.StatusCode, err, b)
		}
	}
	return res.StatusCode
}

// eventually is testutil.Eventually polling every 200 ms: the conditions of these tests ask
// the real binary (pages, exports) or a browser, which a 10 ms poll would load.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	testutil.EventuallyEvery(t, within, 200*time.Millisecond, what, cond)
}

type apiInstance struct {
	Name     string `json:"name"`
	Up       bool   `json:"up"`
	Error    string `json:"error"`
	Version  string `json:"version"`
	Clients  []any  `json:"clients"`
	Keyspace []struct {
		DB   int   `json:"db"`
		Keys int64 `json:"keys"`
	} `json:"keyspace"`
}

type apiKeys struct {
	Keys []struct {
		ID, Key, Type, Instance string
		Exists                  bool
		Length                  int64
		MemoryBytes             int64 `json:"memory_bytes"`
	} `json:"keys"`
	Patterns []struct {
		Pattern     string
		MatchedKeys int64 `json:"matched_keys"`
		TrackedKeys int   `json:"tracked_keys"`
	} `json:"patterns"`
}

// TestRedisWatchedEndToEnd runs the binary against a real redis-server with an ACL user: the
// instance, its keys and a pattern are sampled, stored and served (JSON, health, /metrics,
// pages in chromium); a killed server goes down and comes back without a restart, logged once
// per state change; a wrong password is reported as such.
func TestRedisWatchedEndToEnd(t *testing.T) {
	srv := redistest.Start(t, "--user", "watcher", "on", ">watch-pw", "~*", "&*", "+@all")
	hostile := "<img src=x onerror=alert(1)>"
	srv.Do("rpush", "queue:emails", "a", "b", "c")
	srv.Do("rpush", hostile, "x")
	for i := range 5 {
		srv.Do("set", fmt.Sprintf("session:%d", i), "v", "EX", 3600)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("watch-pw\n"), 0o600)
	cfg := fmt.Sprintf(`[system]
enabled = false
[ui]
refresh = "500ms"
[[redis]]
name = "main"
addr = %q
username = "watcher"
password_file = %q
interval = "1s"
timeout = "500ms"
  [[redis.keys]]
  key = "queue:emails"
  interval = "1s"
  [[redis.keys]]
  key = %q
  [[redis.keys]]
  pattern = "session:*"
  max_keys = 2
  scan_interval = "1s"
[[redis]]
name = "badauth"
addr = %q
username = "watcher"
password = "wrong"
interval = "1s"
timeout = "500ms"
`, srv.Addr(), pwFile, hostile, srv.Addr())
	in := start(t, cfg, "REDWATCH_ADMIN_PASSWORD="+e2ePassword)

	instances := func() map[string]apiInstance {
		var list []apiInstance
		if code := in.getJSON(t, "/api/instances", &list); code != 200 {
			t.Fatalf("/api/instances: %d", code)
		}
		m := map[string]apiInstance{}
		for _, i := range list {
			m[i.Name] = i
		}
		return m
	}
	eventually(t, 10*time.Second, "main up with clients and keyspace", func() (bool, string) {
		m := instances()["main"]
		return m.Up && m.Version != "" && len(m.Clients) > 0 && len(m.Keyspace) == 1 && m.Keyspace[0].Keys == 7, fmt.Sprintf("%+v", m)
	})
	if b := instances()["badauth"]; b.Up || !strings.Contains(b.Error, "authentication") {
		t.Fatalf("badauth: %+v", b)
	}
	var h map[string]any
	if code := in.getJSON(t, "/health/redis/main/", &h); code != 200 || h["status"] != "up" {
		t.Fatalf("/health/redis/main: %d %v", code, h)
	}
	if code := in.getJSON(t, "/health/redis/badauth", &h); code != 503 {
		t.Fatalf("/health/redis/badauth: %d %v", code, h)
	}
	if code := in.getJSON(t, "/health/redis/nope", nil); code != 404 {
		t.Fatalf("/health/redis/nope: %d", code)
	}

	keys := func() apiKeys {
		var k apiKeys
		if code := in.getJSON(t, "/api/keys", &k); code != 200 {
			t.Fatalf("/api/keys: %d", code)
		}
		return k
	}
	length := func(k apiKeys, name string) int64 {
		for _, key := range k.Keys {
			if key.Key == name {
				return key.Length
			}
		}
		return -1
	}
	eventually(t, 10*time.Second, "keys sampled", func() (bool, string) {
		k := keys()
		ok := length(k, "queue:emails") == 3 && length(k, hostile) == 1 && len(k.Patterns) == 1 && k.Patterns[0].MatchedKeys == 5 && k.Patterns[0].TrackedKeys == 2
		return ok, fmt.Sprintf("%+v", k)
	})
	srv.Do("rpush", "queue:emails", "d")
	eventually(t, 5*time.Second, "queue length follows", func() (bool, string) {
		k := keys()
		return length(k, "queue:emails") == 4, fmt.Sprint(length(k, "queue:emails"))
	})

	// Stored (rows become searchable a few seconds after they are written): the key's series
	// answers a range query.
	var qr struct {
		Data struct {
			Result []struct {
				Metric map[string]string
				Values [][]any
			}
		}
	}
	eventually(t, 15*time.Second, "key series stored", func() (bool, string) {
		q := "/api/v1/query_range?query=" + url.QueryEscape(`redis_key_length{instance="main",key="queue:emails"}`) + "&step=1s&start=" + fmt.Sprint(time.Now().Add(-time.Minute).Unix()) + "&end=" + fmt.Sprint(time.Now().Unix())
		code := in.getJSON(t, q, &qr)
		ok := code == 200 && len(qr.Data.Result) == 1 && len(qr.Data.Result[0].Values) >= 2 && qr.Data.Result[0].Metric["type"] == "list"
		return ok, fmt.Sprintf("%d %+v", code, qr)
	})

	// The hostile key's series is stored under its exact name.
	var series struct{ Data []map[string]string }
	if code := in.getJSON(t, "/api/v1/series?match[]="+url.QueryEscape(`redis_key_length{key=~".*onerror.*"}`), &series); code != 200 || len(series.Data) != 1 || series.Data[0]["key"] != hostile {
		t.Fatalf("hostile key series: %d %+v", code, series)
	}

	// The browser: the overview card, the instance page and the keys page, live.
	ctx := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(in.base+"/login"),
		chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
		chromedp.SendKeys(css(`[data-testid="login-username"]`), "admin"),
		chromedp.SendKeys(css(`[data-testid="login-password"]`), e2ePassword),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="instance-card"][data-instance="main"]`)),
	)
	if err != nil {
		t.Fatalf("overview: %s", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('[data-testid="instance-card"][data-instance="main"] [data-testid="instance-status"]') || {}).textContent || ""`)) // one script: the card is swapped live
	if err != nil || !strings.Contains(strings.ToLower(status), "up") {
		t.Fatalf("main card status %q %v", status, err)
	}
	screenshot(t, ctx, "overview-redis")

	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/redis/main"), chromedp.WaitVisible(css(`[data-testid="client-row"]`))); err != nil {
		t.Fatalf("/redis/main: %s", err)
	}
	screenshot(t, ctx, "redis-instance")

	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/keys"), chromedp.WaitVisible(css(`[data-testid="key-row"]`))); err != nil {
		t.Fatalf("/keys: %s", err)
	}
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="key-name"]')].map(e => e.textContent.trim())`))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, hostile) {
		t.Fatalf("hostile key not shown as text among %q", names)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('img[src="x"]').length`)); err != nil || n != 0 {
		t.Fatalf("hostile key became markup: %d %v", n, err)
	}
	// The table is live: a push shows up without a reload.
	srv.Do("rpush", "queue:emails", "e")
	eventually(t, 5*time.Second, "keys page shows the new length", func() (bool, string) {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('[data-testid="key-row"]')].filter(r => r.querySelector('[data-testid="key-name"]').textContent.trim() === "queue:emails").map(r => r.querySelector('[data-testid="key-length"]').textContent.trim()).join()`))
		return err == nil && s == "5", s
	})
	screenshot(t, ctx, "keys")

	// Redis goes away: down within an interval or two, logged once, back without a restart.
	srv.Kill()
	eventually(t, 4*time.Second, "main down", func() (bool, string) {
		code := in.getJSON(t, "/health/redis/main", &h)
		return code == 503, fmt.Sprint(code, h)
	})
	time.Sleep(3 * time.Second) // several down rounds and retries
	srv.Restart()
	eventually(t, 20*time.Second, "main up again", func() (bool, string) {
		code := in.getJSON(t, "/health/redis/main", &h)
		return code == 200, fmt.Sprint(code, h)
	})
	in.stop(t)
	logs, _ := os.ReadFile(in.logs.Name())
	if n := countLogs(logs, "redis down", "main"); n != 1 {
		t.Fatalf("%d \"redis down\" lines for main, want 1 (once per state change)", n)
	}
	if n := countLogs(logs, "redis up again", "main"); n != 1 {
		t.Fatalf("%d \"redis up again\" lines for main, want 1", n)
	}
}

// countLogs counts JSON log lines with this msg and instance.
func countLogs(logs []byte, msg, instance string) int {
	n := 0
	for _, line := range strings.Split(string(logs), "\n") {
		var l struct{ Msg, Instance string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == msg && l.Instance == instance {
			n++
		}
	}
	return n
}
