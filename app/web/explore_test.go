package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redwatch/redwatch/tsdb"
)

// TestExplorePage checks /explore as HTML: login needed; no query runs nothing; a valid
// query gets the result section carrying it and the range; an expression that does not parse
// gets 400 with the page, the parse error beside the box and no result; a bad range 400.
func TestExplorePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if res, _ := e.do(nil, "GET", "/explore", nil, "Accept: text/html"); res.StatusCode == http.StatusOK {
		t.Fatalf("GET /explore without a session: 200, want a login first")
	}
	c := e.login("viewer", viewerPass)

	doc := e.page(t, c, "/explore")
	if got := find(doc, "explore-result"); len(got) != 0 {
		t.Fatalf("no query: a result section is rendered")
	}
	if got := text(one(t, doc, "explore-error")); got != "" {
		t.Fatalf("no query: error %q, want none", got)
	}

	q := `sum by (instance) (rate(redis_commands_processed_total[5m]))`
	doc = e.page(t, c, "/explore?range=6h&query="+url.QueryEscape(q))
	res := one(t, doc, "explore-result")
	if got := attr(res, "data-explore"); got != q {
		t.Fatalf("data-explore %q, want %q", got, q)
	}
	if got := attr(res, "data-span"); got != "21600" {
		t.Fatalf("data-span %q, want 21600 (6h)", got)
	}
	if got := attr(one(t, doc, "explore-query"), "value"); got != q {
		t.Fatalf("the box holds %q, want the query %q", got, q)
	}

	for _, bad := range []string{"sum(", "rate(x[5m]", `x{a="b"`} {
		doc, _ = e.pageStatus(t, c, "/explore?query="+url.QueryEscape(bad), http.StatusBadRequest)
		msg := text(one(t, doc, "explore-error"))
		if !strings.HasPrefix(msg, "query: ") || len(msg) < len("query: ")+5 {
			t.Fatalf("query %q: error beside the box %q, want the parse error", bad, msg)
		}
		if got := find(doc, "explore-result"); len(got) != 0 {
			t.Fatalf("query %q: a result section is rendered for a query that does not parse", bad)
		}
		if got := attr(one(t, doc, "explore-query"), "aria-invalid"); got != "true" {
			t.Fatalf("query %q: aria-invalid %q, want true", bad, got)
		}
	}
	if res, body := e.do(c, "GET", "/explore?range=2d&query=up", nil, "Accept: text/html"); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "range") {
		t.Fatalf("range=2d: %d, want 400 naming range\n%.300s", res.StatusCode, body)
	}
}

// TestExploreBrowser types a query on /explore in headless chromium and runs it: the chart's
// legend names the result series by their labels and the table lists them with their last
// value; the query lands in the URL. A query that does not parse shows its error beside the
// box; one the API refuses at run time (label_replace with a bad regexp) shows the API's
// error there.
func TestExploreBrowser(t *testing.T) {
	t.Parallel()
	tab := newBrowserTab(t, 60*time.Second)
	e := newEnv(t)
	now := time.Now()
	var samples []tsdb.Sample
	for _, inst := range []string{"cache", "queue"} {
		for ts := now.Add(-20 * time.Minute); !ts.After(now); ts = ts.Add(10 * time.Second) {
			v := float64(ts.Unix()-now.Add(-20*time.Minute).Unix()) * 10
			if inst == "queue" {
				v *= 3
			}
			samples = append(samples, tsdb.Sample{Name: "redis_commands_processed_total", Labels: []tsdb.Label{{Name: "instance", Value: inst}}, Timestamp: ts.UnixMilli(), Value: v})
		}
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
	state := `JSON.stringify({state: (document.querySelector('[data-explore]') || {}).dataset, err: document.getElementById('explore-error').textContent})`
	tab.login(e.ts.URL+"/login?next="+url.QueryEscape("/explore"), "viewer", viewerPass, `[data-testid="explore-query"]`)
	tab.waitJS("names offered", `document.querySelectorAll('#explore-names option[value="redis_commands_processed_total"]').length === 1 && document.querySelectorAll('#explore-names option[value="instance"]').length === 1`, 10*time.Second, state)

	q := `rate(redis_commands_processed_total[1m])`
	tab.run("type and run", chromedp.SendKeys(chromedp.CSS(`[data-testid="explore-query"]`), q),
		chromedp.Click(chromedp.CSS(`[data-testid="explore-run"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="explore-result"]`)))
	tab.waitJS("result drawn", `(document.querySelector('[data-explore]') || {dataset: {}}).dataset.state === 'done'`, 10*time.Second, state)
	if got := tab.location().Query().Get("query"); got != q {
		t.Fatalf("URL query %q, want %q", got, q)
	}
	legend := eval("legend", `[...document.querySelectorAll('.explore-chart .u-legend .u-series .u-label')].map(e => e.textContent).join('|')`)
	for _, want := range []string{`{instance="cache"}`, `{instance="queue"}`} {
		if !strings.Contains(legend, want) {
			t.Fatalf("legend %q, want %s", legend, want)
		}
	}
	rows := eval("rows", `[...document.querySelectorAll('[data-testid="explore-row"]')].map(r => [...r.cells].map(c => c.textContent).join('=')).join('|')`)
	// counters growing by 100 and 300 every 10 s: 10 and 30 per second.
	if rows != `{instance="cache"}=10|{instance="queue"}=30` {
		t.Fatalf("table rows %q, want cache=10 and queue=30", rows)
	}

	// A query that does not parse: the server's error beside the box.
	tab.run("bad query", chromedp.Navigate(e.ts.URL+"/explore?query="+url.QueryEscape("sum(")), chromedp.WaitVisible(chromedp.CSS(`[data-testid="explore-error"]`)))
	if msg := eval("error", `document.getElementById('explore-error').textContent`); !strings.HasPrefix(msg, "query: ") {
		t.Fatalf("bad query: error %q, want the parse error", msg)
	}
	// A query that parses but the engine refuses (a bad regexp: 4xx from the API): its error beside the box.
	tab.run("refused query", chromedp.Navigate(e.ts.URL+"/explore?query="+url.QueryEscape(`label_replace(redis_commands_processed_total, "a", "$1", "instance", "(")`)))
	tab.waitJS("API error shown", `(document.querySelector('[data-explore]') || {dataset: {}}).dataset.state === 'error' && document.getElementById('explore-error').textContent.length > 0`, 10*time.Second, state)
}
