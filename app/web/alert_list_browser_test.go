package web

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redwatch/redwatch/tsdb"
)

// TestAlertsBrowser drives /alerts in headless chromium: the live part picks up a new alert
// without a reload, the hostile label stays text, and an admin silences an alert through the
// Silence link and the form. Screenshots go to $E2E_ARTIFACTS when set.
func TestAlertsBrowser(t *testing.T) {
	t.Parallel()
	tab := newBrowserTab(t, 60*time.Second)
	ctx := tab.ctx
	e := newAlertsEnv(t, failingNotifiers(time.Now()))
	e.restart(func(o *Options) { o.Refresh = browserRefresh })
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	hostileRow := `[data-testid="alert-row"][data-rule="QueueLong"]:has([data-label="q"][title*="img"])`

	tab.login(e.ts.URL+"/login?next=/alerts", "admin", adminPass, `[data-testid="alerts-live"]`)
	// A script run by the hostile label would call alert(); count the calls.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.__alerts = 0; window.alert = function () { window.__alerts++ }; 1`)); err != nil {
		t.Fatal(err)
	}
	tab.screenshot("alerts")

	// QueueLong's two alerts are one card, closed; opened, it lists them.
	qlGroup := `[data-testid="alert-group"][data-rule="QueueLong"]`
	tab.run("open group",
		chromedp.WaitVisible(css(qlGroup+`[data-firing="2"] details:not([open])`)),
		clickPolled(qlGroup+` summary`),
		chromedp.WaitVisible(css(hostileRow)),
	)

	// A new alert shows up on the next poll, without a reload; the opened card stays open
	// across the poll (it is a new element: its count changed), the others stay closed.
	if err := e.db.Write([]tsdb.Sample{{Name: "queue_len", Labels: []tsdb.Label{{Name: "q", Value: "c"}}, Timestamp: e.t0.Add(19 * time.Second).UnixMilli(), Value: 9}}); err != nil {
		t.Fatal(err)
	}
	if err := e.engine.Evaluate(context.Background(), e.t0.Add(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	tab.run("poll",
		chromedp.WaitVisible(css(qlGroup+`[data-firing="3"] details[open] [data-testid="alert-row"]:has([data-label="q"][title='q="c"'])`)),
		chromedp.WaitVisible(css(`[data-testid="alert-group"][data-rule="QueueBadSummary"][data-firing="3"] details:not([open])`)),
	)
	// Several polls later it is still open.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`window.__polls = 0; document.body.addEventListener("htmx:afterSwap", function () { window.__polls++ }); 1`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.__polls >= 2`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("no polls: %v", err)
	}
	if open, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="alert-group"][data-rule="QueueLong"] details').open`)); err != nil || !open {
		t.Fatalf("the opened group closed after polls (%v)", err)
	}
	tab.screenshot("alerts-group-open")
	calls, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.__alerts`))
	if err != nil || calls != 0 {
		t.Fatalf("the hostile label ran a script (%v alert calls, %v)", calls, err)
	}

	// Silence the hostile alert through its link and the form.
	tab.run("silence",
		clickPolled(hostileRow+` [data-testid="silence-alert"]`),
		chromedp.WaitVisible(css(`#silence-form[open] [data-testid="silence-form"]`)),
	)
	tab.screenshot("alerts-silence-form")
	tab.run("submit",
		chromedp.SendKeys(css(`#silence-comment`), "deploying the fix"),
		chromedp.Click(css(`[data-testid="silence-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="alerts-notice"]`)),
		chromedp.WaitVisible(css(hostileRow+`[data-silenced="true"]`)),
		chromedp.WaitVisible(css(`[data-testid="silence-row"] [data-testid="expire-silence"]`)),
	)
	if ss := e.engine.Silences(); len(ss) != 1 || ss[0].CreatedBy != "admin" || len(ss[0].Matchers) != 3 {
		t.Fatalf("silences: %+v", ss)
	}
	tab.screenshot("alerts-silenced")
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelector('[data-theme-toggle]').click(); 1`)); err != nil {
		t.Fatal(err)
	}
	tab.screenshot("alerts-dark")
	tab.run("phone", chromedp.EmulateViewport(375, 800), chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid="alerts-live"]`)))
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || overflow {
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll('body *')].filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && true).slice(0, 12).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right)).join('; ')`))
		t.Errorf("the page is wider than a phone (%v): %s", err, wide)
	}
	tab.screenshot("alerts-phone")
}
