package web

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/notify"
)

// fakeAlerts is an AlertSource with fixed answers; it cannot make silences.
type fakeAlerts struct {
	alerts   []alert.Alert
	history  []alert.Transition // newest first
	rules    []alert.RuleStatus
	silences []alert.Silence
}

var _ AlertSource = (*fakeAlerts)(nil)

func (f *fakeAlerts) Alerts() []alert.Alert       { return slices.Clone(f.alerts) }
func (f *fakeAlerts) History() []alert.Transition { return slices.Clone(f.history) }
func (f *fakeAlerts) Rules() []alert.RuleStatus   { return slices.Clone(f.rules) }
func (f *fakeAlerts) Silences() []alert.Silence   { return slices.Clone(f.silences) }
func (f *fakeAlerts) AddSilence(alert.Silence) (alert.Silence, error) {
	return alert.Silence{}, errors.New("fakeAlerts makes no silences")
}
func (f *fakeAlerts) ExpireSilence(id string) error {
	return fmt.Errorf("cannot expire silence %q: %w", id, alert.ErrSilenceNotFound)
}

// queueAlerts is what an engine with queueRules reports after newQueueEngine's two
// evaluations at t0 and t0+10s: queue hostileQueue (5) then queue b (7) fire QueueLong
// (critical) and QueueBadSummary (its summary fails), and QueueSlow is pending for both.
func queueAlerts(t0 time.Time) *fakeAlerts {
	f := &fakeAlerts{}
	queues := []struct {
		q     string
		v     float64
		since time.Time
	}{{hostileQueue, 5, t0}, {"b", 7, t0.Add(10 * time.Second)}}
	summaries := map[string]func(q string, v float64) string{
		"QueueLong":       func(q string, v float64) string { return fmt.Sprintf("Queue %s holds %v jobs", q, v) },
		"QueueBadSummary": func(_ string, v float64) string { return fmt.Sprintf("QueueBadSummary: %v > 1", v) },
		"QueueSlow":       func(_ string, v float64) string { return fmt.Sprintf("QueueSlow: %v > 1", v) },
	}
	for _, r := range []struct{ rule, severity string }{{"QueueLong", "critical"}, {"QueueBadSummary", "warning"}, {"QueueSlow", "warning"}} {
		for _, q := range queues {
			a := alert.Alert{
				Rule: r.rule, Fingerprint: fmt.Sprintf("%016x", len(f.alerts)+1), Severity: r.severity,
				Labels:  map[string]string{"alertname": r.rule, "severity": r.severity, "q": q.q},
				Summary: summaries[r.rule](q.q, q.v), Value: q.v, State: alert.StateFiring, ActiveAt: q.since, FiredAt: q.since,
			}
			if r.rule == "QueueSlow" {
				a.State, a.FiredAt = alert.StatePending, time.Time{}
			}
			f.alerts = append(f.alerts, a)
			f.history = append(f.history, alert.Transition{At: q.since, Rule: a.Rule, Fingerprint: a.Fingerprint,
				Labels: a.Labels, From: alert.StateInactive, To: a.State, Value: a.Value})
		}
	}
	slices.SortStableFunc(f.history, func(a, b alert.Transition) int { return b.At.Compare(a.At) })
	states := map[string]string{"QueueLong": "firing", "QueueSlow": "pending", "QueueHuge": "ok", "QueueBadSummary": "firing", "MemoryHigh": "ok"}
	for _, r := range queueRules() {
		r.ApplyDefaults()
		st := alert.RuleStatus{Name: r.Name, Series: r.Series, Severity: r.Severity, State: states[r.Name],
			LastEval: t0.Add(10 * time.Second), EvalDuration: time.Millisecond, Rule: r}
		if st.State != "ok" {
			st.Active = 2
		}
		if r.Name == "QueueBadSummary" {
			st.Error = "cannot render summary: template: QueueBadSummary:1:3: executing \"QueueBadSummary\" at <index .Labels 5>: error calling index: cannot index map with type int"
		}
		f.rules = append(f.rules, st)
	}
	return f
}

// fakeNotifiers is a NotifierHealth with fixed answers.
type fakeNotifiers []notify.Health

func (f fakeNotifiers) Health() []notify.Health { return slices.Clone(f) }

// failingNotifiers is a webhook failing (its last error has HTML in it) and a healthy slack.
func failingNotifiers(now time.Time) fakeNotifiers {
	return fakeNotifiers{
		{Name: "webhook[0]", Kind: "webhook", LastAttempt: now.Add(-5 * time.Second), ConsecutiveFailures: 3, Pending: 2,
			LastError: `POST to hooks.example.com: unexpected status 500 Internal Server Error: "<b>boom</b>"`},
		{Name: "slack[0]", Kind: "slack", LastSuccess: now.Add(-time.Minute), LastAttempt: now.Add(-time.Minute)},
	}
}
