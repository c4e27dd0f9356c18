package web

import (
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/views/components"
)

// valueUnit is how an alert's values are formatted, guessed from its rule's series name
// (Prometheus naming: _percent, _ratio, _bytes, _seconds) and aggregate (rate: per second).
type valueUnit struct {
	suffix string // "percent", "ratio", "bytes", "seconds" or "" (a plain number)
	rate   bool
}

var metricNameRE = regexp.MustCompile(`^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)|__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"`)

// ruleUnit guesses the unit of a rule's values.
func ruleUnit(series, aggregate string) valueUnit {
	u := valueUnit{rate: aggregate == "rate"}
	m := metricNameRE.FindStringSubmatch(series)
	if m == nil {
		return u
	}
	name := strings.TrimSuffix(m[1]+m[2], "_total")
	for _, sfx := range []string{"percent", "ratio", "bytes", "seconds"} {
		if strings.HasSuffix(name, "_"+sfx) {
			u.suffix = sfx
		}
	}
	return u
}

// format formats v with the unit.
func (u valueUnit) format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return components.Dash
	}
	if u.rate {
		if u.suffix == "bytes" {
			return components.BytesPerSec(v)
		}
		return components.Number(v) + "/s"
	}
	switch u.suffix {
	case "percent":
		return components.Percent(v)
	case "ratio":
		return components.Ratio(v)
	case "bytes":
		return components.Bytes(v)
	case "seconds":
		return components.Duration(v)
	}
	return components.Number(v)
}

// ruleCondition words a rule's condition: "avg over 5m > 80.0%", "latest < 1"; an expr rule
// "value > 0.9", or "every series returned" without op.
func ruleCondition(r config.Rule, u valueUnit) string {
	if r.Expr != "" && r.Op == "" {
		return "every series returned"
	}
	what := "latest"
	if r.Expr != "" {
		what = "value"
	}
	if r.Aggregate != "" && r.Aggregate != "last" {
		what = r.Aggregate + " over " + alertDuration(time.Duration(r.Window))
	}
	return what + " " + r.Op + " " + u.format(r.Threshold)
}

// clearOp is the comparison at which a firing alert with a clear_threshold resolves: the
// negation of "value op clear_threshold".
func clearOp(op string) string {
	switch op {
	case ">":
		return "≤"
	case ">=":
		return "<"
	case "<":
		return "≥"
	case "<=":
		return ">"
	}
	return "not " + op
}

// alertDuration formats d without zero units: 5m, 1h30m, 30s, 7d.
func alertDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return components.Int(int64(d/(24*time.Hour))) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
