package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/ingest"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/app/web"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

const token = "s3cret-ingest-token"

// env is the whole HTTP stack (web.New: request IDs, login middleware, CSRF, route table)
// with a real Ingest writing into a real tsdb.
type env struct {
	t     testing.TB
	db    *tsdb.DB
	in    *ingest.Ingest
	ts    *httptest.Server
	clock atomic.Int64 // unix nanoseconds, for Options.Now
	logs  *testutil.SyncBuffer
}

// newEnv starts the stack; opts.Writer, Logger and Now are filled in.
func newEnv(t testing.TB, opts ingest.Options) *env {
	t.Helper()
	return newEnvWith(t, opts, nil)
}

// newEnvWith is newEnv with the writer ingest gets made by wrap from the storage (nil: the
// storage itself).
func newEnvWith(t testing.TB, opts ingest.Options, wrap func(*tsdb.DB) ingest.Writer) *env {
	t.Helper()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	db, err := tsdb.Open(tsdb.Options{Path: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword("admin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	users, err := auth.NewUsers([]auth.User{{Name: "admin", PasswordHash: hash, Role: auth.RoleAdmin}}, dir, "", quiet)
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := auth.NewSessions(dir, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, logs: &testutil.SyncBuffer{}}
	e.clock.Store(time.Now().UnixNano())
	opts.Writer = db
	if wrap != nil {
		opts.Writer = wrap(db)
	}
	opts.Logger = slog.New(slog.NewJSONHandler(e.logs, nil))
	opts.Now = func() time.Time { return time.Unix(0, e.clock.Load()) }
	e.in = ingest.New(opts)
	srv := web.New(web.Options{
		Refresh: 2 * time.Second, SystemInterval: 10 * time.Second, LocalHost: "testhost",
		Store: db, Users: users, Sessions: sessions, Stats: selfmon.New(), Ingest: e.in,
		Health: &health.Checker{Started: time.Now(), Storage: db},
		Logger: quiet,
	})
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		e.ts.Close()
		db.Close()
	})
	return e
}

// post sends body to path with headers ("Name: value") and returns the status and body.
func (e *env) post(path string, body []byte, headers ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// series returns what storage holds for selector over the last and next day.
func (e *env) series(selector string) []tsdb.Series {
	e.t.Helper()
	e.db.Flush()
	sel, err := tsdb.ParseSelector(selector)
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now()
	ss, err := e.db.Raw(context.Background(), sel, now.Add(-24*time.Hour), now.Add(24*time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	return ss
}

// wantNothingStored fails unless storage holds no series at all.
func (e *env) wantNothingStored() {
	e.t.Helper()
	if ss := e.series(`{__name__=~".+"}`); len(ss) != 0 {
		e.t.Fatalf("storage holds %d series, want none: %v", len(ss), ss)
	}
	if n := e.db.SamplesWritten(); n != 0 {
		e.t.Fatalf("%d samples written, want 0", n)
	}
}

func wantStatus(t *testing.T, what string, res *http.Response, body string, code int) {
	t.Helper()
	if res.StatusCode != code {
		t.Fatalf("%s: got %d %s, want %d", what, res.StatusCode, body, code)
	}
}

// wantError checks a JSON {"error": ...} answer with code whose reason contains want.
func wantError(t *testing.T, what string, res *http.Response, body string, code int, want string) {
	t.Helper()
	wantStatus(t, what, res, body, code)
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil || !strings.Contains(m["error"], want) {
		t.Fatalf("%s: body %s, want JSON error containing %q", what, body, want)
	}
}

const bearer = "Authorization: Bearer " + token

func lbl(kv ...string) []tsdb.Label {
	var out []tsdb.Label
	for i := 0; i < len(kv); i += 2 {
		out = append(out, tsdb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestRemoteWrite(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second).UnixMilli()
	in := []tsdb.Sample{
		{Name: "host_up", Labels: lbl("host", "web-1"), Timestamp: t0, Value: 1},
		{Name: "host_cpu_usage_percent", Labels: lbl("host", "web-1"), Timestamp: t0, Value: 12.5},
		{Name: "host_cpu_usage_percent", Labels: lbl("host", "web-1"), Timestamp: t0 + 10000, Value: 13.5},
		{Name: "host_cpu_usage_percent", Labels: lbl("host", "web-2"), Timestamp: t0, Value: 50},
		{Name: "node_load1", Labels: lbl("instance", "db-1:9100", "job", "node"), Timestamp: t0, Value: 0.75},
	}
	res, body := e.post("/api/v1/write", wire.EncodeRemoteWrite(in), bearer,
		"Content-Type: application/x-protobuf", "Content-Encoding: snappy", "X-Prometheus-Remote-Write-Version: 0.1.0")
	wantStatus(t, "remote write", res, body, http.StatusNoContent)
	if body != "" {
		t.Fatalf("204 with a body: %q", body)
	}
	ss := e.series(`host_cpu_usage_percent{host="web-1"}`)
	if len(ss) != 1 || fmt.Sprint(ss[0].Points) != fmt.Sprint([]tsdb.Point{{Timestamp: t0, Value: 12.5}, {Timestamp: t0 + 10000, Value: 13.5}}) {
		t.Fatalf("web-1 cpu: %+v", ss)
	}
	if ss := e.series(`host_cpu_usage_percent`); len(ss) != 2 {
		t.Fatalf("want 2 cpu series, got %+v", ss)
	}
	ss = e.series(`node_load1{job="node"}`)
	if len(ss) != 1 || ss[0].Label("instance") != "db-1:9100" || ss[0].Points[0].Value != 0.75 {
		t.Fatalf("node_load1: %+v", ss)
	}
	if lv, ok := e.db.LatestOne("host_up", tsdb.Label{Name: "host", Value: "web-1"}); !ok || lv.Value != 1 {
		t.Fatalf("latest host_up: %+v %v", lv, ok)
	}
}

func TestInfluxWrite(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	ts := time.Now().Add(-time.Minute).Truncate(time.Second)
	lines := fmt.Sprintf("cpu,cpu=cpu-total,host=web-1 usage_idle=97.5,usage_user=1.5 %d\nmem,host=web-1 used=123i %d\n", ts.UnixNano(), ts.UnixNano())
	// Telegraf's influxdb output: /write?db=telegraf, Basic auth with any user name.
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth("telegraf", token)
	res, body := e.post("/write?db=telegraf&rp=autogen", []byte(lines), "Authorization: "+req.Header.Get("Authorization"), "Content-Type: text/plain; charset=utf-8", "User-Agent: Telegraf/1.33.0")
	wantStatus(t, "influx write", res, body, http.StatusNoContent)
	ss := e.series(`cpu_usage_idle{host="web-1",cpu="cpu-total"}`)
	if len(ss) != 1 || len(ss[0].Points) != 1 || ss[0].Points[0] != (tsdb.Point{Timestamp: ts.UnixMilli(), Value: 97.5}) {
		t.Fatalf("cpu_usage_idle: %+v", ss)
	}
	if ss := e.series(`mem_used{host="web-1"}`); len(ss) != 1 || ss[0].Points[0].Value != 123 {
		t.Fatalf("mem_used: %+v", ss)
	}

	// Telegraf's influxdb_v2 output: /api/v2/write?org=&bucket=&precision=, "Token" auth; no
	// timestamp means now (the injected clock).
	e.clock.Store(ts.Add(30 * time.Second).UnixNano())
	res, body = e.post("/api/v2/write?org=acme&bucket=telegraf&precision=s", fmt.Appendf(nil, "disk,host=web-1,path=/ used_percent=40 %d\ndisk,host=web-1,path=/var used_percent=41\n", ts.Unix()), "Authorization: Token "+token)
	wantStatus(t, "influx v2 write", res, body, http.StatusNoContent)
	ss = e.series(`disk_used_percent{host="web-1"}`)
	if len(ss) != 2 || ss[0].Label("path") != "/" || ss[0].Points[0].Timestamp != ts.UnixMilli() || ss[1].Points[0].Timestamp != ts.Add(30*time.Second).UnixMilli() {
		t.Fatalf("disk_used_percent: %+v", ss)
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestInfluxWriteGzip(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	var lines strings.Builder
	for i := range 200 {
		fmt.Fprintf(&lines, "net,host=web-1,interface=eth%d bytes_recv=%di %d\n", i, i*1000, ts.UnixMilli())
	}
	for _, path := range []string{"/write?precision=ms", "/api/v2/write?precision=ms"} {
		res, body := e.post(path, gzipped(t, []byte(lines.String())), bearer, "Content-Encoding: gzip")
		wantStatus(t, "gzip "+path, res, body, http.StatusNoContent)
	}
	ss := e.series(`net_bytes_recv{host="web-1"}`)
	if len(ss) != 200 {
		t.Fatalf("want 200 series, got %d", len(ss))
	}
	if ss := e.series(`net_bytes_recv{interface="eth7"}`); len(ss) != 1 || ss[0].Points[0] != (tsdb.Point{Timestamp: ts.UnixMilli(), Value: 7000}) {
		t.Fatalf("eth7: %+v", ss)
	}
	res, body := e.post("/write", []byte("not gzip at all"), bearer, "Content-Encoding: gzip")
	wantError(t, "corrupt gzip", res, body, http.StatusBadRequest, "gzip")
	res, body = e.post("/write", gzipped(t, []byte("m v=1"))[:15], bearer, "Content-Encoding: gzip")
	wantError(t, "truncated gzip", res, body, http.StatusBadRequest, "gzip")
	res, body = e.post("/write", []byte("m v=1"), bearer, "Content-Encoding: br")
	wantError(t, "brotli", res, body, http.StatusUnsupportedMediaType, "Content-Encoding")
}

// A bad payload stores nothing, not even its good part, and the reason names the line/series.
func TestBadPayloadsStoreNothing(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	now := time.Now().UnixMilli()
	f := func(path string, body []byte, want string, headers ...string) {
		t.Helper()
		res, got := e.post(path, body, append(headers, bearer)...)
		wantError(t, path+" "+want, res, got, http.StatusBadRequest, want)
		e.wantNothingStored()
	}
	good := "cpu,host=web-1,cpu=cpu-total usage_idle=97.5\nmem,host=web-1 used=1i\n"
	f("/write", []byte(good+"disk,host=web-1 used=\n"), "line 3")
	f("/api/v2/write", []byte(good+"disk,host=web-1 used=\n"), "line 3")
	f("/write", gzipped(t, []byte(good+"this is not line protocol\n")), "line 3", "Content-Encoding: gzip")
	f("/write?precision=h", []byte(good), "precision")
	// Parsed fine, but the measurement makes an invalid metric name: still nothing stored.
	f("/write", []byte(good+"1cpu,host=web-1 v=1\n"), `invalid metric name "1cpu_v"`)

	f("/api/v1/write", []byte("plain text, not snappy"), "snappy")
	f("/api/v1/write", snappy.Encode(nil, []byte("snappy, but not protobuf")), "protobuf")
	f("/api/v1/write", wire.EncodeRemoteWrite([]tsdb.Sample{
		{Name: "host_up", Labels: lbl("host", "web-1"), Timestamp: now, Value: 1},
		{Name: "bad-name", Timestamp: now, Value: 1},
	}), `series 1 (bad-name): invalid metric name "bad-name"`)
	f("/api/v1/write", wire.EncodeRemoteWrite([]tsdb.Sample{
		{Name: "host_up", Labels: lbl("host", "web-1"), Timestamp: now, Value: 1},
		{Name: "host_up", Labels: lbl("host", "web-2"), Timestamp: -1, Value: 1},
	}), "series 1 (host_up): timestamp -1")

	res, body := e.post("/api/v1/write", wire.EncodeRemoteWrite([]tsdb.Sample{{Name: "x", Timestamp: now}}), bearer,
		"Content-Type: application/x-protobuf;proto=io.prometheus.write.v2.Request")
	wantError(t, "remote write 2.0", res, body, http.StatusUnsupportedMediaType, "remote write 2.0")
	res, body = e.post("/api/v1/write", wire.EncodeRemoteWrite([]tsdb.Sample{{Name: "x", Timestamp: now}}), bearer, "Content-Encoding: zstd")
	wantError(t, "zstd", res, body, http.StatusUnsupportedMediaType, "Content-Encoding")
	e.wantNothingStored()
	if len(e.in.Targets(time.Now())) != 0 {
		t.Fatalf("rejected pushes were tracked: %+v", e.in.Targets(time.Now()))
	}

	// One warn line per rejected payload, with request_id and the reason, never the token.
	logs := e.logs.String()
	if n := strings.Count(logs, `"msg":"ingest request rejected"`); n != 11 {
		t.Fatalf("%d rejection log lines, want 11:\n%s", n, logs)
	}
	if !strings.Contains(logs, `"level":"WARN"`) || !strings.Contains(logs, `line 3`) || strings.Contains(logs, token) {
		t.Fatalf("rejection logs:\n%s", logs)
	}
	for line := range strings.Lines(logs) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["request_id"] == "" || m["request_id"] == nil || m["reason"] == "" {
			t.Fatalf("log line lacks request_id or reason: %s", line)
		}
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{"", "other-token", token}})
	basic := func(user, pw string) string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, pw)
		return "Authorization: " + req.Header.Get("Authorization")
	}
	line := []byte("m,host=a v=1\n")
	for _, c := range []struct {
		header string
		code   int
	}{
		{"", http.StatusUnauthorized},
		{"Authorization: Bearer wrong", http.StatusUnauthorized},
		{"Authorization: Bearer " + token + "x", http.StatusUnauthorized},
		{"Authorization: Bearer " + token[:len(token)-1], http.StatusUnauthorized},
		{"Authorization: Bearer ", http.StatusUnauthorized},
		{"Authorization: Bearer", http.StatusUnauthorized},
		{"Authorization: Digest " + token, http.StatusUnauthorized},
		{"Authorization: " + token, http.StatusUnauthorized},
		{basic("admin", "admin-password-1"), http.StatusUnauthorized}, // a login is not a token
		{basic(token, ""), http.StatusUnauthorized},
		{"Authorization: Basic !!!", http.StatusUnauthorized},
		{bearer, http.StatusNoContent},
		{"Authorization: bearer " + token, http.StatusNoContent},
		{"Authorization: Bearer other-token", http.StatusNoContent},
		{"Authorization: Token " + token, http.StatusNoContent},
		{basic("telegraf", token), http.StatusNoContent},
		{basic("", token), http.StatusNoContent},
	} {
		for _, path := range []string{"/api/v1/write", "/write", "/api/v2/write"} {
			body := line
			if path == "/api/v1/write" {
				body = wire.EncodeRemoteWrite([]tsdb.Sample{{Name: "m_v", Labels: lbl("host", "a"), Timestamp: time.Now().UnixMilli(), Value: 1}})
			}
			var headers []string
			if c.header != "" {
				headers = append(headers, c.header)
			}
			res, got := e.post(path, body, headers...)
			what := fmt.Sprintf("%s with %q", path, c.header)
			if c.code == http.StatusUnauthorized {
				wantError(t, what, res, got, c.code, "token")
				if res.Header.Get("WWW-Authenticate") == "" {
					t.Fatalf("%s: 401 without WWW-Authenticate", what)
				}
			} else {
				wantStatus(t, what, res, got, c.code)
			}
		}
	}
	if strings.Contains(e.logs.String(), token) {
		t.Fatal("a token was logged")
	}
}

func TestIngestDisabled(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{""}})
	if e.in.Enabled() {
		t.Fatal("enabled with only an empty token")
	}
	for _, path := range []string{"/api/v1/write", "/write", "/api/v2/write"} {
		for _, h := range []string{bearer, "Authorization: Bearer "} {
			res, body := e.post(path, []byte("m v=1"), h)
			wantStatus(t, path, res, body, http.StatusForbidden)
			want := `{"error":"ingest is disabled: set [ingest].tokens"}` + "\n"
			if path != "/api/v1/write" {
				want = `{"code":"forbidden","error":"ingest is disabled: set [ingest].tokens","message":"ingest is disabled: set [ingest].tokens"}` + "\n"
			}
			if body != want {
				t.Fatalf("%s: body %q", path, body)
			}
		}
	}
	e.wantNothingStored()
}

func TestBodyLimits(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}, MaxBodyBytes: 1024})
	big := []byte(strings.Repeat("m,host=a v=1\n", 100)) // 1300 bytes
	res, body := e.post("/write", big, bearer)
	wantError(t, "plain influx", res, body, http.StatusRequestEntityTooLarge, "exceeds 1024 bytes")
	// Without Content-Length the limit still holds (chunked upload).
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/write", io.MultiReader(bytes.NewReader(big)))
	req.Header.Set("Authorization", "Bearer "+token)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
		t.Fatalf("chunked influx: %d (content length %d)", r.StatusCode, req.ContentLength)
	}
	// A small gzip body that inflates beyond the limit.
	bomb := gzipped(t, bytes.Repeat([]byte("m,host=a v=1\n"), 10000))
	if len(bomb) > 1024 {
		t.Fatalf("bomb is %d bytes compressed", len(bomb))
	}
	res, body = e.post("/write", bomb, bearer, "Content-Encoding: gzip")
	wantError(t, "gzip bomb", res, body, http.StatusRequestEntityTooLarge, "decompressed body exceeds 1024 bytes")
	// Remote write: compressed and decompressed sizes.
	var many []tsdb.Sample
	for i := range 100 {
		many = append(many, tsdb.Sample{Name: "m", Labels: lbl("i", fmt.Sprint(i*7919%1000003)), Timestamp: time.Now().UnixMilli() - int64(i*7877), Value: float64(i) / 7})
	}
	rw := wire.EncodeRemoteWrite(many)
	if len(rw) <= 1024 {
		t.Fatalf("remote write body only %d bytes", len(rw))
	}
	res, body = e.post("/api/v1/write", rw, bearer)
	wantError(t, "remote write", res, body, http.StatusRequestEntityTooLarge, "exceeds 1024 bytes")
	rwBomb := snappy.Encode(nil, make([]byte, 15000))
	if len(rwBomb) > 1024 {
		t.Fatalf("snappy bomb is %d bytes compressed", len(rwBomb))
	}
	res, body = e.post("/api/v1/write", rwBomb, bearer)
	wantError(t, "snappy bomb", res, body, http.StatusRequestEntityTooLarge, "decompressed body of 15000 bytes exceeds 1024 bytes")
	e.wantNothingStored()
	// Exactly at the limit is fine.
	exact := append(bytes.Repeat([]byte("m,host=a v=1\n"), 78), "#comment\n\n"...)
	if len(exact) != 1024 {
		t.Fatalf("exact body is %d bytes", len(exact))
	}
	res, body = e.post("/write", exact, bearer)
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("body within the limit: %d %s", res.StatusCode, body)
	}
}

func TestStorageClosed(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	e.db.Close()
	res, body := e.post("/write", []byte("m,host=a v=1\n"), bearer)
	wantError(t, "closed storage", res, body, http.StatusServiceUnavailable, "storage")
}

func TestPushingHostTargets(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	push := func(at time.Duration, host string) {
		t.Helper()
		e.clock.Store(t0.Add(at).UnixNano())
		s := []tsdb.Sample{
			{Name: "host_up", Labels: lbl("host", host), Timestamp: time.Now().UnixMilli(), Value: 1},
			{Name: "host_load1", Labels: lbl("host", host), Timestamp: time.Now().UnixMilli(), Value: 0.5},
		}
		res, body := e.post("/api/v1/write", wire.EncodeRemoteWrite(s), bearer)
		wantStatus(t, "push", res, body, http.StatusNoContent)
	}
	type want struct {
		name     string
		up       bool
		interval time.Duration
		lastSeen time.Duration
		err      string
	}
	check := func(at time.Duration, wants ...want) {
		t.Helper()
		now := t0.Add(at)
		got := e.in.Targets(now)
		if len(got) != len(wants) {
			t.Fatalf("at %s: %d targets %+v, want %d", at, len(got), got, len(wants))
		}
		for i, w := range wants {
			g := got[i]
			if g.Kind != "host" || g.Name != w.name || g.Up != w.up || g.Interval != w.interval || !g.LastSeen.Equal(t0.Add(w.lastSeen)) || g.Error != w.err || !g.Pushed || !g.LastRunAt.IsZero() {
				t.Fatalf("at %s: target %d = %+v, want %+v", at, i, g, w)
			}
		}
	}
	check(0)
	push(0, "web-1")
	check(0, want{"web-1", true, 0, 0, ""})
	check(30*time.Second, want{"web-1", true, 0, 0, ""})
	check(31*time.Second, want{"web-1", false, 0, 0, "no push for 31s"})

	push(10*time.Second, "web-1")
	push(20*time.Second, "web-1")
	push(20*time.Second+200*time.Millisecond, "web-1") // a batch split in two requests is one push
	check(21*time.Second, want{"web-1", true, 10 * time.Second, 20*time.Second + 200*time.Millisecond, ""})
	check(50*time.Second, want{"web-1", true, 10 * time.Second, 20*time.Second + 200*time.Millisecond, ""})
	check(51*time.Second, want{"web-1", false, 10 * time.Second, 20*time.Second + 200*time.Millisecond, "no push for 30s"})
	check(60*time.Second, want{"web-1", false, 10 * time.Second, 20*time.Second + 200*time.Millisecond, "no push for 39s"})

	// A slow agent: 60s interval, up for 3 intervals. Sorted by name.
	push(0, "db-1")
	push(60*time.Second, "db-1")
	push(120*time.Second, "db-1")
	check(300*time.Second,
		want{"db-1", true, time.Minute, 120 * time.Second, ""},
		want{"web-1", false, 10 * time.Second, 20*time.Second + 200*time.Millisecond, "no push for 279s"})
	check(301*time.Second,
		want{"db-1", false, time.Minute, 120 * time.Second, "no push for 181s"},
		want{"web-1", false, 10 * time.Second, 20*time.Second + 200*time.Millisecond, "no push for 280s"})

	// web-1 comes back after an outage: the long gap does not become its interval.
	push(time.Hour, "web-1")
	check(time.Hour+30*time.Second, want{"db-1", false, time.Minute, 120 * time.Second, "no push for 3510s"}, want{"web-1", true, 10 * time.Second, time.Hour, ""})
	check(time.Hour+31*time.Second, want{"db-1", false, time.Minute, 120 * time.Second, "no push for 3511s"}, want{"web-1", false, 10 * time.Second, time.Hour, "no push for 31s"})

	// Only host_* series with a host label count; Telegraf's cpu{host=...} does not.
	// (Timestamps of the wall clock: storage would not keep samples at the test clock's 2030.)
	wall := time.Now().UnixNano()
	res, body := e.post("/write", fmt.Appendf(nil, "cpu,host=telegraf-1 usage_idle=1 %d\nhost_up v=1 %d\n", wall, wall), bearer)
	wantStatus(t, "influx", res, body, http.StatusNoContent)
	if got := e.in.Targets(t0.Add(time.Hour + 31*time.Second)); len(got) != 2 {
		t.Fatalf("non-host series tracked: %+v", got)
	}

	// Silent for a day: forgotten.
	check(time.Hour + 24*time.Hour + time.Second)
}
