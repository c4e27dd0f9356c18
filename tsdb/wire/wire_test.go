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
	f("cpu v=1\ncpu v=\n", "", `line 2 "cpu v=": `)
	f("cpu v=1\n\ncpu,host v=1\n", "", `line 3 "cpu,host v=1": `)
	f("cpu v=1", "minutes", `unknown precision "minutes"`)
	f("cpu v=1 -5000000000000", "", "before 1970")
}

// String fields are skipped (the number fields of the line stay); values VictoriaMetrics'
// parser turns into 0 are refused, naming the line.
func TestParseInfluxFieldValues(t *testing.T) {
	now := time.UnixMilli(1700000000000)
	body := `m,host=a s="text, with = and spaces",n="12",v=1.5,i=-3i,u=4u,b=true,f=F,e=2.5e3 1700000000000000000` + "\n" +
		`m,host=a\ b,k=v\,w s="say \"hi\"",x=7` + "\n" +
		`only,host=a s="nothing numeric here"` + "\n"
	got, err := ParseInflux([]byte(body), "", now)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, fmt.Sprintf("%s=%v", s.Name, s.Value))
	}
	if want := "[m_v=1.5 m_i=-3 m_u=4 m_b=1 m_f=0 m_e=2500 m_x=7]"; fmt.Sprint(names) != want {
		t.Fatalf("got %v, want %s", names, want)
	}

	f := func(body, want string) {
		t.Helper()
		got, err := ParseInflux([]byte(body), "", now)
		if err == nil || !errors.Is(err, ErrBadPayload) || !strings.Contains(err.Error(), want) || got != nil {
			t.Fatalf("%q: want error containing %q and no samples, got %v %v", body, want, got, err)
		}
	}
	f("cpu v=1\ncpu,host=a v=oops\n", `line 2 "cpu,host=a v=oops": field "v" has invalid value "oops"`)
	f("cpu a=1,b=NaN", `field "b" has invalid value "NaN"`)
	f("cpu a=Inf", `field "a" has invalid value "Inf"`)
	f("cpu a=0x10", `invalid value "0x10"`)
	f("cpu a=1.5.5", `invalid value "1.5.5"`)
	f("cpu a=1e999", `invalid value "1e999"`)
	f("cpu a=12x", `invalid value "12x"`)
	f("cpu a=1.5i", `line 1 "cpu a=1.5i"`)
	long := "cpu,host=" + strings.Repeat("é", 100) + " v=oops"
	_, err = ParseInflux([]byte(long), "", now)
	if err == nil || !strings.Contains(err.Error(), `"...: field "v"`) || strings.Count(err.Error(), "é") != MaxQuotedLine/2-len("cpu,host=")/2-1 {
		t.Fatalf("long line not truncated: %v", err)
	}
}
