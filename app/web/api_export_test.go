package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

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
	t.Parallel()
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

// endlessExport is a Store whose Export yields big series until a write of the answer fails
// or its context is done, as a long export does (storage checks the context between blocks),
// then sends when it returned.
type endlessExport struct {
	Store
	returned chan time.Time
}

func (s endlessExport) Export(ctx context.Context, _ *tsdb.Selector, _, _ time.Time, begin func([]string) error, fn func(*tsdb.Series) error) error {
	defer func() { s.returned <- time.Now() }()
	if err := begin(nil); err != nil {
		return err
	}
	se := &tsdb.Series{Name: "sc_m", Points: make([]tsdb.Point, 10000)}
	for ctx.Err() == nil {
		if err := fn(se); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// A client that stops reading an export does not hold storage past the request's deadline:
// the export's writes fail at the deadline. The server is the product's (Serve) on in-memory
// connections in a synctest bubble, so a write to the stalled client blocks and the deadline
// passes on the bubble's clock.
func TestExportToStalledClientEndsAtDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := endlessExport{returned: make(chan time.Time, 1)}
		srv, auth := newQueryServer(t, st, QueryLimits{Timeout: time.Second})
		ps := servePipe(t, srv)
		req, _ := http.NewRequest(http.MethodGet, "http://redwatch/api/v1/export?format=csv&match[]=sc_m", nil)
		req.Header.Set("Authorization", auth)
		req.Header.Set("Accept-Encoding", "identity")
		t0 := time.Now()
		res, err := ps.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if _, err := io.ReadFull(res.Body, make([]byte, 1024)); err != nil || res.StatusCode != 200 {
			t.Fatalf("export: %d %v", res.StatusCode, err)
		}
		select {
		case at := <-st.returned:
			if d := at.Sub(t0); d != time.Second {
				t.Fatalf("the export to a client that stopped reading returned %s after it began, want at its 1 s deadline", d)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the export to a client that stopped reading is still running 10 s after its 1 s deadline")
		}
	})
}
