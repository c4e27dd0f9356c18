package queryengine

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// openLocal opens a tsdb holding a counter per instance, one sample every 10 s for 10 minutes
// up to now, flushed.
func openLocal(t *testing.T) (*tsdb.DB, time.Time) {
	t.Helper()
	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now().Truncate(10 * time.Second)
	var ss []tsdb.Sample
	for i := 0; i <= 60; i++ {
		ts := now.Add(-time.Duration(60-i) * 10 * time.Second).UnixMilli()
		for j, inst := range []string{"a", "b"} {
			ss = append(ss, tsdb.Sample{Name: "rw_test_total", Labels: []tsdb.Label{{Name: "instance", Value: inst}},
				Timestamp: ts, Value: float64(i * (j + 1) * 10)})
		}
	}
	if err := db.Write(ss); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	return db, now
}

// remoteOver serves e's Prometheus handlers on a real HTTP server, as VictoriaMetrics does.
func remoteOver(t *testing.T, e Engine) *Remote {
	t.Helper()
	mux := http.NewServeMux()
	wrap := func(f func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r); err != nil {
				code := http.StatusUnprocessableEntity
				if errors.Is(err, tsdb.ErrBadQuery) {
					code = http.StatusBadRequest
				}
				http.Error(w, `{"status":"error","errorType":"bad_data","error":"`+strings.ReplaceAll(err.Error(), `"`, `'`)+`"}`, code)
			}
		}
	}
	mux.HandleFunc("/api/v1/query", wrap(e.ServeQuery))
	mux.HandleFunc("/api/v1/query_range", wrap(e.ServeQueryRange))
	mux.HandleFunc("/api/v1/labels", wrap(e.ServeLabels))
	mux.HandleFunc("/api/v1/label/{name}/values", wrap(func(w http.ResponseWriter, r *http.Request) error {
		return e.ServeLabelValues(w, r, r.PathValue("name"))
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r, err := NewRemote(RemoteOptions{URL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRemoteDecodesAsLocal: the Remote client reading a Prometheus API gives exactly the
// Series Local gives for the same expressions, and the label lists.
func TestRemoteDecodesAsLocal(t *testing.T) {
	db, now := openLocal(t)
	local := NewLocal(db)
	remote := remoteOver(t, local)
	ctx := context.Background()
	for _, expr := range []string{`rw_test_total`, `rate(rw_test_total[1m])`, `sum(rate(rw_test_total[1m]))`, `1`} {
		want, err := local.Query(ctx, expr, now)
		if err != nil {
			t.Fatalf("local %s: %v", expr, err)
		}
		got, err := remote.Query(ctx, expr, now)
		if err != nil {
			t.Fatalf("remote %s: %v", expr, err)
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("Query(%s): remote %v, local %v", expr, got, want)
		}
		want, err = local.QueryRangeExpr(ctx, expr, now.Add(-5*time.Minute), now, 30*time.Second)
		if err != nil {
			t.Fatalf("local range %s: %v", expr, err)
		}
		got, err = remote.QueryRangeExpr(ctx, expr, now.Add(-5*time.Minute), now, 30*time.Second)
		if err != nil {
			t.Fatalf("remote range %s: %v", expr, err)
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("QueryRangeExpr(%s): remote %v, local %v", expr, got, want)
		}
	}
	names, err := remote.LabelNames(ctx, nil, now.Add(-time.Hour), now)
	if err != nil || !reflect.DeepEqual(names, []string{"__name__", "instance"}) {
		t.Errorf("LabelNames = %v, %v", names, err)
	}
	values, err := remote.LabelValues(ctx, "instance", []string{"rw_test_total"}, now.Add(-time.Hour), now)
	if err != nil || !reflect.DeepEqual(values, []string{"a", "b"}) {
		t.Errorf("LabelValues = %v, %v", values, err)
	}
	lvalues, err := local.LabelValues(ctx, "instance", []string{"rw_test_total"}, now.Add(-time.Hour), now)
	if err != nil || !reflect.DeepEqual(lvalues, values) {
		t.Errorf("local LabelValues = %v, %v", lvalues, err)
	}
	if _, err := remote.Query(ctx, `rate(`, now); !errors.Is(err, tsdb.ErrBadQuery) {
		t.Errorf("bad expression: %v, want ErrBadQuery", err)
	}
}

// TestRemoteDown: an unreachable remote is ErrUnavailable with a reason naming it.
func TestRemoteDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r, err := NewRemote(RemoteOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Query(context.Background(), "1", time.Now())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), url) {
		t.Errorf("err = %v, want ErrUnavailable naming %s", err, url)
	}
	if _, err := NewRemote(RemoteOptions{URL: "vm:8428"}); err == nil {
		t.Error("a URL without scheme was accepted")
	}
}
