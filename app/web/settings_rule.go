package web

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/settings"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/pages"
)

// The alert rule handlers: add (POST /settings/rules), edit, pause, resume and delete a UI
// rule (POST /settings/rules/:name[/pause|/resume|/delete]).

// addRule adds a UI alert rule (POST /settings/rules).
func (s *settingsHandler) addRule(c echo.Context) error {
	r, form, errs := parseRuleForm(c)
	form.Action, form.HTMLID = "/settings/rules", "add-rule"
	return s.change(c, settingsChange{
		m: settings.AddRule(r), unparsed: errs, done: "added", kind: "rule", name: r.Name, anchor: "rule-" + r.Name,
		show: func(p *pages.SettingsProps, fields map[string]string, msg string) bool {
			form.Errors, form.Error = fields, msg
			p.AddRule = form
			return true
		},
	})
}

// editRule changes a UI alert rule (POST /settings/rules/:name).
func (s *settingsHandler) editRule(c echo.Context) error {
	name := c.Param("name")
	r, form, errs := parseRuleForm(c)
	form.Action, form.HTMLID, form.Edit, form.Rule = pages.RuleURL(name), "edit-rule", true, name
	return s.change(c, settingsChange{
		m: settings.EditRule(name, r), unparsed: errs, done: "saved", kind: "rule", name: r.Name, anchor: "rule-" + r.Name,
		show: func(p *pages.SettingsProps, fields map[string]string, msg string) bool {
			row := findRule(p, name)
			if row == nil || row.Source != pages.SourceUI {
				return false
			}
			form.Errors, form.Error = fields, msg
			row.Edit = &form
			return true
		},
	})
}

// pauseRule pauses or resumes an alert rule (POST /settings/rules/:name/pause, /resume).
func (s *settingsHandler) pauseRule(paused bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("name")
		return s.change(c, settingsChange{m: settings.PauseRule(name, paused), done: pausedWord(paused), kind: "rule", name: name, anchor: "rule-" + name})
	}
}

// deleteRule deletes a UI alert rule (POST /settings/rules/:name/delete).
func (s *settingsHandler) deleteRule(c echo.Context) error {
	name := c.Param("name")
	return s.change(c, settingsChange{m: settings.DeleteRule(name), done: "deleted", kind: "rule", name: name, anchor: "alert-rules"})
}

// settingsRule is a rule's row, with how many series its selector matches in the
// latest-value table now.
func (s *settingsHandler) settingsRule(rv *settings.RuleView) pages.SettingsRule {
	r := &rv.Rule
	row := pages.SettingsRule{
		Name: r.Name, Source: string(rv.Source), Series: r.Series, Expr: r.Expr, Matches: -1, Aggregate: r.Aggregate,
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
	if sel, err := tsdb.ParseSelector(r.Series); err == nil && s.latest != nil {
		row.Matches = len(s.latest.Latest(sel))
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
		Name: r.Name, Series: r.Series, Expr: r.Expr, Aggregate: r.Aggregate, Window: r.Window, Op: r.Op,
		Threshold: r.Threshold, ClearThreshold: r.ClearThreshold, For: r.For, Severity: r.Severity,
		Summary: r.Summary, Labels: strings.Join(r.Labels, "\n"),
	}
}

// parseRuleForm reads the rule form. Text fields are trimmed (the summary too); durations and
// numbers that do not parse, and labels that are not key=value, are returned as problems by
// field. A blank window takes the default (1m), a blank "for" is 0 (fire at once), a blank
// clear_threshold is none; the threshold is required, except for an expr rule without op.
// With an expr, the aggregate (a select, always sent) and a blank window are ignored.
func parseRuleForm(c echo.Context) (r settings.Rule, form pages.RuleForm, errs map[string]string) {
	errs = map[string]string{}
	val := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	form = pages.RuleForm{
		Name: val("name"), Series: val("series"), Expr: val("expr"), Aggregate: val("aggregate"), Window: val("window"), Op: val("op"),
		Threshold: val("threshold"), ClearThreshold: val("clear_threshold"), For: val("for"), Severity: val("severity"),
		Summary: val("summary"), Labels: strings.TrimSpace(strings.ReplaceAll(c.FormValue("labels"), "\r\n", "\n")),
	}
	r = settings.Rule{
		Name: form.Name, Series: form.Series, Expr: form.Expr, Aggregate: form.Aggregate, Op: form.Op, Severity: form.Severity,
		Summary: form.Summary,
	}
	r.Window = formDuration(errs, "window", form.Window)
	if r.Expr != "" {
		r.Aggregate = ""
	}
	r.For = formDuration(errs, "for", form.For)
	if form.Threshold == "" && r.Expr != "" && r.Op == "" {
		// every series the expression returns fires
	} else if form.Threshold == "" {
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
