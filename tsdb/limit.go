package tsdb

import (
	"log/slog"
	"strings"
	"sync"
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
// forgets its series every hour and the daily one every day (counted from Open). The hash is of
// the raw name marshalled from the labels sorted by name, so one series counts once whatever
// order its labels come in.

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
//
// The hourly and daily filters are replaced by redwatch itself (rotate), not by the
// bloomfilter.Limiter's own ticker, so that each replacement bumps a generation: Write caches
// the verdict "admitted in generation g" per series (the latest table's entry, see
// latestTable.record) and asks admit again only when the generation changed. That skips no
// counting: within one generation a series admitted once is in both current filters, where
// Add would find it and change nothing; after a rotation its first sample is admitted (and
// counted in the new filters) again, exactly as without the cache.
type seriesLimiter struct {
	cur  atomic.Pointer[limiterGen]
	log  *slog.Logger
	max  int
	quit chan struct{}
	done sync.WaitGroup

	droppedHourly, droppedDaily atomic.Uint64
	lastLog                     atomic.Int64 // unix ns of the last drop log line
}

// limiterGen is one generation of the filters: replaced whole, so admit sees both filters and
// the number of the same generation.
type limiterGen struct {
	hourly, daily *bloomfilter.Limiter
	n             uint64 // 1 for the first generation, so 0 means "never admitted"
}

// neverRefresh is the refresh interval given to bloomfilter.NewLimiter: rotate replaces the
// filters, their own ticker never fires.
const neverRefresh = 100 * 365 * 24 * time.Hour

// newSeriesLimiter returns a limiter of maxHourly series per hour and 2*maxHourly per day, or
// nil when maxHourly < 0 (no ceiling). Call stop when done.
func newSeriesLimiter(maxHourly int, log *slog.Logger) *seriesLimiter {
	if maxHourly < 0 {
		return nil
	}
	l := &seriesLimiter{log: log, max: maxHourly, quit: make(chan struct{})}
	l.cur.Store(&limiterGen{hourly: l.newFilter(1), daily: l.newFilter(2), n: 1})
	l.done.Go(l.rotateLoop)
	return l
}

func (l *seriesLimiter) newFilter(factor int) *bloomfilter.Limiter {
	return bloomfilter.NewLimiter(factor*l.max, neverRefresh)
}

// rotateLoop forgets the hourly filter every hour and the daily one every day, counted from
// the start, as the filters' own tickers would.
func (l *seriesLimiter) rotateLoop() {
	hour := time.NewTicker(time.Hour)
	defer hour.Stop()
	for hours := 1; ; hours++ {
		select {
		case <-hour.C:
			l.rotate(hours%24 == 0)
		case <-l.quit:
			return
		}
	}
}

// rotate starts a new generation with an empty hourly filter, and an empty daily one too when
// daily is set. The filters it replaces are stopped; an admit still using them is harmless
// (Add only reads their state, their refresh goroutine is what stops).
func (l *seriesLimiter) rotate(daily bool) {
	old := l.cur.Load()
	g := &limiterGen{hourly: l.newFilter(1), daily: old.daily, n: old.n + 1}
	if daily {
		g.daily = l.newFilter(2)
	}
	l.cur.Store(g)
	old.hourly.MustStop()
	if daily {
		old.daily.MustStop()
	}
}

// stop ends the rotation and the filters' goroutines; no admit may run during or after it.
func (l *seriesLimiter) stop() {
	if l != nil {
		close(l.quit)
		l.done.Wait()
		g := l.cur.Load()
		g.hourly.MustStop()
		g.daily.MustStop()
	}
}

// generation is the current generation (1 without a ceiling). A verdict of admit made in it
// holds until it changes.
func (l *seriesLimiter) generation() uint64 {
	if l == nil {
		return 1
	}
	return l.cur.Load().n
}

// admit reports whether a row of the series name (raw metric name metricNameRaw, as AddRows
// gets it) may be stored, and counts it when it may not; gen is the generation the verdict
// was made in. Safe for concurrent use.
func (l *seriesLimiter) admit(name string, metricNameRaw []byte) (ok bool, gen uint64) {
	if l == nil {
		return true, 1
	}
	g := l.cur.Load()
	if exemptFromSeriesLimit(name) {
		return true, g.n
	}
	h := xxhash.Sum64(metricNameRaw)
	if !g.hourly.Add(h) {
		l.droppedHourly.Add(1)
		l.logDrop(name, DropReasonHourlyLimit, g.hourly.MaxItems())
		return false, g.n
	}
	if !g.daily.Add(h) {
		l.droppedDaily.Add(1)
		l.logDrop(name, DropReasonDailyLimit, g.daily.MaxItems())
		return false, g.n
	}
	return true, g.n
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
	return db.series.max
}
