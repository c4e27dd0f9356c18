package redis

import (
	"context"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// patternState is one configured glob pattern.
//
// At each scan the pattern keeps the keys it already tracks that still match, then adds new
// ones in SCAN order until it tracks max_keys; the other matching keys are "overflow": their
// names are not kept, only how many there were and the sum of their lengths at scan time.
// A key that is an exact key, or that another pattern already tracks, is sampled once by its
// owner and only counted here ("shared"). At start-up patterns are scanned in config order, so
// a key matched by two patterns is tracked by the first.
type patternState struct {
	idx      int
	pattern  string
	maxKeys  int
	scanEach time.Duration
	cohort   *cohort   // the cohort of the pattern's interval (its keys are sampled with it)
	nextScan time.Time // zero: at the first round

	// Round goroutine only.
	keys          []*trackedKey // matching keys known by name at the last scan: own and shared
	overflowCount int64         // matching keys beyond max_keys at the last scan
	overflowSum   int64         // the sum of their lengths then
	failing       bool          // the last scan failed (logged once per change)

	// Read by the snapshots: written under keySampler.mu.
	matched   int64
	lengthSum int64
	tracked   int // keys tracked one by one (owned by this pattern)
	lastScan  time.Time
	err       string
}

// scanDue expands every pattern whose scan is due at or before now (each is rescheduled
// ScanInterval later). A scan that fails (or is skipped because the instance is down) keeps the
// previous expansion and is retried after the pattern's sampling interval if that is sooner. It returns the first error; an I/O error
// stops the remaining scans of this call. Nothing is sent while the instance is down.
// Round goroutine only.
func (k *keySampler) scanDue(ctx context.Context, now time.Time) error {
	var due []*patternState
	for _, p := range k.patterns {
		if p.nextScan.After(now) {
			continue
		}
		p.nextScan = nextTime(p.nextScan, now, p.scanEach)
		due = append(due, p)
	}
	if len(due) == 0 {
		return nil
	}
	if k.up != nil && !k.up() {
		// Down: send nothing, but expand soon after it is back rather than a scan interval later.
		for _, p := range due {
			k.retryScanSoon(p, now)
		}
		return nil
	}
	var firstErr error
	for i, p := range due {
		err := k.scanPattern(ctx, now, p)
		if err == nil {
			if p.failing {
				p.failing = false
				k.log.Info("expanding pattern works again", "instance", k.instance, "db", k.db, "pattern", logKey(p.pattern))
			}
			continue
		}
		err = fmt.Errorf("cannot expand pattern %q of %s: %w", logKey(p.pattern), k.instance, err)
		k.mu.Lock()
		p.err = err.Error()
		k.mu.Unlock()
		if !p.failing && ctx.Err() == nil {
			p.failing = true
			k.log.Warn("cannot expand pattern", "instance", k.instance, "db", k.db, "pattern", logKey(p.pattern), "error", err)
		}
		if firstErr == nil {
			firstErr = err
		}
		k.retryScanSoon(p, now)
		if !isReplyError(err) {
			// The connection failed: the other scans would too; retry them all soon.
			for _, q := range due[i+1:] {
				k.retryScanSoon(q, now)
			}
			break
		}
	}
	return firstErr
}

// retryScanSoon moves a failed (or skipped) scan to one sampling interval from now when that is
// sooner than its next regular scan.
func (k *keySampler) retryScanSoon(p *patternState, now time.Time) {
	if r := now.Add(p.cohort.interval); r.Before(p.nextScan) {
		p.nextScan = r
	}
}

// scannedKey is a key a scan found and measured (TYPE, then its length).
type scannedKey struct {
	t         *trackedKey // an already tracked key that had no current state; nil: new
	name      string
	typ       string
	length    int64
	hasLength bool
}

// scanPattern runs SCAN cursor MATCH pattern COUNT 1000 until the cursor is 0 (one round trip
// per page), measures the keys it does not know with a pipelined TYPE+GETRANGE pass and a
// length pass per page, then commits the new expansion and writes redis_pattern_keys and
// redis_pattern_length (plus redis_key_exists 0 for tracked keys that vanished). On any error
// nothing is committed.
func (k *keySampler) scanPattern(ctx context.Context, now time.Time, p *patternState) error {
	k.scanGen++
	gen := k.scanGen
	seed := maphash.MakeSeed()
	seen := make(map[uint64]struct{}) // SCAN may return a key twice; hashes keep this small
	room := max(0, p.maxKeys-p.tracked)

	var (
		keys      []*trackedKey // known matching keys: own and shared
		added     []scannedKey  // new keys this pattern will track
		refreshed []scannedKey  // known keys without current state, measured now
		ovCount   int64
		ovSum     int64
		cursor    uint64
	)
	for {
		k.roundTrips.Add(1)
		names, next, err := k.scanPage(ctx, p.pattern, cursor)
		if err != nil {
			return err
		}
		var measure []scannedKey
		for _, name := range names {
			h := maphash.String(seed, name)
			if _, dup := seen[h]; dup {
				continue
			}
			seen[h] = struct{}{}
			if t := k.owners[name]; t != nil {
				if t.pattern == p.idx {
					t.scanGen = gen
				}
				keys = append(keys, t)
				if !t.exists {
					measure = append(measure, scannedKey{t: t, name: name})
				}
				continue
			}
			measure = append(measure, scannedKey{name: name})
		}
		if err := k.measureScanned(ctx, measure); err != nil {
			return err
		}
		for _, m := range measure {
			switch {
			case m.typ == typeNone: // deleted since SCAN returned it
			case m.t != nil:
				refreshed = append(refreshed, m)
			case len(added) < room:
				added = append(added, m)
			default:
				ovCount++
				ovSum += m.length
			}
		}
		cursor = next
		if cursor == 0 {
			break
		}
	}

	ts := now.UnixMilli()
	var out []tsdb.Sample
	k.mu.Lock()
	for _, t := range p.keys {
		if t.pattern == p.idx && !t.dropped && t.scanGen != gen {
			// Tracked but no longer there: report it gone once.
			out = append(out, tsdb.Sample{Name: "redis_key_exists", Labels: k.keyLabels(t.label, t.typ), Timestamp: ts, Value: 0})
			t.exists = false
			k.dropKey(t)
		}
	}
	for _, m := range refreshed {
		m.t.scanned(m)
	}
	for _, m := range added {
		t := k.newTrackedKey(m.name, p.idx)
		t.scanned(m)
		k.owners[m.name] = t
		p.cohort.add(t)
		p.tracked++
		k.dirty = true
		keys = append(keys, t)
	}
	p.keys = keys
	p.overflowCount, p.overflowSum = ovCount, ovSum
	p.lastScan, p.err = now, ""
	out = k.patternTotalsLocked(p, ts, out)
	k.mu.Unlock()
	k.write(out)
	return nil
}

// scanned takes a scan's measurement as the key's state until its next sample.
// Callers hold mu.
func (t *trackedKey) scanned(m scannedKey) {
	if m.typ == "" {
		t.needDetect = true // detection failed with a reply error: the sampling round retries
		return
	}
	t.typ, t.needDetect = m.typ, false
	t.exists, t.length, t.hasLength = true, m.length, m.hasLength
}

func (k *keySampler) scanPage(ctx context.Context, pattern string, cursor uint64) ([]string, uint64, error) {
	if k.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.timeout)
		defer cancel()
	}
	return k.client.Scan(ctx, cursor, pattern, scanCount).Result()
}

// measureScanned fills in the type and length of each key (in place).
func (k *keySampler) measureScanned(ctx context.Context, ms []scannedKey) error {
	if len(ms) == 0 {
		return nil
	}
	names := make([]string, len(ms))
	for i := range ms {
		names[i] = ms[i].name
	}
	if err := k.detectTypes(ctx, names, func(i int, typ string, err error) {
		ms[i].typ = typ // "" on a reply error
	}); err != nil {
		return err
	}
	types := make([]string, len(ms))
	for i := range ms {
		types[i] = ms[i].typ
	}
	return k.measureLengths(ctx, names, types, func(i int, n int64, ok bool) {
		ms[i].length, ms[i].hasLength = n, ok
	})
}

// patternTotals recomputes and writes a pattern's totals after a sampling round.
func (k *keySampler) patternTotals(p *patternState, now time.Time, out []tsdb.Sample) []tsdb.Sample {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.patternTotalsLocked(p, now.UnixMilli(), out)
}

// patternTotalsLocked sets p.matched and p.lengthSum from the latest state of the keys it knows
// by name plus the overflow of the last scan, and appends redis_pattern_keys and
// redis_pattern_length. Callers hold mu.
func (k *keySampler) patternTotalsLocked(p *patternState, ts int64, out []tsdb.Sample) []tsdb.Sample {
	var matched, sum int64
	for _, t := range p.keys {
		if t.dropped || !t.exists {
			continue
		}
		matched++
		if t.hasLength {
			sum += t.length
		}
	}
	p.matched, p.lengthSum = matched+p.overflowCount, sum+p.overflowSum
	labels := []tsdb.Label{
		{Name: "instance", Value: k.instance},
		{Name: "db", Value: k.dbLabel},
		{Name: "pattern", Value: p.pattern},
	}
	return append(out,
		tsdb.Sample{Name: "redis_pattern_keys", Labels: labels, Timestamp: ts, Value: float64(p.matched)},
		tsdb.Sample{Name: "redis_pattern_length", Labels: labels, Timestamp: ts, Value: float64(p.lengthSum)},
	)
}
