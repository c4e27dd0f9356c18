package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// layoutCheckJS reports what sticks out of the viewport: the page's scroll width and the
// visible elements whose box crosses either edge and that no clipping or scrolling ancestor inside the
// viewport holds (a scrollable table is fine).
const layoutCheckJS = `(() => {
  const w = document.documentElement.clientWidth, bad = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || (r.right <= w + 1 && r.left >= -1) || !el.checkVisibility({visibilityProperty: true})) continue;
    let held = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX, pr = p.getBoundingClientRect();
      if (ox !== 'visible' && pr.right <= w + 1 && pr.left >= -1) { held = true; break; }
    }
    if (!held) bad.push(el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') + (el.dataset.testid ? '[' + el.dataset.testid + ']' : '') + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
  }
  return JSON.stringify({width: w, scroll: document.documentElement.scrollWidth, bad: bad.slice(0, 8)});
})()`

// TestPagesLayoutInBrowser drives /keys (list and grouped), /keys/{id}, /hosts,
// /hosts/{host}, /settings and /status in chromium: the grouped keys show the right counts and
// sums, pattern keys are collapsed under their pattern, the hosts table shows a host_* pusher
// and a Telegraf pusher with their values, and at 390, 768 and 1440 px no element sticks out
// of the viewport (scrollable tables aside) while a key's name and length stay visible on a
// phone. With E2E_ARTIFACTS set it saves every page light, dark and at 390 px.
func TestPagesLayoutInBrowser(t *testing.T) {
	t.Parallel()
	tab := newBrowserTab(t, 90*time.Second)
	e := newEnvWith(t, envOptions{mod: func(o *Options) { o.Refresh = browserRefresh }})
	now := time.Now()
	k := func(name, typ string, length, mem int64, pattern string) redis.KeySnapshot {
		s := key("cache", name, typ, length)
		s.MemoryBytes, s.Pattern = mem, pattern
		return s
	}
	long := k("app:cache:"+strings.Repeat("very-long-segment-", 8)+"end", "string", 400, 2048, "")
	keys := []redis.KeySnapshot{
		k("app:cache:a", "list", 1, 1000, ""), k("app:cache:b", "list", 2, 2000, ""), long,
		k("app:cfg", "hash", 5, 500, ""), k("queue:emails", "list", 10, 100, ""), k("plain", "set", 7, 70, ""),
		k("session:1", "hash", 3, 30, "session:*"), k("session:2", "hash", 4, 40, "session:*"),
	}
	missing := key("cache", "queue:gone", "none", 0)
	missing.Exists, missing.HasLength = false, false
	keys = append(keys, missing)
	e.fill()
	e.redis.set(e.redis.Instances(), keys, []redis.PatternSnapshot{{Instance: "cache", Pattern: "session:*", Matched: 2, Tracked: 2, MaxKeys: 1000, LengthSum: 7, LastScan: now}})
	for i := range keys[:6] {
		writeKeyTrend(t, e.db, now, &keys[i], float64(keys[i].Length)/2, float64(keys[i].Length))
	}
	e.writeHost("testhost", now, 30)
	e.writeHost("agent-1", now, 30)
	if err := e.db.Write(telegrafRounds("tg-1", now, 30)); err != nil {
		t.Fatal(err)
	}
	e.db.Flush()
	base := e.ts.URL
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	evalJSON := func(what, js string, out any) {
		t.Helper()
		var s string
		tab.eval(what, js, &s)
		if err := json.Unmarshal([]byte(s), out); err != nil {
			t.Fatalf("%s: %s: %q", what, err, s)
		}
	}

	tab.login(base+"/login?next=/keys", "admin", adminPass, `[data-testid="key-row"]`)

	// The list: exact keys, pattern keys collapsed under their pattern.
	var list struct {
		Rows      []string
		Collapsed string
		PatLink   string
	}
	evalJSON("list", `JSON.stringify({rows: [...document.querySelectorAll('[data-testid="key-name"]')].map(e => e.textContent.trim()),
	  collapsed: document.querySelector('[data-testid="key-collapsed"]')?.textContent.trim(),
	  patLink: document.querySelector('[data-testid="pattern-keys"]')?.getAttribute('href')})`, &list)
	if len(list.Rows) != 7 || strings.Contains(strings.Join(list.Rows, " "), "session:") || list.Collapsed != "+ 2 under patterns" {
		t.Errorf("list rows %q, collapsed %q: want the 7 exact keys and 2 collapsed", list.Rows, list.Collapsed)
	}
	tab.run("pattern keys", chromedp.Navigate(base+list.PatLink), chromedp.WaitVisible(css(`[data-testid="key-pattern-filter"]`)))
	evalJSON("pattern rows", `JSON.stringify({rows: [...document.querySelectorAll('[data-testid="key-name"]')].map(e => e.textContent.trim())})`, &list)
	if strings.Join(list.Rows, ",") != "session:1,session:2" {
		t.Errorf("the pattern's keys %q", list.Rows)
	}

	// Grouped: counts and sums per namespace, pattern first, closed until opened.
	tab.run("tree", chromedp.Navigate(base+"/keys?view=tree"), chromedp.WaitVisible(css(`[data-testid="key-tree"]`)))
	var groups []string
	evalJSON("groups", `JSON.stringify([...document.querySelectorAll('[data-testid="key-group"]')].map(g => [g.dataset.prefix, g.querySelector('details').open,
	  ...['group-keys', 'group-length', 'group-memory'].map(id => g.querySelector('[data-testid="' + id + '"]').textContent.trim())].join(' ')))`, &groups)
	want := []string{"session:* false 2 7 70 B", "app: false 4 408 5.4 KiB", "app:cache: false 3 403 4.9 KiB", "queue: false 2 10 100 B"}
	if strings.Join(groups, "|") != strings.Join(want, "|") {
		t.Errorf("groups\n%q\nwant\n%q", groups, want)
	}
	tab.run("open app:", chromedp.Click(css(`[data-prefix="app:"] > details > summary`)), chromedp.WaitVisible(css(`[data-prefix="app:cache:"] > details > summary`)))
	tab.screenshot("ui-keys-tree-open")

	// Hosts: this host, an agent and a Telegraf pusher with their figures.
	tab.run("hosts", chromedp.Navigate(base+"/hosts"), chromedp.WaitVisible(css(`[data-testid="host-row"][data-host="tg-1"]`)))
	var hosts []string
	evalJSON("hosts", `JSON.stringify([...document.querySelectorAll('[data-testid="host-row"]')].map(r => [r.dataset.host, r.dataset.source,
	  ...['host-source', 'cpu-percent', 'mem-percent', 'disk-percent', 'load', 'net-rx'].map(id => r.querySelector('[data-testid="' + id + '"]').textContent.trim()),
	  r.querySelector('[data-testid="host-cpu-spark"]').dataset.points > 1].join(' ')))`, &hosts)
	wantHosts := []string{
		"testhost agent this host 12.5% 25.0% 70.0% 0.50 · 0.25 · 0.12 ↓ 293 KiB/s true",
		"agent-1 agent agent 12.5% 25.0% 70.0% 0.50 · 0.25 · 0.12 ↓ 293 KiB/s true",
		"tg-1 telegraf Telegraf 40.0% 50.0% 81.5% 1.50 · 1.25 · 1.00 ↓ 9.8 KiB/s true",
	}
	if strings.Join(hosts, "|") != strings.Join(wantHosts, "|") {
		t.Errorf("hosts\n%q\nwant\n%q", hosts, wantHosts)
	}

	pages := []struct{ name, path, ready string }{
		{"keys", "/keys", `[data-testid="key-row"]`},
		{"keys-tree", "/keys?view=tree", `[data-testid="key-tree"]`},
		{"key-detail", "/keys/" + redis.KeyID("cache", 0, "queue:emails"), `[data-testid="key-live"]`},
		{"hosts", "/hosts", `[data-testid="host-row"]`},
		{"host-detail", "/hosts/tg-1", `[data-testid="host-charts"]`},
		{"settings", "/settings", `main h1`},
		{"status", "/status", `main h1`},
	}
	for _, width := range []int64{1440, 768, 390} {
		tab.run("viewport", chromedp.EmulateViewport(width, 900))
		for _, p := range pages {
			tab.run(p.name, chromedp.Navigate(base+p.path), chromedp.WaitVisible(css(p.ready)))
			var lay struct {
				Width, Scroll int
				Bad           []string
			}
			evalJSON(p.name+" layout", layoutCheckJS, &lay)
			if lay.Scroll > lay.Width || len(lay.Bad) > 0 {
				t.Errorf("%s at %d px: scroll width %d of %d, sticking out: %q", p.name, width, lay.Scroll, lay.Width, lay.Bad)
			}
			switch width {
			case 1440:
				tab.screenshot("ui-" + p.name + "-light")
			case 390:
				tab.screenshot("ui-" + p.name + "-390")
			}
		}
	}
	// At 390 px a key's name and length are on screen.
	tab.run("keys 390", chromedp.Navigate(base+"/keys"), chromedp.WaitVisible(css(`[data-testid="key-row"]`)))
	var seen string
	tab.eval("name and length visible", `(() => { const r = document.querySelector('[data-testid="key-row"]'), w = document.documentElement.clientWidth;
	  return ['key-name', 'key-length'].map(id => { const b = r.querySelector('[data-testid="' + id + '"]').getBoundingClientRect(); return id + ':' + (b.width > 0 && b.left >= 0 && b.right <= w) }).join(' ') })()`, &seen)
	if seen != "key-name:true key-length:true" {
		t.Errorf("at 390 px: %s", seen)
	}
	// The custom range form, open, fits too.
	tab.run("custom range", chromedp.Click(css(`[data-testid="range-custom"] > summary`)), chromedp.WaitVisible(css(`[data-testid="range-form"]`)))
	var lay struct {
		Width, Scroll int
		Bad           []string
	}
	evalJSON("custom range layout", layoutCheckJS, &lay)
	if lay.Scroll > lay.Width || len(lay.Bad) > 0 {
		t.Errorf("the open custom range at 390 px: scroll width %d of %d, sticking out: %q", lay.Scroll, lay.Width, lay.Bad)
	}
	tab.run("viewport", chromedp.EmulateViewport(1440, 900))
	tab.eval("dark", `document.querySelector('[data-theme-toggle]').click(); 1`, nil)
	for _, p := range pages {
		tab.run(p.name+" dark", chromedp.Navigate(base+p.path), chromedp.WaitVisible(css(p.ready)))
		tab.screenshot("ui-" + p.name + "-dark")
	}
}
