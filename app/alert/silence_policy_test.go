package alert

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestValidateSilence(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ok := Matcher{Name: "alertname", Value: "X"}
	valid := func() Silence {
		return Silence{Matchers: []Matcher{ok}, EndsAt: now.Add(time.Hour), Comment: "deploying"}
	}
	tooMany := make([]Matcher, MaxSilenceMatchers+1)
	for i := range tooMany {
		tooMany[i] = ok
	}
	tests := []struct {
		name   string
		change func(s *Silence)
		want   map[string]string // nil: valid
	}{
		{"valid", func(*Silence) {}, nil},
		{"valid at the limits", func(s *Silence) {
			s.Matchers = tooMany[:MaxSilenceMatchers]
			s.Comment = strings.Repeat("é", MaxSilenceCommentRunes)
			s.EndsAt = now.Add(MaxSilenceAhead)
		}, nil},
		{"valid regex and negation", func(s *Silence) {
			s.Matchers = []Matcher{{Name: "key", Value: "a.+", Regex: true}, {Name: "env", Value: "", Negate: true}}
		}, nil},
		{"starts later", func(s *Silence) { s.StartsAt = now.Add(time.Minute) }, nil},
		{"no matchers", func(s *Silence) { s.Matchers = nil },
			map[string]string{"matchers": "Add at least one matcher: a label name and its value."}},
		{"too many matchers", func(s *Silence) { s.Matchers = tooMany },
			map[string]string{"matchers": "A silence takes at most 50 matchers."}},
		{"matches everything", func(s *Silence) {
			s.Matchers = []Matcher{{Name: "q", Value: ".*", Regex: true}, {Name: "env", Value: ""}, {Name: "x", Value: "y", Negate: true}}
		}, map[string]string{"matchers": "At least one matcher must require a non-empty value; these would mute every alert."}},
		{"bad regex", func(s *Silence) { s.Matchers = []Matcher{ok, {Name: "key", Value: "(", Regex: true}} },
			map[string]string{"matchers[1]": "Not a valid regular expression: missing closing )."}},
		{"bad label name", func(s *Silence) { s.Matchers = []Matcher{{Name: "1q", Value: "x"}} },
			map[string]string{"matchers[0]": "Not a label name: letters, digits and _, not starting with a digit."}},
		{"no label name, and a matcher problem hides the set's", func(s *Silence) { s.Matchers = []Matcher{{Value: "x"}} },
			map[string]string{"matchers[0]": "Give the label name this value is for."}},
		{"blank comment", func(s *Silence) { s.Comment = " \t" },
			map[string]string{"comment": "A comment is required: say why, and who to ask."}},
		{"long comment", func(s *Silence) { s.Comment = strings.Repeat("a", MaxSilenceCommentRunes+1) },
			map[string]string{"comment": "At most 1000 characters."}},
		{"ended", func(s *Silence) { s.EndsAt = now },
			map[string]string{"ends_at": "The end must be in the future (times are UTC)."}},
		{"more than a year", func(s *Silence) { s.EndsAt = now.Add(MaxSilenceAhead + time.Second) },
			map[string]string{"ends_at": "A silence may last at most a year."}},
		{"ends before it starts", func(s *Silence) { s.StartsAt = now.Add(2 * time.Hour) },
			map[string]string{"starts_at": "The start must be before the end."}},
		{"every problem at once", func(s *Silence) { s.Matchers, s.Comment, s.EndsAt = nil, "", time.Time{} },
			map[string]string{
				"matchers": "Add at least one matcher: a label name and its value.",
				"comment":  "A comment is required: say why, and who to ask.",
				"ends_at":  "The end must be in the future (times are UTC).",
			}},
	}
	for _, tc := range tests {
		s := valid()
		tc.change(&s)
		err := ValidateSilence(s, now)
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var se *SilenceError
		if !errors.As(err, &se) || !errors.Is(err, ErrInvalidSilence) {
			t.Errorf("%s: %v, want a *SilenceError", tc.name, err)
			continue
		}
		if !maps.Equal(se.Fields, tc.want) {
			t.Errorf("%s: fields %q, want %q", tc.name, se.Fields, tc.want)
		}
	}
}

func TestSilenceErrorMessage(t *testing.T) {
	t.Parallel()
	err := &SilenceError{Fields: map[string]string{"matchers[1]": "Not a label name.", "comment": "Required."}}
	if got, want := err.Error(), "invalid silence: comment: Required.; matchers[1]: Not a label name."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// AddSilence enforces the whole policy: what ValidateSilence refuses is not stored.
func TestAddSilenceValidates(t *testing.T) {
	t.Parallel()
	now := time.Now()
	e, err := New(Options{Store: memStore{}, Now: func() time.Time { return now }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ok := []Matcher{{Name: "alertname", Value: "X"}}
	f := func(field string, s Silence) {
		t.Helper()
		_, err := e.AddSilence(s)
		var se *SilenceError
		if !errors.As(err, &se) || se.Fields[field] == "" {
			t.Errorf("AddSilence(%+v): %v, want a *SilenceError on %s", s, err, field)
		}
	}
	f("matchers", Silence{EndsAt: now.Add(time.Hour), Comment: "c"})
	f("matchers[0]", Silence{Matchers: []Matcher{{Name: "bad-name", Value: "x"}}, EndsAt: now.Add(time.Hour), Comment: "c"})
	f("comment", Silence{Matchers: ok, EndsAt: now.Add(time.Hour)})
	f("ends_at", Silence{Matchers: ok, EndsAt: now.Add(-time.Minute), Comment: "c"})
	f("ends_at", Silence{Matchers: ok, EndsAt: now.Add(400 * 24 * time.Hour), Comment: "c"})
	f("starts_at", Silence{Matchers: ok, StartsAt: now.Add(time.Hour), EndsAt: now.Add(time.Minute), Comment: "c"})
	if _, err := e.AddSilence(Silence{ID: "0123456789abcdef", Matchers: ok, EndsAt: now.Add(time.Hour), Comment: "c"}); !errors.Is(err, ErrSilenceNotFound) {
		t.Errorf("AddSilence(unknown ID): %v, want ErrSilenceNotFound", err)
	}
	if len(e.Silences()) != 0 {
		t.Fatal("an invalid silence was stored")
	}
	s, err := e.AddSilence(Silence{Matchers: ok, EndsAt: now.Add(time.Hour), Comment: "c"})
	if err != nil || !s.StartsAt.Equal(now) || len(e.Silences()) != 1 {
		t.Fatalf("AddSilence(valid): %+v, %v", s, err)
	}
}
