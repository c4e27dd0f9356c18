package web

import (
	"cmp"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// alertsHandler serves /alerts, the silence forms and /api/alerts.
type alertsHandler struct {
	*pageKit
	alerts     AlertSource
	notifiers  NotifierHealth
	log        *slog.Logger     // silence changes: the server's logger (logger=http)
	now        func() time.Time // the clock: what is active, pending or expired, and a silence's end
	canSilence bool             // there is an alert engine: silences can be made and expired
}

// alertHistoryRows is how many transitions /alerts and /api/alerts show, newest first.
const alertHistoryRows = 50

// Silence states as the alerts page and /api/alerts name them.
const (
	silenceActive  = "active"
	silencePending = "pending" // starts later
	silenceExpired = "expired"
)

// silenceNewParam is the value of ?silence= that opens an empty silence form.
const silenceNewParam = "new"

// showAlerts renders /alerts (any logged-in user): the alerts, firing first, then pending,
// then silenced; the active silences; every rule's state; notifier health; the latest
// transitions. ?fragment=alerts-live answers with only the polled live part.
//
// Admins also get the silence form: ?silence=FINGERPRINT opens it pre-filled with that alert's
// labels, ?silence=new opens it empty. ?silenced=ID and ?expired=ID (after a change) show a
// notice.
//
// ?severity=critical|warning|info and ?state=firing|pending|silenced narrow the alerts listed
// (the counts are of the alerts listed); another value is a 400 naming the parameter.
func (s *alertsHandler) showAlerts(c echo.Context) error {
	now := s.now()
	f, err := parseAlertFilter(c.QueryParams())
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if c.QueryParam("fragment") == pages.FragmentAlerts {
		return renderFragment(c, pages.AlertList(pages.AlertListProps{Live: s.alertsLive(c, now, f)}), pages.FragmentAlerts)
	}
	p := s.alertsPage(c, now, f)
	p.Notice = s.alertsNotice(c.QueryParams(), now)
	if p.Silence != nil {
		switch fp := c.QueryParam("silence"); fp {
		case "":
		case silenceNewParam:
			p.Silence.Open = true
		default:
			s.prefillSilence(p.Silence, fp)
		}
	}
	return render(c, http.StatusOK, pages.AlertList(p))
}

// alertsPage builds the whole page with an empty, closed silence form for admins.
func (s *alertsHandler) alertsPage(c echo.Context, now time.Time, f partials.AlertFilter) pages.AlertListProps {
	p := pages.AlertListProps{
		Layout: s.layoutProps(c, "Alerts", layouts.NavAlerts),
		Live:   s.alertsLive(c, now, f),
	}
	if s.mayChangeSilences(c) {
		f := newSilenceForm(c)
		p.Silence = &f
	}
	return p
}

// mayChangeSilences reports whether the user of c may create and expire silences: an admin,
// with an alert engine to keep them.
func (s *alertsHandler) mayChangeSilences(c echo.Context) bool {
	u, ok := auth.UserFrom(c)
	return ok && u.IsAdmin() && s.canSilence
}

// alertsLive builds the live part of /alerts, its alerts narrowed by f.
func (s *alertsHandler) alertsLive(c echo.Context, now time.Time, f partials.AlertFilter) partials.AlertsLiveProps {
	src := s.alerts
	rules := src.Rules()
	units := make(map[string]valueUnit, len(rules))
	for _, r := range rules {
		units[r.Name] = ruleUnit(r.Rule.Series, r.Rule.Aggregate)
	}
	admin := s.mayChangeSilences(c)
	p := partials.AlertsLiveProps{
		CSRFToken: auth.CSRFToken(c),
		PollURL:   f.URL("/alerts", "fragment", pages.FragmentAlerts),
		Filter:    f,
		RefreshMs: int(s.refresh.Milliseconds()),
		Now:       now,
	}

	alerts := orderAlerts(src.Alerts())
	muting := map[string]int{}
	for _, a := range alerts {
		row := partials.AlertRow{
			Rule: a.Rule, Fingerprint: a.Fingerprint, Severity: a.Severity, State: string(a.State),
			Summary: a.Summary, Labels: alertLabels(a.Labels), Value: units[a.Rule].format(a.Value),
			ActiveAt: a.ActiveAt, FiredAt: a.FiredAt, Silenced: a.Silenced, SilenceID: a.SilenceID,
			ChartURL: alertChartURL(a.Labels, a.ActiveAt),
		}
		if a.Silenced {
			muting[a.SilenceID]++
		} else if admin {
			row.SilenceURL = "/alerts?silence=" + url.QueryEscape(a.Fingerprint) + "#" + pages.SilenceFormID
		}
		p.Total++
		if f.Match(row) {
			p.Alerts = append(p.Alerts, row)
		}
	}

	for _, sl := range src.Silences() {
		state := silenceState(sl, now)
		if state == silenceExpired {
			continue
		}
		row := partials.SilenceRow{
			ID: sl.ID, Matchers: matcherStrings(sl.Matchers), StartsAt: sl.StartsAt, EndsAt: sl.EndsAt,
			Comment: sl.Comment, CreatedBy: sl.CreatedBy, State: state, Muted: muting[sl.ID],
		}
		if admin {
			row.ExpireURL = silenceExpireURL(sl.ID)
		}
		p.Silences = append(p.Silences, row)
	}

	for _, r := range rules {
		u := units[r.Name]
		row := partials.RuleRow{
			Name: r.Name, Series: cmp.Or(r.Series, r.Expr), Severity: r.Severity, State: r.State, Active: r.Active,
			LastEval: r.LastEval, EvalSeconds: r.EvalDuration.Seconds(), Error: r.Error,
			Condition: ruleCondition(r.Rule, u), For: alertDuration(time.Duration(r.Rule.For)),
		}
		if ct := r.Rule.ClearThreshold; ct != nil {
			row.Clear = "clears at " + clearOp(r.Rule.Op) + " " + u.format(*ct)
		}
		p.Rules = append(p.Rules, row)
	}

	for _, h := range s.notifiers.Health() {
		p.Notifiers = append(p.Notifiers, partials.NotifierRow{
			Name: h.Name, Kind: h.Kind, LastSuccess: h.LastSuccess, LastAttempt: h.LastAttempt,
			LastError: h.LastError, Failures: h.ConsecutiveFailures, Pending: h.Pending, Held: h.Held,
		})
	}

	hist := src.History()
	for _, t := range hist[:min(len(hist), alertHistoryRows)] {
		p.History = append(p.History, partials.HistoryRow{
			At: t.At, Rule: t.Rule, Labels: alertLabels(t.Labels), From: string(t.From), To: string(t.To),
			Value: units[t.Rule].format(t.Value),
		})
	}
	return p
}

// orderAlerts returns alerts as /alerts lists them: unsilenced firing, unsilenced pending,
// then silenced ones; within each group, the source's order (severity, then age).
func orderAlerts(alerts []alert.Alert) []alert.Alert {
	group := func(a alert.Alert) int {
		switch {
		case a.Silenced:
			return 2
		case a.State == alert.StateFiring:
			return 0
		}
		return 1
	}
	out := slices.Clone(alerts)
	slices.SortStableFunc(out, func(a, b alert.Alert) int { return cmp.Compare(group(a), group(b)) })
	return out
}

// firingAlerts returns the firing alerts (pending ones left out): unsilenced first, then
// silenced, each by severity then age. For the overview.
func firingAlerts(src alertLister) []alert.Alert {
	var firing []alert.Alert
	for _, a := range orderAlerts(src.Alerts()) {
		if a.State == alert.StateFiring {
			firing = append(firing, a)
		}
	}
	return firing
}

// alertLabels returns the labels to show as chips, by name: alertname and severity are shown
// apart.
func alertLabels(m map[string]string) []partials.AlertLabel {
	out := make([]partials.AlertLabel, 0, len(m))
	for k, v := range m {
		if k == "alertname" || k == "severity" {
			continue
		}
		out = append(out, partials.AlertLabel{Name: k, Value: v})
	}
	slices.SortFunc(out, func(a, b partials.AlertLabel) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// silenceState names s's state at now.
func silenceState(s alert.Silence, now time.Time) string {
	switch {
	case !s.EndsAt.After(now):
		return silenceExpired
	case s.StartsAt.After(now):
		return silencePending
	}
	return silenceActive
}

func matcherStrings(ms []alert.Matcher) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

func silenceExpireURL(id string) string {
	return "/alerts/silences/" + url.PathEscape(id) + "/expire"
}

// alertsNotice words the outcome of the last change (?silenced=ID, ?expired=ID).
func (s *alertsHandler) alertsNotice(q url.Values, now time.Time) string {
	if id := q.Get("expired"); id != "" {
		return "Silence " + components.Clip(id, 40) + " expired: the alerts it muted notify again."
	}
	id := q.Get("silenced")
	if id == "" {
		return ""
	}
	msg := "Silence " + components.Clip(id, 40) + " created"
	for _, sl := range s.alerts.Silences() {
		if sl.ID != id {
			continue
		}
		n := 0
		for _, a := range s.alerts.Alerts() {
			if a.Silenced && a.SilenceID == id {
				n++
			}
		}
		msg += ": it mutes " + alertPlural(n, "alert") + " now, until " + sl.EndsAt.UTC().Format("2006-01-02 15:04 UTC") +
			" (in " + components.Ago(sl.EndsAt, now) + ")"
		break
	}
	return msg + "."
}

// alertPlural is "1 alert", "2 alerts".
func alertPlural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return components.Int(int64(n)) + " " + what + "s"
}

// alertChartLead is how much history before an alert became active its chart link shows.
const alertChartLead = 30 * time.Minute

// alertChartURL is the page with the charts of an alert's series, from alertChartLead before
// it became active up to now (?from= alone: a live span): a host's page for a host label, the
// watched keys of the instance for a key, the instance's page for an instance; "" when the
// labels name none of them.
func alertChartURL(labels map[string]string, activeAt time.Time) string {
	from := "?from=" + strconv.FormatInt(activeAt.Add(-alertChartLead).Unix(), 10)
	switch {
	case labels["host"] != "":
		return "/hosts/" + url.PathEscape(labels["host"]) + from
	case labels["instance"] != "" && labels["key"] != "":
		return components.KeysURL(labels["instance"], labels["key"])
	case labels["instance"] != "":
		return components.RedisInstanceURL(labels["instance"]) + from
	}
	return ""
}

// parseAlertFilter reads ?severity= and ?state= of /alerts; empty values match everything.
func parseAlertFilter(q url.Values) (partials.AlertFilter, error) {
	f := partials.AlertFilter{Severity: q.Get("severity"), State: q.Get("state")}
	if f.Severity != "" && !slices.Contains(partials.AlertFilterSeverities, f.Severity) {
		return f, fmt.Errorf("severity: %q is not one of %s", f.Severity, strings.Join(partials.AlertFilterSeverities, ", "))
	}
	if f.State != "" && !slices.Contains(partials.AlertFilterStates, f.State) {
		return f, fmt.Errorf("state: %q is not one of %s", f.State, strings.Join(partials.AlertFilterStates, ", "))
	}
	return f, nil
}
