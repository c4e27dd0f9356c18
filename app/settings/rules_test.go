package settings

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

func ptr(v float64) *float64 { return &v }

// configRules are the config file's rules, as config.Load returns them: "RedisDown" (also the
// name of a shipped default) and "QueueBacklog".
func configRules() []config.Rule {
	rs := []config.Rule{
		{Name: "RedisDown", Series: "redis_up", Op: "<", Threshold: 1, For: config.Duration(time.Minute), Severity: "critical"},
		{Name: "QueueBacklog", Series: `redis_key_length{key="queue:emails"}`, Aggregate: "avg", Threshold: 1e4},
	}
	for i := range rs {
		rs[i].ApplyDefaults()
	}
	return rs
}

// ruleApplier records every rule set ApplyRules is called with; fail makes the next calls fail.
type ruleApplier struct {
	mu   sync.Mutex
	sets [][]config.Rule
	fail error
}

func (a *ruleApplier) apply(rs []config.Rule) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sets = append(a.sets, rs)
	return a.fail
}

func (a *ruleApplier) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.sets)
}

func (a *ruleApplier) last() []config.Rule {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sets) == 0 {
		return nil
	}
	return a.sets[len(a.sets)-1]
}

type ruleOpts struct {
	fromConfig []config.Rule
	defaults   []config.Rule
	apply      *ruleApplier
	log        *bytes.Buffer
}

func openRules(t *testing.T, dir string, o ruleOpts) *Service {
	t.Helper()
	opts := Options{Dir: dir, FromConfig: fromConfig(), FromConfigRules: o.fromConfig, DefaultRules: o.defaults, Now: func() time.Time { return t0 }}
	if o.apply != nil {
		opts.ApplyRules = o.apply.apply
	}
	if o.log != nil {
		opts.Logger = slog.New(slog.NewJSONHandler(o.log, nil))
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ruleNames(rs []config.Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// viewRules lists the view's rules as "name:source" plus ":paused", ":shadowed", ":problem".
func viewRules(v View) []string {
	var out []string
	for _, r := range v.Rules {
		s := r.Rule.Name + ":" + string(r.Source)
		if r.Paused {
			s += ":paused"
		}
		if r.Shadowed {
			s += ":shadowed"
		}
		if r.Problem != "" {
			s += ":problem"
		}
		out = append(out, s)
	}
	return out
}

func defaultNames() []string { return ruleNames(alert.DefaultRules()) }

// The defaults are seeded once, as editable UI rules; a default deleted afterwards stays
// deleted; a default whose name the config file uses is skipped.
func TestRulesSeededOnce(t *testing.T) {
	dir := t.TempDir()
	// Without defaults (alerts.default_rules = false) nothing is seeded, and not marked seeded.
	s := openRules(t, dir, ruleOpts{fromConfig: configRules()})
	if len(s.View().Rules) != 2 || len(s.EffectiveRules()) != 2 {
		t.Fatalf("rules without defaults: %v", viewRules(s.View()))
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open without defaults wrote settings.json: %v", err)
	}

	var logs bytes.Buffer
	a := &ruleApplier{}
	s = openRules(t, dir, ruleOpts{fromConfig: configRules(), defaults: alert.DefaultRules(), apply: a, log: &logs})
	if a.count() != 0 {
		t.Fatal("Open called ApplyRules")
	}
	var want []string
	for _, n := range defaultNames() {
		if n != "RedisDown" {
			want = append(want, n)
		}
	}
	if len(want) != len(defaultNames())-1 {
		t.Fatalf("alert.DefaultRules has no RedisDown: %v", defaultNames())
	}
	eff := s.EffectiveRules()
	if got := ruleNames(eff); !slices.Equal(got, append([]string{"RedisDown", "QueueBacklog"}, want...)) {
		t.Fatalf("effective after seeding: %v", got)
	}
	if eff[0].Severity != "critical" || eff[0].For != config.Duration(time.Minute) {
		t.Fatalf("the config file's RedisDown was replaced: %+v", eff[0])
	}
	for _, r := range s.View().Rules[2:] {
		if r.Source != SourceUI || r.Meta.UpdatedBy != SeedUser || !r.Meta.CreatedAt.Equal(t0) || r.Problem != "" {
			t.Fatalf("seeded rule: %+v", r)
		}
	}
	d, err := Load(dir)
	if err != nil || !d.RulesSeeded || len(d.Rules) != len(want) {
		t.Fatalf("saved: seeded=%v rules=%d, %v", d.RulesSeeded, len(d.Rules), err)
	}
	if !strings.Contains(logs.String(), "default alert rules added") {
		t.Errorf("seeding is not logged: %s", logs.String())
	}

	// Seeded rules are ordinary UI rules: edit one, delete another.
	hi := d.Rules[0]
	hi.Threshold, hi.ClearThreshold = 70, ptr(65)
	mustUpdate(t, s, EditRule(hi.Name, hi))
	mustUpdate(t, s, DeleteRule(want[1]))
	if got := ruleNames(a.last()); slices.Contains(got, want[1]) || len(got) != len(eff)-1 {
		t.Fatalf("applied after delete: %v", got)
	}

	// Reopen with the defaults again: nothing comes back, the edit stays.
	s = openRules(t, dir, ruleOpts{fromConfig: configRules(), defaults: alert.DefaultRules()})
	got := ruleNames(s.EffectiveRules())
	if slices.Contains(got, want[1]) || len(got) != len(eff)-1 {
		t.Fatalf("after reopening: %v", got)
	}
	if r := s.EffectiveRules()[2]; r.Name != hi.Name || r.Threshold != 70 || *r.ClearThreshold != 65 {
		t.Fatalf("edited default after reopening: %+v", r)
	}
}

// Seeding skips defaults whose name a UI rule made before already has.
func TestRulesSeedingKeepsExistingUIRules(t *testing.T) {
	dir := t.TempDir()
	s := openRules(t, dir, ruleOpts{})
	mustUpdate(t, s, AddRule(Rule{Name: "HostCPUHigh", Series: "host_cpu_usage_percent", Threshold: 50}))
	s = openRules(t, dir, ruleOpts{defaults: alert.DefaultRules()})
	v := s.View()
	if len(v.Rules) != len(defaultNames()) || v.Rules[0].Rule.Name != "HostCPUHigh" || v.Rules[0].Rule.Threshold != 50 {
		t.Fatalf("rules: %v", viewRules(v))
	}
}

func TestEffectiveRulesOrderAndPausing(t *testing.T) {
	dir := t.TempDir()
	a := &ruleApplier{}
	s := openRules(t, dir, ruleOpts{fromConfig: configRules(), apply: a})
	for _, n := range []string{"u1", "u2", "u3"} {
		mustUpdate(t, s, AddRule(Rule{Name: n, Series: "host_cpu_usage_percent", Threshold: 90}))
	}
	want := []string{"RedisDown", "QueueBacklog", "u1", "u2", "u3"}
	if got := ruleNames(s.EffectiveRules()); !slices.Equal(got, want) {
		t.Fatalf("effective %v, want %v", got, want)
	}
	if !reflect.DeepEqual(a.last(), s.EffectiveRules()) {
		t.Fatalf("applied %+v, want the effective set", a.last())
	}
	// UI rules carry the defaults.
	if u1 := s.EffectiveRules()[2]; u1.Aggregate != "last" || u1.Window != config.Duration(time.Minute) || u1.Op != ">" || u1.Severity != "warning" {
		t.Fatalf("u1 defaults: %+v", u1)
	}

	mustUpdate(t, s, PauseRule("u2", true))
	if got := ruleNames(a.last()); !slices.Equal(got, []string{"RedisDown", "QueueBacklog", "u1", "u3"}) {
		t.Fatalf("applied after pausing u2: %v", got)
	}
	if got := viewRules(s.View()); !slices.Equal(got, []string{"RedisDown:config", "QueueBacklog:config", "u1:ui", "u2:ui:paused", "u3:ui"}) {
		t.Fatalf("view: %v", got)
	}
	mustUpdate(t, s, PauseRule("u2", false))
	if got := ruleNames(a.last()); !slices.Equal(got, want) {
		t.Fatalf("applied after resuming u2: %v", got)
	}

	// The result is a copy: changing it changes nothing.
	eff := s.EffectiveRules()
	eff[0].Name = "changed"
	if s.EffectiveRules()[0].Name != "RedisDown" {
		t.Fatal("EffectiveRules shares the config rules")
	}

	// The config file takes the name u1 later: its rule wins, the UI's is shown shadowed.
	cfg := append(configRules(), config.Rule{Name: "u1", Series: "redis_up", Threshold: 1})
	cfg[2].ApplyDefaults()
	s = openRules(t, dir, ruleOpts{fromConfig: cfg})
	if got := ruleNames(s.EffectiveRules()); !slices.Equal(got, []string{"RedisDown", "QueueBacklog", "u1", "u2", "u3"}) || s.EffectiveRules()[2].Series != "redis_up" {
		t.Fatalf("effective with a shadowed UI rule: %v", got)
	}
	if got := viewRules(s.View()); !slices.Equal(got, []string{"RedisDown:config", "QueueBacklog:config", "u1:config", "u1:ui:shadowed", "u2:ui", "u3:ui"}) {
		t.Fatalf("view with a shadowed UI rule: %v", got)
	}
	// It can be renamed (then evaluated) or deleted, not saved under the taken name.
	err := s.Update("alice", EditRule("u1", Rule{Name: "u1", Series: "x", Threshold: 1}))
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(ve.Fields["name"], "config file") {
		t.Fatalf("saving a shadowed rule under its name: %v", err)
	}
	mustUpdate(t, s, EditRule("u1", Rule{Name: "u1-mine", Series: "x", Threshold: 1}))
	if got := ruleNames(s.EffectiveRules()); !slices.Equal(got, []string{"RedisDown", "QueueBacklog", "u1", "u1-mine", "u2", "u3"}) {
		t.Fatalf("after renaming the shadowed rule: %v", got)
	}
}

// noStore satisfies alert.Store for engines that only validate rules.
type noStore struct{}

func (noStore) Latest(*tsdb.Selector) []tsdb.LatestValue { return nil }
func (noStore) Raw(context.Context, *tsdb.Selector, time.Time, time.Time) ([]tsdb.Series, error) {
	return nil, nil
}

// engineCheck validates rules as the alert engine does.
func engineCheck(rs []config.Rule) error {
	_, err := alert.New(alert.Options{Store: noStore{}}, rs)
	return err
}

func TestRuleValidation(t *testing.T) {
	s := openRules(t, t.TempDir(), ruleOpts{fromConfig: configRules(), apply: &ruleApplier{}})
	mustUpdate(t, s, AddRule(Rule{Name: "taken", Series: "redis_up", Threshold: 1}))
	ok := Rule{Name: "ok", Series: `redis_key_length{key="q"}`, Aggregate: "avg", Window: config.Duration(5 * time.Minute),
		Op: ">", Threshold: 10, ClearThreshold: ptr(8), For: config.Duration(time.Minute), Severity: "critical",
		Summary: "{{ .Labels.key }} at {{ .Value }}", Labels: map[string]string{"team": "db"}}
	if err := s.Check("alice", AddRule(ok)); err != nil {
		t.Fatalf("a valid rule: %v", err)
	}
	if err := engineCheck([]config.Rule{ok.Config()}); err != nil {
		t.Fatalf("the engine refuses the valid rule: %v", err)
	}

	f := func(name string, change func(r *Rule), want map[string]string, uiOnly bool) {
		t.Helper()
		r := ok
		r.Labels = map[string]string{"team": "db"}
		change(&r)
		err := s.Update("alice", AddRule(r))
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: got %v, want a ValidationError", name, err)
		}
		for field, substr := range want {
			if !strings.Contains(ve.Fields[field], substr) {
				t.Errorf("%s: field %s: got %q, want it to contain %q (all: %v)", name, field, ve.Fields[field], substr, ve)
			}
		}
		if len(ve.Fields) != len(want) || len(ve.Other) != 0 {
			t.Errorf("%s: fields %v other %v, want exactly %v", name, ve.Fields, ve.Other, want)
		}
		// What the form refuses, the engine refuses too (the name and label restrictions
		// are the form's own).
		if !uiOnly && engineCheck([]config.Rule{r.Config()}) == nil {
			t.Errorf("%s: the engine accepts what the form refuses", name)
		}
	}
	f("bad selector", func(r *Rule) { r.Series = `redis_up{instance="a"` }, map[string]string{"series": "cannot parse selector"}, false)
	f("no series", func(r *Rule) { r.Series = "" }, map[string]string{"series": "required"}, false)
	f("bad op", func(r *Rule) { r.Op = "~" }, map[string]string{"op": `must be one of >, >=, <, <=, ==, !=; got "~"`}, false)
	f("bad aggregate and severity", func(r *Rule) { r.Aggregate, r.Severity = "median", "fatal" },
		map[string]string{"aggregate": "must be one of", "severity": "must be one of"}, false)
	f("negative window and for", func(r *Rule) { r.Window, r.For = config.Duration(-time.Second), config.Duration(-time.Second) },
		map[string]string{"window": "must be > 0", "for": "must be >= 0"}, false)
	f("bad summary", func(r *Rule) { r.Summary = "{{ .Value" }, map[string]string{"summary": "not a valid template"}, false)
	f("bad label name", func(r *Rule) { r.Labels["1x"] = "a" }, map[string]string{"labels": `"1x": label names must match`}, false)
	f("clear threshold on the wrong side", func(r *Rule) { r.ClearThreshold = ptr(12) },
		map[string]string{"clear_threshold": "must be <= threshold (10)"}, false)
	f("clear threshold below for <", func(r *Rule) { r.Op, r.ClearThreshold = "<", ptr(5) },
		map[string]string{"clear_threshold": "must be >= threshold (10)"}, false)
	f("clear threshold with ==", func(r *Rule) { r.Op = "==" }, map[string]string{"clear_threshold": "applies only to ops"}, false)
	f("infinite threshold", func(r *Rule) { r.Threshold, r.ClearThreshold = math.Inf(1), nil }, map[string]string{"threshold": "finite"}, true)
	f("NaN clear threshold", func(r *Rule) { r.ClearThreshold = ptr(math.NaN()) }, map[string]string{"clear_threshold": "finite"}, true)
	f("no name", func(r *Rule) { r.Name = "" }, map[string]string{"name": "required"}, false)
	f("name with spaces", func(r *Rule) { r.Name = "High CPU" }, map[string]string{"name": "may contain only"}, true)
	f("long name", func(r *Rule) { r.Name = strings.Repeat("a", MaxRuleNameLen+1) }, map[string]string{"name": "at most 100"}, true)
	f("reserved label", func(r *Rule) { r.Labels["alertname"] = "x" }, map[string]string{"labels": `"alertname" is set by redwatch`}, true)
	f("config name", func(r *Rule) { r.Name = "RedisDown" }, map[string]string{"name": "a rule from the config file"}, true)
	f("UI name", func(r *Rule) { r.Name = "taken" }, map[string]string{"name": `"taken" is already the name of a rule`}, true)

	// The whole error reads as field paths, in form order.
	err := s.Update("alice", AddRule(Rule{Name: "w", Series: "redis_up", Window: config.Duration(-time.Second), Op: "~"}))
	if got := err.Error(); got != `window: must be > 0, got -1s; op: must be one of >, >=, <, <=, ==, !=; got "~"` {
		t.Fatalf("error text: %q", got)
	}

	for _, c := range []struct {
		m    Mutation
		want error
	}{
		{EditRule("RedisDown", ok), ErrReadOnly},
		{PauseRule("QueueBacklog", true), ErrReadOnly},
		{DeleteRule("RedisDown"), ErrReadOnly},
		{EditRule("nope", ok), ErrNotFound},
		{PauseRule("nope", true), ErrNotFound},
		{DeleteRule("nope"), ErrNotFound},
	} {
		if err := s.Update("alice", c.m); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.m.action, err, c.want)
		}
	}
	// An edit may keep its own name, not take another's.
	mustUpdate(t, s, AddRule(ok))
	ok.Threshold = 20
	mustUpdate(t, s, EditRule("ok", ok))
	ok.Name = "taken"
	if err := s.Update("alice", EditRule("ok", ok)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("rename onto another rule: %v", err)
	}
	if got := ruleNames(s.EffectiveRules()); !slices.Equal(got, []string{"RedisDown", "QueueBacklog", "taken", "ok"}) || s.EffectiveRules()[3].Threshold != 20 {
		t.Fatalf("after refused changes: %v", got)
	}
}

func TestRuleMutations(t *testing.T) {
	dir := t.TempDir()
	a := &ruleApplier{}
	var logs bytes.Buffer
	s := openRules(t, dir, ruleOpts{apply: a, log: &logs})
	r := Rule{Name: "QueueBacklog", Series: `redis_key_length{key="queue:emails"}`, Aggregate: "avg", Window: config.Duration(2 * time.Minute),
		Threshold: 100, ClearThreshold: ptr(80), For: config.Duration(time.Minute), Summary: "{{ .Value }} items", Labels: map[string]string{"team": "db"}}
	mustUpdate(t, s, AddRule(r))
	got := a.last()
	if len(got) != 1 || got[0].Op != ">" || got[0].Severity != "warning" || *got[0].ClearThreshold != 80 || got[0].Labels["team"] != "db" {
		t.Fatalf("applied: %+v", got)
	}
	// The stored rule holds its defaults explicitly.
	d, _ := Load(dir)
	if d.Rules[0].Op != ">" || d.Rules[0].Severity != "warning" || d.Rules[0].Meta.UpdatedBy != "alice" {
		t.Fatalf("stored: %+v", d.Rules[0])
	}
	// Nothing the caller keeps is shared with what was applied.
	got[0].Labels["team"] = "changed"
	*got[0].ClearThreshold = 1
	if e := s.EffectiveRules()[0]; e.Labels["team"] != "db" || *e.ClearThreshold != 80 {
		t.Fatalf("the applied rule shares memory with the settings: %+v", e)
	}

	// Rename and drop the clear threshold.
	r.Name, r.ClearThreshold = "Backlog", nil
	mustUpdate(t, s, EditRule("QueueBacklog", r))
	if got := a.last(); len(got) != 1 || got[0].Name != "Backlog" || got[0].ClearThreshold != nil {
		t.Fatalf("after rename: %+v", got)
	}
	mustUpdate(t, s, PauseRule("Backlog", true))
	if len(a.last()) != 0 {
		t.Fatalf("paused rule applied: %+v", a.last())
	}
	// An edit keeps it paused.
	r.Threshold = 5
	mustUpdate(t, s, EditRule("Backlog", r))
	if len(a.last()) != 0 || !s.View().Rules[0].Paused {
		t.Fatal("the edit resumed the rule")
	}
	mustUpdate(t, s, DeleteRule("Backlog"))
	if d, _ := Load(dir); len(d.Rules) != 0 {
		t.Fatalf("after delete: %+v", d.Rules)
	}
	out := logs.String()
	for _, want := range []string{`"action":"add_rule"`, `"action":"edit_rule"`, `"object":"QueueBacklog -> Backlog"`, `"action":"pause_rule"`, `"action":"delete_rule"`, `"user":"alice"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

// A failing ApplyRules saves nothing; a failing save re-applies the previous rules.
func TestRuleUpdateIsAtomic(t *testing.T) {
	dir := t.TempDir()
	a := &ruleApplier{}
	redis := &applier{}
	s, err := Open(Options{Dir: dir, FromConfig: fromConfig(), FromConfigRules: configRules(), Apply: redis.apply, ApplyRules: a.apply})
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, s, AddRule(Rule{Name: "u1", Series: "redis_up", Threshold: 1}))
	saved, _ := os.ReadFile(filepath.Join(dir, FileName))
	view := s.View()

	a.fail = errors.New(`alert rule "u2": boom`)
	err = s.Update("alice", AddRule(Rule{Name: "u2", Series: "redis_up", Threshold: 1}))
	if !errors.Is(err, ErrApply) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("got %v, want ErrApply", err)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, FileName)); !bytes.Equal(now, saved) {
		t.Fatalf("a failed apply changed settings.json:\n%s", now)
	}
	if !reflect.DeepEqual(s.View(), view) {
		t.Fatal("a failed apply changed the view")
	}
	if len(redis.sets) != 0 {
		t.Fatal("a rule change was applied to the redis samplers")
	}

	a.fail = nil
	path := filepath.Join(dir, FileName)
	os.Remove(path)
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	n := a.count()
	err = s.Update("alice", AddRule(Rule{Name: "u2", Series: "redis_up", Threshold: 1}))
	if err == nil || errors.Is(err, ErrApply) || errors.Is(err, ErrInvalid) {
		t.Fatalf("got %v, want a save error", err)
	}
	if a.count() != n+2 {
		t.Fatalf("ApplyRules called %d times, want twice (the change, then the previous set)", a.count()-n)
	}
	if got := ruleNames(a.sets[n]); !slices.Equal(got, []string{"RedisDown", "QueueBacklog", "u1", "u2"}) {
		t.Fatalf("first apply: %v", got)
	}
	if got := ruleNames(a.last()); !slices.Equal(got, []string{"RedisDown", "QueueBacklog", "u1"}) {
		t.Fatalf("the previous rules were not restored: %v", got)
	}
	if !reflect.DeepEqual(s.View(), view) {
		t.Fatal("a failed save changed the view")
	}
}

// UI rules that no longer validate, or that the engine refuses at start-up, are left out of
// EffectiveRules and shown with the reason; start-up goes on. Changing them tries again.
func TestRulesThatBecameInvalid(t *testing.T) {
	dir := t.TempDir()
	valid := Rule{Name: "good", Series: "redis_up", Aggregate: "last", Window: config.Duration(time.Minute), Op: "<", Threshold: 1, Severity: "critical"}
	broken := valid
	broken.Name, broken.Op = "broken", "~" // e.g. a hand edit of settings.json
	refusedRule := valid
	refusedRule.Name = "refused"
	dup := valid
	dup.Threshold = 2
	b, _ := json.Marshal(Data{Version: Version, Rules: []Rule{valid, broken, refusedRule, dup}, RulesSeeded: true})
	if err := os.WriteFile(filepath.Join(dir, FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a := &ruleApplier{}
	s := openRules(t, dir, ruleOpts{fromConfig: configRules(), apply: a, log: &logs})
	if got := ruleNames(s.EffectiveRules()); !slices.Equal(got, []string{"RedisDown", "QueueBacklog", "good", "refused"}) {
		t.Fatalf("effective: %v", got)
	}
	if !strings.Contains(logs.String(), `"rule":"broken"`) {
		t.Errorf("the broken rule is not logged: %s", logs.String())
	}

	// The engine refuses "refused" (a check settings does not know about).
	var checked [][]string
	check := func(rs []config.Rule) error {
		checked = append(checked, ruleNames(rs))
		if slices.Contains(ruleNames(rs), "refused") {
			return errors.New(`alert rule "refused": not today`)
		}
		return nil
	}
	if err := s.CheckRules(check); err != nil {
		t.Fatal(err)
	}
	if got := ruleNames(s.EffectiveRules()); !slices.Equal(got, []string{"RedisDown", "QueueBacklog", "good"}) {
		t.Fatalf("effective after CheckRules: %v (checked %v)", got, checked)
	}
	if err := engineCheck(s.EffectiveRules()); err != nil {
		t.Fatalf("the real engine refuses what is left: %v", err)
	}
	v := s.View()
	if got := viewRules(v); !slices.Equal(got, []string{"RedisDown:config", "QueueBacklog:config", "good:ui", "broken:ui:problem", "refused:ui:problem", "good:ui:problem"}) {
		t.Fatalf("view: %v", got)
	}
	for i, want := range map[int]string{3: `op: must be one of`, 4: "not today", 5: "another rule made here has this name"} {
		if !strings.Contains(v.Rules[i].Problem, want) {
			t.Errorf("%s: problem %q, want %q", v.Rules[i].Rule.Name, v.Rules[i].Problem, want)
		}
	}
	if !strings.Contains(logs.String(), `"rule":"refused"`) {
		t.Errorf("the refused rule is not logged")
	}

	// Another change keeps both out of what is applied.
	mustUpdate(t, s, AddRule(Rule{Name: "new", Series: "redis_up", Threshold: 1}))
	if got := ruleNames(a.last()); !slices.Equal(got, []string{"RedisDown", "QueueBacklog", "good", "new"}) {
		t.Fatalf("applied: %v", got)
	}
	// Editing them fixes them: the fixed rules are applied and their problem is gone.
	broken.Op = "<"
	mustUpdate(t, s, EditRule("broken", broken))
	refusedRule.Threshold = 0.5
	mustUpdate(t, s, EditRule("refused", refusedRule))
	if got := ruleNames(a.last()); !slices.Equal(got, []string{"RedisDown", "QueueBacklog", "good", "broken", "refused", "new"}) {
		t.Fatalf("applied after the fixes: %v", got)
	}
	if got := viewRules(s.View()); slices.Contains(got, "refused:ui:problem") || slices.Contains(got, "broken:ui:problem") {
		t.Fatalf("view after the fixes: %v", got)
	}

	// The config file's rules are never left out: when they fail alone, CheckRules fails.
	s = openRules(t, dir, ruleOpts{fromConfig: configRules()})
	if err := s.CheckRules(func([]config.Rule) error { return errors.New("config rule refused") }); err == nil || err.Error() != "config rule refused" {
		t.Fatalf("CheckRules with failing config rules: %v", err)
	}
}
