package tsdb

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkChartPaths compares the two ways a chart can read stored data over 30 days: the
// selector path (QueryRange with an agg; steps of 5 min and more read tsdb's 5-minute
// rollups) and the MetricsQL engine (QueryRangeExpr over raw samples; the rollup result cache
// answers repeats). Data: 100 series sampled every 60 s for 30 days (4.3 M samples), rolled
// up, and 10,000 series every 60 s for 1 h for sum by. first-ms is the engine's first,
// uncached call; the loop then measures cached calls.
func BenchmarkChartPaths(b *testing.B) {
	db := openTest(b, b.TempDir())
	defer db.Close()
	ctx := context.Background()
	end := fillSeries(b, db, 100, 30*24*time.Hour-time.Hour, time.Minute) // just inside the 30 d retention
	var batch []Sample
	for t := end.Add(-time.Hour); !t.After(end); t = t.Add(time.Minute) {
		for s := 0; s < 10000; s++ {
			batch = append(batch, Sample{Name: "w_value", Labels: []Label{{"group", strconv.Itoa(s % 10)}, {"series", strconv.Itoa(s)}}, Timestamp: t.UnixMilli(), Value: float64(s)})
		}
	}
	if err := db.Write(batch); err != nil {
		b.Fatal(err)
	}
	db.Flush()
	if err := db.RollupUntil(ctx, end.Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	db.Flush()
	start30 := end.Add(-30*24*time.Hour + time.Hour)
	sel := func(s string) *Selector {
		p, err := ParseSelector(s)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	agg := func(name string, q RangeQuery, want int) {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				got, err := db.QueryRange(ctx, q)
				if err != nil || len(got) != want {
					b.Fatalf("%v: %d series, want %d", err, len(got), want)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
		})
	}
	engine := func(name, expr string, start time.Time, step time.Duration, want int) {
		t0 := time.Now() // the first call, once: b.Run calls its function more than once
		got, err := db.QueryRangeExpr(ctx, expr, start, end, step)
		if err != nil || len(got) != want {
			b.Fatalf("%s: %v: %d series, want %d", name, err, len(got), want)
		}
		first := time.Since(t0)
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if got, err := db.QueryRangeExpr(ctx, expr, start, end, step); err != nil || len(got) != want {
					b.Fatalf("%v: %d series, want %d", err, len(got), want)
				}
			}
			b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
		})
	}
	agg("rollups/1series30d", RangeQuery{Selector: sel(`q_value{series="0"}`), Start: start30, End: end, Step: time.Hour, Agg: AggAvg}, 1)
	agg("rollups/100series30d", RangeQuery{Selector: sel(`q_value`), Start: start30, End: end, Step: time.Hour, Agg: AggAvg}, 100)
	agg("rollups/100series24h", RangeQuery{Selector: sel(`q_value`), Start: end.Add(-24 * time.Hour), End: end, Step: 5 * time.Minute, Agg: AggAvg}, 100)
	engine("engine/1series30d", `avg_over_time(q_value{series="0"}[1h])`, start30, time.Hour, 1)
	engine("engine/100series30d", `avg_over_time(q_value[1h])`, start30, time.Hour, 100)
	engine("engine/rate100series24h", `rate(q_value[5m])`, end.Add(-24*time.Hour), 5*time.Minute, 100)
	engine("engine/sumby10kseries1h", `sum by (group) (w_value)`, end.Add(-time.Hour), time.Minute, 10)
}
