package tsdb

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestLabelValueShortened(t *testing.T) {
	f := func(in, wantPrefix, wantDigest string) {
		t.Helper()
		got := LabelValue(in)
		if len(got) > MaxLabelValueBytes {
			t.Fatalf("LabelValue of %d bytes is %d bytes long, over %d", len(in), len(got), MaxLabelValueBytes)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("LabelValue of %d bytes is not valid UTF-8", len(in))
		}
		if LabelValue(got) != got {
			t.Fatalf("LabelValue is not idempotent on the shortened value of %d bytes", len(in))
		}
		if LabelValue(in) != got {
			t.Fatalf("LabelValue of %d bytes is not stable", len(in))
		}
		if !strings.HasPrefix(got, wantPrefix) {
			t.Fatalf("LabelValue of %d bytes = %.80q..., want prefix %.80q", len(in), got, wantPrefix)
		}
		if wantDigest != "" && !strings.HasSuffix(got, "…[sha256:"+wantDigest+"]") {
			t.Fatalf("LabelValue of %d bytes ends %q, want digest %s", len(in), got[len(got)-40:], wantDigest)
		}
	}
	long := strings.Repeat("a", 70_000)
	// The digest is SHA-256 of the raw value, fixed here so that it never changes across
	// versions (python3 -c "import hashlib; print(hashlib.sha256(b'a'*70000).hexdigest()[:16])").
	f(long, strings.Repeat("a", 4000), "66915c0872933db5")
	if got := LabelValue(long); len(got) != MaxLabelValueBytes {
		t.Fatalf("an ASCII value is cut to %d bytes, want exactly %d", len(got), MaxLabelValueBytes)
	}
	f(strings.Repeat("b", 1<<20), strings.Repeat("b", 4000), "")
	f(strings.Repeat("я", 3000), strings.Repeat("я", 2000), "")                // 6000 bytes: cut between characters
	f(strings.Repeat("\xff", 2000), strings.Repeat(`\xff`, 1000), "")          // short, but its encoding is not
	f("x"+strings.Repeat("\xffя", 3000), "x"+strings.Repeat(`\xffя`, 500), "") // mixed
	// At the limit a value is unchanged; one byte more and it is shortened.
	at := strings.Repeat("c", MaxLabelValueBytes)
	if LabelValue(at) != at {
		t.Fatal("a value of exactly MaxLabelValueBytes was changed")
	}
	if LabelValue(at+"c") == at+"c" {
		t.Fatal("a value of MaxLabelValueBytes+1 was not shortened")
	}
	// Values that differ only past the prefix stay apart.
	if LabelValue(long+"x") == LabelValue(long+"y") {
		t.Fatal("two long values that differ at the end are stored alike")
	}
}

// Long label values (a 70 KB and a 1 MB Redis key, a 70 KB group name) are stored shortened,
// found by their full value and by their stored value, and stay the same series after a restart.
func TestWriteLongLabelValues(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	ts := time.Now().Add(-time.Minute).Truncate(time.Second)
	key70k := "x:" + strings.Repeat("a", 70_000)
	key1m := "x:" + strings.Repeat("b", 1<<20)
	group := strings.Repeat("g", 70_000)
	write := func(db *DB, ts time.Time, v float64) {
		t.Helper()
		samples := []Sample{
			{Name: "redis_key_length", Labels: []Label{{"instance", "main"}, {"key", key70k}}, Timestamp: ts.UnixMilli(), Value: v},
			{Name: "redis_key_length", Labels: []Label{{"instance", "main"}, {"key", key1m}}, Timestamp: ts.UnixMilli(), Value: v + 1},
			{Name: "redis_stream_group_lag", Labels: []Label{{"instance", "main"}, {"key", key70k}, {"group", group}}, Timestamp: ts.UnixMilli(), Value: v + 2},
		}
		if err := db.Write(samples); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if samples[0].Labels[1].Value != key70k {
			t.Fatal("Write modified the caller's sample")
		}
		db.Flush()
	}
	check := func(db *DB, sel string, wantKey string, wantPoints []float64) {
		t.Helper()
		got, err := db.Raw(context.Background(), mustSel(t, sel), ts.Add(-time.Minute), ts.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("%.60s...: want 1 series, got %d", sel, len(got))
		}
		if got[0].Label("key") != LabelValue(wantKey) || len(got[0].Label("key")) > MaxLabelValueBytes {
			t.Fatalf("%.60s...: key label %.60q... (%d bytes), want the shortened key", sel, got[0].Label("key"), len(got[0].Label("key")))
		}
		if len(got[0].Points) != len(wantPoints) {
			t.Fatalf("%.60s...: points %+v, want values %v", sel, got[0].Points, wantPoints)
		}
		for i, p := range got[0].Points {
			if p.Value != wantPoints[i] {
				t.Fatalf("%.60s...: points %+v, want values %v", sel, got[0].Points, wantPoints)
			}
		}
	}
	write(db, ts, 3)
	check(db, `redis_key_length{key=`+strconv.Quote(key70k)+`}`, key70k, []float64{3})
	check(db, `redis_key_length{key=`+strconv.Quote(LabelValue(key70k))+`}`, key70k, []float64{3})
	check(db, `redis_key_length{key=`+strconv.Quote(key1m)+`}`, key1m, []float64{4})
	check(db, `redis_stream_group_lag{group=`+strconv.Quote(group)+`}`, key70k, []float64{5})
	check(db, `redis_key_length{key=~"x:a+….*"}`, key70k, []float64{3})
	if lv, ok := db.LatestOne("redis_key_length", Label{"instance", "main"}, Label{"key", key70k}); !ok || lv.Value != 3 {
		t.Fatalf("LatestOne by the full key: %+v %v", lv, ok)
	}
	if lvs := db.Latest(mustSel(t, `redis_stream_group_lag{group=`+strconv.Quote(group)+`}`)); len(lvs) != 1 || lvs[0].Label("group") != LabelValue(group) {
		t.Fatalf("Latest by the full group: %+v", lvs)
	}
	// The full and the stored value select the same series: Union keeps one group, and an
	// export of both (as repeated match[]) passes the series once, under its stored value.
	u := Union(mustSel(t, `redis_key_length{key=`+strconv.Quote(key70k)+`}`), mustSel(t, `redis_key_length{key=`+strconv.Quote(LabelValue(key70k))+`}`))
	if len(u.groups) != 1 {
		t.Fatalf("Union of the full and the stored key: %d groups, want 1", len(u.groups))
	}
	var exported []string
	err := db.Export(context.Background(), u, ts.Add(-time.Minute), ts.Add(time.Minute), func([]string) error { return nil }, func(s *Series) error {
		exported = append(exported, s.Label("key"))
		return nil
	})
	if err != nil || len(exported) != 1 || exported[0] != LabelValue(key70k) {
		t.Fatalf("Export by the full and the stored key: %d series (%v), want the one stored", len(exported), err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// After a restart the same full values name the same series.
	db = openTest(t, dir)
	defer db.Close()
	write(db, ts.Add(10*time.Second), 10)
	check(db, `redis_key_length{key=`+strconv.Quote(key70k)+`}`, key70k, []float64{3, 10})
	check(db, `redis_key_length{key=`+strconv.Quote(key1m)+`}`, key1m, []float64{4, 11})
	check(db, `redis_stream_group_lag{group=`+strconv.Quote(group)+`}`, key70k, []float64{5, 12})
	if lvs := db.LatestByName("redis_key_length"); len(lvs) != 2 {
		t.Fatalf("latest after restart: %d series, want 2", len(lvs))
	}
}

// Over a bound a sample is refused with an error naming the bound; the valid samples of the
// same call are stored.
func TestWriteRefusesOverLimits(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	ts := time.Now().Add(-time.Minute).UnixMilli()
	many := make([]Label, MaxLabels+1)
	for i := range many {
		many[i] = Label{Name: "l" + strconv.Itoa(i), Value: "v"}
	}
	big := make([]Label, 6)
	for i := range big {
		big[i] = Label{Name: "l" + strconv.Itoa(i), Value: strings.Repeat("v", 10_000)} // each stored as 4096 bytes
	}
	f := func(s Sample, wantErr string) {
		t.Helper()
		ok := Sample{Name: "ok_total", Labels: []Label{{"n", wantErr}}, Timestamp: ts, Value: 1}
		err := db.Write([]Sample{s, ok})
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("Write: error %v, want one containing %q", err, wantErr)
		}
		if _, found := db.LatestOne("ok_total", Label{"n", wantErr}); !found {
			t.Fatalf("the valid sample after a refused one was not stored (%s)", wantErr)
		}
	}
	f(Sample{Name: strings.Repeat("m", MaxNameBytes+1), Timestamp: ts, Value: 1}, "at most 256")
	f(Sample{Name: "m", Labels: []Label{{strings.Repeat("l", MaxNameBytes+1), "v"}}, Timestamp: ts, Value: 1}, "label name")
	f(Sample{Name: "m", Labels: many, Timestamp: ts, Value: 1}, "65 labels: at most 64")
	f(Sample{Name: "m", Labels: big, Timestamp: ts, Value: 1}, "at most 24576")
	// At the bounds: stored.
	atMax := many[:MaxLabels]
	if err := db.Write([]Sample{{Name: strings.Repeat("m", MaxNameBytes), Labels: atMax, Timestamp: ts, Value: 1}}); err != nil {
		t.Fatalf("a series at the bounds: %v", err)
	}
	if err := db.Write([]Sample{{Name: "m", Labels: big[:5], Timestamp: ts, Value: 1}}); err != nil {
		t.Fatalf("five 10 KB values: %v", err)
	}
}
