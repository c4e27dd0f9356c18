package tsdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeCounter writes a counter per instance label value, rising by perSec[i] per second,
// one sample every 10 s over [t0, t0+n*10s).
func writeCounter(t testing.TB, db *DB, name string, t0 time.Time, n int, perSec ...float64) {
	t.Helper()
	var samples []Sample
	for i, r := range perSec {
		for j := range n {
			samples = append(samples, Sample{Name: name, Labels: []Label{{"instance", fmt.Sprint("r", i)}, {"job", "redis"}},
				Timestamp: t0.Add(time.Duration(j) * 10 * time.Second).UnixMilli(), Value: r * 10 * float64(j)})
		}
	}
	if err := db.Write(samples); err != nil {
		t.Fatalf("Write: %s", err)
	}
	db.Flush()
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// Query and QueryRangeExpr evaluate MetricsQL over written samples, with labels: rate, sum by,
// arithmetic on scalars, and an instant selector.
func TestMetricsQLQueries(t *testing.T) {
	t.Parallel()
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := base()
	writeCounter(t, db, "cmds_total", t0, 60, 2, 5) // 10 minutes
	at := t0.Add(9 * time.Minute)
	ctx := context.Background()

	got, err := db.Query(ctx, `rate(cmds_total[1m])`, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "" || got[0].Label("instance") != "r0" || got[1].Label("instance") != "r1" || got[0].Label("job") != "redis" {
		t.Fatalf("rate series: %+v", got)
	}
	for i, want := range []float64{2, 5} {
		if p := got[i].Points; len(p) != 1 || p[0].Timestamp != at.UnixMilli() || !near(p[0].Value, want) {
			t.Errorf("rate of r%d: %+v, want %g at %d", i, p, want, at.UnixMilli())
		}
	}

	got, err = db.Query(ctx, `cmds_total{instance="r1"}`, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "cmds_total" || got[0].Points[0].Value != 5*10*54 {
		t.Fatalf("selector: %+v", got)
	}

	got, err = db.Query(ctx, `1+1`, at)
	if err != nil || len(got) != 1 || got[0].Points[0].Value != 2 || len(got[0].Labels) != 0 {
		t.Fatalf("1+1: %+v %v", got, err)
	}

	got, err = db.QueryRangeExpr(ctx, `sum by (job) (rate(cmds_total[1m]))`, t0.Add(2*time.Minute), t0.Add(8*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Label("job") != "redis" || len(got[0].Labels) != 1 || len(got[0].Points) != 7 {
		t.Fatalf("sum by: %+v", got)
	}
	for _, p := range got[0].Points {
		if !near(p.Value, 7) {
			t.Errorf("sum of rates at %d: %g, want 7", p.Timestamp, p.Value)
		}
	}
	if got[0].Points[0].Timestamp != t0.Add(2*time.Minute).UnixMilli() {
		t.Errorf("first step at %d, want %d", got[0].Points[0].Timestamp, t0.Add(2*time.Minute).UnixMilli())
	}
}

// Expressions that do not parse, and ranges that make no sense, are ErrBadQuery errors; a
// valid expression passes ValidateExpr.
func TestMetricsQLBadQueries(t *testing.T) {
	t.Parallel()
	db := openTest(t, t.TempDir())
	defer db.Close()
	ctx, now := context.Background(), time.Now()
	for _, expr := range []string{"", "rate(", "sum by (x) foo{", "foo[5m"} {
		if err := ValidateExpr(expr); !errors.Is(err, ErrBadQuery) {
			t.Errorf("ValidateExpr(%q) = %v, want ErrBadQuery", expr, err)
		}
		if _, err := db.Query(ctx, expr, now); !errors.Is(err, ErrBadQuery) {
			t.Errorf("Query(%q) = %v, want ErrBadQuery", expr, err)
		}
	}
	if err := ValidateExpr(`predict_linear(redis_memory_used_bytes[1h], 3600) > 1e9`); err != nil {
		t.Errorf("ValidateExpr: %v", err)
	}
	for _, c := range []struct {
		start, end time.Time
		step       time.Duration
		want       string
	}{
		{now, now, 0, "step must be positive"},
		{now, now.Add(-time.Hour), time.Minute, "is before start"},
		{now.Add(-24 * time.Hour), now, time.Second, "more than 11000"},
	} {
		_, err := db.QueryRangeExpr(ctx, "up", c.start, c.end, c.step)
		if !errors.Is(err, ErrBadQuery) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("QueryRangeExpr(%s, %s, %s) = %v, want ErrBadQuery saying %q", c.start, c.end, c.step, err, c.want)
		}
	}
}

// The series and samples bounds of Options apply to MetricsQL queries and give *LimitError
// naming redwatch's bound; so do the HTTP handlers.
func TestMetricsQLBounds(t *testing.T) {
	t.Parallel()
	db, err := Open(Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler), MaxSeriesPerQuery: 3, MaxSamplesPerQuery: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := base()
	writeSeries(t, db, "many", 5, 2, t0)
	writeSeries(t, db, "big", 1, 500, t0)
	ctx := context.Background()
	var le *LimitError
	if _, err := db.Query(ctx, `count(many)`, t0.Add(10*time.Second)); !errors.As(err, &le) || le.Bound != "series" || le.Limit != 3 {
		t.Errorf("series bound: %v", err)
	}
	if _, err := db.QueryRangeExpr(ctx, `max_over_time(big[1h])`, t0, t0.Add(time.Hour), time.Minute); !errors.As(err, &le) || le.Bound != "samples" || le.Limit != 100 {
		t.Errorf("samples bound: %v", err)
	}
	if _, err := db.Query(ctx, `count(many{i=~"[01]"})`, t0.Add(10*time.Second)); err != nil {
		t.Errorf("within the bound: %v", err)
	}
}

// The HTTP handlers write the Prometheus JSON answer, read POST forms, and return bad
// parameters as ErrBadQuery without writing.
func TestMetricsQLHandlers(t *testing.T) {
	t.Parallel()
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := base()
	writeCounter(t, db, "cmds_total", t0, 60, 2)
	serve := func(method, path string, form url.Values, h func(w http.ResponseWriter, r *http.Request) error) (*httptest.ResponseRecorder, error) {
		var r *http.Request
		if method == "POST" {
			r = httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest("GET", path+"?"+form.Encode(), nil)
		}
		w := httptest.NewRecorder()
		return w, h(w, r)
	}
	at := fmt.Sprint(t0.Add(9 * time.Minute).Unix())
	for _, method := range []string{"GET", "POST"} {
		w, err := serve(method, "/api/v1/query", url.Values{"query": {"rate(cmds_total[1m])"}, "time": {at}}, db.ServeQuery)
		if err != nil || !strings.Contains(w.Body.String(), `"resultType":"vector"`) || !strings.Contains(w.Body.String(), `"value":[`+at+`,"2"]`) {
			t.Errorf("%s query: %v %s", method, err, w.Body)
		}
		w, err = serve(method, "/api/v1/query_range", url.Values{"query": {"rate(cmds_total[1m])"}, "start": {fmt.Sprint(t0.Add(2 * time.Minute).Unix())}, "end": {at}, "step": {"60"}}, db.ServeQueryRange)
		if err != nil || !strings.Contains(w.Body.String(), `"resultType":"matrix"`) || strings.Count(w.Body.String(), `,"2"]`) != 8 {
			t.Errorf("%s query_range: %v %s", method, err, w.Body)
		}
		w, err = serve(method, "/api/v1/labels", url.Values{}, db.ServeLabels)
		if err != nil || !strings.Contains(w.Body.String(), `"data":["__name__","instance","job"]`) {
			t.Errorf("%s labels: %v %s", method, err, w.Body)
		}
		w, err = serve(method, "/api/v1/label/job/values", url.Values{"match[]": {"cmds_total"}}, func(w http.ResponseWriter, r *http.Request) error { return db.ServeLabelValues(w, r, "job") })
		if err != nil || !strings.Contains(w.Body.String(), `"data":["redis"]`) {
			t.Errorf("%s label values: %v %s", method, err, w.Body)
		}
	}
	for _, form := range []url.Values{
		{"query": {"rate("}},
		{"query": {"up"}, "step": {"-1"}},
		{"query": {"up"}, "step": {"0"}},
		{"query": {"up"}, "start": {"yesterday"}},
		{"query": {"up"}, "start": {"0"}, "end": {"1000000"}, "step": {"1"}},
		{"query": {"up"}, "start": {"1000"}, "end": {"0"}, "step": {"1"}},
	} {
		w, err := serve("GET", "/api/v1/query_range", form, db.ServeQueryRange)
		if !errors.Is(err, ErrBadQuery) || w.Body.Len() != 0 {
			t.Errorf("query_range %s: %v, body %q; want ErrBadQuery and nothing written", form.Encode(), err, w.Body)
		}
	}
	if _, err := serve("GET", "/api/v1/query", url.Values{"query": {"sum("}}, db.ServeQuery); !errors.Is(err, ErrBadQuery) {
		t.Errorf("query sum(: %v, want ErrBadQuery", err)
	}
}

// Several DBs open in one process each query their own samples, concurrently: the engine
// passes between them and its cache never answers with another DB's results.
func TestMetricsQLSeveralDBs(t *testing.T) {
	t.Parallel()
	t0 := base()
	dbs := make([]*DB, 3)
	for i := range dbs {
		dbs[i] = openTest(t, t.TempDir())
		defer dbs[i].Close()
		writeCounter(t, dbs[i], "cmds_total", t0, 60, float64(i+1))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*20)
	for i, db := range dbs {
		wg.Go(func() {
			for range 20 {
				got, err := db.QueryRangeExpr(context.Background(), `sum(rate(cmds_total[1m]))`, t0.Add(2*time.Minute), t0.Add(8*time.Minute), time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if len(got) != 1 || !near(got[0].Points[0].Value, float64(i+1)) {
					errs <- fmt.Errorf("db %d: %+v, want rate %d", i, got, i+1)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// A DB closed while others stay open leaves them a working engine and cache.
	dbs[0].Close()
	if _, err := dbs[0].Query(context.Background(), "1", t0); !errors.Is(err, ErrClosed) {
		t.Errorf("closed DB: %v, want ErrClosed", err)
	}
	got, err := dbs[2].Query(context.Background(), `sum(rate(cmds_total[1m]))`, t0.Add(5*time.Minute))
	if err != nil || len(got) != 1 || !near(got[0].Points[0].Value, 3) {
		t.Errorf("after another DB closed: %+v %v", got, err)
	}
}

// A sample older than the rollup result cache's horizon (5 minutes) empties the cache before
// the next query, so a range evaluated before that write is not served stale from the cache.
func TestLateSampleResetsCachedResults(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := base() // 2 hours ago
	writeCounter(t, db, "late_total", t0, 60, 1)
	ctx := context.Background()
	count := func() float64 {
		t.Helper()
		got, err := db.QueryRangeExpr(ctx, `count(late_total)`, t0, t0.Add(9*time.Minute), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(got[0].Points) == 0 {
			t.Fatalf("count(late_total): %+v", got)
		}
		return got[0].Points[len(got[0].Points)-1].Value
	}
	for range 2 { // the second answer comes from the cache
		if c := count(); c != 1 {
			t.Fatalf("count before the late write = %g, want 1", c)
		}
	}
	writeCounter(t, db, "late_total", t0, 60, 1, 2) // a second series, 2 hours late
	if c := count(); c != 2 {
		t.Fatalf("count after a late write = %g, want 2 (a stale cached result?)", c)
	}
}
