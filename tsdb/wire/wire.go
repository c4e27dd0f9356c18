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

// ErrTooLarge is wrapped by DecompressRemoteWrite's error when the decompressed request is
// larger than allowed, so handlers can answer 413.
var ErrTooLarge = errors.New("request too large")

// RemoteWriteSeries is one time series of a request (see EachRemoteWriteSeries). Its strings
// alias the decompressed request: clone what must outlive it.
type RemoteWriteSeries struct {
	Name    string       // the __name__ label
	Labels  []tsdb.Label // the other labels, those with an empty value left out
	Samples []tsdb.Point
}

// DecodeRemoteWrite decodes a snappy-compressed Prometheus remote-write request into samples,
// at most MaxBodyBytes decompressed. Every series must have a valid __name__ and label names;
// on any problem nothing is returned and the error names the series (by index) and the
// reason. It holds every sample at once: ingest reads big requests with UnmarshalRemoteWrite.
func DecodeRemoteWrite(body []byte) ([]tsdb.Sample, error) {
	raw, err := DecompressRemoteWrite(body, MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	var out []tsdb.Sample
	err = EachRemoteWriteSeries(raw, func(i int, s *RemoteWriteSeries) error {
		name := strings.Clone(s.Name)
		if err := tsdb.ValidateMetricName(name); err != nil {
			return fmt.Errorf("%w: series %d: %s", ErrBadPayload, i, err)
		}
		labels := make([]tsdb.Label, 0, len(s.Labels))
		for _, l := range s.Labels {
			if err := tsdb.ValidateLabelName(l.Name); err != nil {
				return fmt.Errorf("%w: series %d (%s): %s", ErrBadPayload, i, name, err)
			}
			labels = append(labels, tsdb.Label{Name: strings.Clone(l.Name), Value: strings.Clone(l.Value)})
		}
		for _, p := range s.Samples {
			if p.Timestamp <= 0 {
				return fmt.Errorf("%w: series %d (%s): timestamp %d is not positive unix milliseconds", ErrBadPayload, i, name, p.Timestamp)
			}
			out = append(out, tsdb.Sample{Name: name, Labels: labels, Timestamp: p.Timestamp, Value: p.Value})
		}
		return nil
	})
	if err != nil {
		return nil, err
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

// ParseInflux parses InfluxDB line protocol as Telegraf sends it (see InfluxParser), all of
// body at once. On any problem nothing is returned and the error names the line: its number
// and a copy, truncated to MaxQuotedLine bytes. Ingest reads bodies line by line instead.
func ParseInflux(body []byte, precision string, now time.Time) ([]tsdb.Sample, error) {
	p, err := NewInfluxParser(precision, now)
	if err != nil {
		return nil, err
	}
	var out []tsdb.Sample
	for lineNo, line := range bytes.Split(body, []byte{'\n'}) {
		s := string(line)
		if out, err = p.Line(out, s); err != nil {
			return nil, fmt.Errorf("%w: line %d %s: %s", ErrBadPayload, lineNo+1, QuoteLine(s), err)
		}
	}
	return out, nil
}

// InfluxParser parses InfluxDB line protocol one line at a time: each numeric field becomes
// the series measurement_field, tags become labels; characters outside Prometheus names become
// "_". Field values are floats (1.5, -2e3), integers (12i), unsigned integers (12u) or booleans
// (true/false, t/f: 1/0); string fields ("text", even "12") are skipped, since a series holds
// numbers only. Anything else (v=oops, v=NaN, v=0x10) is an error: VictoriaMetrics' parser
// would store it as 0. Lines without a timestamp get the parser's now. Not safe for
// concurrent use.
type InfluxParser struct {
	toMillis func(int64) int64
	nowMs    int64
	rows     influx.Rows
	// names and keys intern the metric names (measurement_field) and label names of the
	// lines parsed, which repeat from line to line, so each costs one allocation per parser
	// instead of one per sample; at most maxInterned of each.
	names map[[2]string]string
	keys  map[string]string
}

// maxInterned bounds InfluxParser's interned names, against bodies of ever new names.
const maxInterned = 4096

// NewInfluxParser returns a parser for precision "ns" (or "", "n"), "us" ("u"), "ms" or "s";
// lines without a timestamp get now.
func NewInfluxParser(precision string, now time.Time) (*InfluxParser, error) {
	p := &InfluxParser{nowMs: now.UnixMilli()}
	switch precision {
	case "", "ns", "n":
		p.toMillis = func(t int64) int64 { return t / 1e6 }
	case "us", "u":
		p.toMillis = func(t int64) int64 { return t / 1e3 }
	case "ms":
		p.toMillis = func(t int64) int64 { return t }
	case "s":
		p.toMillis = func(t int64) int64 { return t * 1e3 }
	default:
		return nil, fmt.Errorf("%w: unknown precision %q: want ns, us, ms or s", ErrBadPayload, precision)
	}
	return p, nil
}

// Line appends the samples of one line (without its "\n"; a trailing "\r" is ignored) to dst.
// Blank lines and comments add nothing. The error says what is wrong with the line, without
// naming it: the caller knows its number. The samples' strings do not alias line.
func (p *InfluxParser) Line(dst []tsdb.Sample, line string) ([]tsdb.Sample, error) {
	s := strings.TrimRight(line, "\r")
	if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
		return dst, nil
	}
	if err := p.rows.Unmarshal(s, false); err != nil {
		return dst, errors.New(trimLineFromError(err, s))
	}
	for _, r := range p.rows.Rows {
		// VictoriaMetrics keeps only the parsed float of a field: read the raw values again
		// to skip strings and refuse what it would have turned into 0.
		raw := rawFieldValues(s)
		if len(raw) != len(r.Fields) {
			return dst, fmt.Errorf("cannot split the field set (%d fields parsed, %d found)", len(r.Fields), len(raw))
		}
		ts := p.nowMs
		if r.Timestamp != 0 {
			ts = p.toMillis(r.Timestamp)
		}
		if ts <= 0 {
			return dst, fmt.Errorf("timestamp %d is before 1970", r.Timestamp)
		}
		if sanitize(r.Measurement) == "" {
			return dst, errors.New("empty measurement")
		}
		n := 0
		for _, t := range r.Tags {
			if t.Value != "" {
				n++
			}
		}
		labels := make([]tsdb.Label, 0, n)
		for _, t := range r.Tags {
			if t.Value == "" {
				continue
			}
			labels = append(labels, tsdb.Label{Name: p.labelName(t.Key), Value: strings.Clone(t.Value)})
		}
		for k, f := range r.Fields {
			v, isString, ok := fieldValue(raw[k], f.Value)
			if isString {
				continue
			}
			if !ok {
				return dst, fmt.Errorf("field %q has invalid value %s: want a number (1.5), an integer (1i, 1u), a boolean (true) or a string (\"x\", skipped)",
					f.Key, QuoteLine(raw[k]))
			}
			dst = append(dst, tsdb.Sample{Name: p.metricName(r.Measurement, f.Key), Labels: labels, Timestamp: ts, Value: v})
		}
	}
	return dst, nil
}

// metricName is measurement_field, sanitized and not aliasing the line.
func (p *InfluxParser) metricName(measurement, field string) string {
	if name, ok := p.names[[2]string{measurement, field}]; ok {
		return name
	}
	name := sanitize(measurement) + "_" + sanitize(field)
	if p.names == nil {
		p.names = map[[2]string]string{}
	}
	if len(p.names) < maxInterned {
		p.names[[2]string{strings.Clone(measurement), strings.Clone(field)}] = name
	}
	return name
}

// labelName is a tag key as a sanitized label name, not aliasing the line.
func (p *InfluxParser) labelName(key string) string {
	if name, ok := p.keys[key]; ok {
		return name
	}
	name := strings.Clone(sanitizeLabel(key))
	if p.keys == nil {
		p.keys = map[string]string{}
	}
	if len(p.keys) < maxInterned {
		p.keys[strings.Clone(key)] = name
	}
	return name
}

// MaxQuotedLine is how much of a line an error quotes.
const MaxQuotedLine = 120

// QuoteLine quotes s for an error message, cut to MaxQuotedLine bytes (on a rune boundary)
// with "..." after a cut.
func QuoteLine(s string) string {
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
