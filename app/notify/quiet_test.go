package notify

import (
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
)

func TestQuietHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatalf("Europe/Berlin: %v", err)
	}
	f := func(window, tz string, at time.Time, wantIn bool, wantEnd time.Time) {
		t.Helper()
		q, err := parseQuietHours(config.NotifierCommon{QuietHours: window, Timezone: tz})
		if err != nil {
			t.Fatalf("parseQuietHours(%q, %q): %v", window, tz, err)
		}
		in, end := q.active(at)
		if in != wantIn || !end.Equal(wantEnd) {
			t.Fatalf("%s %s at %s: in=%v end=%s, want %v %s", window, tz, at, in, end, wantIn, wantEnd)
		}
	}
	utc := func(h, m int) time.Time { return time.Date(2026, 3, 10, h, m, 0, 0, time.UTC) }
	f("", "", utc(3, 0), false, time.Time{})
	f("01:00-02:00", "UTC", utc(0, 59), false, time.Time{})
	f("01:00-02:00", "UTC", utc(1, 0), true, utc(2, 0))
	f("01:00-02:00", "UTC", utc(1, 59), true, utc(2, 0))
	f("01:00-02:00", "UTC", utc(2, 0), false, time.Time{})
	// Wrapping midnight: the end is tomorrow before midnight, today after.
	f("22:00-07:00", "UTC", utc(23, 30), true, utc(31, 0))
	f("22:00-07:00", "UTC", utc(6, 59), true, utc(7, 0))
	f("22:00-07:00", "UTC", utc(12, 0), false, time.Time{})
	// In a zone: 22:30 UTC is 23:30 in Berlin (winter time, UTC+1).
	f("23:00-06:00", "Europe/Berlin", time.Date(2026, 1, 10, 22, 30, 0, 0, time.UTC), true, time.Date(2026, 1, 11, 6, 0, 0, 0, berlin))
	f("23:00-06:00", "Europe/Berlin", time.Date(2026, 1, 10, 21, 30, 0, 0, time.UTC), false, time.Time{})

	if _, err := parseQuietHours(config.NotifierCommon{QuietHours: "22:00"}); err == nil {
		t.Fatal("a window without an end was accepted")
	}
	if _, err := parseQuietHours(config.NotifierCommon{QuietHours: "22:00-06:00", Timezone: "Mars/Olympus"}); err == nil {
		t.Fatal("an unknown timezone was accepted")
	}
}
