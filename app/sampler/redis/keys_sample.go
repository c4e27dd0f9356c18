package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/tsdb"
)

// sampleDue runs one whole sampling round at now: every cohort due at or before now is sampled
// (exact keys first, then each due pattern cohort's pass to its end) and rescheduled. Patterns
// whose interval was due also get redis_pattern_keys and redis_pattern_length. Run does the
// same work in steps (sampleExactDue, patternStep); tests and benchmarks call this.
//
// It returns the I/O error (or timeout) that aborted the round: samples of batches already
// sent stay written, nothing more is written for the round, and state is kept so the next
// round retries. Reply errors for single keys are not returned: they land on KeySnapshot.Error.
// When the instance is down (Up reports false) the round is skipped and nothing is written.
// Round goroutine only.
func (k *keySampler) sampleDue(ctx context.Context, now time.Time) error {
	if err := k.sampleExactDue(ctx, now); err != nil {
		return err
	}
	k.startPasses(now)
	for _, c := range k.cohorts {
		for c.passing {
			if err := k.passStep(ctx, now, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// sampleExactDue samples every cohort of exact keys due at or before now, all in the same
// pipelined batches, and reschedules them. Errors as sampleDue.
func (k *keySampler) sampleExactDue(ctx context.Context, now time.Time) error {
	var due []*trackedKey
	anyDue := false
	for _, c := range k.cohorts {
		if c.patterns || c.next.After(now) {
			continue
		}
		anyDue = true
		c.next = nextTime(c.next, now, c.interval)
		due = append(due, c.keys...)
	}
	if !anyDue || !k.isUp() {
		return nil
	}
	start := k.phases.Start()
	err := k.sampleKeys(ctx, now, due)
	if ctx.Err() == nil {
		k.exactRoundDone(start)
	}
	return k.noteSampled(ctx, err, &k.exactFailing, "exact")
}

// isUp reports whether the instance is up (keyOptions.Up).
func (k *keySampler) isUp() bool { return k.up == nil || k.up() }

// noteSampled logs a sampling error (or the recovery) once per change of *failing and returns
// err wrapped. Exact keys and pattern passes keep a flag each (kind "exact" or "pattern"):
// their rounds interleave, so one flag would log a change at every step while one kind fails
// and the other works.
func (k *keySampler) noteSampled(ctx context.Context, err error, failing *bool, kind string) error {
	if err != nil {
		if !*failing && ctx.Err() == nil {
			*failing = true
			k.log.Warn("cannot sample keys", "instance", k.instance, "db", k.db, "keys", kind, "error", err)
		}
		return fmt.Errorf("cannot sample keys of %s: %w", k.instance, err)
	}
	if *failing {
		*failing = false
		k.log.Info("sampling keys works again", "instance", k.instance, "db", k.db, "keys", kind)
	}
	return nil
}

// startPasses starts a sampling pass of every pattern cohort due at or before now that has
// none running, and reschedules it. While the instance is down nothing starts.
func (k *keySampler) startPasses(now time.Time) {
	for _, c := range k.cohorts {
		if !c.patterns || c.passing || c.next.After(now) {
			continue
		}
		c.next = nextTime(c.next, now, c.interval)
		if !k.isUp() {
			continue
		}
		c.passing, c.pending = true, slices.Clone(c.keys) // c.keys is reordered as keys leave
		c.passStart = k.phases.Start()
	}
}

// passStep samples the next keysPerStep keys of c's running pass at now (keys that left the
// cohort meanwhile are skipped). When the pass is done it writes the totals of the patterns of
// c. An error ends the pass early; the next one starts when c is due again.
func (k *keySampler) passStep(ctx context.Context, now time.Time, c *cohort) error {
	limit := k.keysPerStep()
	chunk := make([]*trackedKey, 0, min(limit, len(c.pending)))
	n := 0
	for ; n < len(c.pending) && len(chunk) < limit; n++ {
		if t := c.pending[n]; !t.dropped && t.cohort == c {
			chunk = append(chunk, t)
		}
	}
	clear(c.pending[:n])
	c.pending = c.pending[n:]
	if len(chunk) > 0 {
		if err := k.noteSampled(ctx, k.sampleKeys(ctx, now, chunk), &k.passFailing, "pattern"); err != nil {
			c.passing, c.pending = false, nil
			return err
		}
	}
	if len(c.pending) > 0 {
		return nil
	}
	c.passing, c.pending = false, nil
	k.passDone(c)
	var samples []tsdb.Sample
	for _, p := range k.patterns {
		if p.cohort == c && !p.lastScan.IsZero() && !p.lastScan.Equal(now) {
			samples = k.patternTotals(p, now, samples)
		}
	}
	k.write(samples)
	return nil
}

// patternStep does one bounded step of pattern work at now: it starts the scans and passes
// that are due, then runs either one page of the first running scan (config order, so a key
// two patterns match goes to the first) or one chunk of one running pass, taking turns. While
// the instance is down, running scans and passes are abandoned (a scan is retried soon).
// Round goroutine only.
func (k *keySampler) patternStep(ctx context.Context, now time.Time) {
	if !k.isUp() {
		for _, p := range k.patterns {
			if p.scan != nil {
				p.scan = nil
				k.retryScanSoon(p, now)
			}
		}
		for _, c := range k.cohorts {
			c.passing, c.pending = false, nil
		}
	}
	k.startScans(now)
	k.startPasses(now)
	var scan *patternState
	for _, p := range k.patterns {
		if p.scan != nil {
			scan = p
			break
		}
	}
	var passes []*cohort
	for _, c := range k.cohorts {
		if c.passing {
			passes = append(passes, c)
		}
	}
	units := len(passes)
	if scan != nil {
		units++
	}
	if units == 0 {
		return
	}
	k.turn = (k.turn + 1) % units
	if scan != nil && k.turn == units-1 {
		k.scanStepDone(ctx, now, scan)
		return
	}
	_ = k.passStep(ctx, now, passes[k.turn]) // logs its own errors
}

// sampleKeys samples keys at now: a detection pass for keys of unknown type (or seen missing),
// then the sampling pass; keys whose type changed under it (WRONGTYPE) are detected and
// sampled once more within the round.
func (k *keySampler) sampleKeys(ctx context.Context, now time.Time, keys []*trackedKey) error {
	for _, t := range keys {
		t.missingNow, t.skipNow, t.detectedNow = false, false, false
	}
	if err := k.detectKeys(ctx, keys); err != nil {
		return err
	}
	redo, err := k.samplePass(ctx, now, keys, false)
	if err != nil || len(redo) == 0 {
		return err
	}
	for _, t := range redo {
		t.missingNow, t.skipNow, t.needDetect, t.detectedNow = false, false, true, false
	}
	if err := k.detectKeys(ctx, redo); err != nil {
		return err
	}
	_, err = k.samplePass(ctx, now, redo, true)
	return err
}

// detectKeys detects the type of the keys that need it. A key found missing is marked
// missingNow (its last known type label is kept); a reply error marks it skipNow and records
// the error on the key.
func (k *keySampler) detectKeys(ctx context.Context, keys []*trackedKey) error {
	var need []*trackedKey
	var names []string
	for _, t := range keys {
		if t.needDetect {
			need = append(need, t)
			names = append(names, t.key)
		}
	}
	return k.detectTypes(ctx, names, func(i int, typ string, err error) {
		t := need[i]
		k.mu.Lock()
		defer k.mu.Unlock()
		switch {
		case err != nil:
			k.setKeyErr(t, err)
			t.skipNow = true
		case typ == typeNone:
			t.missingNow = true
		default:
			t.typ, t.needDetect, t.detectedNow = typ, false, true
		}
	})
}

// sampleOp is one key's commands in a sampling batch. Each reply stays on its own command
// object, so a failing command can never shift replies onto another key.
type sampleOp struct {
	t         *trackedKey
	length    *goredis.IntCmd    // LLEN/SCARD/...; nil for module types and "none"
	typeCheck *goredis.StatusCmd // TYPE, for module types (no length to catch a type change)
	pttl      *goredis.IntCmd
	mem       *goredis.IntCmd // MEMORY USAGE when due
	groups    *goredis.Cmd    // XINFO GROUPS, for streams
}

// newSampleOp builds t's commands, appending them to cmds. A key detected missing this round
// needs none.
func (k *keySampler) newSampleOp(ctx context.Context, t *trackedKey, nowNS int64, cmds []goredis.Cmder) (sampleOp, []goredis.Cmder) {
	op := sampleOp{t: t}
	if t.missingNow {
		return op, cmds
	}
	lengthArgs, pttlArgs := k.argsOf(t)
	if lengthArgs != nil {
		op.length = goredis.NewIntCmd(ctx, lengthArgs...)
		cmds = append(cmds, op.length)
	} else if isModuleType(t.typ) {
		op.typeCheck = goredis.NewStatusCmd(ctx, "type", t.key)
		cmds = append(cmds, op.typeCheck)
	}
	op.pttl = goredis.NewIntCmd(ctx, pttlArgs...)
	cmds = append(cmds, op.pttl)
	if k.memEvery > 0 && !k.memRefused && t.nextMemory <= nowNS {
		op.mem = goredis.NewIntCmd(ctx, "memory", "usage", t.key, "samples", k.memSamples)
		cmds = append(cmds, op.mem)
	}
	if t.typ == typeStream {
		op.groups = goredis.NewCmd(ctx, "xinfo", "groups", t.key)
		cmds = append(cmds, op.groups)
	}
	return op, cmds
}

// samplePass sends the sampling commands of keys in batches of at most batchSize commands (a
// key's commands never straddle two batches), then turns each batch's replies into series,
// written with one Writer.Write per batch. It returns the keys whose type changed under it;
// with final set those get an error instead.
func (k *keySampler) samplePass(ctx context.Context, now time.Time, keys []*trackedKey, final bool) ([]*trackedKey, error) {
	var redo []*trackedKey
	nowNS := now.UnixNano()
	ops := make([]sampleOp, 0, min(len(keys), k.batchSize))
	cmds := make([]goredis.Cmder, 0, min(len(keys)*2, k.batchSize+8))
	var one []goredis.Cmder // one key's commands
	var acc []tsdb.Sample   // samples of batches not yet handed to writeAsync
	defer k.waitWrites()    // every batch's samples are written when samplePass returns
	defer func() { k.writeAsync(acc) }()
	flush := func() error {
		if err := k.exec(ctx, cmds); err != nil {
			return err
		}
		redo, acc = k.applyBatch(ops, now, final, redo, acc)
		if len(acc) >= writeBatchSamples {
			k.writeAsync(acc) // overlaps the next batch; samplePass waits for it
			acc = nil
		}
		ops, cmds = ops[:0], cmds[:0]
		return nil
	}
	for _, t := range keys {
		if t.skipNow || t.dropped {
			continue
		}
		var op sampleOp
		op, one = k.newSampleOp(ctx, t, nowNS, one[:0])
		if len(cmds) > 0 && len(cmds)+len(one) > k.batchSize {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		cmds = append(cmds, one...)
		ops = append(ops, op)
	}
	if len(ops) > 0 {
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return redo, nil
}

// writeBatchSamples is how many samples samplePass gathers, over its pipeline batches, before
// it hands them to the Writer: one storage write per ~1,300 keys rather than per batch of 256.
const writeBatchSamples = 4096

// applyBatch records the replies of one executed batch and appends its samples to samples.
func (k *keySampler) applyBatch(ops []sampleOp, now time.Time, final bool, redo []*trackedKey, samples []tsdb.Sample) ([]*trackedKey, []tsdb.Sample) {
	if samples == nil {
		samples = make([]tsdb.Sample, 0, writeBatchSamples+4*len(ops))
	}
	k.mu.Lock()
	for i := range ops {
		var again bool
		samples, again = k.applyOp(&ops[i], now, final, samples)
		if again {
			redo = append(redo, ops[i].t)
		}
	}
	k.mu.Unlock()
	return redo, samples
}

// typeChanged reports whether the replies show that the key is no longer of the detected type.
func (op *sampleOp) typeChanged() (bool, error) {
	var buf [6]error
	errs := buf[:0]
	errs = append(errs, op.pttl.Err())
	if op.length != nil {
		errs = append(errs, op.length.Err())
	}
	if op.typeCheck != nil {
		errs = append(errs, op.typeCheck.Err())
	}
	if op.mem != nil {
		errs = append(errs, op.mem.Err())
	}
	if op.groups != nil {
		errs = append(errs, op.groups.Err())
	}
	for _, err := range errs {
		if isWrongType(err) {
			return true, err
		}
	}
	t := op.t
	if op.typeCheck != nil {
		if typ, err := op.typeCheck.Result(); err == nil && typ != t.typ {
			return true, fmt.Errorf("type changed from %s to %s", t.typ, typ)
		}
	}
	if t.typ == typeString && !t.detectedNow {
		// A string replaced by a HyperLogLog answers STRLEN like any string; no GETRANGE
		// every round to spot one: a string whose length changed to one a HyperLogLog can
		// have is detected again (TYPE and GETRANGE, once).
		if n, err := op.length.Result(); err == nil && n != t.length && n >= hllMinLength {
			return true, errors.New("string length changed: type detected again")
		}
	}
	if t.typ == "" || t.typ == typeNone {
		return true, errors.New("key appeared with an unknown type")
	}
	return false, nil
}

// applyOp turns one key's replies into state and samples. It reports true when the key
// changed type under the round and must be detected and sampled again (never when final).
// Callers hold mu.
func (k *keySampler) applyOp(op *sampleOp, now time.Time, final bool, out []tsdb.Sample) ([]tsdb.Sample, bool) {
	t := op.t
	ts := now.UnixMilli()
	if t.missingNow {
		return k.applyMissing(t, ts, out), false
	}
	pttl, err := op.pttl.Result()
	if err == nil && pttl == -2 {
		return k.applyMissing(t, ts, out), false
	}
	if changed, why := op.typeChanged(); changed {
		t.needDetect = true
		if !final {
			return out, true
		}
		k.setKeyErr(t, why)
		return out, false
	}
	if err != nil {
		k.setKeyErr(t, err)
		return out, false
	}

	var keyErr error
	note := func(e error) {
		if keyErr == nil {
			keyErr = e
		}
	}
	labels, refs := k.labelsOf(t), t.refs
	t.exists, t.lastSampled = true, ts
	t.ttl = -1
	if pttl >= 0 {
		t.ttl = float64(pttl) / 1000
	}
	out = append(out, tsdb.Sample{Name: "redis_key_exists", Labels: k.existsLabelsOf(t), Timestamp: ts, Value: 1, Ref: &refs.exists})
	if op.length != nil {
		if n, e := op.length.Result(); e == nil {
			t.length, t.hasLength = n, true
			out = append(out, tsdb.Sample{Name: "redis_key_length", Labels: labels, Timestamp: ts, Value: float64(n), Ref: &refs.length})
		} else {
			note(e)
		}
	} else {
		t.length, t.hasLength = 0, false
	}
	out = append(out, tsdb.Sample{Name: "redis_key_ttl_seconds", Labels: labels, Timestamp: ts, Value: t.ttl, Ref: &refs.ttl})
	if op.mem != nil {
		n, e := op.mem.Result()
		switch {
		case e == nil:
			t.memory, t.nextMemory = n, now.Add(k.memEvery).UnixNano()
			out = append(out, tsdb.Sample{Name: "redis_key_memory_bytes", Labels: labels, Timestamp: ts, Value: float64(n), Ref: &refs.memory})
		case errors.Is(e, goredis.Nil): // deleted between commands
		case isCommandRefused(e):
			k.refuseMemory(e)
		default:
			note(e)
		}
	}
	if op.groups != nil {
		v, e := op.groups.Result()
		var groups []StreamGroup
		if e == nil {
			groups, e = parseGroups(v)
		}
		if e != nil {
			note(e)
		} else {
			t.groups = groups
			for _, g := range groups {
				gl := append(labels, tsdb.Label{Name: "group", Value: g.Name}) // copies: cap(labels) == len
				out = append(out, tsdb.Sample{Name: "redis_stream_group_pending", Labels: gl, Timestamp: ts, Value: float64(g.Pending)})
				if g.Lag >= 0 {
					out = append(out, tsdb.Sample{Name: "redis_stream_group_lag", Labels: gl, Timestamp: ts, Value: float64(g.Lag)})
				}
			}
		}
	} else {
		t.groups = nil
	}
	k.setKeyErr(t, keyErr)
	return out, false
}

// applyMissing records a key that does not exist. An exact key reports redis_key_exists 0 and
// redis_key_length 0 (an empty list does not exist in Redis) every round, under its last known
// type label; a pattern-found key reports redis_key_exists 0 once and stops being tracked.
// Callers hold mu.
func (k *keySampler) applyMissing(t *trackedKey, ts int64, out []tsdb.Sample) []tsdb.Sample {
	if t.typ == "" {
		t.typ = typeNone
	}
	t.exists, t.length, t.hasLength, t.ttl, t.memory, t.groups = false, 0, true, 0, 0, nil
	t.lastSampled, t.needDetect, t.nextMemory = ts, true, 0
	k.setKeyErr(t, nil)
	labels, refs := k.labelsOf(t), t.refs
	out = append(out, tsdb.Sample{Name: "redis_key_exists", Labels: k.existsLabelsOf(t), Timestamp: ts, Value: 0, Ref: &refs.exists})
	if t.pattern < 0 {
		return append(out, tsdb.Sample{Name: "redis_key_length", Labels: labels, Timestamp: ts, Value: 0, Ref: &refs.length})
	}
	k.dropKey(t)
	return out
}

// setKeyErr records the key's reply error (nil clears it), logging once per change.
// Callers hold mu.
func (k *keySampler) setKeyErr(t *trackedKey, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if msg == t.err {
		return
	}
	if msg != "" {
		k.log.Warn("cannot sample key", "instance", k.instance, "db", k.db, "key", logKey(t.key), "error", msg)
	} else {
		k.log.Info("sampling key works again", "instance", k.instance, "db", k.db, "key", logKey(t.key))
	}
	t.err = msg
}

// refuseMemory stops asking for MEMORY USAGE on this instance after the server refused it.
func (k *keySampler) refuseMemory(err error) {
	if k.memRefused {
		return
	}
	k.memRefused = true
	k.log.Warn("MEMORY USAGE refused; key memory is no longer sampled on this instance",
		"instance", k.instance, "error", err)
}
