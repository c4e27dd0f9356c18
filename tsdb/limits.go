package tsdb

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"unicode/utf8"
)

// Bounds on what one series may carry. VictoriaMetrics panics on a label name or value longer
// than 65,535 bytes (lib/storage marshalStringFast: "BUG: s len 65536 cannot exceed 65535") and
// silently drops index entries longer than 64 KiB (lib/mergeset maxInmemoryBlockSize), where a
// series' whole name is stored with the bytes 0, 1 and 2 escaped to two bytes. These bounds keep
// every series far from both, whoever builds it (samplers, ingest, alerts).
const (
	// MaxLabelValueBytes is the longest label value stored, as VictoriaMetrics'
	// -maxLabelValueLen default. A longer value is stored shortened (see LabelValue).
	MaxLabelValueBytes = 4096
	// MaxNameBytes is the longest metric name and label name accepted, as VictoriaMetrics'
	// -maxLabelNameLen default. A longer one is refused, never shortened.
	MaxNameBytes = 256
	// MaxLabels is the most labels (non-empty values, the metric name not counted) one series
	// may have. Above VictoriaMetrics' -maxLabelsPerTimeseries default of 40 so that an alert's
	// ALERTS series, which adds alertname, alertstate and severity to the labels of the series
	// it watches, still fits when those have 40.
	MaxLabels = 64
	// MaxSeriesBytes bounds the metric name plus every label name and (stored) value of one
	// series: escaped, twice this still fits VictoriaMetrics' 64 KiB index entries.
	MaxSeriesBytes = 24 << 10
)

// shortMarkerBytes is the length of the marker shortenValue appends: "…[sha256:" + 16 hex + "]".
const shortMarkerBytes = len("…[sha256:") + 16 + len("]")

// shortenValue returns a value of at most MaxLabelValueBytes bytes of valid UTF-8 standing for
// s: the start of s (invalid bytes encoded as LabelValue does, cut on a rune boundary), then
// "…[sha256:" and the first 16 hex digits of the SHA-256 of all of s, then "]". The same s
// always gives the same value, across processes and versions.
func shortenValue(s string) string {
	sum := sha256.Sum256([]byte(s))
	maxPrefix := MaxLabelValueBytes - shortMarkerBytes
	head := s[:min(len(s), maxPrefix)]
	// Do not split a valid multi-byte character of s: it would read as invalid bytes.
	for i := 0; i < utf8.UTFMax-1 && len(head) > 0 && len(head) < len(s) && !utf8.RuneStart(s[len(head)]); i++ {
		head = head[:len(head)-1]
	}
	head = encodeInvalid(head)
	if len(head) > maxPrefix {
		cut := maxPrefix
		for cut > 0 && !utf8.RuneStart(head[cut]) {
			cut--
		}
		head = head[:cut]
	}
	return head + "…[sha256:" + hex.EncodeToString(sum[:8]) + "]"
}

// storedValueBytes is an upper bound of len(LabelValue(v)) that does not build it.
func storedValueBytes(v string) int {
	if len(v) >= MaxLabelValueBytes {
		return MaxLabelValueBytes
	}
	if utf8.ValidString(v) {
		return len(v)
	}
	return min(4*len(v), MaxLabelValueBytes) // each invalid byte becomes \xNN
}

// ValidateSeriesSize checks the bounds of one series as Write does: name lengths are checked
// by ValidateMetricName and ValidateLabelName; this checks the label count (MaxLabels) and the
// total size (MaxSeriesBytes: metric name, label names and stored values; empty values are
// dropped, so not counted). Ingest calls it to refuse such a series before writing anything.
func ValidateSeriesSize(name string, labels []Label) error {
	n, size := 0, len(name)
	for i := range labels {
		if labels[i].Value == "" {
			continue
		}
		n++
		size += len(labels[i].Name) + storedValueBytes(labels[i].Value)
	}
	if n > MaxLabels {
		return fmt.Errorf("series has %d labels: at most %d are allowed", n, MaxLabels)
	}
	if size > MaxSeriesBytes {
		return fmt.Errorf("series name and labels take %d bytes: at most %d are allowed", size, MaxSeriesBytes)
	}
	return nil
}
