package web

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/alert"
)

// TestAlertsAPIKeepsFractions checks that /api/alerts writes times in UTC with their fraction
// of a second, as the alert.Alert fields it used to marshal did and as webhooks send startsAt:
// an alert read from the API can be matched to the one a webhook delivered.
func TestAlertsAPIKeepsFractions(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.FixedZone("CET", 3600))
	src := &fakeAlerts{alerts: []alert.Alert{{Rule: "R", Fingerprint: "f", State: alert.StateFiring, ActiveAt: at, FiredAt: at.Add(time.Second)}}}
	e := newAlertsEnvWith(t, src, nil, at)
	res, body := e.do(nil, "GET", "/api/alerts", nil, "Authorization: Basic "+basic("viewer", viewerPass))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/alerts: %d %s", res.StatusCode, body)
	}
	var got struct {
		Alerts []struct {
			ActiveAt string `json:"active_at"`
			FiredAt  string `json:"fired_at"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Alerts) != 1 || got.Alerts[0].ActiveAt != "2026-03-04T04:06:07.123456789Z" || got.Alerts[0].FiredAt != "2026-03-04T04:06:08.123456789Z" {
		t.Errorf("alerts %+v, want active_at and fired_at in UTC to the nanosecond", got.Alerts)
	}
}
