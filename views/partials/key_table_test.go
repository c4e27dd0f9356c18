package partials_test

import (
	"slices"
	"strings"
	"testing"
	"time"

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
	if got := htmltest.Text(names[1]); len([]rune(got)) != partials.KeyNameMaxChars+1 || htmltest.Attr(names[1], "title") != long {
		t.Errorf("long key: %d runes shown, title %d bytes", len([]rune(got)), len(htmltest.Attr(names[1], "title")))
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

	// Capped.
	p.Total = 12345
	d = htmltest.Render(t, partials.KeyTable(p))
	if got := htmltest.Text(d.One(t, "key-count")); got != "showing 5 of 12345 — refine the search" {
		t.Errorf("cap note %q", got)
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
