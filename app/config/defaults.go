package config

import (
	"fmt"
	"time"
)

// Built-in defaults (SPEC.md "Configuration").
const (
	DefaultListen        = "127.0.0.1:8080"
	DefaultStoragePath   = "./redwatch-data"
	DefaultRetention     = Duration(30 * day)
	DefaultLogLevel      = "info"
	DefaultLogFormat     = "json"
	DefaultLogMaxSizeMB  = 50
	DefaultLogMaxBackups = 10
	DefaultSlowCommand   = Duration(100 * time.Millisecond)
	DefaultUIRefresh     = Duration(2 * time.Second)
	DefaultSessionTTL    = Duration(12 * time.Hour)
	DefaultSystemEnabled = true
	DefaultInterval      = Duration(10 * time.Second) // system.interval and redis[].interval

	// The Redis watched when the configuration has no [[redis]] at all.
	DefaultRedisName = "local"
	DefaultRedisAddr = "127.0.0.1:6379"

	// DefaultRedisTimeout is redis[].timeout when unset and the interval is at least as long;
	// a shorter interval is the timeout instead (DefaultTimeout), as Prometheus' scrape_timeout.
	DefaultRedisTimeout      = Duration(2 * time.Second)
	DefaultKeyMaxKeys        = 1000                      // redis[].keys[].max_keys, pattern entries only
	DefaultScanInterval      = Duration(2 * time.Minute) // redis[].keys[].scan_interval, patterns only
	DefaultKeyMemoryInterval = Duration(time.Minute)     // redis[].key_memory_interval
	DefaultKeyMemorySamples  = 5                         // redis[].key_memory_samples (Redis' own default)
	DefaultUserRole          = "viewer"
	DefaultRuleAggregate     = "last"
	DefaultRuleWindow        = Duration(time.Minute)
	DefaultRuleOp            = ">"
	DefaultRuleSeverity      = "warning"
	DefaultEmailPort         = 587
	DefaultEmailTLS          = "starttls"
	DefaultAlertsInterval    = Duration(10 * time.Second)
	DefaultAlertsRules       = true
)

// Default returns the built-in configuration, the one redwatch runs with when there is no config
// file, environment or flag: it listens on 127.0.0.1:8080, stores data in ./redwatch-data,
// samples this host and watches one Redis named "local" at 127.0.0.1:6379. The result passes
// Validate. Each call returns a new value that the caller may modify.
func Default() Config {
	c := baseDefaults()
	c.Redis = []Redis{localRedis()}
	return c
}

// baseDefaults returns the defaults of every section, with no list entries.
func baseDefaults() Config {
	return Config{
		Server:  Server{Listen: DefaultListen},
		Storage: Storage{Path: DefaultStoragePath, Retention: DefaultRetention},
		Log: Log{
			Level:       DefaultLogLevel,
			Format:      DefaultLogFormat,
			MaxSizeMB:   DefaultLogMaxSizeMB,
			MaxBackups:  DefaultLogMaxBackups,
			SlowCommand: DefaultSlowCommand,
		},
		UI:     UI{Refresh: DefaultUIRefresh},
		Auth:   Auth{SessionTTL: DefaultSessionTTL},
		System: System{Enabled: DefaultSystemEnabled, Interval: DefaultInterval},
		Alerts: Alerts{Interval: DefaultAlertsInterval, DefaultRules: DefaultAlertsRules},
		Notify: Notify{Email: Email{Port: DefaultEmailPort, TLS: DefaultEmailTLS}},
	}
}

func localRedis() Redis {
	r := Redis{Name: DefaultRedisName, Addr: DefaultRedisAddr, builtIn: true}
	r.ApplyDefaults()
	return r
}

// isSetFunc reports whether key, a path relative to a list entry (e.g. "interval",
// "keys[0].max_keys"), was given explicitly. Explicitly given zero values are kept (and then
// rejected by Validate where zero is invalid); missing keys take the defaults.
type isSetFunc func(key string) bool

func neverSet(string) bool { return false }

func prefixed(set isSetFunc, prefix string) isSetFunc {
	return func(key string) bool { return set(prefix + key) }
}

// applyListDefaults fills the per-entry defaults of every list entry. set reports whether a full
// key path (e.g. "redis[0].interval") was present in the loaded configuration.
func applyListDefaults(c *Config, set isSetFunc) {
	for i := range c.Auth.Users {
		c.Auth.Users[i].applyDefaults(prefixed(set, fmt.Sprintf("auth.users[%d].", i)))
	}
	for i := range c.Redis {
		c.Redis[i].applyDefaults(prefixed(set, fmt.Sprintf("redis[%d].", i)))
	}
	for i := range c.Alerts.Rules {
		c.Alerts.Rules[i].applyDefaults(prefixed(set, fmt.Sprintf("alerts.rules[%d].", i)))
	}
}

// ApplyDefaults sets every zero-valued field of r that has a default: interval 10s, timeout
// min(2s, interval) (DefaultTimeout), and for each key interval = r.Interval and, for patterns, max_keys 1000. It is meant for
// instances created outside the config file (e.g. from the UI); Load applies the same defaults
// to missing keys only.
func (r *Redis) ApplyDefaults() { r.applyDefaults(neverSet) }

func (r *Redis) applyDefaults(set isSetFunc) {
	if r.Interval == 0 && !set("interval") {
		r.Interval = DefaultInterval
	}
	if r.Timeout == 0 && !set("timeout") {
		r.Timeout = DefaultTimeout(r.Interval)
	}
	if r.KeyMemoryInterval == 0 && !set("key_memory_interval") {
		r.KeyMemoryInterval = DefaultKeyMemoryInterval
	}
	if r.KeyMemorySamples == 0 && !set("key_memory_samples") {
		r.KeyMemorySamples = DefaultKeyMemorySamples
	}
	for i := range r.Keys {
		r.Keys[i].applyDefaults(r.Interval, prefixed(set, fmt.Sprintf("keys[%d].", i)))
	}
}

// DefaultTimeout is the timeout of an instance sampled every interval that sets none:
// min(2s, interval), as Prometheus defaults scrape_timeout. A non-positive interval (invalid,
// reported by Validate) gives 2s, so that only the interval is reported.
func DefaultTimeout(interval Duration) Duration {
	if interval <= 0 {
		return DefaultRedisTimeout
	}
	return min(DefaultRedisTimeout, interval)
}

// ApplyDefaults sets the zero-valued fields of k that have a default: interval =
// instanceInterval, and max_keys 1000 and scan_interval 2m when k is a pattern.
func (k *Key) ApplyDefaults(instanceInterval Duration) { k.applyDefaults(instanceInterval, neverSet) }

func (k *Key) applyDefaults(instanceInterval Duration, set isSetFunc) {
	if k.Interval == 0 && !set("interval") {
		k.Interval = instanceInterval
	}
	if k.Pattern != "" && k.MaxKeys == 0 && !set("max_keys") {
		k.MaxKeys = DefaultKeyMaxKeys
	}
	if k.Pattern != "" && k.ScanInterval == 0 && !set("scan_interval") {
		k.ScanInterval = DefaultScanInterval
	}
}

// ApplyDefaults sets the zero-valued fields of r that have a default: aggregate "last", window
// 1m, op ">", severity "warning" ("for" defaults to 0: fire at once). An expr rule gets only
// the severity: it has no aggregate or window, and no op means every returned series fires.
func (r *Rule) ApplyDefaults() { r.applyDefaults(neverSet) }

func (r *Rule) applyDefaults(set isSetFunc) {
	if r.Expr != "" {
		if r.Severity == "" && !set("severity") {
			r.Severity = DefaultRuleSeverity
		}
		return
	}
	if r.Aggregate == "" && !set("aggregate") {
		r.Aggregate = DefaultRuleAggregate
	}
	if r.Window == 0 && !set("window") {
		r.Window = DefaultRuleWindow
	}
	if r.Op == "" && !set("op") {
		r.Op = DefaultRuleOp
	}
	if r.Severity == "" && !set("severity") {
		r.Severity = DefaultRuleSeverity
	}
}

func (u *User) applyDefaults(set isSetFunc) {
	if u.Role == "" && !set("role") {
		u.Role = DefaultUserRole
	}
}
