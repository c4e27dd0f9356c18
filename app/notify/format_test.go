package notify_test

import (
	"math"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/notify"
)

func TestFormat(t *testing.T) {
	mk := func(rule, sev string) alert.Alert { return alert.Alert{Rule: rule, Severity: sev} }
	title := func(want string, as ...alert.Alert) {
		t.Helper()
		if got := notify.Title(notify.Notification{Alerts: as}); got != want {
			t.Fatalf("Title = %q, want %q", got, want)
		}
	}
	title("RedisDown (critical)", mk("RedisDown", "critical"), mk("RedisDown", "critical"))
	title("HostCPU, RedisDown (critical)", mk("HostCPU", "warning"), mk("RedisDown", "critical"))
	title("A, B, C +2 more (warning)", mk("A", "info"), mk("B", "warning"), mk("C", "info"), mk("D", "info"), mk("E", "info"))
	title("Evil  Bcc: x (info)", mk("Evil\r\nBcc: x", "info"))

	for v, want := range map[float64]string{
		0: "0", 1234.56789: "1234.5679", -0.5: "-0.5", 1e20: "1e+20", 95: "95", math.NaN(): "NaN", math.Inf(1): "+Inf",
	} {
		if got := notify.FormatValue(v); got != want {
			t.Fatalf("FormatValue(%v) = %q, want %q", v, got, want)
		}
	}

	a := alert.Alert{
		Rule: "HostDisk", Severity: "warning", Summary: "disk / at 85%", Value: 85.25, State: alert.StateResolved,
		Labels:   map[string]string{"alertname": "HostDisk", "severity": "warning", "mount": "/", "host": "web1"},
		ActiveAt: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), ResolvedAt: time.Date(2026, 1, 2, 4, 0, 0, 0, time.FixedZone("X", 3600)),
	}
	if got, want := notify.AlertLine(a), "HostDisk warning: disk / at 85% (host=web1, mount=/, value 85.25, resolved 2026-01-02 03:00:00 UTC)"; got != want {
		t.Fatalf("AlertLine = %q, want %q", got, want)
	}
	if got := notify.StatusWord(notify.Notification{Status: "firing", Reminder: true}); got != "FIRING (reminder)" {
		t.Fatalf("StatusWord = %q", got)
	}
	if got := notify.AlertsURL("https://x/rw/"); got != "https://x/rw/alerts" {
		t.Fatalf("AlertsURL = %q", got)
	}
}
