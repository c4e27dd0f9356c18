package main

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/redistest"
)

// TestDashboardEndToEnd drives the real binary, watching a real redis-server, from headless
// chromium: an admin logs in, adds a key from /settings, sees its value appear and then change
// on /keys without a reload, opens its chart, changes the range (the URL follows); a key named
// like markup renders as text; a viewer cannot reach settings; the key survives a restart.
// Screenshots of the main pages go to $E2E_ARTIFACTS.
func TestDashboardEndToEnd(t *testing.T) {
	srv := redistest.Start(t)
	const hostile = "<img src=x onerror=alert(1)>"
	adminHash, err := auth.HashPassword(e2ePassword)
	if err != nil {
		t.Fatal(err)
	}
	viewerHash, err := auth.HashPassword("viewer-password-123")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`[system]
interval = "1s"
[ui]
refresh = "500ms"
[[auth.users]]
name = "admin"
password_hash = %q
role = "admin"
[[auth.users]]
name = "viewer"
password_hash = %q
role = "viewer"
[[redis]]
name = "main"
addr = %q
interval = "1s"
timeout = "500ms"
`, adminHash, viewerHash, srv.Addr())
	in := start(t, cfg)
	cfgPath := filepath.Join(filepath.Dir(in.logs.Name()), "redwatch.toml")

	ctx := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	js := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	// tryJS is js for a page that may be navigating (the range picker loads a new URL): an
	// evaluation cut by the navigation is "not yet" for eventually, which reports it on timeout.
	tryJS := func(expr string) string {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			return "evaluate: " + err.Error()
		}
		return v
	}
	login := func(user, pass string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(in.base+"/login"),
			chromedp.WaitVisible(css(`[data-testid="login-form"]`)),
			chromedp.SendKeys(css(`[data-testid="login-username"]`), user),
			chromedp.SendKeys(css(`[data-testid="login-password"]`), pass),
			chromedp.Click(css(`[data-testid="login-submit"]`)),
			chromedp.WaitVisible(css(`[data-testid="instance-card"][data-instance="main"]`)),
		)
		if err != nil {
			t.Fatalf("login as %s: %s", user, err)
		}
	}
	login("admin", e2ePassword)
	screenshot(t, ctx, "overview")

	// /settings: add two keys to the config-file instance "main" (read-only itself).
	addKey := func(key string) {
		t.Helper()
		form := `document.querySelector('[data-testid="add-key-form"][data-instance="main"]')`
		err := chromedp.Do(ctx,
			chromedp.Navigate(in.base+"/settings"),
			chromedp.WaitReady(css(`[data-testid="add-key-form"][data-instance="main"]`)),
		)
		if err != nil {
			t.Fatalf("/settings: %s", err)
		}
		js(`(() => { const f = ` + form + `; const d = f.closest('details'); if (d) d.open = true;
			f.querySelector('[name="kind"]').value = 'key';
			f.querySelector('[name="key"]').value = ` + strconv.Quote(key) + `;
			f.querySelector('[name="interval"]').value = '1s';
			f.requestSubmit(); return 'ok' })()`)
		err = chromedp.Do(ctx, chromedp.WaitVisible(css(`[data-testid="settings-notice"]`)))
		if err != nil {
			t.Fatalf("adding %q: no notice: %s", key, err)
		}
	}
	if src := js(`document.querySelector('[data-testid="settings-instance"][data-instance="main"]')?.dataset.source || ''`); src != "" && src != "config" {
		t.Fatalf("main shows source %q, want config", src)
	}
	addKey("jobs:pending")
	addKey(hostile)
	keys := js(`[...document.querySelectorAll('[data-testid="settings-key"]')].map(e => e.dataset.source + ':' + e.dataset.key).join('|')`)
	if !strings.Contains(keys, "ui:jobs:pending") || !strings.Contains(keys, "ui:"+hostile) {
		t.Fatalf("settings keys after adding: %q", keys)
	}
	if n := js(`String(document.querySelectorAll('img[src="x"]').length)`); n != "0" {
		t.Fatalf("hostile key became markup on /settings: %s img", n)
	}
	if n := js(`String(document.querySelectorAll('[data-testid="settings-instance"][data-instance="main"] [data-testid="delete-instance"]').length)`); n != "0" {
		t.Fatalf("config instance has %s delete controls", n)
	}
	screenshot(t, ctx, "settings")

	// /keys: the new key's value appears, then changes without a reload.
	srv.Do("rpush", "jobs:pending", "a", "b")
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/keys?q=jobs"), chromedp.WaitVisible(css(`[data-testid="key-row"]`))); err != nil {
		t.Fatalf("/keys: %s", err)
	}
	js(`window.__noReload = 'still here'`)
	rowLength := func() string {
		return js(`[...document.querySelectorAll('[data-testid="key-row"]')].filter(r => r.querySelector('[data-testid="key-name"]').textContent.trim() === "jobs:pending").map(r => r.querySelector('[data-testid="key-length"]').textContent.trim()).join()`)
	}
	eventually(t, 10*time.Second, "jobs:pending length 2 on /keys", func() (bool, string) {
		l := rowLength()
		return l == "2", l
	})
	srv.Do("rpush", "jobs:pending", "c", "d", "e")
	eventually(t, 10*time.Second, "jobs:pending length 5 without reload", func() (bool, string) {
		l := rowLength()
		return l == "5", l
	})
	if v := js(`window.__noReload || ''`); v != "still here" {
		t.Fatal("the keys page reloaded instead of updating in place")
	}
	screenshot(t, ctx, "keys")

	// The hostile key is text on /keys.
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/keys?q=onerror"), chromedp.WaitVisible(css(`[data-testid="key-row"]`))); err != nil {
		t.Fatalf("/keys?q=onerror: %s", err)
	}
	if name := js(`document.querySelector('[data-testid="key-name"]').textContent.trim()`); name != hostile {
		t.Fatalf("hostile key shown as %q", name)
	}
	if n := js(`String(document.querySelectorAll('img[src="x"]').length)`); n != "0" {
		t.Fatalf("hostile key became markup on /keys: %s img", n)
	}

	// Its chart: open the key page from the table, see points, change the range.
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/keys?q=jobs"), chromedp.WaitVisible(css(`[data-testid="key-row"] a`))); err != nil {
		t.Fatal(err)
	}
	js(`document.querySelector('[data-testid="key-row"] a[href^="/keys/"]').click(), 'ok'`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(css(`[data-testid="key-detail-name"]`))); err != nil {
		t.Fatalf("key page: %s", err)
	}
	if name := js(`document.querySelector('[data-testid="key-detail-name"]').textContent.trim()`); name != "jobs:pending" {
		t.Fatalf("key page for %q", name)
	}
	eventually(t, 20*time.Second, "key chart has points", func() (bool, string) {
		s := js(`(() => { const c = document.querySelector('[data-chart]'); return c ? (c.dataset.chartReady || '') + '/' + (c.dataset.points || '') : 'no chart' })()`)
		ready, points, _ := strings.Cut(s, "/")
		n, _ := strconv.Atoi(points)
		return ready == "true" && n > 0, s
	})
	screenshot(t, ctx, "key-detail")
	keyPath := js(`location.pathname`)
	js(`document.querySelector('[data-testid="range-picker"] [data-range-key="6h"]').click(), 'ok'`)
	eventually(t, 10*time.Second, "URL carries the range", func() (bool, string) {
		s := tryJS(`location.pathname + location.search`)
		return strings.HasPrefix(s, keyPath) && strings.Contains(s, "range=6h"), s
	})
	eventually(t, 10*time.Second, "chart redrawn for 6h", func() (bool, string) {
		s := tryJS(`(() => { const c = document.querySelector('[data-chart]'); return c ? c.dataset.range + '/' + (c.dataset.chartReady || '') : 'no chart' })()`)
		return s == "21600/true", s
	})

	// The other pages render; screenshots for a look by eye.
	var host string
	for _, p := range []struct{ path, ready, name string }{
		{"/redis/main", `[data-testid="client-row"]`, "redis-instance"},
		{"/hosts", `[data-testid="host-row"]`, "hosts"},
		{"/status", `[data-testid="status-requests"]`, "status"},
		{"/alerts", `main`, "alerts"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(in.base+p.path), chromedp.WaitVisible(css(p.ready))); err != nil {
			t.Fatalf("%s: %s", p.path, err)
		}
		screenshot(t, ctx, p.name)
		if p.name == "hosts" {
			host = js(`document.querySelector('[data-testid="host-row"]').dataset.host`)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/hosts/"+url.PathEscape(host)), chromedp.WaitVisible(css(`[data-chart-ready="true"]`))); err != nil {
		t.Fatalf("/hosts/%s: %s", host, err)
	}
	screenshot(t, ctx, "host-detail")

	// A viewer sees no settings link and gets 403 on the page and on a form post.
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/"), chromedp.WaitVisible(css(`[data-testid="logout"]`))); err != nil {
		t.Fatal(err)
	}
	js(`document.querySelector('[data-testid="logout"]').closest('form').requestSubmit(), 'ok'`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(css(`[data-testid="login-form"]`))); err != nil {
		t.Fatalf("logout: %s", err)
	}
	login("viewer", "viewer-password-123")
	if n := js(`String(document.querySelectorAll('a[href="/settings"]').length)`); n != "0" {
		t.Fatalf("viewer sees %s settings links", n)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('/settings', {credentials: 'same-origin'}).then(r => String(r.status))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != "403" {
		t.Fatalf("viewer GET /settings: %s", status)
	}
	for _, path := range []string{"/settings", "/settings/redis"} {
		req, _ := http.NewRequest("POST", in.base+path, strings.NewReader("name=x"))
		req.SetBasicAuth("viewer", "viewer-password-123")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("viewer POST %s: %d, want 403", path, res.StatusCode)
		}
	}

	// A restart keeps the keys added from the browser, and samples them again.
	in.stop(t)
	in = restart(t, cfgPath)
	var k apiKeys
	eventually(t, 15*time.Second, "UI key sampled after restart", func() (bool, string) {
		if code := in.getJSON(t, "/api/keys", &k); code != 200 {
			return false, fmt.Sprint(code)
		}
		for _, key := range k.Keys {
			if key.Key == "jobs:pending" && key.Length == 5 {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", k.Keys)
	})
	in.stop(t)
}
