package settings

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
)

// Rule is an alert rule made from the UI, or seeded from the shipped defaults. Its unique name
// identifies it. The fields are config.Rule's, stored with defaults applied.
type Rule struct {
	Name           string            `json:"name"`
	Series         string            `json:"series"`
	Expr           string            `json:"expr,omitempty"` // MetricsQL, instead of Series+Aggregate+Window
	Aggregate      string            `json:"aggregate"`
	Window         config.Duration   `json:"window"`
	Op             string            `json:"op"`
	Threshold      float64           `json:"threshold"`
	ClearThreshold *float64          `json:"clear_threshold,omitempty"` // nil: none
	For            config.Duration   `json:"for"`
	Severity       string            `json:"severity"`
	Summary        string            `json:"summary,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	Paused         bool              `json:"paused,omitempty"` // not evaluated while paused
	Meta
}

// RuleOf is c as a UI rule: not paused, no Meta. It shares nothing with c.
func RuleOf(c config.Rule) Rule {
	return Rule{
		Name: c.Name, Series: c.Series, Expr: c.Expr, Aggregate: c.Aggregate, Window: c.Window, Op: c.Op,
		Threshold: c.Threshold, ClearThreshold: clonePtr(c.ClearThreshold), For: c.For,
		Severity: c.Severity, Summary: c.Summary, Labels: maps.Clone(c.Labels),
	}
}

// Config is r as a config rule with defaults applied. It shares nothing with r.
func (r *Rule) Config() config.Rule {
	c := config.Rule{
		Name: r.Name, Series: r.Series, Expr: r.Expr, Aggregate: r.Aggregate, Window: r.Window, Op: r.Op,
		Threshold: r.Threshold, ClearThreshold: clonePtr(r.ClearThreshold), For: r.For,
		Severity: r.Severity, Summary: r.Summary, Labels: maps.Clone(r.Labels),
	}
	c.ApplyDefaults()
	return c
}

// clonePtr is a copy of *p in a new variable; nil for nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// cloneRule is a copy of c that shares nothing with it.
func cloneRule(c config.Rule) config.Rule {
	c.Labels = maps.Clone(c.Labels)
	c.ClearThreshold = clonePtr(c.ClearThreshold)
	return c
}

// uiRuleState says whether a UI rule is evaluated.
type uiRuleState struct {
	// shadowed: the config file has a rule with this name (the config file's is evaluated).
	shadowed bool
	// problem: why the rule is not evaluated, pausing aside: it does not validate, an earlier
	// UI rule has its name, or the engine refused it at start-up (Service.CheckRules). "": none.
	problem string
}

// ruleStates returns the state of each of d's rules, by index. refused maps the names of the
// rules the engine refused at start-up to its reason.
func (d *Data) ruleStates(fromConfig []config.Rule, refused map[string]string) []uiRuleState {
	inConfig := map[string]bool{}
	for _, r := range fromConfig {
		inConfig[r.Name] = true
	}
	seen := map[string]bool{}
	out := make([]uiRuleState, len(d.Rules))
	for i := range d.Rules {
		r := &d.Rules[i]
		st := &out[i]
		switch {
		case inConfig[r.Name]:
			st.shadowed = true
		case seen[r.Name]:
			st.problem = "another rule made here has this name; only the first is evaluated"
		default:
			c := r.Config()
			ve := &ValidationError{}
			validateRule(&c, ve)
			if err := ve.orNil(); err != nil {
				st.problem = err.Error()
			} else if why, ok := refused[r.Name]; ok {
				st.problem = why
			}
		}
		seen[r.Name] = true
	}
	return out
}

// effectiveRules is the set of rules to evaluate: fromConfig's in their order (always all of
// them, the first len(fromConfig) entries), then the UI rules that are not paused, not
// shadowed by a config rule of the same name (the config file wins) and have no problem (see
// uiRuleState), with defaults applied. The result shares nothing with d or fromConfig.
func (d *Data) effectiveRules(fromConfig []config.Rule, refused map[string]string) []config.Rule {
	out := make([]config.Rule, 0, len(fromConfig)+len(d.Rules))
	for _, r := range fromConfig {
		out = append(out, cloneRule(r))
	}
	for i, st := range d.ruleStates(fromConfig, refused) {
		if r := &d.Rules[i]; !r.Paused && !st.shadowed && st.problem == "" {
			out = append(out, r.Config())
		}
	}
	return out
}

// firstDefaultRules are the default rules shipped before Data.SeededRules existed: an install
// seeded then has seeded exactly these.
var firstDefaultRules = []string{
	"HostCPUHigh", "HostCPUCritical", "HostMemoryHigh", "HostMemoryCritical", "HostDiskHigh",
	"RedisDown", "RedisMemoryHigh", "RedisKeyMissing", "RedwatchErrorRate", "RedwatchSlow",
}

// seedRules adds each of defaults not seeded before (not in SeededRules; on the first start,
// none is) to d's rules, skipping those whose name a config rule or a UI rule already has,
// and records them all in SeededRules, so a default is seeded once: one shipped by a later
// version reaches installs seeded before it, and a deleted one stays deleted. It reports
// whether d changed and the names added.
func (d *Data) seedRules(fromConfig, defaults []config.Rule, meta Meta) (changed bool, added []string) {
	if len(defaults) == 0 {
		return false, nil
	}
	if d.RulesSeeded && d.SeededRules == nil {
		d.SeededRules = append([]string(nil), firstDefaultRules...)
		changed = true
	}
	seeded := map[string]bool{}
	for _, n := range d.SeededRules {
		seeded[n] = true
	}
	taken := map[string]bool{}
	for _, r := range fromConfig {
		taken[r.Name] = true
	}
	for _, r := range d.Rules {
		taken[r.Name] = true
	}
	for _, c := range defaults {
		if seeded[c.Name] {
			continue
		}
		seeded[c.Name] = true
		d.SeededRules = append(d.SeededRules, c.Name)
		changed = true
		if taken[c.Name] {
			continue
		}
		taken[c.Name] = true
		c.ApplyDefaults()
		r := RuleOf(c)
		r.Meta = meta
		d.Rules = append(d.Rules, r)
		added = append(added, c.Name)
	}
	if !d.RulesSeeded {
		d.RulesSeeded, changed = true, true
	}
	return changed, added
}

// refreshSeeded brings the seeded defaults nobody changed since (Meta.UpdatedBy is still
// SeedUser: every change from the UI records its user) to the shipped version in defaults,
// so that a fix to a default rule (RedisKeyMissing selecting only keys whose absence is an
// alarm) reaches installs seeded before it. Rules a user edited, paused or resumed are left
// as they are. It reports the names updated; their Meta gets meta's UpdatedAt.
func (d *Data) refreshSeeded(defaults []config.Rule, meta Meta) (updated []string) {
	shipped := map[string]Rule{}
	for _, c := range defaults {
		c.ApplyDefaults()
		shipped[c.Name] = RuleOf(c)
	}
	for i := range d.Rules {
		r := &d.Rules[i]
		want, ok := shipped[r.Name]
		if !ok || r.Meta.UpdatedBy != SeedUser || r.Paused || sameRule(*r, want) {
			continue
		}
		want.Meta = Meta{CreatedAt: r.Meta.CreatedAt, UpdatedAt: meta.UpdatedAt, UpdatedBy: SeedUser}
		*r = want
		updated = append(updated, r.Name)
	}
	return updated
}

// sameRule reports whether a and b define the same rule (Meta and Paused aside).
func sameRule(a, b Rule) bool {
	a.Meta, b.Meta, a.Paused, b.Paused = Meta{}, Meta{}, false, false
	if len(a.Labels) == 0 && len(b.Labels) == 0 {
		a.Labels, b.Labels = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

// RuleView is one alert rule as the settings page shows it.
type RuleView struct {
	Source Source
	Rule   config.Rule // defaults applied
	Paused bool        // UI rules only
	// Shadowed: a UI rule whose name the config file has taken since; the config file's rule
	// is evaluated instead.
	Shadowed bool
	// Problem says why a UI rule is not evaluated although it is not paused: it does not
	// validate (e.g. after a hand edit of settings.json), its name is a duplicate, or the alert
	// engine refused it at start-up. "": none.
	Problem string
	Meta    Meta // UI rules only
}

func (d *Data) viewRules(fromConfig []config.Rule, refused map[string]string) []RuleView {
	out := make([]RuleView, 0, len(fromConfig)+len(d.Rules))
	for _, r := range fromConfig {
		out = append(out, RuleView{Source: SourceConfig, Rule: cloneRule(r)})
	}
	for i, st := range d.ruleStates(fromConfig, refused) {
		r := &d.Rules[i]
		out = append(out, RuleView{Source: SourceUI, Rule: r.Config(), Paused: r.Paused,
			Shadowed: st.shadowed, Problem: st.problem, Meta: r.Meta})
	}
	return out
}

// ruleFields are the rule paths config.Rule.Validate reports that are form fields (labels.*
// are reported under "labels").
var ruleFields = map[string]bool{"name": true, "series": true, "expr": true, "aggregate": true, "window": true,
	"op": true, "threshold": true, "clear_threshold": true, "for": true, "severity": true, "summary": true}

// MaxRuleNameLen bounds the name of a rule made from the UI.
const MaxRuleNameLen = 100

var ruleName = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// reservedLabels are set by the alert engine itself.
var reservedLabels = []string{"alertname", "severity"}

// validateRule validates c (defaults applied) as a rule form, as the alert engine will: the
// config package's checks (which include finite thresholds and the side of clear_threshold)
// and that its series is a selector (alert.CheckSeries) or its expr parses (alert.CheckExpr).
// A UI rule's name is also restricted to A-Z, a-z, 0-9, _, -, . and : (it is
// part of URLs and HTML ids). It does not check that the name is unique.
func validateRule(c *config.Rule, ve *ValidationError) {
	for _, fe := range fieldErrors(c.Validate()) {
		switch {
		case strings.HasPrefix(fe.Path, "labels."):
			ve.add("labels", fmt.Sprintf("%q: %s", strings.TrimPrefix(fe.Path, "labels."), fe.Reason))
		case ruleFields[fe.Path]:
			ve.add(fe.Path, fe.Reason)
		default:
			ve.add("", fe.Error())
		}
	}
	if c.Series != "" {
		if err := alert.CheckSeries(c.Series); err != nil {
			ve.add("series", err.Error())
		}
	}
	if strings.TrimSpace(c.Expr) != "" {
		if err := alert.CheckExpr(c.Expr); err != nil {
			ve.add("expr", err.Error())
		}
	}
	switch {
	case len(c.Name) > MaxRuleNameLen:
		ve.add("name", fmt.Sprintf("must be at most %d characters", MaxRuleNameLen))
	case c.Name != "" && !ruleName.MatchString(c.Name):
		ve.add("name", "may contain only A-Z, a-z, 0-9, _, -, . and :")
	}
	for _, name := range slices.Sorted(maps.Keys(c.Labels)) {
		if slices.Contains(reservedLabels, name) || strings.HasPrefix(name, "__") {
			ve.add("labels", fmt.Sprintf("%q is set by redwatch and cannot be a rule label", name))
		}
	}
}

// AddRule adds an alert rule (paused when r.Paused). Zero Aggregate, Window, Op and Severity
// take the defaults (last, 1m, >, warning).
func AddRule(r Rule) Mutation {
	return Mutation{action: "add_rule", rules: true, fn: func(t *tx) error {
		t.object = r.Name
		t.touched = append(t.touched, r.Name)
		r.Meta = t.meta(Meta{})
		ve := &ValidationError{}
		c := r.Config()
		validateRule(&c, ve)
		t.checkRuleName(r.Name, -1, ve)
		if err := ve.orNil(); err != nil {
			return err
		}
		t.d.Rules = append(t.d.Rules, withConfig(r, c))
		return nil
	}}
}

// EditRule replaces the UI rule named name with r (which may rename it). Paused stays as it
// was. A rule the engine refused at start-up is tried again.
func EditRule(name string, r Rule) Mutation {
	return Mutation{action: "edit_rule", rules: true, fn: func(t *tx) error {
		t.object = name
		t.touched = append(t.touched, name, r.Name)
		i, err := t.uiRule(name)
		if err != nil {
			return err
		}
		old := t.d.Rules[i]
		r.Paused = old.Paused
		r.Meta = t.meta(old.Meta)
		ve := &ValidationError{}
		c := r.Config()
		validateRule(&c, ve)
		if r.Name != name {
			t.object = name + " -> " + r.Name
		}
		t.checkRuleName(r.Name, i, ve)
		if err := ve.orNil(); err != nil {
			return err
		}
		t.d.Rules[i] = withConfig(r, c)
		return nil
	}}
}

// PauseRule stops (paused) or resumes evaluating a UI rule; it stays in the settings. Pausing
// a rule resolves its firing alerts.
func PauseRule(name string, paused bool) Mutation {
	action := "pause_rule"
	if !paused {
		action = "resume_rule"
	}
	return Mutation{action: action, rules: true, fn: func(t *tx) error {
		t.object = name
		t.touched = append(t.touched, name)
		i, err := t.uiRule(name)
		if err != nil {
			return err
		}
		t.d.Rules[i].Paused = paused
		t.d.Rules[i].Meta = t.meta(t.d.Rules[i].Meta)
		return nil
	}}
}

// DeleteRule deletes a UI rule; its firing alerts resolve.
func DeleteRule(name string) Mutation {
	return Mutation{action: "delete_rule", rules: true, fn: func(t *tx) error {
		t.object = name
		t.touched = append(t.touched, name)
		i, err := t.uiRule(name)
		if err != nil {
			return err
		}
		t.d.Rules = slices.Delete(t.d.Rules, i, i+1)
		return nil
	}}
}

// withConfig is r with the fields of c (r's validated config rule, defaults applied), so that
// the file holds them explicitly.
func withConfig(r Rule, c config.Rule) Rule {
	n := RuleOf(c)
	n.Paused, n.Meta = r.Paused, r.Meta
	return n
}

// uiRule returns the index of the UI rule named name: ErrReadOnly for a config rule,
// ErrNotFound for none.
func (t *tx) uiRule(name string) (int, error) {
	for i := range t.d.Rules {
		if t.d.Rules[i].Name == name {
			return i, nil
		}
	}
	if slices.ContainsFunc(t.cfgRules, func(r config.Rule) bool { return r.Name == name }) {
		return 0, fmt.Errorf("rule %q is %w", name, ErrReadOnly)
	}
	return 0, fmt.Errorf("rule %q: %w", name, ErrNotFound)
}

// checkRuleName reports a name already used by a config rule or by a UI rule other than the
// one at index self (-1: none).
func (t *tx) checkRuleName(name string, self int, ve *ValidationError) {
	if name == "" {
		return
	}
	if slices.ContainsFunc(t.cfgRules, func(r config.Rule) bool { return r.Name == name }) {
		ve.add("name", fmt.Sprintf("%q is already the name of a rule from the config file", name))
		return
	}
	for i, r := range t.d.Rules {
		if i != self && r.Name == name {
			ve.add("name", fmt.Sprintf("%q is already the name of a rule", name))
			return
		}
	}
}
