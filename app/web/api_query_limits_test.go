package web

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/auth/authtest"
	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/tsdb"
)

// queryEnv is a server over a real store with the given bounds.
type queryEnv struct {
	db   *tsdb.DB
	srv  *Server
	ts   *httptest.Server
	auth string // an Authorization header value for the viewer
}

// newQueryEnv opens a store with topts and serves it with limits; store, when set, wraps the
// store the handlers read.
func newQueryEnv(t *testing.T, topts tsdb.Options, limits QueryLimits, store func(*tsdb.DB) Store) *queryEnv {
	t.Helper()
	topts.Path = t.TempDir()
	topts.Logger = slog.New(slog.DiscardHandler)
	db, err := tsdb.Open(topts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var st Store = db
	if store != nil {
		st = store(db)
	}
	return newQueryEnvOver(t, db, st, limits)
}

// newQueryEnvOver serves st (over db) with limits.
func newQueryEnvOver(t *testing.T, db *tsdb.DB, st Store, limits QueryLimits) *queryEnv {
	t.Helper()
	srv, auth := newQueryServer(t, st, limits)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &queryEnv{db: db, srv: srv, ts: ts, auth: auth}
}

// newQueryServer is a server over st with limits and one user, a viewer; it returns the server
// and an Authorization header value for the viewer.
func newQueryServer(t *testing.T, st Store, limits QueryLimits) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	users, err := auth.NewUsers([]auth.User{{Name: "viewer", PasswordHash: authtest.Hash(t, viewerPass), Role: auth.RoleViewer}}, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := auth.NewSessions(dir, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{
		Store: st, Users: users, Sessions: sessions, Stats: selfmon.New(), Queries: limits,
		Health: &health.Checker{Started: time.Now(), Targets: func() []health.Target { return nil }},
		Logger: slog.New(slog.DiscardHandler),
	})
	return srv, "Basic " + basic("viewer", viewerPass)
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
	t.Parallel()
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
	t.Parallel()
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
		{"/api/v1/query_range", url.Values{"query": {"bb_many"}, "start": {start}, "step": {"60"}, "agg": {"last"}}, []string{"more than 2 series (the series limit per query)", "more specific selector"}},
		{"/api/v1/query", url.Values{"query": {"count(bb_many)"}, "time": {itoa(t0.Add(time.Minute).Unix())}}, []string{"more than 2 series (the series limit per query)", "more specific selector"}},
		{"/api/v1/query_range", url.Values{"query": {"bb_big"}, "start": {start}, "step": {"60"}, "agg": {"max"}}, []string{"reads more than 100 samples (the samples limit per query)", "fewer series, a shorter range or a larger step"}},
		// The points bound is that of redwatch's own evaluation (agg): MetricsQL bounds the
		// points per series (11,000) as Prometheus does.
		{"/api/v1/query_range", url.Values{"query": {`bb_big{i="0"}`}, "start": {start}, "step": {"1"}, "agg": {"last"}}, []string{"returns more than 50 points (the points limit per query)", "larger step"}},
	} {
		res, body := e.get(t, false, c.path, c.params)
		wantPromError(t, c.path+"?"+c.params.Encode(), res, body, http.StatusUnprocessableEntity, "execution", c.words...)
	}
	res, body := e.get(t, false, "/api/v1/export", url.Values{"match[]": {"bb_big", "bb_big{"}})
	wantPromError(t, "a bad second selector", res, body, http.StatusBadRequest, "bad_data", "match[] 2:")

	// The time bound: a deadline that has passed by the time storage is read.
	slow := newQueryEnvOver(t, e.db, e.db, QueryLimits{Timeout: time.Nanosecond})
	for _, path := range []string{"/api/v1/query_range?query=bb_big&step=60", "/api/v1/query_range?query=bb_big&step=60&agg=", "/api/v1/query?query=bb_big",
		"/api/v1/labels", "/api/v1/export?match[]=bb_big", "/api/v1/series?match[]=bb_big"} {
		u, _ := url.Parse(path)
		res, body := slow.get(t, false, u.Path, u.Query())
		wantPromError(t, path+" past its deadline", res, body, http.StatusServiceUnavailable, "timeout", "ran longer than 1ns (the time limit per query)")
	}
}
