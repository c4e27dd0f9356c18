package web

import (
	"cmp"
	"context"
	"math"
	"net/url"
	"slices"
	"time"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// Top-moving keys of the overview.
const (
	topKeysCount = 10
	topKeysRange = "1h"
)

// topKeys lists the watched keys whose length changed most (in absolute value) over the last
// hour, biggest first, with their sparklines. A storage error is logged and shows no keys.
func (s *keysHandler) topKeys(ctx context.Context, now time.Time) partials.TopKeysProps {
	keys := s.watched.Keys()
	p := partials.TopKeysProps{
		Watched:   len(keys),
		RangeKey:  topKeysRange,
		PollURL:   "/?fragment=" + pages.FragmentTopKeys,
		RefreshMs: int(s.refresh.Milliseconds()),
	}
	if len(keys) == 0 {
		return p
	}
	r, err := pageRange(url.Values{"range": {topKeysRange}}, now)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	changes, err := s.trends.Changes(ctx, trendRange(r))
	if err != nil {
		s.log.Warn("cannot compute the top-moving keys", "err", err)
		return p
	}
	type moved struct {
		k      *redis.KeySnapshot
		change float64
	}
	var top []moved
	for i := range keys {
		if t := changes[snapshotKey(&keys[i])]; t.OK && t.Change() != 0 {
			top = append(top, moved{&keys[i], t.Change()})
		}
	}
	slices.SortFunc(top, func(a, b moved) int {
		return cmp.Or(cmp.Compare(math.Abs(b.change), math.Abs(a.change)), compareKeyNames(a.k, b.k))
	})
	top = top[:min(len(top), topKeysCount)]
	rows := make([]*redis.KeySnapshot, len(top))
	for i, m := range top {
		rows[i] = m.k
	}
	trends, err := s.trends.Trends(ctx, watchedTrends(rows), trendRange(r), false)
	if err != nil {
		s.log.Warn("cannot read the top-moving keys' sparklines", "err", err)
		trends = nil
	}
	for _, m := range top {
		k := m.k
		row := partials.TopKeyRow{
			ID: k.ID, Instance: k.Instance, DB: k.DB, Key: k.Key, Type: k.Type,
			Length: k.Length, HasLength: k.HasLength, Exists: k.Exists, Change: m.change,
		}
		var spark []tsdb.Point
		if t := trends[snapshotKey(k)]; t != nil {
			spark = t.Spark
		}
		row.Spark = keySparkline(k.Type, spark, r)
		p.Rows = append(p.Rows, row)
	}
	return p
}
