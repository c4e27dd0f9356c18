package web

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redwatch/redwatch/tsdb"
)

// writeHostSeries stores an hour of load and disk samples of host "testhost": the load
// averages and two mounts.
func writeHostSeries(t *testing.T, e *env, now time.Time) {
	t.Helper()
	var samples []tsdb.Sample
	add := func(name string, ts time.Time, v float64, lbl ...tsdb.Label) {
		samples = append(samples, tsdb.Sample{Name: name, Labels: append([]tsdb.Label{{Name: "host", Value: "testhost"}}, lbl...), Timestamp: ts.UnixMilli(), Value: v})
	}
	for ts := now.Add(-time.Hour); !ts.After(now); ts = ts.Add(10 * time.Second) {
		add("host_load1", ts, 1.5)
		add("host_load5", ts, 1.2)
		add("host_load15", ts, 0.9)
		add("host_disk_usage_percent", ts, 41, tsdb.Label{Name: "mount", Value: "/"})
		add("host_disk_usage_percent", ts, 73, tsdb.Label{Name: "mount", Value: "/var/lib/redis"})
		add("host_memory_used_bytes", ts, 3<<30)
		add("host_memory_total_bytes", ts, 16<<30)
	}
	if err := e.db.Write(samples); err != nil {
		t.Fatal(err)
	}
	e.db.Flush()
}

// contrastJS computes, from the page's computed styles, the WCAG contrast ratio of every
// visible element matched by the selector against the first opaque background behind it, and
// returns those under min as "selector text: ratio" lines ("" when all pass).
const contrastJS = `(function (sel, min) {
  function rgb(s) { const m = s.match(/[\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; }
  function lum(c) { const a = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]; }
  function bg(el) { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.length < 4 || c[3] > 0.5) return c; } return [255, 255, 255, 1]; }
  const bad = [];
  document.querySelectorAll(sel).forEach(el => {
    if (!el.offsetParent && el.tagName !== 'BODY') return;
    const fg = rgb(getComputedStyle(el).color), b = bg(el);
    const l1 = lum(fg), l2 = lum(b), r = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    if (r < min) bad.push(sel + ' "' + el.textContent.trim().slice(0, 30) + '": ' + r.toFixed(2));
  });
  return bad.join('\n');
})`

// overflowJS lists the elements wider than the viewport or reaching past its right edge,
// outside horizontally scrollable boxes (tables scroll inside their wrapper) and closed
// disclosures.
const overflowJS = `(function () {
  const w = document.documentElement.clientWidth, bad = [];
  function scrolls(el) { for (el = el.parentElement; el; el = el.parentElement) { const o = getComputedStyle(el).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; }
  document.querySelectorAll('body *').forEach(el => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || (r.right <= w + 1 && r.width <= w + 1)) return;
    if (scrolls(el)) return;
    if (el.closest('details:not([open])') && !el.closest('summary')) return; // not shown
    bad.push(el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? '.' + String(el.className).split(' ').join('.') : '') + ' ' + Math.round(r.right) + '>' + w);
  });
  return bad.slice(0, 10).join('\n') + (document.documentElement.scrollWidth > w ? '\nscrollWidth ' + document.documentElement.scrollWidth : '');
})()`

// TestDashboardCraftBrowser drives the pages of the dashboard's shared chrome in headless
// chromium at 1440, 768 and 390 px, light and dark: chart legends are label values (load
// 1m/5m/15m, the mounts, memory used with a dashed total), the overview's first panel is the
// alerts panel, text, buttons and badges meet WCAG AA contrast in both themes, the nav stays
// on one line, and nothing is wider than a phone. Screenshots go to $E2E_ARTIFACTS when set.
func TestDashboardCraftBrowser(t *testing.T) {
	t.Parallel()
	tab := newBrowserTab(t, 90*time.Second)
	e := newEnvWith(t, envOptions{mod: func(o *Options) { o.Refresh = browserRefresh }})
	e.fill()
	now := time.Now()
	writeRedisSeries(t, e, now)
	writeHostSeries(t, e, now)
	base := e.ts.URL
	chartsReady := `[...document.querySelectorAll('[data-chart]')].every(c => c.dataset.chartReady === 'true')`
	setWidth := func(w int64) {
		t.Helper()
		tab.run(fmt.Sprint("width ", w), chromedp.EmulateViewport(w, 900))
		// The charts have followed the new width (their resize is debounced).
		tab.waitJS(fmt.Sprint("charts at ", w), `redwatch.charts().every(c => !c.plot || Math.abs(c.plot.width - Math.max(50, c.el.clientWidth)) < 2)`, 5*time.Second, `location.href`)
	}
	setTheme := func(theme string) {
		t.Helper()
		var ok bool
		tab.eval("theme "+theme, `localStorage.setItem('redwatch-theme', '`+theme+`'); document.documentElement.setAttribute('data-theme', '`+theme+`'); true`, &ok)
	}
	legend := func(id string) string {
		t.Helper()
		var s string
		tab.eval("legend "+id, `[...document.querySelectorAll('[data-testid="`+id+`"] .u-legend .u-label')].map(l => l.textContent).join(" / ")`, &s)
		return s
	}
	check := func(page, theme string, w int64) {
		t.Helper()
		var bad string
		for _, c := range []struct {
			sel string
			min float64
		}{{"body", 4.5}, {"p, dd, dt, td, th, .muted, label, summary", 4.5}, {"button, .button, .button-primary", 4.5}, {".badge", 4.5}, {".nav a", 4.5}, {"a", 4.5}} {
			var s string
			tab.eval("contrast", contrastJS+`('`+c.sel+`', `+fmt.Sprint(c.min)+`)`, &s)
			if s != "" {
				bad += s + "\n"
			}
		}
		if bad != "" {
			t.Errorf("%s %s %dpx: under WCAG AA contrast:\n%s", page, theme, w, bad)
		}
		var over string
		tab.eval("overflow", overflowJS, &over)
		if strings.TrimSpace(over) != "" {
			t.Errorf("%s %s %dpx: wider than the viewport:\n%s", page, theme, w, over)
		}
		var navLines float64
		tab.eval("nav", `(() => { const n = document.querySelectorAll('.nav > ul > li'); return new Set([...n].map(li => Math.round(li.getBoundingClientRect().top))).size })()`, &navLines)
		if page != "login" && navLines != 1 {
			t.Errorf("%s %s %dpx: the nav takes %v lines", page, theme, w, navLines)
		}
		tab.screenshot(fmt.Sprintf("craft-%s-%s-%d", page, theme, w))
	}

	tab.run("login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-hint"]`)))
	for _, theme := range []string{"light", "dark"} {
		setTheme(theme)
		for _, w := range []int64{1440, 390} {
			setWidth(w)
			check("login", theme, w)
		}
	}
	setTheme("light")
	setWidth(1440)
	tab.login(base+"/login?next=/hosts/testhost", "admin", adminPass, `[data-testid="chart-load"] canvas`)
	tab.waitJS("host charts", chartsReady, 10*time.Second, `location.href`)
	tab.screenshot("craft-host-light-1440")
	if got := legend("chart-load"); got != "1m / 5m / 15m" {
		t.Errorf("load legend %q; want 1m / 5m / 15m", got)
	}
	if got := legend("chart-disk-usage"); got != "/ / /var/lib/redis" {
		t.Errorf("disk legend %q; want the mounts", got)
	}
	if got := legend("chart-memory"); got != "total 16.0 GiB / used" {
		t.Errorf("host memory legend %q; want total / used", got)
	}
	var dash string
	tab.eval("limit", `(() => { const u = document.querySelector('[data-testid="chart-memory"]').__redwatchChart.plot; return JSON.stringify([u.series[1].dash, u.scales.y.max < 16 * 2**30]) })()`, &dash)
	if dash != "[[6,4],true]" {
		t.Errorf("host memory: the total is not a dashed line above the axis: %s", dash)
	}

	pages := []struct{ name, path, ready string }{
		{"overview", "/", `[data-testid="overview-alerts"]`},
		{"alerts", "/alerts", `[data-testid="alerts-live"]`},
		{"redis", "/redis/cache", `[data-testid="ops-chart"] canvas`},
		{"status", "/status", `main`},
	}
	for _, p := range pages {
		tab.run(p.name, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		if strings.Contains(p.ready, "chart") {
			tab.waitJS(p.name+" charts", chartsReady, 10*time.Second, `location.href`)
		}
		if p.name == "overview" {
			var first string
			tab.eval("first panel", `document.querySelector('main .section').dataset.testid`, &first)
			if first != "overview-alerts" {
				t.Errorf("the overview's first panel is %q; want the alerts", first)
			}
		}
		if p.name == "redis" {
			if got := legend("memory-chart"); got != "maxmemory 1.0 GiB / used" {
				t.Errorf("memory legend %q", got)
			}
			if got := legend("network-chart"); got != "in / out" {
				t.Errorf("network legend %q", got)
			}
			var sync string
			tab.eval("sync", `redwatch.charts().map(c => c.plot.cursor.sync && c.plot.cursor.sync.key).join(",")`, &sync)
			if sync == "" || strings.Count(sync, "redwatch") != len(strings.Split(sync, ",")) {
				t.Errorf("charts do not share a crosshair: %q", sync)
			}
		}
		if p.name == "status" {
			// ISO UTC times in titles read as the local time, then UTC.
			var title string
			tab.eval("uptime title", `document.querySelector('[data-testid="status-uptime"]').title`, &title)
			if !regexp.MustCompile(`^started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)$`).MatchString(title) {
				t.Errorf("uptime title %q; want the local time and UTC", title)
			}
		}
		for _, theme := range []string{"light", "dark"} {
			setTheme(theme)
			for _, w := range []int64{1440, 768, 390} {
				setWidth(w)
				check(p.name, theme, w)
			}
			setWidth(1440)
		}
		setTheme("light")
	}
}
