// Package settings keeps the Redis instances, monitored keys and alert rules an admin creates
// from the UI.
//
// They live in <storage.path>/settings.json (mode 0600, replaced atomically), are merged with
// the config file's instances (Data.Effective) and rules (Data.EffectiveRules), validated with
// the config package's own rules, and applied to the running samplers and alert engine by a
// Service, which makes every change atomic: either the running set and the file both change,
// or neither does. Objects from the config file are never changed here; UI keys may be
// attached to config instances. The shipped default alert rules are seeded once as UI rules,
// so that they can be edited, paused and deleted like any other.
package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/redwatch/redwatch/app/atomicfile"
	"github.com/redwatch/redwatch/app/config"
)

// FileName is the settings file inside the data directory.
const FileName = "settings.json"

// Version is the format version written to settings.json. A file with a higher version was
// written by a newer redwatch and is refused rather than rewritten without what it does not
// know.
const Version = 1

// Data is the content of settings.json: every object made from the UI. Files written before
// rules existed (no "rules", no "rules_seeded") load as having neither.
type Data struct {
	Version   int        `json:"version"`
	Instances []Instance `json:"redis"` // in creation order
	Keys      []Key      `json:"keys"`  // in creation order; each names its instance
	Rules     []Rule     `json:"rules"` // alert rules, in creation order; names are unique
	// RulesSeeded: the shipped default rules were added to Rules once (see Options.DefaultRules);
	// they are never added again, so a deleted default stays deleted.
	RulesSeeded bool `json:"rules_seeded"`
	// SeededRules names every default rule ever seeded, so that a default shipped later is
	// seeded once on the next start (and, deleted, stays deleted). Files from before it have
	// RulesSeeded and no SeededRules: their seeded defaults are firstDefaultRules.
	SeededRules []string `json:"seeded_rules,omitempty"`
}

// Meta records who last changed an object, and when.
type Meta struct {
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// Instance is a Redis instance made from the UI. Its unique name identifies it. Password is a
// secret: it is stored here (the file is 0600) but never shown, logged or returned by View.
type Instance struct {
	Name         string          `json:"name"`
	Addr         string          `json:"addr"`
	Username     string          `json:"username,omitempty"`
	Password     string          `json:"password,omitempty"`
	PasswordFile string          `json:"password_file,omitempty"`
	DB           int             `json:"db"`
	TLS          bool            `json:"tls,omitempty"`
	TLSCAFile    string          `json:"tls_ca_file,omitempty"`
	TLSCertFile  string          `json:"tls_cert_file,omitempty"`
	TLSKeyFile   string          `json:"tls_key_file,omitempty"`
	Interval     config.Duration `json:"interval"`
	// Timeout 0 (a blank form field) follows the interval: min(2s, interval). Files written
	// before that stored a blank timeout as 2s; Load reads 2s as 0, which is the same timeout
	// for every interval those files could hold (longer than 2s).
	Timeout config.Duration `json:"timeout,omitempty"`
	Paused  bool            `json:"paused,omitempty"` // not watched while paused
	Meta
}

// Key is an exact key (Key set) or a glob (Pattern set) watched on the instance named
// Instance, which may come from the config file or from the UI. ID is random hex, stable for
// the key's life.
type Key struct {
	ID       string `json:"id"`
	Instance string `json:"instance"`
	Key      string `json:"key,omitempty"`
	Pattern  string `json:"pattern,omitempty"`
	// Interval 0 follows the instance's interval.
	Interval config.Duration `json:"interval,omitempty"`
	// MaxKeys and ScanInterval apply to patterns; 0 takes the defaults (1000, 2m).
	MaxKeys      int             `json:"max_keys,omitempty"`
	ScanInterval config.Duration `json:"scan_interval,omitempty"`
	// ExpectExists is config.Key.ExpectExists (exact keys only): nil decides by type.
	ExpectExists *bool `json:"expect_exists,omitempty"`
	Paused       bool  `json:"paused,omitempty"` // sampled with enabled = false
	Meta
}

// Name is the key or the pattern, whichever is set.
func (k *Key) Name() string {
	if k.Pattern != "" {
		return k.Pattern
	}
	return k.Key
}

// Load reads dir/settings.json. A missing file is empty settings; a file that cannot be read
// or parsed, or that has a newer Version, is an error (it is never silently replaced).
func Load(dir string) (Data, error) {
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Data{Version: Version}, nil
	}
	if err != nil {
		return Data{}, fmt.Errorf("cannot read %s: %w", path, err)
	}
	var d Data
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		return Data{}, fmt.Errorf("cannot parse %s: %w", path, err)
	}
	switch {
	case d.Version == 0:
		return Data{}, fmt.Errorf("cannot parse %s: no version", path)
	case d.Version > Version:
		return Data{}, fmt.Errorf("cannot read %s: version %d is newer than this redwatch understands (%d)", path, d.Version, Version)
	}
	d.Version = Version
	for i := range d.Instances {
		if d.Instances[i].Timeout == config.DefaultRedisTimeout {
			d.Instances[i].Timeout = 0 // see Instance.Timeout
		}
	}
	return d, nil
}

// Save replaces dir/settings.json with d (mode 0600) atomically: readers and a crash see the
// old or the new file, never a partial one.
func Save(dir string, d Data) error {
	d.Version = Version
	if d.Instances == nil {
		d.Instances = []Instance{}
	}
	if d.Keys == nil {
		d.Keys = []Key{}
	}
	if d.Rules == nil {
		d.Rules = []Rule{}
	}
	// Unescaped, so that ops read as ">" rather than "\u003e" to whoever opens the file.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("cannot encode settings: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, FileName), b.Bytes()); err != nil {
		return fmt.Errorf("cannot save settings: %w", err)
	}
	return nil
}

// clone returns a copy of d whose slices it may change. A Rule's Labels map and
// ClearThreshold are shared: mutations replace them, never change them in place.
func (d *Data) clone() Data {
	return Data{
		Version:     d.Version,
		Instances:   append([]Instance(nil), d.Instances...),
		Keys:        append([]Key(nil), d.Keys...),
		Rules:       append([]Rule(nil), d.Rules...),
		RulesSeeded: d.RulesSeeded,
		SeededRules: append([]string(nil), d.SeededRules...),
	}
}
