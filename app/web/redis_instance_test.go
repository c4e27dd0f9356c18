package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestRedisRoutesRegisteredAndProtected(t *testing.T) {
	t.Parallel()
	e, _ := newLatestEnv(t)
	e.fill()
	have := map[string]bool{}
	for _, r := range e.srv.Echo().Routes() {
		have[r.Method+" "+r.Path] = true
	}
	for _, r := range []string{"GET /api/instances", "GET /api/keys", "GET /redis/:name", "GET /keys"} {
		if !have[r] {
			t.Errorf("route %s missing", r)
		}
	}
	for _, p := range []string{"/api/instances", "/api/keys", "/redis/cache", "/keys", "/?fragment=instances", "/keys?fragment=key-table"} {
		res, body := e.do(nil, "GET", p, nil)
		if res.StatusCode != http.StatusUnauthorized || strings.Contains(body, "cache") {
			t.Errorf("%s without login: %d %q", p, res.StatusCode, body)
		}
		res, _ = e.do(nil, "GET", p, nil, "Accept: text/html")
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("%s from a browser without login: %d, want 303", p, res.StatusCode)
		}
	}
}

// viewCache logs in as the viewer and opens /redis/cache of e's fake (filled) as a browser:
// the client, the body and the parsed page. The page must answer 200.
func viewCache(t *testing.T, e *env) (*http.Client, string, *html.Node) {
	t.Helper()
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/redis/cache", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /redis/cache: %d", res.StatusCode)
	}
	return c, body, parse(t, body)
}

func TestRedisInstancePage(t *testing.T) {
	t.Parallel()
	e, _ := newLatestEnv(t)
	e.fill()
	c, body, doc := viewCache(t, e)
	for id, want := range map[string]string{
		"redis-name":                 "cache",
		"instance-status":            "up",
		"redis-ops":                  "1500 ops/s",
		"redis-memory":               "512 MiB",
		"redis-memory-max":           "1.0 GiB",
		"redis-clients":              "3",
		"redis-blocked":              "1",
		"redis-redwatch-connections": "2",
		"redis-hit-ratio":            "98.8%",
		"redis-uptime":               "3d 0h",
		"redis-fragmentation":        "1.17",
		"redis-net-in":               "2.0 KiB/s",
		"redis-net-out":              "4.0 KiB/s",
		"redis-replicas":             "0",
		"redis-slowlog-length":       "2",
		"redis-ping":                 "300µs",
		"redis-replication-lag":      "0 B",
	} {
		if got := text(one(t, doc, id)); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	// redwatch's own connection is marked in the client list.
	if b := find(doc, "client-redwatch"); len(b) != 1 {
		t.Errorf("%d connections marked redwatch, want 1", len(b))
	}
	if got := attr(one(t, doc, "range-picker"), "aria-label"); got == "" {
		t.Errorf("range picker unlabelled")
	}
	summary, clients, tables := one(t, doc, "redis-summary"), one(t, doc, "clients-body"), one(t, doc, "redis-tables")
	for n, want := range map[*html.Node]string{
		summary: "/redis/cache?fragment=redis-summary",
		clients: "/redis/cache?fragment=redis-clients",
		tables:  "/redis/cache?fragment=redis-tables",
	} {
		if got := attr(n, "hx-get"); got != want {
			t.Errorf("%s polls %q, want %q", attr(n, "data-testid"), got, want)
		}
	}
	// The filter input lives outside the polled clients element (so it keeps focus) and is sent
	// with every poll.
	filter := one(t, doc, "client-filter")
	if attr(clients, "hx-include") != "#client-filter" || attr(filter, "id") != "client-filter" || attr(filter, "name") != "client" {
		t.Errorf("clients poll does not include the filter input")
	}
	if len(find(clients, "client-filter")) != 0 {
		t.Errorf("the filter input is inside the swapped element")
	}
	if attr(filter, "hx-get") != "/redis/cache?fragment=redis-clients" || attr(filter, "hx-target") != "#redis-clients" {
		t.Errorf("filter input: hx-get %q hx-target %q", attr(filter, "hx-get"), attr(filter, "hx-target"))
	}
	for _, n := range []*html.Node{summary, clients, tables} {
		if len(find(n, "ops-chart")) != 0 || len(find(n, "range-picker")) != 0 {
			t.Errorf("a chart or the range picker is inside polled fragment %s", attr(n, "data-testid"))
		}
	}
	if got := attr(one(t, doc, "redis-keys-link"), "href"); got != "/keys?instance=cache" {
		t.Errorf("keys link %q", got)
	}
	// The nav marks Redis and this instance as current.
	cur := 0
	for _, a := range find(doc, "nav-redis-instance") {
		if attr(a, "aria-current") == "page" {
			cur++
			if attr(a, "data-instance") != "cache" {
				t.Errorf("current nav instance %q", attr(a, "data-instance"))
			}
		}
	}
	if cur != 1 {
		t.Errorf("%d current nav instances", cur)
	}

	// Clients, sorted by idle (default), age (oldest first) or name (named first).
	if got := clientIDs(doc); !slices.Equal(got, []string{"2", "3", "1"}) {
		t.Errorf("clients by idle: %v", got)
	}
	for sort, want := range map[string][]string{"age": {"2", "1", "3"}, "name": {"3", "1", "2"}, "idle": {"2", "3", "1"}, "bogus": {"2", "3", "1"}} {
		res, body := e.do(c, "GET", "/redis/cache?sort="+sort, nil, "Accept: text/html")
		if got := clientIDs(parse(t, body)); res.StatusCode != 200 || !slices.Equal(got, want) {
			t.Errorf("clients by %s: %d %v, want %v", sort, res.StatusCode, got, want)
		}
	}

	// Slowlog, keyspace, top 20 commands.
	if got := texts(doc, "slowlog-args"); len(got) != 2 || got[0] != "EVAL <script>alert(1)</script> 0" || got[1] != "KEYS *" {
		t.Errorf("slowlog args %q", got)
	}
	if strings.Contains(body, "<script>alert") {
		t.Errorf("slowlog args rendered unescaped")
	}
	if got := texts(doc, "slowlog-duration"); !slices.Equal(got, []string{"120ms", "25ms"}) {
		t.Errorf("slowlog durations %q", got)
	}
	if got := texts(doc, "keyspace-keys"); !slices.Equal(got, []string{"12,345", "7"}) {
		t.Errorf("keyspace %q", got)
	}
	if n := len(find(doc, "command-row")); n != 20 {
		t.Errorf("%d command rows, want 20", n)
	}

	// Fragments.
	res, body := e.do(c, "GET", "/redis/cache?fragment=redis-summary", nil, "HX-Request: true")
	if res.StatusCode != 200 {
		t.Fatalf("summary fragment: %d", res.StatusCode)
	}
	frag := assertFragment(t, body, "redis-summary")
	if len(find(frag, "client-row")) != 0 || text(one(t, frag, "redis-ops")) != "1500 ops/s" {
		t.Errorf("summary fragment content wrong")
	}
	res, body = e.do(c, "GET", "/redis/cache?fragment=redis-clients&sort=age&range=7d", nil, "HX-Request: true")
	if res.StatusCode != 200 {
		t.Fatalf("clients fragment: %d", res.StatusCode)
	}
	frag = assertFragment(t, body, "clients-body")
	if got := clientIDs(frag); !slices.Equal(got, []string{"2", "1", "3"}) || len(find(frag, "redis-ops"))+len(find(frag, "slowlog-row")) != 0 {
		t.Errorf("clients fragment: clients %v", got)
	}
	if got := attr(one(t, frag, "clients-body"), "hx-get"); got != "/redis/cache?fragment=redis-clients&range=7d&sort=age" {
		t.Errorf("sorted clients poll %q", got)
	}
	res, body = e.do(c, "GET", "/redis/cache?fragment=redis-tables", nil, "HX-Request: true")
	if res.StatusCode != 200 {
		t.Fatalf("tables fragment: %d", res.StatusCode)
	}
	frag = assertFragment(t, body, "redis-tables")
	if len(find(frag, "slowlog-row")) != 2 || len(find(frag, "client-row"))+len(find(frag, "redis-ops")) != 0 {
		t.Errorf("tables fragment content wrong")
	}

	// A down instance renders too.
	res, body = e.do(c, "GET", "/redis/down", nil, "Accept: text/html")
	doc = parse(t, body)
	if res.StatusCode != 200 || text(one(t, doc, "instance-status")) != "down" || len(find(doc, "no-clients")) != 1 {
		t.Errorf("down instance page: %d", res.StatusCode)
	}

	// Unknown instance: 404 page for browsers, JSON for API clients.
	res, body = e.do(c, "GET", "/redis/nope", nil, "Accept: text/html")
	doc = parse(t, body)
	if res.StatusCode != 404 || attr(one(t, doc, "error-page"), "data-code") != "404" || !strings.Contains(text(one(t, doc, "error-message")), "nope") {
		t.Errorf("unknown instance page: %d %.300s", res.StatusCode, body)
	}
	res, body = e.do(c, "GET", "/redis/nope", nil)
	if res.StatusCode != 404 || decode(t, body)["status"] != "error" {
		t.Errorf("unknown instance JSON: %d %s", res.StatusCode, body)
	}
	res, _ = e.do(c, "GET", "/redis/"+url.PathEscape(`<x>`)+"?fragment=redis-tables", nil, "HX-Request: true", "Accept: text/html")
	if res.StatusCode != 404 {
		t.Errorf("unknown instance fragment: %d", res.StatusCode)
	}
}

// The dashboard loads only its own assets (no CDN, no external fonts), and browsers get them
// gzip-compressed.
func TestPageAssetsLocalAndGzipped(t *testing.T) {
	t.Parallel()
	e, _ := newLatestEnv(t)
	e.fill()
	_, body, doc := viewCache(t, e)
	var refs []string
	for _, s := range findTag(doc, "script") {
		refs = append(refs, attr(s, "src"))
	}
	for _, l := range findTag(doc, "link") {
		if attr(l, "rel") == "icon" {
			// The favicon is inline (a data: URL): nothing to fetch.
			if !strings.HasPrefix(attr(l, "href"), "data:image/svg+xml,") {
				t.Errorf("favicon %q is not an inline SVG", attr(l, "href"))
			}
			continue
		}
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
