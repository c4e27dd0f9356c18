package config

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	// Embedded time zones: notify.*.timezone must resolve on a VM without tzdata installed,
	// since redwatch is one file with nothing else to install.
	_ "time/tzdata"
)

// Lower bounds.
const (
	minRetention   = Duration(day)
	minUIRefresh   = Duration(500 * time.Millisecond)
	minSessionTTL  = Duration(time.Minute)
	minInterval    = Duration(time.Second) // system, redis and key intervals
	minIngestToken = 16                    // characters
)

// Validate checks every key of c and returns all problems found, joined (nil if none). Each is
// a *FieldError with one line "key.path: reason" wrapping ErrRequired, ErrInvalid,
// ErrDuplicate or ErrFile; list them with Errors. Besides checking values it reads the files
// the configuration names (server.tls_cert and tls_key, which must form a key pair, and
// redis[].password_file); it changes nothing.
//
// redis[].password and password_file may not both be set, except that Password may equal the
// trimmed contents of the file, which is how Load leaves it.
func (c *Config) Validate() error {
	var l errorList
	c.Server.validate(&l)
	c.Storage.validate(&l)
	c.Log.validate(&l)
	minDuration(&l, "ui.refresh", c.UI.Refresh, minUIRefresh)
	c.Auth.validate(&l)
	minDuration(&l, "system.interval", c.System.Interval, minInterval)
	minDuration(&l, "alerts.interval", c.Alerts.Interval, minInterval)

	names := map[string]int{}
	for i := range c.Redis {
		r := &c.Redis[i]
		p := indexPath("redis", i)
		r.validate(&l, p+".")
		if r.Name == "" {
			continue
		}
		if j, dup := names[r.Name]; dup {
			l.add(p+".name", ErrDuplicate, fmt.Sprintf("%q is also the name of redis[%d]", r.Name, j))
			continue
		}
		names[r.Name] = i
	}

	names = map[string]int{}
	for i := range c.Alerts.Rules {
		r := &c.Alerts.Rules[i]
		p := indexPath("alerts.rules", i)
		r.validate(&l, p+".")
		if r.Name == "" {
			continue
		}
		if j, dup := names[r.Name]; dup {
			l.add(p+".name", ErrDuplicate, fmt.Sprintf("%q is also the name of alerts.rules[%d]", r.Name, j))
			continue
		}
		names[r.Name] = i
	}

	c.Notify.validate(&l)

	for i, tok := range c.Ingest.Tokens {
		p := indexPath("ingest.tokens", i)
		switch {
		case tok == "":
			l.add(p, ErrRequired, "must not be empty")
		case len(tok) < minIngestToken:
			l.add(p, ErrInvalid, fmt.Sprintf("must be at least %d characters long", minIngestToken))
		}
	}
	if c.RemoteWrite.URL != "" {
		httpURL(&l, "remote_write.url", c.RemoteWrite.URL)
	}
	return l.err()
}

// Validate checks one Redis instance, as Config.Validate does for each redis[] entry, with key
// paths relative to the instance ("interval", "keys[0].pattern"). Use it for instances created
// outside the config file, after ApplyDefaults. It does not check that the name is unique.
func (r *Redis) Validate() error {
	var l errorList
	r.validate(&l, "")
	return l.err()
}

// Validate checks one alert rule, as Config.Validate does for each alerts.rules[] entry, with
// key paths relative to the rule ("series"). Use it for rules created outside the config file,
// after ApplyDefaults. It does not check that the name is unique, nor that series parses as a
// selector (alert.CheckSeries, which compiling the rule runs).
func (r *Rule) Validate() error {
	var l errorList
	r.validate(&l, "")
	return l.err()
}

func (s *Server) validate(l *errorList) {
	hostPort(l, "server.listen", s.Listen, false, `"127.0.0.1:8080" or ":8080"`)
	for i, p := range s.TrustedProxies {
		if _, err := parseIPOrCIDR(p); err != nil {
			l.add(indexPath("server.trusted_proxies", i), ErrInvalid, fmt.Sprintf("%q is not an IP address or CIDR range such as \"10.0.0.1\" or \"10.0.0.0/8\"", p))
		}
	}
	if s.SecretsDir != "" {
		if fi, err := os.Stat(s.SecretsDir); err != nil {
			l.addCause("server.secrets_dir", ErrFile, fmt.Sprintf("cannot use %q: %s", s.SecretsDir, pathErrReason(err)), err)
		} else if !fi.IsDir() {
			l.add("server.secrets_dir", ErrInvalid, fmt.Sprintf("%q is not a directory", s.SecretsDir))
		}
	}
	s.validateTLS(l)
}

// TrustedProxyNets returns server.trusted_proxies as networks (a single address as a /32 or
// /128). Entries that do not parse are left out; Validate reports them.
func (s *Server) TrustedProxyNets() []*net.IPNet {
	var out []*net.IPNet
	for _, p := range s.TrustedProxies {
		if n, err := parseIPOrCIDR(p); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// parseIPOrCIDR parses "10.0.0.1" (as 10.0.0.1/32), "::1" (as ::1/128) or "10.0.0.0/8".
func parseIPOrCIDR(s string) (*net.IPNet, error) {
	if strings.Contains(s, "/") {
		_, n, err := net.ParseCIDR(s)
		return n, err
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("invalid IP address %q", s)
	}
	bits := 128
	if ip4 := ip.To4(); ip4 != nil {
		ip, bits = ip4, 32
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
}

func (s *Server) validateTLS(l *errorList) {
	switch {
	case s.TLSCert == "" && s.TLSKey == "":
		return
	case s.TLSKey == "":
		l.add("server.tls_key", ErrRequired, "required when server.tls_cert is set")
		return
	case s.TLSCert == "":
		l.add("server.tls_cert", ErrRequired, "required when server.tls_key is set")
		return
	}
	certOK := readable(l, "server.tls_cert", s.TLSCert)
	keyOK := readable(l, "server.tls_key", s.TLSKey)
	if certOK && keyOK {
		if _, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey); err != nil {
			l.addCause("server.tls_cert", ErrInvalid, "cannot load the certificate with server.tls_key: "+err.Error(), err)
		}
	}
}

func (s *Storage) validate(l *errorList) {
	if s.Path == "" {
		l.add("storage.path", ErrRequired, "required")
	}
	minDuration(l, "storage.retention", s.Retention, minRetention)
	s.validateMemoryLimit(l)
	if s.MaxSeries != 0 && (s.MaxSeries < MinMaxSeries || s.MaxSeries > MaxMaxSeries) {
		l.add("storage.max_series", ErrInvalid, fmt.Sprintf("must be 0 (derived from the memory budget) or between %d and %d, got %d", MinMaxSeries, MaxMaxSeries, s.MaxSeries))
	}
	if s.Remote != "" {
		if u, err := url.Parse(s.Remote); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			l.add("storage.remote", ErrInvalid, fmt.Sprintf("%q is not an http(s) URL without credentials of a VictoriaMetrics query API", s.Remote))
		}
	}
}

// Bounds of storage.max_series. Below MinMaxSeries the host sampler and a few Redis instances
// with their keys would already be refused; above MaxMaxSeries the index and caches of one
// small VM do not hold the series anyway.
const (
	MinMaxSeries = 1000
	MaxMaxSeries = 100_000_000
)

func (g *Log) validate(l *errorList) {
	oneOf(l, "log.level", g.Level, "debug", "info", "warn", "error")
	oneOf(l, "log.format", g.Format, "json", "text")
	if g.MaxSizeMB <= 0 {
		l.add("log.max_size_mb", ErrInvalid, fmt.Sprintf("must be > 0, got %d", g.MaxSizeMB))
	}
	if g.MaxBackups < 0 {
		l.add("log.max_backups", ErrInvalid, fmt.Sprintf("must be >= 0, got %d", g.MaxBackups))
	}
	if g.SlowCommand <= 0 {
		l.add("log.slow_command", ErrInvalid, "must be > 0, got "+g.SlowCommand.String())
	}
}

func (a *Auth) validate(l *errorList) {
	minDuration(l, "auth.session_ttl", a.SessionTTL, minSessionTTL)
	names := map[string]int{}
	for i, u := range a.Users {
		p := indexPath("auth.users", i)
		if u.Name == "" {
			l.add(p+".name", ErrRequired, "required")
		} else if j, dup := names[u.Name]; dup {
			l.add(p+".name", ErrDuplicate, fmt.Sprintf("%q is also the name of auth.users[%d]", u.Name, j))
		} else {
			names[u.Name] = i
		}
		switch {
		case u.PasswordHash == "":
			l.add(p+".password_hash", ErrRequired, "required (make one with `redwatch hash-password`)")
		case !isBcryptHash(u.PasswordHash):
			l.add(p+".password_hash", ErrInvalid, "must be a bcrypt hash ($2a$, $2b$ or $2y$) from `redwatch hash-password`")
		}
		oneOf(l, p+".role", u.Role, "admin", "viewer")
	}
}

// validate checks r; p is the path prefix of its keys ("redis[1]." or "").
func (r *Redis) validate(l *errorList, p string) {
	switch {
	case r.Name == "":
		l.add(p+"name", ErrRequired, "required")
	case !isInstanceName(r.Name):
		l.add(p+"name", ErrInvalid, fmt.Sprintf("%q may contain only a-z, 0-9, _ and -", r.Name))
	}
	if !r.validateSentinel(l, p) { // with Sentinel, the sentinels name the address
		hostPort(l, p+"addr", r.Addr, true, `"127.0.0.1:6379"`)
	}
	if r.DB < 0 {
		l.add(p+"db", ErrInvalid, fmt.Sprintf("must be >= 0, got %d", r.DB))
	}
	minDuration(l, p+"interval", r.Interval, minInterval)
	switch {
	case r.Timeout <= 0:
		l.add(p+"timeout", ErrInvalid, "must be > 0, got "+r.Timeout.String())
	case r.Timeout > r.Interval && r.Interval > 0:
		l.add(p+"timeout", ErrInvalid, fmt.Sprintf("must not exceed interval (%s), got %s", r.Interval, r.Timeout))
	}
	r.validateTLS(l, p)
	r.validateCluster(l, p)
	if r.KeyMemoryInterval != 0 {
		minDuration(l, p+"key_memory_interval", r.KeyMemoryInterval, minInterval)
	}
	if r.KeyMemorySamples < 0 {
		l.add(p+"key_memory_samples", ErrInvalid, fmt.Sprintf("must be >= 0, got %d", r.KeyMemorySamples))
	}
	if r.PasswordFile != "" {
		b, err := os.ReadFile(r.PasswordFile)
		switch {
		case err != nil:
			l.addCause(p+"password_file", ErrFile, fmt.Sprintf("cannot read %q: %s", r.PasswordFile, pathErrReason(err)), err)
		case r.Password != "" && r.Password != strings.TrimSpace(string(b)):
			l.add(p+"password", ErrInvalid, "set either password or password_file, not both")
		}
	}

	seen := map[string]int{}
	for i := range r.Keys {
		k := &r.Keys[i]
		kp := p + indexPath("keys", i)
		k.validate(l, kp+".")
		var id, field string
		switch {
		case k.Key != "" && k.Pattern == "":
			id, field = "key "+k.Key, "key"
		case k.Pattern != "" && k.Key == "":
			id, field = "pattern "+k.Pattern, "pattern"
		default:
			continue
		}
		if j, dup := seen[id]; dup {
			l.add(kp+"."+field, ErrDuplicate, fmt.Sprintf("%q is also watched by %s", k.Key+k.Pattern, p+indexPath("keys", j)))
			continue
		}
		seen[id] = i
	}
}

// validateTLS checks the TLS files of r: they need tls = true, the certificate and key come
// together and load as a pair, and the CA file holds at least one PEM certificate.
func (r *Redis) validateTLS(l *errorList, p string) {
	if !r.TLS {
		for _, f := range [][2]string{{"tls_ca_file", r.TLSCAFile}, {"tls_cert_file", r.TLSCertFile}, {"tls_key_file", r.TLSKeyFile}} {
			if f[1] != "" {
				l.add(p+f[0], ErrInvalid, "applies only with tls = true")
			}
		}
		return
	}
	if r.TLSCAFile != "" && readable(l, p+"tls_ca_file", r.TLSCAFile) {
		b, _ := os.ReadFile(r.TLSCAFile)
		if !x509.NewCertPool().AppendCertsFromPEM(b) {
			l.add(p+"tls_ca_file", ErrInvalid, fmt.Sprintf("%q holds no PEM certificate", r.TLSCAFile))
		}
	}
	switch {
	case r.TLSCertFile == "" && r.TLSKeyFile == "":
	case r.TLSKeyFile == "":
		l.add(p+"tls_key_file", ErrRequired, "required when tls_cert_file is set")
	case r.TLSCertFile == "":
		l.add(p+"tls_cert_file", ErrRequired, "required when tls_key_file is set")
	default:
		certOK := readable(l, p+"tls_cert_file", r.TLSCertFile)
		keyOK := readable(l, p+"tls_key_file", r.TLSKeyFile)
		if certOK && keyOK {
			if _, err := tls.LoadX509KeyPair(r.TLSCertFile, r.TLSKeyFile); err != nil {
				l.addCause(p+"tls_cert_file", ErrInvalid, "cannot load the certificate with tls_key_file: "+err.Error(), err)
			}
		}
	}
}

// validate checks k; p is the path prefix of its keys ("redis[1].keys[0].").
func (k *Key) validate(l *errorList, p string) {
	entry := strings.TrimSuffix(p, ".")
	switch {
	case k.Key == "" && k.Pattern == "":
		l.add(entry, ErrRequired, "set key (an exact key) or pattern (a glob)")
	case k.Key != "" && k.Pattern != "":
		l.add(entry, ErrInvalid, "set either key or pattern, not both")
	}
	minDuration(l, p+"interval", k.Interval, minInterval)
	switch {
	case k.Key != "" && k.Pattern != "":
		// Already reported; max_keys cannot be judged.
	case k.Pattern != "" && k.MaxKeys < 1:
		l.add(p+"max_keys", ErrInvalid, fmt.Sprintf("must be >= 1, got %d", k.MaxKeys))
	case k.Key != "" && k.MaxKeys != 0:
		l.add(p+"max_keys", ErrInvalid, "applies only to pattern entries")
	}
	switch {
	case k.Key != "" && k.Pattern != "":
	case k.Pattern != "":
		minDuration(l, p+"scan_interval", k.ScanInterval, minInterval)
	case k.Key != "" && k.ScanInterval != 0:
		l.add(p+"scan_interval", ErrInvalid, "applies only to pattern entries")
	}
	if k.Pattern != "" && k.Key == "" && k.ExpectExists != nil {
		l.add(p+"expect_exists", ErrInvalid, "applies only to exact keys (the keys a pattern matches come and go)")
	}
}

// validate checks r; p is the path prefix of its keys ("alerts.rules[0]." or ""). That
// series is a selector, and that expr parses, is checked where rules are compiled
// (alert.CheckSeries, alert.CheckExpr), so that
// config needs no query parser.
func (r *Rule) validate(l *errorList, p string) {
	if r.Name == "" {
		l.add(p+"name", ErrRequired, "required")
	}
	switch {
	case r.Expr != "" && r.Series != "":
		l.add(p+"expr", ErrInvalid, "give either series (with aggregate and window) or expr, not both")
	case r.Expr != "":
		r.validateExpr(l, p)
	case r.Series == "":
		l.add(p+"series", ErrRequired, `required: a series selector such as redis_up{instance="local"}, or an expr`)
	}
	if r.Expr == "" {
		oneOf(l, p+"aggregate", r.Aggregate, "last", "avg", "min", "max", "rate")
		if r.Window <= 0 {
			l.add(p+"window", ErrInvalid, "must be > 0, got "+r.Window.String())
		}
	}
	if r.Expr == "" || r.Op != "" {
		oneOf(l, p+"op", r.Op, ">", ">=", "<", "<=", "==", "!=")
		r.validateThresholds(l, p)
	}
	if r.For < 0 {
		l.add(p+"for", ErrInvalid, "must be >= 0, got "+r.For.String())
	}
	oneOf(l, p+"severity", r.Severity, "critical", "warning", "info")
	if _, err := template.New("summary").Parse(r.Summary); err != nil {
		l.addCause(p+"summary", ErrInvalid, "not a valid template: "+err.Error(), err)
	}
	for _, name := range sortedKeys(r.Labels) {
		if !isLabelName(name) {
			l.add(p+"labels."+name, ErrInvalid, "label names must match [a-zA-Z_][a-zA-Z0-9_]*")
		}
	}
}

func (n *Notify) validate(l *errorList) {
	for i, w := range n.Webhook {
		p := indexPath("notify.webhook", i)
		requiredURL(l, p+".url", w.URL)
		w.NotifierCommon.validate(l, p+".")
	}
	for i, s := range n.Slack {
		p := indexPath("notify.slack", i)
		requiredURL(l, p+".url", s.URL)
		s.NotifierCommon.validate(l, p+".")
	}
	n.Email.validate(l)
	for i, a := range n.Alertmanager {
		p := indexPath("notify.alertmanager", i)
		requiredURL(l, p+".url", a.URL)
		a.NotifierCommon.validate(l, p+".")
	}
}

func (e *Email) validate(l *errorList) {
	const p = "notify.email."
	oneOf(l, p+"tls", e.TLS, "starttls", "tls", "none")
	e.NotifierCommon.validate(l, p)
	if e.Host == "" {
		if e.From != "" || len(e.To) > 0 {
			l.add(p+"host", ErrRequired, "required when notify.email.from or to is set")
		}
		return
	}
	if e.Port < 1 || e.Port > 65535 {
		l.add(p+"port", ErrInvalid, fmt.Sprintf("must be 1..65535, got %d", e.Port))
	}
	if e.From == "" {
		l.add(p+"from", ErrRequired, "required when notify.email.host is set")
	} else if _, err := mail.ParseAddress(e.From); err != nil {
		l.addCause(p+"from", ErrInvalid, fmt.Sprintf("%q is not an email address", e.From), err)
	}
	if len(e.To) == 0 {
		l.add(p+"to", ErrRequired, "at least one address is required when notify.email.host is set")
	}
	for i, to := range e.To {
		if _, err := mail.ParseAddress(to); err != nil {
			l.addCause(indexPath(p+"to", i), ErrInvalid, fmt.Sprintf("%q is not an email address", to), err)
		}
	}
}

func (c *NotifierCommon) validate(l *errorList, p string) {
	if c.RepeatInterval < 0 {
		l.add(p+"repeat_interval", ErrInvalid, "must be >= 0, got "+c.RepeatInterval.String())
	}
	for i, s := range c.Severities {
		oneOf(l, indexPath(p+"severities", i), s, "critical", "warning", "info")
	}
	if c.QuietHours != "" {
		if _, _, err := ParseQuietHours(c.QuietHours); err != nil {
			l.addCause(p+"quiet_hours", ErrInvalid, err.Error(), err)
		}
	}
	if c.Timezone != "" {
		if _, err := time.LoadLocation(c.Timezone); err != nil {
			l.addCause(p+"timezone", ErrInvalid, fmt.Sprintf("%q is not a known time zone", c.Timezone), err)
		}
	}
}

// ParseQuietHours parses a daily window "HH:MM-HH:MM" into minutes after midnight; from > to
// means the window wraps midnight ("22:00-07:00"). from == to is refused (empty or whole day).
func ParseQuietHours(s string) (fromMin, toMin int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a window like \"22:00-07:00\"", s)
	}
	parse := func(v string) (int, error) {
		t, err := time.Parse("15:04", strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%q is not a time like 22:00", strings.TrimSpace(v))
		}
		return t.Hour()*60 + t.Minute(), nil
	}
	if fromMin, err = parse(a); err != nil {
		return 0, 0, err
	}
	if toMin, err = parse(b); err != nil {
		return 0, 0, err
	}
	if fromMin == toMin {
		return 0, 0, fmt.Errorf("%q starts and ends at the same time", s)
	}
	return fromMin, toMin, nil
}

func oneOf(l *errorList, path, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		l.add(path, ErrInvalid, fmt.Sprintf("must be one of %s; got %q", strings.Join(allowed, ", "), v))
	}
}

func minDuration(l *errorList, path string, d, lowest Duration) {
	if d < lowest {
		l.add(path, ErrInvalid, fmt.Sprintf("must be >= %s, got %s", lowest, d))
	}
}

// hostPort checks that s is host:port with a numeric port (1..65535, or 0..65535 when the
// host may be empty, i.e. for listen addresses).
func hostPort(l *errorList, path, s string, needHost bool, example string) {
	if s == "" {
		l.add(path, ErrRequired, "required: host:port such as "+example)
		return
	}
	host, port, err := net.SplitHostPort(s)
	if err == nil && needHost && host == "" {
		err = errors.New("missing host")
	}
	if err == nil {
		n, perr := strconv.Atoi(port)
		lowest := 0
		if needHost {
			lowest = 1
		}
		if perr != nil || n < lowest || n > 65535 {
			err = errors.New("bad port")
		}
	}
	if err != nil {
		l.add(path, ErrInvalid, fmt.Sprintf("%q is not host:port such as %s", s, example))
	}
}

func requiredURL(l *errorList, path, s string) {
	if s == "" {
		l.add(path, ErrRequired, "required")
		return
	}
	httpURL(l, path, s)
}

// httpURL checks that s is an absolute http or https URL. The URL itself is not quoted in the
// message: webhook URLs often embed a secret.
func httpURL(l *errorList, path, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.add(path, ErrInvalid, "must be an absolute http:// or https:// URL")
	}
}

// readable reports whether the file at path can be opened for reading, recording an ErrFile
// problem at key if not.
func readable(l *errorList, key, path string) bool {
	f, err := os.Open(path)
	if err != nil {
		l.addCause(key, ErrFile, fmt.Sprintf("cannot read %q: %s", path, pathErrReason(err)), err)
		return false
	}
	f.Close()
	return true
}

// pathErrReason is err without the path an *fs.PathError repeats.
func pathErrReason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// isBcryptHash reports whether s looks like a bcrypt hash: $2a$, $2b$ or $2y$, a two-digit cost
// 04..31, "$" and 53 characters of bcrypt's base64 alphabet.
func isBcryptHash(s string) bool {
	if len(s) != 60 || s[0] != '$' || s[1] != '2' || !strings.ContainsRune("aby", rune(s[2])) || s[3] != '$' || s[6] != '$' {
		return false
	}
	cost, err := strconv.Atoi(s[4:6])
	if err != nil || cost < 4 || cost > 31 {
		return false
	}
	for _, c := range []byte(s[7:]) {
		if !(c == '.' || c == '/' || isAlnum(c)) {
			return false
		}
	}
	return true
}

// isInstanceName reports whether s matches ^[a-z0-9_-]+$.
func isInstanceName(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// isLabelName reports whether s is a Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*.
func isLabelName(s string) bool {
	for i, c := range []byte(s) {
		if !(c == '_' || isAlnum(c)) || (i == 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validateThresholds requires finite thresholds, and a clear_threshold, when set, on the
// clearing side of the threshold: at or below it for > and >=, at or above it for < and <=.
// It has no meaning for == and !=.
func (r *Rule) validateThresholds(l *errorList, p string) {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(r.Threshold) {
		l.add(p+"threshold", ErrInvalid, "must be a finite number")
	}
	if r.ClearThreshold == nil {
		return
	}
	c := *r.ClearThreshold
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch {
	case !finite(c):
		l.add(p+"clear_threshold", ErrInvalid, "must be a finite number")
	case r.Op == ">" || r.Op == ">=":
		if c > r.Threshold {
			l.add(p+"clear_threshold", ErrInvalid, fmt.Sprintf("must be <= threshold (%s) for op %q, got %s", num(r.Threshold), r.Op, num(c)))
		}
	case r.Op == "<" || r.Op == "<=":
		if c < r.Threshold {
			l.add(p+"clear_threshold", ErrInvalid, fmt.Sprintf("must be >= threshold (%s) for op %q, got %s", num(r.Threshold), r.Op, num(c)))
		}
	case r.Op == "==" || r.Op == "!=":
		l.add(p+"clear_threshold", ErrInvalid, fmt.Sprintf("applies only to ops >, >=, < and <=, not %q", r.Op))
	}
}

// validateExpr checks the keys of an expr rule that do not apply to it: aggregate and window
// (the expression computes its own), and threshold or clear_threshold without an op.
func (r *Rule) validateExpr(l *errorList, p string) {
	if strings.TrimSpace(r.Expr) == "" {
		l.add(p+"expr", ErrRequired, "must not be blank")
	}
	if r.Aggregate != "" {
		l.add(p+"aggregate", ErrInvalid, "does not apply to an expr rule (the expression aggregates); remove it")
	}
	if r.Window != 0 {
		l.add(p+"window", ErrInvalid, "does not apply to an expr rule (give the range in the expression, e.g. [5m]); remove it")
	}
	if r.Op == "" {
		if r.Threshold != 0 {
			l.add(p+"threshold", ErrInvalid, "needs an op (without op, every series the expr returns fires)")
		}
		if r.ClearThreshold != nil {
			l.add(p+"clear_threshold", ErrInvalid, "needs an op and a threshold")
		}
	}
}
