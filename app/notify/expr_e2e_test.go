package notify_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
	"github.com/redwatch/redwatch/app/notify/webhook"
	"github.com/redwatch/redwatch/tsdb"
)

// TestExprRuleFiresAndResolvesAtWebhook runs the shipped predict_linear rule
// (RedisMemoryFullForecast, an expr rule) on a real tsdb with an injected clock, through the
// dispatcher, to a real webhook HTTP server: it fires once `for` has passed, and resolves when
// maxmemory is raised.
func TestExprRuleFiresAndResolvesAtWebhook(t *testing.T) {
	got := make(chan webhook.Payload, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		got <- p
	}))
	defer srv.Close()
	d := runDispatcher(t, notify.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
		notify.Target{Notifier: webhook.New("webhook[0]", config.Webhook{URL: srv.URL}, nil), Common: config.NotifierCommon{SendResolved: true}})

	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rule config.Rule
	for _, r := range alert.DefaultRules() {
		if r.Name == "RedisMemoryFullForecast" {
			rule = r
		}
	}
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	now := start
	e, err := alert.New(alert.Options{Store: db, Querier: db, Writer: db, Notifier: d, Interval: 10 * time.Second,
		Now: func() time.Time { return now }}, []config.Rule{rule})
	if err != nil {
		t.Fatal(err)
	}
	maxBytes := float64(1 << 30)
	write := func(at time.Time) {
		ls := []tsdb.Label{{Name: "instance", Value: "cache"}}
		used := 500<<20 + at.Sub(start).Seconds()*(1<<20) // +1 MiB/s: 14 GiB more in 4 h
		if err := db.Write([]tsdb.Sample{
			{Name: "redis_memory_used_bytes", Labels: ls, Timestamp: at.UnixMilli(), Value: used},
			{Name: "redis_memory_max_bytes", Labels: ls, Timestamp: at.UnixMilli(), Value: maxBytes},
		}); err != nil {
			t.Fatal(err)
		}
	}
	for ; now.Before(start.Add(30 * time.Minute)); now = now.Add(30 * time.Second) {
		write(now)
	}
	eval := func() {
		t.Helper()
		write(now)
		db.Flush()
		if err := e.Evaluate(context.Background(), now); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(status string) webhook.Payload {
		t.Helper()
		select {
		case p := <-got:
			if p.Status != status || len(p.Alerts) != 1 || p.Alerts[0].Labels["alertname"] != "RedisMemoryFullForecast" ||
				p.Alerts[0].Labels["instance"] != "cache" {
				t.Fatalf("payload, want %s: %+v", status, p)
			}
			return p
		case <-time.After(10 * time.Second):
			t.Fatalf("the webhook got no %s notification", status)
		}
		return webhook.Payload{}
	}
	for range 11 { // pending for the rule's 10 minutes, then firing
		eval()
		now = now.Add(time.Minute)
	}
	if as := e.Alerts(); len(as) != 1 || as[0].State != alert.StateFiring {
		t.Fatalf("alerts after `for`: %+v", as)
	}
	wait("firing")
	maxBytes = 100 << 30 // CONFIG SET maxmemory 100gb
	eval()
	if as := e.Alerts(); len(as) != 0 {
		t.Fatalf("alerts after maxmemory was raised: %+v", as)
	}
	p := wait("resolved")
	if p.Alerts[0].EndsAt.IsZero() {
		t.Errorf("resolved alert without EndsAt: %+v", p.Alerts[0])
	}
}
