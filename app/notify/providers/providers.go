// Package providers builds the configured notifiers. It exists apart from app/notify because
// the providers import app/notify.
package providers

import (
	"fmt"
	"net/http"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
	"github.com/redwatch/redwatch/app/notify/alertmanager"
	"github.com/redwatch/redwatch/app/notify/email"
	"github.com/redwatch/redwatch/app/notify/slack"
	"github.com/redwatch/redwatch/app/notify/webhook"
)

// FromConfig returns one Target per configured notifier, in this order: webhook[i], slack[i],
// email (when notify.email.host is set), alertmanager[i]. The HTTP notifiers share one
// http.Client; their timeouts come from the Dispatcher's SendTimeout. Alertmanager targets
// always send resolved alerts, whatever their send_resolved says.
func FromConfig(n config.Notify) []notify.Target {
	client := &http.Client{}
	var out []notify.Target
	for i, c := range n.Webhook {
		out = append(out, notify.Target{Notifier: webhook.New(fmt.Sprintf("webhook[%d]", i), c, client), Common: c.NotifierCommon})
	}
	for i, c := range n.Slack {
		out = append(out, notify.Target{Notifier: slack.New(fmt.Sprintf("slack[%d]", i), c, client), Common: c.NotifierCommon})
	}
	if n.Email.Host != "" {
		out = append(out, notify.Target{Notifier: email.New(n.Email, email.Options{}), Common: n.Email.NotifierCommon})
	}
	for i, c := range n.Alertmanager {
		// Alertmanager always hears of a resolve (endsAt), as Prometheus does: otherwise its
		// alerts would stay active until its own resolve_timeout.
		common := c.NotifierCommon
		common.SendResolved = true
		out = append(out, notify.Target{Notifier: alertmanager.New(fmt.Sprintf("alertmanager[%d]", i), c, client), Common: common})
	}
	return out
}
