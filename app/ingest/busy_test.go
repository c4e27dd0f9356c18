package ingest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/ingest"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// blockingWriter holds every Write until release is closed.
type blockingWriter struct {
	*tsdb.DB
	entered chan struct{}
	release chan struct{}
}

func (b *blockingWriter) Write(s []tsdb.Sample) error {
	b.entered <- struct{}{}
	<-b.release
	return b.DB.Write(s)
}

// With MaxConcurrent requests at work, the next one waits QueueWait, then gets 503 with
// Retry-After, counted as busy; once they finish, requests are served again.
func TestConcurrentInsertsLimited(t *testing.T) {
	var bw *blockingWriter
	e := newEnvWith(t, ingest.Options{Tokens: []string{token}, MaxConcurrent: 2, QueueWait: 100 * time.Millisecond}, func(db *tsdb.DB) ingest.Writer {
		bw = &blockingWriter{DB: db, entered: make(chan struct{}, 2), release: make(chan struct{})}
		return bw
	})
	var wg sync.WaitGroup
	for k := range 2 {
		wg.Go(func() {
			res, body := e.post("/write", fmt.Appendf(nil, "m,k=%d v=1\n", k), bearer)
			if res.StatusCode != http.StatusNoContent {
				t.Errorf("blocked request %d: %d %s", k, res.StatusCode, body)
			}
		})
	}
	<-bw.entered
	<-bw.entered // both are in Write, holding their slots
	for _, path := range []string{"/write", "/api/v1/write"} {
		body := []byte("m v=1\n")
		if path == "/api/v1/write" {
			body = wire.EncodeRemoteWrite([]tsdb.Sample{{Name: "m", Timestamp: time.Now().UnixMilli(), Value: 1}})
		}
		t0 := time.Now()
		res, got := e.post(path, body, bearer)
		if d := time.Since(t0); d < 100*time.Millisecond {
			t.Fatalf("%s: refused after %s, before QueueWait", path, d)
		}
		if path == "/write" {
			wantInfluxBody(t, "busy "+path, res, got, http.StatusServiceUnavailable, "unavailable", "too many concurrent write requests: 2 are at work and none finished within 100ms; retry later")
		} else {
			wantError(t, "busy "+path, res, got, http.StatusServiceUnavailable, "too many concurrent write requests")
		}
		if ra := res.Header.Get("Retry-After"); ra != "1" {
			t.Fatalf("%s: Retry-After %q", path, ra)
		}
	}
	// A bad token is refused at once, without a slot.
	res, got := e.post("/write", []byte("m v=1\n"), "Authorization: Bearer wrong")
	wantStatus(t, "bad token while busy", res, got, http.StatusUnauthorized)
	if n := e.in.Rejected("busy"); n != 2 {
		t.Fatalf("busy counted %d times, want 2", n)
	}
	close(bw.release)
	wg.Wait()
	bw.entered = make(chan struct{}, 1)
	res, got = e.post("/write", []byte("m,k=9 v=1\n"), bearer)
	wantStatus(t, "after the others finished", res, got, http.StatusNoContent)
	if ss := e.series("m_v"); len(ss) != 3 {
		t.Fatalf("stored %d series, want 3", len(ss))
	}
}

// readOnly is storage that went read-only: Write refuses with tsdb.ErrReadOnly.
type readOnly struct{ *tsdb.DB }

func (readOnly) Write([]tsdb.Sample) error {
	return fmt.Errorf("cannot write: %w", tsdb.ErrReadOnly)
}

// While storage is read-only every write endpoint answers 503 with Retry-After and says why,
// as VictoriaMetrics does; never 204 or 500.
func TestReadOnlyStorageIs503(t *testing.T) {
	e := newEnvWith(t, ingest.Options{Tokens: []string{token}}, func(db *tsdb.DB) ingest.Writer { return readOnly{db} })
	want := "storage is read-only, retry later: cannot write: tsdb: storage is read-only (free disk space is below the limit); nothing of this request was stored"
	for _, path := range []string{"/write", "/api/v2/write", "/api/v1/write"} {
		body := []byte("m v=1\n")
		if path == "/api/v1/write" {
			body = wire.EncodeRemoteWrite([]tsdb.Sample{{Name: "m", Timestamp: time.Now().UnixMilli(), Value: 1}})
		}
		res, got := e.post(path, body, bearer)
		if path == "/api/v1/write" {
			wantError(t, path, res, got, http.StatusServiceUnavailable, want)
		} else {
			wantInfluxBody(t, path, res, got, http.StatusServiceUnavailable, "unavailable", want)
		}
		if ra := res.Header.Get("Retry-After"); ra != "30" {
			t.Fatalf("%s: Retry-After %q", path, ra)
		}
	}
	if n := e.in.Rejected("read_only"); n != 3 {
		t.Fatalf("read_only counted %d times, want 3", n)
	}
}

// Pushed samples of a series redwatch samples itself (Options.Sampled) are left out, so they
// can never mix with, or mask, the sampler's values; the rest of the request is stored and the
// answer is the partial write report (400, 422 on /api/v2/write) naming the first left out.
func TestPushOfSampledSeriesLeftOut(t *testing.T) {
	sampled := func() func(string, []tsdb.Label) string {
		return func(name string, labels []tsdb.Label) string {
			if strings.HasPrefix(name, "redis_") && len(labels) > 0 && labels[0] == (tsdb.Label{Name: "instance", Value: "r4"}) {
				return `Redis instance "r4" is sampled by redwatch`
			}
			return ""
		}
	}
	e := newEnv(t, ingest.Options{Tokens: []string{token}, Sampled: sampled})
	const owned = `redis_up): the series is written by redwatch itself (Redis instance "r4" is sampled by redwatch): a pushed value would mix with it`
	stored := func(what, instance string, want float64) {
		t.Helper()
		ss := e.series(fmt.Sprintf(`redis_up{instance=%q}`, instance))
		if len(ss) != 1 || len(ss[0].Points) != 1 || ss[0].Points[0].Value != want {
			t.Fatalf("%s: redis_up{instance=%q}: %+v, want one point %v", what, instance, ss, want)
		}
	}
	wantNoR4 := func(what string) {
		t.Helper()
		if ss := e.series(`redis_up{instance="r4"}`); len(ss) != 0 {
			t.Fatalf("%s: r4's pushed series stored: %+v", what, ss)
		}
		if lv, ok := e.db.LatestOne("redis_up", tsdb.Label{Name: "instance", Value: "r4"}); ok {
			t.Fatalf("%s: r4's pushed series in the latest values: %+v", what, lv)
		}
	}

	res, body := e.post("/write", []byte("redis,instance=a up=1\nredis,instance=r4 up=1,uptime_seconds=5\nredis,instance=r4 up=0\n"), bearer)
	wantInfluxBody(t, "/write", res, body, http.StatusBadRequest, "invalid",
		"partial write: series sampled by redwatch dropped=3: 3 of 4 samples were not stored, the first at line 2 ("+owned+"; the other 1 were stored")
	stored("/write", "a", 1)
	wantNoR4("/write")

	res, body = e.post("/api/v2/write", []byte("redis,instance=r4 up=1\nredis,instance=b up=2\n"), bearer)
	wantInfluxBody(t, "/api/v2/write", res, body, http.StatusUnprocessableEntity, "unprocessable entity",
		"partial write: series sampled by redwatch dropped=1: 1 of 2 samples were not stored, the first at line 1 ("+owned+"; the other 1 were stored")
	stored("/api/v2/write", "b", 2)

	now := time.Now().UnixMilli()
	res, body = e.post("/api/v1/write", wire.EncodeRemoteWrite([]tsdb.Sample{
		{Name: "redis_up", Labels: lbl("instance", "c"), Timestamp: now, Value: 3},
		{Name: "redis_up", Labels: lbl("instance", "r4"), Timestamp: now, Value: 1},
		{Name: "redis_up", Labels: lbl("instance", "r4"), Timestamp: now - 1000, Value: 1},
	}), bearer)
	wantError(t, "remote write", res, body, http.StatusBadRequest,
		"partial write: series sampled by redwatch dropped=2: 2 of 3 samples were not stored, the first at series 1 ("+owned+"; the other 1 were stored")
	stored("remote write", "c", 3)
	wantNoR4("remote write")

	// With a sample outside the window too, both are named, and counted.
	res, body = e.post("/write?precision=s", []byte("redis,instance=d up=4 4102444800\nredis,instance=r4 up=1\nredis,instance=e up=5\n"), bearer)
	wantInfluxBody(t, "mixed", res, body, http.StatusBadRequest, "invalid",
		"partial write: points beyond retention policy or of series sampled by redwatch dropped=2: 2 of 3 samples were not stored, the first at line 1 (redis_up): timestamp 2100-01-01T00:00:00Z is more than 10m0s ahead of now")
	stored("mixed", "e", 5)
	wantNoR4("mixed")

	res, body = e.post("/write", []byte("redis,instance=other up=1\n"), bearer)
	wantStatus(t, "other instance", res, body, http.StatusNoContent)
	for reason, want := range map[string]uint64{"sampled_series": 4, "timestamp_future": 1, "invalid": 0} {
		if n := e.in.Rejected(reason); n != want {
			t.Fatalf("%s counted %d times, want %d", reason, n, want)
		}
	}
}

// Counters are written as redwatch_ingest_rejected_total{reason}, every reason from 0.
func TestRejectedSamples(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	e.post("/write", []byte("m,host="+strings.Repeat("x", 5000)+" v=1\n"), bearer)
	ss := e.in.Samples(time.Now())
	got := map[string]float64{}
	for _, s := range ss {
		if s.Name != ingest.SeriesRejected || len(s.Labels) != 1 || s.Labels[0].Name != "reason" {
			t.Fatalf("sample %+v", s)
		}
		got[s.Labels[0].Value] = s.Value
	}
	if len(got) != 16 || got["label_value_too_long"] != 1 || got["busy"] != 0 || got["read_only"] != 0 || got["timestamp_future"] != 0 {
		t.Fatalf("counters %v", got)
	}
	// As selfmon stores them (Samples is its source), /metrics exports them.
	if err := e.db.Write(ss); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+"/metrics", nil)
	req.SetBasicAuth("admin", "admin-password-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		"# HELP redwatch_ingest_rejected_total Write requests (/api/v1/write, /write, /api/v2/write) refused in whole or in part since redwatch started, by reason.",
		"# TYPE redwatch_ingest_rejected_total counter",
		`redwatch_ingest_rejected_total{reason="label_value_too_long"} 1 `,
		`redwatch_ingest_rejected_total{reason="busy"} 0 `,
	} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, b)
		}
	}
}
