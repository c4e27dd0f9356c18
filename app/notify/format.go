package notify

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redwatch/redwatch/app/alert"
)

// The helpers below give every provider the same wording. They return plain text: callers
// escape it for their medium (Slack's &, <, >; MIME header encoding for email).

// sortAlerts orders alerts by severity (critical first), rule name, then fingerprint.
func sortAlerts(as []alert.Alert) {
	slices.SortFunc(as, func(a, b alert.Alert) int {
		if c := alert.SeverityRank(a.Severity) - alert.SeverityRank(b.Severity); c != 0 {
			return c
		}
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	})
}

// Title is a one-line summary of n: the distinct rule names, most severe first (at most three,
// then "+N more"), and the highest severity, e.g. "RedisDown (critical)" or
// "RedisDown, HostCPU +2 more (critical)". Control characters are replaced by spaces.
func Title(n Notification) string {
	var rules []string
	sev := ""
	for _, a := range n.Alerts {
		if !slices.Contains(rules, a.Rule) {
			rules = append(rules, a.Rule)
		}
		if sev == "" || alert.SeverityRank(a.Severity) < alert.SeverityRank(sev) {
			sev = a.Severity
		}
	}
	s := strings.Join(rules[:min(3, len(rules))], ", ")
	if len(rules) > 3 {
		s += fmt.Sprintf(" +%d more", len(rules)-3)
	}
	if sev != "" {
		s += " (" + sev + ")"
	}
	return Sanitize(s)
}

// StatusWord is n's status in capitals ("FIRING", "RESOLVED"), with " (reminder)" for a
// reminder.
func StatusWord(n Notification) string {
	s := strings.ToUpper(n.Status)
	if n.Reminder {
		s += " (reminder)"
	}
	return s
}

// AlertLine describes one alert on one line, e.g.
// "RedisDown critical: Redis cache is down (instance=cache, value 0, since 2026-01-02 15:04:05 UTC)";
// a resolved alert ends with "resolved <time>" instead of "since".
func AlertLine(a alert.Alert) string {
	var b strings.Builder
	b.WriteString(a.Rule)
	if a.Severity != "" {
		b.WriteString(" " + a.Severity)
	}
	if a.Summary != "" {
		b.WriteString(": " + a.Summary)
	}
	b.WriteString(" (")
	if l := LabelPairs(a); len(l) > 0 {
		b.WriteString(strings.Join(l, ", ") + ", ")
	}
	b.WriteString("value " + FormatValue(a.Value))
	if a.State == alert.StateResolved && !a.ResolvedAt.IsZero() {
		b.WriteString(", resolved " + FormatTime(a.ResolvedAt))
	} else if t := StartsAt(a); !t.IsZero() {
		b.WriteString(", since " + FormatTime(t))
	}
	b.WriteString(")")
	return Sanitize(b.String())
}

// LabelPairs returns a's labels as sorted "name=value" pairs, without alertname and severity
// (already shown by the rule name and severity).
func LabelPairs(a alert.Alert) []string {
	keys := slices.Sorted(maps.Keys(a.Labels))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if k == "alertname" || k == "severity" {
			continue
		}
		out = append(out, k+"="+a.Labels[k])
	}
	return out
}

// StartsAt is when a started firing (FiredAt, or ActiveAt when FiredAt is unset).
func StartsAt(a alert.Alert) time.Time {
	if !a.FiredAt.IsZero() {
		return a.FiredAt
	}
	return a.ActiveAt
}

// FormatValue renders v compactly: at most four decimals, no exponent below 1e15.
func FormatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.Abs(v) >= 1e15:
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	return strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64)
}

// FormatTime renders t in UTC as "2006-01-02 15:04:05 UTC".
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// AlertsURL is the link to redwatch's alerts page, or "" when externalURL is empty.
func AlertsURL(externalURL string) string {
	if externalURL == "" {
		return ""
	}
	return strings.TrimRight(externalURL, "/") + "/alerts"
}

// Sanitize replaces control characters (CR, LF, tab, ...) by spaces so that a label value
// cannot break a line-oriented format or start a new header.
func Sanitize(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029'
}
