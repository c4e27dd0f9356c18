package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
	"github.com/redwatch/redwatch/app/notify/webhook"
	"github.com/redwatch/redwatch/internal/testutil"
)

// These tests run the Dispatcher against real HTTP servers in real time (short timeouts),
// complementing the synctest ones.

func runDispatcher(t *testing.T, opts notify.Options, targets ...notify.Target) *notify.Dispatcher {
	t.Helper()
	opts.Logger = slog.New(slog.DiscardHandler)
	d, err := notify.New(opts, targets)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return d
}

func TestDispatcherHTTPHangDoesNotDelayOthers(t *testing.T) {
	gaveUp := make(chan struct{}, 10)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done(): // the client gave up
			gaveUp <- struct{}{}
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	got := make(chan webhook.Payload, 10)
	fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		_ = json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer fast.Close()

	const sendTimeout = 500 * time.Millisecond
	d := runDispatcher(t, notify.Options{SendTimeout: sendTimeout},
		notify.Target{Notifier: webhook.New("webhook[0]", config.Webhook{URL: hang.URL + "/hook"}, nil)},
		notify.Target{Notifier: webhook.New("webhook[1]", config.Webhook{URL: fast.URL + "/hook"}, nil)})
	start := time.Now()
	d.Update(start, []alert.Alert{firing("a", "critical", start)})
	if el := time.Since(start); el > 50*time.Millisecond {
		t.Fatalf("Update blocked for %s", el)
	}
	select {
	case p := <-got:
		if el := time.Since(start); el >= sendTimeout {
			t.Fatalf("the fast notifier waited %s for the hung one", el)
		}
		if p.Status != "firing" || len(p.Alerts) != 1 || p.Alerts[0].Fingerprint != "a" {
			t.Fatalf("payload: %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the fast notifier received nothing")
	}
	select {
	case <-gaveUp:
		if el := time.Since(start); el < sendTimeout-50*time.Millisecond || el > 5*time.Second {
			t.Fatalf("the hung request ended after %s, want about %s", el, sendTimeout)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the hung request was not abandoned")
	}
	testutil.WaitFor(t, "the failure on /alerts", func() bool {
		h := d.Health()
		return h[0].ConsecutiveFailures >= 1 && h[0].LastError != "" && h[1].ConsecutiveFailures == 0 && !h[1].LastSuccess.IsZero()
	})
}

func TestDispatcherHTTPRetriesUntilSuccess(t *testing.T) {
	var calls atomic.Int32
	got := make(chan webhook.Payload, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "temporarily broken", http.StatusInternalServerError)
			return
		}
		var p webhook.Payload
		_ = json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer srv.Close()
	d := runDispatcher(t, notify.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
		notify.Target{Notifier: webhook.New("webhook[0]", config.Webhook{URL: srv.URL}, nil), Common: config.NotifierCommon{SendResolved: true}})
	now := time.Now()
	a, b := firing("a", "critical", now), firing("b", "warning", now)
	d.Update(now, []alert.Alert{a, b})
	select {
	case p := <-got:
		if calls.Load() != 3 || len(p.Alerts) != 2 || p.Alerts[0].Fingerprint != "a" || p.Alerts[1].Fingerprint != "b" {
			t.Fatalf("after %d calls: %+v", calls.Load(), p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("never delivered")
	}
	testutil.WaitFor(t, "recovery on /alerts", func() bool {
		h := d.Health()[0]
		return h.ConsecutiveFailures == 0 && h.LastError == "" && !h.LastSuccess.IsZero()
	})
	d.Update(time.Now(), []alert.Alert{b, resolved(a, time.Now())})
	select {
	case p := <-got:
		if p.Status != "resolved" || len(p.Alerts) != 1 || p.Alerts[0].Fingerprint != "a" || p.Alerts[0].EndsAt.IsZero() {
			t.Fatalf("resolved payload: %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("resolve never delivered")
	}
}
