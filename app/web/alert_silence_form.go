package web

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/views/pages"
)

// silenceBlankRows is how many empty matcher rows the form offers for more matchers.
const silenceBlankRows = 2

// silencePresets are the silence form's fixed durations (pages.SilenceDurations, but custom).
func silencePresets() map[string]time.Duration {
	return map[string]time.Duration{
		"1h":  time.Hour,
		"4h":  4 * time.Hour,
		"24h": 24 * time.Hour,
		"7d":  7 * 24 * time.Hour,
	}
}

// silenceUntilLayouts are the accepted forms of ?until: what a datetime-local input sends
// (read as UTC), then RFC 3339 with a zone.
var silenceUntilLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339}

// silenceForm is the silence form as read: what to render again, and the silence it describes.
type silenceForm struct {
	props   pages.SilenceFormProps // the input as typed, with blank rows to add to, and its problems
	silence alert.Silence
	// rows maps each matcher of silence to its row in props.Matchers (-1: a row not shown).
	rows []int
	// problems: some input could not be read as a value (an unknown operator or duration, an
	// end that is not a date); silence lacks it.
	problems bool
	// unreadRows: some matcher row is among those problems. What the policy says of the
	// matchers as a set (none, or all matching empty) then waits until every row is read.
	unreadRows bool
}

// readSilenceForm reads the silence form: strings to values, nothing more (the policy is
// alert.ValidateSilence's). At most alert.MaxSilenceMatchers+silenceBlankRows matcher rows are
// shown again, but every row is read. The error is a form that could not be parsed at all
// (props.Error says so).
func readSilenceForm(c echo.Context, now time.Time) (silenceForm, error) {
	f := silenceForm{props: newSilenceForm(c)}
	p := &f.props
	p.Errors = map[string]string{}
	if _, err := c.FormParams(); err != nil {
		p.Error = "The form could not be read: " + err.Error()
		return f, err
	}
	form := c.Request().PostForm
	p.Duration = form.Get("duration")
	p.Until = form.Get("until")
	p.Comment = form.Get("comment")
	f.silence.Comment = strings.TrimSpace(p.Comment)

	names, ops, values := form["matcher_name"], form["matcher_op"], form["matcher_value"]
	at := func(vs []string, i int) string {
		if i < len(vs) {
			return vs[i]
		}
		return ""
	}
	p.Matchers = p.Matchers[:0]
	for i := range max(len(names), len(ops), len(values)) {
		in := pages.SilenceMatcherInput{Name: strings.TrimSpace(at(names, i)), Op: at(ops, i), Value: at(values, i)}
		if in.Name == "" && in.Value == "" {
			continue // a blank row
		}
		row := -1
		if len(p.Matchers) < alert.MaxSilenceMatchers+silenceBlankRows {
			row = len(p.Matchers)
		}
		m, problem := silenceMatcher(in)
		if problem != "" {
			in.Error = problem
			f.problems, f.unreadRows = true, true
		} else {
			f.silence.Matchers = append(f.silence.Matchers, m)
			f.rows = append(f.rows, row)
		}
		switch {
		case row >= 0:
			p.Matchers = append(p.Matchers, in)
		case problem != "":
			p.Error = problem // a row not shown: say it above the form
		}
	}
	p.Matchers = append(p.Matchers, make([]pages.SilenceMatcherInput, silenceBlankRows)...)

	if d, preset := silencePresets()[p.Duration]; preset {
		f.silence.EndsAt = now.Add(d) // StartsAt zero: the engine's now
	} else if p.Duration != pages.SilenceDurationCustom {
		p.Errors["duration"] = "Choose one of the durations."
	} else if until := strings.TrimSpace(p.Until); until == "" {
		p.Errors["until"] = "Choose when the silence ends."
	} else if end, ok := parseSilenceUntil(until); !ok {
		p.Errors["until"] = "Not a date and time: use YYYY-MM-DDTHH:MM (UTC)."
	} else {
		f.silence.EndsAt = end
	}
	f.problems = f.problems || len(p.Errors) > 0
	return f, nil
}

// silenceMatcher reads one matcher row; problem is worded for the form ("": none).
func silenceMatcher(in pages.SilenceMatcherInput) (m alert.Matcher, problem string) {
	m = alert.Matcher{Name: in.Name, Value: in.Value}
	switch in.Op {
	case "=", "":
	case "!=":
		m.Negate = true
	case "=~":
		m.Regex = true
	case "!~":
		m.Regex, m.Negate = true, true
	default:
		return m, fmt.Sprintf("Unknown operator %q: use =, !=, =~ or !~.", in.Op)
	}
	return m, ""
}

// parseSilenceUntil reads the end of a custom silence: a datetime-local value in UTC, or RFC 3339.
func parseSilenceUntil(s string) (time.Time, bool) {
	for _, layout := range silenceUntilLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var matcherField = regexp.MustCompile(`^matchers\[(\d+)\]$`)

// showPolicy puts the problems of err, when it is an *alert.SilenceError, next to the form's
// fields, where reading the form found none, and reports whether it was one. ends_at is the
// custom end (until) or the duration; a problem of no field of the form goes above it.
func (f *silenceForm) showPolicy(err error) bool {
	var se *alert.SilenceError
	if !errors.As(err, &se) {
		return false
	}
	p := &f.props
	set := func(field, reason string) {
		if _, taken := p.Errors[field]; !taken {
			p.Errors[field] = reason
		}
	}
	for _, field := range slices.Sorted(maps.Keys(se.Fields)) {
		reason := se.Fields[field]
		switch m := matcherField.FindStringSubmatch(field); {
		case m != nil:
			i, _ := strconv.Atoi(m[1])
			if i < len(f.rows) && f.rows[i] >= 0 && p.Matchers[f.rows[i]].Error == "" {
				p.Matchers[f.rows[i]].Error = reason
			}
		case field == "matchers" && f.unreadRows && len(f.silence.Matchers) <= alert.MaxSilenceMatchers:
			// Not "too many": a verdict on a set that lacks the unread rows.
		case field == "matchers" || field == "comment":
			set(field, reason)
		case field == "ends_at" && p.Duration == pages.SilenceDurationCustom:
			set("until", reason)
		case field == "ends_at":
			set("duration", reason)
		default:
			p.Error = strings.TrimSpace(p.Error + " " + reason)
		}
	}
	return true
}
