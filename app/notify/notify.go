// Package notify delivers alert notifications: a Dispatcher receives every evaluation's alerts
// (it implements alert.Notifier) and, for each configured notifier (webhook, Slack, email,
// Alertmanager; one package each under app/notify/), decides what is due — a first firing
// notification, a reminder after repeat_interval, a resolved notification — and delivers it
// with retries, quiet hours and a persisted delivery log so that a restart neither re-sends nor
// forgets anything.
//
// Providers import this package for Notification, Notifier and the shared formatting helpers;
// this package never imports a provider (app/notify/providers builds them from configuration).
package notify

import (
	"context"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
)

// Notification statuses.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Notification is one message to one notifier: every alert in it has the same status.
type Notification struct {
	Status string // StatusFiring | StatusResolved
	// Alerts are sorted by severity (critical first), rule name, then fingerprint. Never empty.
	Alerts []alert.Alert
	// Reminder is true when every alert in a firing notification had already been delivered:
	// the message repeats it (repeat_interval, or a provider's resend interval).
	Reminder bool
	// ExternalURL is the base URL of redwatch used for links ("https://mon.example.com"); may
	// be empty.
	ExternalURL string
}

// Notifier delivers notifications to one destination.
type Notifier interface {
	// Name identifies the notifier in logs and on /alerts: "webhook[0]", "slack[1]", "email",
	// "alertmanager[0]". It never contains a secret.
	Name() string
	// Send delivers n and returns when the destination accepted it, or an error that contains
	// no secret (no URL path or token, no password). It must give up when ctx is done. The
	// Dispatcher calls Send of one notifier from one goroutine at a time.
	Send(ctx context.Context, n Notification) error
}

// Resender is implemented by notifiers whose destination forgets alerts that are not
// re-sent (Alertmanager resolves an alert it has not heard of for resolve_timeout): their
// delivered, still-firing alerts are sent again every ResendInterval, whatever repeat_interval
// says.
type Resender interface {
	ResendInterval() time.Duration
}

// Target is one notifier with its per-notifier settings.
type Target struct {
	Notifier Notifier
	Common   config.NotifierCommon
}
