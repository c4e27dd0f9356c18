package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/settings"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/pages"
)

// settingsHandler serves /settings and its forms (admin only). The page is built in
// settings_page.go; each kind of object has its add, edit, pause and delete handlers in its
// own file (settings_instance.go, settings_key.go, settings_rule.go), which all end in change.
type settingsHandler struct {
	*pageKit
	settings SettingsService   // nil: the page lists the watched instances read-only
	redis    instanceSnapshots // the instances' status column
	latest   latestMatcher     // how many series each rule's selector matches; nil: unknown
}

// SettingsService is what /settings reads and changes; *settings.Service satisfies it.
type SettingsService interface {
	// View lists every instance, key and alert rule, without passwords.
	View() settings.View
	// Update validates, applies and saves one change, all or nothing (see settings.Service).
	Update(user string, m settings.Mutation) error
	// Check validates a change without making it.
	Check(user string, m settings.Mutation) error
}

var _ SettingsService = (*settings.Service)(nil)

// latestMatcher is what a rule's match count reads: the latest-value table (Store).
type latestMatcher interface {
	Latest(sel *tsdb.Selector) []tsdb.LatestValue
}

// needSettings answers 404 when there is no settings service (Options.Settings is nil).
func (s *settingsHandler) needSettings(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.settings == nil {
			return echo.NewHTTPError(http.StatusNotFound, "settings cannot be changed: no settings storage")
		}
		return h(c)
	}
}

// adminOnlyPage answers non-admins with a 403 through the error handler, so that browsers get
// the error page (auth.RequireAdmin, which follows, answers JSON).
func adminOnlyPage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u, ok := auth.UserFrom(c); ok && !u.IsAdmin() {
			return echo.NewHTTPError(http.StatusForbidden, "admin role required")
		}
		return next(c)
	}
}

// settingsChange is one change posted to /settings: an add or edit form, or a pause, resume
// or delete button.
type settingsChange struct {
	m        settings.Mutation
	unparsed map[string]string // form values that did not parse, by field; the change is not tried
	// show puts the posted form back into the page with the change's problems (fields by form
	// field name, msg for the rest). It returns false when there is no form to show (nil show:
	// a button) or no row left to show it in; msg then goes atop the page.
	show func(p *pages.SettingsProps, fields map[string]string, msg string) bool
	// The notice after it: /settings?<done>=<kind>:<name>#<anchor>.
	done   string // added, saved, paused, resumed or deleted
	kind   string // instance, key or rule
	name   string // the object's name
	anchor string // the element the page scrolls to; "": the top
}

// change is the one flow of every form: values that do not parse or a change refused answer
// 422 with the problems in place (settingsFailed has the other failures), a change made
// answers 303 back to the page with a notice.
func (s *settingsHandler) change(c echo.Context, ch settingsChange) error {
	if len(ch.unparsed) > 0 {
		return s.settingsUnparsed(c, ch)
	}
	if err := s.settings.Update(userName(c), ch.m); err != nil {
		return s.settingsFailed(c, err, ch)
	}
	u := "/settings?" + url.Values{ch.done: {ch.kind + ":" + ch.name}}.Encode()
	if ch.anchor != "" {
		u += "#" + ch.anchor
	}
	return c.Redirect(http.StatusSeeOther, u)
}

// settingsFailed answers a refused or failed change: 422 with the problems shown in place for
// invalid input or a change the samplers refused, 404 or 409 for a missing or config-file
// object, 500 when it could not be saved (it was undone).
func (s *settingsHandler) settingsFailed(c echo.Context, err error, ch settingsChange) error {
	var ve *settings.ValidationError
	switch {
	case errors.As(err, &ve):
		return s.settingsInvalid(c, ve.Fields, strings.Join(ve.Other, "; "), ch)
	case errors.Is(err, settings.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	case errors.Is(err, settings.ErrReadOnly):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	case errors.Is(err, settings.ErrApply):
		return s.settingsInvalid(c, nil, err.Error(), ch)
	}
	p := s.settingsPage(c)
	p.Error = "The change was not saved: " + err.Error()
	return render(c, http.StatusInternalServerError, pages.Settings(p))
}

// settingsUnparsed answers a form with values that do not parse (ch.unparsed): 422 with those
// problems and, for the other fields, what validating the rest finds.
func (s *settingsHandler) settingsUnparsed(c echo.Context, ch settingsChange) error {
	errs, msg := ch.unparsed, ""
	var ve *settings.ValidationError
	if err := s.settings.Check(userName(c), ch.m); errors.As(err, &ve) {
		for f, r := range ve.Fields {
			if _, ok := errs[f]; !ok {
				errs[f] = r
			}
		}
		msg = strings.Join(ve.Other, "; ")
	}
	return s.settingsInvalid(c, errs, msg, ch)
}

// settingsInvalid re-renders the page with status 422 and the problems in place.
func (s *settingsHandler) settingsInvalid(c echo.Context, fields map[string]string, msg string, ch settingsChange) error {
	p := s.settingsPage(c)
	if msg == "" && len(fields) == 0 {
		msg = "invalid input"
	}
	if ch.show == nil || !ch.show(&p, fields, msg) {
		p.Error = msg
	}
	return render(c, http.StatusUnprocessableEntity, pages.Settings(p))
}

func pausedWord(paused bool) string {
	if paused {
		return "paused"
	}
	return "resumed"
}

func userName(c echo.Context) string {
	u, _ := auth.UserFrom(c)
	return u.Name
}
