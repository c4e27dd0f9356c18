package alertmanager_test

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
	"github.com/redwatch/redwatch/app/notify/alertmanager"
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
		_, _ = io.WriteString(w, `{"code":400,"message":"bad alert"}`)
	}))
	t.Cleanup(s.Close)
	return s, ch
}

func testAlert(state alert.State) alert.Alert {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	a := alert.Alert{
		Rule: "HostCPU", Fingerprint: "00000000000000aa", Severity: "warning", Summary: "CPU at 85%", State: state,
		Labels:   map[string]string{"alertname": "HostCPU", "severity": "warning", "host": "web1"},
		Value:    85,
		ActiveAt: t0.Add(-2 * time.Minute), FiredAt: t0,
	}
	if state == alert.StateResolved {
		a.ResolvedAt = t0.Add(10 * time.Minute)
	}
	return a
}

func TestAlertmanagerPayload(t *testing.T) {
	f := func(status string, state alert.State, want string) {
		t.Helper()
		srv, reqs := server(t, http.StatusOK)
		am := alertmanager.New("alertmanager[0]", config.Alertmanager{URL: srv.URL + "/"}, srv.Client())
		if am.Name() != "alertmanager[0]" || am.ResendInterval() != time.Minute {
			t.Fatalf("Name() = %q, ResendInterval() = %s", am.Name(), am.ResendInterval())
		}
		n := notify.Notification{Status: status, Alerts: []alert.Alert{testAlert(state)}, ExternalURL: "http://rw:8080"}
		if err := am.Send(context.Background(), n); err != nil {
			t.Fatalf("Send: %v", err)
		}
		r := <-reqs
		if r.method != http.MethodPost || r.path != "/api/v2/alerts" || r.contentType != "application/json" {
			t.Fatalf("got %s %s (%s)", r.method, r.path, r.contentType)
		}
		var b bytes.Buffer
		if err := json.Compact(&b, []byte(want)); err != nil {
			t.Fatal(err)
		}
		if string(r.body) != b.String() {
			t.Fatalf("payload\n got: %s\nwant: %s", r.body, b.String())
		}
	}
	// Firing: no endsAt, as Prometheus sends it (Alertmanager then resolves after
	// resolve_timeout unless the alert is re-sent, hence ResendInterval).
	f(notify.StatusFiring, alert.StateFiring, `[{"labels":{"alertname":"HostCPU","host":"web1","severity":"warning"},
		"annotations":{"summary":"CPU at 85%"},"startsAt":"2026-01-02T15:04:05Z","generatorURL":"http://rw:8080/alerts"}]`)
	f(notify.StatusResolved, alert.StateResolved, `[{"labels":{"alertname":"HostCPU","host":"web1","severity":"warning"},
		"annotations":{"summary":"CPU at 85%"},"startsAt":"2026-01-02T15:04:05Z","endsAt":"2026-01-02T15:14:05Z",
		"generatorURL":"http://rw:8080/alerts"}]`)
}

func TestAlertmanagerAlerts(t *testing.T) {
	// alertname is required by Alertmanager: it is filled from the rule when absent.
	a := testAlert(alert.StateResolved)
	a.Labels = nil
	a.ResolvedAt = time.Time{}
	a.Summary = ""
	got := alertmanager.Alerts(notify.Notification{Status: notify.StatusResolved, Alerts: []alert.Alert{a}})
	if len(got) != 1 || got[0].Labels["alertname"] != "HostCPU" || got[0].EndsAt.IsZero() || got[0].Annotations != nil {
		t.Fatalf("Alerts = %+v", got)
	}
}

func TestAlertmanagerError(t *testing.T) {
	srv, _ := server(t, http.StatusBadRequest)
	am := alertmanager.New("alertmanager[0]", config.Alertmanager{URL: srv.URL}, nil)
	err := am.Send(context.Background(), notify.Notification{Status: notify.StatusFiring, Alerts: []alert.Alert{testAlert(alert.StateFiring)}})
	if err == nil || !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), "bad alert") {
		t.Fatalf("Send on a 400: %v", err)
	}
}
