package web

import (
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redwatch/redwatch/tsdb"
)

// TestLongRangeChartsShowNewestData drives the instance page of a store 10 minutes old in
// headless chromium: at 7 and 30 days (steps of 20 and 75 minutes) the ops chart draws the
// newest samples instead of "No data", and a tail load replaces the newest, unfinished step
// instead of adding a point per load.
func TestLongRangeChartsShowNewestData(t *testing.T) {
	t.Parallel()
	tab := newBrowserTab(t, 60*time.Second)
	e := newEnv(t)
	e.fill()
	now := time.Now()
	var samples []tsdb.Sample
	for ts := now.Add(-10 * time.Minute); !ts.After(now); ts = ts.Add(10 * time.Second) {
		samples = append(samples, tsdb.Sample{Name: "redis_ops_per_second", Labels: []tsdb.Label{{Name: "instance", Value: "cache"}}, Timestamp: ts.UnixMilli(), Value: 1000 + 10*math.Mod(float64(ts.Unix()), 7)})
	}
	if err := e.db.Write(samples); err != nil {
		t.Fatal(err)
	}
	e.db.Flush()
	eval := func(what, js string) string {
		t.Helper()
		var s string
		tab.eval(what, js, &s)
		return s
	}
	wait := func(what, js string) {
		t.Helper()
		tab.waitJS(what, js, 10*time.Second, chartState)
	}
	tab.login(e.ts.URL+"/login?next="+url.QueryEscape("/redis/cache?range=7d"), "viewer", viewerPass, `[data-testid="ops-chart"]`)
	for i, r := range []string{"7d", "30d"} {
		if i > 0 { // the login went on to the first
			tab.run(r, chromedp.Navigate(e.ts.URL+"/redis/cache?range="+r), chromedp.WaitVisible(chromedp.CSS(`[data-testid="ops-chart"]`)))
		}
		wait(r+": ops chart ready", opsChart+`.el.dataset.chartReady === 'true' && !`+opsChart+`.inflight`)
		t.Logf("%s: step %s s", r, eval("step", opsChart+`.step`))
		if got := eval("points", opsChart+`.el.dataset.points`); got == "0" {
			t.Fatalf("%s: the chart of a store 10 minutes old draws no points: %s", r, eval("message", opsChart+`.msg.textContent`))
		}
		if fresh := eval("age", `Date.now() / 1000 - `+opsChart+`.lastTs < 30`); fresh != "true" {
			t.Fatalf("%s: newest point from %s, want the newest samples (10 s apart): %s", r, eval("newest", opsChart+`.lastTs`), eval("state", chartState))
		}
		first := eval("newest", opsChart+`.lastTs`)
		// A tail load once the browser's clock is past that second: the newest step moves with
		// the end of the range.
		wait(r+": a second later", `Date.now() / 1000 >= `+first+` + 1`)
		eval("tail load", `(() => { const c = `+opsChart+`; c.loadedAt = 0; c.tick(); return true })()`)
		wait(r+": tail loaded", `!`+opsChart+`.inflight && `+opsChart+`.lastTs > `+first)
		if off := eval("off-grid points", `(() => { const c = `+opsChart+`; let n = 0; c.series.forEach(s => s.points.forEach((_, ts) => { if (ts % c.step !== 0) n++; })); return n })()`); off != "1" {
			t.Fatalf("%s: %s points off the step grid after a tail load, want 1 (the newest, unfinished step): %s", r, off, eval("state", chartState))
		}
	}
}

const opsChart = `document.querySelector('[data-testid="ops-chart"]').__redwatchChart`

const chartState = `(() => { const c = ` + opsChart + `; return JSON.stringify({step: c.step, lastTs: c.lastTs, lastGridTs: c.lastGridTs, msg: c.msg.textContent, points: [...c.series.values()].map(s => [...s.points.keys()].slice(-4))}) })()`
