package ingest

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/redwatch/redwatch/tsdb"
)

// chunkSamples is how many samples one Write gets: a big request is written in chunks, after
// it was validated whole, so that its decoded samples never sit in memory at once.
const chunkSamples = 10_000

// chunkWriter writes the samples of one validated request in chunks, leaving out those of a
// series redwatch samples itself (Options.Sampled) and those outside storage's window
// (tsdb.DB.CheckTimestamp), and remembering the first it left out for the answer.
type chunkWriter struct {
	w       Writer
	sampled func(name string, labels []tsdb.Label) string // nil: none
	buf     []tsdb.Sample                                 // from chunkPool; back there in finish
	// okLo..okHi are timestamps CheckTimestamp accepted during this request: storage's window
	// is one interval, so a timestamp between them needs no check of its own (it costs a
	// clock read). Write checks every sample again, should the window move meanwhile.
	okLo, okHi int64
	total      int // samples offered
	stored     int // samples Write accepted
	// Samples left out: of sampled series, and for their timestamps; first describes the
	// first of them.
	ofSampled      int
	tooOld, tooNew int
	first          string
	observe        func([]tsdb.Sample) // called with each stored chunk (push tracking)
}

// skipSampled reports whether name and labels are a series redwatch samples itself; if so
// it counts its n samples as offered and left out (where names the line or series).
func (cw *chunkWriter) skipSampled(where func() string, name string, labels []tsdb.Label, n int) bool {
	if cw.sampled == nil || n == 0 {
		return false
	}
	owner := cw.sampled(name, labels)
	if owner == "" {
		return false
	}
	cw.total += n
	cw.ofSampled += n
	if cw.first == "" {
		cw.first = fmt.Sprintf("%s (%s): the series is written by redwatch itself (%s): a pushed value would mix with it", where(), name, owner)
	}
	return true
}

// chunkPool holds chunk buffers, so that a request does not grow its own to chunkSamples.
var chunkPool = sync.Pool{New: func() any { b := make([]tsdb.Sample, 0, chunkSamples); return &b }}

// add offers samples, which skipSampled let through; where names their line or series. It
// returns a write error.
func (cw *chunkWriter) add(where func() string, samples ...tsdb.Sample) error {
	if cw.buf == nil {
		cw.buf = (*chunkPool.Get().(*[]tsdb.Sample))[:0]
	}
	for _, s := range samples {
		cw.total++
		if ts := s.Timestamp; ts < cw.okLo || ts > cw.okHi || cw.okHi == 0 {
			if !cw.checkTimestamp(ts, func(err error) string { return fmt.Sprintf("%s (%s): %s", where(), s.Name, err) }) {
				continue
			}
		}
		cw.buf = append(cw.buf, s)
		if len(cw.buf) >= chunkSamples {
			if err := cw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// addPoints offers the samples of one series, which skipSampled let through, as add does;
// where names the series.
func (cw *chunkWriter) addPoints(where func() string, name string, labels []tsdb.Label, points []tsdb.Point) error {
	if cw.buf == nil {
		cw.buf = (*chunkPool.Get().(*[]tsdb.Sample))[:0]
	}
	for _, p := range points {
		cw.total++
		if ts := p.Timestamp; ts < cw.okLo || ts > cw.okHi || cw.okHi == 0 {
			if !cw.checkTimestamp(ts, func(err error) string { return fmt.Sprintf("%s (%s): %s", where(), name, err) }) {
				continue
			}
		}
		cw.buf = append(cw.buf, tsdb.Sample{Name: name, Labels: labels, Timestamp: p.Timestamp, Value: p.Value})
		if len(cw.buf) >= chunkSamples {
			if err := cw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkTimestamp asks storage whether it takes ts, widening okLo..okHi when it does and
// counting the sample as left out (describe says what it was) when not.
func (cw *chunkWriter) checkTimestamp(ts int64, describe func(error) string) bool {
	if err := cw.w.CheckTimestamp(ts); err != nil {
		cw.outside(err, func() string { return describe(err) })
		return false
	}
	if cw.okHi == 0 {
		cw.okLo, cw.okHi = ts, ts
	}
	cw.okLo, cw.okHi = min(cw.okLo, ts), max(cw.okHi, ts)
	return true
}

// outside counts a sample storage's window refuses.
func (cw *chunkWriter) outside(err error, describe func() string) {
	if errors.Is(err, tsdb.ErrTimestampTooNew) {
		cw.tooNew++
	} else {
		cw.tooOld++
	}
	if cw.first == "" {
		cw.first = describe()
	}
}

// flush writes what is buffered. A timestamp refused by Write itself (the window moved since
// CheckTimestamp) counts as left out; the rest of the chunk is stored.
func (cw *chunkWriter) flush() error {
	if len(cw.buf) == 0 {
		return nil
	}
	err := cw.w.Write(cw.buf)
	if te, ok := errors.AsType[*tsdb.TimestampError](err); ok {
		cw.outside(te, func() string { return err.Error() })
		cw.stored--
		err = nil
	}
	if err != nil {
		return err
	}
	cw.stored += len(cw.buf)
	if cw.observe != nil {
		cw.observe(cw.buf)
	}
	cw.buf = cw.buf[:0]
	return nil
}

// finish ends a request whose samples were all offered (err: the write error that stopped
// it, or nil): it flushes what is buffered and returns the answer, a write error's or result's.
func (cw *chunkWriter) finish(err error, d dialect) *reject {
	if err == nil {
		err = cw.flush()
	}
	if cw.buf != nil {
		b := cw.buf[:cap(cw.buf)]
		clear(b) // drop the request's strings
		b = b[:0]
		chunkPool.Put(&b)
		cw.buf = nil
	}
	if err != nil {
		return writeError(err, cw.stored)
	}
	return cw.result(d)
}

// result is the answer once every sample was offered and flushed: nil when all were stored,
// else the partial write report, in InfluxDB's words, which Telegraf and InfluxDB clients
// recognize and do not retry: 400, or 422 as InfluxDB 2 answers it. It counts under each
// reason it had (sampled_series, timestamp_too_old, timestamp_future).
func (cw *chunkWriter) result(d dialect) *reject {
	dropped := cw.ofSampled + cw.tooOld + cw.tooNew
	if dropped == 0 {
		return nil
	}
	code := http.StatusBadRequest
	if d == influx2 {
		code = http.StatusUnprocessableEntity
	}
	what := "points beyond retention policy"
	switch {
	case cw.ofSampled == dropped:
		what = "series sampled by redwatch"
	case cw.ofSampled > 0:
		what = "points beyond retention policy or of series sampled by redwatch"
	}
	r := &reject{code: code, msg: fmt.Sprintf("partial write: %s dropped=%d: %d of %d samples were not stored, the first at %s; the other %d were stored",
		what, dropped, dropped, cw.total, cw.first, cw.stored)}
	if cw.ofSampled > 0 {
		r.reasons = append(r.reasons, reasonSampledSeries)
	}
	if cw.tooOld > 0 {
		r.reasons = append(r.reasons, reasonTimestampTooOld)
	}
	if cw.tooNew > 0 {
		r.reasons = append(r.reasons, reasonTimestampFuture)
	}
	return r
}

// writeError maps an error of Write: read-only storage and closed storage are 503 (retry
// later), anything else 500. stored says how many samples of the request were stored before.
func writeError(err error, stored int) *reject {
	before := "nothing of this request was stored"
	if stored > 0 {
		before = fmt.Sprintf("%d samples of this request were stored before", stored)
	}
	switch {
	case errors.Is(err, tsdb.ErrReadOnly):
		r := refuse(http.StatusServiceUnavailable, reasonReadOnly, "storage is read-only, retry later: %s; %s", err, before)
		r.retryAfter = readOnlyRetryAfter
		return r
	case errors.Is(err, tsdb.ErrClosed):
		return refuse(http.StatusServiceUnavailable, reasonStorage, "storage is not available: %s; %s", err, before)
	}
	return refuse(http.StatusInternalServerError, reasonStorage, "cannot store samples: %s; %s", err, before)
}
