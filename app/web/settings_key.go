package web

import (
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/settings"
	"github.com/redwatch/redwatch/views/pages"
)

// The key handlers: add a key or pattern to any instance (POST
// /settings/instances/:name/keys), edit, pause, resume and delete a UI key (POST
// /settings/keys/:id[/pause|/resume|/delete]).

// addKey adds a key or pattern to any instance (POST /settings/instances/:name/keys).
func (s *settingsHandler) addKey(c echo.Context) error {
	name := c.Param("name")
	k, form, errs := parseKeyForm(c)
	form.Action, form.HTMLID, form.Instance = pages.InstanceURL(name)+"/keys", "add-key-"+name, name
	return s.change(c, settingsChange{
		m: settings.AddKey(name, k), unparsed: errs, done: "added", kind: "key", name: k.Name(), anchor: "instance-" + name,
		show: func(p *pages.SettingsProps, fields map[string]string, msg string) bool {
			row := findInstance(p, name)
			if row == nil {
				return false
			}
			form.Errors, form.Error, form.IntervalDefault = fields, msg, row.AddKey.IntervalDefault
			row.AddKey = form
			return true
		},
	})
}

// editKey changes a UI key or pattern (POST /settings/keys/:id).
func (s *settingsHandler) editKey(c echo.Context) error {
	id := c.Param("id")
	k, form, errs := parseKeyForm(c)
	form.Action, form.HTMLID, form.Edit = pages.KeyURL(id), "edit-key", true
	return s.change(c, settingsChange{
		m: settings.EditKey(id, k), unparsed: errs, done: "saved", kind: "key", name: k.Name(), anchor: "key-" + id,
		show: func(p *pages.SettingsProps, fields map[string]string, msg string) bool {
			row := findKey(p, id)
			if row == nil {
				return false
			}
			form.Errors, form.Error = fields, msg
			form.Instance, form.IntervalDefault = row.Instance, instanceInterval(p, row.Instance)
			row.Edit = &form
			return true
		},
	})
}

// pauseKey pauses or resumes a key or pattern (POST /settings/keys/:id/pause, /resume).
func (s *settingsHandler) pauseKey(paused bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		return s.change(c, settingsChange{m: settings.PauseKey(id, paused), done: pausedWord(paused), kind: "key", name: s.keyName(id), anchor: "key-" + id})
	}
}

// deleteKey deletes a UI key or pattern (POST /settings/keys/:id/delete).
func (s *settingsHandler) deleteKey(c echo.Context) error {
	id := c.Param("id")
	return s.change(c, settingsChange{m: settings.DeleteKey(id), done: "deleted", kind: "key", name: s.keyName(id)})
}

// keyName is the key or pattern of the UI key id, for the notice ("" when unknown).
func (s *settingsHandler) keyName(id string) string {
	v := s.settings.View()
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

// settingsKey is a key's row; an orphan's instance no longer exists.
func settingsKey(k *settings.KeyView, orphan bool) pages.SettingsKey {
	return pages.SettingsKey{
		ID: k.ID, Source: string(k.Source), Instance: k.Instance, Pattern: k.Key.Pattern != "",
		Name: k.Name(), Interval: k.Key.Interval.String(), IntervalInherited: k.Source == settings.SourceUI && !k.OwnInterval && !orphan,
		MaxKeys: k.Key.MaxKeys, ScanInterval: k.Key.ScanInterval.String(), ExpectExists: formatOptBool(k.Key.ExpectExists),
		Paused: k.Paused, Orphan: orphan,
	}
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

// formatOptBool is "" for nil, else "true" or "false".
func formatOptBool(p *bool) string {
	if p == nil {
		return ""
	}
	return strconv.FormatBool(*p)
}
