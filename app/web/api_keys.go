package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

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
	Keys     []keyJSON     `json:"keys"`
	Patterns []patternJSON `json:"patterns"`
	Total    int           `json:"total"`
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

// listKeys answers GET /api/keys: watched keys and patterns as JSON (keysResponse),
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
	keys := filterKeys(s.keys.Keys(), newKeyFilter(instance, c.QueryParam("q")))
	var page []redis.KeySnapshot
	if offset < len(keys) {
		page = keys[offset:min(len(keys), offset+limit)]
	}
	pats := filterPatterns(s.keys.Patterns(), instance)
	res := keysResponse{Keys: make([]keyJSON, len(page)), Patterns: make([]patternJSON, len(pats)), Total: len(keys)}
	for i := range page {
		res.Keys[i] = newKeyJSON(&page[i])
	}
	for i := range pats {
		res.Patterns[i] = newPatternJSON(&pats[i])
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, res)
}

// keyJSON is one watched key in /api/keys. Times are RFC 3339 in UTC.
type keyJSON struct {
	ID       string `json:"id"` // as in /keys/{id}
	Instance string `json:"instance"`
	DB       int    `json:"db"`
	Key      string `json:"key"` // the full name, as Redis has it
	// KeyLabel is the key label of its series when that differs from Key: a key longer than
	// the label limit (stored shortened) or not valid UTF-8 (stored encoded).
	KeyLabel        string  `json:"key_label,omitempty"`
	Pattern         string  `json:"pattern,omitempty"` // the pattern that found it; omitted for exact keys
	Type            string  `json:"type"`              // string list set zset hash stream hyperloglog, a module type, or "none"
	IntervalSeconds float64 `json:"interval_seconds"`
	Exists          bool    `json:"exists"`
	// Length is LLEN, SCARD, ZCARD, HLEN, XLEN, STRLEN or PFCOUNT; null for types without
	// one (module types) and before the first sample.
	Length *int64 `json:"length"`
	// MemoryBytes is MEMORY USAGE, sampled on a slower cadence; null when unknown.
	MemoryBytes *int64 `json:"memory_bytes"`
	// TTLSeconds is -1 for no expiry; null when the key does not exist.
	TTLSeconds    *float64          `json:"ttl_seconds"`
	Groups        []streamGroupJSON `json:"groups,omitempty"` // streams only
	LastSampledAt *time.Time        `json:"last_sampled_at"`  // null before the first sample
	Error         string            `json:"error,omitempty"`  // the last reply error for this key
}

// streamGroupJSON is one consumer group of a stream (XINFO GROUPS).
type streamGroupJSON struct {
	Name      string `json:"name"`
	Consumers int64  `json:"consumers"`
	Pending   int64  `json:"pending"`
	Lag       *int64 `json:"lag"` // null when unknown (Redis < 7, or not computable)
}

// patternJSON is one watched pattern in /api/keys, as of its latest SCAN expansion.
type patternJSON struct {
	Instance    string     `json:"instance"`
	DB          int        `json:"db"`
	Pattern     string     `json:"pattern"`
	MatchedKeys int64      `json:"matched_keys"` // keys matching at the last scan
	TrackedKeys int        `json:"tracked_keys"` // of which sampled one by one (at most max_keys)
	MaxKeys     int        `json:"max_keys"`
	LengthSum   int64      `json:"length_sum"`   // sum of the lengths of every matching key
	LastScanAt  *time.Time `json:"last_scan_at"` // null before the first scan
	Error       string     `json:"error,omitempty"`
}

// newKeyJSON maps a key snapshot to its JSON.
func newKeyJSON(k *redis.KeySnapshot) keyJSON {
	out := keyJSON{
		ID: k.ID, Instance: k.Instance, DB: k.DB, Key: k.Key, KeyLabel: k.KeyLabel, Pattern: k.Pattern,
		Type: k.Type, IntervalSeconds: k.Interval.Seconds(), Exists: k.Exists,
		LastSampledAt: utcTime(k.LastSampled), Error: k.Error,
	}
	if k.HasLength {
		out.Length = new(k.Length)
	}
	if k.MemoryBytes > 0 {
		out.MemoryBytes = new(k.MemoryBytes)
	}
	if k.Exists {
		out.TTLSeconds = new(k.TTLSeconds)
	}
	for _, g := range k.Groups {
		sg := streamGroupJSON{Name: g.Name, Consumers: g.Consumers, Pending: g.Pending}
		if g.Lag >= 0 {
			sg.Lag = new(g.Lag)
		}
		out.Groups = append(out.Groups, sg)
	}
	return out
}

// newPatternJSON maps a pattern snapshot to its JSON.
func newPatternJSON(p *redis.PatternSnapshot) patternJSON {
	return patternJSON{
		Instance: p.Instance, DB: p.DB, Pattern: p.Pattern, MatchedKeys: p.Matched, TrackedKeys: p.Tracked,
		MaxKeys: p.MaxKeys, LengthSum: p.LengthSum, LastScanAt: utcTime(p.LastScan), Error: p.Error,
	}
}
