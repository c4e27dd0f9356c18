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

// A push of a series redwatch samples itself (Options.Sampled) is refused whole, so it can
// never mix with, or mask, the sampler's values.
func TestPushOfSampledSeriesRefused(t *testing.T) {
	sampled := func() func(string, []tsdb.Label) string {
		return func(name string, labels []tsdb.Label) string {
			if strings.HasPrefix(name, "redis_") && len(labels) > 0 && labels[0] == (tsdb.Label{Name: "instance", Value: "r4"}) {
				return `Redis instance "r4" is sampled by redwatch`
			}
			return ""
		}
	}
	e := newEnv(t, ingest.Options{Tokens: []string{token}, Sampled: sampled})
	res, body := e.post("/write", []byte("redis,instance=other up=1\nredis,instance=r4 up=1\n"), bearer)
	wantInfluxBody(t, "r4", res, body, http.StatusBadRequest, "invalid",
		`bad payload: line 2 "redis,instance=r4 up=1": redis_up is written by redwatch itself (Redis instance "r4" is sampled by redwatch): a pushed value would mix with it`)
	e.wantNothingStored()
	res, body = e.post("/write", []byte("redis,instance=other up=1\n"), bearer)
	wantStatus(t, "other instance", res, body, http.StatusNoContent)
	if n := e.in.Rejected("sampled_series"); n != 1 {
		t.Fatalf("sampled_series counted %d times", n)
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
	// As StatsSampler stores them, /metrics exports them.
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
