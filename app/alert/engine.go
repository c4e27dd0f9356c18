package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

// StateInactive is the state of an alert instance that does not exist: the From of a
// transition into pending (or straight into firing when the rule's `for` is 0), and the To of
// a pending alert whose condition stopped holding before it fired.
const StateInactive State = "inactive"

// DefaultInterval is the evaluation interval when Options.Interval is 0.
const DefaultInterval = 10 * time.Second

// Store is the read side of storage the engine evaluates rules against (*tsdb.DB). It never
// talks to Redis.
type Store interface {
	// Latest returns the newest sample of every series matching sel (the latest-value table).
	Latest(sel *tsdb.Selector) []tsdb.LatestValue
	// Raw returns every stored point of the series matching sel within [start, end].
	Raw(ctx context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error)
}

// Querier evaluates MetricsQL instant queries for expr rules: the local *tsdb.DB, or a remote
// engine. Query returns one point per series, at at; an expression that does not parse is an
// error of tsdb.ErrBadQuery's kind, and it respects ctx's deadline.
type Querier interface {
	Query(ctx context.Context, expr string, at time.Time) ([]tsdb.Series, error)
}

// errNoQuerier is an expr rule's error when the engine has no Querier.
var errNoQuerier = errors.New("no query engine to evaluate expr (Options.Querier is nil)")

// Writer stores the ALERTS and redwatch_alerts_firing samples (*tsdb.DB).
type Writer interface {
	Write(samples []tsdb.Sample) error
}

// Options configure an Engine.
type Options struct {
	Store    Store    // required
	Querier  Querier  // evaluates expr rules; nil: each expr rule shows an error and never fires
	Writer   Writer   // nil: ALERTS and redwatch_alerts_firing are not written
	Notifier Notifier // nil: alerts are only shown
	// StateDir holds StateFile and SilencesFile (created, mode 0750, if missing); "" keeps
	// everything in memory only.
	StateDir string
	Interval time.Duration // how often Run evaluates; 0 means DefaultInterval
	Logger   *slog.Logger  // nil: discard
	Now      func() time.Time
}

// Transition is one change of an alert instance's state.
type Transition struct {
	At          time.Time         `json:"at"`
	Rule        string            `json:"rule"`
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	From        State             `json:"from"` // inactive, pending or firing
	To          State             `json:"to"`   // pending, firing, resolved or inactive
	Value       float64           `json:"value"`
}

// RuleStatus is what the alerts page shows about one rule.
type RuleStatus struct {
	Name     string `json:"name"`
	Series   string `json:"series"`
	Expr     string `json:"expr,omitempty"` // an expr rule's expression (Series is then "")
	Severity string `json:"severity"`
	// State is the worst state of the rule's alerts: "firing", "pending", or "ok" when it has
	// none.
	State        string        `json:"state"`
	Active       int           `json:"active"` // pending and firing alerts
	LastEval     time.Time     `json:"last_eval,omitzero"`
	EvalDuration time.Duration `json:"eval_duration_ns"`
	// Error is the last evaluation's problem: a failed query (the rule's alerts then kept
	// their state), a summary template that failed (a plain summary was used), or series
	// that collide once __name__ is dropped. Empty when the last evaluation went well.
	Error string      `json:"error,omitempty"`
	Rule  config.Rule `json:"rule"` // the rule with defaults applied
}

// Engine evaluates alert rules on a fixed interval. Every method is safe for concurrent use;
// Evaluate calls (Run makes them) are serialised, and only they call the Notifier.
//
// Each series a rule's selector matches is its own alert instance, identified by its labels:
// the series' labels without __name__, the rule's labels, alertname and severity (in rising
// order of precedence on a clash). An instance moves:
//
//	inactive -> pending    the condition "value op threshold" holds (for > 0)
//	pending  -> firing     it has held for `for` (inactive -> firing at once when for = 0)
//	pending  -> inactive   it stopped holding first; nothing is notified
//	firing   -> resolved   "value op clear_threshold" (or, without one, the condition) no
//	                       longer holds, or the series is gone
//
// An expr rule's instances are the series its expression returns at the evaluation instant
// (identified the same way; with no op each one's condition holds); a series is gone when the
// expression no longer returns it. A selector rule's series is gone when its newest sample is
// older than max(window, 3 intervals). Right after
// start, for that long, a gone series changes nothing, so a restart after some downtime does
// not resolve and re-fire alerts whose samples are just late.
type Engine struct {
	store    Store
	querier  Querier
	writer   Writer
	notifier Notifier
	stateDir string
	interval time.Duration
	log      *slog.Logger
	now      func() time.Time
	started  time.Time

	evalMu sync.Mutex // serialises Evaluate

	mu      sync.Mutex // guards what follows
	rules   []*ruleState
	byName  map[string]*ruleState
	orphans []Alert      // resolved alerts of removed rules, for the next Evaluate to pass on
	history []Transition // newest first, at most HistorySize
	dirty   bool         // the state changed since it was last saved
	// alertsWritten holds the ALERTS samples of the last round, by series, so the next round
	// ends those that are gone (resolved, pending→inactive, pending→firing) with a stale marker.
	alertsWritten map[string]tsdb.Sample

	smu      sync.Mutex // guards silences
	silences []Silence
}

// ruleState is one rule and its alerts.
type ruleState struct {
	rule         *rule
	alerts       map[uint64]*Alert // pending and firing, by fingerprint
	lastEval     time.Time
	evalDuration time.Duration
	err          string
}

// New validates and compiles rules (config.Rule.ApplyDefaults then Validate, unique names;
// every error names its rule) and loads the state and silences saved in opts.StateDir.
func New(opts Options, rules []config.Rule) (*Engine, error) {
	if opts.Store == nil {
		return nil, errors.New("alert: Options.Store is required")
	}
	compiled, err := compileRules(rules)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		store:    opts.Store,
		querier:  opts.Querier,
		writer:   opts.Writer,
		notifier: opts.Notifier,
		stateDir: opts.StateDir,
		interval: cmp.Or(opts.Interval, DefaultInterval),
		log:      opts.Logger,
		now:      opts.Now,
		byName:   map[string]*ruleState{},
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.started = e.now()
	for _, c := range compiled {
		rs := &ruleState{rule: c, alerts: map[uint64]*Alert{}}
		e.rules = append(e.rules, rs)
		e.byName[c.def.Name] = rs
	}
	if e.stateDir != "" {
		if err := os.MkdirAll(e.stateDir, 0o750); err != nil {
			return nil, fmt.Errorf("cannot create alert state directory: %w", err)
		}
	}
	if err := e.loadState(e.started); err != nil {
		return nil, err
	}
	if err := e.loadSilences(); err != nil {
		return nil, err
	}
	return e, nil
}

// SetRules replaces the rules, as New validates them; on an error nothing changes. A rule
// keeps its alerts when its name stays: they are judged against its new definition by the next
// evaluation (an unchanged rule just carries on; one whose threshold moved resolves or keeps
// firing as its values now say; one whose labels or severity changed gets new instances and
// its old ones resolve as gone). The firing alerts of a removed rule resolve now and are passed
// once to the Notifier, as resolved, by the next evaluation.
func (e *Engine) SetRules(rules []config.Rule) error {
	compiled, err := compileRules(rules)
	if err != nil {
		return err
	}
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	next := make([]*ruleState, 0, len(compiled))
	byName := make(map[string]*ruleState, len(compiled))
	for _, c := range compiled {
		rs := e.byName[c.def.Name]
		if rs == nil {
			rs = &ruleState{alerts: map[uint64]*Alert{}}
		} else if rs.rule.key != c.key {
			rs.err = "" // a new definition: its old problems are gone
		}
		rs.rule = c
		next = append(next, rs)
		byName[c.def.Name] = rs
	}
	for _, rs := range e.rules {
		if byName[rs.rule.def.Name] != nil {
			continue
		}
		for _, fp := range slices.Sorted(maps.Keys(rs.alerts)) {
			a := rs.alerts[fp]
			if a.State == StateFiring {
				e.orphan(a, now)
			} else {
				e.transition(a, StateInactive, now)
			}
		}
		e.log.Info("alert rule removed", "rule", rs.rule.def.Name, "alerts", len(rs.alerts))
	}
	e.rules, e.byName = next, byName
	return nil
}

// orphan resolves a firing alert of a rule that no longer exists. Callers hold e.mu.
func (e *Engine) orphan(a *Alert, now time.Time) {
	e.transition(a, StateResolved, now)
	a.ResolvedAt = now
	e.orphans = append(e.orphans, *a)
}

// transition moves a to state to, records it in the history and marks the state dirty.
// Callers hold e.mu.
func (e *Engine) transition(a *Alert, to State, now time.Time) {
	from := a.State
	if from == "" {
		from = StateInactive
	}
	t := Transition{At: now, Rule: a.Rule, Fingerprint: a.Fingerprint, Labels: a.Labels, From: from, To: to, Value: a.Value}
	e.history = slices.Insert(e.history, 0, t)
	if len(e.history) > HistorySize {
		e.history = e.history[:HistorySize:HistorySize]
	}
	if to != StateInactive {
		a.State = to
	}
	e.dirty = true
	level := slog.LevelInfo
	if to == StatePending || to == StateInactive {
		level = slog.LevelDebug
	}
	e.log.Log(context.Background(), level, "alert "+string(to), "rule", a.Rule, "fingerprint", a.Fingerprint, "from", from, "value", a.Value)
}

// Run evaluates every Interval, starting now, until ctx is done. Each round gets at most one
// interval; a rule whose query runs out of time records the error and keeps its alerts.
func (e *Engine) Run(ctx context.Context) {
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, e.interval)
		err := e.Evaluate(rctx, e.now())
		cancel()
		if err != nil && ctx.Err() == nil {
			e.log.Warn("alert evaluation incomplete", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// job is one rule to evaluate in a round, and its result.
type job struct {
	rs     *ruleState
	rule   *rule
	fetch  *fetch
	values []seriesValue
	dur    time.Duration
}

// Evaluate runs one round at now: it evaluates every rule (queries run in parallel), moves the
// alerts through their states, passes every firing alert and every alert resolved since the
// last round to the Notifier (silences applied), writes ALERTS and redwatch_alerts_firing
// stamped now, and saves the state when it changed. A rule whose query fails records the
// error and changes no alert state. The error reports what could not be written or saved.
func (e *Engine) Evaluate(ctx context.Context, now time.Time) error {
	e.evalMu.Lock()
	defer e.evalMu.Unlock()

	e.mu.Lock()
	jobs := make([]job, len(e.rules))
	for i, rs := range e.rules {
		jobs[i] = job{rs: rs, rule: rs.rule}
	}
	e.mu.Unlock()

	e.query(ctx, jobs, now)
	silences := e.activeSilences(now)

	e.mu.Lock()
	notify := e.orphans
	e.orphans = nil
	for i := range jobs {
		j := &jobs[i]
		if e.byName[j.rule.def.Name] != j.rs || j.rs.rule != j.rule {
			continue // replaced by SetRules meanwhile: the next round evaluates the new one
		}
		notify = e.apply(j, now, notify)
	}
	var samples []tsdb.Sample
	firing := map[string]float64{"critical": 0, "warning": 0, "info": 0}
	firingFP := map[string]bool{}
	nowMs := now.UnixMilli()
	written := make(map[string]tsdb.Sample, len(e.alertsWritten))
	for _, rs := range e.rules {
		for _, a := range rs.alerts {
			silence(a, silences)
			as := alertsSample(a, nowMs)
			samples = append(samples, as)
			written[tsdb.SeriesKey(as.Labels)] = as
			if a.State == StateFiring {
				firing[a.Severity]++
				firingFP[a.Fingerprint] = true
				notify = append(notify, *a)
			}
		}
	}
	// An ALERTS series written last round and not now ends at once, not 5 minutes later.
	for key, as := range e.alertsWritten {
		if _, ok := written[key]; !ok {
			as.Timestamp, as.Value = nowMs, tsdb.StaleMarker()
			samples = append(samples, as)
		}
	}
	e.alertsWritten = written
	var state []byte
	var stateErr error
	if e.dirty {
		state, stateErr = e.encodeState(now)
		e.dirty = false
	}
	e.mu.Unlock()

	for _, sev := range slices.Sorted(maps.Keys(firing)) {
		samples = append(samples, tsdb.Sample{
			Name:      "redwatch_alerts_firing",
			Labels:    []tsdb.Label{{Name: "severity", Value: sev}},
			Timestamp: nowMs,
			Value:     firing[sev],
		})
	}
	// A removed rule's alert that fires again under a rule of the same name is not resolved.
	notify = slices.DeleteFunc(notify, func(a Alert) bool { return a.State == StateResolved && firingFP[a.Fingerprint] })
	for i := range notify {
		if notify[i].State == StateResolved {
			silence(&notify[i], silences)
		}
	}
	slices.SortFunc(notify, func(a, b Alert) int {
		return cmp.Or(strings.Compare(a.Rule, b.Rule), strings.Compare(a.Fingerprint, b.Fingerprint))
	})
	if e.notifier != nil {
		e.notifier.Update(now, notify)
	}

	var errs []error
	if e.writer != nil {
		if err := e.writer.Write(samples); err != nil {
			errs = append(errs, fmt.Errorf("cannot write ALERTS: %w", err))
		}
	}
	if stateErr == nil && state != nil {
		stateErr = e.saveState(state)
	}
	if stateErr != nil {
		e.mu.Lock()
		e.dirty = true // try again next round
		e.mu.Unlock()
		errs = append(errs, stateErr)
	}
	return errors.Join(errs...)
}

// alertsSample is the ALERTS sample of an active alert; its labels are sorted by name.
func alertsSample(a *Alert, nowMs int64) tsdb.Sample {
	ls := make([]tsdb.Label, 0, len(a.Labels)+1)
	for k, v := range a.Labels {
		if k != "alertstate" {
			ls = append(ls, tsdb.Label{Name: k, Value: v})
		}
	}
	ls = append(ls, tsdb.Label{Name: "alertstate", Value: string(a.State)})
	slices.SortFunc(ls, func(a, b tsdb.Label) int { return strings.Compare(a.Name, b.Name) })
	return tsdb.Sample{Name: "ALERTS", Labels: ls, Timestamp: nowMs, Value: 1}
}

// query reads storage for every job, one read per selector (see query.go), and evaluates
// each job's rule, on up to GOMAXPROCS goroutines.
func (e *Engine) query(ctx context.Context, jobs []job, now time.Time) {
	byKey := map[string]*fetch{}
	var fetches []*fetch
	for i := range jobs {
		r := jobs[i].rule
		if r.expr != "" {
			key := "expr\x00" + r.expr
			f := byKey[key]
			if f == nil {
				f = &fetch{expr: r.expr}
				byKey[key] = f
				fetches = append(fetches, f)
			}
			jobs[i].fetch = f
			continue
		}
		latest := r.agg == "last"
		key := "raw\x00" + r.sel.String()
		if latest {
			key = "latest\x00" + r.sel.String()
		}
		f := byKey[key]
		if f == nil {
			f = &fetch{sel: r.sel, latest: latest, from: math.MaxInt64}
			byKey[key] = f
			fetches = append(fetches, f)
		}
		if !latest {
			f.from = min(f.from, r.rawFrom(now, e.interval))
		}
		jobs[i].fetch = f
	}
	parallel(len(fetches), func(i int) { fetches[i].run(ctx, e.store, e.querier, now) })
	parallel(len(jobs), func(i int) {
		j := &jobs[i]
		t0 := time.Now()
		if j.fetch.err == nil {
			j.values = j.rule.values(j.fetch, now, e.interval)
		}
		j.dur = j.fetch.dur + time.Since(t0)
	})
}

// parallel calls fn(0) ... fn(n-1) on up to GOMAXPROCS goroutines and waits for them.
func parallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// apply moves j's rule's alerts according to j's values and appends the alerts that resolved
// to notify. Callers hold e.mu.
func (e *Engine) apply(j *job, now time.Time, notify []Alert) []Alert {
	rs, r := j.rs, j.rule
	rs.lastEval, rs.evalDuration = now, j.dur
	prevErr := rs.err
	defer func() {
		if rs.err != prevErr && rs.err != "" {
			e.log.Warn("alert rule evaluation failed", "rule", r.def.Name, "err", rs.err)
		}
	}()
	if j.fetch.err != nil {
		rs.err = "cannot evaluate: " + j.fetch.err.Error()
		return notify
	}
	var problems []string
	// Summaries are rendered with the values just evaluated.
	var tmplErr error
	render := func(a *Alert) {
		s, err := r.summary(a.Labels, a.Value)
		a.Summary = s
		if err != nil && tmplErr == nil {
			tmplErr = err
		}
	}
	resolve := func(fp uint64, a *Alert) {
		e.transition(a, StateResolved, now)
		a.ResolvedAt = now
		render(a)
		delete(rs.alerts, fp)
		notify = append(notify, *a)
	}
	var (
		seen = map[uint64]bool{}
		dups int
	)
	for _, sv := range j.values {
		if len(rs.alerts) == 0 && !r.fires(sv.value) {
			continue // the common case: nothing to start, nothing to resolve
		}
		fp := r.fingerprint(sv.labels)
		if seen[fp] {
			dups++
			continue
		}
		seen[fp] = true
		a := rs.alerts[fp]
		switch {
		case a == nil:
			if !r.fires(sv.value) {
				continue
			}
			a = &Alert{
				Rule:        r.def.Name,
				Fingerprint: fingerprintString(fp),
				Labels:      r.labels(sv.labels),
				Severity:    r.def.Severity,
				Value:       sv.value,
				ActiveAt:    now,
			}
			rs.alerts[fp] = a
			if r.forDur > 0 {
				e.transition(a, StatePending, now)
			} else {
				a.FiredAt = now
				e.transition(a, StateFiring, now)
			}
		case a.State == StatePending:
			a.Value = sv.value
			if !r.fires(sv.value) {
				e.transition(a, StateInactive, now)
				delete(rs.alerts, fp)
				continue
			}
			if now.Sub(a.ActiveAt) >= r.forDur {
				a.FiredAt = now
				e.transition(a, StateFiring, now)
			}
		default: // firing
			a.Value = sv.value
			if !r.holds(sv.value) {
				resolve(fp, a)
				continue
			}
		}
	}
	if dups > 0 {
		problems = append(problems, fmt.Sprintf("%d series have the same labels as another once __name__ is dropped; only the first of each is evaluated", dups))
	}
	// Alerts whose series are gone.
	if now.Sub(e.started) >= r.stale(e.interval) {
		for _, fp := range slices.Sorted(maps.Keys(rs.alerts)) {
			if seen[fp] {
				continue
			}
			a := rs.alerts[fp]
			if a.State == StateFiring {
				resolve(fp, a)
			} else {
				e.transition(a, StateInactive, now)
				delete(rs.alerts, fp)
			}
		}
	}
	for _, a := range rs.alerts {
		render(a)
	}
	if tmplErr != nil {
		problems = append(problems, tmplErr.Error())
	}
	rs.err = strings.Join(problems, "; ")
	return notify
}

// Alerts returns the pending and firing alerts, firing first, then by severity (critical,
// warning, info), then oldest ActiveAt first. Silenced reflects the silences active now. The
// Labels maps are shared and must not be modified.
func (e *Engine) Alerts() []Alert {
	ss := e.activeSilences(e.now())
	e.mu.Lock()
	var out []Alert
	for _, rs := range e.rules {
		for _, a := range rs.alerts {
			out = append(out, *a)
		}
	}
	e.mu.Unlock()
	for i := range out {
		silence(&out[i], ss)
	}
	slices.SortFunc(out, compareAlerts)
	return out
}

func compareAlerts(a, b Alert) int {
	return cmp.Or(
		cmp.Compare(stateRank(a.State), stateRank(b.State)),
		cmp.Compare(SeverityRank(a.Severity), SeverityRank(b.Severity)),
		a.ActiveAt.Compare(b.ActiveAt),
		strings.Compare(a.Rule, b.Rule),
		strings.Compare(a.Fingerprint, b.Fingerprint),
	)
}

func stateRank(s State) int {
	switch s {
	case StateFiring:
		return 0
	case StatePending:
		return 1
	}
	return 2
}

// SeverityRank orders severities, most urgent first: critical 0, warning 1, info 2, any
// other 3.
func SeverityRank(s string) int {
	switch s {
	case "critical":
		return 0
	case "warning":
		return 1
	case "info":
		return 2
	}
	return 3
}

// History returns the last HistorySize transitions, newest first. The Labels maps are shared
// and must not be modified.
func (e *Engine) History() []Transition {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.history)
}

// Rules returns the status of every rule, in the order they were given.
func (e *Engine) Rules() []RuleStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]RuleStatus, 0, len(e.rules))
	for _, rs := range e.rules {
		def := rs.rule.def
		def.Labels = maps.Clone(def.Labels)
		if def.ClearThreshold != nil {
			v := *def.ClearThreshold
			def.ClearThreshold = &v
		}
		st := RuleStatus{
			Name:         def.Name,
			Series:       def.Series,
			Expr:         def.Expr,
			Severity:     def.Severity,
			State:        "ok",
			Active:       len(rs.alerts),
			LastEval:     rs.lastEval,
			EvalDuration: rs.evalDuration,
			Error:        rs.err,
			Rule:         def,
		}
		for _, a := range rs.alerts {
			if a.State == StateFiring {
				st.State = string(StateFiring)
				break
			}
			st.State = string(StatePending)
		}
		out = append(out, st)
	}
	return out
}
