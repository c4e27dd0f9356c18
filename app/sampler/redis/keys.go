package redis

import (
	"context"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/internal/clock"
	"github.com/redwatch/redwatch/tsdb"
)

// The per-key sampler of one Redis instance (one database). Files:
//   - keys.go: options, state, schedule, Run and the snapshots;
//   - keys_sample.go: one sampling round (type detection, pipelined batches, replies to series);
//   - keys_reply.go: command construction and reply parsing shared by sampling and scanning;
//   - patterns.go: SCAN expansion of glob patterns.
//
// Keys are grouped into cohorts by interval. Exact keys and pattern-found keys never share a
// cohort: a round samples every due cohort of exact keys at once, in bounded pipelined batches.
// Patterns are expanded with SCAN on their own cadence and the keys they find (up to max_keys)
// join the pattern cohort of the pattern's interval. Pattern work is split into steps — one
// SCAN page (plus measuring the keys it returned) or one chunk of keysPerStep keys of a
// pattern cohort's sampling pass — and Run does at most one step between two looks at the
// exact keys, so a 100,000-key pattern delays an exact key by one step, never by a whole scan
// or pass (fair scheduling). A pattern cohort's pass that takes longer than its interval
// starts again as soon as it ends: under load pattern keys are sampled every
// max(interval, pass duration).

// defaultKeyBatchSize is the number of commands per pipeline round trip when
// keyOptions.BatchSize is 0.
const defaultKeyBatchSize = 512

// scanCount is the COUNT hint of every SCAN.
const scanCount = 1000

// keysPerStep is how many pattern-found keys one step of a sampling pass samples, per batch
// of batchSize commands (about two commands a key).
func (k *keySampler) keysPerStep() int { return max(1, k.batchSize/2) }

// keyClient is what the key sampler sends its commands through: the instance's *goredis.Client,
// or for a Cluster a clusterKeys (pipelines split per node by slot, SCAN over every master).
type keyClient interface {
	Pipeline() goredis.Pipeliner
	Scan(ctx context.Context, cursor uint64, match string, count int64) *goredis.ScanCmd
}

// keyOptions configures a keySampler.
type keyOptions struct {
	Instance       string        // label instance
	DB             int           // label db (the client is already SELECTed to it)
	Client         keyClient     // shared with the instance sampler; pool size ~3
	Keys           []config.Key  // validated, defaults applied; disabled entries are skipped
	MemoryInterval time.Duration // how often MEMORY USAGE per key; 0: never
	MemorySamples  int           // MEMORY USAGE key SAMPLES n
	Timeout        time.Duration // per pipeline round trip (context deadline); 0: none
	BatchSize      int           // max commands per pipeline round trip; 0: 512
	Writer         Writer
	Logger         *slog.Logger // nil: discard
	Up             func() bool  // nil: always; false: the instance is down — skip rounds, write nothing
	Clock          Clock        // the time of rounds and the waits of Run; nil: the real clock
}

// keySampler samples the configured keys and patterns of one instance.
//
// Concurrency: Run (or, in tests, sampleDue and scanDue) must be called from one goroutine at
// a time; Keys, Patterns and RoundTrips may be called from any goroutine at any time and never
// send a command.
//
// State ownership: every field of the sampler and of its trackedKeys is written only by the
// goroutine running rounds. Fields that the snapshots read are written under mu; the round
// goroutine reads them without it.
type keySampler struct {
	instance   string
	db         int
	dbLabel    string
	client     keyClient
	memEvery   time.Duration
	memSamples int
	timeout    time.Duration
	batchSize  int
	writer     Writer
	log        *slog.Logger
	up         func() bool
	clock      Clock

	roundTrips atomic.Int64

	cohorts  []*cohort // by interval, shortest first; exact and pattern cohorts apart
	exact    map[string]*trackedKey
	patterns []*patternState

	// Round-goroutine state.
	memRefused   bool   // the server refused MEMORY USAGE: never ask again
	exactFailing bool   // the last round of exact keys failed with an I/O error (logged once per change)
	passFailing  bool   // the last step of a pattern pass did (see noteSampled)
	writeFailing bool   // the last Writer.Write failed (logged once per change)
	scanGen      uint32 // incremented per pattern scan; marks the keys a scan saw
	typeNames    map[string]string
	turn         int           // Run's round robin over running pattern work
	writing      chan struct{} // closed when the write writeAsync started ends; nil: none running
	phases       *PhaseStats   // the keys and scan phases are recorded here (New sets it before Run); nil: not recorded

	mu     sync.Mutex
	owners map[string]*trackedKey // every tracked key by name (exact and pattern-found); guarded by mu
	sorted []*trackedKey          // owners sorted by key, rebuilt by Keys when dirty; guarded by mu
	dirty  bool                   // owners changed since sorted was built; guarded by mu
}

// cohort is the set of keys sampled at one interval: exact keys, or (patterns set) the keys
// patterns found. next is when it is due again; the zero time means "at the first round".
type cohort struct {
	interval time.Duration
	next     time.Time
	keys     []*trackedKey
	patterns bool // holds pattern-found keys: sampled in passes (see passStep)

	// Round goroutine only.
	passing bool          // pattern cohorts: a sampling pass is running
	pending []*trackedKey // ... and these keys of it are still to be sampled

	passStart time.Time // the PhaseStats stopwatch at the running pass's start
}

// trackedKey is one key sampled one by one. Kept small: there may be 100,000 of them. It is 240
// bytes, its fields ordered so that the small ones pack (it was 304 in a 320-byte allocation,
// with its id as a string and the type each cache was built for): 8 MB less at 100,000 keys.
type trackedKey struct {
	key     string // the real name: every command uses it
	label   string // tsdb.LabelValue(key): the key label of its series (shortened when long)
	id      uint64 // keyHash: KeyID's digits, formatted when a snapshot is taken
	cohort  *cohort
	pattern int32 // index in keySampler.patterns; -1 for an exact key
	pos     int32 // index in cohort.keys
	scanGen uint32
	expect  expectMode

	// Read by the snapshots: written under keySampler.mu.
	exists      bool
	hasLength   bool
	typ         string // "" before the first detection
	length      int64
	memory      int64
	ttl         float64
	groups      []StreamGroup // replaced, never mutated
	lastSampled int64         // unix ms; 0: never
	err         string

	// Round goroutine only.
	needDetect  bool  // send TYPE (+GETRANGE) before sampling: unknown type, or seen missing
	detectedNow bool  // this round's detection found its type
	missingNow  bool  // this round's detection found it missing
	skipNow     bool  // this round's detection failed with a reply error
	dropped     bool  // no longer tracked (a pattern-found key that vanished)
	nextMemory  int64 // unix ns when MEMORY USAGE is due; 0: at the next sample
	// What a round sends and writes for the key, built for its type (see built):
	labels   []tsdb.Label // keyLabels(label, typ); labels[3] is the type they were built for
	exLabels []tsdb.Label // existsLabels(t, labels)
	args     []any        // the sampling commands' arguments: [length cmd, key, "pttl", key]
	// refs are the Sample.Refs of the key's series with these labels: replaced, never reset,
	// when the labels are rebuilt (a write in flight may still fill the old ones).
	refs *keyRefs
}

// keyRefs are a tracked key's tsdb.SeriesRefs, one per series with its labels (stream group
// series, which come and go with the groups, take none).
type keyRefs struct{ exists, length, ttl, memory tsdb.SeriesRef }

// newKeySampler builds a sampler for o.Keys; it sends nothing until Run or a round function is
// called.
func newKeySampler(o keyOptions) *keySampler {
	k := &keySampler{
		instance:   o.Instance,
		db:         o.DB,
		dbLabel:    strconv.Itoa(o.DB),
		client:     o.Client,
		memEvery:   o.MemoryInterval,
		memSamples: o.MemorySamples,
		timeout:    o.Timeout,
		batchSize:  o.BatchSize,
		writer:     o.Writer,
		log:        o.Logger,
		up:         o.Up,
		clock:      clock.OrReal(o.Clock),
		exact:      make(map[string]*trackedKey),
		owners:     make(map[string]*trackedKey),
		typeNames:  make(map[string]string),
		dirty:      true,
	}
	if k.batchSize <= 0 {
		k.batchSize = defaultKeyBatchSize
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	for _, c := range o.Keys {
		if !c.IsEnabled() {
			continue
		}
		interval := c.Interval.Std()
		if interval <= 0 {
			interval = 10 * time.Second // validated configs never get here
		}
		switch {
		case c.Key != "":
			if k.exact[c.Key] != nil {
				continue // listed twice: the first entry wins
			}
			t := k.newTrackedKey(c.Key, -1)
			t.needDetect = true
			t.expect = expectModeOf(c.ExpectExists)
			k.exact[c.Key] = t
			k.owners[c.Key] = t
			k.cohortFor(interval, false).add(t)
		case c.Pattern != "":
			scanEvery := c.ScanInterval.Std()
			if scanEvery <= 0 {
				scanEvery = config.DefaultScanInterval.Std()
			}
			k.patterns = append(k.patterns, &patternState{
				idx:      len(k.patterns),
				pattern:  c.Pattern,
				maxKeys:  c.MaxKeys,
				scanEach: scanEvery,
				cohort:   k.cohortFor(interval, true),
			})
		}
	}
	return k
}

func (k *keySampler) newTrackedKey(key string, pattern int) *trackedKey {
	return &trackedKey{key: key, label: tsdb.LabelValue(key), id: keyHash(k.instance, k.db, key), pattern: int32(pattern)}
}

// cohortFor returns the cohort of interval d for exact or pattern-found keys, creating it.
func (k *keySampler) cohortFor(d time.Duration, patterns bool) *cohort {
	for _, c := range k.cohorts {
		if c.interval == d && c.patterns == patterns {
			return c
		}
	}
	c := &cohort{interval: d, patterns: patterns}
	k.cohorts = append(k.cohorts, c)
	sort.Slice(k.cohorts, func(i, j int) bool { return k.cohorts[i].interval < k.cohorts[j].interval })
	return c
}

func (c *cohort) add(t *trackedKey) {
	t.cohort, t.pos = c, int32(len(c.keys))
	c.keys = append(c.keys, t)
}

func (c *cohort) remove(t *trackedKey) {
	last := c.keys[len(c.keys)-1]
	c.keys[t.pos], last.pos = last, t.pos
	c.keys[len(c.keys)-1] = nil
	c.keys = c.keys[:len(c.keys)-1]
	t.cohort = nil
}

// nextTime advances a schedule that was due at or before now: the next slot keeps the phase
// unless the sampler fell a whole interval behind.
func nextTime(prev, now time.Time, every time.Duration) time.Time {
	if prev.IsZero() {
		return now.Add(every)
	}
	n := prev.Add(every)
	if !n.After(now) {
		return now.Add(every)
	}
	return n
}

// Run samples keys and expands patterns on their schedules until ctx is done. Each wake-up
// first samples the due exact keys, then does at most one step of pattern work (patternStep);
// while pattern work is running it wakes up again at once. It waits on the sampler's clock.
func (k *keySampler) Run(ctx context.Context) {
	wake := k.clock.After(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
		_ = k.sampleExactDue(ctx, k.clock.Now()) // logs its own errors
		k.patternStep(ctx, k.clock.Now())
		if ctx.Err() != nil {
			return
		}
		next, ok := k.nextDue()
		if !ok {
			<-ctx.Done() // nothing configured
			return
		}
		d := next.Sub(k.clock.Now())
		if d < 0 || k.patternBusy() {
			d = 0
		}
		wake = k.clock.After(d)
	}
}

// nextDue is the earliest time a cohort or a pattern scan is due; false when there is nothing
// to sample at all.
func (k *keySampler) nextDue() (time.Time, bool) {
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, c := range k.cohorts {
		consider(c.next)
	}
	for _, p := range k.patterns {
		consider(p.nextScan)
	}
	return next, len(k.cohorts) > 0
}

// patternBusy reports whether a pattern scan or a sampling pass is running.
func (k *keySampler) patternBusy() bool {
	for _, p := range k.patterns {
		if p.scan != nil {
			return true
		}
	}
	for _, c := range k.cohorts {
		if c.passing {
			return true
		}
	}
	return false
}

// RoundTrips counts pipeline Execs and SCAN calls sent so far.
func (k *keySampler) RoundTrips() int64 { return k.roundTrips.Load() }

// Keys returns the tracked keys' snapshots sorted by key (exact keys and the keys patterns
// track one by one). It never sends a command; safe concurrently with Run.
func (k *keySampler) Keys() []KeySnapshot {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dirty {
		k.sorted = k.sorted[:0]
		for _, t := range k.owners {
			k.sorted = append(k.sorted, t)
		}
		sort.Slice(k.sorted, func(i, j int) bool { return k.sorted[i].key < k.sorted[j].key })
		k.dirty = false
	}
	out := make([]KeySnapshot, len(k.sorted))
	for i, t := range k.sorted {
		s := &out[i]
		s.ID, s.Instance, s.DB, s.Key = formatKeyID(t.id), k.instance, k.db, t.key
		if t.label != t.key {
			s.KeyLabel = t.label
		}
		if t.pattern >= 0 {
			s.Pattern = k.patterns[t.pattern].pattern
		}
		s.Type = t.typ
		if s.Type == "" {
			s.Type = typeNone
		}
		s.Interval = t.cohort.interval
		s.Exists, s.Length, s.HasLength = t.exists, t.length, t.hasLength
		s.MemoryBytes, s.TTLSeconds, s.Groups = t.memory, t.ttl, t.groups
		if t.lastSampled != 0 {
			s.LastSampled = time.UnixMilli(t.lastSampled)
		}
		s.Error = t.err
	}
	return out
}

// Patterns returns the patterns' snapshots in config order. It never sends a command; safe
// concurrently with Run.
func (k *keySampler) Patterns() []PatternSnapshot {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]PatternSnapshot, len(k.patterns))
	for i, p := range k.patterns {
		out[i] = PatternSnapshot{
			Instance:  k.instance,
			DB:        k.db,
			Pattern:   p.pattern,
			Matched:   p.matched,
			Tracked:   p.tracked,
			MaxKeys:   p.maxKeys,
			LengthSum: p.lengthSum,
			LastScan:  p.lastScan,
			Error:     p.err,
		}
	}
	return out
}

// dropKey stops tracking a pattern-found key. Callers hold mu.
func (k *keySampler) dropKey(t *trackedKey) {
	if t.dropped {
		return
	}
	t.dropped = true
	if t.cohort != nil {
		t.cohort.remove(t)
	}
	if k.owners[t.key] == t {
		delete(k.owners, t.key)
	}
	if t.pattern >= 0 {
		k.patterns[t.pattern].tracked--
	}
	k.dirty = true
}

// write hands samples to the Writer, logging a failure once per change of state.
func (k *keySampler) write(samples []tsdb.Sample) {
	if len(samples) == 0 {
		return
	}
	err := k.writer.Write(samples)
	switch {
	case err != nil && !k.writeFailing:
		k.writeFailing = true
		k.log.Warn("cannot store key samples", "instance", k.instance, "error", err)
	case err == nil && k.writeFailing:
		k.writeFailing = false
		k.log.Info("storing key samples works again", "instance", k.instance)
	}
}

// keyLabels are the labels of a key's series; label is the key's stored label value
// (trackedKey.label). The samples of one key share them read-only (full slice expression:
// appending group labels copies).
func (k *keySampler) keyLabels(label, typ string) []tsdb.Label {
	typ = typeLabel(typ)
	l := []tsdb.Label{
		{Name: "instance", Value: k.instance},
		{Name: "db", Value: k.dbLabel},
		{Name: "key", Value: label},
		{Name: "type", Value: typ},
	}
	return l[:4:4]
}

// typeLabel is the type label of a key of type typ ("": not detected yet).
func typeLabel(typ string) string {
	if typ == "" {
		return typeNone
	}
	return typ
}

// built (re)builds t's labels and command arguments for its current type: once per type, then
// reused by every round. The samples that share the labels, storage, and go-redis (with the
// arguments) only read them, so a round allocates neither. Round goroutine only.
func (k *keySampler) built(t *trackedKey) {
	if t.labels != nil && t.labels[3].Value == typeLabel(t.typ) {
		return
	}
	t.labels = k.keyLabels(t.label, t.typ)
	t.exLabels = existsLabels(t, t.labels)
	t.refs = new(keyRefs)
	key := any(t.key) // boxed once, shared by both commands
	t.args = []any{lengthCommand(t.typ), key, "pttl", key}
}

// labelsOf returns keyLabels(t.label, t.typ). Round goroutine only.
func (k *keySampler) labelsOf(t *trackedKey) []tsdb.Label {
	k.built(t)
	return t.labels
}

// existsLabelsOf returns existsLabels(t, labelsOf(t)). Round goroutine only.
func (k *keySampler) existsLabelsOf(t *trackedKey) []tsdb.Label {
	k.built(t)
	return t.exLabels
}

// argsOf returns the arguments of t's length command (nil when its type has none) and of its
// PTTL. Round goroutine only.
func (k *keySampler) argsOf(t *trackedKey) (length, pttl []any) {
	k.built(t)
	if t.args[0] == "" {
		return nil, t.args[2:4:4]
	}
	return t.args[0:2:2], t.args[2:4:4]
}

// writeAsync hands samples to the Writer on another goroutine, so that the next batch's round
// trip overlaps this batch's storage write; it first waits for the previous one (writes stay
// in order, one at a time). samples must not be used afterwards. Every round function waits
// (waitWrites) before it returns, so no write outlives the round that made it.
// Round goroutine only.
func (k *keySampler) writeAsync(samples []tsdb.Sample) {
	k.waitWrites()
	if len(samples) == 0 {
		return
	}
	done := make(chan struct{})
	k.writing = done
	go func() {
		defer close(done)
		k.write(samples)
	}()
}

// waitWrites waits for the write writeAsync started, if any. Round goroutine only.
func (k *keySampler) waitWrites() {
	if k.writing != nil {
		<-k.writing
		k.writing = nil
	}
}

// expectMode is an exact key's expect_exists setting (config.Key.ExpectExists).
type expectMode uint8

const (
	expectByType expectMode = iota // nil: by the last known type
	expectAlways                   // true
	expectNever                    // false
)

func expectModeOf(b *bool) expectMode {
	switch {
	case b == nil:
		return expectByType
	case *b:
		return expectAlways
	}
	return expectNever
}

// expectsExistence reports whether t's absence is an alarm: its redis_key_exists then carries
// expect_exists="true", which the default "watched key missing" rule selects. Exact keys only:
// always with expect_exists = true, never with false, and by default when the last known type
// is one whose absence is not its empty state (string, stream, HyperLogLog, a module type; not
// list, set, zset or hash, which Redis deletes when emptied, and not a key never seen).
func (t *trackedKey) expectsExistence() bool {
	if t.pattern >= 0 {
		return false
	}
	switch t.expect {
	case expectAlways:
		return true
	case expectNever:
		return false
	}
	switch t.typ {
	case typeString, typeStream, typeHyperLogLog:
		return true
	case "", typeNone, typeList, typeSet, typeZSet, typeHash:
		return false
	}
	return true // a module type
}

// existsLabels are the labels of t's redis_key_exists: labels plus expect_exists="true" when
// its absence is an alarm (a copy; labels is not modified).
func existsLabels(t *trackedKey, labels []tsdb.Label) []tsdb.Label {
	if !t.expectsExistence() {
		return labels
	}
	return append(labels, tsdb.Label{Name: "expect_exists", Value: "true"}) // copies: cap(labels) == len
}

// logKey shortens a key name for logs (names may be huge or binary; never in full).
func logKey(key string) string {
	const max = 200
	if len(key) > max {
		return key[:max] + "..."
	}
	return key
}

// Counts returns how many keys are tracked one by one and how many patterns are watched.
func (k *keySampler) Counts() (keys, patterns int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.owners), len(k.patterns)
}
