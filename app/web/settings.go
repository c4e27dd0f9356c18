package web

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/settings"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
)

// settingsHandler serves /settings and its forms (admin only).
type settingsHandler struct {
	*pageKit
	opts *Options
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

// needSettings answers 404 when there is no settings service (Options.Settings is nil).
func (s *settingsHandler) needSettings(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.opts.Settings == nil {
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

// showSettings renders /settings. ?edit=instance:NAME, ?edit=key:ID or ?edit=rule:NAME opens
// that object's edit form; ?added= (saved, paused, resumed, deleted) =instance:NAME, =key:NAME
// or =rule:NAME shows a notice.
func (s *settingsHandler) showSettings(c echo.Context) error {
	p := s.settingsPage(c)
	p.Notice = settingsNotice(c.QueryParams())
	kind, target, _ := strings.Cut(c.QueryParam("edit"), ":")
	switch kind {
	case "instance":
		if in := findInstance(&p, target); in != nil && in.Source == pages.SourceUI {
			f := instanceFormOf(in)
			in.Edit = &f
		}
	case "key":
		if k := findKey(&p, target); k != nil && k.Source == pages.SourceUI && !k.Orphan {
			f := keyFormOf(k)
			k.Edit = &f
		}
	case "rule":
		if r := findRule(&p, target); r != nil && r.Source == pages.SourceUI {
			f := ruleFormOf(r)
			if r.Problem != "" {
				f.Error = "Not evaluated: " + r.Problem
			}
			r.Edit = &f
		}
	}
	return render(c, http.StatusOK, pages.Settings(p))
}

func (s *settingsHandler) addInstance(c echo.Context) error {
	in, form, _, errs := parseInstanceForm(c)
	form.Action, form.HTMLID = "/settings/instances", "add-instance"
	show := func(p *pages.SettingsProps, fields map[string]string, msg string) {
		form.Errors, form.Error = fields, msg
		p.AddInstance = form
	}
	if len(errs) > 0 {
		return s.settingsUnparsed(c, errs, settings.AddInstance(in), show)
	}
	if err := s.opts.Settings.Update(userName(c), settings.AddInstance(in)); err != nil {
		return s.settingsFailed(c, err, show)
	}
	return settingsDone(c, "added", "instance", in.Name, "instance-"+in.Name)
}

func (s *settingsHandler) editInstance(c echo.Context) error {
	name := c.Param("name")
	in, form, clear, errs := parseInstanceForm(c)
	form.Action, form.HTMLID, form.Edit = pages.InstanceURL(name), "edit-instance", true
	show := func(p *pages.SettingsProps, fields map[string]string, msg string) {
		form.Errors, form.Error = fields, msg
		if row := findInstance(p, name); row != nil {
			form.HasPassword = row.HasPassword
			row.Edit = &form
		} else {
			p.Error = msg
		}
	}
	if len(errs) > 0 {
		return s.settingsUnparsed(c, errs, settings.EditInstance(name, in, clear), show)
	}
	if err := s.opts.Settings.Update(userName(c), settings.EditInstance(name, in, clear)); err != nil {
		return s.settingsFailed(c, err, show)
	}
	return settingsDone(c, "saved", "instance", in.Name, "instance-"+in.Name)
}

func (s *settingsHandler) pauseInstance(paused bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("name")
		if err := s.opts.Settings.Update(userName(c), settings.PauseInstance(name, paused)); err != nil {
			return s.settingsFailed(c, err, pageError)
		}
		return settingsDone(c, pausedWord(paused), "instance", name, "instance-"+name)
	}
}

func (s *settingsHandler) deleteInstance(c echo.Context) error {
	name := c.Param("name")
	if err := s.opts.Settings.Update(userName(c), settings.DeleteInstance(name)); err != nil {
		return s.settingsFailed(c, err, pageError)
	}
	return settingsDone(c, "deleted", "instance", name, "")
}

func (s *settingsHandler) addKey(c echo.Context) error {
	name := c.Param("name")
	k, form, errs := parseKeyForm(c)
	form.Action, form.HTMLID, form.Instance = pages.InstanceURL(name)+"/keys", "add-key-"+name, name
	show := func(p *pages.SettingsProps, fields map[string]string, msg string) {
		form.Errors, form.Error = fields, msg
		if row := findInstance(p, name); row != nil {
			form.IntervalDefault = row.AddKey.IntervalDefault
			row.AddKey = form
		} else {
			p.Error = msg
		}
	}
	if len(errs) > 0 {
		return s.settingsUnparsed(c, errs, settings.AddKey(name, k), show)
	}
	if err := s.opts.Settings.Update(userName(c), settings.AddKey(name, k)); err != nil {
		return s.settingsFailed(c, err, show)
	}
	return settingsDone(c, "added", "key", k.Name(), "instance-"+name)
}

func (s *settingsHandler) editKey(c echo.Context) error {
	id := c.Param("id")
	k, form, errs := parseKeyForm(c)
	form.Action, form.HTMLID, form.Edit = pages.KeyURL(id), "edit-key", true
	show := func(p *pages.SettingsProps, fields map[string]string, msg string) {
		form.Errors, form.Error = fields, msg
		if row := findKey(p, id); row != nil {
			form.Instance, form.IntervalDefault = row.Instance, instanceInterval(p, row.Instance)
			row.Edit = &form
		} else {
			p.Error = msg
		}
	}
	if len(errs) > 0 {
		return s.settingsUnparsed(c, errs, settings.EditKey(id, k), show)
	}
	if err := s.opts.Settings.Update(userName(c), settings.EditKey(id, k)); err != nil {
		return s.settingsFailed(c, err, show)
	}
	return settingsDone(c, "saved", "key", k.Name(), "key-"+id)
}

func (s *settingsHandler) pauseKey(paused bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		name := s.keyName(id)
		if err := s.opts.Settings.Update(userName(c), settings.PauseKey(id, paused)); err != nil {
			return s.settingsFailed(c, err, pageError)
		}
		return settingsDone(c, pausedWord(paused), "key", name, "key-"+id)
	}
}

func (s *settingsHandler) deleteKey(c echo.Context) error {
	id := c.Param("id")
	name := s.keyName(id)
	if err := s.opts.Settings.Update(userName(c), settings.DeleteKey(id)); err != nil {
		return s.settingsFailed(c, err, pageError)
	}
	return settingsDone(c, "deleted", "key", name, "")
}

func (s *settingsHandler) addRule(c echo.Context) error {
	r, form, errs := parseRuleForm(c)
	form.Action, form.HTMLID = "/settings/rules", "add-rule"
	show := func(p *pages.SettingsProps, fields map[string]string, msg string) {
		form.Errors, form.Error = fields, msg
		p.AddRule = form
	}
	if len(errs) > 0 {
		return s.settingsUnparsed(c, errs, settings.AddRule(r), show)
	}
	if err := s.opts.Settings.Update(userName(c), settings.AddRule(r)); err != nil {
		return s.settingsFailed(c, err, show)
	}
	return settingsDone(c, "added", "rule", r.Name, "rule-"+r.Name)
}

func (s *settingsHandler) editRule(c echo.Context) error {
	name := c.Param("name")
	r, form, errs := parseRuleForm(c)
	form.Action, form.HTMLID, form.Edit, form.Rule = pages.RuleURL(name), "edit-rule", true, name
	show := func(p *pages.SettingsProps, fields map[string]string, msg string) {
		form.Errors, form.Error = fields, msg
		if row := findRule(p, name); row != nil && row.Source == pages.SourceUI {
			row.Edit = &form
		} else {
			p.Error = msg
		}
	}
	if len(errs) > 0 {
		return s.settingsUnparsed(c, errs, settings.EditRule(name, r), show)
	}
	if err := s.opts.Settings.Update(userName(c), settings.EditRule(name, r)); err != nil {
		return s.settingsFailed(c, err, show)
	}
	return settingsDone(c, "saved", "rule", r.Name, "rule-"+r.Name)
}

func (s *settingsHandler) pauseRule(paused bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("name")
		if err := s.opts.Settings.Update(userName(c), settings.PauseRule(name, paused)); err != nil {
			return s.settingsFailed(c, err, pageError)
		}
		return settingsDone(c, pausedWord(paused), "rule", name, "rule-"+name)
	}
}

func (s *settingsHandler) deleteRule(c echo.Context) error {
	name := c.Param("name")
	if err := s.opts.Settings.Update(userName(c), settings.DeleteRule(name)); err != nil {
		return s.settingsFailed(c, err, pageError)
	}
	return settingsDone(c, "deleted", "rule", name, "alert-rules")
}

// showFunc puts a failed change's problems into the page: fields by form field name, msg for
// the rest.
type showFunc func(p *pages.SettingsProps, fields map[string]string, msg string)

// pageError shows a failure of a change without a form (pause, delete) at the top of the page.
func pageError(p *pages.SettingsProps, _ map[string]string, msg string) { p.Error = msg }

// settingsFailed answers a refused or failed change: 422 with the problems shown in place for
// invalid input or a change the samplers refused, 404 or 409 for a missing or config-file
// object, 500 when it could not be saved (it was undone).
func (s *settingsHandler) settingsFailed(c echo.Context, err error, show showFunc) error {
	var ve *settings.ValidationError
	switch {
	case errors.As(err, &ve):
		return s.settingsInvalid(c, ve.Fields, strings.Join(ve.Other, "; "), show)
	case errors.Is(err, settings.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	case errors.Is(err, settings.ErrReadOnly):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	case errors.Is(err, settings.ErrApply):
		return s.settingsInvalid(c, nil, err.Error(), show)
	}
	p := s.settingsPage(c)
	p.Error = "The change was not saved: " + err.Error()
	return render(c, http.StatusInternalServerError, pages.Settings(p))
}

// settingsUnparsed answers a form with values that do not parse (errs, by field): 422 with
// those problems and, for the other fields, what validating the rest finds.
func (s *settingsHandler) settingsUnparsed(c echo.Context, errs map[string]string, m settings.Mutation, show showFunc) error {
	msg := ""
	var ve *settings.ValidationError
	if err := s.opts.Settings.Check(userName(c), m); errors.As(err, &ve) {
		for f, r := range ve.Fields {
			if _, ok := errs[f]; !ok {
				errs[f] = r
			}
		}
		msg = strings.Join(ve.Other, "; ")
	}
	return s.settingsInvalid(c, errs, msg, show)
}

// settingsInvalid re-renders the page with status 422 and the problems in place.
func (s *settingsHandler) settingsInvalid(c echo.Context, fields map[string]string, msg string, show showFunc) error {
	p := s.settingsPage(c)
	if msg == "" && len(fields) == 0 {
		msg = "invalid input"
	}
	show(&p, fields, msg)
	return render(c, http.StatusUnprocessableEntity, pages.Settings(p))
}

// settingsDone redirects (303) back to the page with a one-shot notice, at anchor if set.
func settingsDone(c echo.Context, done, kind, name, anchor string) error {
	u := "/settings?" + url.Values{done: {kind + ":" + name}}.Encode()
	if anchor != "" {
		u += "#" + anchor
	}
	return c.Redirect(http.StatusSeeOther, u)
}

// settingsNoticeWords are the one-shot notices' query parameters, in the order looked at.
var settingsNoticeWords = []string{"added", "saved", "paused", "resumed", "deleted"}

// settingsNoticeKinds are the objects a notice may name, with the word it uses.
var settingsNoticeKinds = map[string]string{"instance": "Instance", "key": "Key", "rule": "Rule"}

// settingsNotice words the ?added=instance:NAME (or key:NAME, rule:NAME) query of a redirect.
func settingsNotice(q url.Values) string {
	for _, w := range settingsNoticeWords {
		v := q.Get(w)
		kind, name, ok := strings.Cut(v, ":")
		what := settingsNoticeKinds[kind]
		if !ok || what == "" {
			continue
		}
		return fmt.Sprintf("%s “%s” %s.", what, components.Clip(components.Printable(name), 200), w)
	}
	return ""
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

// keyName is the key or pattern of the UI key id, for the notice ("" when unknown).
func (s *settingsHandler) keyName(id string) string {
	v := s.opts.Settings.View()
	for _, in := range v.Instances {
		for _, k := range in.Keys {
			if k.ID == id {
				return k.Name()
			}
		}
	}
	for _, k := range v.Orphans {
		if k.ID == id {
			return k.Name()
		}
	}
	return ""
}

// settingsPage builds the page from the current settings: every instance with its status
// (from the samplers' snapshots), keys and blank "Add key" form, orphans, and a blank "Add
// instance" form. Without a settings service it lists the watched instances read-only.
func (s *settingsHandler) settingsPage(c echo.Context) pages.SettingsProps {
	p := pages.SettingsProps{
		Layout:      s.layoutProps(c, "Settings", layouts.NavSettings),
		AddInstance: pages.InstanceForm{Action: "/settings/instances", HTMLID: "add-instance"},
		AddRule: pages.RuleForm{Action: "/settings/rules", HTMLID: "add-rule",
			Aggregate: config.DefaultRuleAggregate, Op: config.DefaultRuleOp, Severity: config.DefaultRuleSeverity},
	}
	src := s.opts.Redis
	if s.opts.Settings == nil {
		p.ReadOnly = true
		for _, snap := range src.Instances() {
			p.Instances = append(p.Instances, pages.SettingsInstance{
				Name: snap.Name, Source: pages.SourceConfig, Addr: snap.Addr, DB: snap.DB,
				Interval: config.Duration(snap.Interval).String(), Timeout: components.Dash,
				Status: snapshotStatus(src, snap.Name), StatusTitle: snap.Error,
			})
		}
		return p
	}
	v := s.opts.Settings.View()
	for i := range v.Instances {
		iv := &v.Instances[i]
		r := &iv.Redis
		in := pages.SettingsInstance{
			Name: r.Name, Source: string(iv.Source), Addr: r.Addr, Username: r.Username,
			HasPassword: iv.HasPassword, PasswordFile: r.PasswordFile, DB: r.DB, TLS: r.TLS,
			TLSCAFile: r.TLSCAFile, TLSCertFile: r.TLSCertFile, TLSKeyFile: r.TLSKeyFile,
			Interval: r.Interval.String(), Timeout: r.Timeout.String(), TimeoutInherited: !iv.OwnTimeout, Paused: iv.Paused,
			Shadowed: iv.Shadowed, UpdatedBy: iv.Meta.UpdatedBy,
		}
		switch {
		case iv.Paused:
			in.Status = pages.StatusPaused
		case iv.Shadowed:
			in.Status, in.StatusTitle = pages.StatusStopped, "the config file has an instance with this name"
		default:
			in.Status = snapshotStatus(src, r.Name)
			if snap, ok := src.Instance(r.Name); ok {
				in.StatusTitle = snap.Error
			}
		}
		for j := range iv.Keys {
			in.Keys = append(in.Keys, settingsKey(&iv.Keys[j], false))
		}
		in.AddKey = pages.KeyForm{
			Action: pages.InstanceURL(r.Name) + "/keys", HTMLID: "add-key-" + r.Name, Instance: r.Name,
			Kind: "key", Enabled: true, IntervalDefault: r.Interval.String(),
		}
		p.Instances = append(p.Instances, in)
	}
	for i := range v.Orphans {
		p.Orphans = append(p.Orphans, settingsKey(&v.Orphans[i], true))
	}
	for i := range v.Rules {
		p.Rules = append(p.Rules, s.settingsRule(&v.Rules[i]))
	}
	return p
}

// settingsRule is a rule's row, with how many series its selector matches in the
// latest-value table now.
func (s *settingsHandler) settingsRule(rv *settings.RuleView) pages.SettingsRule {
	r := &rv.Rule
	row := pages.SettingsRule{
		Name: r.Name, Source: string(rv.Source), Series: r.Series, Matches: -1, Aggregate: r.Aggregate,
		Window: r.Window.String(), Op: r.Op, Threshold: formatFloat(r.Threshold), For: r.For.String(),
		Severity: r.Severity, Summary: r.Summary, Labels: labelPairs(r.Labels),
		Paused: rv.Paused, Problem: rv.Problem, UpdatedBy: rv.Meta.UpdatedBy, State: pages.RuleActive,
	}
	if r.ClearThreshold != nil {
		row.ClearThreshold = formatFloat(*r.ClearThreshold)
	}
	switch {
	case rv.Problem != "":
		row.State = pages.RuleNotApplied
	case rv.Shadowed:
		row.State, row.Problem = pages.RuleShadowed, "the config file has a rule with this name, which is evaluated instead; rename or delete this one"
	case rv.Paused:
		row.State = pages.RulePaused
	}
	if sel, err := tsdb.ParseSelector(r.Series); err == nil && s.opts.Store != nil {
		row.Matches = len(s.opts.Store.Latest(sel))
	}
	return row
}

// formatFloat is v exactly, as typed: 0.05 -> "0.05", 1e4 -> "10000".
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// labelPairs are m's labels as sorted "key=value" strings.
func labelPairs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}

func findRule(p *pages.SettingsProps, name string) *pages.SettingsRule {
	var found *pages.SettingsRule
	for i := range p.Rules {
		// A shadowed UI rule shares its name with a config one; the UI one is editable.
		if r := &p.Rules[i]; r.Name == name && (found == nil || r.Source == pages.SourceUI) {
			found = r
		}
	}
	return found
}

// ruleFormOf is the edit form of a listed UI rule, filled with its values.
func ruleFormOf(r *pages.SettingsRule) pages.RuleForm {
	return pages.RuleForm{
		Action: pages.RuleURL(r.Name), HTMLID: "edit-rule", Edit: true, Rule: r.Name,
		Name: r.Name, Series: r.Series, Aggregate: r.Aggregate, Window: r.Window, Op: r.Op,
		Threshold: r.Threshold, ClearThreshold: r.ClearThreshold, For: r.For, Severity: r.Severity,
		Summary: r.Summary, Labels: strings.Join(r.Labels, "\n"),
	}
}

// snapshotStatus is an instance's status from its sampler's snapshot.
func snapshotStatus(src RedisSource, name string) string {
	snap, ok := src.Instance(name)
	switch {
	case !ok:
		return pages.StatusStopped
	case snap.Up:
		return pages.StatusUp
	case snap.LastRunAt.IsZero():
		return pages.StatusStarting
	}
	return pages.StatusDown
}

func settingsKey(k *settings.KeyView, orphan bool) pages.SettingsKey {
	return pages.SettingsKey{
		ID: k.ID, Source: string(k.Source), Instance: k.Instance, Pattern: k.Key.Pattern != "",
		Name: k.Name(), Interval: k.Key.Interval.String(), IntervalInherited: k.Source == settings.SourceUI && !k.OwnInterval && !orphan,
		MaxKeys: k.Key.MaxKeys, ScanInterval: k.Key.ScanInterval.String(), ExpectExists: formatOptBool(k.Key.ExpectExists),
		Paused: k.Paused, Orphan: orphan,
	}
}

func findInstance(p *pages.SettingsProps, name string) *pages.SettingsInstance {
	for i := range p.Instances {
		// A shadowed UI instance shares its name with a config one; the UI one is editable.
		if in := &p.Instances[i]; in.Name == name && (in.Source == pages.SourceUI || !hasUIInstance(p, name)) {
			return in
		}
	}
	return nil
}

func hasUIInstance(p *pages.SettingsProps, name string) bool {
	return slices.ContainsFunc(p.Instances, func(in pages.SettingsInstance) bool {
		return in.Name == name && in.Source == pages.SourceUI
	})
}

func findKey(p *pages.SettingsProps, id string) *pages.SettingsKey {
	if id == "" {
		return nil
	}
	for i := range p.Instances {
		for j := range p.Instances[i].Keys {
			if k := &p.Instances[i].Keys[j]; k.ID == id {
				return k
			}
		}
	}
	for j := range p.Orphans {
		if k := &p.Orphans[j]; k.ID == id {
			return k
		}
	}
	return nil
}

func instanceInterval(p *pages.SettingsProps, name string) string {
	for _, in := range p.Instances {
		if in.Name == name {
			return in.Interval
		}
	}
	return ""
}

// instanceFormOf is the edit form of a listed instance, filled with its values (a blank
// timeout when it follows the interval, so that a shorter interval is not refused for a
// timeout nobody typed).
func instanceFormOf(in *pages.SettingsInstance) pages.InstanceForm {
	timeout := in.Timeout
	if in.TimeoutInherited {
		timeout = ""
	}
	return pages.InstanceForm{
		Action: pages.InstanceURL(in.Name), HTMLID: "edit-instance", Edit: true, HasPassword: in.HasPassword,
		Name: in.Name, Addr: in.Addr, Username: in.Username, PasswordFile: in.PasswordFile,
		DB: strconv.Itoa(in.DB), TLS: in.TLS, TLSCAFile: in.TLSCAFile, TLSCertFile: in.TLSCertFile,
		TLSKeyFile: in.TLSKeyFile, Interval: in.Interval, Timeout: timeout,
	}
}

// keyFormOf is the edit form of a listed UI key, filled with its values (a blank interval
// when it follows its instance's).
func keyFormOf(k *pages.SettingsKey) pages.KeyForm {
	f := pages.KeyForm{
		Action: pages.KeyURL(k.ID), HTMLID: "edit-key", Edit: true, Instance: k.Instance,
		Kind: "key", Key: k.Name, Enabled: !k.Paused, ExpectExists: k.ExpectExists,
	}
	if !k.IntervalInherited {
		f.Interval = k.Interval
	} else {
		f.IntervalDefault = k.Interval
	}
	if k.Pattern {
		f.Kind, f.MaxKeys, f.ScanInterval = "pattern", strconv.Itoa(k.MaxKeys), k.ScanInterval
	}
	return f
}

// parseInstanceForm reads the instance form. Text fields are trimmed, the password is taken
// as typed; durations and numbers that do not parse are returned as problems by field. The
// returned form holds the input to show again, never the password.
func parseInstanceForm(c echo.Context) (in settings.Instance, form pages.InstanceForm, clearPassword bool, errs map[string]string) {
	errs = map[string]string{}
	val := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	form = pages.InstanceForm{
		Name: val("name"), Addr: val("addr"), Username: val("username"), PasswordFile: val("password_file"),
		DB: val("db"), TLS: formBool(c, "tls", false), TLSCAFile: val("tls_ca_file"), TLSCertFile: val("tls_cert_file"),
		TLSKeyFile: val("tls_key_file"), Interval: val("interval"), Timeout: val("timeout"),
	}
	in = settings.Instance{
		Name: form.Name, Addr: form.Addr, Username: form.Username, Password: c.FormValue("password"),
		PasswordFile: form.PasswordFile, TLS: form.TLS, TLSCAFile: form.TLSCAFile, TLSCertFile: form.TLSCertFile,
		TLSKeyFile: form.TLSKeyFile,
	}
	in.DB = formInt(errs, "db", form.DB)
	in.Interval = formDuration(errs, "interval", form.Interval)
	in.Timeout = formDuration(errs, "timeout", form.Timeout)
	return in, form, formBool(c, "clear_password", false), errs
}

// parseKeyForm reads the key form: kind "key" or "pattern" decides whether the text is an
// exact key (taken as typed, spaces included) or a glob.
func parseKeyForm(c echo.Context) (k settings.Key, form pages.KeyForm, errs map[string]string) {
	errs = map[string]string{}
	val := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	form = pages.KeyForm{
		Kind: val("kind"), Key: c.FormValue("key"), Interval: val("interval"), MaxKeys: val("max_keys"),
		ScanInterval: val("scan_interval"), Enabled: formBool(c, "enabled", true), ExpectExists: val("expect_exists"),
	}
	switch form.Kind {
	case "", "key":
		form.Kind, k.Key = "key", form.Key
	case "pattern":
		k.Pattern = form.Key
	default:
		errs["kind"] = `must be "key" or "pattern"`
	}
	k.Interval = formDuration(errs, "interval", form.Interval)
	k.MaxKeys = formInt(errs, "max_keys", form.MaxKeys)
	k.ScanInterval = formDuration(errs, "scan_interval", form.ScanInterval)
	k.Paused = !form.Enabled
	switch form.ExpectExists {
	case "":
	case "true", "false":
		v := form.ExpectExists == "true"
		k.ExpectExists = &v
	default:
		errs["expect_exists"] = `must be "true", "false" or blank (by type)`
	}
	return k, form, errs
}

// parseRuleForm reads the rule form. Text fields are trimmed (the summary too); durations and
// numbers that do not parse, and labels that are not key=value, are returned as problems by
// field. A blank window takes the default (1m), a blank "for" is 0 (fire at once), a blank
// clear_threshold is none; the threshold is required.
func parseRuleForm(c echo.Context) (r settings.Rule, form pages.RuleForm, errs map[string]string) {
	errs = map[string]string{}
	val := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	form = pages.RuleForm{
		Name: val("name"), Series: val("series"), Aggregate: val("aggregate"), Window: val("window"), Op: val("op"),
		Threshold: val("threshold"), ClearThreshold: val("clear_threshold"), For: val("for"), Severity: val("severity"),
		Summary: val("summary"), Labels: strings.TrimSpace(strings.ReplaceAll(c.FormValue("labels"), "\r\n", "\n")),
	}
	r = settings.Rule{
		Name: form.Name, Series: form.Series, Aggregate: form.Aggregate, Op: form.Op, Severity: form.Severity,
		Summary: form.Summary,
	}
	r.Window = formDuration(errs, "window", form.Window)
	r.For = formDuration(errs, "for", form.For)
	if form.Threshold == "" {
		errs["threshold"] = "required: the value the aggregate is compared with"
	} else if v, ok := formFloat(errs, "threshold", form.Threshold); ok {
		r.Threshold = v
	}
	if form.ClearThreshold != "" {
		if v, ok := formFloat(errs, "clear_threshold", form.ClearThreshold); ok && errs["threshold"] == "" {
			// (Against a threshold that did not parse, the side check would mislead.)
			r.ClearThreshold = &v
		}
	}
	r.Labels = parseLabels(errs, form.Labels)
	return r, form, errs
}

// parseLabels reads rule labels: key=value pairs, one per line or, on one line, separated by
// commas. Keys and values are trimmed; a value in double quotes is unquoted. Label names are
// validated with the rule.
func parseLabels(errs map[string]string, s string) map[string]string {
	if s == "" {
		return nil
	}
	sep := ","
	if strings.Contains(s, "\n") {
		sep = "\n"
	}
	m := map[string]string{}
	for part := range strings.SplitSeq(s, sep) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
		}
		switch {
		case !ok || k == "":
			errs["labels"] = fmt.Sprintf("%q is not key=value", components.Clip(part, 40))
			return nil
		case has(m, k):
			errs["labels"] = fmt.Sprintf("%q is given twice", components.Clip(k, 40))
			return nil
		}
		m[k] = v
	}
	return m
}

func has(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// formFloat parses a finite number; ok is false (and errs[field] set) otherwise.
func formFloat(errs map[string]string, field, s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		errs[field] = fmt.Sprintf("%q is not a number", components.Clip(s, 40))
		return 0, false
	}
	return v, true
}

// formBool reads a checkbox: absent means def; otherwise true when any value is "true", "on"
// or "1" (forms send a hidden "false" before the checkbox, so unchecked is false).
func formBool(c echo.Context, name string, def bool) bool {
	fp, err := c.FormParams()
	if err != nil {
		return def
	}
	vs, ok := fp[name]
	if !ok {
		return def
	}
	return slices.ContainsFunc(vs, func(v string) bool { return v == "true" || v == "on" || v == "1" })
}

func formInt(errs map[string]string, field, s string) int {
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		errs[field] = fmt.Sprintf("%q is not a whole number", components.Clip(s, 40))
	}
	return n
}

func formDuration(errs map[string]string, field, s string) config.Duration {
	if s == "" {
		return 0
	}
	d, err := config.ParseDuration(s)
	if err != nil {
		errs[field] = fmt.Sprintf("%q is not a duration (e.g. 10s, 1m30s, 1h)", components.Clip(s, 40))
	}
	return config.Duration(d)
}

// formatOptBool is "" for nil, else "true" or "false".
func formatOptBool(p *bool) string {
	if p == nil {
		return ""
	}
	return strconv.FormatBool(*p)
}
