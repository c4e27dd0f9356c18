package web

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/redwatch/redwatch/app/keytrend"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/tsdb"
)

// keysHandler serves /keys (key_list.go) and /keys/{id} (key_detail.go), and the overview's
// top keys (key_top.go).
type keysHandler struct {
	*pageKit
	watched   watchedKeys
	trends    keyTrends
	history   keyHistory
	retention time.Duration // how far back /keys/{id} looks for a key no longer watched
	log       *slog.Logger
}

// watchedKeys are the samplers' in-memory snapshots of the watched keys; RedisSource
// satisfies it.
type watchedKeys interface {
	Keys() []redis.KeySnapshot // sorted by instance, then key
	Patterns() []redis.PatternSnapshot
}

// keyTrends reads how keys' lengths moved over a range; *keytrend.Source satisfies it.
type keyTrends interface {
	Trends(ctx context.Context, keys []keytrend.Watched, r keytrend.Range, withChange bool) (map[keytrend.Key]*keytrend.Row, error)
	Changes(ctx context.Context, r keytrend.Range) (map[keytrend.Key]keytrend.Trend, error)
}

// keyHistory reads a key's stored series for /keys/{id}; Store satisfies it.
type keyHistory interface {
	SeriesMatching(ctx context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error)
	Raw(ctx context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error)
}

// snapshotKey is the trend key of a watched key: its labels as stored.
func snapshotKey(k *redis.KeySnapshot) keytrend.Key {
	return keytrend.Key{Instance: k.Instance, DB: strconv.Itoa(k.DB), Key: tsdb.LabelValue(k.Key)}
}

// watchedTrends maps keys to what their trends are read for.
func watchedTrends(keys []*redis.KeySnapshot) []keytrend.Watched {
	out := make([]keytrend.Watched, len(keys))
	for i, k := range keys {
		out[i] = keytrend.Watched{Key: snapshotKey(k), Type: k.Type}
	}
	return out
}

// trendRange is r as keytrend reads it.
func trendRange(r timeRange) keytrend.Range {
	return keytrend.Range{Name: r.Key, Start: r.Start, End: r.End, Live: r.Live}
}
