package web

import (
	"errors"
	"fmt"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/notify"
)

// AlertSource is what /alerts and /api/alerts read and change; *alert.Engine satisfies it.
// Every method must be safe for concurrent use and must not block on I/O other than the
// silences' persistence (AddSilence, ExpireSilence).
type AlertSource interface {
	// Alerts returns the pending and firing alerts, firing first, with Silenced set from the
	// silences active now. The Labels maps are shared and must not be modified.
	Alerts() []alert.Alert
	// History returns the latest transitions, newest first.
	History() []alert.Transition
	// Rules returns every rule's status, in configuration order.
	Rules() []alert.RuleStatus
	// Silences returns the active, pending and recently expired silences.
	Silences() []alert.Silence
	// AddSilence checks a new silence against the silence policy (alert.ValidateSilence: an
	// invalid one gives an *alert.SilenceError), stores it and returns it (with its ID).
	AddSilence(s alert.Silence) (alert.Silence, error)
	// ExpireSilence ends a silence now; an unknown ID gives an error wrapping
	// alert.ErrSilenceNotFound.
	ExpireSilence(id string) error
}

// NotifierHealth reports the delivery state of every notifier; *notify.Dispatcher satisfies it.
type NotifierHealth interface {
	Health() []notify.Health
}

var (
	_ AlertSource    = (*alert.Engine)(nil)
	_ NotifierHealth = (*notify.Dispatcher)(nil)
)

// errNoAlertEngine is what noAlerts answers to changes.
var errNoAlertEngine = errors.New("alerts are not evaluated: there is no alert engine")

// noAlerts is the AlertSource used when Options.Alerts is nil: no rules, no alerts, and
// silences cannot be made.
type noAlerts struct{}

func (noAlerts) Alerts() []alert.Alert       { return nil }
func (noAlerts) History() []alert.Transition { return nil }
func (noAlerts) Rules() []alert.RuleStatus   { return nil }
func (noAlerts) Silences() []alert.Silence   { return nil }
func (noAlerts) AddSilence(alert.Silence) (alert.Silence, error) {
	return alert.Silence{}, errNoAlertEngine
}
func (noAlerts) ExpireSilence(id string) error {
	return fmt.Errorf("cannot expire silence %q: %w", id, alert.ErrSilenceNotFound)
}

// noNotifiers is the NotifierHealth used when Options.Notifiers is nil.
type noNotifiers struct{}

func (noNotifiers) Health() []notify.Health { return nil }
