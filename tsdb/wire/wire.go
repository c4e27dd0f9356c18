// Package wire decodes and encodes the protocols redwatch ingests and forwards: the Prometheus
// remote-write protocol (snappy-compressed protobuf) and the InfluxDB line protocol, as
// Telegraf sends it. It uses VictoriaMetrics' own parsers and lives under tsdb/ because tsdb is
// the only part of redwatch that imports VictoriaMetrics.
package wire

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/prompb"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/protoparser/influx"
	"github.com/golang/snappy"

	"github.com/redwatch/redwatch/tsdb"
)

// MaxBodyBytes bounds a decoded request body (64 MiB), as VictoriaMetrics bounds inserts.
const MaxBodyBytes = 64 << 20

// ErrBadPayload wraps every decoding error, so handlers can answer 400.
var ErrBadPayload = errors.New("bad payload")

// DecodeRemoteWrite decodes a snappy-compressed Prometheus remote-write request into samples.
// Every series must have a valid __name__ and label names; on any problem nothing is returned
// and the error names the series (by index) and the reason.
func DecodeRemoteWrite(body []byte) ([]tsdb.Sample, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("%w: not snappy-compressed: %s", ErrBadPayload, err)
	}
	if n > MaxBodyBytes {
		return nil, fmt.Errorf("%w: decompressed size %d exceeds %d bytes", ErrBadPayload, n, MaxBodyBytes)
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot decompress: %s", ErrBadPayload, err)
	}
	wru := prompb.GetWriteRequestUnmarshaler()
	defer prompb.PutWriteRequestUnmarshaler(wru)
	wr, err := wru.UnmarshalProtobuf(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot unmarshal protobuf: %s", ErrBadPayload, err)
	}
	var out []tsdb.Sample
	for i := range wr.Timeseries {
		ts := &wr.Timeseries[i]
		name := ""
		labels := make([]tsdb.Label, 0, len(ts.Labels))
		for _, l := range ts.Labels {
			if l.Name == "__name__" {
				name = strings.Clone(l.Value)
				continue
			}
			if l.Value == "" {
				continue
			}
			labels = append(labels, tsdb.Label{Name: strings.Clone(l.Name), Value: strings.Clone(l.Value)})
		}
		if err := tsdb.ValidateMetricName(name); err != nil {
			return nil, fmt.Errorf("%w: series %d: %s", ErrBadPayload, i, err)
		}
		for _, l := range labels {
			if err := tsdb.ValidateLabelName(l.Name); err != nil {
				return nil, fmt.Errorf("%w: series %d (%s): %s", ErrBadPayload, i, name, err)
			}
		}
		for _, s := range ts.Samples {
			if s.Timestamp <= 0 {
				return nil, fmt.Errorf("%w: series %d (%s): timestamp %d is not positive unix milliseconds", ErrBadPayload, i, name, s.Timestamp)
			}
			out = append(out, tsdb.Sample{Name: name, Labels: labels, Timestamp: s.Timestamp, Value: s.Value})
		}
	}
	return out, nil
}

// EncodeRemoteWrite encodes samples as a snappy-compressed Prometheus remote-write request,
// one time series per sample.
func EncodeRemoteWrite(samples []tsdb.Sample) []byte {
	wr := prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, 0, len(samples))}
	for _, s := range samples {
		labels := make([]prompb.Label, 0, len(s.Labels)+1)
		labels = append(labels, prompb.Label{Name: "__name__", Value: s.Name})
		for _, l := range s.Labels {
			labels = append(labels, prompb.Label{Name: l.Name, Value: l.Value})
		}
		wr.Timeseries = append(wr.Timeseries, prompb.TimeSeries{
			Labels:  labels,
			Samples: []prompb.Sample{{Value: s.Value, Timestamp: s.Timestamp}},
		})
	}
	return snappy.Encode(nil, wr.MarshalProtobuf(nil))
}

// ParseInflux parses InfluxDB line protocol as Telegraf sends it: each field becomes the series
// measurement_field, tags become labels; characters outside Prometheus names become "_".
// precision is "ns" (default), "us", "ms" or "s"; lines without a timestamp get now. On any
// problem nothing is returned and the error names the line number and the reason.
func ParseInflux(body []byte, precision string, now time.Time) ([]tsdb.Sample, error) {
	var toMillis func(int64) int64
	switch precision {
	case "", "ns", "n":
		toMillis = func(t int64) int64 { return t / 1e6 }
	case "us", "u":
		toMillis = func(t int64) int64 { return t / 1e3 }
	case "ms":
		toMillis = func(t int64) int64 { return t }
	case "s":
		toMillis = func(t int64) int64 { return t * 1e3 }
	default:
		return nil, fmt.Errorf("%w: unknown precision %q: want ns, us, ms or s", ErrBadPayload, precision)
	}
	var out []tsdb.Sample
	var rows influx.Rows
	for lineNo, line := range bytes.Split(body, []byte{'\n'}) {
		s := strings.TrimRight(string(line), "\r")
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if err := rows.Unmarshal(s, false); err != nil {
			return nil, fmt.Errorf("%w: line %d: %s", ErrBadPayload, lineNo+1, trimLineFromError(err, s))
		}
		for _, r := range rows.Rows {
			ts := now.UnixMilli()
			if r.Timestamp != 0 {
				ts = toMillis(r.Timestamp)
			}
			if ts <= 0 {
				return nil, fmt.Errorf("%w: line %d: timestamp %d is before 1970", ErrBadPayload, lineNo+1, r.Timestamp)
			}
			measurement := sanitize(r.Measurement)
			if measurement == "" {
				return nil, fmt.Errorf("%w: line %d: empty measurement", ErrBadPayload, lineNo+1)
			}
			labels := make([]tsdb.Label, 0, len(r.Tags))
			for _, t := range r.Tags {
				if t.Value == "" {
					continue
				}
				labels = append(labels, tsdb.Label{Name: sanitizeLabel(t.Key), Value: strings.Clone(t.Value)})
			}
			for _, f := range r.Fields {
				if math.IsNaN(f.Value) {
					continue
				}
				out = append(out, tsdb.Sample{Name: measurement + "_" + sanitize(f.Key), Labels: labels, Timestamp: ts, Value: f.Value})
			}
		}
	}
	return out, nil
}

// trimLineFromError shortens VictoriaMetrics' message, which quotes the whole line again.
func trimLineFromError(err error, line string) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, fmt.Sprintf("incorrect influx line %q: ", line))
	return msg
}

// sanitize maps s onto [a-zA-Z0-9_:], the characters of a Prometheus metric name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r == ':' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, s)
}

// sanitizeLabel maps s onto a valid Prometheus label name.
func sanitizeLabel(s string) string {
	s = strings.ReplaceAll(sanitize(s), ":", "_")
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "_" + s
	}
	return s
}
