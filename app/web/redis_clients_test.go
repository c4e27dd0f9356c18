package web

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

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

// clientIDs lists the data-client-id of the clients table's rows, in order.
func clientIDs(doc *html.Node) []string {
	var ids []string
	for _, r := range find(doc, "client-row") {
		ids = append(ids, attr(r, "data-client-id"))
	}
	return ids
}

func TestRedisInstanceClientFilter(t *testing.T) {
	t.Parallel()
	e, _ := newLatestEnv(t)
	e.fill()
	hostileClients(e)

	// Hostile names and addresses render as text.
	c, body, doc := viewCache(t, e)
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
		if got := clientIDs(doc); res.StatusCode != 200 || !slices.Equal(got, want) {
			t.Errorf("?client=%q: %d rows %v, want %v", filter, res.StatusCode, got, want)
		}
		if got := attr(one(t, doc, "client-filter"), "value"); got != filter {
			t.Errorf("?client=%q: filter input value %q", filter, got)
		}
		res, body = e.do(c, "GET", "/redis/cache?fragment=redis-clients&client="+url.QueryEscape(filter), nil, "HX-Request: true")
		if got := clientIDs(assertFragment(t, body, "clients-body")); res.StatusCode != 200 || !slices.Equal(got, want) {
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
	res, body := e.do(c, "GET", "/redis/cache?client=default&sort=name", nil, "Accept: text/html")
	doc = parse(t, body)
	if got := clientIDs(doc); res.StatusCode != 200 || !slices.Equal(got, []string{"1", "4"}) {
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
