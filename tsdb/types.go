package tsdb

import (
	"strings"
	"unicode/utf8"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/decimal"
)

// Label is one name=value pair of a series. The metric name is not a label here: it lives in
// Sample.Name (and is exposed to selectors as __name__).
type Label struct {
	Name  string
	Value string
}

// Sample is one value of one series at one instant.
type Sample struct {
	Name string // metric name, e.g. "host_cpu_usage_percent"
	// Labels in any order; labels with empty values are dropped. A value that is not valid
	// UTF-8, or longer than MaxLabelValueBytes, is stored as LabelValue encodes it. At most
	// MaxLabels labels; names of at most MaxNameBytes; see MaxSeriesBytes.
	Labels    []Label
	Timestamp int64 // unix milliseconds
	// Value; StaleMarker() ends the series (see IsStaleMarker).
	Value float64
	// Ref, when not nil, is where Write remembers the series' place between calls, so that a
	// writer sending the same series every round (a watched key's length, say) skips its
	// label sorting, validation and lookup. A SeriesRef belongs to one series: every sample
	// given the same Ref must have the same Name and Labels (a new series takes a new,
	// zero SeriesRef). Optional; Write reads and writes it under its own lock.
	Ref *SeriesRef
}

// SeriesRef is Sample.Ref: the zero value is ready, and Write fills it in.
type SeriesRef struct {
	t  *latestTable // the table lv is in; another DB's table is not trusted
	lv *latestEntry // nil: not known (yet, or any more)
}

// LabelValue is how a label value is stored, read and shown everywhere (storage, the latest
// table, /metrics, /api/v1/*, pages, notifications). Two steps:
//
//  1. Encoding: a valid UTF-8 value is unchanged; in a value that is not valid UTF-8, each byte
//     that is not part of a valid UTF-8 sequence becomes \xNN (two lower-case hex digits) and
//     each backslash becomes \\, so the result is valid UTF-8 and two different invalid values
//     never encode alike. Caveat: a valid value that already reads like an encoding (the 8
//     characters q\xffbin) is the same label value as the invalid one it spells (q, byte 0xff,
//     bin).
//  2. Shortening: a value longer than MaxLabelValueBytes (before or after encoding) becomes its
//     first ~4,060 bytes, cut on a character boundary, then "…[sha256:" and 16 hex digits of the
//     SHA-256 of the whole raw value, then "]": at most MaxLabelValueBytes bytes, the same for
//     the same value every time (a Redis key of 70,000 bytes is stored as such a value).
//
// LabelValue is idempotent. Write applies it to every sample; ParseSelector applies it to the
// values of = and != matchers, so a selector may name either the raw bytes (key="q\xffbin" in
// Go/PromQL escapes), the encoding (key="q\\xffbin"), the full long value or its shortened
// form; regexp matchers match the stored values.
func LabelValue(s string) string {
	if len(s) > MaxLabelValueBytes {
		return shortenValue(s)
	}
	if utf8.ValidString(s) {
		return s
	}
	if enc := encodeInvalid(s); len(enc) <= MaxLabelValueBytes {
		return enc
	}
	return shortenValue(s)
}

// encodeInvalid is step 1 of LabelValue (no bound on the length).
func encodeInvalid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&0xf])
		case s[i] == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// stored reports whether v is stored as is (LabelValue(v) == v).
func stored(v string) bool { return len(v) <= MaxLabelValueBytes && utf8.ValidString(v) }

// encodeLabels returns labels with every value passed through LabelValue: labels itself when
// every value is stored as is (the usual case), else a copy.
func encodeLabels(labels []Label) []Label {
	for i := range labels {
		if !stored(labels[i].Value) {
			out := make([]Label, len(labels))
			for j, l := range labels {
				out[j] = Label{Name: l.Name, Value: LabelValue(l.Value)}
			}
			return out
		}
	}
	return labels
}

// StaleMarker returns Prometheus' staleness marker, the NaN with the bit pattern
// 0x7ff0000000000002. A sample with this value says "this series has ended": Write stores it
// (reads skip NaNs) and removes the series from the latest table, so /metrics and the live
// pages stop showing it at once. Test for it with IsStaleMarker, never with ==.
func StaleMarker() float64 { return decimal.StaleNaN }

// IsStaleMarker reports whether v is the staleness marker (not any other NaN).
func IsStaleMarker(v float64) bool { return decimal.IsStaleNaN(v) }
