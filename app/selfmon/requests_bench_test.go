package selfmon

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// BenchmarkRequestStats measures the request stats of /status over a full day of selfmon
// series written every 10 s into a real tsdb (30 route/code counters and the 14 histogram
// series, a restart in the middle): the storage read plus the computation, and the computation
// alone.
func BenchmarkRequestStats(b *testing.B) {
	db, err := tsdb.Open(tsdb.Options{Path: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	now := time.Now()
	from := now.Add(-24 * time.Hour)
	first := from.Add(-counterBaseline)
	var names []tsdb.Series
	for i := range 30 {
		names = append(names, tsdb.Series{Name: "redwatch_http_requests_total", Labels: []tsdb.Label{{Name: "code", Value: []string{"200", "304", "500"}[i%3]}, {Name: "route", Value: fmt.Sprintf("/route/%d", i/3)}}})
	}
	for _, le := range []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"} {
		names = append(names, tsdb.Series{Name: "redwatch_http_request_duration_seconds_bucket", Labels: []tsdb.Label{{Name: "le", Value: le}}})
	}
	names = append(names, tsdb.Series{Name: "redwatch_http_request_duration_seconds_sum"}, tsdb.Series{Name: "redwatch_http_request_duration_seconds_count"})
	restart := from.Add(12 * time.Hour)
	var samples []tsdb.Sample
	points := 0
	for ts := first; !ts.After(now); ts = ts.Add(10 * time.Second) {
		tick := float64(ts.Sub(first) / (10 * time.Second))
		if !ts.Before(restart) {
			tick = float64(ts.Sub(restart) / (10 * time.Second))
		}
		for i, s := range names {
			samples = append(samples, tsdb.Sample{Name: s.Name, Labels: s.Labels, Timestamp: ts.UnixMilli(), Value: tick * float64(i+1)})
		}
		points += len(names)
		if len(samples) >= 50000 {
			if err := db.Write(samples); err != nil {
				b.Fatal(err)
			}
			samples = samples[:0]
		}
	}
	if err := db.Write(samples); err != nil {
		b.Fatal(err)
	}
	db.Flush()
	ctx := context.Background()
	st, err := RequestStats(ctx, db, from, now, nil)
	if err != nil || st.Requests == 0 || !st.P95Known {
		b.Fatalf("stats %+v, err %v", st, err)
	}
	b.Run("read+compute", func(b *testing.B) {
		for b.Loop() {
			if _, err := RequestStats(ctx, db, from, now, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(points), "points")
	})
	b.Run("compute", func(b *testing.B) {
		sel, _ := tsdb.ParseSelector(requestSeries)
		series, err := db.Raw(ctx, sel, first, now)
		if err != nil {
			b.Fatal(err)
		}
		read := 0
		for _, s := range series {
			read += len(s.Points)
		}
		if read < points*9/10 {
			b.Fatalf("read %d points of %d written", read, points)
		}
		for b.Loop() {
			computeRequestStats(series, from, nil)
		}
		b.ReportMetric(float64(read), "points")
	})
}
