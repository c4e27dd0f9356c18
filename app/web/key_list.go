package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// maxKeyRows caps the rows of the keys page; the rest is counted, not rendered.
const maxKeyRows = 1000

// showKeyList renders /keys: watched patterns and keys with their latest values, filtered by
// ?instance= and ?q= (a case-insensitive substring of the key). ?fragment=key-table answers
// with only the polled table.
func (s *Server) showKeyList(c echo.Context) error {
	now := time.Now()
	instance, q := c.QueryParam("instance"), c.QueryParam("q")
	keys := filterKeys(s.redisSource().Keys(), newKeyFilter(instance, q))

	poll := url.Values{"fragment": {pages.FragmentKeyTable}}
	if instance != "" {
		poll.Set("instance", instance)
	}
	if q != "" {
		poll.Set("q", q)
	}
	t := partials.KeyTableProps{
		Total:     len(keys),
		Filtered:  instance != "" || q != "",
		PollURL:   "/keys?" + poll.Encode(),
		RefreshMs: int(s.opts.Refresh.Milliseconds()),
		Now:       now,
	}
	for _, pat := range filterPatterns(s.redisSource().Patterns(), instance) {
		t.Patterns = append(t.Patterns, partials.PatternRow{
			Instance: pat.Instance, DB: pat.DB, Pattern: pat.Pattern, Matched: pat.Matched,
			Tracked: pat.Tracked, MaxKeys: pat.MaxKeys, LengthSum: pat.LengthSum,
			LastScan: pat.LastScan, Error: pat.Error,
		})
	}
	for i := range keys[:min(len(keys), maxKeyRows)] {
		t.Rows = append(t.Rows, keyRow(&keys[i], now))
	}
	p := pages.KeyListProps{
		Layout:   s.layoutProps(c, "Keys", layouts.NavKeys),
		Instance: instance,
		Query:    q,
		Table:    t,
	}
	p.Instances = p.Layout.RedisInstances
	if c.QueryParam("fragment") == pages.FragmentKeyTable {
		return renderFragment(c, pages.KeyList(p), pages.FragmentKeyTable)
	}
	return render(c, http.StatusOK, pages.KeyList(p))
}

func keyRow(k *redis.KeySnapshot, now time.Time) partials.KeyRow {
	return partials.KeyRow{
		ID: k.ID, Instance: k.Instance, DB: k.DB, Key: k.Key, Pattern: k.Pattern, Type: k.Type,
		Exists: k.Exists, Length: k.Length, HasLength: k.HasLength, MemoryBytes: k.MemoryBytes,
		TTLSeconds: k.TTLSeconds, LastSampled: k.LastSampled, Error: k.Error,
		Stale: !k.LastSampled.IsZero() && now.Sub(k.LastSampled) > staleAfter(k.Interval),
	}
}
