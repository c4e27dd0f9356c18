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
	scan          *scanRun      // the running scan; nil: none
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
// ScanInterval later), each scan to its end, in config order. A scan that fails (or is skipped
// because the instance is down) keeps the previous expansion and is retried after the
// pattern's sampling interval if that is sooner. It returns the first error; an I/O error
// stops the remaining scans of this call. Nothing is sent while the instance is down. Run does
// the same work a page at a time (patternStep); tests call this. Round goroutine only.
func (k *keySampler) scanDue(ctx context.Context, now time.Time) error {
	k.startScans(now)
	var firstErr error
	for i, p := range k.patterns {
		for p.scan != nil {
			err := k.scanStepDone(ctx, now, p)
			if err == nil {
				continue
			}
			if firstErr == nil {
				firstErr = err
			}
			if !isReplyError(err) {
				// The connection failed: the other scans would too; retry them all soon.
				for _, q := range k.patterns[i+1:] {
					if q.scan != nil {
						q.scan = nil
						k.retryScanSoon(q, now)
					}
				}
				return firstErr
			}
		}
	}
	return firstErr
}

// startScans starts the scan of every pattern due at or before now that has none running,
// and reschedules it ScanInterval later. While the instance is down nothing starts: the
// scans are retried soon instead.
func (k *keySampler) startScans(now time.Time) {
	for _, p := range k.patterns {
		if p.scan != nil || p.nextScan.After(now) {
			continue
		}
		p.nextScan = nextTime(p.nextScan, now, p.scanEach)
		if !k.isUp() {
			// Down: send nothing, but expand soon after it is back rather than a scan interval later.
			k.retryScanSoon(p, now)
			continue
		}
		k.scanGen++
		p.scan = &scanRun{gen: k.scanGen, seed: maphash.MakeSeed(), seen: make(map[uint64]struct{}),
			room: max(0, p.maxKeys-p.tracked)}
		p.scan.started = k.phases.Start()
	}
}

// scanStepDone runs one page of p's running scan (scanStep) and records how a finished or
// failed scan went: a failure is logged once per change, kept on the pattern's snapshot and
// retried soon. It returns the error that ended the scan.
func (k *keySampler) scanStepDone(ctx context.Context, now time.Time, p *patternState) error {
	done, err := k.scanStep(ctx, now, p)
	if err == nil {
		if done && p.failing {
			p.failing = false
			k.log.Info("expanding pattern works again", "instance", k.instance, "db", k.db, "pattern", logKey(p.pattern))
		}
		return nil
	}
	err = fmt.Errorf("cannot expand pattern %q of %s: %w", logKey(p.pattern), k.instance, err)
	k.mu.Lock()
	p.err = err.Error()
	k.mu.Unlock()
	if !p.failing && ctx.Err() == nil {
		p.failing = true
		k.log.Warn("cannot expand pattern", "instance", k.instance, "db", k.db, "pattern", logKey(p.pattern), "error", err)
	}
	k.retryScanSoon(p, now)
	return err
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

// scanRun is the state of one pattern's scan between its pages.
type scanRun struct {
	gen  uint32
	seed maphash.Seed
	seen map[uint64]struct{} // SCAN may return a key twice; hashes keep this small
	room int                 // how many new keys the pattern may still track

	keys      []*trackedKey // known matching keys: own and shared
	added     []scannedKey  // new keys this pattern will track
	refreshed []scannedKey  // known keys without current state, measured now
	ovCount   int64
	ovSum     int64
	cursor    uint64
	started   time.Time // the PhaseStats stopwatch at the scan's start
}

// scanStep runs one page of p's scan: SCAN cursor MATCH pattern COUNT 1000, then a pipelined
// TYPE+GETRANGE pass and a length pass over the keys of the page it does not know. After the
// last page (done) it commits the new expansion and writes redis_pattern_keys and
// redis_pattern_length (plus redis_key_exists 0 for tracked keys that vanished). On an error
// the scan ends (done) and nothing of it is committed.
func (k *keySampler) scanStep(ctx context.Context, now time.Time, p *patternState) (done bool, err error) {
	r := p.scan
	k.roundTrips.Add(1)
	names, next, err := k.scanPage(ctx, p.pattern, r.cursor)
	if err != nil {
		p.scan = nil
		return true, err
	}
	var measure []scannedKey
	for _, name := range names {
		h := maphash.String(r.seed, name)
		if _, dup := r.seen[h]; dup {
			continue
		}
		r.seen[h] = struct{}{}
		if t := k.owners[name]; t != nil {
			if int(t.pattern) == p.idx {
				t.scanGen = r.gen
			}
			r.keys = append(r.keys, t)
			if !t.exists {
				measure = append(measure, scannedKey{t: t, name: name})
			}
			continue
		}
		measure = append(measure, scannedKey{name: name})
	}
	if err := k.measureScanned(ctx, measure); err != nil {
		p.scan = nil
		return true, err
	}
	for _, m := range measure {
		switch {
		case m.typ == typeNone: // deleted since SCAN returned it
		case m.t != nil:
			r.refreshed = append(r.refreshed, m)
		case len(r.added) < r.room:
			r.added = append(r.added, m)
		default:
			r.ovCount++
			r.ovSum += m.length
		}
	}
	r.cursor = next
	if r.cursor != 0 {
		return false, nil
	}
	p.scan = nil
	k.commitScan(now, p, r)
	return true, nil
}

// commitScan makes a finished scan the pattern's expansion and writes its samples. Sampling
// ran between the scan's pages: keys dropped meanwhile are skipped, and a new name that became
// tracked meanwhile stays with its owner.
func (k *keySampler) commitScan(now time.Time, p *patternState, r *scanRun) {
	ts := now.UnixMilli()
	var out []tsdb.Sample
	k.mu.Lock()
	for _, t := range p.keys {
		if int(t.pattern) == p.idx && !t.dropped && t.scanGen != r.gen {
			// Tracked but no longer there: report it gone once.
			out = append(out, tsdb.Sample{Name: "redis_key_exists", Labels: k.keyLabels(t.label, t.typ), Timestamp: ts, Value: 0})
			t.exists = false
			k.dropKey(t)
		}
	}
	for _, m := range r.refreshed {
		if !m.t.dropped {
			m.t.scanned(m)
		}
	}
	keys := r.keys
	var fresh []*trackedKey // keys this scan made tracked
	for _, m := range r.added {
		if t := k.owners[m.name]; t != nil {
			keys = append(keys, t)
			continue
		}
		t := k.newTrackedKey(m.name, p.idx)
		t.scanned(m)
		k.owners[m.name] = t
		p.cohort.add(t)
		p.tracked++
		k.dirty = true
		keys = append(keys, t)
		fresh = append(fresh, t)
	}
	p.keys = keys
	p.overflowCount, p.overflowSum = r.ovCount, r.ovSum
	if p.lastScan.IsZero() && len(fresh) > 0 {
		// The pattern's first expansion is sampled at once, not an interval after start (the
		// cohort's pass at start ran before the scan had found any key): its new keys join the
		// cohort's running pass, or one starts now.
		if c := p.cohort; c.passing {
			c.pending = append(c.pending, fresh...)
		} else {
			c.next = now
		}
	}
	p.lastScan, p.err = now, ""
	out = k.patternTotalsLocked(p, ts, out)
	k.mu.Unlock()
	k.write(out)
	k.scanDone(p, r)
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
