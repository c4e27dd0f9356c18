package web

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
	"github.com/redwatch/redwatch/views/components"
)

// A key reads the same on a page (components.Printable of the raw name, as the keys pages
// show it) as where its stored label value is shown (the alerts page and notifications show
// label values read from storage).
func TestPagesShowKeysAsStored(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"q\xffbin", "a\\\xff", "\xff\\xff", `plain\back`, "nul\x00byte", "new\nline\xfe", "ключ"} {
		if got, want := components.Printable(raw), components.Printable(tsdb.LabelValue(raw)); got != want {
			t.Errorf("%q: page shows %q, stored label shows %q", raw, got, want)
		}
	}
	if got := components.Printable("q\xffbin"); got != `q\xffbin` {
		t.Errorf("q\\xffbin shown as %q", got)
	}
}

// A series pushed with Prometheus remote write (vmagent, Prometheus) leaves /metrics when the
// pusher sends its staleness marker, as vmagent does for a target that went away.
func TestPushedSeriesEndsOnStaleMarker(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	auth := "Authorization: Basic " + basic("viewer", viewerPass)
	ts := time.Now().UnixMilli()
	push := func(ts int64, v float64) {
		t.Helper()
		body := wire.EncodeRemoteWrite([]tsdb.Sample{{Name: "node_up", Labels: []tsdb.Label{{Name: "job", Value: "node"}}, Timestamp: ts, Value: v}})
		res, out := e.do(nil, "POST", "/api/v1/write", bytes.NewReader(body), "Authorization: Bearer "+ingestToken,
			"Content-Type: application/x-protobuf", "Content-Encoding: snappy", "X-Prometheus-Remote-Write-Version: 0.1.0")
		if res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusOK {
			t.Fatalf("remote write: %d %s", res.StatusCode, out)
		}
	}
	push(ts, 1)
	if _, body := e.do(nil, "GET", "/metrics", nil, auth); !strings.Contains(body, `node_up{job="node"} 1 `) {
		t.Fatalf("pushed series missing:\n%s", body)
	}
	push(ts+1000, tsdb.StaleMarker())
	if _, body := e.do(nil, "GET", "/metrics", nil, auth); strings.Contains(body, "node_up") {
		t.Fatalf("a series ended by a stale marker is still exported:\n%s", body)
	}
}

// heldLatest is a latestStore whose LatestAll waits for release, announcing itself on entered.
type heldLatest struct {
	*latestStore
	entered chan struct{}
	release chan struct{}
}

func (s *heldLatest) LatestAll(fn func(lv *tsdb.LatestValue)) {
	s.entered <- struct{}{}
	<-s.release
	s.latestStore.LatestAll(fn)
}

// /metrics is built one at a time (each copies the whole latest-value table): a second
// request waits for the first, and past the wait gets 503 naming the limit, never entering
// storage.
func TestMetricsOneAtATime(t *testing.T) {
	t.Parallel()
	st := &heldLatest{latestStore: newLatestStore(), entered: make(chan struct{}, 2), release: make(chan struct{})}
	st.write([]tsdb.Sample{{Name: "redis_up", Labels: lbls("instance", "cache"), Timestamp: 1000, Value: 1}})
	e := newEnvWith(t, envOptions{store: st, mod: func(o *Options) { o.Queries = QueryLimits{MaxWait: 50 * time.Millisecond} }})
	auth := "Basic " + basic("viewer", viewerPass)
	get := func() (int, string) {
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/metrics", nil)
		req.Header.Set("Authorization", auth)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	first := make(chan int, 1)
	go func() { code, _ := get(); first <- code }()
	<-st.entered
	code, body := get()
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "waited 50ms for one of the 1 query slots (the concurrency limit of /metrics)") {
		t.Fatalf("second /metrics while the first runs: %d %s", code, body)
	}
	if len(st.entered) != 0 {
		t.Fatal("the second /metrics read storage")
	}
	close(st.release)
	if code := <-first; code != http.StatusOK {
		t.Fatalf("first /metrics: %d", code)
	}
	if code, body := get(); code != http.StatusOK || !strings.Contains(body, `redis_up{instance="cache"} 1 1000`) {
		t.Fatalf("/metrics after the first finished: %d %s", code, body)
	}
}
