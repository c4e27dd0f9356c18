package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/views/components"
)

func TestAPIInstances(t *testing.T) {
	e := newEnv(t)
	viewer := "Authorization: Basic " + basic("viewer", viewerPass)

	res, body := e.do(nil, "GET", "/api/instances", nil, viewer)
	if res.StatusCode != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("no instances: %d %s, want []", res.StatusCode, body)
	}

	e.fill()
	res, body = e.do(nil, "GET", "/api/instances", nil, viewer)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("instances: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("not a JSON array: %s", err)
	}
	if len(got) != 2 || got[0]["name"] != "cache" || got[1]["name"] != "down" {
		t.Fatalf("instances: %s", body)
	}
	c := got[0]
	for k, want := range map[string]any{"addr": "127.0.0.1:6379", "up": true, "version": "7.2.4", "ops_per_second": 1500.0, "connected_clients": 3.0, "keyspace_hit_ratio": 0.9876} {
		if c[k] != want {
			t.Errorf("cache %s = %v, want %v", k, c[k], want)
		}
	}
	if cl, _ := c["clients"].([]any); len(cl) != 3 {
		t.Errorf("cache clients: %v", c["clients"])
	}
	if got[1]["up"] != false || got[1]["error"] == "" {
		t.Errorf("down: %v", got[1])
	}
	if strings.Contains(strings.ToLower(body), "password") {
		t.Errorf("instances JSON mentions a password")
	}

	f := func(query string, want ...string) {
		t.Helper()
		res, body := e.do(nil, "GET", "/api/instances?"+query, nil, viewer)
		var got []redis.InstanceSnapshot
		if err := json.Unmarshal([]byte(body), &got); res.StatusCode != 200 || err != nil || got == nil {
			t.Fatalf("%s: %d %s", query, res.StatusCode, body)
		}
		var names []string
		for _, in := range got {
			names = append(names, in.Name)
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: %v, want %v", query, names, want)
		}
	}
	f("name=cache", "cache")
	f("name=down", "down")
	f("name=nope")
	f("name=", "cache", "down")
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	viewer := "Authorization: Basic " + basic("viewer", viewerPass)
	type resp struct {
		Keys     []redis.KeySnapshot
		Patterns []redis.PatternSnapshot
		Total    int
	}
	get := func(query string) (resp, string) {
		t.Helper()
		res, body := e.do(nil, "GET", "/api/keys?"+query, nil, viewer)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", query, res.StatusCode, body)
		}
		var r resp
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("%s: not JSON: %s", query, err)
		}
		return r, body
	}

	r, body := get("")
	if r.Total != 0 || !strings.Contains(body, `"keys":[]`) || !strings.Contains(body, `"patterns":[]`) {
		t.Fatalf("no keys: %s", body)
	}

	e.fill()
	r, body = get("")
	if r.Total != 5 || len(r.Keys) != 5 || len(r.Patterns) != 1 || r.Patterns[0].Pattern != "session:*" {
		t.Fatalf("all keys: %s", body)
	}
	if r.Keys[0].Key != hostileKey || r.Keys[0].ID == "" || r.Keys[0].Type != "string" {
		t.Errorf("first key: %+v", r.Keys[0])
	}
	f := func(query string, total int, want ...string) {
		t.Helper()
		r, body := get(query)
		var keys []string
		for _, k := range r.Keys {
			keys = append(keys, k.Instance+"/"+k.Key)
		}
		if r.Total != total || !slices.Equal(keys, want) {
			t.Errorf("%s: total %d keys %q, want %d %q (%.200s)", query, r.Total, keys, total, want, body)
		}
	}
	f("instance=down", 1, "down/queue:emails")
	f("q=queue", 2, "cache/queue:Emails", "down/queue:emails")
	f("q=EMAILS&instance=cache", 1, "cache/queue:Emails")
	f("q=nothing-like-this", 0)
	f("limit=2", 5, "cache/"+hostileKey, "cache/gone")
	f("limit=2&offset=3", 5, "cache/queue:Emails", "down/queue:emails")
	f("offset=10", 5)
	f("limit=0", 5)
	if r, _ := get("instance=down"); len(r.Patterns) != 0 {
		t.Errorf("patterns not filtered by instance: %+v", r.Patterns)
	}

	for _, bad := range []string{"limit=x", "limit=-1", "offset=-5", "offset=1.5"} {
		res, body := e.do(nil, "GET", "/api/keys?"+bad, nil, viewer)
		if res.StatusCode != 400 || decode(t, body)["error"] == "" {
			t.Errorf("%s: %d %s, want 400 with a reason", bad, res.StatusCode, body)
		}
	}

	// Limit: default 1000, at most 10000.
	many := make([]redis.KeySnapshot, 10050)
	for i := range many {
		many[i] = key("cache", fmt.Sprintf("k%05d", i), "string", 1)
	}
	e.redis.set(nil, many, nil)
	if r, _ := get(""); r.Total != 10050 || len(r.Keys) != 1000 {
		t.Errorf("default limit: total %d, %d keys", r.Total, len(r.Keys))
	}
	if r, _ := get("limit=20000"); r.Total != 10050 || len(r.Keys) != 10000 {
		t.Errorf("limit cap: total %d, %d keys", r.Total, len(r.Keys))
	}
}

func TestKeyListPage(t *testing.T) {
	e := newEnv(t)
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
		res, body := e.do(c, "GET", "/keys?"+query, nil, "Accept: text/html")
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", query, res.StatusCode)
		}
		doc := parse(t, body)
		if got := texts(doc, "key-name"); !slices.Equal(got, want) {
			t.Errorf("%s: keys %q, want %q", query, got, want)
		}
		if q := attr(one(t, doc, "key-q"), "value"); q != must(url.ParseQuery(query)).Get("q") {
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

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
