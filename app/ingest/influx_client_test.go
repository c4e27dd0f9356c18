package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	influxhttp "github.com/influxdata/influxdb-client-go/v2/api/http"

	"github.com/redwatch/redwatch/app/ingest"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// influxClient is the real InfluxDB 2 Go client pointed at the test server.
func (e *env) influxClient(tok string) influxdb2.Client {
	c := influxdb2.NewClientWithOptions(e.ts.URL, tok, influxdb2.DefaultOptions().SetHTTPRequestTimeout(10))
	e.t.Cleanup(c.Close)
	return c
}

// wantInfluxError checks that the client's error is InfluxDB's {"code","message"} with code,
// status and a message containing want, as the client shows it.
func wantInfluxError(t *testing.T, what string, err error, status int, code, want string) {
	t.Helper()
	var he *influxhttp.Error
	if !errors.As(err, &he) {
		t.Fatalf("%s: error %T %v, want *http.Error", what, err, err)
	}
	if he.StatusCode != status || he.Code != code || !strings.Contains(he.Message, want) || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: got status %d code %q message %q (Error() %q), want %d %q containing %q", what, he.StatusCode, he.Code, he.Message, err, status, code, want)
	}
}

// The reason of a refused write reaches influxdb-client-go: before, it showed only
// "400 Bad Request" (the body was {"error": ...}) and v=oops was stored as 0 with 204.
func TestInfluxClientSeesBadValue(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	w := e.influxClient(token).WriteAPIBlocking("acme", "telegraf")
	ctx := context.Background()
	err := w.WriteRecord(ctx, "cpu,host=web-1 usage_idle=97.5", "cpu,host=web-1 usage_user=oops")
	wantInfluxError(t, "v=oops", err, http.StatusBadRequest, "invalid", `line 2 "cpu,host=web-1 usage_user=oops": field "usage_user" has invalid value "oops"`)
	e.wantNothingStored()

	err = w.WriteRecord(ctx, "cpu,host=web-1 usage_idle=1.5 "+strings.Repeat("9", 30))
	wantInfluxError(t, "bad timestamp", err, http.StatusBadRequest, "invalid", "line 1 ")

	// A bad token: the reason as well.
	err = e.influxClient("wrong-token").WriteAPIBlocking("acme", "telegraf").WriteRecord(ctx, "cpu v=1")
	wantInfluxError(t, "bad token", err, http.StatusUnauthorized, "unauthorized", "invalid token")
	e.wantNothingStored()
}

// String fields are skipped; the line's number fields are stored.
func TestInfluxClientSkipsStringFields(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	w := e.influxClient(token).WriteAPIBlocking("acme", "telegraf")
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	p := influxdb2.NewPoint("service", map[string]string{"host": "web-1"},
		map[string]any{"state": "running", "version": "7.2.4", "uptime": int64(3600), "load": 0.25, "ok": true}, at)
	if err := w.WritePoint(context.Background(), p); err != nil {
		t.Fatalf("write: %v", err)
	}
	for name, want := range map[string]float64{"service_uptime": 3600, "service_load": 0.25, "service_ok": 1} {
		ss := e.series(name + `{host="web-1"}`)
		if len(ss) != 1 || len(ss[0].Points) != 1 || ss[0].Points[0] != (tsdb.Point{Timestamp: at.UnixMilli(), Value: want}) {
			t.Fatalf("%s: %+v, want one point %v at %d", name, ss, want, at.UnixMilli())
		}
	}
	if ss := e.series(`{__name__=~"service_(state|version)"}`); len(ss) != 0 {
		t.Fatalf("string fields stored: %+v", ss)
	}
}

// A sample older than the retention (or too far ahead) is reported as a partial write, with the
// rest stored: InfluxDB's answer, which Telegraf and the clients do not retry. Before, storage
// dropped it and the answer was 204.
func TestOutsideRetentionReported(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	w := e.influxClient(token).WriteAPIBlocking("acme", "telegraf")
	now := time.Now().Truncate(time.Millisecond)
	old := influxdb2.NewPoint("temp", map[string]string{"room": "a"}, map[string]any{"c": 20.5}, now.Add(-31*24*time.Hour))
	fresh := influxdb2.NewPoint("temp", map[string]string{"room": "b"}, map[string]any{"c": 21.5}, now.Add(-time.Minute))
	err := w.WritePoint(context.Background(), old, fresh)
	wantInfluxError(t, "v2 old sample", err, http.StatusUnprocessableEntity, "unprocessable entity",
		"partial write: points beyond retention policy dropped=1: 1 of 2 samples were not stored, the first at line 1 (temp_c): timestamp "+now.Add(-31*24*time.Hour).UTC().Format(time.RFC3339Nano)+" is older than the retention of 30d; the other 1 were stored")
	if ss := e.series(`temp_c`); len(ss) != 1 || ss[0].Label("room") != "b" {
		t.Fatalf("want only room b stored, got %+v", ss)
	}

	// /write (InfluxDB 1.x, Telegraf's influxdb output): 400, the reason in "error".
	res, body := e.post("/write?db=telegraf", fmt.Appendf(nil, "temp,room=c c=1 %d\n", now.Add(3*24*time.Hour).UnixNano()), bearer)
	wantError(t, "v1 future sample", res, body, http.StatusBadRequest, "partial write: points beyond retention policy dropped=1: 1 of 1 samples were not stored, the first at line 1 (temp_c): timestamp "+now.Add(3*24*time.Hour).UTC().Format(time.RFC3339Nano)+" is more than 10m0s ahead of now (")
	// The sample: year 2100 in seconds, refused, and not in the latest values.
	res, body = e.post("/write?precision=s", []byte("redis,instance=r4 up=0 1\nredis,instance=r4 up=1 4102444800\n"), bearer)
	wantError(t, "v1 year 2100", res, body, http.StatusBadRequest, "dropped=2: 2 of 2 samples were not stored, the first at line 1 (redis_up): timestamp 1970-01-01T00:00:01Z is older than the retention of 30d; the other 0 were stored")
	if lv, ok := e.db.LatestOne("redis_up", tsdb.Label{Name: "instance", Value: "r4"}); ok {
		t.Fatalf("refused sample in the latest values: %+v", lv)
	}
	if n := e.in.Rejected("timestamp_future"); n != 2 {
		t.Fatalf("timestamp_future counted %d times, want 2", n)
	}

	// Prometheus remote write keeps its shape: 400 {"error": ...}.
	res, body = e.post("/api/v1/write", wire.EncodeRemoteWrite([]tsdb.Sample{
		{Name: "temp_c", Labels: lbl("room", "d"), Timestamp: now.Add(-40 * 24 * time.Hour).UnixMilli(), Value: 1},
		{Name: "temp_c", Labels: lbl("room", "e"), Timestamp: now.UnixMilli(), Value: 2},
	}), bearer)
	wantError(t, "remote write old sample", res, body, http.StatusBadRequest, "dropped=1: 1 of 2 samples were not stored, the first at series 0 (temp_c): timestamp "+now.Add(-40*24*time.Hour).UTC().Format(time.RFC3339Nano)+" is older than the retention of 30d; the other 1 were stored")
	if n := e.in.Rejected("timestamp_too_old"); n != 3 {
		t.Fatalf("timestamp_too_old counted %d times, want 3", n)
	}
	if ss := e.series(`temp_c`); len(ss) != 2 || ss[1].Label("room") != "e" {
		t.Fatalf("want rooms b and e stored, got %+v", ss)
	}
}

// GET and HEAD /ping answer 204 without a token, as InfluxDB's; the client's Ping works.
func TestPing(t *testing.T) {
	e := newEnv(t, ingest.Options{Tokens: []string{token}})
	for _, tok := range []string{token, ""} {
		ok, err := e.influxClient(tok).Ping(context.Background())
		if !ok || err != nil {
			t.Fatalf("Ping with token %q: %v %v", tok, ok, err)
		}
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, e.ts.URL+"/ping", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent || !strings.HasPrefix(res.Header.Get("X-Influxdb-Version"), "redwatch-") {
			t.Fatalf("%s /ping: %d %v", method, res.StatusCode, res.Header)
		}
	}
	res, err := http.Get(e.ts.URL + "/ping?verbose=true")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/ping?verbose=true: %d", res.StatusCode)
	}
}
