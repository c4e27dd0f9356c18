package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/auth/authtest"
	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/tsdb"
)

// queryEnv is a server over a real store with the given bounds; store, when set, wraps the
// store the handlers read.
type queryEnv struct {
	db   *tsdb.DB
	srv  *Server
	ts   *httptest.Server
	auth string // an Authorization header value for the viewer
}

func newQueryEnv(t *testing.T, topts tsdb.Options, limits QueryLimits, store func(*tsdb.DB) Store) *queryEnv {
	t.Helper()
	dir := t.TempDir()
	topts.Path = dir
	topts.Logger = slog.New(slog.DiscardHandler)
	db, err := tsdb.Open(topts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	vh := authtest.Hash(t, viewerPass)
	users, err := auth.NewUsers([]auth.User{{Name: "viewer", PasswordHash: vh, Role: auth.RoleViewer}}, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := auth.NewSessions(dir, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var st Store = db
	if store != nil {
		st = store(db)
	}
	srv := New(Options{
		Store: st, Users: users, Sessions: sessions, Stats: selfmon.New(), Queries: limits,
		Health: &health.Checker{Started: time.Now(), Storage: db, Targets: func() []health.Target { return nil }},
		Logger: slog.New(slog.DiscardHandler),
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &queryEnv{db: db, srv: srv, ts: ts, auth: "Basic " + basic("viewer", viewerPass)}
}

// write stores n series name{i="0".."n-1"} of points samples each, 10 s apart from t0.
func (e *queryEnv) write(t *testing.T, name string, n, points int, t0 time.Time) {
	t.Helper()
	var samples []tsdb.Sample
	for i := range n {
		for j := range points {
			samples = append(samples, tsdb.Sample{Name: name, Labels: []tsdb.Label{{Name: "i", Value: fmt.Sprint(i)}}, Timestamp: t0.Add(time.Duration(j) * 10 * time.Second).UnixMilli(), Value: float64(j)})
		}
	}
	if err := e.db.Write(samples); err != nil {
		t.Fatal(err)
	}
	e.db.Flush()
}

// get sends GET path?params, or POST path with params as a form when post is set.
func (e *queryEnv) get(t *testing.T, post bool, path string, params url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.ts.URL+path+"?"+params.Encode(), nil)
	if post {
		req, err = http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", e.auth)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %s", req.Method, path, err)
	}
	return res, string(b)
}

// wantPromError checks a Prometheus API error answer: its code, errorType and the words of
// its message.
func wantPromError(t *testing.T, what string, res *http.Response, body string, code int, errType string, words ...string) {
	t.Helper()
	var m struct{ Status, ErrorType, Error string }
	if err := json.Unmarshal([]byte(body), &m); err != nil || res.StatusCode != code || m.Status != "error" || m.ErrorType != errType {
		t.Errorf("%s: %d %s, want %d with errorType %s", what, res.StatusCode, body, code, errType)
		return
	}
	for _, w := range words {
		if !strings.Contains(m.Error, w) {
			t.Errorf("%s: error %q does not say %q", what, m.Error, w)
		}
	}
}

// Repeated and overlapping match[] select each series once, by GET with a thousand of them
// in the URL and by POST form.
func TestAPIMatchesDeduplicated(t *testing.T) {
	e := newQueryEnv(t, tsdb.Options{}, QueryLimits{}, nil)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	e.write(t, "dd_m", 3, 30, t0)
	params := url.Values{"start": {itoa(t0.Unix())}}
	for range 1000 {
		params.Add("match[]", "dd_m")
	}
	params.Add("match[]", ` dd_m{i="0"} `)
	params.Add("match[]", `{__name__="dd_m",i=~"1|2"}`)
	for _, post := range []bool{false, true} {
		res, body := e.get(t, post, "/api/v1/export", params)
		if res.StatusCode != 200 || strings.Count(body, "\n") != 3 || strings.Count(body, `"i":"0"`) != 1 {
			t.Fatalf("export (POST %v): %d, %d lines\n%.300s", post, res.StatusCode, strings.Count(body, "\n"), body)
		}
		csv := url.Values{"format": {"csv"}}
		for k, v := range params {
			csv[k] = v
		}
		res, body = e.get(t, post, "/api/v1/export", csv)
		if res.StatusCode != 200 || !strings.HasPrefix(body, "__name__,i,timestamp_ms,value\n") || strings.Count(body, "\n") != 1+3*30 {
			t.Fatalf("export csv (POST %v): %d, %d lines", post, res.StatusCode, strings.Count(body, "\n"))
		}
		res, body = e.get(t, post, "/api/v1/series", params)
		var list struct{ Data []map[string]string }
		if err := json.Unmarshal([]byte(body), &list); err != nil || res.StatusCode != 200 || len(list.Data) != 3 {
			t.Fatalf("series (POST %v): %d %s", post, res.StatusCode, body)
		}
	}
	q := url.Values{"query": {"dd_m"}, "start": {itoa(t0.Unix())}, "step": {"60"}}
	res, body := e.get(t, true, "/api/v1/query_range", q)
	if res.StatusCode != 200 || strings.Count(body, `"metric"`) != 3 {
		t.Fatalf("query_range by POST: %d %.300s", res.StatusCode, body)
	}
}

// Over a bound, query_range, series and export answer 422 (time: 503) in the Prometheus error
// shape, naming the bound, the figure and how to narrow the request.
func TestAPIBounds(t *testing.T) {
	e := newQueryEnv(t, tsdb.Options{MaxSeriesPerQuery: 2, MaxSamplesPerQuery: 100, MaxPointsPerQuery: 50}, QueryLimits{}, nil)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	e.write(t, "bb_many", 3, 1, t0)
	e.write(t, "bb_big", 2, 60, t0)
	start := itoa(t0.Unix())

	for _, c := range []struct {
		path   string
		params url.Values
		words  []string
	}{
		{"/api/v1/query_range", url.Values{"query": {"bb_many"}, "start": {start}, "step": {"60"}}, []string{"more than 2 series (the series limit per query)", "more specific selector"}},
		{"/api/v1/series", url.Values{"match[]": {"bb_many"}, "start": {start}}, []string{"more than 2 series (the series limit per query)"}},
		{"/api/v1/export", url.Values{"match[]": {`bb_many{i="0"}`, `bb_many{i!="0"}`}, "start": {start}}, []string{"more than 2 series (the series limit per query)"}},
		{"/api/v1/query_range", url.Values{"query": {"bb_big"}, "start": {start}, "step": {"60"}}, []string{"reads more than 100 samples (the samples limit per query)", "fewer series, a shorter range or a larger step"}},
		{"/api/v1/export", url.Values{"match[]": {"bb_big"}, "start": {start}, "format": {"csv"}}, []string{"reads more than 100 samples (the samples limit per query)", "fewer series or a shorter range"}},
		{"/api/v1/query_range", url.Values{"query": {`bb_big{i="0"}`}, "start": {start}, "step": {"1"}}, []string{"returns more than 50 points (the points limit per query)", "larger step"}},
	} {
		res, body := e.get(t, false, c.path, c.params)
		wantPromError(t, c.path+"?"+c.params.Encode(), res, body, http.StatusUnprocessableEntity, "execution", c.words...)
	}
	res, body := e.get(t, false, "/api/v1/export", url.Values{"match[]": {"bb_big", "bb_big{"}})
	wantPromError(t, "a bad second selector", res, body, http.StatusBadRequest, "bad_data", "match[] 2:")

	// The time bound: a deadline that has passed by the time storage is read.
	slow := newQueryEnv(t, tsdb.Options{}, QueryLimits{Timeout: time.Nanosecond}, nil)
	slow.write(t, "bb_big", 2, 60, t0)
	for _, path := range []string{"/api/v1/query_range?query=bb_big&step=60", "/api/v1/export?match[]=bb_big", "/api/v1/series?match[]=bb_big"} {
		u, _ := url.Parse(path)
		res, body := slow.get(t, false, u.Path, u.Query())
		wantPromError(t, path+" past its deadline", res, body, http.StatusServiceUnavailable, "timeout", "ran longer than 1ns (the time limit per query)")
	}
}

// recorder is an http.ResponseWriter that notes each write in a shared event log.
type recorder struct {
	header http.Header
	code   int
	log    *[]string
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	r.code = code
}

func (r *recorder) Write(b []byte) (int, error) {
	*r.log = append(*r.log, "write")
	r.body.Write(b)
	return len(b), nil
}

// readLog is a Store whose Export notes each series it reads in the shared event log.
type readLog struct {
	*tsdb.DB
	log *[]string
}

func (s readLog) Export(ctx context.Context, sel *tsdb.Selector, start, end time.Time, begin func([]string) error, fn func(*tsdb.Series) error) error {
	return s.DB.Export(ctx, sel, start, end, begin, func(se *tsdb.Series) error {
		*s.log = append(*s.log, "read "+se.Label("i"))
		return fn(se)
	})
}

// An export is written while it is read: the first bytes go out before the last series is
// read from storage.
func TestExportStreams(t *testing.T) {
	var events []string
	e := newQueryEnv(t, tsdb.Options{}, QueryLimits{}, func(db *tsdb.DB) Store { return readLog{db, &events} })
	t0 := time.Now().Add(-20 * time.Hour)
	e.write(t, "st_m", 20, 5000, t0) // ~100 KB of JSON a series
	for _, format := range []string{"json", "csv"} {
		events = events[:0]
		req := httptest.NewRequest(http.MethodGet, "/api/v1/export?format="+format+"&match[]=st_m&start="+itoa(t0.Unix()), nil)
		req.Header.Set("Authorization", e.auth)
		rec := &recorder{header: http.Header{}, log: &events}
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.code != 200 || strings.Count(rec.body.String(), "\n") < 20 {
			t.Fatalf("%s export: %d %.200s", format, rec.code, rec.body.String())
		}
		firstWrite, lastRead := -1, -1
		for i, ev := range events {
			if ev == "write" && firstWrite < 0 {
				firstWrite = i
			}
			if strings.HasPrefix(ev, "read ") {
				lastRead = i
			}
		}
		if firstWrite < 0 || firstWrite > lastRead || strings.Count(strings.Join(events, ","), "read ") != 20 {
			t.Fatalf("%s export: first write at event %d, last series read at %d: %v", format, firstWrite, lastRead, events)
		}
	}
}

// At most MaxRunning queries run; MaxQueued more wait up to MaxWait; the rest get 503 with
// Retry-After at once. A running query's context carries the Timeout deadline.
func TestQueryGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newQueryGate(QueryLimits{MaxRunning: 1, MaxQueued: 1, MaxWait: 2 * time.Second, Timeout: 30 * time.Second}, "the query and export endpoints")
		release := make(chan struct{})
		e := echo.New()
		e.GET("/q", func(c echo.Context) error {
			d, ok := c.Request().Context().Deadline()
			if !ok || time.Until(d) != 30*time.Second {
				t.Errorf("running query's deadline in %v (set %v), want 30s", time.Until(d), ok)
			}
			<-release
			return c.String(http.StatusOK, "ok")
		}, g.middleware)
		var mu sync.Mutex
		var wg sync.WaitGroup
		codes := map[string]*httptest.ResponseRecorder{}
		send := func(name string) {
			wg.Go(func() {
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/q", nil))
				mu.Lock()
				codes[name] = rec
				mu.Unlock()
			})
			synctest.Wait()
		}
		result := func(name string) *httptest.ResponseRecorder {
			mu.Lock()
			defer mu.Unlock()
			return codes[name]
		}
		send("running")
		send("queued")
		send("refused")
		if r := result("refused"); r == nil || r.Code != 503 || r.Header().Get("Retry-After") != "1" ||
			!strings.Contains(r.Body.String(), `"errorType":"unavailable"`) || !strings.Contains(r.Body.String(), "1 running and 1 waiting") {
			t.Fatalf("third query with one running and one queued: %+v", r)
		}
		if result("running") != nil || result("queued") != nil {
			t.Fatal("the running or the queued query has answered")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if r := result("queued"); r == nil || r.Code != 503 || r.Header().Get("Retry-After") != "1" || !strings.Contains(r.Body.String(), "waited 2s for one of the 1 query slots") {
			t.Fatalf("queued query after 2s: %+v", r)
		}
		send("queued again")
		close(release)
		wg.Wait()
		for _, name := range []string{"running", "queued again"} {
			if r := result(name); r.Code != 200 {
				t.Errorf("%s: %d %s", name, r.Code, r.Body)
			}
		}
	})
}

// exportDone is a Store whose Export closes done when it returns.
type exportDone struct {
	*tsdb.DB
	done chan struct{}
}

func (s exportDone) Export(ctx context.Context, sel *tsdb.Selector, start, end time.Time, begin func([]string) error, fn func(*tsdb.Series) error) error {
	defer close(s.done)
	return s.DB.Export(ctx, sel, start, end, begin, fn)
}

// A client that stops reading an export does not hold storage past the request's deadline:
// the export's writes fail once the deadline passes.
func TestExportToStalledClientEndsAtDeadline(t *testing.T) {
	done := make(chan struct{})
	e := newQueryEnv(t, tsdb.Options{}, QueryLimits{Timeout: time.Second}, func(db *tsdb.DB) Store { return exportDone{db, done} })
	t0 := time.Now().Add(-2 * 24 * time.Hour)
	big := strings.Repeat("x", 3000)
	var samples []tsdb.Sample
	for j := range 10000 {
		samples = append(samples, tsdb.Sample{Name: "sc_m", Labels: []tsdb.Label{{Name: "big", Value: big}}, Timestamp: t0.Add(time.Duration(j) * 10 * time.Second).UnixMilli(), Value: 1})
	}
	if err := e.db.Write(samples); err != nil {
		t.Fatal(err)
	}
	e.db.Flush()
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/api/v1/export?format=csv&match[]=sc_m&start="+itoa(t0.Unix()), nil)
	req.Header.Set("Authorization", e.auth)
	req.Header.Set("Accept-Encoding", "identity") // 30 MB of CSV, more than the sockets buffer; gzip would shrink it
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.ReadFull(res.Body, make([]byte, 1024)); err != nil || res.StatusCode != 200 {
		t.Fatalf("export: %d %v", res.StatusCode, err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the export to a client that stopped reading is still running 10 s after its 1 s deadline")
	}
}
