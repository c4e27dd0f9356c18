package settings

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redwatch/redwatch/app/config"
)

// Options configure a Service.
type Options struct {
	Dir string // storage.path; settings.json lives there
	// FromConfig are the config file's instances, validated with defaults applied (as
	// config.Load returns them). They are read-only here.
	FromConfig []config.Redis
	// Apply makes a set of instances the running one (redis.Manager.Set): on error nothing may
	// have changed. It is called with Effective's result after every change, under the
	// Service's lock. nil: changes are only saved.
	Apply func([]config.Redis) error
	// FromConfigRules are the config file's alert rules, validated with defaults applied (as
	// config.Load returns them). They are read-only here and always evaluated.
	FromConfigRules []config.Rule
	// DefaultRules are the shipped rules (alert.DefaultRules, when alerts.default_rules is on).
	// Open adds them once as UI rules, editable and deletable, skipping those whose name a
	// config rule or a UI rule has, and saves rules_seeded = true, so that a deleted default
	// is never added again. nil: nothing is seeded (and a later start with defaults seeds
	// them then).
	DefaultRules []config.Rule
	// ApplyRules makes a set of alert rules the evaluated one (alert.Engine.SetRules): on error
	// nothing may have changed. It is called with EffectiveRules' result after every rule
	// change, under the Service's lock; never by Open (the engine is built after it, from
	// EffectiveRules). nil: rule changes are only saved.
	ApplyRules func([]config.Rule) error
	// SecretsDir is server.secrets_dir: the directory that password_file of instances made
	// here must be inside (confinePasswordFile); empty: they may not use password_file. The
	// config file's instances are not restricted.
	SecretsDir string
	Logger     *slog.Logger     // logger="settings"; nil: discard
	Now        func() time.Time // nil: time.Now
}

// Service owns the settings: it loads them at Open and applies every change atomically. It
// is safe for concurrent use; changes are serialized.
type Service struct {
	opts Options

	mu   sync.Mutex
	data Data // as saved in the file
	// refused: UI rules the alert engine refused at start-up (CheckRules), by name, with its
	// reason. They are left out of EffectiveRules until they are changed.
	refused map[string]string
}

// Open loads dir/settings.json (see Load), seeds Options.DefaultRules when they were never
// seeded, and updates the seeded defaults nobody changed since to the shipped version (see
// Data.refreshSeeded), saving the file (an error if that fails). It calls neither Apply nor ApplyRules:
// the caller starts the samplers from Effective and the alert engine from EffectiveRules. UI
// rules that no longer validate are logged as errors and left out of EffectiveRules; View
// shows them with the reason.
func Open(opts Options) (*Service, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d, err := Load(opts.Dir)
	if err != nil {
		return nil, err
	}
	now := opts.Now().UTC().Truncate(time.Second)
	meta := Meta{CreatedAt: now, UpdatedAt: now, UpdatedBy: SeedUser}
	updated := d.refreshSeeded(opts.DefaultRules, meta)
	if changed, added := d.seedRules(opts.FromConfigRules, opts.DefaultRules, meta); changed || len(updated) > 0 {
		if err := Save(opts.Dir, d); err != nil {
			return nil, fmt.Errorf("cannot save the seeded default alert rules: %w", err)
		}
		if len(added) > 0 {
			opts.Logger.Info("default alert rules added; change them on /settings", "rules", added)
		}
		if len(updated) > 0 {
			opts.Logger.Info("default alert rules nobody changed were updated to this version's", "rules", updated)
		}
	}
	s := &Service{opts: opts, data: d, refused: map[string]string{}}
	for _, in := range d.Instances {
		if _, problem := confinePasswordFile(opts.SecretsDir, in.PasswordFile); problem != "" {
			opts.Logger.Error("the password_file of an instance made on /settings is not read; edit the instance there", "instance", in.Name, "err", "password_file: "+problem)
		}
	}
	for i, st := range d.ruleStates(opts.FromConfigRules, nil) {
		r := &d.Rules[i]
		switch {
		case st.problem != "":
			opts.Logger.Error("an alert rule made on /settings is not evaluated; fix or delete it there", "rule", clip(r.Name), "err", st.problem)
		case st.shadowed:
			opts.Logger.Warn("an alert rule made on /settings has the name of a config file rule; the config file's is evaluated", "rule", clip(r.Name))
		}
	}
	return s, nil
}

// SeedUser is the Meta.UpdatedBy of the default rules seeded by Open.
const SeedUser = "redwatch"

// Effective is the set of instances to watch now (Data.Effective of the saved settings).
func (s *Service) Effective() []config.Redis {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.Effective(s.opts.FromConfig, s.opts.SecretsDir)
}

// EffectiveRules is the set of alert rules to evaluate now: the config file's (all of them, in
// their order, first), then the UI rules that are not paused, in their order, with defaults
// applied. UI rules whose name a config rule has, that no longer validate, or that the engine
// refused at start-up (CheckRules) are left out. The result shares nothing with the Service.
func (s *Service) EffectiveRules() []config.Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.effectiveRules(s.opts.FromConfigRules, s.refused)
}

// CheckRules runs check (which validates a set of rules as the alert engine would) on
// EffectiveRules. When check refuses the set, it adds the UI rules one at a time after the
// config file's and leaves out those check refuses: they are logged as errors, shown by View
// with the reason, and left out of EffectiveRules until they are changed (edited, paused,
// resumed) or deleted. The config file's rules are never left out: when check refuses them
// alone, CheckRules returns that error. Call it at start-up, before the engine is built.
func (s *Service) CheckRules(check func([]config.Rule) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.data.effectiveRules(s.opts.FromConfigRules, s.refused)
	if check(all) == nil {
		return nil
	}
	n := len(s.opts.FromConfigRules)
	ok := all[:n:n]
	if err := check(ok); err != nil {
		return err
	}
	for _, r := range all[n:] {
		next := append(slices.Clip(ok), r)
		if err := check(next); err != nil {
			s.refused[r.Name] = err.Error()
			s.opts.Logger.Error("cannot evaluate an alert rule made on /settings; fix or delete it there", "rule", clip(r.Name), "err", err)
			continue
		}
		ok = next
	}
	return nil
}

// Update validates m against the current settings, applies the resulting set (Options.Apply,
// or Options.ApplyRules for a rule change) and saves it. It is all or nothing: when validation fails it returns a *ValidationError
// (errors.Is ErrInvalid) and changes nothing; when Apply fails it returns an error wrapping
// ErrApply and saves nothing; when saving fails it re-applies the previous set and returns
// the save error. ErrNotFound and ErrReadOnly report a missing or config-file object. user is
// who asked, for the log and the object's Meta.
func (s *Service) Update(user string, m Mutation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	log := s.opts.Logger.With("user", user, "action", m.action)
	next := s.data.clone()
	t := s.tx(&next, user)
	if err := m.fn(t); err != nil {
		log.Debug("settings change refused", "object", clip(t.object), "err", err)
		return err
	}
	// A changed rule that the engine refused at start-up is tried again.
	refused := maps.Clone(s.refused)
	for _, name := range t.touched {
		delete(refused, name)
	}
	apply, restore := s.appliers(m, &next, refused)
	if apply != nil {
		if err := apply(); err != nil {
			log.Warn("cannot apply settings change; nothing saved", "object", clip(t.object), "err", err)
			return fmt.Errorf("%w: %w", ErrApply, err)
		}
	}
	if err := Save(s.opts.Dir, next); err != nil {
		if restore != nil {
			if rerr := restore(); rerr != nil {
				log.Error("cannot restore the previous set after a failed save; the running set differs from settings.json until restart", "object", clip(t.object), "err", rerr)
			}
		}
		log.Error("cannot save settings change; undone", "object", clip(t.object), "err", err)
		return err
	}
	s.data, s.refused = next, refused
	log.Info("settings changed", "object", clip(t.object))
	return nil
}

// appliers returns the functions that apply the settings next (with refused) and restore the
// current ones to what m changes: the samplers' instances, or the engine's rules. nil: there
// is no hook to call. Callers hold s.mu.
func (s *Service) appliers(m Mutation, next *Data, refused map[string]string) (apply, restore func() error) {
	if m.rules {
		if s.opts.ApplyRules == nil {
			return nil, nil
		}
		return func() error { return s.opts.ApplyRules(next.effectiveRules(s.opts.FromConfigRules, refused)) },
			func() error { return s.opts.ApplyRules(s.data.effectiveRules(s.opts.FromConfigRules, s.refused)) }
	}
	if s.opts.Apply == nil {
		return nil, nil
	}
	return func() error { return s.opts.Apply(next.Effective(s.opts.FromConfig, s.opts.SecretsDir)) },
		func() error { return s.opts.Apply(s.data.Effective(s.opts.FromConfig, s.opts.SecretsDir)) }
}

// tx starts a change of d by user.
func (s *Service) tx(d *Data, user string) *tx {
	return &tx{d: d, cfg: s.opts.FromConfig, cfgRules: s.opts.FromConfigRules, secretsDir: s.opts.SecretsDir, now: s.opts.Now().UTC().Truncate(time.Second), user: user}
}

// clip shortens a log value (keys can be kilobytes long) to at most 200 bytes, on a rune
// boundary.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// Check validates m against the current settings as Update would, without applying or
// saving anything: nil, or the error Update would return before applying.
func (s *Service) Check(user string, m Mutation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.data.clone()
	return m.fn(s.tx(&next, user))
}

// Mutation is one change to the settings, made by AddInstance, EditInstance, ... and carried
// out by Service.Update.
type Mutation struct {
	action string // for the log: "add_instance", ...
	rules  bool   // changes alert rules (Options.ApplyRules), not instances or keys
	fn     func(t *tx) error
}

// tx is the state a Mutation works on: a copy of the settings that Update saves on success.
type tx struct {
	d        *Data
	cfg      []config.Redis
	cfgRules []config.Rule
	// secretsDir is Options.SecretsDir, for password_file.
	secretsDir string
	now        time.Time
	user       string
	object     string   // what the change is about, for the log: an instance name or "instance key"
	touched    []string // the names of the rules changed
}

// AddInstance adds a Redis instance. A zero Interval takes the default (10s) and is stored so;
// a zero Timeout is stored as 0 and follows the interval (min(2s, interval)).
func AddInstance(in Instance) Mutation {
	return Mutation{action: "add_instance", fn: func(t *tx) error {
		t.object = in.Name
		in.Paused = false
		in.Meta = t.meta(Meta{})
		ve := &ValidationError{}
		t.confinePasswordFile(&in, ve)
		r := in.config(nil)
		in.Interval = r.Interval
		validateInstance(&r, ve)
		t.checkName(in.Name, "", ve)
		if err := ve.orNil(); err != nil {
			return err
		}
		t.d.Instances = append(t.d.Instances, in)
		return nil
	}}
}

// EditInstance replaces the UI instance named name with in (which may rename it; its keys
// follow). An empty in.Password keeps the stored password unless clearPassword. Paused stays
// as it was.
func EditInstance(name string, in Instance, clearPassword bool) Mutation {
	return Mutation{action: "edit_instance", fn: func(t *tx) error {
		t.object = name
		i, err := t.uiInstance(name)
		if err != nil {
			return err
		}
		old := t.d.Instances[i]
		if in.Password == "" && !clearPassword {
			in.Password = old.Password
		}
		in.Paused = old.Paused
		in.Meta = t.meta(old.Meta)
		ve := &ValidationError{}
		t.confinePasswordFile(&in, ve)
		r := in.config(t.uiKeys(name, ""))
		in.Interval = r.Interval
		validateInstance(&r, ve)
		if in.Name != name {
			t.object = name + " -> " + in.Name
			t.checkName(in.Name, name, ve)
		}
		if err := ve.orNil(); err != nil {
			return err
		}
		t.d.Instances[i] = in
		if in.Name != name {
			for j := range t.d.Keys {
				if t.d.Keys[j].Instance == name {
					t.d.Keys[j].Instance = in.Name
				}
			}
		}
		return nil
	}}
}

// PauseInstance stops (paused) or resumes watching a UI instance; its settings are kept.
func PauseInstance(name string, paused bool) Mutation {
	action := "pause_instance"
	if !paused {
		action = "resume_instance"
	}
	return Mutation{action: action, fn: func(t *tx) error {
		t.object = name
		i, err := t.uiInstance(name)
		if err != nil {
			return err
		}
		t.d.Instances[i].Paused = paused
		t.d.Instances[i].Meta = t.meta(t.d.Instances[i].Meta)
		return nil
	}}
}

// DeleteInstance deletes a UI instance and its UI keys.
func DeleteInstance(name string) Mutation {
	return Mutation{action: "delete_instance", fn: func(t *tx) error {
		t.object = name
		i, err := t.uiInstance(name)
		if err != nil {
			return err
		}
		t.d.Instances = slices.Delete(t.d.Instances, i, i+1)
		if _, shadowed := t.configInstance(name); !shadowed {
			t.d.Keys = slices.DeleteFunc(t.d.Keys, func(k Key) bool { return k.Instance == name })
		}
		return nil
	}}
}

// AddKey watches a key or pattern (k.Key or k.Pattern) on the instance named instance, from
// the config file or the UI. k.Paused adds it paused. A zero Interval follows the instance's.
func AddKey(instance string, k Key) Mutation {
	return Mutation{action: "add_key", fn: func(t *tx) error {
		t.object = instance + " " + k.Name()
		r, ok := t.instance(instance, "")
		if !ok {
			return fmt.Errorf("instance %q: %w", instance, ErrNotFound)
		}
		k.ID = t.newID()
		k.Instance = instance
		k.Meta = t.meta(Meta{})
		ve := &ValidationError{}
		r.Keys = append(r.Keys, k.config(r.Interval))
		validateKey(&r, len(r.Keys)-1, ve)
		if err := ve.orNil(); err != nil {
			return err
		}
		t.d.Keys = append(t.d.Keys, k)
		return nil
	}}
}

// EditKey replaces the UI key with id by k (same instance; k.ID and k.Instance are ignored).
func EditKey(id string, k Key) Mutation {
	return Mutation{action: "edit_key", fn: func(t *tx) error {
		i, err := t.key(id)
		if err != nil {
			return err
		}
		old := t.d.Keys[i]
		t.object = old.Instance + " " + k.Name()
		r, ok := t.instance(old.Instance, id)
		if !ok {
			return fmt.Errorf("instance %q of this key: %w", old.Instance, ErrNotFound)
		}
		k.ID, k.Instance, k.Meta = old.ID, old.Instance, t.meta(old.Meta)
		ve := &ValidationError{}
		r.Keys = append(r.Keys, k.config(r.Interval))
		validateKey(&r, len(r.Keys)-1, ve)
		if err := ve.orNil(); err != nil {
			return err
		}
		t.d.Keys[i] = k
		return nil
	}}
}

// PauseKey stops (paused) or resumes sampling a UI key; it stays in the settings.
func PauseKey(id string, paused bool) Mutation {
	action := "pause_key"
	if !paused {
		action = "resume_key"
	}
	return Mutation{action: action, fn: func(t *tx) error {
		i, err := t.key(id)
		if err != nil {
			return err
		}
		k := &t.d.Keys[i]
		t.object = k.Instance + " " + k.Name()
		k.Paused = paused
		k.Meta = t.meta(k.Meta)
		return nil
	}}
}

// DeleteKey deletes a UI key (orphaned or not).
func DeleteKey(id string) Mutation {
	return Mutation{action: "delete_key", fn: func(t *tx) error {
		i, err := t.key(id)
		if err != nil {
			return err
		}
		t.object = t.d.Keys[i].Instance + " " + t.d.Keys[i].Name()
		t.d.Keys = slices.Delete(t.d.Keys, i, i+1)
		return nil
	}}
}

// confinePasswordFile cleans in.PasswordFile, or reports it under "password_file" and clears
// it (so that validation does not open a file outside the directory) when it is not inside
// server.secrets_dir.
func (t *tx) confinePasswordFile(in *Instance, ve *ValidationError) {
	clean, problem := confinePasswordFile(t.secretsDir, in.PasswordFile)
	if problem != "" {
		ve.add("password_file", problem)
	}
	in.PasswordFile = clean
}

// meta returns m touched by this change (created now if new).
func (t *tx) meta(m Meta) Meta {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = t.now
	}
	m.UpdatedAt = t.now
	m.UpdatedBy = t.user
	return m
}

func (t *tx) configInstance(name string) (*config.Redis, bool) {
	for i := range t.cfg {
		if t.cfg[i].Name == name {
			return &t.cfg[i], true
		}
	}
	return nil, false
}

// uiInstance returns the index of the UI instance named name: ErrReadOnly for a config
// instance, ErrNotFound for none.
func (t *tx) uiInstance(name string) (int, error) {
	for i := range t.d.Instances {
		if t.d.Instances[i].Name == name {
			return i, nil
		}
	}
	if _, ok := t.configInstance(name); ok {
		return 0, fmt.Errorf("instance %q is %w", name, ErrReadOnly)
	}
	return 0, fmt.Errorf("instance %q: %w", name, ErrNotFound)
}

func (t *tx) key(id string) (int, error) {
	for i := range t.d.Keys {
		if t.d.Keys[i].ID == id {
			return i, nil
		}
	}
	return 0, fmt.Errorf("key %q: %w", id, ErrNotFound)
}

// uiKeys returns the UI keys of instance name, except the one with id skip.
func (t *tx) uiKeys(name, skip string) []Key {
	var out []Key
	for _, k := range t.d.Keys {
		if k.Instance == name && k.ID != skip {
			out = append(out, k)
		}
	}
	return out
}

// instance returns the instance named name as it would be watched, paused or not, with every
// key (config and UI, paused or not) except the UI key with id skip. The config file's wins
// over a UI instance of the same name, as in Effective.
func (t *tx) instance(name, skip string) (config.Redis, bool) {
	if c, ok := t.configInstance(name); ok {
		r := *c
		r.Keys = slices.Clone(r.Keys)
		for _, k := range t.uiKeys(name, skip) {
			r.Keys = append(r.Keys, k.config(r.Interval))
		}
		return r, true
	}
	for i := range t.d.Instances {
		if in := &t.d.Instances[i]; in.Name == name {
			return in.config(t.uiKeys(name, skip)), true
		}
	}
	return config.Redis{}, false
}

// checkName reports a name already used by another instance than self.
func (t *tx) checkName(name, self string, ve *ValidationError) {
	if name == "" || name == self {
		return
	}
	if _, ok := t.configInstance(name); ok {
		ve.add("name", fmt.Sprintf("%q is already the name of an instance from the config file", name))
		return
	}
	for _, in := range t.d.Instances {
		if in.Name == name {
			ve.add("name", fmt.Sprintf("%q is already the name of an instance", name))
			return
		}
	}
}

// newID returns a random 16-hex-digit key ID not used yet.
func (t *tx) newID() string {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		id := hex.EncodeToString(b[:])
		if _, err := t.key(id); err != nil {
			return id
		}
	}
}
