package partials_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/internal/htmltest"
	"github.com/redwatch/redwatch/views/partials"
)

func keyRow(name string) partials.KeyRow {
	return partials.KeyRow{
		ID: "0123456789abcdef", Instance: "cache", Key: name, Type: "list", Exists: true,
		Length: 42, HasLength: true, MemoryBytes: 2048, TTLSeconds: -1, LastSampled: now.Add(-4 * time.Second),
	}
}

func TestKeyTable(t *testing.T) {
	const hostile = `<img src=x onerror=alert(1)>`
	long := strings.Repeat("x", 10<<10)
	missing := keyRow("gone")
	missing.Exists, missing.Type = false, "none"
	ttl := keyRow("session:1\x00")
	ttl.TTLSeconds, ttl.DB, ttl.Type, ttl.Error = 90, 2, "hash", "WRONGTYPE whatever"
	ttl.Stale = true
	waiting := keyRow("new")
	waiting.LastSampled, waiting.Exists, waiting.HasLength = time.Time{}, false, false
	p := partials.KeyTableProps{
		Patterns: []partials.PatternRow{{Instance: "cache", Pattern: "session:*", Matched: 12000, Tracked: 1000, MaxKeys: 1000, LengthSum: 5, LastScan: now.Add(-time.Minute)}},
		Rows:     []partials.KeyRow{keyRow(hostile), keyRow(long), missing, ttl, waiting},
		Total:    5,
		PollURL:  "/keys?fragment=key-table",
		Now:      now,
	}
	d := htmltest.Render(t, partials.KeyTable(p))
	root := d.One(t, "key-table")
	if htmltest.Attr(root, "hx-get") != "/keys?fragment=key-table" || htmltest.Attr(root, "hx-swap") != "outerHTML" {
		t.Errorf("table does not poll")
	}
	if strings.Contains(d.HTML, "<img") {
		t.Fatalf("hostile key rendered unescaped")
	}
	names := d.ByTestID("key-name")
	if len(names) != 5 {
		t.Fatalf("%d key names", len(names))
	}
	if htmltest.Text(names[0]) != hostile || htmltest.Attr(names[0], "title") != hostile {
		t.Errorf("hostile key shown as %q", htmltest.Text(names[0]))
	}
	// A long key shows its first characters, "…" and its size; its title is bounded too.
	if got := htmltest.Text(names[1]); got != strings.Repeat("x", partials.KeyNameMaxChars)+"… (10,240 bytes)" ||
		htmltest.Attr(names[1], "title") != strings.Repeat("x", components.TitleMaxChars)+"…" {
		t.Errorf("long key: %d runes shown (%.20q), title %d bytes", len([]rune(got)), got[len(got)-20:], len(htmltest.Attr(names[1], "title")))
	}
	if !strings.Contains(htmltest.Attr(names[1], "class"), "truncate") {
		t.Errorf("key cell not truncated by CSS")
	}
	if got := htmltest.Text(names[3]); got != `session:1\x00` {
		t.Errorf("binary key shown as %q", got)
	}
	if got := texts(d, "key-type"); !slices.Equal(got, []string{"list", "list", "none", "hash", "list"}) {
		t.Errorf("types %q", got)
	}
	if got := texts(d, "key-length"); !slices.Equal(got, []string{"42", "42", "—", "42", "—"}) {
		t.Errorf("lengths %q", got)
	}
	if got := texts(d, "key-memory"); !slices.Equal(got, []string{"2.0 KiB", "2.0 KiB", "—", "2.0 KiB", "—"}) {
		t.Errorf("memory %q", got)
	}
	if got := texts(d, "key-ttl"); !slices.Equal(got, []string{"no expiry", "no expiry", "—", "1m 30s", "—"}) {
		t.Errorf("ttl %q", got)
	}
	if got := texts(d, "key-exists"); !slices.Equal(got, []string{"yes", "yes", "no", "yes", "—"}) {
		t.Errorf("exists %q", got)
	}
	if got := texts(d, "key-error"); got[3] != "WRONGTYPE whatever" {
		t.Errorf("errors %q", got)
	}
	sampled := d.ByTestID("key-sampled")
	if htmltest.Attr(sampled[3], "data-stale") != "true" || htmltest.Attr(sampled[0], "data-stale") != "" {
		t.Errorf("stale marking wrong")
	}
	if got := htmltest.Text(sampled[0]); got != "4s ago" {
		t.Errorf("sampled %q", got)
	}
	if got := htmltest.Text(sampled[4]); got != "never" {
		t.Errorf("never sampled %q", got)
	}
	rows := d.ByTestID("key-row")
	if got := cells(rows[3])[0]; got != "cache/db2" {
		t.Errorf("instance cell %q", got)
	}
	if got := cells(rows[0])[0]; got != "cache" {
		t.Errorf("instance cell of db 0 %q", got)
	}
	if got := htmltest.Text(d.One(t, "key-count")); got != "5 keys" {
		t.Errorf("count %q", got)
	}
	if got := texts(d, "pattern-tracked"); !slices.Equal(got, []string{"1000 / 1000"}) {
		t.Errorf("pattern tracked %q", got)
	}
	if got := texts(d, "pattern-matched"); !slices.Equal(got, []string{"12,000"}) {
		t.Errorf("pattern matched %q", got)
	}

	// Rows link to their key's page; every row has a change cell and a sparkline.
	for _, n := range names {
		if a := htmltest.All(n, func(n *htmltest.Node) bool { return n.Data == "a" }); len(a) != 1 || htmltest.Attr(a[0], "href") != "/keys/0123456789abcdef" {
			t.Errorf("key name does not link to its page")
		}
	}
	if got := texts(d, "key-change"); !slices.Equal(got, []string{"—", "—", "—", "—", "—"}) {
		t.Errorf("changes without data %q", got)
	}
	if n := len(d.ByTestID("sparkline")); n != 5 {
		t.Errorf("%d sparklines", n)
	}

	// One page of many.
	p.Total, p.Offset = 12345, 50
	d = htmltest.Render(t, partials.KeyTable(p))
	if got := htmltest.Text(d.One(t, "key-count")); got != "12,345 keys" {
		t.Errorf("count %q", got)
	}
	if got := htmltest.Text(d.One(t, "pager-range")); got != "51–55 of 12,345" {
		t.Errorf("pager %q", got)
	}
}

func TestKeyTableSortAndPager(t *testing.T) {
	up, down, flat := keyRow("up"), keyRow("down"), keyRow("flat")
	up.Change, up.HasChange = 1234, true
	down.Change, down.HasChange = -5, true
	flat.HasChange = true
	up.Spark = components.SparklineProps{Points: []components.SparkPoint{{T: 1, V: 1}, {T: 2, V: 1235}}, Label: "Length over 1h"}
	p := partials.KeyTableProps{
		Rows:  []partials.KeyRow{up, down, flat},
		Total: 103, Offset: 50,
		Sort: partials.KeySortChange, Desc: true,
		SortURLs: map[string]string{
			partials.KeySortName: "/keys?sort=name", partials.KeySortLength: "/keys?sort=length",
			partials.KeySortChange: "/keys?dir=asc&sort=change", partials.KeySortMemory: "/keys?sort=memory",
			partials.KeySortTTL: "/keys?sort=ttl", partials.KeySortType: "/keys?sort=type",
		},
		RangeKey: "6h",
		PrevURL:  "/keys?page=1", NextURL: "/keys?page=3",
		PollURL: "/keys?fragment=key-table&page=2&sort=change", Now: now,
	}
	d := htmltest.Render(t, partials.KeyTable(p))
	if got := texts(d, "key-change"); !slices.Equal(got, []string{"+1,234", "-5", "0"}) {
		t.Errorf("changes %q", got)
	}
	ch := d.ByTestID("key-change")
	if !strings.Contains(htmltest.Attr(ch[0], "class"), "is-up") || !strings.Contains(htmltest.Attr(ch[1], "class"), "is-down") {
		t.Errorf("change classes %q %q", htmltest.Attr(ch[0], "class"), htmltest.Attr(ch[1], "class"))
	}
	if got := htmltest.Attr(d.ByTestID("sparkline")[0], "aria-label"); got != "Length over 1h: 1 → 1235" {
		t.Errorf("sparkline label %q", got)
	}
	for col, want := range p.SortURLs {
		a := d.One(t, "key-sort-"+col)
		if htmltest.Attr(a, "href") != want {
			t.Errorf("sort %s links to %q", col, htmltest.Attr(a, "href"))
		}
		sorted := htmltest.Attr(a.Parent, "aria-sort")
		if col == partials.KeySortChange && sorted != "descending" || col != partials.KeySortChange && sorted != "" {
			t.Errorf("column %s aria-sort %q", col, sorted)
		}
	}
	if got := htmltest.Text(d.One(t, "key-sort-change")); got != "Change 6h" {
		t.Errorf("change header %q", got)
	}
	if got := htmltest.Text(d.One(t, "pager-range")); got != "51–53 of 103" {
		t.Errorf("pager %q", got)
	}
	if htmltest.Attr(d.One(t, "pager-prev"), "href") != "/keys?page=1" || htmltest.Attr(d.One(t, "pager-next"), "href") != "/keys?page=3" {
		t.Errorf("pager links wrong")
	}

	// First and last pages: the missing link is a disabled span of the same size.
	p.PrevURL, p.NextURL = "", ""
	d = htmltest.Render(t, partials.KeyTable(p))
	for _, id := range []string{"pager-prev", "pager-next"} {
		n := d.One(t, id)
		if n.Data != "span" || htmltest.Attr(n, "aria-disabled") != "true" {
			t.Errorf("%s is a <%s> without aria-disabled", id, n.Data)
		}
	}
	// The default sort marks the key column.
	p.Sort, p.Desc = "", false
	d = htmltest.Render(t, partials.KeyTable(p))
	if got := htmltest.Attr(d.One(t, "key-sort-name").Parent, "aria-sort"); got != "ascending" {
		t.Errorf("default sort aria-sort %q", got)
	}
}

func TestTopKeys(t *testing.T) {
	const hostile = `<img src=x onerror=alert(1)>`
	p := partials.TopKeysProps{
		Rows: []partials.TopKeyRow{
			{ID: "00000000000000aa", Instance: "cache", Key: hostile, Type: "list", Exists: true, HasLength: true, Length: 900, Change: -700,
				Spark: components.SparklineProps{Points: []components.SparkPoint{{T: 1, V: 1600}, {T: 2, V: 900}}}},
			{ID: "00000000000000bb", Instance: "cache", DB: 2, Key: "q", Type: "list", Exists: true, HasLength: true, Length: 12, Change: 12},
		},
		Watched: 40, RangeKey: "1h", PollURL: "/?fragment=top-keys",
	}
	d := htmltest.Render(t, partials.TopKeys(p))
	if strings.Contains(d.HTML, "<img") {
		t.Fatalf("hostile key rendered unescaped")
	}
	if got := htmltest.Attr(d.One(t, "top-keys-table"), "hx-get"); got != "/?fragment=top-keys" {
		t.Errorf("polls %q", got)
	}
	rows := d.ByTestID("top-key-row")
	if len(rows) != 2 || htmltest.Attr(rows[0], "data-key-id") != "00000000000000aa" {
		t.Fatalf("%d rows", len(rows))
	}
	if got := htmltest.Text(d.ByTestID("top-key-name")[0]); got != hostile {
		t.Errorf("name %q", got)
	}
	links := htmltest.All(rows[0], func(n *htmltest.Node) bool { return n.Data == "a" })
	if htmltest.Attr(links[0], "href") != "/keys/00000000000000aa" {
		t.Errorf("row links to %q", htmltest.Attr(links[0], "href"))
	}
	if got := texts(d, "top-key-change"); !slices.Equal(got, []string{"-700", "+12"}) {
		t.Errorf("changes %q", got)
	}
	if got := texts(d, "top-key-length"); !slices.Equal(got, []string{"900", "12"}) {
		t.Errorf("lengths %q", got)
	}
	if got := cells(rows[1])[1]; got != "cache/db2" {
		t.Errorf("instance %q", got)
	}
	if n := len(d.ByTestID("sparkline")); n != 2 {
		t.Errorf("%d sparklines", n)
	}

	d = htmltest.Render(t, partials.TopKeys(partials.TopKeysProps{Watched: 3, RangeKey: "1h"}))
	if got := htmltest.Text(d.One(t, "no-top-keys")); got != "No watched key changed length in the last 1h." {
		t.Errorf("empty %q", got)
	}
	d = htmltest.Render(t, partials.TopKeys(partials.TopKeysProps{}))
	if got := htmltest.Text(d.One(t, "no-top-keys")); got != "No keys are watched." {
		t.Errorf("none watched %q", got)
	}
}

func TestKeyTableEmpty(t *testing.T) {
	d := htmltest.Render(t, partials.KeyTable(partials.KeyTableProps{}))
	if got := htmltest.Text(d.One(t, "no-keys")); !strings.Contains(got, "[[redis.keys]]") {
		t.Errorf("hint %q", got)
	}
	d.None(t, "patterns")
	d = htmltest.Render(t, partials.KeyTable(partials.KeyTableProps{Filtered: true}))
	if got := htmltest.Text(d.One(t, "no-keys")); got != "No watched key matches." {
		t.Errorf("filtered empty %q", got)
	}
}
