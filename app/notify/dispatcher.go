package notify

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/redwatch/redwatch/app/alert"
)

// Defaults of Options.
const (
	DefaultSendTimeout = 10 * time.Second
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = time.Minute
	DefaultPruneAfter  = 24 * time.Hour
)

// Options configure a Dispatcher. All fields are optional.
type Options struct {
	// StateDir holds notify.json, the delivery log; empty: nothing is persisted.
	StateDir string
	Logger   *slog.Logger // nil: slog.Default()
	// Now is the clock (default time.Now). Waiting uses the time package's timers, so tests
	// that move time run under testing/synctest rather than replacing Now.
	Now func() time.Time
	// SendTimeout bounds one Send (default 10s).
	SendTimeout time.Duration
	// ExternalURL is copied into every Notification (links back to redwatch).
	ExternalURL string
	// MinBackoff and MaxBackoff bound the wait between failed attempts: MinBackoff after the
	// first failure, doubling up to MaxBackoff (defaults 1s and 1m).
	MinBackoff, MaxBackoff time.Duration
	// PruneAfter is how long a delivery log entry is kept once its alert no longer appears in
	// updates (default 24h).
	PruneAfter time.Duration
}

// Health is one notifier's delivery state, for the /alerts page.
type Health struct {
	Name string `json:"name"` // "webhook[0]"
	Kind string `json:"kind"` // "webhook"
	// LastSuccess and LastAttempt are zero until the first one.
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	// LastError is the last failure's message ("" once a delivery succeeded again).
	LastError           string `json:"last_error,omitempty"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
	// Pending is how many alerts are due but not delivered yet (failing, backing off, held).
	Pending int `json:"pending"`
	// Held is true inside the notifier's quiet hours: nothing is sent, critical alerts
	// included; what is still relevant is delivered when the window ends.
	Held bool `json:"held"`
}

// delivery is one delivery log entry: the last notification delivered for an alert.
type delivery struct {
	Status   string    `json:"status"`    // StatusFiring | StatusResolved
	SentAt   time.Time `json:"sent_at"`   // when it was delivered
	ActiveAt time.Time `json:"active_at"` // the alert instance delivered (Alert.ActiveAt)
}

// sameInstance reports whether a is the alert instance that e recorded: the same fingerprint
// fires again after a resolve with a new ActiveAt.
func (e delivery) sameInstance(a alert.Alert) bool {
	return e.ActiveAt.IsZero() || a.ActiveAt.IsZero() || e.ActiveAt.Equal(a.ActiveAt)
}

// target is one notifier's configuration and delivery state.
type target struct {
	name, kind   string
	n            Notifier
	sendResolved bool
	repeat       time.Duration
	resend       time.Duration   // Resender's interval, 0 if none
	severities   map[string]bool // nil: every severity
	quiet        quietHours
	wake         chan struct{} // capacity 1

	// Guarded by Dispatcher.mu.
	delivered map[string]delivery    // fingerprint -> last delivery (persisted)
	resolved  map[string]alert.Alert // resolved alerts whose resolve is still to be decided or sent (persisted)
	missing   map[string]time.Time   // fingerprint -> first update it was absent from (memory only)
	health    Health
	retryAt   time.Time // no attempt before this while failing
}

func (t *target) accepts(severity string) bool { return t.severities == nil || t.severities[severity] }

// interval is how often a delivered, still-firing alert is sent again (0: never).
func (t *target) interval() time.Duration {
	switch {
	case t.repeat <= 0:
		return t.resend
	case t.resend <= 0:
		return t.repeat
	}
	return min(t.repeat, t.resend)
}

// Dispatcher decides, per notifier, what to deliver and delivers it. It implements
// alert.Notifier: Update records the latest alerts and returns at once; Run owns one worker
// per notifier, so a notifier that hangs or fails never delays evaluation or the others.
//
// For each notifier, from the latest alerts: a firing alert that is not silenced and whose
// severity the notifier accepts is sent once as firing; again as a reminder every
// repeat_interval (> 0) while it fires; and as resolved when it resolves, if it had been
// delivered as firing and send_resolved is set. A silenced alert is not sent (resolves
// included); if its silence ends while it still fires and it was never delivered, it is sent
// then. Everything due at one attempt is grouped into one Notification per status (resolved
// first). A failed attempt is retried after 1s, 2s, 4s ... up to 1m with whatever is still due
// then. Inside quiet hours nothing is sent — critical alerts included — and at the window's
// end whatever is still relevant is delivered.
//
// The delivery log is saved to StateDir/notify.json shortly after every change, so that a
// restart neither re-sends what was delivered nor forgets a resolve still to be sent (delivery
// is at least once: a crash between a delivery and the save sends it again).
//
// Update, Health and Run may be called concurrently; Run is called once.
type Dispatcher struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	targets []*target
	saveCh  chan struct{} // capacity 1

	mu     sync.Mutex
	firing map[string]alert.Alert // the latest update's firing alerts by fingerprint
	dirty  bool                   // the persisted state changed since the last save
}

var _ alert.Notifier = (*Dispatcher)(nil)

// New returns a Dispatcher for targets, with the delivery log loaded from StateDir. It fails
// on an invalid quiet_hours or timezone, or an unreadable state file; a state file that does
// not parse is logged and ignored.
func New(opts Options, targets []Target) (*Dispatcher, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SendTimeout <= 0 {
		opts.SendTimeout = DefaultSendTimeout
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.PruneAfter <= 0 {
		opts.PruneAfter = DefaultPruneAfter
	}
	d := &Dispatcher{
		opts:   opts,
		log:    opts.Logger,
		now:    opts.Now,
		saveCh: make(chan struct{}, 1),
		firing: map[string]alert.Alert{},
	}
	for _, tc := range targets {
		name := tc.Notifier.Name()
		q, err := parseQuietHours(tc.Common)
		if err != nil {
			return nil, fmt.Errorf("cannot configure notifier %s: %w", name, err)
		}
		kind, _, _ := strings.Cut(name, "[")
		t := &target{
			name:         name,
			kind:         kind,
			n:            tc.Notifier,
			sendResolved: tc.Common.SendResolved,
			repeat:       tc.Common.RepeatInterval.Std(),
			quiet:        q,
			wake:         make(chan struct{}, 1),
			delivered:    map[string]delivery{},
			resolved:     map[string]alert.Alert{},
			missing:      map[string]time.Time{},
			health:       Health{Name: name, Kind: kind},
		}
		if r, ok := tc.Notifier.(Resender); ok {
			t.resend = r.ResendInterval()
		}
		if len(tc.Common.Severities) > 0 {
			t.severities = map[string]bool{}
			for _, s := range tc.Common.Severities {
				t.severities[s] = true
			}
		}
		d.targets = append(d.targets, t)
	}
	if err := d.load(); err != nil {
		return nil, err
	}
	return d, nil
}

// Update records the alerts of one evaluation (every firing alert plus the ones that resolved
// in it) and wakes the workers. It never blocks on delivery or I/O.
func (d *Dispatcher) Update(now time.Time, alerts []alert.Alert) {
	firing := make(map[string]alert.Alert, len(alerts))
	var resolved []alert.Alert
	for _, a := range alerts {
		a.Labels = maps.Clone(a.Labels) // the caller may reuse its maps
		switch a.State {
		case alert.StateFiring:
			firing[a.Fingerprint] = a
		case alert.StateResolved:
			resolved = append(resolved, a)
		}
	}
	d.mu.Lock()
	d.firing = firing
	for _, t := range d.targets {
		// Whether a resolve is sent is decided by the worker, when no delivery of the same
		// alert can be in flight.
		for _, r := range resolved {
			if _, again := firing[r.Fingerprint]; !again {
				t.resolved[r.Fingerprint] = r
				d.dirty = true
			}
		}
		for fp := range firing {
			if _, ok := t.resolved[fp]; ok { // fires again before its resolve went out
				delete(t.resolved, fp)
				d.dirty = true
			}
		}
		d.prune(t, now)
	}
	dirty := d.dirty
	d.mu.Unlock()
	for _, t := range d.targets {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	if dirty {
		d.requestSave()
	}
}

// prune forgets delivery log entries of alerts absent from updates for PruneAfter. Called
// with d.mu held.
func (d *Dispatcher) prune(t *target, now time.Time) {
	for fp := range t.delivered {
		_, firing := d.firing[fp]
		_, resolving := t.resolved[fp]
		if firing || resolving {
			delete(t.missing, fp)
			continue
		}
		since, ok := t.missing[fp]
		if !ok {
			t.missing[fp] = now
		} else if now.Sub(since) >= d.opts.PruneAfter {
			delete(t.delivered, fp)
			delete(t.missing, fp)
			d.dirty = true
		}
	}
	for fp := range t.missing {
		if _, ok := t.delivered[fp]; !ok {
			delete(t.missing, fp)
		}
	}
}

// Health returns every notifier's delivery state, in configuration order.
func (d *Dispatcher) Health() []Health {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Health, len(d.targets))
	for i, t := range d.targets {
		out[i] = t.health
		out[i].Held, _ = t.quiet.active(now)
	}
	return out
}

// Run delivers notifications until ctx is done, then saves the delivery log and returns
// (after at most SendTimeout, even if a notifier ignores its context).
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range d.targets {
		wg.Go(func() { d.work(ctx, t) })
	}
	saverDone := make(chan struct{})
	go func() {
		defer close(saverDone)
		for {
			select {
			case <-ctx.Done():
				return
			case <-d.saveCh:
				d.save()
			}
		}
	}()
	workersDone := make(chan struct{})
	go func() { wg.Wait(); close(workersDone) }()
	<-ctx.Done()
	timer := time.NewTimer(d.opts.SendTimeout)
	defer timer.Stop()
	select {
	case <-workersDone:
	case <-timer.C:
		d.log.Warn("notifier did not stop in time", "timeout", d.opts.SendTimeout)
	}
	<-saverDone
	d.save()
}

func (d *Dispatcher) requestSave() {
	select {
	case d.saveCh <- struct{}{}:
	default:
	}
}

// work is one notifier's loop: deliver what is due, then sleep until an update, the next
// reminder, the end of a backoff or the end of quiet hours.
func (d *Dispatcher) work(ctx context.Context, t *target) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		next := d.deliverDue(ctx, t)
		if ctx.Err() != nil {
			return
		}
		var tc <-chan time.Time
		if !next.IsZero() {
			timer.Reset(max(0, next.Sub(d.now())))
			tc = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-t.wake:
		case <-tc:
		}
		timer.Stop()
	}
}

// deliverDue sends what is due for t until nothing is, and returns when to look again (zero:
// only on the next update).
func (d *Dispatcher) deliverDue(ctx context.Context, t *target) time.Time {
	for {
		now := d.now()
		batch, next := d.plan(t, now)
		if len(batch) == 0 {
			return next
		}
		for _, n := range batch {
			sctx, cancel := context.WithTimeout(ctx, d.opts.SendTimeout)
			err := t.n.Send(sctx, n)
			cancel()
			if ctx.Err() != nil {
				return time.Time{} // shutting down: not a failure of the notifier
			}
			if !d.record(t, n, now, err) {
				break
			}
		}
		d.requestSave()
	}
}

// plan returns the notifications due for t at now, and when something next falls due if
// none is. It also settles resolved alerts whose resolve will never be sent.
func (d *Dispatcher) plan(t *target, now time.Time) ([]Notification, time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var next time.Time
	soonest := func(at time.Time) {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	var resolved []alert.Alert
	for fp, r := range t.resolved {
		e, ok := t.delivered[fp]
		if !ok || e.Status != StatusFiring || !e.sameInstance(r) {
			delete(t.resolved, fp) // never delivered as firing: nothing to resolve
			d.dirty = true
			continue
		}
		if !t.sendResolved || r.Silenced || !t.accepts(r.Severity) {
			delete(t.resolved, fp) // done with this instance
			delete(t.delivered, fp)
			d.dirty = true
			continue
		}
		resolved = append(resolved, r)
	}
	var firing []alert.Alert
	reminder := true
	iv := t.interval()
	for fp, a := range d.firing {
		if a.Silenced || !t.accepts(a.Severity) {
			continue
		}
		e, ok := t.delivered[fp]
		if !ok || e.Status != StatusFiring || !e.sameInstance(a) {
			firing = append(firing, a)
			reminder = false
			continue
		}
		if iv > 0 {
			if at := e.SentAt.Add(iv); now.Before(at) {
				soonest(at)
			} else {
				firing = append(firing, a)
			}
		}
	}
	t.health.Pending = len(resolved) + len(firing)
	if held, end := t.quiet.active(now); held {
		return nil, end
	}
	if t.health.Pending == 0 {
		return nil, next
	}
	if now.Before(t.retryAt) {
		soonest(t.retryAt)
		return nil, next
	}
	var batch []Notification
	if len(resolved) > 0 {
		sortAlerts(resolved)
		batch = append(batch, Notification{Status: StatusResolved, Alerts: resolved, ExternalURL: d.opts.ExternalURL})
	}
	if len(firing) > 0 {
		sortAlerts(firing)
		batch = append(batch, Notification{Status: StatusFiring, Alerts: firing, Reminder: reminder, ExternalURL: d.opts.ExternalURL})
	}
	return batch, next
}

// record notes the outcome of sending n, attempted at now, and reports whether it succeeded.
func (d *Dispatcher) record(t *target, n Notification, now time.Time, err error) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	t.health.LastAttempt = now
	if err != nil {
		t.health.ConsecutiveFailures++
		t.health.LastError = err.Error()
		wait := d.backoff(t.health.ConsecutiveFailures)
		t.retryAt = now.Add(wait)
		d.log.Warn("cannot send notification", "notifier", t.name, "status", n.Status,
			"alerts", len(n.Alerts), "failures", t.health.ConsecutiveFailures, "retry_in", wait, "error", err)
		return false
	}
	if t.health.ConsecutiveFailures > 0 {
		d.log.Info("notifier recovered", "notifier", t.name, "failures", t.health.ConsecutiveFailures)
	}
	t.health.ConsecutiveFailures = 0
	t.health.LastError = ""
	t.health.LastSuccess = now
	t.retryAt = time.Time{}
	for _, a := range n.Alerts {
		t.delivered[a.Fingerprint] = delivery{Status: n.Status, SentAt: now, ActiveAt: a.ActiveAt}
		if n.Status == StatusResolved {
			delete(t.resolved, a.Fingerprint)
		}
	}
	d.dirty = true
	return true
}

// backoff is the wait after the n-th consecutive failure: MinBackoff·2^(n-1), capped.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.opts.MinBackoff
	for i := 1; i < n && w < d.opts.MaxBackoff; i++ {
		w *= 2
	}
	return min(w, d.opts.MaxBackoff)
}
