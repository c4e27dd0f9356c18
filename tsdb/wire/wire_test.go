package wire

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

func TestRemoteWriteRoundTrip(t *testing.T) {
	in := []tsdb.Sample{
		{Name: "host_cpu_usage_percent", Labels: []tsdb.Label{{Name: "host", Value: "web-1"}}, Timestamp: 1700000000123, Value: 12.5},
		{Name: "host_up", Labels: []tsdb.Label{{Name: "host", Value: `<b>"x"</b>`}}, Timestamp: 1700000000123, Value: 1},
	}
	out, err := DecodeRemoteWrite(EncodeRemoteWrite(in))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(out) != fmt.Sprint(in) {
		t.Fatalf("round trip:\n got %v\nwant %v", out, in)
	}
}

func TestRemoteWriteRejects(t *testing.T) {
	f := func(body []byte, want string) {
		t.Helper()
		_, err := DecodeRemoteWrite(body)
		if err == nil || !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), want) {
			t.Fatalf("want a bad-payload error containing %q, got %v", want, err)
		}
	}
	f([]byte("plain text"), "snappy")
	f(EncodeRemoteWrite([]tsdb.Sample{{Name: "ok", Timestamp: 1}, {Name: "bad-name", Timestamp: 1}}), `series 1: invalid metric name "bad-name"`)
	f(EncodeRemoteWrite([]tsdb.Sample{{Name: "ok", Labels: []tsdb.Label{{Name: "bad label", Value: "v"}}, Timestamp: 1}}), `invalid label name "bad label"`)
	f(EncodeRemoteWrite([]tsdb.Sample{{Name: "ok", Timestamp: -5}}), "timestamp -5")
}

func TestParseInflux(t *testing.T) {
	now := time.UnixMilli(1700000000000)
	body := "# telegraf\ncpu,host=web-1,cpu=cpu-total usage_idle=97.5,usage_user=1.5 1700000000000000000\n\nmem,host=web-1 used=123i\r\ndisk.io,host=web-1,dev.name=sda reads=5u 1700000001000000000\n"
	got, err := ParseInflux([]byte(body), "", now)
	if err != nil {
		t.Fatal(err)
	}
	want := []tsdb.Sample{
		{Name: "cpu_usage_idle", Labels: []tsdb.Label{{Name: "host", Value: "web-1"}, {Name: "cpu", Value: "cpu-total"}}, Timestamp: 1700000000000, Value: 97.5},
		{Name: "cpu_usage_user", Labels: []tsdb.Label{{Name: "host", Value: "web-1"}, {Name: "cpu", Value: "cpu-total"}}, Timestamp: 1700000000000, Value: 1.5},
		{Name: "mem_used", Labels: []tsdb.Label{{Name: "host", Value: "web-1"}}, Timestamp: now.UnixMilli(), Value: 123},
		{Name: "disk_io_reads", Labels: []tsdb.Label{{Name: "host", Value: "web-1"}, {Name: "dev_name", Value: "sda"}}, Timestamp: 1700000001000, Value: 5},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("\n got %v\nwant %v", got, want)
	}
	for _, c := range []struct{ precision, line string }{{"s", "m v=1 1700000000"}, {"ms", "m v=1 1700000000000"}, {"us", "m v=1 1700000000000000"}} {
		got, err := ParseInflux([]byte(c.line), c.precision, now)
		if err != nil || got[0].Timestamp != 1700000000000 {
			t.Fatalf("precision %s: %v %v", c.precision, got, err)
		}
	}
}

func TestParseInfluxRejectsWithLine(t *testing.T) {
	f := func(body, precision, want string) {
		t.Helper()
		got, err := ParseInflux([]byte(body), precision, time.Now())
		if err == nil || !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), want) || got != nil {
			t.Fatalf("%q: want error containing %q and no samples, got %v %v", body, want, got, err)
		}
	}
	f("cpu v=1\ncpu v=\n", "", "line 2:")
	f("cpu v=1\n\ncpu,host v=1\n", "", "line 3:")
	f("cpu v=1", "minutes", `unknown precision "minutes"`)
	f("cpu v=1 -5000000000000", "", "before 1970")
}
