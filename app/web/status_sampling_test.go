package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// phasedRedis is a fakeRedis whose samplers also report their phases, as *redis.Manager does.
type phasedRedis struct {
	fakeRedis
	phases []redis.InstancePhases
}

var _ samplerPhases = (*phasedRedis)(nil)

func (f *phasedRedis) Phases() []redis.InstancePhases { return f.phases }

// TestStatusSamplingTable: /status shows, per Redis sampler, each phase that ran with its last,
// mean and max duration, interval, runs and overruns (a badge when some); an instance whose
// phases have not run yet has no rows; the part polls on its own as ?fragment=status-sampling.
func TestStatusSamplingTable(t *testing.T) {
	t.Parallel()
	src := &phasedRedis{phases: []redis.InstancePhases{
		{Name: "cache", Phases: []redis.PhaseStat{
			{Phase: redis.PhaseInfo, Last: 2 * time.Millisecond, Max: 9 * time.Millisecond, Total: 12 * time.Millisecond, Runs: 4, Interval: 10 * time.Second},
			{Phase: redis.PhaseKeys, Last: 1500 * time.Millisecond, Max: 3 * time.Second, Total: 4500 * time.Millisecond, Runs: 3, Overruns: 2, Interval: time.Second},
			{Phase: redis.PhaseScan, Last: 40 * time.Millisecond, Max: 40 * time.Millisecond, Total: 40 * time.Millisecond, Runs: 1, Interval: 2 * time.Minute},
		}},
		{Name: "fresh"}, // started, nothing ran yet
		{Name: "queue", Phases: []redis.PhaseStat{
			{Phase: redis.PhaseInfo, Last: 300 * time.Microsecond, Max: 300 * time.Microsecond, Total: 300 * time.Microsecond, Runs: 1, Interval: 5 * time.Second},
		}},
	}}
	e := newStatusEnv(t, newStatusStore(nil), healthyDisk, func(o *Options) { o.Redis = src })
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/status", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /status: %d", res.StatusCode)
	}
	doc := parse(t, body)
	panel := one(t, doc, "status-sampling")
	if got := attr(panel, "hx-get"); got != "/status?fragment=status-sampling" {
		t.Errorf("sampling part polls %q", got)
	}
	samplers := find(panel, "sampler")
	var names []string
	for _, s := range samplers {
		names = append(names, attr(s, "data-sampler"))
	}
	if want := []string{"redis:cache", "redis:queue"}; !slices.Equal(names, want) {
		t.Fatalf("samplers %q, want %q", names, want)
	}
	cache := samplers[0]
	var phases []string
	for _, r := range find(cache, "sampler-phase") {
		phases = append(phases, attr(r, "data-phase"))
	}
	if want := []string{"info", "keys", "scan"}; !slices.Equal(phases, want) {
		t.Fatalf("redis:cache phases %q, want %q", phases, want)
	}
	keys := oneWith(t, cache, "sampler-phase", "data-phase", "keys")
	for id, want := range map[string]string{
		"phase-last": "1.5s", "phase-mean": "1.5s", "phase-max": "3s", "phase-interval": "1s",
		"phase-runs": "3", "phase-overruns": "2",
	} {
		if got := text(one(t, keys, id)); got != want {
			t.Errorf("keys %s %q, want %q", id, got, want)
		}
	}
	if len(findTag(one(t, keys, "phase-overruns"), "span")) == 0 {
		t.Error("2 overruns are not shown as a badge")
	}
	info := oneWith(t, cache, "sampler-phase", "data-phase", "info")
	if got := text(one(t, info, "phase-overruns")); got != "0" || len(findTag(one(t, info, "phase-overruns"), "span")) != 0 {
		t.Errorf("info overruns %q, want a plain 0", got)
	}
	if got := text(one(t, info, "phase-mean")); got != "3ms" {
		t.Errorf("info mean %q, want 3ms (12ms over 4 runs)", got)
	}
	if got := text(one(t, oneWith(t, samplers[1], "sampler-phase", "data-phase", "info"), "phase-last")); got != "300µs" {
		t.Errorf("queue info last %q, want 300µs", got)
	}

	// The fragment answers with only this part.
	res, body = e.do(c, "GET", "/status?fragment=status-sampling", nil, "HX-Request: true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("fragment status-sampling: %d", res.StatusCode)
	}
	d := assertFragment(t, body, "status-sampling")
	if len(find(d, "sampler")) != 2 || len(find(d, "status-summary")) != 0 || len(find(d, "status-requests")) != 0 {
		t.Errorf("fragment status-sampling holds more or less than the table:\n%s", body)
	}
}

// TestStatusSamplingEmpty: without phases (a RedisSource that has none, or no sampler has
// run) the table says so instead of showing rows.
func TestStatusSamplingEmpty(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]RedisSource{"no phases": &fakeRedis{}, "none ran": &phasedRedis{phases: []redis.InstancePhases{{Name: "a"}}}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newStatusEnv(t, newStatusStore(nil), healthyDisk, func(o *Options) { o.Redis = src })
			res, body := e.do(e.login("viewer", viewerPass), "GET", "/status?fragment=status-sampling", nil, "HX-Request: true")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET: %d", res.StatusCode)
			}
			d := parse(t, body)
			one(t, d, "sampling-empty")
			if len(find(d, "sampler-phase")) != 0 {
				t.Error("rows without phases")
			}
		})
	}
}

// TestStatusSamplingInBrowser: in chromium the sampling table shows every phase row, and at
// 390 and 1440 px nothing of /status sticks out of the viewport (the table scrolls in its
// wrapper). With E2E_ARTIFACTS set it saves the page at both widths.
func TestStatusSamplingInBrowser(t *testing.T) {
	t.Parallel()
	tab := newBrowserTab(t, 60*time.Second)
	var phases []redis.InstancePhases
	for _, name := range []string{"cache", "sessions-" + strings.Repeat("long-name-", 4) + "end", "queue"} {
		phases = append(phases, redis.InstancePhases{Name: name, Phases: []redis.PhaseStat{
			{Phase: redis.PhaseInfo, Last: 2 * time.Millisecond, Max: 9 * time.Millisecond, Total: 12 * time.Millisecond, Runs: 4, Interval: 10 * time.Second},
			{Phase: redis.PhaseKeys, Last: 1500 * time.Millisecond, Max: 3 * time.Second, Total: 4500 * time.Millisecond, Runs: 3, Overruns: 1234, Interval: time.Second},
			{Phase: redis.PhaseScan, Last: 40 * time.Millisecond, Max: 40 * time.Millisecond, Total: 40 * time.Millisecond, Runs: 1, Interval: 2 * time.Minute},
		}})
	}
	e := newStatusEnv(t, newStatusStore(nil), healthyDisk, func(o *Options) {
		o.Redis = &phasedRedis{phases: phases}
		o.Refresh = browserRefresh
	})
	tab.login(e.ts.URL+"/login?next=/status", "viewer", viewerPass, `[data-testid="sampler-phase"]`)
	for _, width := range []int64{390, 1440} {
		tab.run("viewport", chromedp.EmulateViewport(width, 900), chromedp.Navigate(e.ts.URL+"/status"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="sampler-phase"]`)))
		var rows float64
		tab.eval("rows", `document.querySelectorAll('[data-testid="sampler-phase"]').length`, &rows)
		if rows != 9 {
			t.Errorf("%d phase rows at %d px, want 9", int(rows), width)
		}
		var s string
		tab.eval("layout", layoutCheckJS, &s)
		var lay struct {
			Width, Scroll int
			Bad           []string
		}
		if err := json.Unmarshal([]byte(s), &lay); err != nil {
			t.Fatalf("layout: %v: %q", err, s)
		}
		if lay.Scroll > lay.Width || len(lay.Bad) > 0 {
			t.Errorf("/status at %d px: scroll width %d of %d, sticking out: %q", width, lay.Scroll, lay.Width, lay.Bad)
		}
		tab.screenshot(fmt.Sprintf("status-sampling-%d", width))
	}
}
