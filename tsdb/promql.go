package tsdb

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/app/vmselect/netstorage"
	"github.com/VictoriaMetrics/VictoriaMetrics/app/vmselect/promql"
	"github.com/VictoriaMetrics/VictoriaMetrics/app/vmselect/searchutil"
	"github.com/VictoriaMetrics/VictoriaMetrics/app/vmstorage"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/httpserver"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/querytracer"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
	"github.com/VictoriaMetrics/metricsql"
)

// MetricsQL. VictoriaMetrics' own query engine (app/vmselect/promql) evaluates MetricsQL, a
// superset of PromQL, over the raw samples of the DB: Query and QueryRangeExpr for Go callers,
// and the Prometheus HTTP handlers of promql_http.go. It reads storage through vmSelect
// (promql_adapter.go); vmstorage.Init and vmselect.Init are never called, so none of
// VictoriaMetrics' HTTP endpoints, scrapers or vmui exist in redwatch.
//
// The engine is process-wide: its storage hooks, its rollup result cache and its limits are
// package state of VictoriaMetrics. engine hands it to one open DB at a time: queries of the DB
// that has it run concurrently; a query of another DB waits until those are done, then takes
// the engine over (its cache is emptied, as it holds the other DB's results). A process with
// one DB, as redwatch, never switches.

// DefaultMaxQueryDuration is Options.MaxQueryDuration's default, as VictoriaMetrics'
// -search.maxQueryDuration.
const DefaultMaxQueryDuration = 30 * time.Second

// latencyOffset is VictoriaMetrics' -search.latencyOffset: how far behind now the HTTP
// handlers evaluate an instant query at "now", and which newest points of a range query they
// repeat from the point before. Samples are searchable within about dataFlushInterval of a
// write, so that is enough (VictoriaMetrics' default of 30 s hides the newest 30 s).
const latencyOffset = dataFlushInterval

// engineState is who has the engine (see the comment at the top of this file).
type engineState struct {
	mu      sync.Mutex
	idle    *sync.Cond // signalled when running drops to 0
	owner   *DB        // the DB the engine reads; nil: none yet or closed
	running int        // queries of owner in progress
	// cacheDB is the DB whose data directory the rollup result cache was loaded from and is
	// saved to when it closes; nil: the cache is stopped (no DB open).
	cacheDB *DB
	open    map[*DB]bool
	// staleCache is set by a write of a sample older than cacheResetAge: results cached before
	// it may miss it, so the next query empties the cache first (see noteOld).
	staleCache atomic.Bool
}

// cacheResetAge is VictoriaMetrics' -search.cacheTimestampOffset default: the rollup result
// cache holds no point newer than now minus it, so only a sample older than that can make a
// cached result wrong.
const cacheResetAge = 5 * time.Minute

// noteOld marks the rollup result cache stale when rows hold a sample older than
// cacheResetAge. It replaces promql.ResetRollupResultCacheIfNeeded, whose background goroutine
// resets VictoriaMetrics' global cache without a lock: it raced with the cache being stopped
// and loaded again as DBs close and open, and could reset a stopped (nil) cache.
func (e *engineState) noteOld(rows []storage.MetricRow) {
	if e.staleCache.Load() {
		return
	}
	oldest := time.Now().Add(-cacheResetAge).UnixMilli()
	for i := range rows {
		if rows[i].Timestamp < oldest {
			e.staleCache.Store(true)
			return
		}
	}
}

// engine is the one engineState: VictoriaMetrics' engine is package state, so this is too.
var engine = func() *engineState {
	e := &engineState{open: map[*DB]bool{}}
	e.idle = sync.NewCond(&e.mu)
	return e
}()

// engineFlags are VictoriaMetrics' flags redwatch sets at the first Open; setEngineLimits sets
// the per-DB ones each time a DB takes the engine over. Every value is computed here, so none
// can make VictoriaMetrics exit on a bad flag.
func engineFlags() map[string]string {
	return map[string]string{
		"search.latencyOffset":          latencyOffset.String(),
		"search.maxPointsPerTimeseries": strconv.Itoa(MaxPointsPerSeries),
		"search.maxLabelsAPISeries":     strconv.Itoa(labelsAPIMaxMetrics),
	}
}

// cachePath is where db's rollup result cache is kept, and tmpPath where the engine writes
// temporary search results larger than fit in memory.
func (db *DB) cachePath() string { return filepath.Join(db.opts.Path, "cache", "rollupResult") }
func (db *DB) tmpPath() string   { return filepath.Join(db.opts.Path, "tmp") }

// attach registers an opened db with the engine; the first one open loads the rollup result
// cache from its data directory and takes the engine.
func (e *engineState) attach(db *DB) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.open[db] = true
	if e.cacheDB == nil {
		promql.InitRollupResultCache(db.cachePath())
		e.cacheDB = db
	}
	if e.owner == nil && e.running == 0 {
		e.takeOver(db)
	}
}

// detach unregisters db, which must have no query running (Close holds db.mu). When the
// rollup result cache belongs to db it is saved there (when save is set: the disk has room)
// and stopped, then started again for another open DB, if any, from that DB's directory.
func (e *engineState) detach(db *DB, save bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.open, db)
	if e.owner == db {
		for e.running > 0 {
			e.idle.Wait()
		}
		e.owner = nil
		e.setHooks(nil)
	}
	if e.cacheDB != db {
		return
	}
	for e.running > 0 { // another DB's queries use the cache
		e.idle.Wait()
	}
	if save {
		promql.StopRollupResultCache()
	} // else left running unsaved: stopping writes its files
	e.cacheDB = nil
	for other := range e.open {
		promql.InitRollupResultCache(other.cachePath())
		e.cacheDB = other
		if e.owner != other {
			promql.ResetRollupResultCache() // it may hold results of other's past that it no longer has
		}
		break
	}
}

// acquire waits until the engine reads db and counts one more query of it; release ends it.
func (e *engineState) acquire(db *DB) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.owner != db && e.running > 0 {
		e.idle.Wait()
	}
	if e.owner != db {
		e.takeOver(db)
	}
	if e.staleCache.Swap(false) && e.cacheDB != nil {
		promql.ResetRollupResultCache() // a late sample was written since results were cached
	}
	e.running++
}

func (e *engineState) release() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running--
	if e.running == 0 {
		e.idle.Broadcast()
	}
}

// takeOver points the engine at db; no query runs. Results the cache holds are another DB's,
// so it is emptied, unless the engine had no owner and the cache is db's own.
func (e *engineState) takeOver(db *DB) {
	prev := e.owner
	e.owner = db
	e.setHooks(db)
	if prev != nil || e.cacheDB != db {
		promql.ResetRollupResultCache()
	}
	netstorage.InitTmpBlocksDir(db.tmpPath())
	setEngineLimits(db.opts)
}

// setHooks points VictoriaMetrics' storage hooks at db; nil: at a closed store.
func (e *engineState) setHooks(db *DB) {
	if db == nil {
		vmstorage.VMSelectAPI = nil
		vmstorage.GetSearch = func(*querytracer.Tracer, *storage.SearchQuery, uint64) (*storage.Search, int, error) {
			return nil, 0, ErrClosed
		}
		vmstorage.PutSearch = putSearch
		return
	}
	api := vmSelect{db: db}
	vmstorage.VMSelectAPI = api
	vmstorage.GetSearch = api.getSearch
	vmstorage.PutSearch = putSearch
}

// setEngineLimits sets the engine's per-query bounds to opts': samples and time. (Series are
// bounded by vmSelect.)
func setEngineLimits(opts Options) {
	for name, value := range map[string]string{
		"search.maxSamplesPerQuery":  strconv.FormatInt(opts.MaxSamplesPerQuery, 10),
		"search.maxUniqueTimeseries": strconv.Itoa(opts.MaxSeriesPerQuery),
		"search.maxQueryDuration":    opts.MaxQueryDuration.String(),
	} {
		if err := flag.CommandLine.Set(name, value); err != nil {
			panic(fmt.Sprintf("BUG: cannot set VictoriaMetrics flag -%s=%s: %s", name, value, err))
		}
	}
}

// query runs fn with db open and the engine reading db.
func (db *DB) withEngine(fn func() error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	engine.acquire(db)
	defer engine.release()
	return fn()
}

// ErrBadQuery is wrapped by the errors of a query that cannot be evaluated as given: an
// expression that does not parse, a bad parameter. The caller's fault (HTTP 400 bad_data).
var ErrBadQuery = errors.New("bad query")

// badQueryError is an error of ErrBadQuery's kind; its text is the reason only.
type badQueryError struct{ err error }

func (e *badQueryError) Error() string        { return e.err.Error() }
func (e *badQueryError) Unwrap() error        { return e.err }
func (e *badQueryError) Is(target error) bool { return target == ErrBadQuery }

// ValidateExpr reports whether expr is a MetricsQL (or PromQL) expression the engine can
// evaluate; the error, of ErrBadQuery's kind, says where it does not parse.
func ValidateExpr(expr string) error {
	if strings.TrimSpace(expr) == "" {
		return &badQueryError{errors.New("empty expression")}
	}
	if _, err := metricsql.Parse(expr); err != nil {
		return &badQueryError{err}
	}
	return nil
}

// Query evaluates the MetricsQL expression expr at the instant at, as Prometheus' instant
// query: each returned Series has one point, at at. A series selector looks back for its
// newest sample as Prometheus does (at most 5 minutes; less when samples come more often).
// Samples become searchable within a few seconds of Write (at once after Flush). The result is
// sorted by name and labels unless expr orders it itself (sort, topk, ...); Name is the
// metric name, empty when the expression dropped it (rate, sum, ...).
//
// It is bounded as the HTTP API is: more than Options.MaxSeriesPerQuery series or
// MaxSamplesPerQuery samples read is a *LimitError; longer than Options.MaxQueryDuration, or
// past ctx's deadline if sooner, an error wrapping context.DeadlineExceeded (the engine checks
// it between steps of its work, not instantly). An expression that does not parse is an error
// of ErrBadQuery's kind. Safe for concurrent use.
func (db *DB) Query(ctx context.Context, expr string, at time.Time) ([]Series, error) {
	if err := ValidateExpr(expr); err != nil {
		return nil, err
	}
	ms := at.UnixMilli()
	return db.exec(ctx, expr, ms, ms, 5*60*1000, true)
}

// QueryRangeExpr evaluates the MetricsQL expression expr at start, start+step, ... up to end,
// as Prometheus' range query, and returns each series with its points (steps where it has no
// value are left out; so are series with none). Bounds and errors are Query's; step must be
// positive, end not before start and (end-start)/step below MaxPointsPerSeries.
func (db *DB) QueryRangeExpr(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]Series, error) {
	if err := ValidateExpr(expr); err != nil {
		return nil, err
	}
	if err := checkRange(start, end, step); err != nil {
		return nil, err
	}
	return db.exec(ctx, expr, start.UnixMilli(), end.UnixMilli(), step.Milliseconds(), false)
}

// checkRange validates a range query's times, as QueryRange does.
func checkRange(start, end time.Time, step time.Duration) error {
	if step < time.Millisecond {
		return &badQueryError{fmt.Errorf("step must be positive, got %s", step)}
	}
	if end.Before(start) {
		return &badQueryError{fmt.Errorf("end %s is before start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))}
	}
	if n := end.Sub(start)/step + 1; n > MaxPointsPerSeries {
		return &badQueryError{fmt.Errorf("range/step gives %d points per series, more than %d: use a larger step", n, MaxPointsPerSeries)}
	}
	return nil
}

func (db *DB) exec(ctx context.Context, expr string, start, end, step int64, instant bool) ([]Series, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("query stopped: %w", err)
	}
	timeout := db.opts.MaxQueryDuration
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	var out []Series
	err := db.withEngine(func() error {
		ec := &promql.EvalConfig{
			Start:              start,
			End:                end,
			Step:               step,
			MaxPointsPerSeries: MaxPointsPerSeries,
			Deadline:           searchutil.NewDeadline(time.Now(), timeout, ""),
			MayCache:           true,
			RoundDigits:        100,
		}
		ec.QueryStats = promql.NewQueryStats(expr, nil, ec)
		rs, err := promql.Exec(nil, ec, expr, instant)
		if err != nil {
			return err
		}
		out = make([]Series, 0, len(rs))
		for i := range rs {
			r := &rs[i]
			s := seriesFromMetricName(&r.MetricName)
			s.Points = make([]Point, 0, len(r.Values))
			for j, v := range r.Values {
				if math.IsNaN(v) {
					continue
				}
				s.Points = append(s.Points, Point{Timestamp: r.Timestamps[j], Value: v})
			}
			if len(s.Points) > 0 {
				out = append(out, *s)
			}
		}
		return nil
	})
	if err != nil {
		return nil, db.engineError(err, timeout)
	}
	return out, nil
}

// engineError turns an error of VictoriaMetrics' engine into ours: its limits into a
// *LimitError naming redwatch's bound (its own text names VictoriaMetrics' flags), its
// deadline into context.DeadlineExceeded, a bad parameter or expression into ErrBadQuery's
// kind.
func (db *DB) engineError(err error, timeout time.Duration) error {
	msg := err.Error()
	var se *httpserver.ErrorWithStatusCode
	switch {
	case errors.Is(err, ErrClosed), errors.Is(err, ErrBadQuery):
		return err
	case strings.Contains(msg, "the number of matching timeseries exceeds"):
		return &LimitError{Bound: "series", Limit: int64(db.opts.MaxSeriesPerQuery), Hint: hintSeries}
	case strings.Contains(msg, "-search.maxSamplesPerQuery"):
		return &LimitError{Bound: "samples", Limit: db.opts.MaxSamplesPerQuery, Hint: hintQuery}
	case strings.Contains(msg, "timeout exceeded"), strings.Contains(msg, "deadline exceeded"),
		errors.Is(err, storage.ErrDeadlineExceeded):
		return fmt.Errorf("the query ran longer than %s (the time limit per query): %w", timeout.Round(time.Millisecond), context.DeadlineExceeded)
	case errors.As(err, &se) && se.StatusCode == 400:
		return &badQueryError{se.Err}
	}
	return err
}
