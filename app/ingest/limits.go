package ingest

import (
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"sync"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// Limits bound one write request. A request over any of them is refused whole with 400 naming
// the line (Influx) or series (remote write) and the limit; nothing of it is stored. Zero
// fields take the defaults below. Whatever they are, a series must also fit storage's bounds
// (tsdb.ValidateSeriesSize: its name and labels within tsdb.MaxSeriesBytes, 24 KiB).
type Limits struct {
	// MaxLabels is the most labels a series may have, its metric name not counted
	// (VictoriaMetrics' -maxLabelsPerTimeseries is 40). Default 40.
	MaxLabels int
	// MaxMetricNameBytes bounds a metric name (an Influx measurement_field). Default 256.
	MaxMetricNameBytes int
	// MaxLabelNameBytes bounds a label name (an Influx tag key). Default 256.
	MaxLabelNameBytes int
	// MaxLabelValueBytes bounds a label value (an Influx tag value), as VictoriaMetrics'
	// -maxLabelValueLen. Default 4096.
	MaxLabelValueBytes int
	// MaxSamples bounds the samples of one request. Default 500,000: 250 times Prometheus'
	// and vmagent's batches (2,000 and 10,000 samples), 500 times Telegraf's 1,000 lines.
	MaxSamples int
	// MaxSeries bounds the distinct series (metric name and labels as sent) of one request.
	// Default 100,000.
	MaxSeries int
	// MaxLineBytes bounds one Influx line (VictoriaMetrics' -influx.maxLineSize). Default
	// 256 KiB: 40 labels of 4 KiB and their fields fit.
	MaxLineBytes int
}

// Default limits; see Limits.
const (
	DefaultMaxLabels          = 40
	DefaultMaxMetricNameBytes = 256
	DefaultMaxLabelNameBytes  = 256
	DefaultMaxLabelValueBytes = 4096
	DefaultMaxSamples         = 500_000
	DefaultMaxSeries          = 100_000
	DefaultMaxLineBytes       = 256 << 10
)

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxLabels, DefaultMaxLabels)
	def(&l.MaxMetricNameBytes, DefaultMaxMetricNameBytes)
	def(&l.MaxLabelNameBytes, DefaultMaxLabelNameBytes)
	def(&l.MaxLabelValueBytes, DefaultMaxLabelValueBytes)
	def(&l.MaxSamples, DefaultMaxSamples)
	def(&l.MaxSeries, DefaultMaxSeries)
	def(&l.MaxLineBytes, DefaultMaxLineBytes)
	return l
}

// Reasons a request, or part of one, is refused: the reason label of
// redwatch_ingest_rejected_total.
const (
	reasonInvalid           = "invalid"              // not decodable, or invalid names or timestamps
	reasonUnauthorized      = "unauthorized"         // no token, a wrong one, or ingest disabled
	reasonBodyTooLarge      = "body_too_large"       // over MaxBodyBytes, compressed or not
	reasonLineTooLong       = "line_too_long"        // Limits.MaxLineBytes
	reasonMetricNameTooLong = "metric_name_too_long" // Limits.MaxMetricNameBytes
	reasonLabelNameTooLong  = "label_name_too_long"  // Limits.MaxLabelNameBytes
	reasonLabelValueTooLong = "label_value_too_long" // Limits.MaxLabelValueBytes
	reasonTooManyLabels     = "too_many_labels"      // Limits.MaxLabels
	reasonTooManySamples    = "too_many_samples"     // Limits.MaxSamples
	reasonTooManySeries     = "too_many_series"      // Limits.MaxSeries
	reasonSampledSeries     = "sampled_series"       // a series redwatch's own samplers write (partial write)
	reasonTimestampFuture   = "timestamp_future"     // beyond storage's window (partial write)
	reasonTimestampTooOld   = "timestamp_too_old"    // older than the retention (partial write)
	reasonBusy              = "busy"                 // no insert slot within QueueWait
	reasonReadOnly          = "read_only"            // storage is read-only
	reasonStorage           = "storage_error"        // storage closed or failing
)

// reasons lists every reason, in the order redwatch_ingest_rejected_total is written.
var reasons = [...]string{
	reasonInvalid, reasonUnauthorized, reasonBodyTooLarge, reasonLineTooLong, reasonMetricNameTooLong,
	reasonLabelNameTooLong, reasonLabelValueTooLong, reasonTooManyLabels, reasonTooManySamples,
	reasonTooManySeries, reasonSampledSeries, reasonTimestampFuture, reasonTimestampTooOld,
	reasonBusy, reasonReadOnly, reasonStorage,
}

// validator checks the series and sample counts of one request against Limits and storage's
// naming rules before anything is written. Not safe for concurrent use.
type validator struct {
	lim     Limits
	samples int
	// The series' hashes: listed (hashes, pooled) while there are at most MaxSeries of them,
	// which then cannot be too many distinct series; in a set (seen) after that, to count the
	// distinct ones. A map insert per series cost more than the rest of the checks.
	hashes *[]uint64
	seen   map[uint64]struct{}
	seed   maphash.Seed
}

var hashesPool = sync.Pool{New: func() any { return new([]uint64) }}

// newValidator returns a validator; release it when the request is done.
func newValidator(lim Limits) *validator {
	return &validator{lim: lim, hashes: hashesPool.Get().(*[]uint64), seed: maphash.MakeSeed()}
}

// release returns v's pooled list; v is not used after.
func (v *validator) release() {
	*v.hashes = (*v.hashes)[:0]
	hashesPool.Put(v.hashes)
	v.hashes = nil
}

// series checks one series that brings n samples; where names it ("line 3 \"...\"",
// "series 2 (up)") for the error.
func (v *validator) series(where func() string, name string, labels []tsdb.Label, n int) *reject {
	bad := func(reason string, format string, args ...any) *reject {
		return refuse(http.StatusBadRequest, reason, "%s: %s: %s", wire.ErrBadPayload, where(), fmt.Sprintf(format, args...))
	}
	if len(name) > v.lim.MaxMetricNameBytes {
		return bad(reasonMetricNameTooLong, "metric name of %d bytes exceeds the limit of %d bytes", len(name), v.lim.MaxMetricNameBytes)
	}
	if err := tsdb.ValidateMetricName(name); err != nil {
		return bad(reasonInvalid, "%s", err)
	}
	if len(labels) > v.lim.MaxLabels {
		return bad(reasonTooManyLabels, "%s has %d labels, over the limit of %d", name, len(labels), v.lim.MaxLabels)
	}
	for _, l := range labels {
		if len(l.Name) > v.lim.MaxLabelNameBytes {
			return bad(reasonLabelNameTooLong, "%s: label name of %d bytes exceeds the limit of %d bytes", name, len(l.Name), v.lim.MaxLabelNameBytes)
		}
		if err := tsdb.ValidateLabelName(l.Name); err != nil {
			return bad(reasonInvalid, "%s: %s", name, err)
		}
		if l.Name == "__name__" {
			return bad(reasonInvalid, "%s: %s", name, errors.New(`label "__name__" is reserved`))
		}
		if len(l.Value) > v.lim.MaxLabelValueBytes {
			return bad(reasonLabelValueTooLong, "%s: value of label %q is %d bytes, over the limit of %d bytes", name, l.Name, len(l.Value), v.lim.MaxLabelValueBytes)
		}
	}
	if err := tsdb.ValidateSeriesSize(name, labels); err != nil {
		// Within every limit above, labels may still add up to more than storage takes.
		return bad(reasonInvalid, "%s: %s", name, err)
	}
	v.samples += n
	if v.samples > v.lim.MaxSamples {
		return bad(reasonTooManySamples, "the request has more than %d samples, the limit per request", v.lim.MaxSamples)
	}
	if n > 0 {
		var h maphash.Hash
		h.SetSeed(v.seed)
		h.WriteString(name)
		for _, l := range labels {
			h.WriteByte(0)
			h.WriteString(l.Name)
			h.WriteByte(1)
			h.WriteString(l.Value)
		}
		if v.seen == nil {
			*v.hashes = append(*v.hashes, h.Sum64())
			if len(*v.hashes) <= v.lim.MaxSeries {
				return nil
			}
			v.seen = make(map[uint64]struct{}, len(*v.hashes))
			for _, x := range *v.hashes {
				v.seen[x] = struct{}{}
			}
		} else {
			v.seen[h.Sum64()] = struct{}{}
		}
		if len(v.seen) > v.lim.MaxSeries {
			return bad(reasonTooManySeries, "the request has more than %d series, the limit per request", v.lim.MaxSeries)
		}
	}
	return nil
}
