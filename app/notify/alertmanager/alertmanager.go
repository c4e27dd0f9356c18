// Package alertmanager pushes alerts to a Prometheus Alertmanager through its v2 API
// (POST /api/v2/alerts), as Prometheus itself does: firing alerts without endsAt, re-sent every
// minute so that Alertmanager does not time them out, and resolved alerts with endsAt set.
package alertmanager

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
)

// DefaultResendInterval is how often delivered, still-firing alerts are pushed again; well
// below Alertmanager's default resolve_timeout (5m).
const DefaultResendInterval = time.Minute

// Alertmanager pushes alerts to one Alertmanager. Safe for concurrent use.
type Alertmanager struct {
	name   string
	url    string // .../api/v2/alerts
	client *http.Client
}

var (
	_ notify.Notifier = (*Alertmanager)(nil)
	_ notify.Resender = (*Alertmanager)(nil)
)

// New returns the notifier named name ("alertmanager[0]") for cfg, whose URL is
// Alertmanager's base URL ("http://am:9093"). client nil means a plain &http.Client{}; the
// timeout is the Send context's deadline.
func New(name string, cfg config.Alertmanager, client *http.Client) *Alertmanager {
	return &Alertmanager{name: name, url: strings.TrimRight(cfg.URL, "/") + "/api/v2/alerts", client: client}
}

// Name implements notify.Notifier.
func (a *Alertmanager) Name() string { return a.name }

// ResendInterval implements notify.Resender.
func (a *Alertmanager) ResendInterval() time.Duration { return DefaultResendInterval }

// PostableAlert is one element of the POST /api/v2/alerts body.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"` // set on resolved alerts only
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Send implements notify.Notifier.
func (a *Alertmanager) Send(ctx context.Context, n notify.Notification) error {
	body, err := json.Marshal(Alerts(n))
	if err != nil {
		return fmt.Errorf("cannot encode the Alertmanager alerts: %w", err)
	}
	return notify.PostJSON(ctx, a.client, a.url, nil, body)
}

// Alerts converts n to Alertmanager alerts. Alertmanager requires an alertname label; it is
// set from the rule when the labels lack it.
func Alerts(n notify.Notification) []PostableAlert {
	out := make([]PostableAlert, 0, len(n.Alerts))
	for _, al := range n.Alerts {
		labels := maps.Clone(al.Labels)
		if labels == nil {
			labels = map[string]string{}
		}
		if labels["alertname"] == "" {
			labels["alertname"] = al.Rule
		}
		pa := PostableAlert{
			Labels:       labels,
			StartsAt:     notify.StartsAt(al).UTC(),
			GeneratorURL: notify.AlertsURL(n.ExternalURL),
		}
		if al.Summary != "" {
			pa.Annotations = map[string]string{"summary": al.Summary}
		}
		if n.Status == notify.StatusResolved {
			pa.EndsAt = al.ResolvedAt.UTC()
			if al.ResolvedAt.IsZero() { // without endsAt Alertmanager would keep it firing
				pa.EndsAt = time.Now().UTC()
			}
		}
		out = append(out, pa)
	}
	return out
}
