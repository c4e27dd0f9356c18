package web

import (
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/settings"
	"github.com/redwatch/redwatch/views/pages"
)

// The instance handlers: add (POST /settings/instances), edit, pause, resume and delete a UI
// instance (POST /settings/instances/:name[/pause|/resume|/delete]).

// addInstance adds a UI instance (POST /settings/instances).
func (s *settingsHandler) addInstance(c echo.Context) error {
	in, form, _, errs := parseInstanceForm(c)
	form.Action, form.HTMLID = "/settings/instances", "add-instance"
	return s.change(c, settingsChange{
		m: settings.AddInstance(in), unparsed: errs, done: "added", kind: "instance", name: in.Name, anchor: "instance-" + in.Name,
		show: func(p *pages.SettingsProps, fields map[string]string, msg string) bool {
			form.Errors, form.Error = fields, msg
			p.AddInstance = form
			return true
		},
	})
}

// editInstance changes a UI instance (POST /settings/instances/:name).
func (s *settingsHandler) editInstance(c echo.Context) error {
	name := c.Param("name")
	in, form, clear, errs := parseInstanceForm(c)
	form.Action, form.HTMLID, form.Edit = pages.InstanceURL(name), "edit-instance", true
	return s.change(c, settingsChange{
		m: settings.EditInstance(name, in, clear), unparsed: errs, done: "saved", kind: "instance", name: in.Name, anchor: "instance-" + in.Name,
		show: func(p *pages.SettingsProps, fields map[string]string, msg string) bool {
			row := findInstance(p, name)
			if row == nil {
				return false
			}
			form.Errors, form.Error, form.HasPassword = fields, msg, row.HasPassword
			row.Edit = &form
			return true
		},
	})
}

// pauseInstance pauses or resumes an instance (POST /settings/instances/:name/pause, /resume).
func (s *settingsHandler) pauseInstance(paused bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("name")
		return s.change(c, settingsChange{m: settings.PauseInstance(name, paused), done: pausedWord(paused), kind: "instance", name: name, anchor: "instance-" + name})
	}
}

// deleteInstance deletes a UI instance (POST /settings/instances/:name/delete).
func (s *settingsHandler) deleteInstance(c echo.Context) error {
	name := c.Param("name")
	return s.change(c, settingsChange{m: settings.DeleteInstance(name), done: "deleted", kind: "instance", name: name})
}

// settingsInstance is an instance's row: its settings, its status (from its sampler's
// snapshot, unless it is paused or shadowed), its keys and a blank "Add key" form.
func (s *settingsHandler) settingsInstance(iv *settings.InstanceView) pages.SettingsInstance {
	r := &iv.Redis
	in := pages.SettingsInstance{
		Name: r.Name, Source: string(iv.Source), BuiltIn: r.BuiltIn(), Addr: r.Addr, Username: r.Username,
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
		in.Status = s.snapshotStatus(r.Name)
		if snap, ok := s.redis.Instance(r.Name); ok {
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
	return in
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
