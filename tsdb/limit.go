package tsdb

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/bloomfilter"
	"github.com/cespare/xxhash/v2"
)

// Cardinality ceiling. Write admits at most Options.MaxSeries distinct series per hour and
// twice that per day, as lib/storage's OpenOptions.MaxHourlySeries and MaxDailySeries would:
// the same bloomfilter.Limiter, fed the same xxhash of each row's raw metric name. tsdb checks
// it itself, before AddRows, instead of passing those options to storage, because storage drops
// over-limit rows inside AddRows without saying which: checking here lets Write keep dropped
// series out of the latest table (pages and /metrics show only what is stored) and lets
// redwatch's own series through (see exemptFromSeriesLimit), so the drop counter and the alert
// on it keep working at the ceiling. Rollups need no limiter of their own: each rollup series
// is a stored raw series, so the rollup storage holds no more series than raw does.
//
// As in VictoriaMetrics, the limiters are in memory and start empty on Open, the hourly one
// forgets its series every hour and the daily one every day (counted from Open), and one series
// written with its labels in two different orders counts twice (samplers always use one order).

// DefaultSeriesCostBytes is the memory budget one series is given when Options.MaxSeries is
// derived from Options.MemoryAllowedBytes: about 1 KiB, VictoriaMetrics' figure for an active
// series in its caches and index, which also covers the series' entry in the latest table
// (about 0.4 KiB).
const DefaultSeriesCostBytes = 1024

// DefaultMaxSeries is the Options.MaxSeries used when it is 0: memoryAllowedBytes (as
// Options.MemoryAllowedBytes, 256 MiB by default) over DefaultSeriesCostBytes, so 262,144
// new series per hour with the default budget.
func DefaultMaxSeries(memoryAllowedBytes int64) int {
	if memoryAllowedBytes <= 0 {
		memoryAllowedBytes = defaultMemoryAllowedBytes
	}
	return int(memoryAllowedBytes / DefaultSeriesCostBytes)
}

const defaultMemoryAllowedBytes = 256 << 20

// Reasons of SeriesDropped, the values of the label reason of redwatch_series_dropped_total.
const (
	DropReasonHourlyLimit = "hourly_limit"
	DropReasonDailyLimit  = "daily_limit"
)

// dropLogEvery is how often at most Write logs that it dropped series.
const dropLogEvery = time.Minute

// exemptFromSeriesLimit reports whether series called name pass the ceiling unchecked:
// redwatch's own (redwatch_*, ALERTS), a few dozen series, among them the drop counter itself.
func exemptFromSeriesLimit(name string) bool {
	return strings.HasPrefix(name, "redwatch_") || name == "ALERTS"
}

// seriesLimiter is the ceiling on new series. A nil *seriesLimiter admits everything.
type seriesLimiter struct {
	hourly, daily *bloomfilter.Limiter
	log           *slog.Logger

	droppedHourly, droppedDaily atomic.Uint64
	lastLog                     atomic.Int64 // unix ns of the last drop log line
}

// newSeriesLimiter returns a limiter of maxHourly series per hour and 2*maxHourly per day, or
// nil when maxHourly < 0 (no ceiling). Call stop when done.
func newSeriesLimiter(maxHourly int, log *slog.Logger) *seriesLimiter {
	if maxHourly < 0 {
		return nil
	}
	return &seriesLimiter{
		hourly: bloomfilter.NewLimiter(maxHourly, time.Hour),
		daily:  bloomfilter.NewLimiter(2*maxHourly, 24*time.Hour),
		log:    log,
	}
}

// stop ends the limiters' refresh goroutines; no admit may run during or after it.
func (l *seriesLimiter) stop() {
	if l != nil {
		l.hourly.MustStop()
		l.daily.MustStop()
	}
}

// admit reports whether a row of the series name (raw metric name metricNameRaw, as AddRows
// gets it) may be stored, and counts it when it may not. Safe for concurrent use.
func (l *seriesLimiter) admit(name string, metricNameRaw []byte) bool {
	if l == nil || exemptFromSeriesLimit(name) {
		return true
	}
	h := xxhash.Sum64(metricNameRaw)
	if !l.hourly.Add(h) {
		l.droppedHourly.Add(1)
		l.logDrop(name, DropReasonHourlyLimit, l.hourly.MaxItems())
		return false
	}
	if !l.daily.Add(h) {
		l.droppedDaily.Add(1)
		l.logDrop(name, DropReasonDailyLimit, l.daily.MaxItems())
		return false
	}
	return true
}

// logDrop logs a dropped sample at most once per dropLogEvery.
func (l *seriesLimiter) logDrop(name, reason string, limit int) {
	now := time.Now().UnixNano()
	last := l.lastLog.Load()
	if now-last < dropLogEvery.Nanoseconds() || !l.lastLog.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn("new series dropped: storage.max_series reached; raise it or find the source of the new series (redwatch_series_dropped_total counts them)",
		"metric", name, "reason", reason, "limit", limit,
		"dropped_hourly_limit_total", l.droppedHourly.Load(), "dropped_daily_limit_total", l.droppedDaily.Load())
}

// SeriesDropped returns how many samples Write dropped since Open because their series was
// new and over the ceiling (Options.MaxSeries), by reason (DropReasonHourlyLimit,
// DropReasonDailyLimit). Both keys are always present; all zero without a ceiling.
func (db *DB) SeriesDropped() map[string]uint64 {
	out := map[string]uint64{DropReasonHourlyLimit: 0, DropReasonDailyLimit: 0}
	if l := db.series; l != nil {
		out[DropReasonHourlyLimit] = l.droppedHourly.Load()
		out[DropReasonDailyLimit] = l.droppedDaily.Load()
	}
	return out
}

// MaxSeries is the ceiling in effect: new series per hour (twice that per day), or -1 for none.
func (db *DB) MaxSeries() int {
	if db.series == nil {
		return -1
	}
	return db.series.hourly.MaxItems()
}
