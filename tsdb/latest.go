package tsdb

import (
	"context"
	"errors"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
)

// LatestValue is the newest sample of one series and the one before it.
type LatestValue struct {
	Name      string
	Labels    []Label // sorted by name
	Timestamp int64   // unix milliseconds
	Value     float64
	// PrevTimestamp is 0 when only one sample has been seen since start.
	PrevTimestamp int64
	PrevValue     float64

	key string // SeriesKey(Labels), for sorting; in the table, Labels' strings are substrings of it
}

// latestEntry is a series in the latest table: its newest two samples, and Write's cache of it
// (see record). Its name is its map's key in byName, its key and labels are its set's: an
// entry is 80 bytes, 400,000 of them at 100,000 watched keys (it was 128, a LatestValue with
// the name, labels and key of its own). Readers copy it out as a LatestValue (value).
type latestEntry struct {
	set        *labelSet
	ts, prevTs int64 // LatestValue's Timestamp and PrevTimestamp
	v, prevV   float64
	seen       int64 // unix ms (DB clock) when Write last advanced ts; ts when preloaded
	// raw is the series' raw metric name as AddRows takes it: never modified once set, so
	// rows may point to it after t.mu is released; nil until a Write of the series (e.g.
	// when preloaded).
	raw []byte
	gen uint64 // the series limiter's generation in which it was admitted; 0: not yet
	// removed: no longer in the table (a SeriesRef pointing here is out of date).
	removed bool
}

// value is the entry, called name, as readers see it.
func (e *latestEntry) value(name string) LatestValue {
	return LatestValue{Name: name, Labels: e.set.labels, Timestamp: e.ts, Value: e.v, PrevTimestamp: e.prevTs, PrevValue: e.prevV, key: e.set.key}
}

// fresh reports whether e is fresh at nowMs (unix ms).
func (e *latestEntry) fresh(nowMs int64) bool { return nowMs <= e.staleAt() }

// staleAt is the last moment (unix ms, the DB clock) at which e is fresh.
func (e *latestEntry) staleAt() int64 { return e.seen + staleAfter(e.ts, e.prevTs).Milliseconds() }

// Freshness: /metrics and every Latest* reader show a series only while it is fresh, i.e. it
// was last updated (a Write that brought its newest sample) at most StaleAfter() ago.
const (
	// StalenessWindow is the least time a series stays fresh after its last update:
	// Prometheus' staleness window.
	StalenessWindow = 5 * time.Minute
	// StalenessIntervals is how many of its own intervals a series stays fresh when that is
	// longer than StalenessWindow. A series' interval is the distance between its two newest
	// samples (Timestamp-PrevTimestamp), so a key sampled every 10 minutes stays fresh for 30
	// minutes without any configuration.
	StalenessIntervals = 3
	// maxStalenessInterval caps the inferred interval, so that one long gap (a paused
	// instance, a restart) does not keep a series for days.
	maxStalenessInterval = time.Hour
	// sweepEvery is how often Write deletes stale series from the latest table.
	sweepEvery = time.Minute
)

// StaleAfter is how long after its last update lv stops being fresh:
// max(StalenessWindow, StalenessIntervals × its interval (at most an hour)).
func (lv *LatestValue) StaleAfter() time.Duration { return staleAfter(lv.Timestamp, lv.PrevTimestamp) }

// staleAfter is StaleAfter of a series whose newest samples are at ts and prevTs (0: none).
func staleAfter(ts, prevTs int64) time.Duration {
	w := StalenessWindow
	if prevTs > 0 && ts > prevTs {
		iv := min(time.Duration(ts-prevTs)*time.Millisecond, maxStalenessInterval)
		w = max(w, StalenessIntervals*iv)
	}
	return w
}

// Key is SeriesKey(lv.Labels): for a value read from the table, computed once when its series
// entered it; for one built elsewhere, computed now.
func (lv *LatestValue) Key() string {
	if lv.key == "" && len(lv.Labels) > 0 {
		return SeriesKey(lv.Labels)
	}
	return lv.key
}

// Label returns the value of the named label, or "".
func (lv LatestValue) Label(name string) string { return labelValue(lv.Labels, name) }

// Time returns Timestamp as a time.Time.
func (lv LatestValue) Time() time.Time { return time.UnixMilli(lv.Timestamp) }

// Rate returns the per-second increase between the previous and the latest sample, treating
// a decrease as a counter reset. ok is false with fewer than two samples.
func (lv LatestValue) Rate() (perSecond float64, ok bool) {
	if lv.PrevTimestamp == 0 || lv.Timestamp <= lv.PrevTimestamp {
		return 0, false
	}
	inc := lv.Value - lv.PrevValue
	if inc < 0 {
		inc = lv.Value
	}
	return inc / (float64(lv.Timestamp-lv.PrevTimestamp) / 1e3), true
}

// latestTable holds the latest value of every series written since start (and those preloaded
// from storage at Open), indexed by metric name. Readers skip stale series; Write deletes
// them once per sweepEvery and deletes a series at once on its stale marker, so memory follows
// the fresh series, not every series ever seen.
type latestTable struct {
	mu        sync.RWMutex
	byName    map[string]map[string]*latestEntry // name -> series key -> value
	sets      map[string]*labelSet               // series key -> the labels its entries share
	count     int
	lastSweep int64 // unix ms
	fresh     freshCount
}

// freshCount is LatestCount's answer kept up to date by the table's writes, so that reading it
// (self-monitoring does every 10 s) does not visit every series under the lock: 400,000 series
// at 100,000 watched keys. It was computed at moment at (unix ms) as n = #{series: staleAt >=
// at}, and no series has staleAt in [at, until): so for any query moment q in [at, until] the
// fresh series (staleAt >= q) are exactly those n. Writes keep that true (note's before/after);
// a query outside the range (time passed until, or the clock went back) counts again.
type freshCount struct {
	valid     bool
	at, until int64
	n         int
}

// noEntry is note's staleAt of an entry that is not there (before a new one, after a removal):
// earlier than any moment, so never counted.
const noEntry = math.MinInt64

// note records that an entry's staleAt went from before to after. Callers hold t.mu.
func (c *freshCount) note(before, after int64) {
	if !c.valid {
		return
	}
	if before >= c.at {
		c.n--
	}
	if after >= c.at {
		c.n++
		c.until = min(c.until, after)
	}
}

// labelSet is the key and labels held once for every series of the table that has them: a
// watched key's length, TTL, memory and exists series, or an INFO section's fields, differ only
// in their name. At 100,000 keys that is one copy instead of four (the table's heap went from
// 124 MB to 89 MB).
type labelSet struct {
	key    string
	labels []Label // substrings of key (labelsIn)
	refs   int     // entries holding it
}

func newLatestTable() *latestTable {
	return &latestTable{byName: make(map[string]map[string]*latestEntry), sets: make(map[string]*labelSet)}
}

// acquireSet returns the label set of key (SeriesKey(labels)), creating it, for one more
// entry. Callers hold t.mu.
func (t *latestTable) acquireSet(key []byte, labels []Label) *labelSet {
	ls := t.sets[string(key)]
	if ls == nil {
		k := string(key)
		ls = &labelSet{key: k, labels: labelsIn(k, labels)}
		t.sets[k] = ls
	}
	ls.refs++
	return ls
}

// remove deletes lv, the entry of name in m (t.byName[name]), and lets go of its label set.
// Callers hold t.mu.
func (t *latestTable) remove(name string, m map[string]*latestEntry, lv *latestEntry) {
	t.fresh.note(lv.staleAt(), noEntry)
	lv.removed = true
	ls := lv.set
	delete(m, ls.key)
	t.count--
	if len(m) == 0 {
		delete(t.byName, name)
	}
	if ls.refs--; ls.refs <= 0 {
		delete(t.sets, ls.key)
	}
}

// SeriesKey is a canonical identity for labels sorted by name (as the latest table, storage
// reads and the alert engine key series).
func SeriesKey(sorted []Label) string {
	return string(appendSeriesKey(nil, sorted))
}

// appendSeriesKey appends SeriesKey(sorted) to b.
func appendSeriesKey(b []byte, sorted []Label) []byte {
	for _, l := range sorted {
		b = append(b, l.Name...)
		b = append(b, 0)
		b = append(b, l.Value...)
		b = append(b, 1)
	}
	return b
}

// sortedLabels returns a copy of labels without empty values, values encoded with
// LabelValue, sorted by name.
func sortedLabels(labels []Label) []Label {
	return appendSortedLabels(make([]Label, 0, len(labels)), labels)
}

// appendSortedLabels appends to dst (which must not alias labels) the labels without empty
// values, values encoded with LabelValue, and sorts what it appended by name. It allocates
// nothing when dst has room and every value is valid (LabelValue returns it as is).
func appendSortedLabels(dst, labels []Label) []Label {
	start := len(dst)
	for _, l := range labels {
		if l.Value != "" {
			dst = append(dst, Label{Name: l.Name, Value: LabelValue(l.Value)})
		}
	}
	// Insertion sort: a series has a handful of labels, and sort.Slice would allocate.
	out := dst[start:]
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Name < out[j-1].Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return dst
}

// record is Write's step for one valid sample s (inside AcceptWindow) received at nowMs
// (unix ms, the DB clock); callers hold t.mu. It asks lim whether s's series may be stored
// and, when it may, appends its row to rb and records it in the table; it returns
// the series' entry when it did (nil when it did not, or when a stale marker deleted it).
//
// The table's entry of a series doubles as Write's cache of it, so a known series costs two
// map lookups with the key bytes (no string, no allocation) and nothing else: its raw metric
// name is marshalled once, when the series enters the table, and the limiter is asked again
// only when its generation changed since the series was admitted (see seriesLimiter: within
// a generation the answer and the counts cannot change). The cache is as big as the table
// and is evicted with it (sweep, stale markers): a series dropped by the limiter never enters
// it, and is asked about (and counted) on each of its samples, as before the cache.
func (t *latestTable) record(s *Sample, nowMs int64, lim *seriesLimiter, rb *rowBuilder) *latestEntry {
	rb.sorted = appendSortedLabels(rb.sorted[:0], s.Labels)
	rb.key = appendSeriesKey(rb.key[:0], rb.sorted)
	m := t.byName[s.Name]
	lv := m[string(rb.key)] // no allocation: the compiler looks up with the bytes
	raw, gen := []byte(nil), uint64(0)
	if lv != nil && lv.raw != nil {
		raw, gen = lv.raw, lv.gen
	}
	if cur := lim.generation(); gen != cur || raw == nil {
		scratch := raw == nil
		if scratch {
			// Marshalled from the sorted labels: one raw name per series, whatever the order.
			raw = rb.marshal(s.Name, rb.sorted)
		}
		ok, g := lim.admit(s.Name, raw)
		if !ok {
			return nil
		}
		if scratch {
			raw = slices.Clip(slices.Clone(raw)) // rb's buffer is reused; the entry keeps its own
		}
		gen = g
	}
	rb.mrs = append(rb.mrs, storage.MetricRow{MetricNameRaw: raw, Timestamp: s.Timestamp, Value: s.Value})
	if lv = t.putFound(s.Name, m, lv, rb.sorted, rb.key, s.Timestamp, s.Value, nowMs); lv != nil {
		lv.raw, lv.gen = raw, gen
	}
	return lv
}

// recordSame is record for a sample of the series whose entry the previous record of the same
// Write returned (lv, not nil), when s is not a stale marker: the row reuses the entry's raw
// name and the entry takes the value, with no label sorting, key building or map lookup. A
// remote-write series of 10 samples so costs one record and nine of these. Callers hold t.mu.
func (t *latestTable) recordSame(s *Sample, lv *latestEntry, nowMs int64, rb *rowBuilder) {
	rb.mrs = append(rb.mrs, storage.MetricRow{MetricNameRaw: lv.raw, Timestamp: s.Timestamp, Value: s.Value})
	t.putFound(s.Name, nil, lv, nil, nil, s.Timestamp, s.Value, nowMs)
}

// maybeSweep deletes the stale series once per sweepEvery. Callers hold t.mu.
func (t *latestTable) maybeSweep(nowMs int64) {
	if nowMs-t.lastSweep >= sweepEvery.Milliseconds() {
		t.sweep(nowMs)
	}
}

// sweep deletes every series that is stale at nowMs. Callers hold t.mu.
func (t *latestTable) sweep(nowMs int64) {
	t.lastSweep = nowMs
	for name, m := range t.byName {
		for _, lv := range m {
			if !lv.fresh(nowMs) {
				t.remove(name, m, lv) // deleting during range is allowed; so is the name's map
			}
		}
	}
}

// put records one sample preloaded from storage; labels must be sorted. Its last update is
// taken to be its timestamp. Callers hold t.mu.
func (t *latestTable) put(name string, labels []Label, ts int64, v float64) {
	t.putAt(name, labels, ts, v, ts)
}

// putAt records one sample received at seenMs; labels must be sorted. A stale marker deletes
// the series unless the table holds a newer sample (ranked as below). Callers hold t.mu.
func (t *latestTable) putAt(name string, labels []Label, ts int64, v float64, seenMs int64) {
	t.putKey(name, labels, appendSeriesKey(nil, labels), ts, v, seenMs)
}

// putKey is putAt with key = SeriesKey(labels) given as bytes. Neither labels nor key is kept:
// a series entering the table gets its own copies, so callers may reuse both buffers, and a
// series already held costs no allocation. Callers hold t.mu.
func (t *latestTable) putKey(name string, labels []Label, key []byte, ts int64, v float64, seenMs int64) {
	m := t.byName[name]
	t.putFound(name, m, m[string(key)], labels, key, ts, v, seenMs)
}

// putFound is putKey with m = t.byName[name] and lv = m[key] already looked up. It returns
// the series' entry, nil when there is none (a stale marker). Callers hold t.mu.
func (t *latestTable) putFound(name string, m map[string]*latestEntry, lv *latestEntry, labels []Label, key []byte, ts int64, v float64, seenMs int64) *latestEntry {
	if IsStaleMarker(v) {
		if lv != nil && (ts >= lv.ts || min(ts, seenMs) > min(lv.ts, lv.seen)) {
			t.remove(name, m, lv)
			return nil
		}
		return lv
	}
	if lv == nil {
		if m == nil {
			m = make(map[string]*latestEntry)
			t.byName[name] = m
		}
		ls := t.acquireSet(key, labels)
		lv = &latestEntry{set: ls, ts: ts, v: v, seen: seenMs}
		m[ls.key] = lv
		t.count++
		t.fresh.note(noEntry, lv.staleAt())
		return lv
	}
	before := lv.staleAt()
	// A sample ranks by its timestamp, but never later than when it arrived: one stamped ahead
	// of the clock (Write accepts up to MaxAhead) is newest only until a sample stamped after
	// its arrival comes, so it cannot hide the values written after it.
	rank, cur := min(ts, seenMs), min(lv.ts, lv.seen)
	switch {
	case ts == lv.ts:
		lv.v = v
		lv.seen = max(lv.seen, seenMs)
	case rank > cur || rank == cur && ts > lv.ts:
		lv.prevTs, lv.prevV = lv.ts, lv.v
		lv.ts, lv.v = ts, v
		lv.seen = max(lv.seen, seenMs)
	case ts > lv.prevTs && ts < lv.ts:
		// A late sample between the two we hold: it becomes the previous one.
		lv.prevTs, lv.prevV = ts, v
	}
	t.fresh.note(before, lv.staleAt())
	return lv
}

// labelsIn returns a copy of labels whose names and values are substrings of key, which must
// be SeriesKey(labels): a series' label bytes are held once, in its key, and the caller's
// strings are not kept alive by the table.
func labelsIn(key string, labels []Label) []Label {
	out := make([]Label, len(labels))
	off := 0
	for i, l := range labels {
		n := off + len(l.Name)
		out[i].Name = key[off:n]
		off = n + 1
		n = off + len(l.Value)
		out[i].Value = key[off:n]
		off = n + 1
	}
	return out
}

// Latest returns the latest value of every fresh series matching sel, sorted by name then
// labels.
func (db *DB) Latest(sel *Selector) []LatestValue {
	nowMs := db.now().UnixMilli()
	t := db.latest
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []LatestValue
	visit := func(name string, m map[string]*latestEntry) {
		for _, lv := range m {
			if lv.fresh(nowMs) && sel.Matches(name, lv.set.labels) {
				out = append(out, lv.value(name))
			}
		}
	}
	if names := sel.MetricNames(); names != nil {
		for i, n := range names {
			if i > 0 && names[i-1] == n {
				continue
			}
			visit(n, t.byName[n])
		}
	} else {
		for name, m := range t.byName {
			visit(name, m)
		}
	}
	sortLatest(out)
	return out
}

// LatestByName returns the latest value of every fresh series called name, sorted by labels.
func (db *DB) LatestByName(name string) []LatestValue {
	nowMs := db.now().UnixMilli()
	t := db.latest
	t.mu.RLock()
	m := t.byName[name]
	out := make([]LatestValue, 0, len(m))
	for _, lv := range m {
		if lv.fresh(nowMs) {
			out = append(out, lv.value(name))
		}
	}
	t.mu.RUnlock()
	sortLatest(out)
	return out
}

// LatestOne returns the latest value of the series name{labels}, if it is fresh. Label values
// may be given raw: they are encoded with LabelValue.
func (db *DB) LatestOne(name string, labels ...Label) (LatestValue, bool) {
	key := SeriesKey(sortedLabels(labels))
	nowMs := db.now().UnixMilli()
	t := db.latest
	t.mu.RLock()
	defer t.mu.RUnlock()
	lv, ok := t.byName[name][key]
	if !ok || !lv.fresh(nowMs) {
		return LatestValue{}, false
	}
	return lv.value(name), true
}

// LatestAll calls fn for every fresh series in the latest table, in no particular order, under
// a read lock: fn must not call back into db, nor keep lv.
func (db *DB) LatestAll(fn func(lv *LatestValue)) {
	nowMs := db.now().UnixMilli()
	t := db.latest
	t.mu.RLock()
	defer t.mu.RUnlock()
	var v LatestValue // one for every call: fn does not keep it
	for name, m := range t.byName {
		for _, lv := range m {
			if lv.fresh(nowMs) {
				v = lv.value(name)
				fn(&v)
			}
		}
	}
}

// LatestCount is how many fresh series the latest table holds.
func (db *DB) LatestCount() int {
	return db.latest.countFresh(db.now().UnixMilli())
}

// countFresh is how many series are fresh at nowMs: t.fresh's count when nowMs is within its
// range, else counted again (and kept).
func (t *latestTable) countFresh(nowMs int64) int {
	t.mu.RLock()
	c := t.fresh
	t.mu.RUnlock()
	if c.valid && c.at <= nowMs && nowMs <= c.until {
		return c.n
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c = freshCount{valid: true, at: nowMs, until: math.MaxInt64}
	for _, m := range t.byName {
		for _, lv := range m {
			if sa := lv.staleAt(); sa >= nowMs {
				c.n++
				c.until = min(c.until, sa)
			}
		}
	}
	t.fresh = c
	return c.n
}

// latestHeld is how many series the latest table holds in memory, stale ones not yet swept
// included (for tests and the churn benchmark).
func (db *DB) latestHeld() int {
	db.latest.mu.RLock()
	defer db.latest.mu.RUnlock()
	return db.latest.count
}

func sortLatest(vs []LatestValue) {
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].Name != vs[j].Name {
			return vs[i].Name < vs[j].Name
		}
		return vs[i].key < vs[j].key
	})
}

// Preloading the latest table at Open (loadLatest) reads every series of the last 15 minutes:
// instant for a few thousand series, tens of seconds at a million. Open waits for it at most
// preloadWait, so a restart stays quick at the series ceiling; the rest is loaded in the
// background while samplers and ingest already write (a preloaded sample never replaces a
// newer one: see putAt). Close stops it.
const (
	preloadWait    = 3 * time.Second
	preloadTimeout = 10 * time.Minute // a bound on the storage search, not an expected duration
)

// startPreload starts loadLatest and waits for it at most preloadWait.
func (db *DB) startPreload() {
	ctx, cancel := context.WithTimeout(context.Background(), preloadTimeout)
	db.preloadStop = cancel
	db.preloadDone = make(chan struct{})
	t0 := time.Now()
	go func() {
		defer close(db.preloadDone)
		defer cancel()
		db.mu.RLock()
		defer db.mu.RUnlock()
		err := db.loadLatest(ctx)
		switch {
		case err != nil && errors.Is(ctx.Err(), context.Canceled):
			db.log.Info("latest values not preloaded: storage is closing", "series", db.latestHeld(), "duration_ms", time.Since(t0).Milliseconds())
		case err != nil:
			db.log.Warn("cannot preload latest values", "err", err, "duration_ms", time.Since(t0).Milliseconds())
		case time.Since(t0) > preloadWait:
			db.log.Info("latest values preloaded in the background", "series", db.latestHeld(), "duration_ms", time.Since(t0).Milliseconds())
		}
	}()
	select {
	case <-db.preloadDone:
	case <-time.After(preloadWait):
		db.log.Info("latest values are still being preloaded; pages and /metrics fill in meanwhile", "waited_ms", preloadWait.Milliseconds())
	}
}

// stopPreload cancels a running preload and waits for it; Close calls it before taking db.mu.
func (db *DB) stopPreload() {
	if db.preloadStop != nil {
		db.preloadStop()
		<-db.preloadDone
	}
}
