package web

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// Sorting by every column, the change over the range and the sparklines, search. The trends
// come from a fake store (what storage answers is keytrend's TestTrendsFromStorage).
func TestKeysSortSearchChange(t *testing.T) {
	t.Parallel()
	st := &trendStore{}
	keys := keysByColumn()
	st.trend(&keys[1], 100, 150) // a/alpha +50
	st.trend(&keys[0], 80, 50)   // a/Beta -30
	st.trend(&keys[2], 20, 20)   // a/gamma 0
	st.trend(&keys[4], 30, 40)   // b/alpha +10
	e := newEnvWith(t, envOptions{store: st})
	e.redis.set(nil, keys, nil)
	c := e.login("viewer", viewerPass)

	f := func(query string, want ...string) *html.Node {
		t.Helper()
		doc := e.page(t, c, "/keys?"+query)
		if got := keyRows(t, doc); !slices.Equal(got, want) {
			t.Errorf("%s: rows %q, want %q", query, got, want)
		}
		return doc
	}
	doc := f("", "a/Beta", "a/alpha", "a/gamma", "a/zz-missing", "b/alpha")
	f("sort=name&dir=desc", "b/alpha", "a/zz-missing", "a/gamma", "a/alpha", "a/Beta")
	f("sort=length", "b/alpha", "a/alpha", "a/gamma", "a/Beta", "a/zz-missing") // desc by default
	f("sort=length&dir=asc", "a/Beta", "a/gamma", "a/alpha", "b/alpha", "a/zz-missing")
	f("sort=memory&dir=desc", "a/alpha", "b/alpha", "a/Beta", "a/gamma", "a/zz-missing")
	f("sort=memory&dir=asc", "a/Beta", "b/alpha", "a/alpha", "a/gamma", "a/zz-missing")
	f("sort=ttl&dir=desc", "a/alpha", "a/gamma", "a/Beta", "b/alpha", "a/zz-missing")
	f("sort=ttl&dir=asc", "b/alpha", "a/Beta", "a/gamma", "a/alpha", "a/zz-missing")
	f("sort=type", "a/Beta", "a/alpha", "a/zz-missing", "a/gamma", "b/alpha") // asc by default
	f("sort=type&dir=desc", "b/alpha", "a/gamma", "a/zz-missing", "a/alpha", "a/Beta")
	changed := f("sort=change&dir=desc", "a/alpha", "b/alpha", "a/gamma", "a/Beta", "a/zz-missing")
	f("sort=change&dir=asc", "a/Beta", "a/gamma", "b/alpha", "a/alpha", "a/zz-missing")

	// The change over the range, from the stored points, with either sort.
	if got := texts(doc, "key-change"); !slices.Equal(got, []string{"-30", "+50", "0", "—", "+10"}) {
		t.Errorf("changes %q", got)
	}
	if got := texts(changed, "key-change"); !slices.Equal(got, []string{"+50", "+10", "0", "-30", "—"}) {
		t.Errorf("changes sorted by change %q", got)
	}
	// A sparkline per row: the stored points of the range, with a summary of first → last.
	sparks := find(doc, "sparkline")
	if len(sparks) != 5 {
		t.Fatalf("%d sparklines", len(sparks))
	}
	for i, want := range []string{"Length over 1h: 80 items → 50 items", "Length over 1h: 100 items → 150 items", "Length over 1h: 20 B → 20 B", "Length over 1h: no data", "Length over 1h: 30 items → 40 items"} {
		if got := attr(sparks[i], "aria-label"); got != want {
			t.Errorf("sparkline %d: %q, want %q", i, got, want)
		}
		n, _ := strconv.Atoi(attr(sparks[i], "data-points"))
		if i == 3 && n != 0 || i != 3 && n != trendSparkPoints {
			t.Errorf("sparkline %d has %d points", i, n)
		}
	}
	// Rows link to their key's page.
	for _, r := range find(doc, "key-row") {
		var href string
		for n := range one(t, r, "key-name").Descendants() {
			if n.Data == "a" {
				href = attr(n, "href")
			}
		}
		if href != "/keys/"+attr(r, "data-key-id") || len(attr(r, "data-key-id")) != 16 {
			t.Errorf("row links to %q (id %q)", href, attr(r, "data-key-id"))
		}
	}

	// A shorter range sees less of the change: 15 m ago the value had reached its end.
	doc = f("sort=change&range=15m", "a/Beta", "a/alpha", "a/gamma", "b/alpha", "a/zz-missing")
	if got := texts(doc, "key-change"); !slices.Equal(got, []string{"0", "0", "0", "0", "—"}) {
		t.Errorf("15m changes %q", got)
	}
	if got := text(one(t, doc, "key-sort-change")); got != "Change 15m" {
		t.Errorf("change header %q", got)
	}

	// Search: a case-insensitive substring, and the instance.
	f("q=ALPHA", "a/alpha", "b/alpha")
	f("q=alp&instance=b", "b/alpha")
	f("q=a&sort=length&dir=asc&instance=a", "a/Beta", "a/gamma", "a/alpha")
	doc = f("q=nothing")
	if got := text(one(t, doc, "no-keys")); got != "No watched key matches." {
		t.Errorf("no match %q", got)
	}
}

// Polling a page sorted by change reuses the all-keys computation for ui.refresh.
func TestKeysChangeSortIsCached(t *testing.T) {
	t.Parallel()
	cs := &trendStore{}
	e := newEnvWith(t, envOptions{store: cs, mod: func(o *Options) { o.Refresh = time.Hour }})
	e.fill()
	c := e.login("viewer", viewerPass)
	for range 3 {
		e.page(t, c, "/keys?sort=change&fragment=key-table")
	}
	e.page(t, c, "/")
	if n := cs.allKeys.Load(); n != 1 {
		t.Errorf("%d all-keys queries for one range, want 1", n)
	}
	e.page(t, c, "/keys?sort=change&range=6h")
	e.page(t, c, "/keys")
	if n := cs.allKeys.Load(); n != 2 {
		t.Errorf("%d all-keys queries for two ranges, want 2", n)
	}
}
