package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/tsdb"
)

// Hostile and binary keys are text everywhere, and their history is found: a real store, whose
// stored (encoded) labels the pages must map their keys to.
func TestKeysHostileNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	names := []string{hostileKey, `quote"and\backslash`, "new\nline", "nul\x00byte", "\xff\xfeinvalid", `or} {x="y"`, "ключ"}
	var keys []redis.KeySnapshot
	for _, n := range names {
		keys = append(keys, key("cache", n, "list", 7))
	}
	e.redis.set(nil, keys, nil)
	now := time.Now()
	for i := range keys {
		writeKeyTrend(t, e.db, now, &keys[i], 1, 8)
	}
	e.db.Flush()
	c := e.login("viewer", viewerPass)

	noImg := func(path string) *html.Node {
		t.Helper()
		doc := e.page(t, c, path)
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
	if got := text(find(doc, "key-name")[slices.IndexFunc(keyRows(t, doc), func(s string) bool { return strings.Contains(s, "img") })]); got != hostileKey {
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

// A 70 KB key: the list clips it and says its size; its page works (snapshots, trend), its
// charts and export links select its stored (shortened) label, which finds its series, and
// /api/keys keeps the full name next to the label used.
func TestKeysLongName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := "x:" + strings.Repeat("a", 70_000)
	k := key("cache", long, "list", 7)
	k.KeyLabel = tsdb.LabelValue(long)
	e.redis.set(nil, []redis.KeySnapshot{k}, nil)
	now := time.Now()
	writeKeyTrend(t, e.db, now, &k, 1, 8)
	e.db.Flush()
	c := e.login("viewer", viewerPass)

	doc := e.page(t, c, "/keys")
	if got := text(one(t, doc, "key-name")); got != "x:"+strings.Repeat("a", 198)+"… (70,002 bytes)" {
		t.Errorf("long key shown as %.30q...%q", got, got[len(got)-20:])
	}
	if got := texts(doc, "key-change"); !slices.Equal(got, []string{"+7"}) {
		t.Errorf("change of the long key %q", got)
	}
	doc = e.page(t, c, "/keys/"+k.ID)
	name := one(t, doc, "key-detail-name")
	if attr(name, "title") != long || !strings.HasSuffix(text(name), "… (70,002 bytes)") {
		t.Errorf("detail name: %d bytes shown, title %d bytes", len(text(name)), len(attr(name, "title")))
	}
	if n := len(find(doc, "snapshot-row")); n != 50 {
		t.Errorf("%d snapshot rows of the long key", n)
	}
	var query string
	for n := range one(t, doc, "key-charts").Descendants() {
		if hasAttr(n, "data-chart") && query == "" {
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
