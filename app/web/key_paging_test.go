package web

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// Paging /keys, and the links of its pager, sort headers, poll and range picker. Storage is
// not read here: a fake store.
func TestKeysPagingAndLinks(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{store: &trendStore{}})
	many := make([]redis.KeySnapshot, 600)
	for i := range many {
		many[i] = key("cache", fmt.Sprintf("p%03d", i), "list", int64(i))
	}
	e.redis.set(nil, many, nil)
	c := e.login("viewer", viewerPass)
	names := func(doc *html.Node) []string { return texts(doc, "key-name") }

	doc := e.page(t, c, "/keys")
	got := names(doc)
	if len(got) != 50 || got[0] != "p000" || got[49] != "p049" {
		t.Errorf("page 1: %d rows %q…", len(got), got[:min(len(got), 2)])
	}
	if g := text(one(t, doc, "pager-range")); g != "1–50 of 600" {
		t.Errorf("pager %q", g)
	}
	if prev := one(t, doc, "pager-prev"); prev.Data != "span" || attr(prev, "aria-disabled") != "true" {
		t.Errorf("page 1 has a previous link")
	}
	if g := attr(one(t, doc, "pager-next"), "href"); g != "/keys?page=2" {
		t.Errorf("next %q", g)
	}

	doc = e.page(t, c, "/keys?page=12")
	if got := names(doc); len(got) != 50 || got[0] != "p550" || got[49] != "p599" {
		t.Errorf("page 12: %d rows", len(got))
	}
	if next := one(t, doc, "pager-next"); next.Data != "span" {
		t.Errorf("last page has a next link")
	}
	if g := attr(one(t, doc, "pager-prev"), "href"); g != "/keys?page=11" {
		t.Errorf("prev %q", g)
	}
	// Past the end: the last page. Zero: the first.
	doc = e.page(t, c, "/keys?page=999&per=100")
	if got := names(doc); len(got) != 100 || got[0] != "p500" || text(one(t, doc, "pager-range")) != "501–600 of 600" {
		t.Errorf("page past the end: %d rows, %q", len(got), text(one(t, doc, "pager-range")))
	}
	if got := names(e.page(t, c, "/keys?page=0")); len(got) != 50 || got[0] != "p000" {
		t.Errorf("page 0: %d rows", len(got))
	}
	// per is capped at 500; 0 is the default.
	if got := names(e.page(t, c, "/keys?per=100000")); len(got) != 500 {
		t.Errorf("per=100000 gave %d rows", len(got))
	}
	if got := names(e.page(t, c, "/keys?per=0")); len(got) != 50 {
		t.Errorf("per=0 gave %d rows", len(got))
	}

	// Sort headers keep the other parameters, drop the page, and toggle the sorted column.
	doc = e.page(t, c, "/keys?q=p&instance=cache&range=6h&per=20&page=2&sort=length")
	if got := names(doc); len(got) != 20 || got[0] != "p579" {
		t.Errorf("sorted page 2: %q…", got[:min(len(got), 1)])
	}
	link := func(testID string) url.Values {
		t.Helper()
		u, err := url.Parse(attr(one(t, doc, testID), "href"))
		if err != nil || u.Path != "/keys" {
			t.Fatalf("%s links to %q", testID, attr(one(t, doc, testID), "href"))
		}
		return u.Query()
	}
	base := url.Values{"q": {"p"}, "instance": {"cache"}, "range": {"6h"}, "per": {"20"}}
	withSort := func(sort, dir string) string {
		v := withParam(withParam(base, "sort", sort), "dir", dir)
		return v.Encode()
	}
	for id, want := range map[string]string{
		"key-sort-name":   withSort("name", "asc"),
		"key-sort-length": withSort("length", "asc"), // sorted desc now: toggles
		"key-sort-change": withSort("change", "desc"),
		"key-sort-memory": withSort("memory", "desc"),
		"key-sort-ttl":    withSort("ttl", "desc"),
		"key-sort-type":   withSort("type", "asc"),
	} {
		if got := link(id).Encode(); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	if got, want := link("pager-next").Encode(), withParam(withParam(base, "sort", "length"), "page", "3").Encode(); got != want {
		t.Errorf("next page %s, want %s", got, want)
	}
	if got, want := link("pager-prev").Encode(), withParam(base, "sort", "length").Encode(); got != want {
		t.Errorf("previous page %s, want %s", got, want)
	}
	// The polled table carries every parameter; the range picker keeps them too.
	poll, _ := url.Parse(attr(one(t, doc, "key-table"), "hx-get"))
	if want := withParam(withParam(withParam(base, "sort", "length"), "page", "2"), "fragment", "key-table").Encode(); poll.Query().Encode() != want {
		t.Errorf("polls %s, want %s", poll.Query().Encode(), want)
	}
	var picked string
	for n := range one(t, doc, "range-picker").Descendants() {
		if attr(n, "data-range-key") == "24h" {
			picked = attr(n, "href")
		}
	}
	if u, _ := url.Parse(picked); u == nil || u.Query().Get("range") != "24h" || u.Query().Get("sort") != "length" || u.Query().Get("q") != "p" || u.Query().Has("page") {
		t.Errorf("range link %q", picked)
	}
	// The fragment answers the same page.
	res, body := e.do(c, "GET", poll.String(), nil, "HX-Request: true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("fragment: %d", res.StatusCode)
	}
	frag := assertFragment(t, body, "key-table")
	if got := names(frag); len(got) != 20 || got[0] != "p579" {
		t.Errorf("fragment rows %q…", got[:min(len(got), 1)])
	}
}
