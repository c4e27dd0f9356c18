package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

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
	alerts := s.alerts.Alerts()
	i := slices.IndexFunc(alerts, func(a alert.Alert) bool { return a.Fingerprint == fp })
	if i < 0 {
		f.Note = "That alert is no longer pending or firing. Describe the alerts to silence below."
		return
	}
	a := alerts[i]
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

// createSilence handles POST /alerts/silences (admins): it reads the form, stores the silence
// with CreatedBy set to the user, and answers 303 to /alerts?silenced=ID. Input that cannot be
// read or that the silence policy refuses (alert.ValidateSilence) re-renders the page with the
// form, its input and the problems next to their fields: 422; a silence that could not be
// stored: 500.
//
// Form fields: matcher_name, matcher_op (= != =~ !~), matcher_value, repeated one per row (a
// row with neither name nor value is ignored); duration (1h, 4h, 24h, 7d or custom); until
// (with custom: YYYY-MM-DDTHH:MM in UTC, or RFC 3339); comment (required).
func (s *alertsHandler) createSilence(c echo.Context) error {
	if !s.canSilence {
		return echo.NewHTTPError(http.StatusNotFound, "silences cannot be made: alerts are not evaluated")
	}
	now := s.now()
	f, err := readSilenceForm(c, now)
	if err != nil {
		return s.renderSilenceForm(c, http.StatusUnprocessableEntity, f.props, now)
	}
	if f.problems {
		// Show what the policy says of the rest of the input too.
		f.showPolicy(alert.ValidateSilence(f.silence, now))
		return s.renderSilenceForm(c, http.StatusUnprocessableEntity, f.props, now)
	}
	u, _ := auth.UserFrom(c)
	f.silence.CreatedBy = u.Name
	saved, err := s.alerts.AddSilence(f.silence)
	if err != nil {
		code := http.StatusUnprocessableEntity
		if !f.showPolicy(err) {
			f.props.Error = "The silence was not created: " + err.Error()
			if !errors.Is(err, alert.ErrTooManySilences) {
				code = http.StatusInternalServerError
				s.log.Error("cannot save a silence", "request_id", requestID(c), "err", err)
			}
		}
		return s.renderSilenceForm(c, code, f.props, now)
	}
	s.log.Info("silence created", "user", u.Name, "silence_id", saved.ID,
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
	for _, sl := range s.alerts.Silences() {
		if sl.ID == id {
			matchers = matcherStrings(sl.Matchers)
		}
	}
	if err := s.alerts.ExpireSilence(id); err != nil {
		if errors.Is(err, alert.ErrSilenceNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "no silence "+id)
		}
		return fmt.Errorf("cannot expire silence %s: %w", id, err)
	}
	u, _ := auth.UserFrom(c)
	s.log.Info("silence expired", "user", u.Name, "silence_id", id, "matchers", strings.Join(matchers, ","))
	return c.Redirect(http.StatusSeeOther, "/alerts?expired="+url.QueryEscape(id))
}

// renderSilenceForm renders /alerts with f open (its input and problems) and the given status.
func (s *alertsHandler) renderSilenceForm(c echo.Context, code int, f pages.SilenceFormProps, now time.Time) error {
	p := s.alertsPage(c, now, partials.AlertFilter{})
	f.Open = true
	p.Silence = &f
	return render(c, code, pages.AlertList(p))
}
