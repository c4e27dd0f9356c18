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
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

// ParseInflux parses InfluxDB line protocol as Telegraf sends it: each numeric field becomes the
// series measurement_field, tags become labels; characters outside Prometheus names become "_".
// Field values are floats (1.5, -2e3), integers (12i), unsigned integers (12u) or booleans
// (true/false, t/f: 1/0); string fields ("text", even "12") are skipped, since a series holds
// numbers only. Anything else (v=oops, v=NaN, v=0x10) is an error: VictoriaMetrics' parser
// would store it as 0. precision is "ns" (default), "us", "ms" or "s"; lines without a
// timestamp get now. On any problem nothing is returned and the error names the line: its
// number and a copy, truncated to MaxQuotedLine bytes.
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
			return nil, fmt.Errorf("%w: line %d %s: %s", ErrBadPayload, lineNo+1, quoteLine(s), trimLineFromError(err, s))
		}
		for _, r := range rows.Rows {
			// VictoriaMetrics keeps only the parsed float of a field: read the raw values again
			// to skip strings and refuse what it would have turned into 0.
			raw := rawFieldValues(s)
			if len(raw) != len(r.Fields) {
				return nil, fmt.Errorf("%w: line %d %s: cannot split the field set (%d fields parsed, %d found)", ErrBadPayload, lineNo+1, quoteLine(s), len(r.Fields), len(raw))
			}
			ts := now.UnixMilli()
			if r.Timestamp != 0 {
				ts = toMillis(r.Timestamp)
			}
			if ts <= 0 {
				return nil, fmt.Errorf("%w: line %d %s: timestamp %d is before 1970", ErrBadPayload, lineNo+1, quoteLine(s), r.Timestamp)
			}
			measurement := sanitize(r.Measurement)
			if measurement == "" {
				return nil, fmt.Errorf("%w: line %d %s: empty measurement", ErrBadPayload, lineNo+1, quoteLine(s))
			}
			labels := make([]tsdb.Label, 0, len(r.Tags))
			for _, t := range r.Tags {
				if t.Value == "" {
					continue
				}
				labels = append(labels, tsdb.Label{Name: sanitizeLabel(t.Key), Value: strings.Clone(t.Value)})
			}
			for k, f := range r.Fields {
				v, isString, ok := fieldValue(raw[k], f.Value)
				if isString {
					continue
				}
				if !ok {
					return nil, fmt.Errorf("%w: line %d %s: field %q has invalid value %s: want a number (1.5), an integer (1i, 1u), a boolean (true) or a string (\"x\", skipped)",
						ErrBadPayload, lineNo+1, quoteLine(s), f.Key, quoteLine(raw[k]))
				}
				out = append(out, tsdb.Sample{Name: measurement + "_" + sanitize(f.Key), Labels: labels, Timestamp: ts, Value: v})
			}
		}
	}
	return out, nil
}

// MaxQuotedLine is how much of a line an error quotes.
const MaxQuotedLine = 120

// quoteLine quotes s for an error message, cut to MaxQuotedLine bytes (on a rune boundary)
// with "..." after a cut.
func quoteLine(s string) string {
	if len(s) <= MaxQuotedLine {
		return strconv.Quote(s)
	}
	cut := MaxQuotedLine
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// rawFieldValues returns the raw values of line's field set, in order: the text after the
// first unescaped "=" of each field. line must have been parsed by VictoriaMetrics already;
// the splitting follows its rules (backslash escapes; quotes protect spaces and commas).
func rawFieldValues(line string) []string {
	i := 0
	for i < len(line) && line[i] != ' ' { // measurement and tags
		if line[i] == '\\' {
			i++
		}
		i++
	}
	for i < len(line) && line[i] == ' ' {
		i++
	}
	var out []string
	eq, quoted := -1, false
	for ; i <= len(line); i++ {
		if i < len(line) {
			c := line[i]
			switch {
			case c == '\\':
				i++
				continue
			case c == '"':
				quoted = !quoted
				continue
			case quoted:
				continue
			case c == '=' && eq < 0:
				eq = i
				continue
			case c != ',' && c != ' ':
				continue
			}
		}
		if eq >= 0 {
			out = append(out, line[eq+1:min(i, len(line))])
		}
		if i == len(line) || line[i] == ' ' {
			break
		}
		eq = -1
	}
	return out
}

// fieldValue checks a raw field value against InfluxDB's syntax; parsed is what
// VictoriaMetrics made of it. It reports string fields, and whether a non-string value is a
// finite decimal number, an integer or a boolean.
func fieldValue(raw string, parsed float64) (v float64, isString, ok bool) {
	switch {
	case raw == "":
		return 0, false, false
	case raw[0] == '"':
		return 0, true, true
	case raw[len(raw)-1] == 'i' || raw[len(raw)-1] == 'u':
		return parsed, false, true // VictoriaMetrics has already refused a bad integer
	}
	switch raw {
	case "t", "T", "true", "True", "TRUE":
		return 1, false, true
	case "f", "F", "false", "False", "FALSE":
		return 0, false, true
	}
	if strings.Trim(raw, "0123456789+-.eE") != "" { // no inf, nan, hex or other words
		return 0, false, false
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false, false
	}
	return f, false, true
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
