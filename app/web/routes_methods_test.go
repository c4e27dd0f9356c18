package web

import (
	"net/http"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// TestWrongMethodAnswers405 checks that a known path asked for with a method it has no route
// for answers 405 with an Allow header after a login (and for /settings, only to admins), as
// echo does, and not the 404 of the catch-all for unknown paths; and that the requests no
// route takes are counted under route "unmatched" whatever they answer (401 before a login),
// and those a route takes for another method under that route.
func TestWrongMethodAnswers405(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{store: newLatestStore()})
	admin := "Authorization: Basic " + basic("admin", adminPass)
	viewer := "Authorization: Basic " + basic("viewer", viewerPass)
	for _, c := range []struct {
		method, path string
		headers      []string
		code         int
		allow        string
	}{
		{"DELETE", "/keys", []string{admin}, http.StatusMethodNotAllowed, "OPTIONS, GET"},
		{"POST", "/health/db", []string{admin}, http.StatusMethodNotAllowed, "OPTIONS, GET"},
		{"POST", "/health/db", nil, http.StatusUnauthorized, ""},          // a login first, even for a public path
		{"POST", "/settings", []string{viewer}, http.StatusForbidden, ""}, // admin only
		{"POST", "/settings", []string{admin}, http.StatusMethodNotAllowed, "OPTIONS, GET"},
		{"POST", "/keys", nil, http.StatusUnauthorized, ""},
		{"OPTIONS", "/keys/1", []string{admin}, http.StatusNoContent, "OPTIONS, GET"},
		{"POST", "/settings/nope", []string{admin}, http.StatusNotFound, ""},
		{"GET", "/nope", []string{admin}, http.StatusNotFound, ""},
		{"GET", "/nope", nil, http.StatusUnauthorized, ""},
		{"POST", "/assets/app.css", nil, http.StatusMethodNotAllowed, "OPTIONS, GET"},
	} {
		res, body := e.do(nil, c.method, c.path, nil, c.headers...)
		if res.StatusCode != c.code || res.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d, Allow %q, want %d, %q: %s", c.method, c.path, res.StatusCode, res.Header.Get("Allow"), c.code, c.allow, body)
		}
	}
	got := map[string]float64{}
	for _, s := range e.srv.opts.Stats.Samples(time.Now(), statsStore{}) {
		if s.Name == "redwatch_http_requests_total" {
			got[s.Labels[0].Value+" "+s.Labels[1].Value] += s.Value
		}
	}
	for k, n := range map[string]float64{"/keys 405": 1, "/keys 401": 1, "/health/db 405": 1, "/health/db 401": 1, "/settings 403": 1, "unmatched 401": 1, "unmatched 404": 1, "/settings/* 404": 1, "/assets/* 405": 1} {
		if got[k] != n {
			t.Errorf("requests %s: %v, want %v (all: %v)", k, got[k], n, got)
		}
	}
}

// statsStore is the storage selfmon.Stats.Samples reads its counters from: none.
type statsStore struct{}

func (statsStore) Write([]tsdb.Sample) error        { return nil }
func (statsStore) SamplesWritten() uint64           { return 0 }
func (statsStore) LatestCount() int                 { return 0 }
func (statsStore) SeriesDropped() map[string]uint64 { return nil }
