package alert

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSilenceMatchers(t *testing.T) {
	labels := map[string]string{"alertname": "Backlog", "key": "ab", "severity": "warning"}
	f := func(want bool, ms ...Matcher) {
		t.Helper()
		s := Silence{Matchers: ms, StartsAt: time.Unix(0, 0), EndsAt: time.Unix(1, 0)}
		if err := s.validate(); err != nil {
			t.Fatal(err)
		}
		if got := s.Matches(labels); got != want {
			t.Errorf("%s matches %v: %v, want %v", matchersString(ms), labels, got, want)
		}
	}
	f(true, Matcher{Name: "key", Value: "ab"})
	f(false, Matcher{Name: "key", Value: "a"})
	f(false, Matcher{Name: "key", Value: "a", Regex: true}) // anchored
	f(true, Matcher{Name: "key", Value: "a.*", Regex: true})
	f(true, Matcher{Name: "key", Value: "a", Negate: true})
	f(false, Matcher{Name: "key", Value: "a.", Regex: true, Negate: true})
	f(true, Matcher{Name: "missing", Value: ""})
	f(false, Matcher{Name: "alertname", Value: "Backlog"}, Matcher{Name: "severity", Value: "critical"})
	f(true, Matcher{Name: "alertname", Value: "Backlog"}, Matcher{Name: "severity", Value: "warning|critical", Regex: true})
}

func TestSilencesMarkAlerts(t *testing.T) {
	ev := newEnv(t, gaugeRule("Backlog", "redis_key_length", ">", 10, 0))
	write := func() {
		for _, k := range []string{"a", "b"} {
			ev.write("redis_key_length", 100, "key", k)
		}
	}
	write()
	ev.eval()
	silenced := func() map[string]string {
		t.Helper()
		m := map[string]string{}
		for _, a := range ev.alerts(2) {
			if a.Silenced != (a.SilenceID != "") {
				t.Fatalf("alert %+v: Silenced and SilenceID disagree", a)
			}
			m[a.Labels["key"]] = a.SilenceID
		}
		return m
	}
	if got := silenced(); got["a"] != "" || got["b"] != "" {
		t.Fatalf("silenced before any silence: %v", got)
	}
	s, err := ev.e.AddSilence(Silence{
		Matchers:  []Matcher{{Name: "alertname", Value: "Backlog"}, {Name: "key", Value: "a"}},
		EndsAt:    ev.now.Add(time.Hour),
		Comment:   "known backlog",
		CreatedBy: "admin",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ID) != 16 || !s.StartsAt.Equal(ev.now) {
		t.Fatalf("silence %+v: want a 16-hex ID and StartsAt now", s)
	}
	// Shown at once, before the next evaluation.
	if got := silenced(); got["a"] != s.ID || got["b"] != "" {
		t.Fatalf("silenced %v, want only a by %s", got, s.ID)
	}
	ev.advance(10 * time.Second)
	write()
	ev.eval()
	for _, a := range ev.rec.last(t) {
		if want := a.Labels["key"] == "a"; a.Silenced != want || (want && a.SilenceID != s.ID) {
			t.Errorf("Notifier got %s silenced=%v id=%q", a.Labels["key"], a.Silenced, a.SilenceID)
		}
	}
	// A silence starting later does not apply yet.
	later, err := ev.e.AddSilence(Silence{Matchers: []Matcher{{Name: "key", Value: "b"}}, StartsAt: ev.now.Add(time.Minute), EndsAt: ev.now.Add(2 * time.Minute), Comment: "later"})
	if err != nil {
		t.Fatal(err)
	}
	if got := silenced(); got["b"] != "" {
		t.Fatalf("a pending silence applies: %v", got)
	}
	ev.advance(time.Minute)
	if got := silenced(); got["b"] != later.ID {
		t.Fatalf("a started silence does not apply: %v", got)
	}

	// Survives a restart.
	ev.restart(gaugeRule("Backlog", "redis_key_length", ">", 10, 0))
	if got := silenced(); got["a"] != s.ID || got["b"] != later.ID {
		t.Fatalf("after restart: %v", got)
	}
	if ss := ev.e.Silences(); len(ss) != 2 || ss[1].ID != later.ID || ss[0].Comment != "known backlog" || ss[0].CreatedBy != "admin" {
		t.Fatalf("silences after restart %+v", ss)
	}

	// Expired: no longer applies, still listed for a day.
	if err := ev.e.ExpireSilence(s.ID); err != nil {
		t.Fatal(err)
	}
	if got := silenced(); got["a"] != "" {
		t.Fatalf("an expired silence applies: %v", got)
	}
	if err := ev.e.ExpireSilence("nope"); !errors.Is(err, ErrSilenceNotFound) {
		t.Fatalf("ExpireSilence(unknown): %v", err)
	}
	ss := ev.e.Silences()
	if len(ss) != 2 || ss[1].ID != s.ID || !ss[1].EndsAt.Equal(ev.now) {
		t.Fatalf("silences %+v, want the expired one listed, ended now", ss)
	}
	// Editing: the same ID replaces the silence.
	edited := later
	edited.EndsAt = ev.now.Add(time.Hour)
	edited.Comment = "longer"
	if _, err := ev.e.AddSilence(edited); err != nil {
		t.Fatal(err)
	}
	ev.advance(SilenceRetention + time.Minute)
	ss = ev.e.Silences()
	if len(ss) != 1 || ss[0].ID != later.ID || ss[0].Comment != "longer" {
		t.Fatalf("silences %+v, want only the edited one: the other ended more than a day ago", ss)
	}
	if _, err := ev.e.AddSilence(Silence{Matchers: []Matcher{{Name: "key", Value: "c"}}, EndsAt: ev.now.Add(time.Hour), Comment: "c"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(ev.dir, SilencesFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), s.ID) || !strings.Contains(string(b), later.ID) {
		t.Fatalf("silences file not pruned:\n%s", b)
	}
	ev.restart(gaugeRule("Backlog", "redis_key_length", ">", 10, 0))
	if ss := ev.e.Silences(); len(ss) != 2 || ss[0].Matchers[0].Value != "c" || ss[1].ID != later.ID {
		t.Fatalf("silences after restart %+v", ss)
	}
}
