package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/pages"
)

// Limits of the silence form.
const (
	maxSilenceMatchers    = 50
	maxSilenceCommentRune = 1000
	maxSilenceAhead       = 366 * 24 * time.Hour // how far ahead a silence may end
	silenceBlankRows      = 2                    // empty matcher rows offered for more matchers
)

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

// alertsLog is the logger of silence changes: the server's (logger=http), since a second
// logger attribute would repeat the key in JSON lines.
func (s *alertsHandler) alertsLog() *slog.Logger {
	return s.opts.Logger
}

// newSilenceForm is an empty silence form: a few blank matcher rows, one hour.
func newSilenceForm(c echo.Context) pages.SilenceFormProps {
	return pages.SilenceFormProps{
		Action:    "/alerts/silences",
		CSRFToken: auth.CSRFToken(c),
		Duration:  "1h",
		Matchers:  make([]pages.SilenceMatcherInput, silenceBlankRows+1),
	}
}

// prefillSilence opens f for the alert with fingerprint fp: one "=" matcher per label
// (alertname first), so that the silence mutes exactly that alert.
func (s *alertsHandler) prefillSilence(f *pages.SilenceFormProps, fp string) {
	f.Open = true
	i := slices.IndexFunc(s.opts.Alerts.Alerts(), func(a alert.Alert) bool { return a.Fingerprint == fp })
	if i < 0 {
		f.Note = "That alert is no longer pending or firing. Describe the alerts to silence below."
		return
	}
	a := s.opts.Alerts.Alerts()[i]
	names := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		if k != "alertname" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	if _, ok := a.Labels["alertname"]; ok {
		names = slices.Insert(names, 0, "alertname")
	}
	f.Title = "Silence " + a.Rule
	f.Matchers = f.Matchers[:0]
	for _, k := range names {
		f.Matchers = append(f.Matchers, pages.SilenceMatcherInput{Name: k, Op: "=", Value: a.Labels[k]})
	}
	f.Matchers = append(f.Matchers, make([]pages.SilenceMatcherInput, silenceBlankRows)...)
}

// createSilence handles POST /alerts/silences (admins): it validates the form, stores the
// silence with CreatedBy set to the user, and answers 303 to /alerts?silenced=ID. Invalid
// input re-renders the page with the form, its input and the problems next to their fields:
// 422; a silence that could not be stored: 500.
//
// Form fields: matcher_name, matcher_op (= != =~ !~), matcher_value, repeated one per row (a
// row with neither name nor value is ignored); duration (1h, 4h, 24h, 7d or custom); until
// (with custom: YYYY-MM-DDTHH:MM in UTC, or RFC 3339); comment (required).
func (s *alertsHandler) createSilence(c echo.Context) error {
	if !s.canSilence {
		return echo.NewHTTPError(http.StatusNotFound, "silences cannot be made: alerts are not evaluated")
	}
	now := time.Now()
	form, sl, ok := parseSilenceForm(c, now)
	if !ok {
		return s.renderSilenceForm(c, http.StatusUnprocessableEntity, form, now)
	}
	u, _ := auth.UserFrom(c)
	sl.CreatedBy = u.Name
	saved, err := s.opts.Alerts.AddSilence(sl)
	if err != nil {
		form.Error = "The silence was not created: " + err.Error()
		code := http.StatusInternalServerError
		if msg := err.Error(); strings.HasPrefix(msg, "invalid silence") || strings.HasPrefix(msg, "cannot add a silence") {
			code = http.StatusUnprocessableEntity // the engine's own checks and its limit
		} else {
			s.opts.Logger.Error("cannot save a silence", "request_id", requestID(c), "err", err)
		}
		return s.renderSilenceForm(c, code, form, now)
	}
	s.alertsLog().Info("silence created", "user", u.Name, "silence_id", saved.ID,
		"matchers", strings.Join(matcherStrings(saved.Matchers), ","), "ends_at", saved.EndsAt.UTC())
	return c.Redirect(http.StatusSeeOther, "/alerts?silenced="+url.QueryEscape(saved.ID))
}

// expireSilence handles POST /alerts/silences/:id/expire (admins): it ends the silence now and
// answers 303 to /alerts?expired=ID; an unknown silence is a 404.
func (s *alertsHandler) expireSilence(c echo.Context) error {
	if !s.canSilence {
		return echo.NewHTTPError(http.StatusNotFound, "silences cannot be changed: alerts are not evaluated")
	}
	id := c.Param("id")
	var matchers []string
	for _, sl := range s.opts.Alerts.Silences() {
		if sl.ID == id {
			matchers = matcherStrings(sl.Matchers)
		}
	}
	if err := s.opts.Alerts.ExpireSilence(id); err != nil {
		if errors.Is(err, alert.ErrSilenceNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "no silence "+id)
		}
		return fmt.Errorf("cannot expire silence %s: %w", id, err)
	}
	u, _ := auth.UserFrom(c)
	s.alertsLog().Info("silence expired", "user", u.Name, "silence_id", id, "matchers", strings.Join(matchers, ","))
	return c.Redirect(http.StatusSeeOther, "/alerts?expired="+url.QueryEscape(id))
}

// renderSilenceForm renders /alerts with f open (its input and problems) and the given status.
func (s *alertsHandler) renderSilenceForm(c echo.Context, code int, f pages.SilenceFormProps, now time.Time) error {
	p := s.alertsPage(c, now)
	f.Open = true
	p.Silence = &f
	return render(c, code, pages.AlertList(p))
}

// parseSilenceForm reads and checks the silence form. It returns the form as typed (with a
// blank row to add to, and the problems found) and, when ok, the silence to add.
func parseSilenceForm(c echo.Context, now time.Time) (f pages.SilenceFormProps, sl alert.Silence, ok bool) {
	f = newSilenceForm(c)
	f.Errors = map[string]string{}
	if _, err := c.FormParams(); err != nil {
		f.Error = "The form could not be read: " + err.Error()
		return f, sl, false
	}
	form := c.Request().PostForm
	f.Duration = form.Get("duration")
	f.Until = form.Get("until")
	f.Comment = form.Get("comment")

	names, ops, values := form["matcher_name"], form["matcher_op"], form["matcher_value"]
	n := max(len(names), len(ops), len(values))
	at := func(vs []string, i int) string {
		if i < len(vs) {
			return vs[i]
		}
		return ""
	}
	f.Matchers = f.Matchers[:0]
	rowErrors := false
	for i := range min(n, maxSilenceMatchers+silenceBlankRows) {
		in := pages.SilenceMatcherInput{Name: strings.TrimSpace(at(names, i)), Op: at(ops, i), Value: at(values, i)}
		if in.Name == "" && in.Value == "" {
			continue // a blank row
		}
		m, problem := parseSilenceMatcher(in)
		if problem != "" {
			in.Error = problem
			rowErrors = true
		} else {
			sl.Matchers = append(sl.Matchers, m)
		}
		f.Matchers = append(f.Matchers, in)
	}
	f.Matchers = append(f.Matchers, make([]pages.SilenceMatcherInput, silenceBlankRows)...)
	switch {
	case n > maxSilenceMatchers+silenceBlankRows || len(sl.Matchers) > maxSilenceMatchers:
		f.Errors["matchers"] = fmt.Sprintf("A silence takes at most %d matchers.", maxSilenceMatchers)
	case len(sl.Matchers) == 0 && !rowErrors:
		f.Errors["matchers"] = "Add at least one matcher: a label name and its value."
	case !rowErrors && !slices.ContainsFunc(sl.Matchers, func(m alert.Matcher) bool { return !matchesEmpty(m) }):
		f.Errors["matchers"] = "At least one matcher must require a non-empty value; these would mute every alert."
	}

	comment := strings.TrimSpace(f.Comment)
	switch {
	case comment == "":
		f.Errors["comment"] = "A comment is required: say why, and who to ask."
	case utf8.RuneCountInString(comment) > maxSilenceCommentRune:
		f.Errors["comment"] = fmt.Sprintf("At most %d characters.", maxSilenceCommentRune)
	}

	var end time.Time
	if d, preset := silencePresets()[f.Duration]; preset {
		end = now.Add(d)
	} else if f.Duration != pages.SilenceDurationCustom {
		f.Errors["duration"] = "Choose one of the durations."
	} else if until := strings.TrimSpace(f.Until); until == "" {
		f.Errors["until"] = "Choose when the silence ends."
	} else if end, ok = parseSilenceUntil(until); !ok {
		f.Errors["until"] = "Not a date and time: use YYYY-MM-DDTHH:MM (UTC)."
	} else if !end.After(now) {
		f.Errors["until"] = "The end must be in the future (times are UTC)."
	} else if end.Sub(now) > maxSilenceAhead {
		f.Errors["until"] = "A silence may last at most a year."
	}

	if rowErrors || len(f.Errors) > 0 {
		return f, alert.Silence{}, false
	}
	sl.EndsAt, sl.Comment = end, comment // StartsAt zero: the engine's now
	return f, sl, true
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

// parseSilenceMatcher checks one matcher row; problem is worded for the form ("": none).
func parseSilenceMatcher(in pages.SilenceMatcherInput) (m alert.Matcher, problem string) {
	m = alert.Matcher{Name: in.Name, Value: in.Value}
	if in.Name == "" {
		return m, "Give the label name this value is for."
	}
	if tsdb.ValidateLabelName(in.Name) != nil {
		return m, "Not a label name: letters, digits and _, not starting with a digit."
	}
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
	if m.Regex {
		if _, err := regexp.Compile("^(?:" + m.Value + ")$"); err != nil {
			return m, "Not a valid regular expression: " + regexpProblem(err) + "."
		}
	}
	return m, ""
}

// regexpProblem is the reason of a regexp.Compile error without the expression itself.
func regexpProblem(err error) string {
	var se *syntax.Error
	if errors.As(err, &se) {
		return string(se.Code)
	}
	return err.Error()
}

// matchesEmpty reports whether m matches a label that is missing or empty. m must be valid.
func matchesEmpty(m alert.Matcher) bool {
	ok := m.Value == ""
	if m.Regex {
		ok = regexp.MustCompile("^(?:" + m.Value + ")$").MatchString("")
	}
	return ok != m.Negate
}
