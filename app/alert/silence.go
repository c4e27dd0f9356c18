package alert

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/redwatch/redwatch/app/atomicfile"
	"github.com/redwatch/redwatch/tsdb"
)

// SilencesFile is the file under Options.StateDir that holds the silences.
const SilencesFile = "silences.json"

// SilenceRetention is how long an expired silence is still listed by Silences (and kept in
// SilencesFile) after it ended.
const SilenceRetention = 24 * time.Hour

// MaxSilences bounds how many silences (active, pending and recently expired) are kept.
const MaxSilences = 1000

// ErrSilenceNotFound is returned by ExpireSilence and AddSilence for an unknown ID.
var ErrSilenceNotFound = errors.New("no such silence")

// Silence mutes the alerts its matchers all match from StartsAt until EndsAt. A silenced alert
// is still evaluated and listed, with Silenced set; the Notifier decides not to send it.
type Silence struct {
	ID        string    `json:"id"` // 16 hex digits, set by AddSilence
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	Comment   string    `json:"comment"`
	CreatedBy string    `json:"created_by"`
}

// Matcher matches one alert label: Name = Value, or, with Regex, the whole value against the
// regular expression Value (anchored at both ends). Negate inverts the match (!=, !~). A label
// the alert lacks has the value "".
type Matcher struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Regex  bool   `json:"regex,omitempty"`
	Negate bool   `json:"negate,omitempty"`

	re *regexp.Regexp // compiled Value, when Regex
}

// String renders m as in a Prometheus selector: name="value", name!~"value", ...
func (m Matcher) String() string {
	op := "="
	switch {
	case m.Regex && m.Negate:
		op = "!~"
	case m.Regex:
		op = "=~"
	case m.Negate:
		op = "!="
	}
	return fmt.Sprintf("%s%s%q", m.Name, op, m.Value)
}

func (m *Matcher) compile() error {
	if err := tsdb.ValidateLabelName(m.Name); err != nil {
		return err
	}
	m.re = nil
	if m.Regex {
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		if err != nil {
			return fmt.Errorf("bad regular expression for %s: %w", m.Name, err)
		}
		m.re = re
	}
	return nil
}

func (m *Matcher) matches(labels map[string]string) bool {
	v := labels[m.Name]
	var ok bool
	if m.Regex {
		ok = m.re != nil && m.re.MatchString(v)
	} else {
		ok = v == m.Value
	}
	return ok != m.Negate
}

// Active reports whether s mutes alerts at now: StartsAt <= now < EndsAt.
func (s *Silence) Active(now time.Time) bool { return !now.Before(s.StartsAt) && now.Before(s.EndsAt) }

// Matches reports whether every matcher of s matches labels. s must have been validated.
func (s *Silence) Matches(labels map[string]string) bool {
	for i := range s.Matchers {
		if !s.Matchers[i].matches(labels) {
			return false
		}
	}
	return len(s.Matchers) > 0
}

// validate compiles s's matchers and checks that it can be applied: what loadSilences needs of
// a stored silence (the policy, ValidateSilence, applies to new ones).
func (s *Silence) validate() error {
	if len(s.Matchers) == 0 {
		return errors.New("a silence needs at least one matcher")
	}
	s.Matchers = slices.Clone(s.Matchers)
	for i := range s.Matchers {
		if err := s.Matchers[i].compile(); err != nil {
			return fmt.Errorf("matchers[%d]: %w", i, err)
		}
	}
	if !s.EndsAt.After(s.StartsAt) {
		return fmt.Errorf("ends_at (%s) must be after starts_at (%s)", s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339))
	}
	return nil
}

// AddSilence checks s against the silence policy (ValidateSilence: an invalid silence gives
// a *SilenceError) and stores it. An empty ID creates a new silence (its ID is returned); the
// ID of a known silence replaces that silence. A zero StartsAt means now. Beyond MaxSilences
// the error wraps ErrTooManySilences. It is persisted before it is returned, and applies to
// Alerts at once and to the Notifier from the next evaluation. Safe for concurrent use.
func (e *Engine) AddSilence(s Silence) (Silence, error) {
	now := e.now()
	if err := ValidateSilence(s, now); err != nil {
		return Silence{}, err
	}
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	if err := s.validate(); err != nil {
		return Silence{}, fmt.Errorf("BUG: a silence that passed ValidateSilence does not compile: %w", err)
	}
	e.smu.Lock()
	defer e.smu.Unlock()
	next := keepSilences(e.silences, now)
	if s.ID == "" {
		if len(next) >= MaxSilences {
			return Silence{}, fmt.Errorf("cannot add a silence: there are already %d: %w", len(next), ErrTooManySilences)
		}
		s.ID = newID()
		next = append(next, s)
	} else {
		i := slices.IndexFunc(next, func(x Silence) bool { return x.ID == s.ID })
		if i < 0 {
			return Silence{}, fmt.Errorf("cannot update silence %q: %w", s.ID, ErrSilenceNotFound)
		}
		next[i] = s
	}
	if err := e.saveSilences(next); err != nil {
		return Silence{}, err
	}
	e.silences = next
	e.log.Info("silence saved", "silence_id", s.ID, "matchers", matchersString(s.Matchers), "ends_at", s.EndsAt, "created_by", s.CreatedBy)
	return s, nil
}

// ExpireSilence ends the silence with the given ID now (a silence that has not started yet
// also starts now, so it never mutes anything). Expiring an expired silence does nothing. The
// change is persisted before it returns. Safe for concurrent use.
func (e *Engine) ExpireSilence(id string) error {
	now := e.now()
	e.smu.Lock()
	defer e.smu.Unlock()
	next := keepSilences(e.silences, now)
	i := slices.IndexFunc(next, func(x Silence) bool { return x.ID == id })
	if i < 0 {
		return fmt.Errorf("cannot expire silence %q: %w", id, ErrSilenceNotFound)
	}
	s := &next[i]
	if !s.EndsAt.After(now) {
		return nil
	}
	if s.StartsAt.After(now) {
		s.StartsAt = now
	}
	s.EndsAt = now
	if err := e.saveSilences(next); err != nil {
		return err
	}
	e.silences = next
	e.log.Info("silence expired", "silence_id", id)
	return nil
}

// Silences returns the active, pending and recently expired (within SilenceRetention)
// silences, latest EndsAt first. Safe for concurrent use.
func (e *Engine) Silences() []Silence {
	now := e.now()
	e.smu.Lock()
	out := keepSilences(e.silences, now)
	e.smu.Unlock()
	slices.SortStableFunc(out, func(a, b Silence) int { return b.EndsAt.Compare(a.EndsAt) })
	return out
}

// activeSilences returns the silences active at now. Safe for concurrent use.
func (e *Engine) activeSilences(now time.Time) []Silence {
	e.smu.Lock()
	defer e.smu.Unlock()
	var out []Silence
	for _, s := range e.silences {
		if s.Active(now) {
			out = append(out, s)
		}
	}
	return out
}

// silence sets a.Silenced and a.SilenceID from the active silences ss: the matching silence
// that ends last (then the smallest ID) wins.
func silence(a *Alert, ss []Silence) {
	a.Silenced, a.SilenceID = false, ""
	var best *Silence
	for i := range ss {
		s := &ss[i]
		if !s.Matches(a.Labels) {
			continue
		}
		if best == nil || cmp.Or(s.EndsAt.Compare(best.EndsAt), strings.Compare(best.ID, s.ID)) > 0 {
			best = s
		}
	}
	if best != nil {
		a.Silenced, a.SilenceID = true, best.ID
	}
}

// keepSilences returns a copy of ss without the silences that ended more than
// SilenceRetention before now.
func keepSilences(ss []Silence, now time.Time) []Silence {
	out := make([]Silence, 0, len(ss)+1)
	for _, s := range ss {
		if now.Sub(s.EndsAt) <= SilenceRetention {
			out = append(out, s)
		}
	}
	return out
}

type silencesFile struct {
	Version  int       `json:"version"`
	Silences []Silence `json:"silences"`
}

func (e *Engine) saveSilences(ss []Silence) error {
	if e.stateDir == "" {
		return nil
	}
	b, err := json.MarshalIndent(silencesFile{Version: stateVersion, Silences: ss}, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode silences: %w", err)
	}
	if err := atomicfile.Write(e.path(SilencesFile), b); err != nil {
		return fmt.Errorf("cannot save silences: %w", err)
	}
	return nil
}

// loadSilences reads SilencesFile. A missing file is no silences; an unreadable one is an
// error; a corrupt one is moved aside (logged) so that redwatch still starts.
func (e *Engine) loadSilences() error {
	if e.stateDir == "" {
		return nil
	}
	b, err := os.ReadFile(e.path(SilencesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read silences: %w", err)
	}
	var f silencesFile
	if err := json.Unmarshal(b, &f); err != nil || f.Version > stateVersion {
		if err == nil {
			err = fmt.Errorf("version %d is newer than %d", f.Version, stateVersion)
		}
		return e.moveAside(SilencesFile, err)
	}
	now := e.now()
	for _, s := range keepSilences(f.Silences, now) {
		if err := s.validate(); err != nil || s.ID == "" {
			e.log.Warn("dropping an invalid silence from the silences file", "silence_id", s.ID, "err", err)
			continue
		}
		e.silences = append(e.silences, s)
	}
	return nil
}

func matchersString(ms []Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
