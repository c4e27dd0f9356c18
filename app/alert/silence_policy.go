package alert

import (
	"errors"
	"fmt"
	"maps"
	"regexp/syntax"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redwatch/redwatch/tsdb"
)

// Limits of a silence, checked by ValidateSilence.
const (
	MaxSilenceMatchers     = 50
	MaxSilenceCommentRunes = 1000
	MaxSilenceAhead        = 366 * 24 * time.Hour // how far ahead of now a silence may end
)

// ErrInvalidSilence is what a *SilenceError unwraps to, tested with errors.Is.
var ErrInvalidSilence = errors.New("invalid silence")

// ErrTooManySilences is returned by AddSilence when MaxSilences are kept already.
var ErrTooManySilences = errors.New("too many silences")

// SilenceError lists what is wrong with a silence, by field. Field names are the silence's
// JSON names: "matchers" (the set as a whole), "matchers[i]" (the matcher at index i),
// "starts_at", "ends_at", "comment". The reasons are sentences a person can act on.
type SilenceError struct {
	Fields map[string]string // field -> reason
}

func (e *SilenceError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range slices.Sorted(maps.Keys(e.Fields)) {
		parts = append(parts, f+": "+e.Fields[f])
	}
	return "invalid silence: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalidSilence) true.
func (e *SilenceError) Unwrap() error { return ErrInvalidSilence }

// ValidateSilence checks s against the silence policy at now (a zero StartsAt means now): at
// least one and at most MaxSilenceMatchers matchers, each with a valid label name and, for a
// regular expression, a valid one; at least one matcher that requires a non-empty value (else
// the silence would mute every alert); a comment of at most MaxSilenceCommentRunes that is not
// blank; an end after the start, in the future and at most MaxSilenceAhead from now. It returns
// a *SilenceError or nil. AddSilence calls it; callers may call it first to show every problem.
func ValidateSilence(s Silence, now time.Time) error {
	fields := map[string]string{}
	matcherErrors := false
	ms := slices.Clone(s.Matchers)
	for i := range ms {
		if problem := ms[i].check(); problem != "" {
			fields[fmt.Sprintf("matchers[%d]", i)] = problem
			matcherErrors = true
		}
	}
	switch {
	case len(ms) > MaxSilenceMatchers:
		fields["matchers"] = fmt.Sprintf("A silence takes at most %d matchers.", MaxSilenceMatchers)
	case matcherErrors:
		// The matchers' own problems come first: what they match cannot be judged.
	case len(ms) == 0:
		fields["matchers"] = "Add at least one matcher: a label name and its value."
	case !slices.ContainsFunc(ms, func(m Matcher) bool { return !m.matchesEmpty() }):
		fields["matchers"] = "At least one matcher must require a non-empty value; these would mute every alert."
	}

	switch {
	case strings.TrimSpace(s.Comment) == "":
		fields["comment"] = "A comment is required: say why, and who to ask."
	case utf8.RuneCountInString(s.Comment) > MaxSilenceCommentRunes:
		fields["comment"] = fmt.Sprintf("At most %d characters.", MaxSilenceCommentRunes)
	}

	start := s.StartsAt
	if start.IsZero() {
		start = now
	}
	switch {
	case !s.EndsAt.After(now):
		fields["ends_at"] = "The end must be in the future (times are UTC)."
	case s.EndsAt.Sub(now) > MaxSilenceAhead:
		fields["ends_at"] = "A silence may last at most a year."
	case !s.EndsAt.After(start):
		fields["starts_at"] = "The start must be before the end."
	}
	if len(fields) > 0 {
		return &SilenceError{Fields: fields}
	}
	return nil
}

// check compiles m and words its problem ("": none).
func (m *Matcher) check() string {
	if m.Name == "" {
		return "Give the label name this value is for."
	}
	if tsdb.ValidateLabelName(m.Name) != nil {
		return "Not a label name: letters, digits and _, not starting with a digit."
	}
	if err := m.compile(); err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return "Not a valid regular expression: " + string(se.Code) + "."
		}
		return "Not a valid regular expression: " + err.Error() + "."
	}
	return ""
}

// matchesEmpty reports whether m matches a label that is missing or empty. m must be compiled.
func (m *Matcher) matchesEmpty() bool {
	return m.matches(nil)
}
