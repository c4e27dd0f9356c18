package tsdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// writeSeries writes n series name{i="0".."n-1"} with points samples each, 10 s apart from t0.
func writeSeries(t testing.TB, db *DB, name string, n, points int, t0 time.Time) {
	t.Helper()
	var samples []Sample
	for i := range n {
		for j := range points {
			samples = append(samples, Sample{Name: name, Labels: []Label{{"i", fmt.Sprint(i)}}, Timestamp: t0.Add(time.Duration(j) * 10 * time.Second).UnixMilli(), Value: float64(j)})
		}
	}
	if err := db.Write(samples); err != nil {
		t.Fatalf("Write: %s", err)
	}
	db.Flush()
}

// exportAll runs Export and returns the label names begin got (nil: begin was not called) and
// the number of points of each series, keyed by its i label.
func exportAll(t testing.TB, db *DB, sel *Selector, start, end time.Time) (names []string, points map[string]int, err error) {
	t.Helper()
	points = map[string]int{}
	err = db.Export(context.Background(), sel, start, end, func(n []string) error {
		names = append([]string{}, n...)
		return nil
	}, func(s *Series) error {
		if names == nil {
			t.Fatal("Export passed a series before begin")
		}
		if _, dup := points[s.Label("i")]; dup {
			t.Errorf("series %s %v exported twice", s.Name, s.Labels)
		}
		points[s.Label("i")] = len(s.Points)
		return nil
	})
	return names, points, err
}

// Repeated selectors, and selectors that overlap, read each series once.
func TestUnionReadsEachSeriesOnce(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := base()
	writeSeries(t, db, "u_m", 3, 20, t0)

	copies := make([]*Selector, 1000)
	for i := range copies {
		copies[i] = mustSel(t, `u_m`)
	}
	if u := Union(copies...); len(u.groups) != 1 || u.String() != "u_m" {
		t.Fatalf("1000 copies of one selector: %d groups, text %q", len(u.groups), u)
	}
	if u := Union(mustSel(t, `u_m{i="0",x=""}`), mustSel(t, `u_m{x="",i="0"}`)); len(u.groups) != 1 {
		t.Fatalf("the same filters in another order: %d groups", len(u.groups))
	}
	sel := Union(append(copies, mustSel(t, `u_m{i="0"}`), mustSel(t, `{__name__="u_m",i=~"1|2"}`))...)
	end := t0.Add(time.Hour)

	list, err := db.SeriesMatching(context.Background(), sel, t0, end)
	if err != nil || len(list) != 3 {
		t.Fatalf("SeriesMatching: %d series, %v", len(list), err)
	}
	raw, err := db.Raw(context.Background(), sel, t0, end)
	if err != nil || len(raw) != 3 || len(raw[0].Points) != 20 {
		t.Fatalf("Raw: %d series, %v", len(raw), err)
	}
	names, points, err := exportAll(t, db, sel, t0, end)
	if err != nil {
		t.Fatalf("Export: %s", err)
	}
	if strings.Join(names, ",") != "i" || len(points) != 3 || points["0"] != 20 || points["2"] != 20 {
		t.Fatalf("Export: labels %v, points %v", names, points)
	}
}

// Every read is bounded by series, samples and points, and the error says which bound it hit
// and how to narrow the read; nothing is passed on by an export over a bound.
func TestReadBounds(t *testing.T) {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := Open(Options{Path: t.TempDir(), Logger: log, MaxSeriesPerQuery: 2, MaxSamplesPerQuery: 100, MaxPointsPerQuery: 50})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := base()
	writeSeries(t, db, "b_many", 3, 1, t0)
	writeSeries(t, db, "b_big", 2, 60, t0) // 120 samples
	writeSeries(t, db, "b_one", 1, 90, t0)
	ctx := context.Background()
	end := t0.Add(time.Hour)

	check := func(what string, err error, bound string, text ...string) {
		t.Helper()
		var le *LimitError
		if !errors.As(err, &le) || le.Bound != bound {
			t.Errorf("%s: got %v, want a %s LimitError", what, err, bound)
			return
		}
		for _, s := range text {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %q does not say %q", what, err, s)
			}
		}
		if strings.Contains(err.Error(), "-search.") {
			t.Errorf("%s: %q names VictoriaMetrics' flags", what, err)
		}
	}
	query := func(sel string, start time.Time, step time.Duration) error {
		_, err := db.QueryRange(ctx, RangeQuery{Selector: mustSel(t, sel), Start: start, End: end, Step: step})
		return err
	}
	export := func(sel string, start time.Time) error {
		names, _, err := exportAll(t, db, mustSel(t, sel), start, end)
		if err != nil && names != nil {
			t.Errorf("export %s: begin was called before %v", sel, err)
		}
		return err
	}

	series := []string{"matches more than 2 series (the series limit per query)", "more specific selector", "b_many"}
	check("query_range, 3 series", query("b_many", t0, time.Minute), "series", series...)
	_, err = db.SeriesMatching(ctx, mustSel(t, "b_many"), t0, end)
	check("series, 3 series", err, "series", series...)
	check("export, 3 series", export("b_many", t0), "series", series...)
	_, _, err = exportAll(t, db, Union(mustSel(t, `b_many{i="0"}`), mustSel(t, `b_many{i="1"}`), mustSel(t, `b_many{i="2"}`)), t0, end)
	check("export, a union of 3 selectors", err, "series", series[:2]...)

	samples := []string{"reads more than 100 samples (the samples limit per query)"}
	check("query_range, 120 samples", query("b_big", t0, time.Minute), "samples", append(samples, "larger step")...)
	_, err = db.Raw(ctx, mustSel(t, "b_big"), t0, end)
	check("raw, 120 samples", err, "samples", samples...)
	check("export, 120 samples", export("b_big", t0), "samples", append(samples, "fewer series or a shorter range")...)

	// The last 30 points of each series are under the budget, though their blocks hold 60.
	names, points, err := exportAll(t, db, mustSel(t, "b_big"), t0.Add(30*10*time.Second), end)
	if err != nil || len(names) != 1 || points["0"] != 30 || points["1"] != 30 {
		t.Fatalf("export of 60 samples: %v %v %v", names, points, err)
	}
	if err := query("b_big", t0.Add(45*10*time.Second), time.Minute); err != nil {
		t.Fatalf("query_range over 90 samples (with the 5 minutes looked back at): %s", err)
	}

	// 90 samples, but one point a second for the 5 minutes each sample is looked back at.
	check("query_range, 900 points", query("b_one", t0, time.Second), "points", "returns more than 50 points (the points limit per query)")
	if err := query("b_one", t0, 10*time.Minute); err != nil {
		t.Fatalf("query_range of 3 points: %s", err)
	}
}

// A read past its deadline fails with context.DeadlineExceeded, which the API maps to its
// time bound.
func TestReadDeadline(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := base()
	writeSeries(t, db, "d_m", 1, 10, t0)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	sel := mustSel(t, "d_m")
	_, err := db.QueryRange(ctx, RangeQuery{Selector: sel, Start: t0, End: t0.Add(time.Hour), Step: time.Minute})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("query_range: %v, want a deadline error", err)
	}
	err = db.Export(ctx, sel, t0, t0.Add(time.Hour), func([]string) error { t.Error("export began"); return nil }, func(*Series) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("export: %v, want a deadline error", err)
	}
}

// Export holds one series at a time: it allocates a fraction of what reading the same series
// with Raw does.
func TestExportAllocatesOneSeriesAtATime(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := time.Now().Add(-12 * time.Hour)
	writeSeries(t, db, "e_m", 50, 4000, t0) // 200,000 points: 3.2 MB as Points
	sel := mustSel(t, "e_m")
	// TotalAlloc is process-wide: the durability flush and VictoriaMetrics' own goroutines
	// allocate meanwhile (half a MiB at times), so the least of three runs is taken.
	allocated := func(f func() error) uint64 {
		t.Helper()
		if err := f(); err != nil { // warm up storage's caches and pools
			t.Fatal(err)
		}
		least := uint64(math.MaxUint64)
		for range 3 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if err := f(); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		return least
	}
	var n, points int
	exported := allocated(func() error {
		n, points = 0, 0
		return db.Export(context.Background(), sel, t0, time.Now(), func([]string) error { return nil }, func(s *Series) error {
			n++
			points += len(s.Points)
			return nil
		})
	})
	if n != 50 || points != 200000 {
		t.Fatalf("exported %d series, %d points", n, points)
	}
	held := allocated(func() error {
		_, err := db.Raw(context.Background(), sel, t0, time.Now())
		return err
	})
	t.Logf("export allocated %d KiB, raw %d KiB", exported>>10, held>>10)
	if held < 3<<20 || exported > held/4 {
		t.Fatalf("export allocated %d KiB, reading every series at once %d KiB", exported>>10, held>>10)
	}
}
