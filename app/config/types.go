// Package config loads, defaults and validates redwatch's configuration.
//
// Precedence: built-in defaults < config file (TOML) < environment (REDWATCH_ prefix, "__"
// between levels) < command-line flags. Every validation error names the exact key path.
package config

import "time"

// Config is the whole redwatch configuration. Obtain one with Load or Default; both return a
// validated value whose Duration fields are set.
type Config struct {
	Server      Server      `koanf:"server"`
	Storage     Storage     `koanf:"storage"`
	Log         Log         `koanf:"log"`
	UI          UI          `koanf:"ui"`
	Auth        Auth        `koanf:"auth"`
	System      System      `koanf:"system"`
	Redis       []Redis     `koanf:"redis"`
	Alerts      Alerts      `koanf:"alerts"`
	Notify      Notify      `koanf:"notify"`
	Ingest      Ingest      `koanf:"ingest"`
	RemoteWrite RemoteWrite `koanf:"remote_write"`
}

// Duration is a time.Duration that reads from strings such as "10s", "1m30s", "30d", "2w".
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

type Server struct {
	Listen  string `koanf:"listen"`
	TLSCert string `koanf:"tls_cert"`
	TLSKey  string `koanf:"tls_key"`
	// TrustedProxies are the reverse proxies (IP addresses or CIDR ranges) whose
	// X-Forwarded-For header is believed, and whose "X-Forwarded-Proto: https" counts as TLS
	// (Secure cookies, HSTS); empty: neither header is believed and a client's address is the
	// connection's (TrustedProxyNets).
	TrustedProxies []string `koanf:"trusted_proxies"`
	// SecretsDir is the directory that password_file of instances made on /settings must be
	// inside (after cleaning and resolving symlinks); empty: such instances may not use
	// password_file. The config file's own instances are not restricted.
	SecretsDir string `koanf:"secrets_dir"`
}

type Storage struct {
	Path      string   `koanf:"path"`
	Retention Duration `koanf:"retention"`
	// MaxSeries is the ceiling on new series: at most this many distinct series per hour and
	// twice as many per day are stored; samples of further new series are dropped and counted
	// (redwatch_series_dropped_total{reason}). 0 (the default) derives it from the storage
	// memory budget (tsdb.DefaultMaxSeries: 262,144 with the default 256 MiB).
	MaxSeries int `koanf:"max_series"`
	// MemoryLimit is redwatch's memory budget, a size such as "512MiB" (ParseBytes); empty:
	// DefaultMemoryLimitBytes. It is the Go memory limit, and half of it bounds the storage
	// caches (VictoriaMetrics' -memory.allowedBytes); see MemoryLimitBytes.
	MemoryLimit string `koanf:"memory_limit"`
	// Remote is the Prometheus query API root of a VictoriaMetrics single-node
	// (http://vm:8428) or vmselect (http://vmselect:8481/select/0/prometheus) that charts,
	// Explore, expression rules and /api/v1/query* read instead of local storage; empty: local.
	Remote string `koanf:"remote"`
}

type Log struct {
	Level       string   `koanf:"level"`  // debug | info | warn | error
	Format      string   `koanf:"format"` // json | text
	File        string   `koanf:"file"`
	MaxSizeMB   int      `koanf:"max_size_mb"`
	MaxBackups  int      `koanf:"max_backups"`
	SlowCommand Duration `koanf:"slow_command"`
}

type UI struct {
	Refresh Duration `koanf:"refresh"`
}

type Auth struct {
	SessionTTL Duration `koanf:"session_ttl"`
	Users      []User   `koanf:"users"`
}

type User struct {
	Name         string `koanf:"name"`
	PasswordHash string `koanf:"password_hash"`
	Role         string `koanf:"role"` // admin | viewer
}

type System struct {
	Enabled  bool     `koanf:"enabled"`
	Interval Duration `koanf:"interval"`
}

type Redis struct {
	Name string `koanf:"name"`
	Addr string `koanf:"addr"`
	// SentinelAddrs with MasterName: watch whatever node the sentinels name master for
	// MasterName, following failovers (Addr is then empty). SentinelUsername and
	// SentinelPassword (or SentinelPasswordFile) authenticate to the sentinels; Username and
	// Password to the data nodes. See validate_sentinel.go.
	SentinelAddrs        []string `koanf:"sentinel_addrs"`
	MasterName           string   `koanf:"master_name"`
	SentinelUsername     string   `koanf:"sentinel_username"`
	SentinelPassword     string   `koanf:"sentinel_password"`
	SentinelPasswordFile string   `koanf:"sentinel_password_file"`
	Username             string   `koanf:"username"`
	Password             string   `koanf:"password"`
	PasswordFile         string   `koanf:"password_file"`
	DB                   int      `koanf:"db"`
	TLS                  bool     `koanf:"tls"`
	// TLSCAFile verifies the server with this PEM bundle instead of the system roots;
	// TLSCertFile and TLSKeyFile are a client certificate (Redis' tls-auth-clients).
	TLSCAFile   string   `koanf:"tls_ca_file"`
	TLSCertFile string   `koanf:"tls_cert_file"`
	TLSKeyFile  string   `koanf:"tls_key_file"`
	Interval    Duration `koanf:"interval"`
	Timeout     Duration `koanf:"timeout"`
	// KeyMemoryInterval is how often MEMORY USAGE is asked for each watched key (slower than
	// the keys' own cadence: it is the most expensive command); 0 turns it off.
	KeyMemoryInterval Duration `koanf:"key_memory_interval"`
	// KeyMemorySamples is MEMORY USAGE's SAMPLES argument (0: every nested value).
	KeyMemorySamples int   `koanf:"key_memory_samples"`
	Keys             []Key `koanf:"keys"`
	// Cluster: the instance is a Redis Cluster; Addr (and ClusterAddrs) are seeds from which
	// every node is discovered (see validate_cluster.go).
	Cluster      bool     `koanf:"cluster"`
	ClusterAddrs []string `koanf:"cluster_addrs"` // more seeds besides addr; cluster = true only

	builtIn bool // the built-in default "local", watched because the file has no [[redis]]
}

// BuiltIn reports whether r is the built-in default instance (DefaultRedisName at
// DefaultRedisAddr), watched because the config file has no [[redis]] section; the UI labels
// it so instead of "from config file".
func (r Redis) BuiltIn() bool { return r.builtIn }

// Key is either an exact key (Key set) or a glob pattern (Pattern set), never both.
type Key struct {
	Key      string   `koanf:"key"`
	Pattern  string   `koanf:"pattern"`
	Interval Duration `koanf:"interval"`
	Enabled  *bool    `koanf:"enabled"` // nil means true
	MaxKeys  int      `koanf:"max_keys"`
	// ScanInterval is how often a pattern is expanded with SCAN (patterns only).
	ScanInterval Duration `koanf:"scan_interval"`
	// ExpectExists says whether the key's absence is an alarm (exact keys only). nil (the
	// default) means "by type": a missing string, stream or module-type key is, a missing
	// list, set, sorted set or hash is not (their empty state is absence), and a key never
	// seen is not. true: always; false: never. The sampler marks such keys with the label
	// expect_exists="true" on redis_key_exists, which the default RedisKeyMissing rule selects.
	ExpectExists *bool `koanf:"expect_exists"`
}

// IsEnabled reports whether the key is sampled (the default).
func (k Key) IsEnabled() bool { return k.Enabled == nil || *k.Enabled }

type Alerts struct {
	// Interval is how often every rule is evaluated.
	Interval Duration `koanf:"interval"`
	// DefaultRules seeds the built-in rules (host CPU, memory and disk, Redis down, Redis
	// memory, a watched key missing, redwatch's own errors and latency) as editable UI rules
	// on first start.
	DefaultRules bool   `koanf:"default_rules"`
	Rules        []Rule `koanf:"rules"`
}

type Rule struct {
	Name   string `koanf:"name"`
	Series string `koanf:"series"` // a series selector
	// Expr is a MetricsQL expression, instead of Series + Aggregate + Window: every series it
	// returns is an alert. Without Op every returned series fires; with Op and Threshold each
	// value is compared. Its syntax is checked where rules are compiled (app/alert).
	Expr           string            `koanf:"expr"`
	Aggregate      string            `koanf:"aggregate"` // last | avg | min | max | rate
	Window         Duration          `koanf:"window"`
	Op             string            `koanf:"op"` // > >= < <= == !=
	Threshold      float64           `koanf:"threshold"`
	ClearThreshold *float64          `koanf:"clear_threshold"`
	For            Duration          `koanf:"for"`
	Severity       string            `koanf:"severity"` // critical | warning | info
	Summary        string            `koanf:"summary"`
	Labels         map[string]string `koanf:"labels"`
}

type Notify struct {
	Webhook      []Webhook      `koanf:"webhook"`
	Slack        []Slack        `koanf:"slack"`
	Email        Email          `koanf:"email"`
	Alertmanager []Alertmanager `koanf:"alertmanager"`
}

// NotifierCommon holds the keys every notifier shares.
type NotifierCommon struct {
	SendResolved   bool     `koanf:"send_resolved"`
	RepeatInterval Duration `koanf:"repeat_interval"`
	Severities     []string `koanf:"severities"` // empty: all
	// QuietHours is a daily window "HH:MM-HH:MM" (may wrap midnight) in Timezone during which
	// notifications are held, then delivered if still relevant; empty: none.
	QuietHours string `koanf:"quiet_hours"`
	Timezone   string `koanf:"timezone"` // IANA name; empty: the machine's local time zone
}

type Webhook struct {
	URL            string            `koanf:"url"`
	Headers        map[string]string `koanf:"headers"`
	NotifierCommon `koanf:",squash"`
}

type Slack struct {
	URL            string `koanf:"url"` // incoming-webhook URL
	Channel        string `koanf:"channel"`
	NotifierCommon `koanf:",squash"`
}

// Email is enabled when Host is set.
type Email struct {
	Host           string   `koanf:"host"`
	Port           int      `koanf:"port"`
	Username       string   `koanf:"username"`
	Password       string   `koanf:"password"`
	From           string   `koanf:"from"`
	To             []string `koanf:"to"`
	TLS            string   `koanf:"tls"` // starttls | tls | none
	NotifierCommon `koanf:",squash"`
}

type Alertmanager struct {
	URL            string `koanf:"url"`
	NotifierCommon `koanf:",squash"`
}

type Ingest struct {
	Tokens []string `koanf:"tokens"`
}

type RemoteWrite struct {
	URL string `koanf:"url"`
}
