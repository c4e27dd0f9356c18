package ingest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/ingest"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// wantInfluxBody checks InfluxDB's error shape {code, message, error} with message containing want.
func wantInfluxBody(t *testing.T, what string, res *http.Response, body string, status int, code, want string) {
	t.Helper()
	wantStatus(t, what, res, body, status)
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil || m["code"] != code || m["message"] != m["error"] || !strings.Contains(m["message"], want) {
		t.Fatalf("%s: body %s, want {code:%q, message=error containing %q}", what, body, code, want)
	}
}

// Every limit refuses the whole request with 400 naming the line (Influx) or series (remote
// write) and the limit; nothing of it is stored, and the refusal is counted by reason. At the
// limit, the request is stored.
func TestLimitsRefuseWholeRequest(t *testing.T) {
	lim := ingest.Limits{MaxSamples: 6, MaxSeries: 4, MaxLineBytes: 8 << 10}
	e := newEnv(t, ingest.Options{Tokens: []string{token}, Limits: lim})
	now := time.Now().UnixMilli()
	good := "cpu,host=web-1 idle=97.5\n"
	tags := func(n int) string {
		var b strings.Builder
		for k := range n {
			fmt.Fprintf(&b, ",t%02d=v", k)
		}
		return b.String()
	}
	labels := func(n int) []tsdb.Label {
		var out []tsdb.Label
		for k := range n {
			out = append(out, tsdb.Label{Name: fmt.Sprintf("t%02d", k), Value: "v"})
		}
		return out
	}
	f := func(reason, lines string, rw []tsdb.Sample, want, wantRW string) {
		t.Helper()
		before := e.in.Rejected(reason)
		res, body := e.post("/write", []byte(lines), bearer)
		wantInfluxBody(t, reason+" /write", res, body, http.StatusBadRequest, "invalid", want)
		res, body = e.post("/api/v2/write", []byte(lines), bearer)
		wantInfluxBody(t, reason+" /api/v2/write", res, body, http.StatusBadRequest, "invalid", want)
		res, body = e.post("/api/v1/write", wire.EncodeRemoteWrite(rw), bearer)
		wantError(t, reason+" remote write", res, body, http.StatusBadRequest, wantRW)
		e.wantNothingStored()
		if got := e.in.Rejected(reason) - before; got != 3 {
			t.Fatalf("%s counted %d times, want 3", reason, got)
		}
	}
	ok := tsdb.Sample{Name: "cpu_idle", Labels: lbl("host", "web-1"), Timestamp: now, Value: 1}
	long := strings.Repeat("x", 4097)
	f("label_value_too_long", good+"cpu,host="+long+" idle=1\n", []tsdb.Sample{ok, {Name: "cpu_idle", Labels: lbl("host", long), Timestamp: now}},
		`line 2 "cpu,host=xxx`, `series 1 (cpu_idle): cpu_idle: value of label "host" is 4097 bytes, over the limit of 4096 bytes`)
	f("too_many_labels", good+"cpu"+tags(41)+" idle=1\n", []tsdb.Sample{ok, {Name: "cpu_idle", Labels: labels(41), Timestamp: now}},
		"line 2 \"cpu,t00=v", "series 1 (cpu_idle): cpu_idle has 41 labels, over the limit of 40")
	f("label_name_too_long", good+"cpu,"+strings.Repeat("k", 257)+"=v idle=1\n", []tsdb.Sample{ok, {Name: "cpu_idle", Labels: lbl(strings.Repeat("k", 257), "v"), Timestamp: now}},
		"label name of 257 bytes exceeds the limit of 256 bytes", "series 1 (cpu_idle): cpu_idle: label name of 257 bytes exceeds the limit of 256 bytes")
	f("metric_name_too_long", good+strings.Repeat("m", 251)+" field=1\n", []tsdb.Sample{ok, {Name: strings.Repeat("m", 257), Timestamp: now}},
		"line 2 \"mmm", "metric name of 257 bytes exceeds the limit of 256 bytes")
	var same strings.Builder
	for k := range 6 {
		fmt.Fprintf(&same, "cpu,host=web-1 idle=%d %d\n", k, (now-int64(k))*1e6)
	}
	f("too_many_samples", good+same.String(),
		[]tsdb.Sample{ok, ok, ok, ok, ok, ok, {Name: "x", Timestamp: now}},
		"line 7 \"cpu,host=web-1 idle=5 ",
		"series 6 (x): the request has more than 6 samples, the limit per request")
	f("too_many_series", fmt.Sprintf("m,s=1 v=1\nm,s=2 v=1\nm,s=3 v=1\nm,s=1 v=2 %d\nm,s=4 v=1\nm,s=5 v=1\n", (now-1000)*1e6),
		[]tsdb.Sample{{Name: "m", Labels: lbl("s", "1"), Timestamp: now}, {Name: "m", Labels: lbl("s", "2"), Timestamp: now}, {Name: "m", Labels: lbl("s", "1"), Timestamp: now - 1},
			{Name: "m", Labels: lbl("s", "3"), Timestamp: now}, {Name: "m", Labels: lbl("s", "4"), Timestamp: now}, {Name: "m", Labels: lbl("s", "5"), Timestamp: now}},
		"line 6 \"m,s=5 v=1\": the request has more than 4 series, the limit per request",
		"series 5 (m): the request has more than 4 series, the limit per request")

	// The 65,536-byte tag value, and a line over MaxLineBytes.
	res, body := e.post("/write", []byte(good+"cpu,host="+strings.Repeat("a", 4097)+" idle=1\n"), bearer)
	wantInfluxBody(t, "4097-byte tag", res, body, http.StatusBadRequest, "invalid", `cpu_idle: value of label "host" is 4097 bytes, over the limit of 4096 bytes`)
	res, body = e.post("/write", []byte(good+"cpu,host="+strings.Repeat("a", 65536)+" idle=1\n"), bearer)
	wantInfluxBody(t, "65536-byte tag", res, body, http.StatusBadRequest, "invalid", `line 2 "cpu,host=aaaa`)
	if !strings.Contains(body, "is longer than 8192 bytes, the limit per line") {
		t.Fatalf("65536-byte tag: %s", body)
	}
	if e.in.Rejected("line_too_long") != 1 {
		t.Fatalf("line_too_long counted %d times", e.in.Rejected("line_too_long"))
	}
	e.wantNothingStored()

	// At every limit: stored.
	at := []tsdb.Sample{
		{Name: strings.Repeat("m", 256), Labels: append(labels(39), tsdb.Label{Name: strings.Repeat("k", 256), Value: strings.Repeat("x", 4096)}), Timestamp: now, Value: 1},
		{Name: "m", Labels: lbl("s", "1"), Timestamp: now}, {Name: "m", Labels: lbl("s", "2"), Timestamp: now},
		{Name: "m", Labels: lbl("s", "3"), Timestamp: now}, {Name: "m", Labels: lbl("s", "3"), Timestamp: now - 1000},
	}
	res, body = e.post("/api/v1/write", wire.EncodeRemoteWrite(at), bearer)
	wantStatus(t, "at the limits", res, body, http.StatusNoContent)
	if ss := e.series(`{__name__=~"m+"}`); len(ss) != 4 {
		t.Fatalf("stored %d series, want 4", len(ss))
	}
	res, body = e.post("/write", []byte("cpu"+tags(39)+",host="+strings.Repeat("x", 4096)+" a=1,b=2,c=3,d=4\n"), bearer)
	wantStatus(t, "influx at the limits", res, body, http.StatusNoContent)
}

// chunks records the size of every Write.
type chunks struct {
	*tsdb.DB
	mu    sync.Mutex
	sizes []int
}

func (c *chunks) Write(s []tsdb.Sample) error {
	c.mu.Lock()
	c.sizes = append(c.sizes, len(s))
	c.mu.Unlock()
	return c.DB.Write(s)
}

// A body of more samples than a chunk is validated whole before the first Write (a bad last
// line stores nothing), then written in chunks of at most 10,000 samples.
func TestBigBodyValidatedThenWrittenInChunks(t *testing.T) {
	var rec *chunks
	e := newEnvWith(t, ingest.Options{Tokens: []string{token}}, func(db *tsdb.DB) ingest.Writer {
		rec = &chunks{DB: db}
		return rec
	})
	ts := time.Now().Add(-time.Minute).UnixMilli()
	var b strings.Builder
	for k := range 25_000 {
		fmt.Fprintf(&b, "net,host=web-1,if=eth%d rx=%di %d\n", k, k, ts)
	}
	lines := b.String()
	res, body := e.post("/write?precision=ms", []byte(lines+"net,host=web-1 rx=oops\n"), bearer)
	wantInfluxBody(t, "bad last line", res, body, http.StatusBadRequest, "invalid", `line 25001 "net,host=web-1 rx=oops": field "rx" has invalid value "oops"`)
	e.wantNothingStored()
	if len(rec.sizes) != 0 {
		t.Fatalf("writes before validation: %v", rec.sizes)
	}
	res, body = e.post("/write?precision=ms", gzipped(t, []byte(lines)), bearer, "Content-Encoding: gzip")
	wantStatus(t, "25,000 lines", res, body, http.StatusNoContent)
	if fmt.Sprint(rec.sizes) != "[10000 10000 5000]" {
		t.Fatalf("chunks %v, want [10000 10000 5000]", rec.sizes)
	}
	if ss := e.series(`net_rx{if="eth24999"}`); len(ss) != 1 || ss[0].Points[0].Value != 24999 {
		t.Fatalf("last line: %+v", ss)
	}

	// Remote write likewise.
	rec.sizes = nil
	var rw []tsdb.Sample
	for k := range 12_000 {
		rw = append(rw, tsdb.Sample{Name: "rw", Labels: lbl("k", fmt.Sprint(k)), Timestamp: ts, Value: float64(k)})
	}
	res, body = e.post("/api/v1/write", wire.EncodeRemoteWrite(append(rw, tsdb.Sample{Name: "rw", Labels: lbl("k", strings.Repeat("v", 5000)), Timestamp: ts})), bearer)
	wantError(t, "bad last series", res, body, http.StatusBadRequest, "series 12000 (rw)")
	if len(rec.sizes) != 0 {
		t.Fatalf("writes before validation: %v", rec.sizes)
	}
	res, body = e.post("/api/v1/write", wire.EncodeRemoteWrite(rw), bearer)
	wantStatus(t, "12,000 series", res, body, http.StatusNoContent)
	if fmt.Sprint(rec.sizes) != "[10000 2000]" {
		t.Fatalf("chunks %v, want [10000 2000]", rec.sizes)
	}
}

// The 65,536-byte Influx tag value, with the default limits: refused, counted, nothing stored.
func TestHugeTagValueRefused(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	res, body := e.post("/write", []byte("cpu,host=web-1 idle=1\ncpu,host="+strings.Repeat("a", 65536)+" idle=1\n"), bearer)
	wantInfluxBody(t, "65536-byte tag", res, body, http.StatusBadRequest, "invalid",
		`cpu_idle: value of label "host" is 65536 bytes, over the limit of 4096 bytes`)
	if !strings.HasPrefix(body, `{"code":"invalid","error":"bad payload: line 2 \"cpu,host=aaa`) {
		t.Fatalf("body %s", body)
	}
	e.wantNothingStored()
	if n := e.in.Rejected("label_value_too_long"); n != 1 {
		t.Fatalf("label_value_too_long counted %d times", n)
	}
}

// Labels each within the limits can still add up to more than storage takes for one series
// (tsdb.MaxSeriesBytes): refused with 400 naming it before anything is written, not a 500
// after the chunk's other samples were stored.
func TestSeriesOverStorageSizeRefused(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	var tags strings.Builder
	var labels []tsdb.Label
	for k := range 7 {
		v := strings.Repeat(string(rune('a'+k)), 4000)
		fmt.Fprintf(&tags, ",t%d=%s", k, v)
		labels = append(labels, tsdb.Label{Name: fmt.Sprintf("t%d", k), Value: v})
	}
	const want = "series name and labels take 28022 bytes: at most 24576 are allowed"
	res, body := e.post("/write", []byte("cpu,host=web-1 idle=1\ncpu"+tags.String()+" idle=1\n"), bearer)
	wantInfluxBody(t, "/write", res, body, http.StatusBadRequest, "invalid", `line 2 "cpu,t0=aaa`)
	if !strings.Contains(body, "cpu_idle: "+want) {
		t.Fatalf("/write: %s", body)
	}
	now := time.Now().UnixMilli()
	res, body = e.post("/api/v1/write", wire.EncodeRemoteWrite([]tsdb.Sample{
		{Name: "cpu_idle", Labels: lbl("host", "web-1"), Timestamp: now, Value: 1},
		{Name: "cpu_idle", Labels: labels, Timestamp: now, Value: 1},
	}), bearer)
	wantError(t, "remote write", res, body, http.StatusBadRequest, "series 1 (cpu_idle): cpu_idle: "+want)
	e.wantNothingStored()
	if n := e.in.Rejected("invalid"); n != 2 {
		t.Fatalf("invalid counted %d times, want 2", n)
	}
}
