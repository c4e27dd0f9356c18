package pages_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/internal/htmltest"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

func keyDetail() pages.KeyDetailProps {
	return pages.KeyDetailProps{
		Layout:   layout("alice", "viewer"),
		ID:       "0123456789abcdef",
		Instance: "cache",
		DB:       2,
		Key:      `<img src=x onerror=alert(1)>`,
		Pattern:  "queue:*",
		Type:     "stream",
		Live: pages.KeyLiveProps{
			Watched: true, Type: "stream", Exists: true, Length: 1234, HasLength: true, MemoryBytes: 4096, TTLSeconds: -1,
			LastSampled: t0, Now: t0.Add(3 * time.Second), PollURL: "/keys/0123456789abcdef?fragment=key-live",
			Groups: []pages.StreamGroupRow{{Name: "workers", Consumers: 3, Pending: 12, Lag: -1}},
		},
		Range:        components.RangeProps{Current: "1h", Action: "/keys/0123456789abcdef"},
		RangeSeconds: 3600,
		Snapshots: []pages.SnapshotRow{
			{Time: t0, Length: 1234, HasLength: true, MemoryBytes: 4096, HasMemory: true, TTLSeconds: -1, HasTTL: true, Exists: true, HasExists: true},
			{Time: t0.Add(-10 * time.Second), Length: 1200, HasLength: true, TTLSeconds: -1, HasTTL: true, Exists: true, HasExists: true},
		},
		SnapshotTotal: 52, SnapshotOffset: 50,
		PrevURL:    "/keys/0123456789abcdef",
		ExportCSV:  "/api/v1/export?format=csv&match%5B%5D=x",
		ExportJSON: "/api/v1/export?format=json&match%5B%5D=x",
	}
}

func TestKeyDetailPage(t *testing.T) {
	p := keyDetail()
	d := htmltest.Render(t, pages.KeyDetail(p))
	if strings.Contains(d.HTML, "<img") {
		t.Fatalf("hostile key rendered unescaped")
	}
	if got := htmltest.Text(d.One(t, "key-detail-name")); got != p.Key {
		t.Errorf("name %q", got)
	}
	for id, want := range map[string]string{
		"key-detail-instance": "cache", "key-detail-db": "db 2", "key-detail-type": "stream",
		"key-detail-pattern": "queue:*", "key-detail-length": "1,234", "key-detail-memory": "4.0 KiB",
		"key-detail-ttl": "no expiry", "key-detail-exists": "yes", "key-detail-sampled": "3s ago",
		"snapshot-count": "52 snapshots", "pager-range": "51–52 of 52",
	} {
		if got := htmltest.Text(d.One(t, id)); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	if got := htmltest.Attr(d.One(t, "key-live"), "hx-get"); got != p.Live.PollURL {
		t.Errorf("live part polls %q", got)
	}
	if got := htmltest.Attr(d.One(t, "key-live"), "hx-trigger"); got != "every 3000ms" {
		t.Errorf("live part trigger %q", got)
	}
	if got := keyTexts(d, "group-lag"); !slices.Equal(got, []string{"—"}) {
		t.Errorf("group lag %q", got)
	}

	// Charts of the key, a stream's group charts too, all over the page's range.
	var queries []string
	for _, n := range htmltest.All(d.One(t, "key-charts"), func(n *htmltest.Node) bool { _, ok := htmltest.LookupAttr(n, "data-chart"); return ok }) {
		queries = append(queries, htmltest.Attr(n, "data-query"))
		if htmltest.Attr(n, "data-range") != "3600" {
			t.Errorf("chart range %q", htmltest.Attr(n, "data-range"))
		}
	}
	wantLen := `redis_key_length{instance="cache",db="2",key="<img src=x onerror=alert(1)>"}`
	if len(queries) != 4 || queries[0] != wantLen || !strings.HasPrefix(queries[2], "redis_stream_group_lag{") {
		t.Errorf("chart queries %q", queries)
	}
	d.One(t, "range-picker")

	rows := d.ByTestID("snapshot-row")
	if len(rows) != 2 {
		t.Fatalf("%d snapshot rows", len(rows))
	}
	if got := keyTexts(d, "snapshot-time"); !slices.Equal(got, []string{"2023-11-14 22:13:20", "2023-11-14 22:13:10"}) {
		t.Errorf("times %q", got)
	}
	if got := keyTexts(d, "snapshot-memory"); !slices.Equal(got, []string{"4.0 KiB", "—"}) {
		t.Errorf("memory %q", got)
	}
	if got := keyTexts(d, "snapshot-length"); !slices.Equal(got, []string{"1,234", "1,200"}) {
		t.Errorf("lengths %q", got)
	}
	if htmltest.Attr(d.One(t, "pager-prev"), "href") != p.PrevURL || d.One(t, "pager-next").Data != "span" {
		t.Errorf("snapshot pager links wrong")
	}
	if htmltest.Attr(d.One(t, "export-csv"), "href") != p.ExportCSV || htmltest.Attr(d.One(t, "export-json"), "href") != p.ExportJSON {
		t.Errorf("export links wrong")
	}
	nav := htmltest.All(d.One(t, "nav"), func(n *htmltest.Node) bool { return htmltest.Attr(n, "aria-current") == "page" })
	if len(nav) != 1 || htmltest.Attr(nav[0], "data-nav") != layouts.NavKeys {
		t.Errorf("active nav wrong")
	}

	f := htmltest.RenderFragments(t, pages.KeyDetail(p), pages.FragmentKeyLive)
	assertOnly(t, f, "key-live")
	f.One(t, "key-detail-length")
	f.None(t, "snapshot-row")

	// A key that is gone: no live values, no polling; empty range.
	p.Live = pages.KeyLiveProps{}
	p.Snapshots, p.SnapshotTotal = nil, 0
	d = htmltest.Render(t, pages.KeyDetail(p))
	d.One(t, "key-not-watched")
	d.None(t, "key-detail-length")
	d.One(t, "no-snapshots")
	d.None(t, "snapshot-pager")
	if _, ok := htmltest.LookupAttr(d.One(t, "key-live"), "hx-get"); ok {
		t.Errorf("an unwatched key's live part polls")
	}
}

func TestOverviewTopKeysAndAlerts(t *testing.T) {
	p := pages.OverviewProps{
		Layout: layout("alice", "viewer"),
		TopKeys: partials.TopKeysProps{
			Rows:    []partials.TopKeyRow{{ID: "00000000000000aa", Instance: "a", Key: "q", Change: 5, Exists: true, HasLength: true, Length: 5}},
			Watched: 1, RangeKey: "1h", PollURL: "/?fragment=top-keys",
		},
	}
	d := htmltest.Render(t, pages.Overview(p))
	top := d.One(t, "top-keys")
	if n := len(htmltest.All(top, func(n *htmltest.Node) bool { return htmltest.Attr(n, "data-testid") == "top-key-row" })); n != 1 {
		t.Errorf("%d top key rows", n)
	}
	if got := htmltest.Text(d.One(t, "overview-alerts")); !strings.Contains(got, "No alerts firing") {
		t.Errorf("alerts section %q", got)
	}
	if got := htmltest.Attr(d.One(t, "top-keys-table"), "hx-trigger"); got != "every 3000ms" {
		t.Errorf("top keys trigger %q", got)
	}
	f := htmltest.RenderFragments(t, pages.Overview(p), pages.FragmentTopKeys)
	assertOnly(t, f, "top-keys-table")
	f.One(t, "top-key-row")
	f.None(t, "overview-alerts")
}

// keyTexts returns the text of every element with the data-testid id, in document order.
func keyTexts(d *htmltest.Doc, id string) []string {
	var out []string
	for _, n := range d.ByTestID(id) {
		out = append(out, htmltest.Text(n))
	}
	return out
}
