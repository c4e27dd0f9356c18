package slack_test

import (
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
	"github.com/redwatch/redwatch/app/notify/slack"
)

type request struct {
	method, path, contentType string
	body                      []byte
}

func server(t *testing.T, status int) (*httptest.Server, <-chan request) {
	t.Helper()
	ch := make(chan request, 10)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- request{r.Method, r.URL.Path, r.Header.Get("Content-Type"), b}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "invalid_payload")
	}))
	t.Cleanup(s.Close)
	return s, ch
}

func testAlerts(state alert.State) []alert.Alert {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	mk := func(rule, sev, inst, summary string) alert.Alert {
		a := alert.Alert{
			Rule: rule, Fingerprint: "fp-" + inst, Severity: sev, Summary: summary, State: state,
			Labels:   map[string]string{"alertname": rule, "severity": sev, "instance": inst},
			Value:    1234.56789,
			ActiveAt: t0.Add(-time.Minute), FiredAt: t0,
		}
		if state == alert.StateResolved {
			a.ResolvedAt = t0.Add(time.Hour)
		}
		return a
	}
	return []alert.Alert{
		mk("RedisDown", "critical", "a", "Redis a is down"),
		mk("RedisDown", "critical", "b<&>", "Redis <b> & co\r\nis down"),
	}
}

func TestSlackPayload(t *testing.T) {
	f := func(n notify.Notification, channel, wantText string) {
		t.Helper()
		srv, reqs := server(t, http.StatusOK)
		s := slack.New("slack[0]", config.Slack{URL: srv.URL + "/services/T000/B000/XXXX", Channel: channel}, nil)
		if s.Name() != "slack[0]" {
			t.Fatalf("Name() = %q", s.Name())
		}
		if err := s.Send(context.Background(), n); err != nil {
			t.Fatalf("Send: %v", err)
		}
		r := <-reqs
		if r.method != http.MethodPost || r.path != "/services/T000/B000/XXXX" || r.contentType != "application/json" {
			t.Fatalf("got %s %s (%s)", r.method, r.path, r.contentType)
		}
		wantBody, _ := json.Marshal(slack.Payload{Text: wantText, Channel: channel})
		if hasChannel := strings.Contains(string(r.body), `"channel":"`+channel+`"`); hasChannel != (channel != "") {
			t.Fatalf("channel %q in %s: %v", channel, r.body, hasChannel)
		}
		if string(r.body) != string(wantBody) {
			t.Fatalf("payload\n got: %s\nwant: %s", r.body, wantBody)
		}
	}
	f(notify.Notification{Status: notify.StatusFiring, Alerts: testAlerts(alert.StateFiring), ExternalURL: "https://rw.example.com/r&w/"}, "#ops",
		"[FIRING:2] RedisDown (critical)\n"+
			"RedisDown critical: Redis a is down (instance=a, value 1234.5679, since 2026-01-02 15:04:05 UTC)\n"+
			"RedisDown critical: Redis &lt;b&gt; &amp; co  is down (instance=b&lt;&amp;&gt;, value 1234.5679, since 2026-01-02 15:04:05 UTC)\n"+
			"https://rw.example.com/r&amp;w/alerts")
	f(notify.Notification{Status: notify.StatusResolved, Alerts: testAlerts(alert.StateResolved)[:1]}, "",
		"[RESOLVED:1] RedisDown (critical)\n"+
			"RedisDown critical: Redis a is down (instance=a, value 1234.5679, resolved 2026-01-02 16:04:05 UTC)")
	f(notify.Notification{Status: notify.StatusFiring, Alerts: testAlerts(alert.StateFiring)[:1], Reminder: true}, "",
		"[FIRING:1] RedisDown (critical) - reminder\n"+
			"RedisDown critical: Redis a is down (instance=a, value 1234.5679, since 2026-01-02 15:04:05 UTC)")
}

func TestSlackError(t *testing.T) {
	srv, _ := server(t, http.StatusBadRequest)
	s := slack.New("slack[0]", config.Slack{URL: srv.URL + "/services/T000/B000/SECRET"}, nil)
	err := s.Send(context.Background(), notify.Notification{Status: notify.StatusFiring, Alerts: testAlerts(alert.StateFiring)})
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), "invalid_payload") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("Send on a 400: %v", err)
	}
}

func TestTextLimit(t *testing.T) {
	var as []alert.Alert
	for range slack.MaxLines + 12 {
		as = append(as, testAlerts(alert.StateFiring)[0])
	}
	lines := strings.Split(slack.Text(notify.Notification{Status: notify.StatusFiring, Alerts: as}), "\n")
	if len(lines) != slack.MaxLines+2 || lines[0] != "[FIRING:62] RedisDown (critical)" || lines[len(lines)-1] != "... and 12 more" {
		t.Fatalf("%d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

func TestEscape(t *testing.T) {
	if got := slack.Escape("a<b>&c"); got != "a&lt;b&gt;&amp;c" {
		t.Fatalf("Escape = %q", got)
	}
}
