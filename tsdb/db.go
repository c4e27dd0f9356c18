// Package tsdb is redwatch's time-series store: a small API over VictoriaMetrics' embedded
// lib/storage. It is the only package of redwatch that imports VictoriaMetrics.
//
// Writes go to storage and to an in-memory table of the latest value of every series, so pages
// and /metrics read current values without touching disk. Reads come in three shapes: list the
// series matching a selector, read raw points, and read a range with a step and a per-step
// aggregate (last, avg, min, max, rate).
package tsdb

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/logger"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/prompb"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
)

// Options configures Open. Zero values pick the documented defaults.
type Options struct {
	// Path is the data directory; created when missing. Required. Raw samples live in
	// Path/raw, rollups in Path/rollup-5m-packed (see rollup.go).
	Path string
	// Retention is how long samples are kept. Default 30 days; VictoriaMetrics keeps at least 1 day.
	Retention time.Duration
	// MemoryAllowedBytes bounds VictoriaMetrics' caches. Default 256 MiB. It is process-wide and
	// takes effect only for the first Open in a process.
	MemoryAllowedBytes int64
	// MinFreeDiskBytes switches storage to read-only below this much free space on Path's
	// filesystem (see readonly.go). Default 64 MiB. VictoriaMetrics' own copy of the limit is
	// process-wide and taken from the first Open in a process.
	MinFreeDiskBytes int64
	// MaxSeries is the ceiling on new series: Write stores samples of at most MaxSeries
	// distinct series per hour and 2*MaxSeries per day, drops the samples of further new series
	// and counts them (SeriesDropped; see limit.go). 0 picks DefaultMaxSeries(MemoryAllowedBytes);
	// a negative value sets no ceiling.
	MaxSeries int
	// MaxSeriesPerQuery caps the series one read may return. Default 30000.
	MaxSeriesPerQuery int
	// MaxSamplesPerQuery caps the samples one read (QueryRange, Export, Raw) takes from
	// storage. Default DefaultMaxSamplesPerQuery (50,000,000).
	MaxSamplesPerQuery int64
	// MaxPointsPerQuery caps the points one QueryRange returns. Default
	// DefaultMaxPointsPerQuery (5,000,000).
	MaxPointsPerQuery int64
	// MaxQueryDuration bounds the time one MetricsQL query (Query, QueryRangeExpr, the Serve*
	// handlers) may take. Default DefaultMaxQueryDuration (30 s).
	MaxQueryDuration time.Duration
	// RollupCatchUp is how far back rollups are built when none exist yet or after a long stop
	// (RollupUntil). Default 24h: older buckets are not rolled up, so queries with a step of
	// 5 minutes or more find nothing there; a longer value costs a longer first rollup.
	RollupCatchUp time.Duration
	// MaxAhead is how far ahead of Now a sample may be; Write refuses later ones (see
	// AcceptWindow). Default DefaultMaxAhead (10 minutes).
	MaxAhead time.Duration
	// Logger receives VictoriaMetrics' own log lines (logger="vm") and ours. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock that decides which series are fresh (see StaleAfter) and which
	// timestamps Write accepts (AcceptWindow). Default time.Now;
	// tests inject a fake one.
	Now func() time.Time
}

// DB is an open store. All methods are safe for concurrent use. Close must be called exactly once.
type DB struct {
	opts   Options
	log    *slog.Logger
	s      *storage.Storage // raw samples, in Path/raw
	rollup *storage.Storage // 5-minute rollups, in Path/rollup-5m-packed (see rollup.go)
	// rollupGen is the rollup storage's read generation, bumped at each of its flushes (see
	// rollupGenLabel).
	rollupGen atomic.Uint64
	latest    *latestTable
	series    *seriesLimiter // the ceiling on new series (limit.go); nil: none

	preloadStop context.CancelFunc // cancels the latest-table preload (startPreload)
	preloadDone chan struct{}      // closed when the preload has returned

	watermark atomic.Int64 // unix ms: every bucket ending at or before it is rolled up
	// emptyAtOpen: raw storage held no sample when Open returned; then oldestRaw bounds what
	// RollupUntil must roll up (see firstRawBucket).
	emptyAtOpen bool
	oldestRaw   atomic.Int64  // unix ms: the oldest timestamp Write added since Open; MaxInt64: none
	rollupScans atomic.Uint64 // bucket searches of rollupOne since Open
	late        lateBuckets   // buckets to roll up again (rollup.go)
	started     time.Time

	// mu guards closed: writes and reads hold it shared, Close holds it exclusively so that
	// no Search is open while storage closes.
	mu     sync.RWMutex
	closed bool

	samplesWritten atomic.Uint64
	rowBuilders    chan *rowBuilder // Write's buffers, kept between calls (getRowBuilder)

	readOnly     atomic.Bool // free disk space below MinFreeDiskBytes (readonly.go)
	disk         diskWatch
	stopPersist  chan struct{} // closed by Close: ends persistLoop (durability.go)
	persistDone  sync.WaitGroup
	persists     atomic.Uint64
	persistNanos atomic.Uint64
}

// ErrClosed is returned by operations on a closed DB.
var ErrClosed = errors.New("tsdb: closed")

// ErrReadOnly is returned by Write while storage is read-only (free disk space below
// Options.MinFreeDiskBytes). Nothing of the call was stored; the caller may retry later.
var ErrReadOnly = errors.New("tsdb: storage is read-only (free disk space is below the limit)")

// vmLog is where VictoriaMetrics' process-wide logger writes; the newest Open sets it.
// lib/logger is global, so this is the one piece of package state tsdb keeps.
var (
	vmInitOnce sync.Once
	vmLog      atomic.Pointer[slog.Logger]
)

const dataFlushInterval = 2 * time.Second

// initVM sets VictoriaMetrics' process-wide knobs. lib/memory panics unless flag.CommandLine is
// parsed, and VM reads its settings from flags on flag.CommandLine; redwatch's own flags live on
// a separate pflag set, so parsing an empty command line here is safe.
func initVM(opts Options) {
	vmInitOnce.Do(func() {
		mustSet := func(name, value string) {
			if err := flag.CommandLine.Set(name, value); err != nil {
				panic(fmt.Sprintf("BUG: cannot set VictoriaMetrics flag -%s=%s: %s", name, value, err))
			}
		}
		mustSet("memory.allowedBytes", strconv.FormatInt(opts.MemoryAllowedBytes, 10))
		mustSet("loggerFormat", "json")
		mustSet("loggerLevel", "INFO")
		mustSet("loggerOutput", "stderr")
		for name, value := range engineFlags() {
			mustSet(name, value)
		}
		if !flag.Parsed() {
			if err := flag.CommandLine.Parse(nil); err != nil {
				panic(fmt.Sprintf("BUG: cannot parse empty VictoriaMetrics command line: %s", err))
			}
		}
		logger.InitNoLogFlags()
		logger.SetOutputForTests(vmLogWriter{})
		storage.SetDataFlushInterval(dataFlushInterval)
		storage.SetFreeDiskSpaceLimit(opts.MinFreeDiskBytes)
		if numRawRowsShards < 1 { // lib/storage sets it at init: 0 is our own variable
			panic("BUG: the go:linkname in vmshards.go no longer names lib/storage.numRawRowsShards")
		}
		numRawRowsShards = 1
	})
	vmLog.Store(opts.Logger.With("logger", "vm"))
}

// Open opens (or creates) the store at opts.Path. It fails when the directory cannot be created
// or is locked by another process.
func Open(opts Options) (*DB, error) {
	if opts.Path == "" {
		return nil, errors.New("tsdb: Options.Path is required")
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.Retention < 24*time.Hour {
		return nil, fmt.Errorf("tsdb: retention %s is below the 1 day minimum", opts.Retention)
	}
	if opts.MemoryAllowedBytes <= 0 {
		opts.MemoryAllowedBytes = 256 << 20
	}
	if opts.MaxSeries == 0 {
		opts.MaxSeries = DefaultMaxSeries(opts.MemoryAllowedBytes)
	}
	if opts.MinFreeDiskBytes <= 0 {
		opts.MinFreeDiskBytes = 64 << 20
	}
	if opts.MaxAhead <= 0 {
		opts.MaxAhead = DefaultMaxAhead
	}
	if opts.MaxSeriesPerQuery <= 0 {
		opts.MaxSeriesPerQuery = 30000
	}
	if opts.MaxSamplesPerQuery <= 0 {
		opts.MaxSamplesPerQuery = DefaultMaxSamplesPerQuery
	}
	if opts.MaxQueryDuration <= 0 {
		opts.MaxQueryDuration = DefaultMaxQueryDuration
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	path, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("cannot resolve storage path %q: %w", opts.Path, err)
	}
	opts.Path = path
	if err := os.MkdirAll(path, 0o750); err != nil {
		return nil, fmt.Errorf("cannot create storage directory: %w", err)
	}
	if err := checkWritable(path); err != nil {
		return nil, err
	}
	rawPath, rollupPath := filepath.Join(path, "raw"), filepath.Join(path, rollupDir)
	if err := checkRoomToCreate(rawPath, rollupPath); err != nil {
		return nil, err
	}
	for _, p := range []string{rawPath, rollupPath} {
		if err := os.MkdirAll(p, 0o750); err != nil {
			return nil, fmt.Errorf("cannot create storage directory: %w", err)
		}
		if err := checkNotLocked(p); err != nil {
			return nil, err
		}
	}
	initVM(opts)

	db := &DB{
		opts:        opts,
		log:         opts.Logger.With("logger", "tsdb"),
		latest:      newLatestTable(),
		started:     time.Now(),
		rowBuilders: make(chan *rowBuilder, pooledRowBuilders),
	}
	// After the lock checks: a process still using the old files would hold raw's lock.
	removeOldRollups(path, db.log)
	w, err := db.loadWatermark()
	if err != nil {
		return nil, err
	}
	db.watermark.Store(w)
	rawGlobal, err := globalIndexOnly(rawPath)
	if err != nil {
		return nil, err
	}
	rollupGlobal, err := globalIndexOnly(rollupPath)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	db.s = storage.MustOpenStorage(rawPath, storage.OpenOptions{Retention: opts.Retention, DisablePerDayIndex: rawGlobal})
	db.rollup = storage.MustOpenStorage(rollupPath, storage.OpenOptions{Retention: opts.Retention, DisablePerDayIndex: rollupGlobal})
	db.series = newSeriesLimiter(opts.MaxSeries, db.log)
	var m storage.Metrics
	db.s.UpdateMetrics(&m)
	db.emptyAtOpen = m.TableMetrics.TotalRowsCount() == 0
	db.oldestRaw.Store(math.MaxInt64)
	db.log.Info("storage opened", "path", path, "retention", opts.Retention.String(), "per_day_index", !rawGlobal, "duration_ms", time.Since(t0).Milliseconds())
	db.startDiskWatch() // logs when it starts read-only
	db.removeSnapshots(db.s)
	db.removeSnapshots(db.rollup)
	db.startPreload()
	db.stopPersist = make(chan struct{})
	db.persistDone.Go(func() { db.persistLoop(db.stopPersist) })
	engine.attach(db) // the MetricsQL engine (promql.go)
	return db, nil
}

// checkNotLocked fails early, with a clear error, when another process holds the storage lock;
// VictoriaMetrics itself would panic.
func checkNotLocked(path string) error {
	lockPath := filepath.Join(path, "flock.lock")
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("cannot open storage lock file: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("storage directory %s is in use by another process: %w", path, err)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// storageExists reports whether VictoriaMetrics has created a storage at path: it makes the
// metadata directory first.
func storageExists(path string) bool {
	_, err := os.Stat(filepath.Join(path, "metadata"))
	return err == nil
}

// checkRoomToCreate fails when a storage in paths does not exist yet and the disk has less
// than closeMargin free: VictoriaMetrics cannot create one without writing files, and exits the
// process when a write fails. An existing storage opens on a full disk (read-only).
func checkRoomToCreate(paths ...string) error {
	for _, p := range paths {
		if storageExists(p) {
			continue
		}
		var sfs syscall.Statfs_t
		if err := syscall.Statfs(filepath.Dir(p), &sfs); err != nil {
			return fmt.Errorf("cannot read free space of %s: %w", filepath.Dir(p), err)
		}
		if free := sfs.Bavail * uint64(sfs.Bsize); free < closeMargin {
			return fmt.Errorf("cannot create storage in %s: %d bytes free on its disk, at least %d needed", p, free, closeMargin)
		}
	}
	return nil
}

// checkWritable creates and removes a file in dir.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".writable-*")
	if err != nil {
		return fmt.Errorf("storage directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Close flushes pending samples to disk and closes storage. It waits for running reads. A
// read-only store closes too; on a disk too full for VictoriaMetrics' final writes (its caches,
// see closeRoom), Close logs that and leaves storage unclosed instead of letting it exit the
// process: the files are as a kill -9 leaves them, which VictoriaMetrics recovers from.
func (db *DB) Close() error {
	db.stopPreload() // it holds db.mu shared until it returns
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.closed = true // from here every call returns ErrClosed
	db.mu.Unlock()
	close(db.stopPersist)
	db.persistDone.Wait()
	db.stopDiskWatch()

	db.mu.Lock() // waits for running reads
	defer db.mu.Unlock()
	db.series.stop()
	room := db.roomToClose()
	engine.detach(db, room) // saves the rollup result cache only when there is room
	if !room {
		return nil // like a kill -9 after the last durability flush: nothing written is lost
	}
	t0 := time.Now()
	db.s.MustClose()
	db.rollup.MustClose()
	db.log.Info("storage closed", "duration_ms", time.Since(t0).Milliseconds())
	return nil
}

// now reads the DB clock (Options.Now).
func (db *DB) now() time.Time { return db.opts.Now() }

// Write validates and stores samples and updates the latest-value table. It returns an error
// naming the first invalid sample; valid samples before and after it are still stored.
// A sample outside AcceptWindow (older than the retention, or more than MaxAhead ahead of the
// DB clock) is invalid: it is neither stored nor put into the latest table, and its error is a
// *TimestampError. Label values that are not valid UTF-8 or longer than MaxLabelValueBytes are
// stored as LabelValue encodes them; samples is not modified. A sample over MaxNameBytes,
// MaxLabels or MaxSeriesBytes is invalid. A sample whose value is StaleMarker() is stored and
// ends its series in the latest table. While the store is read-only (ReadOnly) it stores
// nothing, puts the valid samples into the latest-value table only (pages keep showing current
// values) and returns ErrReadOnly. Samples of a new series over the ceiling (Options.MaxSeries)
// are dropped without an error, as VictoriaMetrics drops them, counted in SeriesDropped and
// logged at most once a minute; the latest table does not get them either.
func (db *DB) Write(samples []Sample) error {
	if len(samples) == 0 {
		return nil
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	nowMs := db.now().UnixMilli()
	rb := db.getRowBuilder()
	defer db.putRowBuilder(rb)
	firstErr := db.buildRows(samples, nowMs, rb)
	if db.ReadOnly() {
		return ErrReadOnly // the latest table has the samples: pages keep showing current values
	}
	if len(rb.mrs) > 0 {
		db.noteOldest(rb.mrs) // before AddRows: see firstRawBucket
		db.s.AddRows(rb.mrs, 64)
		db.noteLate(rb.mrs)    // after AddRows: see noteLate
		engine.noteOld(rb.mrs) // a sample older than 5 minutes: cached results may miss it
		db.samplesWritten.Add(uint64(len(rb.mrs)))
	}
	return firstErr
}

// buildRows is Write's first half: it validates samples, appends the rows of those to store
// to rb and puts them into the latest table. It returns the error of the first invalid one.
func (db *DB) buildRows(samples []Sample, nowMs int64, rb *rowBuilder) error {
	var firstErr error
	t := db.latest
	t.mu.Lock()
	defer t.mu.Unlock()
	var prev *Sample        // the last sample recorded...
	var prevLv *latestEntry // ... and its series' entry; nil: none
	for i := range samples {
		s := &samples[i]
		if r := s.Ref; r != nil && r.t == t && r.lv != nil && !r.lv.removed && r.lv.raw != nil &&
			r.lv.gen == db.series.generation() && !IsStaleMarker(s.Value) {
			// A series written before under this Ref: its name and labels were checked and
			// admitted then, and have not changed since (SeriesRef's contract).
			err := validateTimestamp(s.Timestamp)
			if err == nil {
				err = db.checkTimestamp(s.Timestamp, nowMs)
			}
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("sample %d (%s): %w", i, s.Name, err)
				}
				continue
			}
			t.recordSame(s, r.lv, nowMs, rb)
			prev, prevLv = s, r.lv
			continue
		}
		// A sample of the series just recorded (same name, same labels slice: a remote-write
		// series' samples, a range import) has its name and labels checked already.
		same := prevLv != nil && s.Name == prev.Name && sameLabels(s.Labels, prev.Labels)
		var err error
		if !same {
			err = validateSeries(s)
		}
		if err == nil {
			err = validateTimestamp(s.Timestamp)
		}
		if err == nil {
			err = db.checkTimestamp(s.Timestamp, nowMs)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("sample %d (%s): %w", i, s.Name, err)
			}
			continue
		}
		if same && !IsStaleMarker(s.Value) {
			t.recordSame(s, prevLv, nowMs, rb)
			continue
		}
		// Appends the row and updates the latest table, unless the series is over the ceiling
		// (counted by the limiter). The table gets the sample before storage does; nothing
		// reads both at once, and storage makes it searchable only seconds later anyway.
		prev, prevLv = s, t.record(s, nowMs, db.series, rb)
		if s.Ref != nil {
			s.Ref.t, s.Ref.lv = t, prevLv
		}
	}
	t.maybeSweep(nowMs)
	return firstErr
}

// sameLabels reports whether a and b are the same slice (same length and first element): the
// labels of a series that one caller shares between its samples. Equal labels in two slices
// are not detected; they just take record's full path.
func sameLabels(a, b []Label) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// Write's row builders are kept between calls (db.rowBuilders) so that a Write of known
// series allocates nothing: up to pooledRowBuilders of them (one per concurrent writer), each
// of at most maxPooledRows rows. A channel rather than a sync.Pool, which drops what it is
// given at random under the race detector and at every GC.
const (
	pooledRowBuilders = 4
	maxPooledRows     = 1 << 16
)

func (db *DB) getRowBuilder() *rowBuilder {
	select {
	case rb := <-db.rowBuilders:
		return rb
	default:
		return new(rowBuilder)
	}
}

// putRowBuilder keeps rb for the next Write, without references to the rows' names or the
// samples' strings (it would keep them alive).
func (db *DB) putRowBuilder(rb *rowBuilder) {
	clear(rb.mrs)
	clear(rb.sorted[:cap(rb.sorted)])
	clear(rb.labels[:cap(rb.labels)])
	rb.mrs, rb.sorted, rb.labels = rb.mrs[:0], rb.sorted[:0], rb.labels[:0]
	if cap(rb.mrs) > maxPooledRows {
		return // a huge import: let its rows go rather than keep them for 1000-sample writes
	}
	select {
	case db.rowBuilders <- rb:
	default:
	}
}

// rowBuilder turns samples into VictoriaMetrics rows, marshaling names with
// MarshalMetricNameRaw (MetricName.Marshal output is rejected by AddRows).
type rowBuilder struct {
	mrs    []storage.MetricRow
	buf    []byte
	labels []prompb.Label

	// Write's scratch buffers (latestTable.record): a sample's sorted labels, its series key
	// and its raw metric name.
	sorted  []Label
	key     []byte
	nameBuf []byte
}

// marshal returns the raw metric name of name{labels} in a buffer of rb that the next call
// overwrites.
func (rb *rowBuilder) marshal(name string, labels []Label) []byte {
	rb.labels = append(rb.labels[:0], prompb.Label{Name: "__name__", Value: name})
	for _, l := range labels {
		rb.labels = append(rb.labels, prompb.Label{Name: l.Name, Value: l.Value})
	}
	rb.nameBuf = storage.MarshalMetricNameRaw(rb.nameBuf[:0], rb.labels)
	return rb.nameBuf
}

func (rb *rowBuilder) add(name string, labels []Label, ts int64, v float64) {
	rb.labels = append(rb.labels[:0], prompb.Label{Name: "__name__", Value: name})
	for _, l := range labels {
		rb.labels = append(rb.labels, prompb.Label{Name: l.Name, Value: l.Value})
	}
	start := len(rb.buf)
	rb.buf = storage.MarshalMetricNameRaw(rb.buf, rb.labels)
	// Earlier rows keep pointing into the old array if buf grows; that array is never written
	// again, so their bytes stay valid.
	rb.mrs = append(rb.mrs, storage.MetricRow{MetricNameRaw: rb.buf[start:len(rb.buf):len(rb.buf)], Timestamp: ts, Value: v})
}

// addSameSeries adds a row of the series of the previous add.
func (rb *rowBuilder) addSameSeries(ts int64, v float64) {
	prev := rb.mrs[len(rb.mrs)-1].MetricNameRaw
	rb.mrs = append(rb.mrs, storage.MetricRow{MetricNameRaw: prev, Timestamp: ts, Value: v})
}

// reset empties rb for the next batch; rows already handed to AddRows stay valid.
func (rb *rowBuilder) reset() {
	rb.mrs, rb.buf = rb.mrs[:0], nil
}

// SamplesWritten is how many samples Write has accepted since Open.
func (db *DB) SamplesWritten() uint64 { return db.samplesWritten.Load() }

// Flush makes every written sample searchable now instead of within a few seconds.
// Tests and shutdown use it; samplers need not.
func (db *DB) Flush() {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if !db.closed {
		db.s.DebugFlush()
		db.rollup.DebugFlush()
		db.rollupGen.Add(1) // see rollupGenLabel
	}
}

// validateSeries checks a sample's name and labels (validateTimestamp its timestamp).
func validateSeries(s *Sample) error {
	if err := ValidateMetricName(s.Name); err != nil {
		return err
	}
	for _, l := range s.Labels {
		if err := ValidateLabelName(l.Name); err != nil {
			return err
		}
		if l.Name == "__name__" {
			return errors.New(`label "__name__" is reserved; set Sample.Name`)
		}
	}
	return ValidateSeriesSize(s.Name, s.Labels)
}

func validateTimestamp(ts int64) error {
	if ts <= 0 {
		return fmt.Errorf("timestamp %d is not a positive unix-milliseconds time", ts)
	}
	return nil
}

// ValidateMetricName checks a Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*, at most
// MaxNameBytes long.
func ValidateMetricName(name string) error {
	if name == "" {
		return errors.New("empty metric name")
	}
	if len(name) > MaxNameBytes {
		return fmt.Errorf("metric name %q... is %d bytes long: at most %d are allowed", name[:64], len(name), MaxNameBytes)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return fmt.Errorf("invalid metric name %q: must match [a-zA-Z_:][a-zA-Z0-9_:]*", name)
	}
	return nil
}

// ValidateLabelName checks a Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*, at most
// MaxNameBytes long.
func ValidateLabelName(name string) error {
	if name == "" {
		return errors.New("empty label name")
	}
	if len(name) > MaxNameBytes {
		return fmt.Errorf("label name %q... is %d bytes long: at most %d are allowed", name[:64], len(name), MaxNameBytes)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return fmt.Errorf("invalid label name %q: must match [a-zA-Z_][a-zA-Z0-9_]*", name)
	}
	return nil
}
