// Package alert evaluates alert rules against stored series, tracks each alert instance through
// pending, firing and resolved, and hands firing and resolved alerts to a Notifier.
package alert

import "time"

// State is an alert instance's state.
type State string

const (
	StatePending  State = "pending"
	StateFiring   State = "firing"
	StateResolved State = "resolved"
)

// Alert is one alert instance: one rule applied to one matching series.
type Alert struct {
	Rule        string            `json:"rule"`        // the rule's name (label alertname)
	Fingerprint string            `json:"fingerprint"` // 16 hex chars, stable hash of Labels
	Labels      map[string]string `json:"labels"`      // alertname, severity, the rule's labels, the series' labels (not __name__)
	Severity    string            `json:"severity"`    // critical | warning | info
	Summary     string            `json:"summary"`     // the rule's summary template rendered
	Value       float64           `json:"value"`       // the last evaluated value
	State       State             `json:"state"`
	ActiveAt    time.Time         `json:"active_at"` // when the condition began to hold
	FiredAt     time.Time         `json:"fired_at,omitzero"`
	ResolvedAt  time.Time         `json:"resolved_at,omitzero"`
	Silenced    bool              `json:"silenced"`
	SilenceID   string            `json:"silence_id,omitempty"`
}

// Notifier receives, after every evaluation, every firing alert plus every alert that
// resolved in that evaluation (State resolved). Update must not block; it is called from the
// evaluation loop only. Pending alerts are never passed.
type Notifier interface {
	Update(now time.Time, alerts []Alert)
}
