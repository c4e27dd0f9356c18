package tsdb

import (
	"sort"
	"strings"
	"sync"
	"time"
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

	key string // seriesKey(Labels), for sorting
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
// from storage at Open), indexed by metric name.
type latestTable struct {
	mu     sync.RWMutex
	byName map[string]map[string]*LatestValue // name -> series key -> value
	count  int
}

func newLatestTable() *latestTable {
	return &latestTable{byName: make(map[string]map[string]*LatestValue)}
}

// seriesKey is a canonical identity for labels sorted by name.
func seriesKey(sorted []Label) string {
	var b strings.Builder
	for _, l := range sorted {
		b.WriteString(l.Name)
		b.WriteByte(0)
		b.WriteString(l.Value)
		b.WriteByte(1)
	}
	return b.String()
}

func sortedLabels(labels []Label) []Label {
	out := make([]Label, 0, len(labels))
	for _, l := range labels {
		if l.Value != "" {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (t *latestTable) update(samples []Sample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range samples {
		s := &samples[i]
		if validateSample(s) != nil {
			continue
		}
		t.put(s.Name, sortedLabels(s.Labels), s.Timestamp, s.Value)
	}
}

// put records one sample; labels must be sorted. Callers hold t.mu.
func (t *latestTable) put(name string, labels []Label, ts int64, v float64) {
	m := t.byName[name]
	if m == nil {
		m = make(map[string]*LatestValue)
		t.byName[name] = m
	}
	key := seriesKey(labels)
	lv := m[key]
	if lv == nil {
		m[key] = &LatestValue{Name: name, Labels: labels, Timestamp: ts, Value: v, key: key}
		t.count++
		return
	}
	switch {
	case ts > lv.Timestamp:
		lv.PrevTimestamp, lv.PrevValue = lv.Timestamp, lv.Value
		lv.Timestamp, lv.Value = ts, v
	case ts == lv.Timestamp:
		lv.Value = v
	case ts > lv.PrevTimestamp:
		// A late sample between the two we hold: it becomes the previous one.
		lv.PrevTimestamp, lv.PrevValue = ts, v
	}
}

// Latest returns the latest value of every series matching sel, sorted by name then labels.
func (db *DB) Latest(sel *Selector) []LatestValue {
	t := db.latest
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []LatestValue
	visit := func(m map[string]*LatestValue) {
		for _, lv := range m {
			if sel.Matches(lv.Name, lv.Labels) {
				out = append(out, *lv)
			}
		}
	}
	if names := sel.MetricNames(); names != nil {
		for i, n := range names {
			if i > 0 && names[i-1] == n {
				continue
			}
			visit(t.byName[n])
		}
	} else {
		for _, m := range t.byName {
			visit(m)
		}
	}
	sortLatest(out)
	return out
}

// LatestByName returns the latest value of every series called name, sorted by labels.
func (db *DB) LatestByName(name string) []LatestValue {
	t := db.latest
	t.mu.RLock()
	m := t.byName[name]
	out := make([]LatestValue, 0, len(m))
	for _, lv := range m {
		out = append(out, *lv)
	}
	t.mu.RUnlock()
	sortLatest(out)
	return out
}

// LatestOne returns the latest value of the series name{labels}, if any.
func (db *DB) LatestOne(name string, labels ...Label) (LatestValue, bool) {
	key := seriesKey(sortedLabels(labels))
	t := db.latest
	t.mu.RLock()
	defer t.mu.RUnlock()
	lv, ok := t.byName[name][key]
	if !ok {
		return LatestValue{}, false
	}
	return *lv, true
}

// LatestAll calls fn for every series in the latest table, in no particular order, under a
// read lock: fn must not call back into db.
func (db *DB) LatestAll(fn func(lv *LatestValue)) {
	t := db.latest
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, m := range t.byName {
		for _, lv := range m {
			fn(lv)
		}
	}
}

// LatestCount is how many series the latest table holds.
func (db *DB) LatestCount() int {
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
