// Package webhook delivers notifications as JSON POSTs in the shape of Alertmanager's webhook
// receiver (version "4"), so that tools written for Alertmanager webhooks accept them.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
)

// Webhook POSTs notifications to one URL. Safe for concurrent use.
type Webhook struct {
	name   string
	url    string
	header http.Header
	client *http.Client
}

var _ notify.Notifier = (*Webhook)(nil)

// New returns the webhook named name ("webhook[0]") for cfg. client nil means a plain
// &http.Client{}; the timeout is the Send context's deadline.
func New(name string, cfg config.Webhook, client *http.Client) *Webhook {
	h := http.Header{}
	for k, v := range cfg.Headers {
		h.Set(k, v)
	}
	return &Webhook{name: name, url: cfg.URL, header: h, client: client}
}

// Name implements notify.Notifier.
func (w *Webhook) Name() string { return w.name }

// Send implements notify.Notifier.
func (w *Webhook) Send(ctx context.Context, n notify.Notification) error {
	body, err := json.Marshal(NewPayload(n))
	if err != nil {
		return fmt.Errorf("cannot encode the webhook payload: %w", err)
	}
	return notify.PostJSON(ctx, w.client, w.url, w.header, body)
}

// Payload is the JSON body: Alertmanager's webhook format plus redwatch's "reminder".
type Payload struct {
	Version           string            `json:"version"` // "4"
	Status            string            `json:"status"`  // firing | resolved
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Reminder          bool              `json:"reminder"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a Payload.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"` // summary
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"` // zero (0001-01-01T00:00:00Z) while firing, as Alertmanager sends it
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	Value        *float64          `json:"value"` // null when NaN or infinite
	Silenced     bool              `json:"silenced"`
}

// NewPayload builds the webhook body for n.
func NewPayload(n notify.Notification) Payload {
	p := Payload{
		Version:           "4",
		Status:            n.Status,
		Receiver:          "redwatch",
		GroupLabels:       map[string]string{},
		CommonLabels:      commonLabels(n.Alerts),
		CommonAnnotations: map[string]string{},
		ExternalURL:       n.ExternalURL,
		Reminder:          n.Reminder,
		Alerts:            make([]Alert, 0, len(n.Alerts)),
	}
	if len(n.Alerts) > 0 {
		common := n.Alerts[0].Summary
		for _, a := range n.Alerts[1:] {
			if a.Summary != common {
				common = ""
				break
			}
		}
		if common != "" {
			p.CommonAnnotations["summary"] = common
		}
	}
	for _, a := range n.Alerts {
		wa := Alert{
			Status:       n.Status,
			Labels:       a.Labels,
			Annotations:  map[string]string{"summary": a.Summary},
			StartsAt:     notify.StartsAt(a).UTC(),
			GeneratorURL: notify.AlertsURL(n.ExternalURL),
			Fingerprint:  a.Fingerprint,
			Silenced:     a.Silenced,
		}
		if wa.Labels == nil {
			wa.Labels = map[string]string{}
		}
		if n.Status == notify.StatusResolved {
			wa.EndsAt = a.ResolvedAt.UTC()
		}
		if !math.IsNaN(a.Value) && !math.IsInf(a.Value, 0) {
			v := a.Value
			wa.Value = &v
		}
		p.Alerts = append(p.Alerts, wa)
	}
	return p
}

// commonLabels returns the labels every alert shares with the same value.
func commonLabels(as []alert.Alert) map[string]string {
	out := map[string]string{}
	if len(as) == 0 {
		return out
	}
	for k, v := range as[0].Labels {
		out[k] = v
	}
	for _, a := range as[1:] {
		for k, v := range out {
			if a.Labels[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}
