package web

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// lookupAttr returns the value of n's attribute key and whether n has it.
func lookupAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// findAttr returns the elements below n (n included) that have the attribute key.
func findAttr(n *html.Node, key string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if _, ok := lookupAttr(d, key); ok && d.Type == html.ElementNode {
			out = append(out, d)
		}
	}
	return out
}

// findTag returns the elements named tag below n.
func findTag(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && d.Data == tag {
			out = append(out, d)
		}
	}
	return out
}

// hostileClients gives the "cache" instance of e's fake clients with hostile names and
// addresses, next to plain ones.
func hostileClients(e *env) {
	ins := e.redis.Instances()
	ins[0].Clients = []redis.Client{
		{ID: 1, Addr: "10.0.0.1:5000", Name: hostileKey, User: "default", AgeSeconds: 100, IdleSeconds: 50, Cmd: "blpop"},
		{ID: 2, Addr: `<b>10.0.0.2</b>:5000`, Name: "", User: "app", AgeSeconds: 900, IdleSeconds: 0, Cmd: "get"},
		{ID: 3, Addr: "10.0.0.3:5000", Name: "API-writer", User: "svc", AgeSeconds: 10, IdleSeconds: 5, Cmd: "set"},
		{ID: 4, Addr: "10.0.0.4:5000", Name: "reporter", User: "default", AgeSeconds: 20, IdleSeconds: 7, Cmd: "hgetall"},
	}
	e.redis.set(ins, e.redis.Keys(), e.redis.Patterns())
}

func TestRedisInstanceClientFilter(t *testing.T) {
	e := newEnv(t)
	e.fill()
	hostileClients(e)
	c := e.login("viewer", viewerPass)
	ids := func(doc *html.Node) []string {
		var out []string
		for _, r := range find(doc, "client-row") {
			out = append(out, attr(r, "data-client-id"))
		}
		return out
	}

	// Hostile names and addresses render as text.
	res, body := e.do(c, "GET", "/redis/cache", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("GET /redis/cache: %d", res.StatusCode)
	}
	doc := parse(t, body)
	if strings.Contains(body, "<img src=x") || strings.Contains(body, "<b>10.0.0.2") {
		t.Errorf("a client name or address is rendered as markup")
	}
	if got := texts(doc, "client-name"); !slices.Contains(got, hostileKey) {
		t.Errorf("client names %q lack the hostile one as text", got)
	}
	if got := texts(doc, "client-addr"); !slices.Contains(got, `<b>10.0.0.2</b>:5000`) {
		t.Errorf("client addrs %q lack the hostile one as text", got)
	}
	if len(findTag(doc, "img"))+len(findTag(doc, "b")) != 0 {
		t.Errorf("hostile markup became elements")
	}
	if got := text(one(t, doc, "clients-count")); got != "4 connections" {
		t.Errorf("count %q", got)
	}

	// The filter narrows the rows: a case-insensitive substring of address, name, user or
	// command, on the page and on the polled fragment.
	f := func(filter string, want ...string) {
		t.Helper()
		res, body := e.do(c, "GET", "/redis/cache?client="+url.QueryEscape(filter), nil, "Accept: text/html")
		doc := parse(t, body)
		if got := ids(doc); res.StatusCode != 200 || !slices.Equal(got, want) {
			t.Errorf("?client=%q: %d rows %v, want %v", filter, res.StatusCode, got, want)
		}
		if got := attr(one(t, doc, "client-filter"), "value"); got != filter {
			t.Errorf("?client=%q: filter input value %q", filter, got)
		}
		res, body = e.do(c, "GET", "/redis/cache?fragment=redis-clients&client="+url.QueryEscape(filter), nil, "HX-Request: true")
		if got := ids(assertFragment(t, body, "clients-body")); res.StatusCode != 200 || !slices.Equal(got, want) {
			t.Errorf("fragment ?client=%q: %d rows %v, want %v", filter, res.StatusCode, got, want)
		}
	}
	f("", "2", "3", "4", "1")
	f("api", "3")          // name, any case
	f("10.0.0.4", "4")     // address
	f("svc", "3")          // user
	f("HGET", "4")         // command
	f("default", "4", "1") // user, sorted by idle
	f("<img", "1")         // the hostile name, as text
	f("<b>", "2")          // the hostile address
	f("no-such-client")    // nothing
	res, body = e.do(c, "GET", "/redis/cache?client=default&sort=name", nil, "Accept: text/html")
	doc = parse(t, body)
	if got := ids(doc); res.StatusCode != 200 || !slices.Equal(got, []string{"1", "4"}) {
		t.Errorf("filtered by name: %v", got)
	}
	if got := text(one(t, doc, "clients-count")); got != "2 of 4 connections match" {
		t.Errorf("filtered count %q", got)
	}
	// The sort links keep the filter and the range; the filter form keeps sort and range.
	res, body = e.do(c, "GET", "/redis/cache?client=default&sort=name&range=7d", nil, "Accept: text/html")
	doc = parse(t, body)
	if got := attr(one(t, doc, "sort-age"), "href"); got != "/redis/cache?client=default&range=7d&sort=age" {
		t.Errorf("sort link %q", got)
	}
	if got := attr(one(t, doc, "sort-idle"), "href"); got != "/redis/cache?client=default&range=7d" {
		t.Errorf("default sort link %q", got)
	}
	hidden := map[string]string{}
	for _, in := range findTag(one(t, doc, "client-filter-form"), "input") {
		if attr(in, "type") == "hidden" {
			hidden[attr(in, "name")] = attr(in, "value")
		}
	}
	if len(hidden) != 2 || hidden["sort"] != "name" || hidden["range"] != "7d" {
		t.Errorf("filter form hidden fields %v", hidden)
	}
	if got := attr(one(t, doc, "clients-body"), "hx-get"); got != "/redis/cache?fragment=redis-clients&range=7d&sort=name" {
		t.Errorf("clients poll %q (the filter comes from the input)", got)
	}
	// A huge filter is capped, not an error.
	res, _ = e.do(c, "GET", "/redis/cache?client="+strings.Repeat("x", 10000), nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Errorf("huge filter: %d", res.StatusCode)
	}
}

func TestRedisInstanceRange(t *testing.T) {
	e := newEnv(t)
	e.fill()
	c := e.login("viewer", viewerPass)
	charts := func(doc *html.Node) []*html.Node {
		t.Helper()
		cs := findAttr(doc, "data-chart")
		if len(cs) < 5 {
			t.Fatalf("%d charts, want at least 5", len(cs))
		}
		return cs
	}

	// A preset: every chart shows it, live.
	res, body := e.do(c, "GET", "/redis/cache?range=7d&client=api&sort=age", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("?range=7d: %d", res.StatusCode)
	}
	doc := parse(t, body)
	for _, ch := range charts(doc) {
		if got := attr(ch, "data-range"); got != "604800" {
			t.Errorf("%s data-range %q, want 604800", attr(ch, "data-testid"), got)
		}
		if _, ok := lookupAttr(ch, "data-end"); ok {
			t.Errorf("%s has data-end on a live range", attr(ch, "data-testid"))
		}
	}
	// The picker marks 7d and its links keep the filter and the sort.
	links := map[string]string{}
	for _, a := range findAttr(one(t, doc, "range-picker"), "data-range-key") {
		links[attr(a, "data-range-key")] = attr(a, "href")
		if cur := attr(a, "aria-current") == "true"; cur != (attr(a, "data-range-key") == "7d") {
			t.Errorf("range option %s current=%v", attr(a, "data-range-key"), cur)
		}
	}
	for _, k := range []string{"15m", "1h", "6h", "24h", "7d", "30d"} {
		u, err := url.Parse(links[k])
		if err != nil || u.Path != "/redis/cache" || u.Query().Get("range") != k || u.Query().Get("client") != "api" || u.Query().Get("sort") != "age" {
			t.Errorf("range link %s = %q: want the page with range, client and sort", k, links[k])
		}
	}

	// A custom span: fixed charts with data-start/data-end; the picker shows it.
	from, to := time.Now().Add(-3*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
	res, body = e.do(c, "GET", fmt.Sprintf("/redis/cache?from=%d&to=%d&client=api", from, to), nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("custom range: %d", res.StatusCode)
	}
	doc = parse(t, body)
	for _, ch := range charts(doc) {
		if attr(ch, "data-start") != fmt.Sprint(from) || attr(ch, "data-end") != fmt.Sprint(to) || attr(ch, "data-range") != "7200" {
			t.Errorf("%s: start %q end %q range %q; want %d %d 7200", attr(ch, "data-testid"), attr(ch, "data-start"), attr(ch, "data-end"), attr(ch, "data-range"), from, to)
		}
	}
	picker := one(t, doc, "range-picker")
	var unix []string
	for _, in := range findTag(picker, "input") {
		if attr(in, "type") == "datetime-local" {
			unix = append(unix, attr(in, "data-unix"))
		}
		if attr(in, "type") == "hidden" && attr(in, "name") == "client" && attr(in, "value") != "api" {
			t.Errorf("custom form carries client=%q", attr(in, "value"))
		}
	}
	if !slices.Equal(unix, []string{fmt.Sprint(from), fmt.Sprint(to)}) {
		t.Errorf("custom inputs data-unix %v", unix)
	}
	// The clients poll keeps the span (the sort links built from it keep it too).
	if got := attr(one(t, doc, "clients-body"), "hx-get"); got != fmt.Sprintf("/redis/cache?fragment=redis-clients&from=%d&to=%d", from, to) {
		t.Errorf("clients poll %q", got)
	}

	// A custom start without an end is live up to now.
	res, body = e.do(c, "GET", fmt.Sprintf("/redis/cache?from=%d", from), nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("open custom range: %d", res.StatusCode)
	}
	for _, ch := range charts(parse(t, body)) {
		if _, ok := lookupAttr(ch, "data-start"); ok || attr(ch, "data-range") != "10800" {
			t.Errorf("open custom range chart: start %q range %q", attr(ch, "data-start"), attr(ch, "data-range"))
		}
	}

	// A bad range is a 400 naming the reason, for the page and its fragments.
	for _, q := range []string{"range=2w", "from=yesterday", fmt.Sprintf("from=%d&to=%d", to, from), "from=&to=5"} {
		res, body := e.do(c, "GET", "/redis/cache?"+q, nil, "Accept: text/html")
		if res.StatusCode != 400 {
			t.Errorf("?%s: %d, want 400", q, res.StatusCode)
		}
		if doc := parse(t, body); !strings.Contains(text(one(t, doc, "error-message")), "range") && !strings.Contains(text(one(t, doc, "error-message")), "from") {
			t.Errorf("?%s: message %q does not name the parameter", q, text(one(t, doc, "error-message")))
		}
		res, _ = e.do(c, "GET", "/redis/cache?fragment=redis-clients&"+q, nil, "HX-Request: true")
		if res.StatusCode != 400 {
			t.Errorf("fragment ?%s: %d, want 400", q, res.StatusCode)
		}
	}
}

// The dashboard loads only its own assets (no CDN, no external fonts), and browsers get them
// gzip-compressed.
func TestPageAssetsLocalAndGzipped(t *testing.T) {
	e := newEnv(t)
	e.fill()
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/redis/cache", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("GET /redis/cache: %d", res.StatusCode)
	}
	doc := parse(t, body)
	var refs []string
	for _, s := range findTag(doc, "script") {
		refs = append(refs, attr(s, "src"))
	}
	for _, l := range findTag(doc, "link") {
		refs = append(refs, attr(l, "href"))
	}
	if len(refs) != 5 {
		t.Fatalf("page loads %d scripts and stylesheets, want 5: %q", len(refs), refs)
	}
	for _, ref := range refs {
		if !strings.HasPrefix(ref, "/assets/") {
			t.Errorf("page loads %q, not one of its own assets", ref)
			continue
		}
		res, _ := e.do(nil, "GET", ref, nil, "Accept-Encoding: gzip, deflate, br")
		if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("GET %s: %d, Content-Encoding %q, Vary %q; want gzip", ref, res.StatusCode, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
		}
	}
	if strings.Contains(body, "@import") || strings.Contains(body, "fonts.googleapis") || strings.Contains(body, "://cdn") {
		t.Errorf("page references external resources")
	}
}
