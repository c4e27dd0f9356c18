package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/prompb"
	"github.com/VictoriaMetrics/easyproto"
)

// viaVM is what VictoriaMetrics' own unmarshaler makes of raw, in EachRemoteWriteSeries' shape.
func viaVM(t *testing.T, raw []byte) string {
	t.Helper()
	wru := prompb.GetWriteRequestUnmarshaler()
	defer prompb.PutWriteRequestUnmarshaler(wru)
	wr, err := wru.UnmarshalProtobuf(raw)
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for i, ts := range wr.Timeseries {
		var s RemoteWriteSeries
		for _, l := range ts.Labels {
			switch {
			case l.Name == "__name__":
				s.Name = l.Value
			case l.Value != "":
				s.Labels = append(s.Labels, struct{ Name, Value string }(l))
			}
		}
		for _, p := range ts.Samples {
			s.Samples = append(s.Samples, struct {
				Timestamp int64
				Value     float64
			}{p.Timestamp, p.Value})
		}
		out += fmt.Sprintf("%d %+v\n", i, s)
	}
	return out
}

func viaStream(t *testing.T, raw []byte) string {
	t.Helper()
	out := ""
	if err := EachRemoteWriteSeries(raw, func(i int, s *RemoteWriteSeries) error {
		out += fmt.Sprintf("%d %+v\n", i, *s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The stream reader sees what VictoriaMetrics' unmarshaler sees: classic series (several
// samples, empty label values, metadata around them) and native histograms, expanded by
// VictoriaMetrics.
func TestEachRemoteWriteSeriesMatchesVictoriaMetrics(t *testing.T) {
	var m easyproto.Marshaler
	wr := m.MessageMarshaler()
	series := func(name string, labels ...string) *easyproto.MessageMarshaler {
		ts := wr.AppendMessage(1)
		l := ts.AppendMessage(1)
		l.AppendString(1, "__name__")
		l.AppendString(2, name)
		for k := 0; k < len(labels); k += 2 {
			l := ts.AppendMessage(1)
			l.AppendString(1, labels[k])
			l.AppendString(2, labels[k+1])
		}
		return ts
	}
	sample := func(ts *easyproto.MessageMarshaler, at int64, v float64) {
		s := ts.AppendMessage(2)
		s.AppendDouble(1, v)
		s.AppendInt64(2, at)
	}
	up := series("up", "job", "node", "empty", "")
	sample(up, 1000, 1)
	sample(up, 2000, 0)
	md := wr.AppendMessage(3) // metadata: ignored by both
	md.AppendString(2, "up")
	h := series("rpc_seconds", "job", "api")
	hist := h.AppendMessage(4)
	hist.AppendUint64(1, 3)     // count_int
	hist.AppendDouble(3, 1.5)   // sum
	hist.AppendSint32(4, 0)     // schema
	hist.AppendDouble(5, 0.001) // zero_threshold
	hist.AppendUint64(6, 1)     // zero_count_int
	span := hist.AppendMessage(11)
	span.AppendSint32(1, 0)  // offset
	span.AppendUint32(2, 2)  // length
	hist.AppendSint64(12, 1) // positive_deltas
	hist.AppendSint64(12, 0)
	hist.AppendInt64(15, 3000) // timestamp
	// Samples and labels other than as Prometheus writes them (the fast path's fallbacks):
	// value left out (0), timestamp left out, timestamp first, a value repeated (the last
	// counts), a negative timestamp; a label's value first, a name repeated.
	odd := series("odd", "k", "v")
	f64 := func(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) }
	ts := func(v int64) []byte { return binary.AppendUvarint(nil, uint64(v)) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	odd.AppendBytes(2, cat([]byte{0x10}, ts(5000)))
	odd.AppendBytes(2, cat([]byte{0x09}, f64(6)))
	odd.AppendBytes(2, cat([]byte{0x10}, ts(7000), []byte{0x09}, f64(7)))
	odd.AppendBytes(2, cat([]byte{0x09}, f64(1), []byte{0x09}, f64(8), []byte{0x10}, ts(8000)))
	odd.AppendBytes(2, cat([]byte{0x09}, f64(9), []byte{0x10}, ts(-9000)))
	odd.AppendBytes(1, []byte{0x12, 1, 'b', 0x0a, 1, 'a'})
	odd.AppendBytes(1, []byte{0x0a, 1, 'x', 0x0a, 1, 'y', 0x12, 1, 'z'})
	last := series("last", "k", "v")
	sample(last, 4000, 4)
	raw := m.Marshal(nil)

	got, want := viaStream(t, raw), viaVM(t, raw)
	if got != want {
		t.Fatalf("stream:\n%s\nVictoriaMetrics:\n%s", got, want)
	}
	if !strings.Contains(want, "{Name:rpc_seconds_count Labels:[{Name:job Value:api}] Samples:[{Timestamp:3000 Value:3}]}") ||
		!strings.Contains(want, "{Name:last Labels:[{Name:k Value:v}] Samples:[{Timestamp:4000 Value:4}]}") {
		t.Fatalf("histogram not expanded, or the last series lost:\n%s", want)
	}
	if !strings.Contains(want, "{Name:odd Labels:[{Name:k Value:v} {Name:a Value:b} {Name:y Value:z}] Samples:[{Timestamp:5000 Value:0} {Timestamp:0 Value:6} {Timestamp:7000 Value:7} {Timestamp:8000 Value:8} {Timestamp:-9000 Value:9}]}") {
		t.Fatalf("odd samples and labels not as expected:\n%s", want)
	}

	// fn's error stops the walk; a cut request is ErrBadPayload.
	stop := errors.New("stop")
	calls := 0
	if err := EachRemoteWriteSeries(raw, func(int, *RemoteWriteSeries) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("stop: %v after %d calls", err, calls)
	}
	if err := EachRemoteWriteSeries(raw[:len(raw)-3], func(int, *RemoteWriteSeries) error { return nil }); !errors.Is(err, ErrBadPayload) {
		t.Fatalf("cut request: %v", err)
	}
}
