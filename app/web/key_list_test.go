package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/views/components"
)

// The keys page: watched keys escaped and clipped, patterns, search, the polled table, paging.
// Storage is not read here: a fake store.
func TestKeyListPage(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{store: &trendStore{}})
	c := e.login("viewer", viewerPass)

	res, body := e.do(c, "GET", "/keys", nil, "Accept: text/html")
	doc := parse(t, body)
	if res.StatusCode != 200 || !strings.Contains(text(one(t, doc, "no-keys")), "[[redis.keys]]") {
		t.Fatalf("no keys: %d", res.StatusCode)
	}

	e.fill()
	res, body = e.do(c, "GET", "/keys", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("GET /keys: %d", res.StatusCode)
	}
	doc = parse(t, body)
	rows := find(doc, "key-row")
	if len(rows) != 5 {
		t.Fatalf("%d key rows, want 5", len(rows))
	}
	// Hostile and long keys are escaped; the long one is clipped with its size, and the first
	// components.TitleMaxChars of it in title.
	if strings.Contains(body, "<img") {
		t.Fatalf("a key was rendered unescaped")
	}
	names := find(doc, "key-name")
	if got := text(names[0]); got != hostileKey || attr(names[0], "title") != hostileKey {
		t.Errorf("hostile key shown as %q (title %q)", got, attr(names[0], "title"))
	}
	if got := text(names[2]); len(got) > 1000 || !strings.HasPrefix(got, "long:kkk") || !strings.HasSuffix(got, "… (10,245 bytes)") {
		t.Errorf("long key text: %d bytes", len(got))
	}
	if attr(names[2], "title") != longKey[:components.TitleMaxChars]+"…" || !strings.Contains(attr(names[2], "class"), "truncate") {
		t.Errorf("long key title/class wrong")
	}
	if got := texts(doc, "key-type"); !slices.Equal(got, []string{"string", "none", "hash", "list", "list"}) {
		t.Errorf("types %q", got)
	}
	if got := texts(doc, "key-length"); !slices.Equal(got, []string{"5", "—", "3", "1,234,567", "7"}) {
		t.Errorf("lengths %q", got)
	}
	if got := texts(doc, "key-ttl"); !slices.Equal(got, []string{"no expiry", "—", "no expiry", "no expiry", "no expiry"}) {
		t.Errorf("ttls %q", got)
	}
	var stale []string
	for _, n := range find(doc, "key-sampled") {
		stale = append(stale, attr(n, "data-stale"))
	}
	if !slices.Equal(stale, []string{"", "", "", "", "true"}) {
		t.Errorf("stale keys %q", stale)
	}
	if got := texts(doc, "pattern-tracked"); !slices.Equal(got, []string{"2 / 1000"}) {
		t.Errorf("patterns %q", got)
	}
	tbl := one(t, doc, "key-table")
	if got := attr(tbl, "hx-get"); got != "/keys?fragment=key-table" {
		t.Errorf("key table polls %q", got)
	}
	if got := attr(one(t, doc, "key-search"), "method"); got != "get" {
		t.Errorf("search form method %q", got)
	}
	var opts []string
	for o := range one(t, doc, "key-instance").Descendants() {
		if o.Data == "option" {
			opts = append(opts, attr(o, "value"))
		}
	}
	if !slices.Equal(opts, []string{"", "cache", "down"}) {
		t.Errorf("instance options %q", opts)
	}

	// Search and filter.
	f := func(query string, want ...string) {
		t.Helper()
		values, err := url.ParseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		doc := e.page(t, c, "/keys?"+query)
		if got := texts(doc, "key-name"); !slices.Equal(got, want) {
			t.Errorf("%s: keys %q, want %q", query, got, want)
		}
		if q := attr(one(t, doc, "key-q"), "value"); q != values.Get("q") {
			t.Errorf("%s: search box %q", query, q)
		}
	}
	f("q=emails", "queue:Emails", "queue:emails")
	f("q=emails&instance=down", "queue:emails")
	f("instance=cache&q=img", hostileKey)
	f("q=%3Cimg", hostileKey)
	f("q=zzz")

	// The fragment holds only the table, polling with the same filters.
	res, body = e.do(c, "GET", "/keys?fragment=key-table&q=emails&instance=cache", nil, "HX-Request: true")
	if res.StatusCode != 200 {
		t.Fatalf("fragment: %d", res.StatusCode)
	}
	frag := assertFragment(t, body, "key-table")
	if got := texts(frag, "key-name"); !slices.Equal(got, []string{"queue:Emails"}) || len(find(frag, "key-search")) != 0 {
		t.Errorf("fragment keys %q", got)
	}
	if got, want := attr(one(t, frag, "key-table"), "hx-get"), "/keys?fragment=key-table&instance=cache&q=emails"; got != want {
		t.Errorf("fragment polls %q, want %q", got, want)
	}

	// Paged: 50 rows a page, with the count and the rows shown (keys_test.go covers paging).
	many := make([]redis.KeySnapshot, 1500)
	for i := range many {
		many[i] = key("cache", fmt.Sprintf("k%05d", i), "string", 1)
	}
	e.redis.set(nil, many, nil)
	res, body = e.do(c, "GET", "/keys", nil, "Accept: text/html")
	doc = parse(t, body)
	if n := len(find(doc, "key-row")); res.StatusCode != 200 || n != 50 {
		t.Errorf("%d rows, want 50", n)
	}
	if got := text(one(t, doc, "key-count")); got != "1,500 keys" {
		t.Errorf("count %q", got)
	}
	if got := text(one(t, doc, "pager-range")); got != "1–50 of 1,500" {
		t.Errorf("pager %q", got)
	}
}

func TestKeysBadParameters(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{store: &trendStore{}})
	e.fill()
	c := e.login("viewer", viewerPass)
	id := redis.KeyID("cache", 0, "queue:Emails")
	for _, path := range []string{
		"/keys?range=2h", "/keys?from=yesterday", "/keys?from=1700000000&to=1600000000",
		"/keys?sort=size", "/keys?dir=up", "/keys?per=-1", "/keys?page=x", "/keys?view=grid",
		"/keys/" + id + "?range=1y", "/keys/" + id + "?page=-2",
	} {
		res, body := e.do(c, "GET", path, nil, "Accept: text/html")
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", path, res.StatusCode)
			continue
		}
		name := strings.TrimPrefix(strings.SplitN(strings.SplitN(path, "?", 2)[1], "=", 2)[0], "/")
		if !strings.Contains(body, name) {
			t.Errorf("GET %s: the 400 does not name %q", path, name)
		}
	}
}

func TestKeysViewerAndNoSource(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{store: &trendStore{}})
	e.fill()
	c := e.login("viewer", viewerPass)
	id := redis.KeyID("cache", 0, "queue:Emails")
	for _, p := range []string{"/keys", "/keys?sort=change", "/keys/" + id, "/keys/" + id + "?range=7d", "/?fragment=top-keys"} {
		if res, _ := e.do(c, "GET", p, nil, "Accept: text/html"); res.StatusCode != http.StatusOK {
			t.Errorf("viewer GET %s: %d", p, res.StatusCode)
		}
	}
	if res, _ := e.do(nil, "GET", "/keys/"+id, nil, "Accept: text/html"); res.StatusCode == http.StatusOK {
		t.Errorf("key page without login: %d", res.StatusCode)
	}
	// No Redis configured (Options.Redis nil), nothing stored.
	e = newEnvWith(t, envOptions{store: &trendStore{}, mod: func(o *Options) { o.Redis = nil }})
	c = e.login("viewer", viewerPass)
	if res, _ := e.do(c, "GET", "/keys/"+id, nil, "Accept: text/html"); res.StatusCode != http.StatusNotFound {
		t.Errorf("key page without a source or history: %d", res.StatusCode)
	}
	doc := e.page(t, c, "/keys?sort=change")
	one(t, doc, "no-keys")
}

// TestKeysEmptyState: with no key watched, /keys says where keys are added, with a link to
// /settings for an admin only.
func TestKeysEmptyState(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{store: &trendStore{}})
	for _, u := range []struct {
		name, pass string
		link       bool
	}{{"admin", adminPass, true}, {"viewer", viewerPass, false}} {
		doc := e.page(t, e.login(u.name, u.pass), "/keys")
		hint := text(one(t, doc, "no-keys"))
		if !strings.Contains(hint, "Settings") || !strings.Contains(hint, "[[redis.keys]]") {
			t.Errorf("%s: hint %q", u.name, hint)
		}
		links := find(doc, "no-keys-settings")
		if (len(links) == 1) != u.link || (u.link && attr(links[0], "href") != "/settings#keys") {
			t.Errorf("%s: %d settings links in the hint", u.name, len(links))
		}
	}
}

// TestKeysCollapsedAndTree: the list collapses pattern keys under their pattern (a search and
// ?pattern= list them); ?view=tree groups every key, pattern keys included, with counts and
// summed lengths, and does not poll.
func TestKeysCollapsedAndTree(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{store: &trendStore{}})
	e.fill()
	keys := e.redis.Keys()
	for _, name := range []string{"session:a", "session:b", "session:c"} {
		k := key("cache", name, "hash", 2)
		k.Pattern = "session:*"
		keys = append(keys, k)
	}
	e.redis.set(e.redis.Instances(), keys, e.redis.Patterns())
	c := e.login("viewer", viewerPass)
	names := func(doc *html.Node, id string) []string {
		var out []string
		for _, n := range find(doc, id) {
			out = append(out, text(n))
		}
		return out
	}

	doc := e.page(t, c, "/keys")
	if got := names(doc, "key-name"); len(got) != 5 || slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "session:") }) {
		t.Errorf("list rows %q, want the 5 exact keys", got)
	}
	if got := text(one(t, doc, "key-collapsed")); got != "+ 3 under patterns" {
		t.Errorf("collapsed %q", got)
	}
	if got := attr(one(t, doc, "pattern-keys"), "href"); got != "/keys?instance=cache&pattern=session%3A%2A" {
		t.Errorf("pattern link %q", got)
	}
	if got := names(e.page(t, c, "/keys?instance=cache&pattern=session%3A%2A"), "key-name"); !slices.Equal(got, []string{"session:a", "session:b", "session:c"}) {
		t.Errorf("the pattern's keys %q", got)
	}
	if got := names(e.page(t, c, "/keys?q=session:b"), "key-name"); !slices.Equal(got, []string{"session:b"}) {
		t.Errorf("a search finds pattern keys: %q", got)
	}

	doc = e.page(t, c, "/keys?view=tree")
	one(t, doc, "key-tree")
	if n := len(find(doc, "key-table")); n != 0 {
		t.Errorf("the tree view has %d polled tables", n)
	}
	var groups []string
	for _, g := range find(doc, "key-group") {
		groups = append(groups, attr(g, "data-prefix")+" "+text(one(t, g, "group-keys"))+" "+text(one(t, g, "group-length")))
	}
	// session:* first (a pattern), then namespaces by name: the long key's, and "queue:"
	// (queue:Emails of cache, queue:emails of down).
	if want := []string{"session:* 3 6", "long: 1 3", "queue: 2 1,234,574"}; !slices.Equal(groups, want) {
		t.Errorf("groups %q, want %q", groups, want)
	}
	if got := text(one(t, doc, "key-count")); got != "8 keys" {
		t.Errorf("tree count %q", got)
	}
}

// TestKeyTreeCaps: a group lists at most partials.KeyTreeMaxLeaves keys and links the rest in
// the flat list.
func TestKeyTreeCaps(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{store: &trendStore{}})
	var keys []redis.KeySnapshot
	for i := range 150 {
		keys = append(keys, key("cache", fmt.Sprintf("bulk:%03d", i), "list", 1))
	}
	e.redis.set(nil, keys, nil)
	doc := e.page(t, e.login("viewer", viewerPass), "/keys?view=tree")
	g := one(t, doc, "key-group")
	if got := text(one(t, g, "group-keys")) + " " + text(one(t, g, "group-length")); got != "150 150" {
		t.Errorf("bulk: group %q, want 150 keys of length 150", got)
	}
	if n := len(find(g, "tree-key")); n != 100 {
		t.Errorf("%d keys listed, want 100", n)
	}
	more := one(t, g, "tree-more")
	if text(more) != "50 more keys in the list" || attr(more, "href") != "/keys?q=bulk%3A" {
		t.Errorf("more link %q %q", text(more), attr(more, "href"))
	}
}
