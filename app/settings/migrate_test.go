package settings

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
)

// oldDefaults are alert.DefaultRules as shipped before RedisKeyMissing selected only keys whose
// absence is an alarm.
func oldDefaults() []config.Rule {
	rs := alert.DefaultRules()
	for i := range rs {
		if rs[i].Name == "RedisKeyMissing" {
			rs[i].Series = "redis_key_exists"
		}
	}
	return rs
}

func findRuleView(t *testing.T, s *Service, name string) RuleView {
	t.Helper()
	for _, r := range s.View().Rules {
		if r.Rule.Name == name {
			return r
		}
	}
	t.Fatalf("no rule %s", name)
	return RuleView{}
}

// TestSeededDefaultsAreUpdated: an install seeded with the old RedisKeyMissing, unchanged by
// anyone, gets the new selector on the next start (saved, logged, in EffectiveRules); one a
// user edited or paused keeps what the user made.
func TestSeededDefaultsAreUpdated(t *testing.T) {
	const newSeries = `redis_key_exists{expect_exists="true"}`
	seedOld := func(t *testing.T) string {
		dir := t.TempDir()
		s := openRules(t, dir, ruleOpts{defaults: oldDefaults()})
		if got := findRuleView(t, s, "RedisKeyMissing").Rule.Series; got != "redis_key_exists" {
			t.Fatalf("seeded %s", got)
		}
		return dir
	}
	later := t0.Add(48 * time.Hour)
	reopen := func(t *testing.T, dir string, log *bytes.Buffer) *Service {
		t.Helper()
		s, err := Open(Options{Dir: dir, FromConfig: fromConfig(), DefaultRules: alert.DefaultRules(), Now: func() time.Time { return later },
			Logger: slog.New(slog.NewJSONHandler(log, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("unchanged", func(t *testing.T) {
		dir := seedOld(t)
		var logs bytes.Buffer
		s := reopen(t, dir, &logs)
		r := findRuleView(t, s, "RedisKeyMissing")
		if r.Rule.Series != newSeries || r.Meta.UpdatedBy != SeedUser || !r.Meta.CreatedAt.Equal(t0) || !r.Meta.UpdatedAt.Equal(later) {
			t.Fatalf("after the update: %+v", r)
		}
		if !strings.Contains(logs.String(), "RedisKeyMissing") {
			t.Fatalf("the update is not logged: %s", logs.String())
		}
		d, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range d.Rules {
			if r.Name == "RedisKeyMissing" {
				found = r.Series == newSeries
			}
		}
		if !found {
			t.Fatal("the update is not saved")
		}
		var eff string
		for _, r := range s.EffectiveRules() {
			if r.Name == "RedisKeyMissing" {
				eff = r.Series
			}
		}
		if eff != newSeries {
			t.Fatalf("evaluated selector %s", eff)
		}
		// Nothing else changed, and a second start changes nothing.
		if got, want := len(d.Rules), len(alert.DefaultRules()); got != want {
			t.Fatalf("%d rules, want %d", got, want)
		}
		logs.Reset()
		reopen(t, dir, &logs)
		if strings.Contains(logs.String(), "updated") {
			t.Fatalf("second start updated again: %s", logs.String())
		}
	})

	t.Run("edited by a user", func(t *testing.T) {
		dir := seedOld(t)
		s := openRules(t, dir, ruleOpts{defaults: oldDefaults()})
		r := RuleOf(findRuleView(t, s, "RedisKeyMissing").Rule)
		r.For = config.Duration(5 * time.Minute)
		mustUpdate(t, s, EditRule("RedisKeyMissing", r))
		s = reopen(t, dir, &bytes.Buffer{})
		got := findRuleView(t, s, "RedisKeyMissing")
		if got.Rule.Series != "redis_key_exists" || got.Rule.For != config.Duration(5*time.Minute) || got.Meta.UpdatedBy != "alice" {
			t.Fatalf("a user's rule was changed: %+v", got)
		}
	})

	t.Run("paused by a user", func(t *testing.T) {
		dir := seedOld(t)
		s := openRules(t, dir, ruleOpts{defaults: oldDefaults()})
		mustUpdate(t, s, PauseRule("RedisKeyMissing", true))
		s = reopen(t, dir, &bytes.Buffer{})
		if got := findRuleView(t, s, "RedisKeyMissing"); got.Rule.Series != "redis_key_exists" || !got.Paused {
			t.Fatalf("a paused rule was changed: %+v", got)
		}
	})
}

// TestNewDefaultRuleSeededOnce: an install seeded before RedwatchSeriesDropped shipped (its
// settings.json has rules_seeded and no seeded_rules) gets that rule on the next start, once;
// deleted, it stays deleted; the defaults it had keep what the user did to them.
func TestNewDefaultRuleSeededOnce(t *testing.T) {
	const added = "RedwatchSeriesDropped"
	var before []config.Rule
	for _, r := range alert.DefaultRules() {
		if r.Name != added {
			before = append(before, r)
		}
	}
	dir := t.TempDir()
	openRules(t, dir, ruleOpts{defaults: before})
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	// As written before seeded_rules existed, with one default deleted by the user.
	d.SeededRules = nil
	d.Rules = slices.DeleteFunc(d.Rules, func(r Rule) bool { return r.Name == "HostCPUHigh" })
	if err := Save(dir, d); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	s := openRules(t, dir, ruleOpts{defaults: alert.DefaultRules(), log: &logs})
	names := ruleNames(s.EffectiveRules())
	if !slices.Contains(names, added) || slices.Contains(names, "HostCPUHigh") {
		t.Fatalf("after the upgrade: %v; want %s added and the deleted HostCPUHigh still gone", names, added)
	}
	if r := findRuleView(t, s, added); r.Source != SourceUI || r.Meta.UpdatedBy != SeedUser {
		t.Fatalf("seeded rule: %+v", r)
	}
	if !strings.Contains(logs.String(), added) {
		t.Errorf("the new default is not logged: %s", logs.String())
	}
	d, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(d.SeededRules, added) || !slices.Contains(d.SeededRules, "HostCPUHigh") {
		t.Fatalf("seeded_rules = %v", d.SeededRules)
	}

	// Deleted, it is not seeded again.
	d.Rules = slices.DeleteFunc(d.Rules, func(r Rule) bool { return r.Name == added })
	if err := Save(dir, d); err != nil {
		t.Fatal(err)
	}
	s = openRules(t, dir, ruleOpts{defaults: alert.DefaultRules()})
	if names := ruleNames(s.EffectiveRules()); slices.Contains(names, added) {
		t.Fatalf("a deleted default came back: %v", names)
	}
}
