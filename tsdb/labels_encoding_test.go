package tsdb

import (
	"context"
	"testing"
	"time"
	"unicode/utf8"
)

func TestLabelValue(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		got := LabelValue(in)
		if got != want {
			t.Fatalf("LabelValue(%q) = %q, want %q", in, got, want)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("LabelValue(%q) = %q is not valid UTF-8", in, got)
		}
		if LabelValue(got) != got {
			t.Fatalf("LabelValue is not idempotent on %q", got)
		}
	}
	f("", "")
	f("queue:emails", "queue:emails")
	f("ключ", "ключ")
	f(`back\slash`, `back\slash`) // valid UTF-8 is never changed
	f("nul\x00byte", "nul\x00byte")
	f("q\xffbin", `q\xffbin`)
	f("\x80\xfe", `\x80\xfe`)
	f("a\xff\\b", `a\xff\\b`)         // in an invalid value, backslashes are doubled...
	f("a\\xff\xff", `a\\xff\xff`)     // ...so these two stay apart
	f("a\xff\\xff", `a\xff\\xff`)     //
	f("ok ключ \xc3", `ok ключ \xc3`) // a truncated sequence
	// Different invalid values never collide.
	seen := map[string]string{}
	for _, in := range []string{"\xff", "\\xff\xff", "\xff\\xff", "\xff\xff", "\xfe", "a\xff", "\xffa", "\\\xff", "\xff\\"} {
		enc := LabelValue(in)
		if prev, ok := seen[enc]; ok {
			t.Fatalf("%q and %q both encode to %q", prev, in, enc)
		}
		seen[enc] = in
	}
}

// A key name that is not valid UTF-8 is stored, kept in the latest table and selected in its
// encoded form; the caller's samples are not modified; a selector naming the raw bytes or the
// encoding finds it.
func TestWriteEncodesInvalidLabelValues(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	ts := time.Now().Add(-time.Minute).Truncate(time.Second)
	samples := []Sample{
		{Name: "redis_key_length", Labels: []Label{{"instance", "main"}, {"key", "q\xffbin"}}, Timestamp: ts.UnixMilli(), Value: 3},
		{Name: "redis_key_length", Labels: []Label{{"instance", "main"}, {"key", "plain"}}, Timestamp: ts.UnixMilli(), Value: 4},
	}
	if err := db.Write(samples); err != nil {
		t.Fatal(err)
	}
	if samples[0].Labels[1].Value != "q\xffbin" {
		t.Fatalf("Write modified the caller's sample: %q", samples[0].Labels[1].Value)
	}
	db.Flush()
	for _, sel := range []string{`redis_key_length{key="q\xffbin"}`, `redis_key_length{key="q\\xffbin"}`, `redis_key_length{key=~"q.xffbin"}`} {
		got, err := db.Raw(context.Background(), mustSel(t, sel), ts.Add(-time.Minute), ts.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Label("key") != `q\xffbin` || got[0].Points[0].Value != 3 {
			t.Fatalf("%s: want the one encoded series, got %+v", sel, got)
		}
		lvs := db.Latest(mustSel(t, sel))
		if len(lvs) != 1 || lvs[0].Label("key") != `q\xffbin` {
			t.Fatalf("%s: latest: %+v", sel, lvs)
		}
	}
	if got, _ := db.Raw(context.Background(), mustSel(t, `redis_key_length{key!="q\xffbin"}`), ts.Add(-time.Minute), ts.Add(time.Minute)); len(got) != 1 || got[0].Label("key") != "plain" {
		t.Fatalf("!= with raw bytes: %+v", got)
	}
	lv, ok := db.LatestOne("redis_key_length", Label{"instance", "main"}, Label{"key", "q\xffbin"})
	if !ok || lv.Value != 3 || lv.Label("key") != `q\xffbin` {
		t.Fatalf("LatestOne with the raw key: %+v %v", lv, ok)
	}
	db.LatestAll(func(lv *LatestValue) {
		for _, l := range lv.Labels {
			if !utf8.ValidString(l.Value) {
				t.Errorf("latest table holds invalid UTF-8: %q", l.Value)
			}
		}
	})
}

// A series stored before Write encoded label values (raw invalid UTF-8 in storage) is preloaded
// encoded, so the first Write after the restart updates it instead of adding a second series
// that /metrics would show twice.
func TestPreloadEncodesLegacyLabelValues(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	ts := time.Now().Add(-time.Minute).Truncate(time.Second).UnixMilli()
	var rb rowBuilder
	rb.add("redis_key_length", []Label{{"instance", "main"}, {"key", "q\xffbin"}}, ts, 3) // as before the encoding
	db.s.AddRows(rb.mrs, 64)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	defer db.Close()
	lvs := db.LatestByName("redis_key_length")
	if len(lvs) != 1 || lvs[0].Label("key") != `q\xffbin` || lvs[0].Value != 3 {
		t.Fatalf("preloaded legacy series: %+v", lvs)
	}
	if err := db.Write([]Sample{{Name: "redis_key_length", Labels: []Label{{"instance", "main"}, {"key", "q\xffbin"}}, Timestamp: ts + 10_000, Value: 4}}); err != nil {
		t.Fatal(err)
	}
	lvs = db.LatestByName("redis_key_length")
	if len(lvs) != 1 || lvs[0].Value != 4 || lvs[0].PrevValue != 3 {
		t.Fatalf("after a Write of the same key: %+v", lvs)
	}
}
