package logging

import (
	"log/slog"
	"strings"
)

// Redacted replaces the value of a sensitive attribute in every output.
const Redacted = "[redacted]"

// isSensitive reports whether key contains, in any case, one of password, passwd, token, secret,
// authorization or cookie: "redis_password", "X-Auth-Token", "Authorization", "client_secret".
func isSensitive(key string) bool {
	k := strings.ToLower(key)
	for _, w := range [...]string{"password", "passwd", "token", "secret", "authorization", "cookie"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// redactAttr is the handlers' ReplaceAttr: it replaces the value of an attribute whose key, or
// the name of one of its enclosing groups, is sensitive.
func redactAttr(groups []string, a slog.Attr) slog.Attr {
	if isSensitive(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	for _, g := range groups {
		if isSensitive(g) {
			return slog.String(a.Key, Redacted)
		}
	}
	return a
}
