package alert_test

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
	"github.com/redwatch/redwatch/app/notify/providers"
	"github.com/redwatch/redwatch/app/notify/webhook"
	"github.com/redwatch/redwatch/app/queryengine"
	"github.com/redwatch/redwatch/app/vmtest"
	"github.com/redwatch/redwatch/tsdb"
)

// TestExprRuleReadsVictoriaMetricsE2E: storage.remote for expression rules. A writer appliance
// (a tsdb and a remote-write Forwarder) sends an instance's memory to a real victoria-metrics
// single-node; a second redwatch, whose own store never sees those samples, evaluates the
// shipped predict_linear rule (RedisMemoryFullForecast) with the Remote of the VM as its
// Querier, on an injected clock, and its dispatcher delivers the firing and the resolved
// notification to a real webhook (the providers the app builds from [[notify.webhook]]).
func TestExprRuleReadsVictoriaMetricsE2E(t *testing.T) {
	t.Parallel()
	got := make(chan webhook.Payload, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		got <- p
	}))
	t.Cleanup(hook.Close)

	vm := vmtest.Start(t)
	writer := vmtest.NewWriter(t, vm)

	// The reader: its own (empty) store for ALERTS and alert state, the VM for the rules.
	own, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { own.Close() })
	remote, err := queryengine.NewRemote(queryengine.RemoteOptions{URL: vm.PromURL()})
	if err != nil {
		t.Fatal(err)
	}
	targets := providers.FromConfig(config.Notify{Webhook: []config.Webhook{{URL: hook.URL, NotifierCommon: config.NotifierCommon{SendResolved: true}}}})
	d, err := notify.New(notify.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}, targets)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	var rule config.Rule
	for _, r := range alert.DefaultRules() {
		if r.Name == "RedisMemoryFullForecast" {
			rule = r
		}
	}
	if rule.Expr == "" {
		t.Fatal("no shipped expr rule RedisMemoryFullForecast")
	}
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	now := start
	e, err := alert.New(alert.Options{Store: own, Querier: remote, Writer: own, Notifier: d, Interval: 10 * time.Second,
		Now: func() time.Time { return now }}, []config.Rule{rule})
	if err != nil {
		t.Fatal(err)
	}
	maxBytes := float64(1 << 30)
	write := func(at time.Time) {
		ls := []tsdb.Label{{Name: "instance", Value: "cache"}}
		used := 500<<20 + at.Sub(start).Seconds()*(1<<20) // +1 MiB/s: 14 GiB more in 4 h
		writer.Write([]tsdb.Sample{
			{Name: "redis_memory_used_bytes", Labels: ls, Timestamp: at.UnixMilli(), Value: used},
			{Name: "redis_memory_max_bytes", Labels: ls, Timestamp: at.UnixMilli(), Value: maxBytes},
		})
	}
	for ; now.Before(start.Add(30 * time.Minute)); now = now.Add(30 * time.Second) {
		write(now)
	}
	eval := func() {
		t.Helper()
		write(now)
		writer.Sync()
		if err := e.Evaluate(context.Background(), now); err != nil {
			t.Fatal(err)
		}
		if st := e.Rules(); len(st) != 1 || st[0].Error != "" {
			t.Fatalf("rule status: %+v", st)
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
	eval()
	if as := e.Alerts(); len(as) != 1 || as[0].State != alert.StatePending {
		t.Fatalf("alerts after the first evaluation: %+v", as)
	}
	for range 10 { // pending for the rule's 10 minutes, then firing
		now = now.Add(time.Minute)
		eval()
	}
	if as := e.Alerts(); len(as) != 1 || as[0].State != alert.StateFiring {
		t.Fatalf("alerts after `for`: %+v", as)
	}
	wait("firing")
	if ss, err := own.Query(context.Background(), `redis_memory_used_bytes`, now); err != nil || len(ss) != 0 {
		t.Fatalf("the reader's own store has the writer's samples (%v, %v): the rule must have read the VM", ss, err)
	}
	now = now.Add(time.Minute)
	maxBytes = 100 << 30 // CONFIG SET maxmemory 100gb
	eval()
	if as := e.Alerts(); len(as) != 0 {
		t.Fatalf("alerts after maxmemory was raised: %+v", as)
	}
	if p := wait("resolved"); p.Alerts[0].EndsAt.IsZero() {
		t.Errorf("resolved alert without EndsAt: %+v", p.Alerts[0])
	}
}
