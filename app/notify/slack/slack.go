// Package slack delivers notifications to a Slack incoming webhook as plain text: a title line
// such as "[FIRING:2] RedisDown (critical)" and one line per alert.
package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
)

// Slack POSTs notifications to one incoming-webhook URL. Safe for concurrent use.
type Slack struct {
	name    string
	url     string
	channel string
	client  *http.Client
}

var _ notify.Notifier = (*Slack)(nil)

// New returns the Slack notifier named name ("slack[0]") for cfg. client nil means a plain
// &http.Client{}; the timeout is the Send context's deadline.
func New(name string, cfg config.Slack, client *http.Client) *Slack {
	return &Slack{name: name, url: cfg.URL, channel: cfg.Channel, client: client}
}

// Name implements notify.Notifier.
func (s *Slack) Name() string { return s.name }

// Payload is the incoming-webhook body.
type Payload struct {
	Text    string `json:"text"`
	Channel string `json:"channel,omitempty"`
}

// Send implements notify.Notifier.
func (s *Slack) Send(ctx context.Context, n notify.Notification) error {
	body, err := json.Marshal(Payload{Text: Text(n), Channel: s.channel})
	if err != nil {
		return fmt.Errorf("cannot encode the Slack payload: %w", err)
	}
	return notify.PostJSON(ctx, s.client, s.url, nil, body)
}

// MaxLines is how many alerts one message lists; the rest are counted ("... and 12 more") so
// that the text stays well within Slack's message size limit.
const MaxLines = 50

// Text is the message for n, escaped for Slack (&, <, > as &amp; &lt; &gt;):
//
//	[FIRING:2] RedisDown (critical)
//	RedisDown critical: Redis a is down (instance=a, value 0, since 2026-01-02 15:04:05 UTC)
//	RedisDown critical: Redis b is down (instance=b, value 0, since 2026-01-02 15:04:05 UTC)
//	https://redwatch.example.com/alerts
func Text(n notify.Notification) string {
	var b strings.Builder
	b.WriteString("[" + strings.ToUpper(n.Status) + ":" + strconv.Itoa(len(n.Alerts)) + "] ")
	b.WriteString(notify.Title(n))
	if n.Reminder {
		b.WriteString(" - reminder")
	}
	for i, a := range n.Alerts {
		if i == MaxLines {
			fmt.Fprintf(&b, "\n... and %d more", len(n.Alerts)-MaxLines)
			break
		}
		b.WriteString("\n" + notify.AlertLine(a))
	}
	if u := notify.AlertsURL(n.ExternalURL); u != "" {
		b.WriteString("\n" + notify.Sanitize(u))
	}
	return Escape(b.String())
}

// Escape applies Slack's message escaping: &, < and > become &amp;, &lt; and &gt;.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
