package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
)

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

// settingsPage builds the page from the current settings: every instance with its status
// (from the samplers' snapshots), keys and blank "Add key" form, orphans, rules, and blank
// "Add instance" and "Add rule" forms. Without a settings service it lists the watched
// instances read-only.
func (s *settingsHandler) settingsPage(c echo.Context) pages.SettingsProps {
	p := pages.SettingsProps{
		Layout:      s.layoutProps(c, "Settings", layouts.NavSettings),
		AddInstance: pages.InstanceForm{Action: "/settings/instances", HTMLID: "add-instance"},
		AddRule: pages.RuleForm{Action: "/settings/rules", HTMLID: "add-rule",
			Aggregate: config.DefaultRuleAggregate, Op: config.DefaultRuleOp, Severity: config.DefaultRuleSeverity},
	}
	if s.settings == nil {
		p.ReadOnly = true
		for _, snap := range s.redis.Instances() {
			p.Instances = append(p.Instances, pages.SettingsInstance{
				Name: snap.Name, Source: pages.SourceConfig, Addr: snap.Addr, DB: snap.DB,
				Interval: config.Duration(snap.Interval).String(), Timeout: components.Dash,
				Status: s.snapshotStatus(snap.Name), StatusTitle: snap.Error,
			})
		}
		return p
	}
	v := s.settings.View()
	for i := range v.Instances {
		p.Instances = append(p.Instances, s.settingsInstance(&v.Instances[i]))
	}
	for i := range v.Orphans {
		p.Orphans = append(p.Orphans, settingsKey(&v.Orphans[i], true))
	}
	for i := range v.Rules {
		p.Rules = append(p.Rules, s.settingsRule(&v.Rules[i]))
	}
	return p
}

// snapshotStatus is an instance's status from its sampler's snapshot.
func (s *settingsHandler) snapshotStatus(name string) string {
	snap, ok := s.redis.Instance(name)
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
