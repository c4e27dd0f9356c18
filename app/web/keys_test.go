package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/tsdb"
)

// ktLabels are the labels the key sampler writes for k.
func ktLabels(k *redis.KeySnapshot) []tsdb.Label {
	return []tsdb.Label{{Name: "instance", Value: k.Instance}, {Name: "db", Value: strconv.Itoa(k.DB)}, {Name: "key", Value: k.Key}, {Name: "type", Value: k.Type}}
}

// ktWriteTrend writes k's length every 10 s over the last 75 minutes up to now: from until
// 45 minutes ago, to from 15 minutes ago on, a straight line between. Over any range of 1 h
// its change is to - from, whatever the query's grid.
func ktWriteTrend(t testing.TB, db *tsdb.DB, now time.Time, k *redis.KeySnapshot, from, to float64) {
	t.Helper()
	var ss []tsdb.Sample
	for ts := now.Add(-75 * time.Minute); !ts.After(now); ts = ts.Add(10 * time.Second) {
		v := from
		switch age := now.Sub(ts); {
		case age <= 15*time.Minute:
			v = to
		case age < 45*time.Minute:
			v = from + (to-from)*float64(45*time.Minute-age)/float64(30*time.Minute)
		}
		ss = append(ss, tsdb.Sample{Name: "redis_key_length", Labels: ktLabels(k), Timestamp: ts.UnixMilli(), Value: v})
	}
	if err := db.Write(ss); err != nil {
		t.Fatal(err)
	}
}

// ktKeys is the keys of the sort tests, each with a distinct value in every column.
func ktKeys() []redis.KeySnapshot {
	alpha := key("a", "alpha", "list", 30)
	alpha.MemoryBytes, alpha.TTLSeconds = 300, -1
	beta := key("a", "Beta", "hash", 10)
	beta.MemoryBytes, beta.TTLSeconds = 100, 60
	gamma := key("a", "gamma", "string", 20)
	gamma.MemoryBytes, gamma.TTLSeconds = 0, 3600
	missing := key("a", "zz-missing", "none", 0)
	missing.Exists, missing.HasLength = false, false
	balpha := key("b", "alpha", "zset", 40)
	balpha.MemoryBytes, balpha.TTLSeconds = 200, 5
	return []redis.KeySnapshot{beta, alpha, gamma, missing, balpha} // the source's order
}

// ktRows returns the rows of a /keys page as "instance/key", in order.
func ktRows(t *testing.T, doc *html.Node) []string {
	t.Helper()
	var out []string
	for _, r := range find(doc, "key-row") {
		c := ktCells(r)
		out = append(out, strings.TrimSuffix(c[0], "/db0")+"/"+c[1])
	}
	return out
}

// ktCells returns the text of a row's cells.
func ktCells(row *html.Node) []string {
	var out []string
	for c := row.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
			out = append(out, text(c))
		}
	}
	return out
}

func ktHasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func ktGet(t *testing.T, e *env, c *http.Client, path string) *html.Node {
	t.Helper()
	res, body := e.do(c, "GET", path, nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %.300s", path, res.StatusCode, body)
	}
	return parse(t, body)
}

func TestKeysSortSearchChange(t *testing.T) {
	e := newEnv(t)
	keys := ktKeys()
	e.redis.set(nil, keys, nil)
	now := time.Now()
	ktWriteTrend(t, e.db, now, &keys[1], 100, 150) // a/alpha +50
	ktWriteTrend(t, e.db, now, &keys[0], 80, 50)   // a/Beta -30
	ktWriteTrend(t, e.db, now, &keys[2], 20, 20)   // a/gamma 0
	ktWriteTrend(t, e.db, now, &keys[4], 30, 40)   // b/alpha +10
	e.db.Flush()
	c := e.login("viewer", viewerPass)

	f := func(query string, want ...string) *html.Node {
		t.Helper()
		doc := ktGet(t, e, c, "/keys?"+query)
		if got := ktRows(t, doc); !slices.Equal(got, want) {
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

	// The change over the range, from the written samples, with either sort.
	if got := texts(doc, "key-change"); !slices.Equal(got, []string{"-30", "+50", "0", "—", "+10"}) {
		t.Errorf("changes %q", got)
	}
	if got := texts(changed, "key-change"); !slices.Equal(got, []string{"+50", "+10", "0", "-30", "—"}) {
		t.Errorf("changes sorted by change %q", got)
	}
	// A sparkline per row: points where samples exist, with a summary of first → last.
	sparks := find(doc, "sparkline")
	if len(sparks) != 5 {
		t.Fatalf("%d sparklines", len(sparks))
	}
	for i, want := range []string{"Length over 1h: 80 items → 50 items", "Length over 1h: 100 items → 150 items", "Length over 1h: 20 B → 20 B", "Length over 1h: no data", "Length over 1h: 30 items → 40 items"} {
		if got := attr(sparks[i], "aria-label"); got != want {
			t.Errorf("sparkline %d: %q, want %q", i, got, want)
		}
		n, _ := strconv.Atoi(attr(sparks[i], "data-points"))
		if i == 3 && n != 0 || i != 3 && (n < 30 || n > 60) {
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

func TestKeysPagingAndLinks(t *testing.T) {
	e := newEnv(t)
	many := make([]redis.KeySnapshot, 600)
	for i := range many {
		many[i] = key("cache", fmt.Sprintf("p%03d", i), "list", int64(i))
	}
	e.redis.set(nil, many, nil)
	c := e.login("viewer", viewerPass)
	names := func(doc *html.Node) []string { return texts(doc, "key-name") }

	doc := ktGet(t, e, c, "/keys")
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

	doc = ktGet(t, e, c, "/keys?page=12")
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
	doc = ktGet(t, e, c, "/keys?page=999&per=100")
	if got := names(doc); len(got) != 100 || got[0] != "p500" || text(one(t, doc, "pager-range")) != "501–600 of 600" {
		t.Errorf("page past the end: %d rows, %q", len(got), text(one(t, doc, "pager-range")))
	}
	if got := names(ktGet(t, e, c, "/keys?page=0")); len(got) != 50 || got[0] != "p000" {
		t.Errorf("page 0: %d rows", len(got))
	}
	// per is capped at 500; 0 is the default.
	if got := names(ktGet(t, e, c, "/keys?per=100000")); len(got) != 500 {
		t.Errorf("per=100000 gave %d rows", len(got))
	}
	if got := names(ktGet(t, e, c, "/keys?per=0")); len(got) != 50 {
		t.Errorf("per=0 gave %d rows", len(got))
	}

	// Sort headers keep the other parameters, drop the page, and toggle the sorted column.
	doc = ktGet(t, e, c, "/keys?q=p&instance=cache&range=6h&per=20&page=2&sort=length")
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

func TestKeysBadParameters(t *testing.T) {
	e := newEnv(t)
	e.fill()
	c := e.login("viewer", viewerPass)
	id := redis.KeyID("cache", 0, "queue:Emails")
	for _, path := range []string{
		"/keys?range=2h", "/keys?from=yesterday", "/keys?from=1700000000&to=1600000000",
		"/keys?sort=size", "/keys?dir=up", "/keys?per=-1", "/keys?page=x",
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

func TestKeyDetail(t *testing.T) {
	e := newEnv(t)
	e.fill()
	k := key("cache", "queue:Detail", "list", 1234567)
	k.Pattern = "queue:*"
	e.redis.set(e.redis.Instances(), append(e.redis.Keys(), k), nil)
	now := time.Now()
	// 120 sampling rounds, 10 s apart; memory every 6th round.
	var ss []tsdb.Sample
	for i := range 120 {
		ts := now.Add(-time.Duration(119-i) * 10 * time.Second).UnixMilli()
		l := ktLabels(&k)
		ss = append(ss,
			tsdb.Sample{Name: "redis_key_length", Labels: l, Timestamp: ts, Value: float64(1000 + i)},
			tsdb.Sample{Name: "redis_key_ttl_seconds", Labels: l, Timestamp: ts, Value: -1},
			tsdb.Sample{Name: "redis_key_exists", Labels: l, Timestamp: ts, Value: 1},
		)
		if i%6 == 0 {
			ss = append(ss, tsdb.Sample{Name: "redis_key_memory_bytes", Labels: l, Timestamp: ts, Value: 2048})
		}
	}
	if err := e.db.Write(ss); err != nil {
		t.Fatal(err)
	}
	e.db.Flush()
	c := e.login("viewer", viewerPass)
	path := "/keys/" + k.ID

	doc := ktGet(t, e, c, path)
	if got := text(one(t, doc, "key-detail-name")); got != "queue:Detail" {
		t.Errorf("name %q", got)
	}
	if got := text(one(t, doc, "key-detail-length")); got != "1,234,567" {
		t.Errorf("live length %q", got)
	}
	if got := text(one(t, doc, "key-detail-pattern")); got != "queue:*" {
		t.Errorf("pattern %q", got)
	}
	if got := text(one(t, doc, "snapshot-count")); got != "120 snapshots" {
		t.Errorf("count %q", got)
	}
	rows := find(doc, "snapshot-row")
	if len(rows) != 50 {
		t.Fatalf("%d snapshot rows on page 1", len(rows))
	}
	var last int64 = 1 << 62
	for _, r := range rows {
		ts, _ := strconv.ParseInt(attr(r, "data-ts"), 10, 64)
		if ts >= last {
			t.Fatalf("snapshots not newest first")
		}
		last = ts
	}
	if got := texts(doc, "snapshot-length")[:3]; !slices.Equal(got, []string{"1,119", "1,118", "1,117"}) {
		t.Errorf("newest lengths %q", got)
	}
	if got := texts(doc, "snapshot-memory")[:7]; !slices.Equal(got, []string{"—", "—", "—", "—", "—", "2.0 KiB", "—"}) {
		t.Errorf("memory merged by timestamp: %q", got)
	}
	if got := texts(doc, "snapshot-ttl")[0] + " " + texts(doc, "snapshot-exists")[0]; got != "no expiry yes" {
		t.Errorf("ttl and exists %q", got)
	}
	// Charts of the key over the page's range, built from its labels.
	var charts []string
	for n := range one(t, doc, "key-charts").Descendants() {
		if ktHasAttr(n, "data-chart") {
			charts = append(charts, attr(n, "data-query"))
		}
	}
	if len(charts) != 2 || charts[0] != `redis_key_length{instance="cache",db="0",key="queue:Detail"}` {
		t.Errorf("charts %q", charts)
	}

	// Paging: page 3 holds the oldest 20; past the end is the last page.
	doc = ktGet(t, e, c, path+"?page=3")
	if got := texts(doc, "snapshot-length"); len(got) != 20 || got[19] != "1,000" || text(one(t, doc, "pager-range")) != "101–120 of 120" {
		t.Errorf("page 3: %d rows", len(got))
	}
	if got := attr(one(t, doc, "pager-prev"), "href"); got != path+"?page=2" {
		t.Errorf("prev %q", got)
	}
	if got := texts(ktGet(t, e, c, path+"?page=40"), "snapshot-length"); len(got) != 20 {
		t.Errorf("page past the end: %d rows", len(got))
	}
	// A range without samples.
	doc = ktGet(t, e, c, path+"?from=1600000000&to=1600003600")
	one(t, doc, "no-snapshots")

	// Export links: well formed, and they answer the range's samples.
	doc = ktGet(t, e, c, path)
	exp := attr(one(t, doc, "export-csv"), "href")
	u, err := url.Parse(exp)
	if err != nil || u.Path != "/api/v1/export" || u.Query().Get("format") != "csv" || len(u.Query()["match[]"]) != 4 {
		t.Fatalf("export link %q", exp)
	}
	if got := u.Query()["match[]"][0]; got != `redis_key_length{instance="cache",db="0",key="queue:Detail"}` {
		t.Errorf("export selector %q", got)
	}
	start, _ := strconv.ParseInt(u.Query().Get("start"), 10, 64)
	end, _ := strconv.ParseFloat(u.Query().Get("end"), 64)
	if d := end - float64(start); d < 3599 || d > 3601 {
		t.Errorf("export spans %v s", d)
	}
	res, body := e.do(c, "GET", exp, nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET %s: %d %s", exp, res.StatusCode, res.Header.Get("Content-Type"))
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"__name__", "db", "instance", "key", "type", "timestamp_ms", "value"}; !slices.Equal(recs[0], want) {
		t.Errorf("csv header %q", recs[0])
	}
	perName := map[string]int{}
	for _, r := range recs[1:] {
		perName[r[0]]++
		if r[3] != "queue:Detail" {
			t.Errorf("csv row of key %q", r[3])
		}
	}
	if perName["redis_key_length"] != 120 || perName["redis_key_memory_bytes"] != 20 || perName["redis_key_exists"] != 120 || perName["redis_key_ttl_seconds"] != 120 {
		t.Errorf("csv rows per series %v", perName)
	}
	jsonURL := attr(one(t, doc, "export-json"), "href")
	res, body = e.do(c, "GET", jsonURL, nil)
	if res.StatusCode != http.StatusOK || strings.Count(strings.TrimSpace(body), "\n") != 3 || !strings.Contains(body, `"key":"queue:Detail"`) {
		t.Errorf("GET %s: %d, %d lines", jsonURL, res.StatusCode, strings.Count(body, "\n"))
	}

	// The live part alone, for polling.
	res, body = e.do(c, "GET", path+"?fragment=key-live", nil, "HX-Request: true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("fragment: %d", res.StatusCode)
	}
	frag := assertFragment(t, body, "key-live")
	if got := text(one(t, frag, "key-detail-length")); got != "1,234,567" {
		t.Errorf("fragment length %q", got)
	}

	// Unknown ids: 404, for a page and for its fragment.
	for _, p := range []string{"/keys/0000000000000000", "/keys/not-an-id", "/keys/0000000000000000?fragment=key-live", "/keys/" + strings.ToUpper(k.ID)} {
		res, body := e.do(c, "GET", p, nil, "Accept: text/html")
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
		} else if !strings.Contains(p, "fragment") && len(find(parse(t, body), "error-page")) != 1 {
			t.Errorf("GET %s: no error page", p)
		}
	}

	// A key no longer watched but in storage: its history, without live values.
	e.redis.set(e.redis.Instances(), nil, nil)
	doc = ktGet(t, e, c, path)
	one(t, doc, "key-not-watched")
	if n := len(find(doc, "snapshot-row")); n != 50 {
		t.Errorf("unwatched key: %d snapshot rows", n)
	}
	if res, _ := e.do(c, "GET", path+"?fragment=key-live", nil, "HX-Request: true"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unwatched key's live fragment: %d", res.StatusCode)
	}
}

// Hostile and binary keys are text everywhere, and their history is found.
func TestKeysHostileNames(t *testing.T) {
	e := newEnv(t)
	names := []string{hostileKey, `quote"and\backslash`, "new\nline", "nul\x00byte", "\xff\xfeinvalid", `or} {x="y"`, "ключ"}
	var keys []redis.KeySnapshot
	for _, n := range names {
		keys = append(keys, key("cache", n, "list", 7))
	}
	e.redis.set(nil, keys, nil)
	now := time.Now()
	for i := range keys {
		ktWriteTrend(t, e.db, now, &keys[i], 1, 8)
	}
	e.db.Flush()
	c := e.login("viewer", viewerPass)

	noImg := func(path string) *html.Node {
		t.Helper()
		doc := ktGet(t, e, c, path)
		for n := range doc.Descendants() {
			if n.Type == html.ElementNode && n.Data == "img" {
				t.Fatalf("%s: a key rendered as an <img>", path)
			}
		}
		return doc
	}
	doc := noImg("/keys?sort=change")
	if got := texts(doc, "key-change"); len(got) != len(names) || slices.ContainsFunc(got, func(s string) bool { return s != "+7" }) {
		t.Errorf("changes of odd keys %q", got)
	}
	if got := text(find(doc, "key-name")[slices.IndexFunc(ktRows(t, doc), func(s string) bool { return strings.Contains(s, "img") })]); got != hostileKey {
		t.Errorf("hostile key shown as %q", got)
	}
	// The page's own query (not the all-keys one) finds them too.
	doc = noImg("/keys")
	if got := texts(doc, "key-change"); slices.Contains(got, "—") {
		t.Errorf("a key's trend was not found: %q", got)
	}
	for _, s := range find(doc, "sparkline") {
		if attr(s, "data-points") == "0" {
			t.Errorf("empty sparkline: %s", attr(s, "aria-label"))
		}
	}
	doc = noImg("/keys/" + redis.KeyID("cache", 0, hostileKey))
	if got := text(one(t, doc, "key-detail-name")); got != hostileKey {
		t.Errorf("detail name %q", got)
	}
	if n := len(find(doc, "snapshot-row")); n != 50 {
		t.Errorf("%d snapshot rows of the hostile key", n)
	}
	doc = noImg("/keys/" + redis.KeyID("cache", 0, "nul\x00byte"))
	if got := text(one(t, doc, "key-detail-name")); got != `nul\x00byte` {
		t.Errorf("binary name shown as %q", got)
	}
	doc = noImg("/")
	if n := len(find(doc, "top-key-row")); n != len(names) {
		t.Errorf("%d top keys, want %d", n, len(names))
	}
}

func TestOverviewTopKeys(t *testing.T) {
	e := newEnv(t)
	c := e.login("viewer", viewerPass)
	doc := ktGet(t, e, c, "/")
	if got := text(one(t, doc, "no-top-keys")); got != "No keys are watched." {
		t.Errorf("no keys: %q", got)
	}
	if got := text(one(t, doc, "overview-alerts")); !strings.Contains(got, "No alerts firing") {
		t.Errorf("firing alerts without an engine: %q", got)
	}

	var keys []redis.KeySnapshot
	for i := range 14 {
		keys = append(keys, key("cache", fmt.Sprintf("k%02d", i), "list", 1))
	}
	e.redis.set(nil, keys, nil)
	now := time.Now()
	for i := range 12 {
		ktWriteTrend(t, e.db, now, &keys[i], 100, float64(100+i+1)) // +1 … +12
	}
	ktWriteTrend(t, e.db, now, &keys[12], 500, 400) // -100: the biggest move
	ktWriteTrend(t, e.db, now, &keys[13], 9, 9)     // no move: never listed
	e.db.Flush()

	doc = ktGet(t, e, c, "/")
	rows := find(one(t, doc, "top-keys"), "top-key-row")
	if len(rows) != 10 {
		t.Fatalf("%d top keys, want 10", len(rows))
	}
	if got := texts(doc, "top-key-name"); !slices.Equal(got, []string{"k12", "k11", "k10", "k09", "k08", "k07", "k06", "k05", "k04", "k03"}) {
		t.Errorf("top keys %q", got)
	}
	if got := texts(doc, "top-key-change")[:2]; !slices.Equal(got, []string{"-100", "+12"}) {
		t.Errorf("changes %q", got)
	}
	for _, r := range rows {
		var href string
		for n := range r.Descendants() {
			if n.Data == "a" && href == "" {
				href = attr(n, "href")
			}
		}
		if href != "/keys/"+attr(r, "data-key-id") {
			t.Errorf("top key links to %q", href)
		}
		if s := one(t, r, "sparkline"); attr(s, "data-points") == "0" {
			t.Errorf("top key without sparkline points")
		}
	}
	res, body := e.do(c, "GET", "/?fragment=top-keys", nil, "HX-Request: true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("fragment: %d", res.StatusCode)
	}
	if n := len(find(assertFragment(t, body, "top-keys-table"), "top-key-row")); n != 10 {
		t.Errorf("fragment: %d rows", n)
	}
}

// countingStore counts the all-keys change queries (a bare redis_key_length selector).
type countingStore struct {
	Store
	allKeys atomic.Int32
}

func (s *countingStore) QueryRange(ctx context.Context, q tsdb.RangeQuery) ([]tsdb.Series, error) {
	if q.Selector.String() == "redis_key_length" {
		s.allKeys.Add(1)
	}
	return s.Store.QueryRange(ctx, q)
}

// Polling a page sorted by change reuses the all-keys computation for ui.refresh.
func TestKeysChangeSortIsCached(t *testing.T) {
	e := newEnv(t)
	e.fill()
	cs := &countingStore{Store: e.db}
	e.srv.opts.Store = cs
	e.srv.opts.Refresh = time.Hour
	c := e.login("viewer", viewerPass)
	for range 3 {
		ktGet(t, e, c, "/keys?sort=change&fragment=key-table")
	}
	ktGet(t, e, c, "/")
	if n := cs.allKeys.Load(); n != 1 {
		t.Errorf("%d all-keys queries for one range, want 1", n)
	}
	ktGet(t, e, c, "/keys?sort=change&range=6h")
	ktGet(t, e, c, "/keys")
	if n := cs.allKeys.Load(); n != 2 {
		t.Errorf("%d all-keys queries for two ranges, want 2", n)
	}
}

func TestChangeCache(t *testing.T) {
	var c changeCache
	t0 := time.Unix(1700000000, 0)
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func() (map[keyIdent]keyTrend, error) {
		calls.Add(1)
		<-release
		return map[keyIdent]keyTrend{{key: "k"}: {OK: true}}, nil
	}
	// Concurrent requests for one range compute it once.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if m, err := c.get("1h", t0, time.Second, compute); err != nil || !m[keyIdent{key: "k"}].OK {
				t.Errorf("get: %v %v", m, err)
			}
		})
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d computations, want 1", n)
	}
	c.get("1h", t0.Add(999*time.Millisecond), time.Second, compute)
	if n := calls.Load(); n != 1 {
		t.Errorf("recomputed within the ttl")
	}
	c.get("1h", t0.Add(time.Second), time.Second, compute)
	if n := calls.Load(); n != 2 {
		t.Errorf("not recomputed after the ttl")
	}
	// A failure is not kept.
	fail := func() (map[keyIdent]keyTrend, error) { calls.Add(1); return nil, errors.New("boom") }
	if _, err := c.get("6h", t0, time.Second, fail); err == nil {
		t.Errorf("error lost")
	}
	c.get("6h", t0, time.Second, compute)
	if n := calls.Load(); n != 4 {
		t.Errorf("%d computations: a failure was cached", n)
	}
	// Bounded.
	for i := range 3 * changeCacheEntries {
		c.get(strconv.Itoa(i), t0, time.Hour, compute)
	}
	if n := len(c.entries); n > changeCacheEntries {
		t.Errorf("%d entries cached", n)
	}
}

func TestGridQuery(t *testing.T) {
	end := time.Unix(1700000000, 500e6)
	for _, c := range []struct {
		span      time.Duration
		intervals int
		step      time.Duration
	}{
		{time.Hour, changeIntervals, 5 * time.Minute},
		{time.Hour, sparkIntervals, 63 * time.Second},
		{15 * time.Minute, changeIntervals, 75 * time.Second},
		{30 * 24 * time.Hour, sparkIntervals, 44690 * time.Second},
	} {
		q := gridQuery(nil, timeRange{Start: end.Add(-c.span), End: end}, c.intervals)
		if q.Step != c.step || !q.End.Equal(end) || q.Start.After(end.Add(-c.span)) || q.End.Sub(q.Start) != time.Duration(c.intervals)*c.step {
			t.Errorf("%s / %d: step %s, %s..%s", c.span, c.intervals, q.Step, q.Start, q.End)
		}
	}
}

func TestChangeQuery(t *testing.T) {
	end := time.Date(2026, 3, 4, 5, 7, 31, 0, time.UTC)
	edge := time.Date(2026, 3, 4, 5, 5, 0, 0, time.UTC) // the last bucket edge
	live := timeRange{Key: "1h", Start: end.Add(-time.Hour), End: end, Live: true}
	f := func(name string, r timeRange, w time.Time, start, stop time.Time, step time.Duration) {
		t.Helper()
		q := changeQuery(nil, r, w)
		if !q.Start.Equal(start) || !q.End.Equal(stop) || q.Step != step {
			t.Errorf("%s: %s..%s step %s, want %s..%s step %s", name, q.Start, q.End, q.Step, start, stop, step)
		}
		if q.Start.After(r.Start) {
			t.Errorf("%s: starts after the range", name)
		}
	}
	// Rollups up to the watermark: the grid ends there, on a bucket edge, whole buckets a step.
	f("live 1h", live, edge, edge.Add(-time.Hour), edge, 5*time.Minute)
	// No rollups, or too far behind: the plain grid, ending at the range's end.
	f("no rollups", live, time.Time{}, end.Add(-time.Hour), end, 5*time.Minute)
	f("watermark behind", live, edge.Add(-10*time.Minute), end.Add(-time.Hour), end, 5*time.Minute)
	// A short range reads raw samples up to its end.
	short := timeRange{Key: "15m", Start: end.Add(-15 * time.Minute), End: end, Live: true}
	f("15m", short, edge, end.Add(-15*time.Minute), end, 75*time.Second)
	// A fixed range in the past ends on the bucket edge before its end.
	fixed := timeRange{Key: "custom", Start: end.Add(-24 * time.Hour), End: end}
	f("fixed 24h", fixed, edge.Add(24*time.Hour), edge.Add(-24*time.Hour), edge, 2*time.Hour)
	odd := timeRange{Key: "custom", Start: end.Add(-100 * time.Minute), End: end}
	f("fixed 100m", odd, edge, edge.Add(-12*10*time.Minute), edge, 10*time.Minute)
}

func TestKeysViewerAndNoSource(t *testing.T) {
	e := newEnv(t)
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
	e.srv.opts.Redis, e.srv.page.redis = noRedis{}, noRedis{}
	if res, _ := e.do(c, "GET", "/keys/"+id, nil, "Accept: text/html"); res.StatusCode != http.StatusNotFound {
		t.Errorf("key page without a source or history: %d", res.StatusCode)
	}
	doc := ktGet(t, e, c, "/keys?sort=change")
	one(t, doc, "no-keys")
}

// A 70 KB key: the list clips it and says its size; its page works (snapshots, trend), its
// charts and export links select its stored (shortened) label, which finds its series, and
// /api/keys keeps the full name next to the label used.
func TestKeysLongName(t *testing.T) {
	e := newEnv(t)
	long := "x:" + strings.Repeat("a", 70_000)
	k := key("cache", long, "list", 7)
	k.KeyLabel = tsdb.LabelValue(long)
	e.redis.set(nil, []redis.KeySnapshot{k}, nil)
	now := time.Now()
	ktWriteTrend(t, e.db, now, &k, 1, 8)
	e.db.Flush()
	c := e.login("viewer", viewerPass)

	doc := ktGet(t, e, c, "/keys")
	if got := text(one(t, doc, "key-name")); got != "x:"+strings.Repeat("a", 198)+"… (70,002 bytes)" {
		t.Errorf("long key shown as %.30q...%q", got, got[len(got)-20:])
	}
	if got := texts(doc, "key-change"); !slices.Equal(got, []string{"+7"}) {
		t.Errorf("change of the long key %q", got)
	}
	doc = ktGet(t, e, c, "/keys/"+k.ID)
	name := one(t, doc, "key-detail-name")
	if attr(name, "title") != long || !strings.HasSuffix(text(name), "… (70,002 bytes)") {
		t.Errorf("detail name: %d bytes shown, title %d bytes", len(text(name)), len(attr(name, "title")))
	}
	if n := len(find(doc, "snapshot-row")); n != 50 {
		t.Errorf("%d snapshot rows of the long key", n)
	}
	var query string
	for n := range one(t, doc, "key-charts").Descendants() {
		if ktHasAttr(n, "data-chart") && query == "" {
			query = attr(n, "data-query")
		}
	}
	if want := `redis_key_length{instance="cache",db="0",key="` + k.KeyLabel + `"}`; query != want {
		t.Fatalf("chart query %.80q..., want the stored label", query)
	}
	res, body := e.do(c, "GET", "/api/v1/query_range?query="+url.QueryEscape(query)+"&start="+strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)+
		"&end="+strconv.FormatInt(now.Unix(), 10)+"&step=60", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"values":[[`) {
		t.Fatalf("chart query: %d %.300s", res.StatusCode, body)
	}
	if exp := attr(one(t, doc, "export-csv"), "href"); len(exp) > 20_000 {
		t.Errorf("export link of %d bytes", len(exp))
	}

	res, body = e.do(c, "GET", "/api/keys", nil)
	var got struct {
		Keys []struct {
			Key      string `json:"key"`
			KeyLabel string `json:"key_label"`
		} `json:"keys"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil || len(got.Keys) != 1 {
		t.Fatalf("/api/keys: %d", res.StatusCode)
	}
	if got.Keys[0].Key != long || got.Keys[0].KeyLabel != k.KeyLabel {
		t.Errorf("/api/keys: key %d bytes, key_label %d bytes", len(got.Keys[0].Key), len(got.Keys[0].KeyLabel))
	}
}
