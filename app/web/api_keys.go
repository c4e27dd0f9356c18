package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// Paging of GET /api/keys.
const (
	keysDefaultLimit = 1000
	keysMaxLimit     = 10000
)

// keysResponse is the body of GET /api/keys. Total counts the keys matching the filters before
// limit and offset.
type keysResponse struct {
	Keys     []redis.KeySnapshot     `json:"keys"`
	Patterns []redis.PatternSnapshot `json:"patterns"`
	Total    int                     `json:"total"`
}

// keyFilter selects watched keys: by instance (exact) and by a case-insensitive substring of
// the key. The zero value matches everything.
type keyFilter struct {
	instance string
	q        string // lower case
}

func newKeyFilter(instance, q string) keyFilter {
	return keyFilter{instance: instance, q: strings.ToLower(q)}
}

func (f keyFilter) match(k *redis.KeySnapshot) bool {
	if f.instance != "" && k.Instance != f.instance {
		return false
	}
	return f.q == "" || containsFold(k.Key, f.q)
}

// containsFold reports whether lowerSub (already lower case) occurs in s, ignoring case.
func containsFold(s, lowerSub string) bool {
	if strings.Contains(s, lowerSub) {
		return true
	}
	return strings.Contains(strings.ToLower(s), lowerSub)
}

// filterKeys returns the keys matching f, in the source's order (instance, then key).
func filterKeys(keys []redis.KeySnapshot, f keyFilter) []redis.KeySnapshot {
	if f == (keyFilter{}) {
		return keys
	}
	var out []redis.KeySnapshot
	for i := range keys {
		if f.match(&keys[i]) {
			out = append(out, keys[i])
		}
	}
	return out
}

// filterPatterns returns the patterns of instance ("" for all).
func filterPatterns(pats []redis.PatternSnapshot, instance string) []redis.PatternSnapshot {
	if instance == "" {
		return pats
	}
	var out []redis.PatternSnapshot
	for _, p := range pats {
		if p.Instance == instance {
			out = append(out, p)
		}
	}
	return out
}

// intParam reads a non-negative integer query parameter, def when absent.
func intParam(c echo.Context, name string, def int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, name+": "+strconv.Quote(v)+" is not a non-negative integer")
	}
	return n, nil
}

// listKeys answers GET /api/keys: watched keys and patterns as JSON,
// {"keys":[...],"patterns":[...],"total":N}. Filters: ?instance= (exact), ?q= (substring of the
// key, ignoring case; patterns are filtered by instance only). Paging: ?limit= (default 1000,
// at most 10000) and ?offset=.
func (s *apiHandler) listKeys(c echo.Context) error {
	limit, err := intParam(c, "limit", keysDefaultLimit)
	if err != nil {
		return err
	}
	limit = min(limit, keysMaxLimit)
	offset, err := intParam(c, "offset", 0)
	if err != nil {
		return err
	}
	instance := c.QueryParam("instance")
	keys := filterKeys(s.opts.Redis.Keys(), newKeyFilter(instance, c.QueryParam("q")))
	res := keysResponse{
		Keys:     []redis.KeySnapshot{},
		Patterns: []redis.PatternSnapshot{},
		Total:    len(keys),
	}
	if offset < len(keys) {
		res.Keys = keys[offset:min(len(keys), offset+limit)]
	}
	if pats := filterPatterns(s.opts.Redis.Patterns(), instance); pats != nil {
		res.Patterns = pats
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, res)
}
