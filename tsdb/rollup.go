package tsdb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
)

// Long ranges read rollups instead of raw samples. Open-source VictoriaMetrics storage has no
// downsampling, so tsdb keeps its own: for every series and every 5-minute bucket (E-5m, E] it
// stores, in a second storage, the bucket's min, max, sum, count, last value and counter
// increase. A 30-day chart then reads 8,640 buckets per series instead of 259,200 raw samples
// at a 10 s interval.
//
// Each raw series has exactly one rollup series, with the same name and labels: what costs
// memory in VictoriaMetrics is the number of series (index, caches), not samples. The six
// aggregates of the bucket ending at E (a multiple of RollupStep in unix ms) are packed as six
// samples at consecutive milliseconds, in rollupAggs order: min at E-5 ms, max at E-4 ms, sum,
// count, last, and inc at E itself (rollupTimestamp). That is version 0 of the bucket; a bucket
// rolled up again (it received samples after its rollup: see "Late samples" below) is written as version
// k = 1, 2, ... in the six milliseconds 6k before those (E-6k-5 .. E-6k), and a reader takes
// the highest whole version, so the rows of an older version, which storage keeps (it never
// overwrites), are never mixed with or added to the newer ones. No other millisecond holds a
// sample. Storage keeps these timestamps exactly: tsdb writes with 64 precision bits and never
// enables deduplication (-dedup.minScrapeInterval, which only VictoriaMetrics' app/vmstorage
// sets). A reader uses a version only when all six samples are present, so a crash in the
// middle of a write loses that version rather than corrupting it, and a range read starts
// 6*rollupVersions ms before the first bucket end it needs.
//
// Storage turns the values of a block into int64 mantissas with one shared decimal exponent, so
// the six aggregates of a bucket share one too. Integers stay exact; a fractional aggregate
// far below the bucket's largest one (usually sum) loses precision: a relative error of about
// 1e-11 at a ratio of 1e7, 1e-9 at 1e9, 1e-7 at 1e11, against about 1e-12 for a value alone.
//
// A compactor (RunRollups) rolls up each bucket about a minute after it ends and persists a
// watermark, so a restart neither skips nor repeats a bucket; buckets at or before the
// watermark that receive samples later (a backfill, an agent catching up) are noted on write
// and rolled up again by the next pass (see "Late samples" below). QueryRange uses rollups for steps of 5
// minutes or more, up to the watermark, and raw samples after it.
//
// The directory and watermark names carry the on-disk format. Open removes the rollups of an
// older format (one series per aggregate, labelled __rollup__, in rollup-5m); they are derived
// data, rebuilt from raw samples for the last day by the first RollupUntil, as on any first run.

// RollupStep is the width of a rollup bucket.
const RollupStep = 5 * time.Minute

// rollupDelay is how long after a bucket ends it is rolled up: samples are searchable 2-4 s
// after they are written, and samplers stamp a round when it starts.
const rollupDelay = time.Minute

// Rollup files under Options.Path. A change of the on-disk format takes new names, and Open
// removes the files of older formats (listed in oldRollupPaths).
const (
	rollupDir           = "rollup-5m-packed"
	rollupWatermarkFile = rollupDir + ".watermark"
)

// oldRollupPaths are the rollup files of older formats, relative to Options.Path.
func oldRollupPaths() []string {
	return []string{"rollup-5m", "rollup-5m.watermark", "rollup-5m.watermark.tmp"}
}

var rollupAggs = [...]string{"min", "max", "sum", "count", "last", "inc"}

const (
	aggMin = iota
	aggMax
	aggSum
	aggCount
	aggLast
	aggInc
)

// rollupVersions bounds how many times one bucket can be rolled up: its versions take the
// 6*rollupVersions ms before its end.
const rollupVersions = 1000

// rollupTimestamp is the unix-ms timestamp at which aggregate agg (an index into rollupAggs) of
// the bucket ending at end is stored: inc at end, min len(rollupAggs)-1 ms before it.
func rollupTimestamp(end int64, agg int) int64 {
	return end - int64(len(rollupAggs)-1-agg)
}

// rollupVersionTimestamp is rollupTimestamp for version v of the bucket (0 is the first).
func rollupVersionTimestamp(end int64, agg, v int) int64 {
	return rollupTimestamp(end, agg) - int64(v*len(rollupAggs))
}

// rollupSlot says which bucket, version and aggregate the sample at ts belongs to; ok is false
// for a timestamp in no slot.
func rollupSlot(ts int64) (end int64, version, agg int, ok bool) {
	step := RollupStep.Milliseconds()
	end = ts / step * step
	if end < ts {
		end += step
	}
	o := end - ts
	if o >= int64(rollupVersions*len(rollupAggs)) {
		return 0, 0, 0, false
	}
	n := int64(len(rollupAggs))
	return end, int(o / n), len(rollupAggs) - 1 - int(o%n), true
}

// bucketStats is one series' rollup of one bucket.
type bucketStats struct {
	v [len(rollupAggs)]float64
}

// rollupBucket summarises pts (sorted) within (start, end]; prev is the last point at or
// before start, if any (prevOK), the baseline of the counter increase.
func rollupBucket(pts []Point, start, end int64, prev Point, prevOK bool) (bucketStats, bool) {
	var b bucketStats
	n := 0
	last := prev
	have := prevOK
	for _, p := range pts {
		if p.Timestamp <= start || p.Timestamp > end {
			continue
		}
		if n == 0 {
			b.v[aggMin], b.v[aggMax] = p.Value, p.Value
		}
		b.v[aggMin] = math.Min(b.v[aggMin], p.Value)
		b.v[aggMax] = math.Max(b.v[aggMax], p.Value)
		b.v[aggSum] += p.Value
		if have {
			d := p.Value - last.Value
			if d < 0 {
				d = p.Value // counter reset
			}
			b.v[aggInc] += d
		}
		last, have = p, true
		n++
	}
	if n == 0 {
		return b, false
	}
	b.v[aggCount] = float64(n)
	b.v[aggLast] = last.Value
	return b, true
}

func (db *DB) watermarkPath() string { return filepath.Join(db.opts.Path, rollupWatermarkFile) }

// removeOldRollups deletes the rollup files of older formats under dir. Failing to is no reason
// not to open: they are never read, and only take disk space.
func removeOldRollups(dir string, log *slog.Logger) {
	for _, name := range oldRollupPaths() {
		p := filepath.Join(dir, name)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			log.Warn("cannot remove rollups of an older format", "path", p, "err", err)
			continue
		}
		log.Info("removed rollups of an older format; they are rebuilt from raw samples", "path", p)
	}
}

func (db *DB) loadWatermark() (int64, error) {
	b, err := os.ReadFile(db.watermarkPath())
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cannot read rollup watermark: %w", err)
	}
	w, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("rollup watermark %s is corrupt: %w", db.watermarkPath(), err)
	}
	return w, nil
}

func (db *DB) saveWatermark(w int64) error {
	if err := writeFileSynced(db.watermarkPath(), []byte(strconv.FormatInt(w, 10)+"\n")); err != nil {
		return fmt.Errorf("cannot save rollup watermark: %w", err)
	}
	return nil
}

// writeFileSynced replaces path with data through a synced temporary file and a rename, so a
// crash leaves the old content or the new one.
func writeFileSynced(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// RollupWatermark is the end of the newest rolled-up bucket (zero before the first run).
func (db *DB) RollupWatermark() time.Time {
	w := db.watermark.Load()
	if w == 0 {
		return time.Time{}
	}
	return time.UnixMilli(w)
}

// RunRollups rolls up buckets as they complete until ctx is done. Start it once per DB.
func (db *DB) RunRollups(ctx context.Context) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		if err := db.RollupUntil(ctx, time.Now()); err != nil && ctx.Err() == nil {
			db.log.Warn("cannot compute rollups", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RollupUntil rolls up every bucket that ended at least a minute before now and is not rolled
// up yet (at most Options.RollupCatchUp, a day by default, on the first run or after a long
// stop), then rolls up again the buckets at or before the watermark that received samples
// since their rollup (see "Late samples" below). It is safe to call concurrently with writes and reads, but not
// with itself.
func (db *DB) RollupUntil(ctx context.Context, now time.Time) error {
	step := RollupStep.Milliseconds()
	target := (now.Add(-rollupDelay).UnixMilli() / step) * step
	w := db.watermark.Load()
	oldest := target - cmp.Or(db.opts.RollupCatchUp, 24*time.Hour).Milliseconds()
	if w < oldest {
		w = oldest
	}
	saved := w
	if w+step <= target {
		// From here on a write into a bucket up to target is noted as late (Write adds rows,
		// then looks at the horizon), and what was written before is searchable now.
		db.late.horizon.Store(max(db.late.horizon.Load(), target))
		db.Flush()
		if first, ok := db.firstRawBucket(); ok && first > w && !db.ReadOnly() {
			// The buckets before hold no sample: skip their searches, which on a first
			// start cost one index lookup per series per bucket of the day. Those buckets
			// are rolled up, vacuously: the watermark moves past them as if searched (not
			// while read-only, when rollups pause).
			w = min(first, target)
			if w > db.watermark.Load() {
				db.watermark.Store(w)
			}
		}
	}
	// save makes the rollups written so far durable, then records them in the watermark file,
	// so that a kill -9 never leaves a watermark past rollups it lost. While read-only it writes
	// nothing: a restart before space returns rolls those buckets up again.
	save := func() error {
		if cur := db.watermark.Load(); cur > saved && !db.ReadOnly() {
			if !db.persist(db.rollup) {
				return ErrClosed
			}
			if err := db.saveWatermark(cur); err != nil {
				return err
			}
			saved = cur
		}
		return nil
	}
	for b := w; b+step <= target; b += step {
		if err := ctx.Err(); err != nil {
			return errors.Join(err, save())
		}
		if db.ReadOnly() {
			return save() // paused; the next pass after space returns goes on from here
		}
		t0 := time.Now()
		if err := db.rollupOne(ctx, b, b+step, nil); err != nil {
			return errors.Join(fmt.Errorf("bucket ending %s: %w", time.UnixMilli(b+step).UTC().Format(time.RFC3339), err), save())
		}
		if d := time.Since(t0); d > slowRollup {
			db.log.Info("slow rollup of a bucket", "bucket_end", time.UnixMilli(b+step).UTC().Format(time.RFC3339), "duration_ms", d.Milliseconds())
		}
		db.watermark.Store(b + step)
		if (b+step-w)%(rollupSaveEvery*step) == 0 {
			if err := save(); err != nil {
				return err
			}
		}
	}
	if err := save(); err != nil {
		return err
	}
	if db.ReadOnly() {
		return nil
	}
	return db.rollupLate(ctx)
}

// noteOldest records the oldest timestamp of rows, which Write is about to add to raw storage.
func (db *DB) noteOldest(rows []storage.MetricRow) {
	if !db.emptyAtOpen {
		return
	}
	oldest := int64(math.MaxInt64)
	for i := range rows {
		oldest = min(oldest, rows[i].Timestamp)
	}
	for {
		cur := db.oldestRaw.Load()
		if oldest >= cur || db.oldestRaw.CompareAndSwap(cur, oldest) {
			return
		}
	}
}

// firstRawBucket is the start of the first bucket that can hold a raw sample, when that is
// known: raw storage was empty at Open, so every sample in it came through Write since, and
// noteOldest saw it. ok is false when storage held samples at Open. With no sample written
// yet it returns math.MaxInt64 (no bucket holds one).
//
// RollupUntil calls it after moving the late horizon: a Write whose rows it does not count
// here noted them (noteOldest) after that load, so it looked at the new horizon after its
// AddRows and noted its buckets as late (noteLate).
func (db *DB) firstRawBucket() (start int64, ok bool) {
	if !db.emptyAtOpen {
		return 0, false
	}
	oldest := db.oldestRaw.Load()
	if oldest == math.MaxInt64 {
		return math.MaxInt64, true
	}
	step := RollupStep.Milliseconds()
	// The bucket (b, b+step] holding oldest, as noteLate computes it (timestamps are positive).
	return (oldest+step-1)/step*step - step, true
}

// rollupSaveEvery is how many buckets a catch-up rolls up between two saves of the watermark.
const rollupSaveEvery = 12

// rollupPassTimeout bounds one storage search of the compactor (one bucket, or the versions of
// one late bucket). It is no expected duration: a bucket of a million series takes tens of
// seconds. Searches without a deadline of their own get 30 s (see deadline), which a bucket of
// that size exceeds, so every pass would time out and start again from nothing, forever. Stops
// come from ctx instead, checked every few hundred blocks, so shutdown does not wait for a pass.
const rollupPassTimeout = 10 * time.Minute

// slowRollup: a bucket whose rollup takes longer is logged with its duration.
const slowRollup = 5 * time.Second

// rollupOne rolls up the bucket (start, end] of every series, as version 0 or, for the series
// in next (keyed by rollupKey), as the version next holds.
func (db *DB) rollupOne(ctx context.Context, start, end int64, next map[string]int) error {
	ctx, cancel := context.WithTimeout(ctx, rollupPassTimeout)
	defer cancel()
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	db.rollupScans.Add(1)
	tfss := allSeriesFilters()
	// Read one lookback before the bucket for the counter baseline.
	tr := storage.TimeRange{MinTimestamp: start - Lookback.Milliseconds(), MaxTimestamp: end}
	var rb rowBuilder
	var labels []Label
	err := scan(ctx, db.s, tfss, tr, math.MaxInt32, func(mn *storage.MetricName, pts []Point) error {
		var prev Point
		prevOK := false
		for _, p := range pts {
			if p.Timestamp > start {
				break
			}
			prev, prevOK = p, true
		}
		b, ok := rollupBucket(pts, start, end, prev, prevOK)
		if !ok {
			return nil
		}
		labels = labels[:0]
		for _, t := range mn.Tags {
			labels = append(labels, Label{Name: string(t.Key), Value: string(t.Value)})
		}
		v := 0
		if next != nil {
			v = next[rollupKey(mn)]
			if v >= rollupVersions {
				return nil // rolled up too often already; rollupLate has said so
			}
		}
		rb.addBucket(string(mn.MetricGroup), labels, end, v, &b)
		if len(rb.mrs) >= 6000 {
			db.rollup.AddRows(rb.mrs, 64)
			rb.reset()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(rb.mrs) > 0 {
		db.rollup.AddRows(rb.mrs, 64)
	}
	return nil
}

// addBucket adds the rows of version v of one series' bucket ending at end, packed as
// rollupVersionTimestamp says.
func (rb *rowBuilder) addBucket(name string, labels []Label, end int64, v int, b *bucketStats) {
	rb.add(name, labels, rollupVersionTimestamp(end, 0, v), b.v[0])
	for i := 1; i < len(rollupAggs); i++ {
		rb.addSameSeries(rollupVersionTimestamp(end, i, v), b.v[i])
	}
}

// rollupKey identifies a series in both storages: its metric name as storage canonicalises it
// (labels sorted).
func rollupKey(mn *storage.MetricName) string {
	s := seriesFromMetricName(mn)
	return s.Name + "\x00" + SeriesKey(s.Labels)
}

// rollupSeries is one series' whole buckets in time order, each aggregate aligned by index
// with ts (the bucket ends).
type rollupSeries struct {
	s      Series
	pts    []Point // as stored, until decode
	merged bool    // pts came in more than one run and need sorting
	ts     []int64
	agg    [len(rollupAggs)][]float64
}

// rollupGenLabel names a label no series has. VictoriaMetrics caches, per index, the series a
// set of filters matched over whole days, and resets that cache when new index entries are
// flushed: at once on a final flush (persist), but up to 10 s later when its own 1-second
// flusher got there first. A pass that rolled up buckets for series new to the rollup storage
// then left, for up to 10 s, the empty answer cached by a query asked before it: a 24 h chart
// at step 300 s missed a backfill just rolled up (TestBackfillIsRolledUp, 1 run in 2 under
// -race). So every read of the rollup storage adds rollupGenLabel!="<generation>", which every
// series matches, and each persist of the rollup storage starts a new generation: no read after
// a pass can hit an answer cached before it.
const rollupGenLabel = "__redwatch_rollup_generation"

// rollupFilters returns tfss with the generation filter added to each group (see
// rollupGenLabel). It changes tfss, which callers build for one read.
func (db *DB) rollupFilters(tfss []*storage.TagFilters) []*storage.TagFilters {
	gen := []byte(strconv.FormatUint(db.rollupGen.Load(), 10))
	for _, tfs := range tfss {
		if err := tfs.Add([]byte(rollupGenLabel), gen, true, false); err != nil {
			panic(fmt.Sprintf("BUG: cannot add the rollup generation filter: %s", err))
		}
	}
	return tfss
}

// readRollups returns the rolled-up buckets ending in (from, to] of the series matching sel.
func (db *DB) readRollups(ctx context.Context, sel *Selector, from, to int64) (map[string]*rollupSeries, error) {
	tfss, err := sel.tagFilters()
	if err != nil {
		return nil, err
	}
	tfss = db.rollupFilters(tfss)
	// The first bucket ending after from has its versions' slots up to 6*rollupVersions-1 ms
	// before its end.
	tr := storage.TimeRange{MinTimestamp: from + 1 - int64(rollupVersions*len(rollupAggs)-1), MaxTimestamp: to}
	out := map[string]*rollupSeries{}
	err = scan(ctx, db.rollup, tfss, tr, db.opts.MaxSeriesPerQuery, func(mn *storage.MetricName, pts []Point) error {
		s := seriesFromMetricName(mn)
		key := s.Name + "\x00" + SeriesKey(s.Labels)
		rs := out[key]
		if rs == nil {
			rs = &rollupSeries{s: *s}
			out[key] = rs
		} else {
			// The series got a new TSID in a later monthly partition (storage does so when
			// its TSID cache has forgotten the series), and a bucket may straddle the two.
			rs.merged = true
		}
		rs.pts = append(rs.pts, pts...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for key, rs := range out {
		if rs.merged {
			rs.pts = sortDedup(rs.pts)
		}
		rs.decode(rs.pts, from, to)
		rs.pts = nil
		if len(rs.ts) == 0 {
			delete(out, key)
		}
	}
	return out, nil
}

// decode appends to rs the buckets ending in (from, to] packed in pts (sorted by time, unique).
// Version k of bucket E is whole when all its slots E-6k-5..E-6k ms are present: then they are
// len(rollupAggs) consecutive points spanning 5 ms, the first in the min slot, aggregate i at
// position i. Versions come in time order highest first, so the first whole one of a bucket is
// its newest and the rest of the bucket is skipped. The points of a version missing an
// aggregate (a crash can interrupt a bucket's write) are skipped, and so would be points in no
// slot, which are never written.
func (rs *rollupSeries) decode(pts []Point, from, to int64) {
	const n = len(rollupAggs)
	rs.ts = slices.Grow(rs.ts, len(pts)/n)
	for i := range rs.agg {
		rs.agg[i] = slices.Grow(rs.agg[i], len(pts)/n)
	}
	done := int64(math.MinInt64) // the bucket taken last: its older versions are skipped
	for i := 0; i+n <= len(pts); {
		end, _, agg, ok := rollupSlot(pts[i].Timestamp)
		if !ok || agg != 0 || end == done || pts[i+n-1].Timestamp-pts[i].Timestamp != int64(n-1) {
			i++
			continue
		}
		done = end
		if end > from && end <= to {
			rs.ts = append(rs.ts, end)
			for a := range rs.agg {
				rs.agg[a] = append(rs.agg[a], pts[i+a].Value)
			}
		}
		i += n
	}
}

// queryRollups answers q (Step >= RollupStep) from rollups up to the watermark and from raw
// samples after it. The step is rounded up to whole buckets and the start to a bucket edge,
// so every step covers whole buckets. Steps ending at or before the watermark are read from
// rollups; the steps after it, and the newest unfinished step (the last grid step, end] when
// end is off the grid, from raw samples: at most one step and a lookback of raw samples
// before the watermark are read.
func (db *DB) queryRollups(ctx context.Context, q RangeQuery, agg Agg) ([]Series, error) {
	bucket := RollupStep.Milliseconds()
	step := (q.Step.Milliseconds() + bucket - 1) / bucket * bucket
	start := (q.Start.UnixMilli() + bucket - 1) / bucket * bucket
	end := q.End.UnixMilli()
	lookback := max(step, Lookback.Milliseconds())
	last := lastGridStep(start, end, step) // may be before start when the range is short
	w := db.watermark.Load()

	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return nil, ErrClosed
	}
	var rolled map[string]*rollupSeries
	var err error
	if w >= start && last >= start {
		rolled, err = db.readRollups(ctx, q.Selector, start-step-lookback, min(w, last))
	}
	db.mu.RUnlock()
	if err != nil {
		return nil, err
	}

	byKey := map[string]*Series{}
	var order []string
	for key, rs := range rolled {
		s := rs.s
		s.Points = aggregateRollups(rs, start, min(w, last), step, lookback, agg)
		byKey[key] = &s
		order = append(order, key)
	}
	// After the watermark, and the unfinished step: raw samples, aggregated the same way.
	firstRaw := start
	if w >= start {
		firstRaw = start + ((w-start)/step+1)*step
	}
	if firstRaw <= end || last < end {
		from := min(firstRaw-step, last) - lookback
		raw, err := db.Raw(ctx, q.Selector, time.UnixMilli(from), time.UnixMilli(end))
		if err != nil {
			return nil, err
		}
		for _, s := range raw {
			pts := aggregate(s.Points, firstRaw, end, step, lookback, agg)
			key := s.Name + "\x00" + SeriesKey(s.Labels)
			if have := byKey[key]; have != nil {
				have.Points = append(have.Points, pts...)
				continue
			}
			s.Points = pts
			byKey[key] = &s
			order = append(order, key)
		}
	}
	out := make([]Series, 0, len(order))
	for _, k := range order {
		if s := byKey[k]; len(s.Points) > 0 {
			out = append(out, *s)
		}
	}
	sortSeries(out)
	return out, nil
}

// aggregateRollups is aggregate for buckets: each step t combines the buckets stamped in
// (t-step, t], which are exactly the raw samples aggregate would see.
func aggregateRollups(rs *rollupSeries, start, end, step, lookback int64, agg Agg) []Point {
	ts := rs.ts
	out := make([]Point, 0, min(int((end-start)/step)+1, len(ts)+1))
	lo, hi := 0, 0
	for t := start; t <= end; t += step {
		for hi < len(ts) && ts[hi] <= t {
			hi++
		}
		for lo < hi && ts[lo] <= t-step {
			lo++
		}
		if hi == 0 || ts[hi-1] <= t-lookback {
			continue
		}
		lastV := rs.agg[aggLast][hi-1]
		var v float64
		switch agg {
		case AggLast:
			v = lastV
		case AggMin, AggMax, AggAvg:
			if lo == hi {
				v = lastV
				break
			}
			sum, n := 0.0, 0.0
			v = rs.agg[aggMin][lo]
			if agg == AggMax {
				v = rs.agg[aggMax][lo]
			}
			for i := lo; i < hi; i++ {
				sum += rs.agg[aggSum][i]
				n += rs.agg[aggCount][i]
				v = pick(agg, v, rs.agg[aggMin][i], rs.agg[aggMax][i])
			}
			if agg == AggAvg {
				v = sum / n
			}
		case AggRate:
			if lo == hi {
				continue
			}
			inc, n := 0.0, 0.0
			for i := lo; i < hi; i++ {
				inc += rs.agg[aggInc][i]
				n += rs.agg[aggCount][i]
			}
			if n < 2 && (lo == 0 || ts[lo-1] <= t-step-lookback) {
				// One sample and none before it within the lookback: a rate is not known
				// (aggregateWindow gives none either), not 0.
				continue
			}
			v = inc / (float64(step) / 1e3)
		default:
			panic("BUG: unknown aggregate " + string(agg))
		}
		out = append(out, Point{Timestamp: t, Value: v})
	}
	return out
}

func pick(agg Agg, cur, mn, mx float64) float64 {
	if agg == AggMax {
		return math.Max(cur, mx)
	}
	return math.Min(cur, mn)
}

// writeRollupSamples writes samples straight into the rollup storage (tests and benchmarks use
// it to build months of rollups quickly). Each sample must sit in its aggregate's slot
// (rollupTimestamp).
func (db *DB) writeRollupSamples(samples []Sample) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	var rb rowBuilder
	for _, s := range samples {
		rb.add(s.Name, s.Labels, s.Timestamp, s.Value)
	}
	db.rollup.AddRows(rb.mrs, 64)
	return nil
}

// Late samples. A bucket is rolled up once, a minute after it ends; samples that reach storage
// later for a bucket at or before the rollup horizon (a remote-write backfill, an agent
// catching up after an outage, a slow writer racing the compactor) would never be counted.
// Write notes their buckets (noteLate), in memory and in Path/rollup-5m-packed.late, so a
// restart does not forget them; the next RollupUntil rolls each one up again, for every series,
// as the next version of the bucket (see the format above), and forgets it unless it was noted
// again meanwhile. Until then, steps over such a bucket read its older rollup.

// rollupLateFile lists the buckets to roll up again, one unix-ms bucket end a line.
const rollupLateFile = rollupDir + ".late"

// lateRollupBudget bounds the time one RollupUntil spends on late buckets; the rest wait for
// the next pass, so a large backfill does not hold back new buckets.
const lateRollupBudget = 20 * time.Second

// lateBuckets is the set of buckets to roll up again. The zero value is ready; the file is read
// on first use.
type lateBuckets struct {
	// horizon is the end of the newest bucket being or already rolled up (unix ms): a sample
	// at or before it, written after it was set, is late.
	horizon atomic.Int64

	loadOnce sync.Once
	mu       sync.Mutex
	ends     map[int64]uint64 // bucket end -> sequence number of its newest note
	seq      uint64
}

func (db *DB) latePath() string { return filepath.Join(db.opts.Path, rollupLateFile) }

// loadLate reads the persisted late buckets once, merging them into those noted so far.
func (db *DB) loadLate() {
	l := &db.late
	l.loadOnce.Do(func() {
		b, err := os.ReadFile(db.latePath())
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				db.log.Warn("cannot read the buckets to roll up again", "path", db.latePath(), "err", err)
			}
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, line := range strings.Fields(string(b)) {
			end, err := strconv.ParseInt(line, 10, 64)
			if err != nil || end%RollupStep.Milliseconds() != 0 {
				db.log.Warn("ignoring a corrupt line in the buckets to roll up again", "path", db.latePath(), "line", line)
				continue
			}
			if _, ok := l.ends[end]; !ok {
				l.note(end)
			}
		}
	})
}

// note marks the bucket ending at end; l.mu is held.
func (l *lateBuckets) note(end int64) {
	if l.ends == nil {
		l.ends = map[int64]uint64{}
	}
	l.seq++
	l.ends[end] = l.seq
}

// saveLateLocked persists the set of late buckets; db.late.mu is held.
func (db *DB) saveLateLocked() {
	ends := make([]int64, 0, len(db.late.ends))
	for e := range db.late.ends {
		ends = append(ends, e)
	}
	slices.Sort(ends)
	var b []byte
	for _, e := range ends {
		b = strconv.AppendInt(b, e, 10)
		b = append(b, '\n')
	}
	if err := writeFileSynced(db.latePath(), b); err != nil {
		db.log.Warn("cannot save the buckets to roll up again; a restart forgets them", "path", db.latePath(), "err", err)
	}
}

// noteLate notes the buckets of rows (just added to raw storage) that end at or before the
// rollup horizon: they are rolled up again by the next RollupUntil. Write calls it after
// AddRows, so a row it does not note was added before the horizon moved past its bucket, and
// RollupUntil, which flushes after moving the horizon, sees it.
func (db *DB) noteLate(rows []storage.MetricRow) {
	h := max(db.late.horizon.Load(), db.watermark.Load())
	if h == 0 {
		return // nothing rolled up yet
	}
	step := RollupStep.Milliseconds()
	oldest := h - db.opts.Retention.Milliseconds() // storage drops older samples
	var late map[int64]struct{}
	prev := int64(math.MinInt64)
	for i := range rows {
		ts := rows[i].Timestamp
		if ts > h || ts <= oldest {
			continue
		}
		end := (ts + step - 1) / step * step
		if end == prev {
			continue
		}
		prev = end
		if late == nil {
			late = map[int64]struct{}{}
		}
		late[end] = struct{}{}
	}
	if len(late) == 0 {
		return
	}
	db.loadLate()
	l := &db.late
	l.mu.Lock()
	defer l.mu.Unlock()
	added := false
	for end := range late {
		if _, ok := l.ends[end]; !ok {
			added = true
		}
		l.note(end)
	}
	if added {
		db.saveLateLocked()
	}
}

// LateBuckets is how many rolled-up buckets received samples since and wait to be rolled up
// again.
func (db *DB) LateBuckets() int {
	db.loadLate()
	db.late.mu.Lock()
	defer db.late.mu.Unlock()
	return len(db.late.ends)
}

// rollupLate rolls up again the noted buckets at or before the watermark, oldest first, within
// lateRollupBudget. It stops when the store turns read-only, and then forgets none of them.
func (db *DB) rollupLate(ctx context.Context) error {
	db.loadLate()
	type noted struct {
		end int64
		seq uint64
	}
	w := db.watermark.Load()
	l := &db.late
	l.mu.Lock()
	var todo []noted
	for end, seq := range l.ends {
		if end <= w {
			todo = append(todo, noted{end, seq})
		}
	}
	l.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	slices.SortFunc(todo, func(a, b noted) int { return cmp.Compare(a.end, b.end) })
	step := RollupStep.Milliseconds()
	t0 := time.Now()
	var done []noted
	var err error
	for _, n := range todo {
		if err = ctx.Err(); err != nil || time.Since(t0) > lateRollupBudget || db.ReadOnly() {
			break
		}
		var next map[string]int
		if next, err = db.nextVersions(ctx, n.end); err != nil {
			break
		}
		if err = db.rollupOne(ctx, n.end-step, n.end, next); err != nil {
			err = fmt.Errorf("late bucket ending %s: %w", time.UnixMilli(n.end).UTC().Format(time.RFC3339), err)
			break
		}
		done = append(done, n)
	}
	if len(done) > 0 {
		if db.ReadOnly() {
			// No flush into a nearly full disk (as RollupUntil's save): the buckets stay noted
			// and are rolled up again, as their next version, once space returns.
			return err
		}
		// Durable before the buckets are forgotten, and searchable before the next pass reads
		// the versions it wrote.
		if !db.persist(db.rollup) {
			return ErrClosed
		}
		l.mu.Lock()
		for _, n := range done {
			if l.ends[n.end] == n.seq { // not noted again meanwhile
				delete(l.ends, n.end)
			}
		}
		db.saveLateLocked()
		left := len(l.ends)
		l.mu.Unlock()
		db.log.Info("rolled up buckets again after late samples", "buckets", len(done), "left", left, "duration_ms", time.Since(t0).Milliseconds())
	}
	return err
}

// nextVersions returns, for every series with rollups of the bucket ending at end, the version
// to write next (keyed by rollupKey): one above the highest present, whole or not.
func (db *DB) nextVersions(ctx context.Context, end int64) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(ctx, rollupPassTimeout)
	defer cancel()
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return nil, ErrClosed
	}
	tr := storage.TimeRange{MinTimestamp: end - int64(rollupVersions*len(rollupAggs)-1), MaxTimestamp: end}
	next := map[string]int{}
	full := 0
	err := scan(ctx, db.rollup, db.rollupFilters(allSeriesFilters()), tr, math.MaxInt32, func(mn *storage.MetricName, pts []Point) error {
		_, v, _, ok := rollupSlot(pts[0].Timestamp) // the oldest point is in the highest version
		if !ok {
			return nil
		}
		key := rollupKey(mn)
		next[key] = max(next[key], v+1) // a series may have a TSID per monthly partition
		if v+1 >= rollupVersions {
			full++
		}
		return nil
	})
	if full > 0 {
		db.log.Warn("buckets rolled up too often are not rolled up again", "bucket_end", time.UnixMilli(end).UTC().Format(time.RFC3339), "series", full, "versions", rollupVersions)
	}
	return next, err
}
