package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
)

func TestAlertsFragmentAndAPI(t *testing.T) {
	t.Parallel()
	now := time.Now()
	e := newFakeAlertsEnv(t, failingNotifiers(now))
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/alerts?fragment=alerts-live", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("fragment: %d", res.StatusCode)
	}
	doc := assertFragment(t, body, "alerts-live")
	if len(find(doc, "alert-row")) != 6 || len(find(doc, "rule-row")) != 5 {
		t.Fatalf("fragment rows: %d alerts %d rules", len(find(doc, "alert-row")), len(find(doc, "rule-row")))
	}
	if hasTestID(doc, "silence-alert") || hasTestID(doc, "expire-silence") {
		t.Fatal("viewer fragment has silence controls")
	}

	res, body = e.do(nil, "GET", "/api/alerts", nil, "Authorization: Basic "+basic("viewer", viewerPass))
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("/api/alerts: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got struct {
		Alerts []struct {
			Rule, Fingerprint, Severity, Summary, State string
			Labels                                      map[string]string
			Value                                       float64
			ActiveAt                                    string `json:"active_at"`
			Silenced                                    bool
		}
		Silences []map[string]any
		Rules    []struct {
			Name, State   string
			Active        int
			WindowSeconds float64  `json:"window_seconds"`
			Clear         *float64 `json:"clear_threshold"`
			LastEvalAt    string   `json:"last_eval_at"`
		}
		Notifiers []struct {
			Name      string
			Healthy   bool
			LastError string `json:"last_error"`
			Failures  int    `json:"consecutive_failures"`
		}
		History []struct {
			At, Rule, From, To string
			Labels             map[string]string
		}
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%s: %s", err, body)
	}
	if len(got.Alerts) != 6 || got.Alerts[0].Rule != "QueueLong" || got.Alerts[0].State != "firing" || got.Alerts[5].State != "pending" {
		t.Fatalf("alerts: %+v", got.Alerts)
	}
	var hostile bool
	for _, a := range got.Alerts {
		if a.Labels["q"] == hostileQueue && a.Rule == "QueueLong" {
			hostile = true
			if a.Summary != "Queue "+hostileQueue+" holds 5 jobs" || a.Value != 5 || a.Labels["alertname"] != "QueueLong" || len(a.Fingerprint) != 16 {
				t.Errorf("hostile alert: %+v", a)
			}
			if at, err := time.Parse(time.RFC3339, a.ActiveAt); err != nil || !at.Equal(e.t0) {
				t.Errorf("active_at %q: %v", a.ActiveAt, err)
			}
		}
	}
	if !hostile {
		t.Error("the hostile queue's alert is missing")
	}
	if got.Silences == nil || len(got.Silences) != 0 {
		t.Errorf("silences: %v (want [])", got.Silences)
	}
	if len(got.Rules) != 5 || got.Rules[0].Name != "QueueLong" || got.Rules[0].State != "firing" || got.Rules[0].Active != 2 ||
		got.Rules[4].WindowSeconds != 300 || got.Rules[4].Clear == nil || *got.Rules[4].Clear != 80 {
		t.Errorf("rules: %+v", got.Rules)
	}
	if _, err := time.Parse(time.RFC3339, got.Rules[0].LastEvalAt); err != nil {
		t.Errorf("last_eval_at: %v", err)
	}
	if len(got.Notifiers) != 2 || got.Notifiers[0].Healthy || got.Notifiers[0].Failures != 3 || !strings.Contains(got.Notifiers[0].LastError, "500") || !got.Notifiers[1].Healthy {
		t.Errorf("notifiers: %+v", got.Notifiers)
	}
	if len(got.History) != 6 || got.History[0].Labels["q"] != "b" || got.History[5].From != "inactive" {
		t.Errorf("history: %+v", got.History)
	}
	for i := 1; i < len(got.History); i++ {
		a, _ := time.Parse(time.RFC3339, got.History[i-1].At)
		b, _ := time.Parse(time.RFC3339, got.History[i].At)
		if a.Before(b) {
			t.Errorf("history %d older than %d", i-1, i)
		}
	}
	for _, bad := range []string{"password", "url"} {
		if strings.Contains(strings.ToLower(body), `"`+bad+`"`) {
			t.Errorf("/api/alerts has a %q field", bad)
		}
	}
}

// TestAlertsAPIExample pins the whole body of /api/alerts for one of each thing (the README's
// example): field names, units, UTC timestamps, what is left out when empty.
func TestAlertsAPIExample(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) time.Time { return now.Add(-ago).In(time.FixedZone("CET", 3600)) }
	labels := map[string]string{"alertname": "RedisDown", "instance": "cache", "severity": "critical"}
	rule := config.Rule{Name: "RedisDown", Series: `redis_up{instance="cache"}`, Aggregate: "last", Window: config.Duration(time.Minute),
		Op: "<", Threshold: 1, For: config.Duration(30 * time.Second), Severity: "critical", Summary: "Redis {{ .Labels.instance }} is down"}
	src := &fakeAlerts{
		alerts: []alert.Alert{{Rule: "RedisDown", Fingerprint: "8c2f0e4b1a9d3e57", Labels: labels, Severity: "critical",
			Summary: "Redis cache is down", Value: 0, State: alert.StateFiring, ActiveAt: at(5 * time.Minute), FiredAt: at(4*time.Minute + 30*time.Second)}},
		history: []alert.Transition{{At: at(4*time.Minute + 30*time.Second), Rule: "RedisDown", Fingerprint: "8c2f0e4b1a9d3e57",
			Labels: labels, From: alert.StatePending, To: alert.StateFiring, Value: 0}},
		rules: []alert.RuleStatus{{Name: "RedisDown", Series: rule.Series, Severity: "critical", State: "firing", Active: 1,
			LastEval: at(10 * time.Second), EvalDuration: 1500 * time.Microsecond, Rule: rule}},
		silences: []alert.Silence{{ID: "3f9a1c0d5e7b2468", Matchers: []alert.Matcher{{Name: "alertname", Value: "RedisDown"}, {Name: "instance", Value: "cache|queue", Regex: true}},
			StartsAt: at(time.Hour), EndsAt: at(-3 * time.Hour), Comment: "upgrading Redis; ask ops", CreatedBy: "admin"}},
	}
	notifiers := fakeNotifiers{{Name: "webhook[0]", Kind: "webhook", LastSuccess: at(time.Hour), LastAttempt: at(4 * time.Minute),
		LastError: "POST to hooks.example.com: unexpected status 503 Service Unavailable", ConsecutiveFailures: 2, Pending: 1}}
	h := &alertsHandler{alerts: src, notifiers: notifiers, now: func() time.Time { return now }}
	rec := httptest.NewRecorder()
	if err := h.listAlerts(echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/api/alerts", nil), rec)); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("listAlerts: %d %v", rec.Code, err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, rec.Body.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(buf.String()); got != alertsAPIExample {
		t.Errorf("/api/alerts:\n%s\nwant:\n%s", got, alertsAPIExample)
	}
}

const alertsAPIExample = `{
  "alerts": [
    {
      "rule": "RedisDown",
      "fingerprint": "8c2f0e4b1a9d3e57",
      "labels": {
        "alertname": "RedisDown",
        "instance": "cache",
        "severity": "critical"
      },
      "severity": "critical",
      "summary": "Redis cache is down",
      "value": 0,
      "state": "firing",
      "active_at": "2026-12-02T03:55:00Z",
      "fired_at": "2026-12-02T03:55:30Z",
      "silenced": false
    }
  ],
  "silences": [
    {
      "id": "3f9a1c0d5e7b2468",
      "matchers": [
        {
          "name": "alertname",
          "value": "RedisDown"
        },
        {
          "name": "instance",
          "value": "cache|queue",
          "regex": true
        }
      ],
      "starts_at": "2026-12-02T03:00:00Z",
      "ends_at": "2026-12-02T07:00:00Z",
      "comment": "upgrading Redis; ask ops",
      "created_by": "admin",
      "status": "active"
    }
  ],
  "rules": [
    {
      "name": "RedisDown",
      "series": "redis_up{instance=\"cache\"}",
      "aggregate": "last",
      "window_seconds": 60,
      "op": "\u003c",
      "threshold": 1,
      "for_seconds": 30,
      "severity": "critical",
      "summary": "Redis {{ .Labels.instance }} is down",
      "state": "firing",
      "active": 1,
      "last_eval_at": "2026-12-02T03:59:50Z",
      "eval_duration_seconds": 0.0015
    }
  ],
  "notifiers": [
    {
      "name": "webhook[0]",
      "kind": "webhook",
      "last_success_at": "2026-12-02T03:00:00Z",
      "last_attempt_at": "2026-12-02T03:56:00Z",
      "last_error": "POST to hooks.example.com: unexpected status 503 Service Unavailable",
      "consecutive_failures": 2,
      "pending": 1,
      "held": false,
      "healthy": false
    }
  ],
  "history": [
    {
      "at": "2026-12-02T03:55:30Z",
      "rule": "RedisDown",
      "fingerprint": "8c2f0e4b1a9d3e57",
      "labels": {
        "alertname": "RedisDown",
        "instance": "cache",
        "severity": "critical"
      },
      "from": "pending",
      "to": "firing",
      "value": 0
    }
  ]
}`
