package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
	"github.com/redwatch/redwatch/app/notify/webhook"
)

type request struct {
	method, path string
	header       http.Header
	body         []byte
}

// server records every request and answers with status and body.
func server(t *testing.T, status int, body string) (*httptest.Server, <-chan request) {
	t.Helper()
	ch := make(chan request, 10)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- request{r.Method, r.URL.Path, r.Header.Clone(), b}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s, ch
}

func testAlerts(state alert.State) []alert.Alert {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	mk := func(inst, fp string) alert.Alert {
		a := alert.Alert{
			Rule:        "RedisDown",
			Fingerprint: fp,
			Labels:      map[string]string{"alertname": "RedisDown", "severity": "critical", "instance": inst},
			Severity:    "critical",
			Summary:     "Redis " + inst + " is down",
			Value:       0,
			State:       state,
			ActiveAt:    t0.Add(-30 * time.Second),
			FiredAt:     t0,
		}
		if state == alert.StateResolved {
			a.ResolvedAt = t0.Add(5 * time.Minute)
		}
		return a
	}
	return []alert.Alert{mk("a", "0000000000000001"), mk("b", "0000000000000002")}
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("bad expected JSON: %v", err)
	}
	return b.String()
}

func TestWebhookPayload(t *testing.T) {
	f := func(status string, state alert.State, endsAt string) {
		t.Helper()
		srv, reqs := server(t, http.StatusOK, "ok")
		w := webhook.New("webhook[0]", config.Webhook{
			URL:     srv.URL + "/hooks/abc",
			Headers: map[string]string{"Authorization": "Bearer s3cret", "X-Team": "ops"},
		}, srv.Client())
		if w.Name() != "webhook[0]" {
			t.Fatalf("Name() = %q", w.Name())
		}
		n := notify.Notification{Status: status, Alerts: testAlerts(state), ExternalURL: "https://rw.example.com/"}
		if err := w.Send(context.Background(), n); err != nil {
			t.Fatalf("Send: %v", err)
		}
		r := <-reqs
		if r.method != http.MethodPost || r.path != "/hooks/abc" {
			t.Fatalf("got %s %s, want POST /hooks/abc", r.method, r.path)
		}
		for k, v := range map[string]string{"Content-Type": "application/json", "Authorization": "Bearer s3cret", "X-Team": "ops"} {
			if got := r.header.Get(k); got != v {
				t.Fatalf("header %s = %q, want %q", k, got, v)
			}
		}
		if ua := r.header.Get("User-Agent"); !strings.HasPrefix(ua, "redwatch/") {
			t.Fatalf("User-Agent = %q", ua)
		}
		want := compact(t, `{"version":"4","status":"`+status+`","receiver":"redwatch","groupLabels":{},
			"commonLabels":{"alertname":"RedisDown","severity":"critical"},
			"commonAnnotations":{},"externalURL":"https://rw.example.com/","reminder":false,
			"alerts":[
			 {"status":"`+status+`","labels":{"alertname":"RedisDown","instance":"a","severity":"critical"},
			  "annotations":{"summary":"Redis a is down"},"startsAt":"2026-01-02T15:04:05Z","endsAt":"`+endsAt+`",
			  "generatorURL":"https://rw.example.com/alerts","fingerprint":"0000000000000001","value":0,"silenced":false},
			 {"status":"`+status+`","labels":{"alertname":"RedisDown","instance":"b","severity":"critical"},
			  "annotations":{"summary":"Redis b is down"},"startsAt":"2026-01-02T15:04:05Z","endsAt":"`+endsAt+`",
			  "generatorURL":"https://rw.example.com/alerts","fingerprint":"0000000000000002","value":0,"silenced":false}]}`)
		if string(r.body) != want {
			t.Fatalf("payload\n got: %s\nwant: %s", r.body, want)
		}
	}
	f(notify.StatusFiring, alert.StateFiring, "0001-01-01T00:00:00Z")
	f(notify.StatusResolved, alert.StateResolved, "2026-01-02T15:09:05Z")
}

func TestWebhookPayloadDetails(t *testing.T) {
	as := testAlerts(alert.StateFiring)
	as[0].Summary = "same"
	as[1].Summary = "same"
	as[1].Value = 2.5
	p := webhook.NewPayload(notify.Notification{Status: notify.StatusFiring, Alerts: as, Reminder: true})
	if p.CommonAnnotations["summary"] != "same" || !p.Reminder || p.Alerts[0].GeneratorURL != "" {
		t.Fatalf("payload: %+v", p)
	}
	if *p.Alerts[1].Value != 2.5 {
		t.Fatalf("value = %v", *p.Alerts[1].Value)
	}
}

func TestWebhookErrors(t *testing.T) {
	// A non-2xx status is an error quoting the status and the start of the body, never the
	// URL's path (webhook URLs carry tokens).
	long := strings.Repeat("x", 300)
	srv, _ := server(t, http.StatusInternalServerError, "boom "+long)
	w := webhook.New("webhook[0]", config.Webhook{URL: srv.URL + "/hooks/TOKEN123"}, nil)
	n := notify.Notification{Status: notify.StatusFiring, Alerts: testAlerts(alert.StateFiring)}
	err := w.Send(context.Background(), n)
	if err == nil {
		t.Fatal("Send succeeded on a 500")
	}
	msg := err.Error()
	if !strings.Contains(msg, "500 Internal Server Error") || !strings.Contains(msg, "boom xxx") {
		t.Fatalf("error lacks status or body: %v", msg)
	}
	if strings.Contains(msg, "TOKEN123") || strings.Contains(msg, strings.Repeat("x", 200)) {
		t.Fatalf("error leaks the path or quotes more than 200 bytes: %v", msg)
	}

	// A connection failure does not leak the path either.
	srv.Close()
	err = w.Send(context.Background(), n)
	if err == nil || strings.Contains(err.Error(), "TOKEN123") {
		t.Fatalf("Send to a closed server: %v", err)
	}

	// The context's deadline bounds a server that never answers.
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	w = webhook.New("webhook[1]", config.Webhook{URL: hang.URL + "/hooks/TOKEN123"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = w.Send(ctx, n)
	if err == nil || time.Since(start) > 5*time.Second || strings.Contains(err.Error(), "TOKEN123") {
		t.Fatalf("Send to a hanging server: %v after %s", err, time.Since(start))
	}
}
