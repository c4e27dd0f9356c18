package providers_test

import (
	"slices"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
	"github.com/redwatch/redwatch/app/notify/providers"
)

func TestFromConfig(t *testing.T) {
	f := func(n config.Notify, wantNames ...string) []notify.Target {
		t.Helper()
		targets := providers.FromConfig(n)
		var names []string
		for _, tg := range targets {
			names = append(names, tg.Notifier.Name())
		}
		if !slices.Equal(names, wantNames) {
			t.Fatalf("names = %q, want %q", names, wantNames)
		}
		return targets
	}
	f(config.Notify{Email: config.Email{Port: 587, TLS: "starttls"}}) // no host: no email
	ts := f(config.Notify{
		Webhook:      []config.Webhook{{URL: "http://a"}, {URL: "http://b", NotifierCommon: config.NotifierCommon{SendResolved: true}}},
		Slack:        []config.Slack{{URL: "http://s", NotifierCommon: config.NotifierCommon{Severities: []string{"critical"}}}},
		Email:        config.Email{Host: "smtp.example.com", Port: 587, TLS: "starttls", From: "a@example.com", To: []string{"b@example.com"}},
		Alertmanager: []config.Alertmanager{{URL: "http://am:9093", NotifierCommon: config.NotifierCommon{RepeatInterval: config.Duration(time.Hour)}}},
	}, "webhook[0]", "webhook[1]", "slack[0]", "email", "alertmanager[0]")
	if !ts[1].Common.SendResolved || ts[0].Common.SendResolved || !slices.Equal(ts[2].Common.Severities, []string{"critical"}) ||
		ts[4].Common.RepeatInterval.Std() != time.Hour || !ts[4].Common.SendResolved {
		t.Fatalf("common settings not carried over: %+v", ts)
	}
	if r, ok := ts[4].Notifier.(notify.Resender); !ok || r.ResendInterval() != time.Minute {
		t.Fatal("alertmanager is not a Resender with a 1m interval")
	}
	if _, ok := ts[0].Notifier.(notify.Resender); ok {
		t.Fatal("webhook is a Resender")
	}
	// The dispatcher accepts them, and reports their kinds.
	d, err := notify.New(notify.Options{}, ts)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, h := range d.Health() {
		kinds = append(kinds, h.Kind)
	}
	if !slices.Equal(kinds, []string{"webhook", "webhook", "slack", "email", "alertmanager"}) {
		t.Fatalf("kinds = %q", kinds)
	}
}
