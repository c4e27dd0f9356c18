package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// alertsJSON is the body of /api/alerts: what /alerts shows. Timestamps are RFC 3339 in UTC,
// with any fraction of a second, named ..._at (left out when there is none); durations are in seconds, named
// ..._seconds. Nothing in it is secret (notifier errors name hosts only).
type alertsJSON struct {
	// Alerts are the pending and firing alerts: unsilenced firing, unsilenced pending, then
	// silenced ones.
	Alerts []alertJSON `json:"alerts"`
	// Silences are the active, pending and recently expired silences, latest end first.
	Silences  []silenceJSON    `json:"silences"`
	Rules     []ruleJSON       `json:"rules"`
	Notifiers []notifierJSON   `json:"notifiers"`
	History   []transitionJSON `json:"history"` // the latest 50, newest first
}

// alertJSON is one pending or firing alert instance.
type alertJSON struct {
	Rule        string            `json:"rule"`        // the rule's name (label alertname)
	Fingerprint string            `json:"fingerprint"` // 16 hex digits, stable hash of labels
	Labels      map[string]string `json:"labels"`
	Severity    string            `json:"severity"` // critical | warning | info
	Summary     string            `json:"summary"`
	Value       float64           `json:"value"`              // the last evaluated value, in the series' unit
	State       string            `json:"state"`              // pending | firing
	ActiveAt    string            `json:"active_at"`          // when the condition began to hold
	FiredAt     string            `json:"fired_at,omitempty"` // firing alerts only
	Silenced    bool              `json:"silenced"`
	SilenceID   string            `json:"silence_id,omitempty"`
}

// silenceJSON is one silence: it mutes the alerts all its matchers match.
type silenceJSON struct {
	ID        string        `json:"id"`
	Matchers  []matcherJSON `json:"matchers"`
	StartsAt  string        `json:"starts_at"`
	EndsAt    string        `json:"ends_at"`
	Comment   string        `json:"comment"`
	CreatedBy string        `json:"created_by"`
	Status    string        `json:"status"` // active | pending | expired
}

// matcherJSON is name = value; regex: value is an anchored regular expression; negate: !=, !~.
type matcherJSON struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Regex  bool   `json:"regex,omitempty"`
	Negate bool   `json:"negate,omitempty"`
}

// ruleJSON is one rule (with defaults applied) and its state.
type ruleJSON struct {
	Name                string            `json:"name"`
	Series              string            `json:"series"`
	Expr                string            `json:"expr,omitempty"` // an expr rule's MetricsQL (series, aggregate and window are then empty)
	Aggregate           string            `json:"aggregate"`
	WindowSeconds       float64           `json:"window_seconds"`
	Op                  string            `json:"op"`
	Threshold           float64           `json:"threshold"`
	ClearThreshold      *float64          `json:"clear_threshold,omitempty"`
	ForSeconds          float64           `json:"for_seconds"`
	Severity            string            `json:"severity"`
	Summary             string            `json:"summary"` // the template
	Labels              map[string]string `json:"labels,omitempty"`
	State               string            `json:"state"` // ok | pending | firing
	Active              int               `json:"active"`
	LastEvalAt          string            `json:"last_eval_at,omitempty"`
	EvalDurationSeconds float64           `json:"eval_duration_seconds"`
	Error               string            `json:"error,omitempty"`
}

// notifierJSON is one notifier's delivery state.
type notifierJSON struct {
	Name                string `json:"name"` // "webhook[0]"
	Kind                string `json:"kind"` // "webhook"
	LastSuccessAt       string `json:"last_success_at,omitempty"`
	LastAttemptAt       string `json:"last_attempt_at,omitempty"`
	LastError           string `json:"last_error,omitempty"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
	Pending             int    `json:"pending"` // alerts due but not delivered yet
	Held                bool   `json:"held"`    // inside the notifier's quiet hours
	Healthy             bool   `json:"healthy"` // no failure since the last successful delivery
}

// transitionJSON is one change of an alert instance's state.
type transitionJSON struct {
	At          string            `json:"at"`
	Rule        string            `json:"rule"`
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	From        string            `json:"from"` // inactive | pending | firing
	To          string            `json:"to"`   // pending | firing | resolved | inactive
	Value       float64           `json:"value"`
}

// listAlerts answers /api/alerts (any logged-in user) with alertsJSON.
func (s *alertsHandler) listAlerts(c echo.Context) error {
	return c.JSON(http.StatusOK, s.alertsJSON(s.now()))
}

func (s *alertsHandler) alertsJSON(now time.Time) alertsJSON {
	out := alertsJSON{
		Alerts:    []alertJSON{},
		Silences:  []silenceJSON{},
		Rules:     []ruleJSON{},
		Notifiers: []notifierJSON{},
		History:   []transitionJSON{},
	}
	for _, a := range orderAlerts(s.alerts.Alerts()) {
		out.Alerts = append(out.Alerts, alertJSON{
			Rule: a.Rule, Fingerprint: a.Fingerprint, Labels: a.Labels, Severity: a.Severity, Summary: a.Summary,
			Value: a.Value, State: string(a.State), ActiveAt: jsonTimeUTC(a.ActiveAt), FiredAt: jsonTimeUTC(a.FiredAt),
			Silenced: a.Silenced, SilenceID: a.SilenceID,
		})
	}
	for _, sl := range s.alerts.Silences() {
		ms := make([]matcherJSON, len(sl.Matchers))
		for i, m := range sl.Matchers {
			ms[i] = matcherJSON{Name: m.Name, Value: m.Value, Regex: m.Regex, Negate: m.Negate}
		}
		out.Silences = append(out.Silences, silenceJSON{
			ID: sl.ID, Matchers: ms, StartsAt: jsonTimeUTC(sl.StartsAt), EndsAt: jsonTimeUTC(sl.EndsAt),
			Comment: sl.Comment, CreatedBy: sl.CreatedBy, Status: silenceState(sl, now),
		})
	}
	for _, r := range s.alerts.Rules() {
		out.Rules = append(out.Rules, ruleJSON{
			Name: r.Name, Series: r.Series, Expr: r.Expr, Aggregate: r.Rule.Aggregate,
			WindowSeconds: time.Duration(r.Rule.Window).Seconds(), Op: r.Rule.Op,
			Threshold: r.Rule.Threshold, ClearThreshold: r.Rule.ClearThreshold,
			ForSeconds: time.Duration(r.Rule.For).Seconds(), Severity: r.Severity,
			Summary: r.Rule.Summary, Labels: r.Rule.Labels, State: r.State, Active: r.Active,
			LastEvalAt: jsonTimeUTC(r.LastEval), EvalDurationSeconds: r.EvalDuration.Seconds(), Error: r.Error,
		})
	}
	for _, h := range s.notifiers.Health() {
		out.Notifiers = append(out.Notifiers, notifierJSON{
			Name: h.Name, Kind: h.Kind, LastSuccessAt: jsonTimeUTC(h.LastSuccess), LastAttemptAt: jsonTimeUTC(h.LastAttempt),
			LastError: h.LastError, ConsecutiveFailures: h.ConsecutiveFailures, Pending: h.Pending, Held: h.Held,
			Healthy: h.ConsecutiveFailures == 0 && h.LastError == "",
		})
	}
	hist := s.alerts.History()
	for _, t := range hist[:min(len(hist), alertHistoryRows)] {
		out.History = append(out.History, transitionJSON{
			At: jsonTimeUTC(t.At), Rule: t.Rule, Fingerprint: t.Fingerprint, Labels: t.Labels,
			From: string(t.From), To: string(t.To), Value: t.Value,
		})
	}
	return out
}

// jsonTimeUTC is t as /api/alerts writes timestamps: RFC 3339 in UTC, with the fraction of a
// second (as the old time.Time fields had, and as webhooks send startsAt, so that an alert's
// times can be matched); "" for the zero time (left out with omitempty).
func jsonTimeUTC(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
