package web

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// A key's page: live values, charts, its raw snapshots read back from storage and paged, the
// export links answering the stored samples, 404s, and the history of a key no longer watched.
func TestKeyDetail(t *testing.T) {
	t.Parallel()
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
		l := keyLabels(&k)
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

	doc := e.page(t, c, path)
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
		if hasAttr(n, "data-chart") {
			charts = append(charts, attr(n, "data-query"))
		}
	}
	if len(charts) != 2 || charts[0] != `redis_key_length{instance="cache",db="0",key="queue:Detail"}` {
		t.Errorf("charts %q", charts)
	}

	// Paging: page 3 holds the oldest 20; past the end is the last page.
	doc = e.page(t, c, path+"?page=3")
	if got := texts(doc, "snapshot-length"); len(got) != 20 || got[19] != "1,000" || text(one(t, doc, "pager-range")) != "101–120 of 120" {
		t.Errorf("page 3: %d rows", len(got))
	}
	if got := attr(one(t, doc, "pager-prev"), "href"); got != path+"?page=2" {
		t.Errorf("prev %q", got)
	}
	if got := texts(e.page(t, c, path+"?page=40"), "snapshot-length"); len(got) != 20 {
		t.Errorf("page past the end: %d rows", len(got))
	}
	// A range without samples.
	doc = e.page(t, c, path+"?from=1600000000&to=1600003600")
	one(t, doc, "no-snapshots")

	// Export links: well formed, and they answer the range's samples.
	doc = e.page(t, c, path)
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
	doc = e.page(t, c, path)
	one(t, doc, "key-not-watched")
	if n := len(find(doc, "snapshot-row")); n != 50 {
		t.Errorf("unwatched key: %d snapshot rows", n)
	}
	if res, _ := e.do(c, "GET", path+"?fragment=key-live", nil, "HX-Request: true"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unwatched key's live fragment: %d", res.StatusCode)
	}
}
