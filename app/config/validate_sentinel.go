package config

import (
	"fmt"
	"os"
	"strings"
	"unicode"
)

// IsSentinel reports whether the instance is watched through Sentinel (sentinel_addrs set).
func (r *Redis) IsSentinel() bool { return len(r.SentinelAddrs) > 0 || r.MasterName != "" }

// validateSentinel checks the Sentinel keys of r (p is the path prefix of its keys, "redis[0]."
// or "") and reports whether r uses Sentinel, in which case the caller does not require addr.
//
//   - sentinel_addrs and master_name come together; each address is host:port, none twice;
//   - addr must be empty with them: the sentinels name the master, a fixed address would be
//     ignored;
//   - master_name holds no white space (Sentinel's names are single words);
//   - sentinel_username, sentinel_password and sentinel_password_file apply only with
//     sentinel_addrs; sentinel_password_file must be readable and, like password_file, may
//     not be set beside a different sentinel_password.
func (r *Redis) validateSentinel(l *errorList, p string) bool {
	if !r.IsSentinel() {
		for _, f := range [][2]string{{"sentinel_username", r.SentinelUsername}, {"sentinel_password", r.SentinelPassword},
			{"sentinel_password_file", r.SentinelPasswordFile}} {
			if f[1] != "" {
				l.add(p+f[0], ErrInvalid, "applies only with sentinel_addrs and master_name")
			}
		}
		return false
	}
	switch {
	case len(r.SentinelAddrs) == 0:
		l.add(p+"sentinel_addrs", ErrRequired, `required with master_name: the sentinels' host:port such as ["10.0.0.1:26379"]`)
	case r.MasterName == "":
		l.add(p+"master_name", ErrRequired, "required with sentinel_addrs: the name the sentinels monitor the master under")
	case strings.IndexFunc(r.MasterName, func(c rune) bool { return unicode.IsSpace(c) || unicode.IsControl(c) }) >= 0:
		l.add(p+"master_name", ErrInvalid, fmt.Sprintf("%q must not contain white space", r.MasterName))
	}
	seen := map[string]int{}
	for i, a := range r.SentinelAddrs {
		ap := p + indexPath("sentinel_addrs", i)
		hostPort(l, ap, a, true, `"10.0.0.1:26379"`)
		if j, dup := seen[a]; dup && a != "" {
			l.add(ap, ErrDuplicate, fmt.Sprintf("%q is also %s", a, p+indexPath("sentinel_addrs", j)))
			continue
		}
		seen[a] = i
	}
	if r.Addr != "" {
		l.add(p+"addr", ErrInvalid, "must be empty with sentinel_addrs: the sentinels name the master's address")
	}
	if r.SentinelPasswordFile != "" {
		b, err := os.ReadFile(r.SentinelPasswordFile)
		switch {
		case err != nil:
			l.addCause(p+"sentinel_password_file", ErrFile, fmt.Sprintf("cannot read %q: %s", r.SentinelPasswordFile, pathErrReason(err)), err)
		case r.SentinelPassword != "" && r.SentinelPassword != strings.TrimSpace(string(b)):
			l.add(p+"sentinel_password", ErrInvalid, "set either sentinel_password or sentinel_password_file, not both")
		}
	}
	return true
}

// readSentinelPasswordFile sets SentinelPassword from SentinelPasswordFile (its content,
// trimmed) when only the file is given. An unreadable file is left for Validate to report.
func (r *Redis) readSentinelPasswordFile() {
	if r.SentinelPasswordFile == "" || r.SentinelPassword != "" {
		return
	}
	if b, err := os.ReadFile(r.SentinelPasswordFile); err == nil {
		r.SentinelPassword = strings.TrimSpace(string(b))
	}
}
