package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/notify"
)

// alertsJSON is the body of /api/alerts: what /alerts shows. Times are RFC 3339; nothing in
// it is secret (notifier errors name hosts only).
type alertsJSON struct {
	// Alerts are the pending and firing alerts: unsilenced firing, unsilenced pending, then
	// silenced ones.
	Alerts []alert.Alert `json:"alerts"`
	// Silences are the active, pending and recently expired silences, latest end first.
	Silences  []silenceJSON      `json:"silences"`
	Rules     []ruleJSON         `json:"rules"`
	Notifiers []notifierJSON     `json:"notifiers"`
	History   []alert.Transition `json:"history"` // the latest 50, newest first
}

type silenceJSON struct {
	alert.Silence
	Status string `json:"status"` // active | pending | expired
}

type notifierJSON struct {
	notify.Health
	Healthy bool `json:"healthy"` // no failure since the last successful delivery
}

// ruleJSON is one rule (with defaults applied) and its state; durations in seconds.
type ruleJSON struct {
	Name                string            `json:"name"`
	Series              string            `json:"series"`
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
	LastEval            time.Time         `json:"last_eval,omitzero"`
	EvalDurationSeconds float64           `json:"eval_duration_seconds"`
	Error               string            `json:"error,omitempty"`
}

// listAlerts answers /api/alerts (any logged-in user) with alertsJSON.
func (s *apiHandler) listAlerts(c echo.Context) error {
	return c.JSON(http.StatusOK, s.alertsJSON(time.Now()))
}

func (s *apiHandler) alertsJSON(now time.Time) alertsJSON {
	src := s.opts.Alerts
	out := alertsJSON{
		Alerts:    orderAlerts(src.Alerts()),
		Silences:  []silenceJSON{},
		Rules:     []ruleJSON{},
		Notifiers: []notifierJSON{},
	}
	if out.Alerts == nil {
		out.Alerts = []alert.Alert{}
	}
	for _, sl := range src.Silences() {
		out.Silences = append(out.Silences, silenceJSON{Silence: sl, Status: silenceState(sl, now)})
	}
	for _, r := range src.Rules() {
		out.Rules = append(out.Rules, ruleJSON{
			Name: r.Name, Series: r.Series, Aggregate: r.Rule.Aggregate,
			WindowSeconds: time.Duration(r.Rule.Window).Seconds(), Op: r.Rule.Op,
			Threshold: r.Rule.Threshold, ClearThreshold: r.Rule.ClearThreshold,
			ForSeconds: time.Duration(r.Rule.For).Seconds(), Severity: r.Severity,
			Summary: r.Rule.Summary, Labels: r.Rule.Labels, State: r.State, Active: r.Active,
			LastEval: r.LastEval, EvalDurationSeconds: r.EvalDuration.Seconds(), Error: r.Error,
		})
	}
	for _, h := range s.opts.Notifiers.Health() {
		out.Notifiers = append(out.Notifiers, notifierJSON{Health: h, Healthy: h.ConsecutiveFailures == 0 && h.LastError == ""})
	}
	hist := src.History()
	out.History = hist[:min(len(hist), alertHistoryRows)]
	if out.History == nil {
		out.History = []alert.Transition{}
	}
	return out
}
