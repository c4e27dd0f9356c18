package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// snapshotsPerPage is how many raw snapshots a page of /keys/{id} lists.
const snapshotsPerPage = 50

// snapshotMetrics are the series of a key merged into its snapshots table, in column order.
var snapshotMetrics = [...]string{"redis_key_length", "redis_key_memory_bytes", "redis_key_ttl_seconds", "redis_key_exists"}

// showKeyDetail renders /keys/{id} (id: redis.KeyID, 16 hex digits): the key's live values
// (?fragment=key-live answers with only them, for polling), charts over the page's range
// (?range= or ?from=&to=), the raw snapshots of the range newest first (?page=, 50 a page) and
// export links. A key no longer watched but still in storage shows its history; an unknown id
// is a 404.
func (s *keysHandler) showKeyDetail(c echo.Context) error {
	id := c.Param("id")
	if !validKeyID(id) {
		return s.notFound(c, "There is no watched key with id “"+id+"”.")
	}
	now := time.Now()
	r, err := pageRange(c.QueryParams(), now)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	ctx := c.Request().Context()
	k, watched := s.watchedKey(id)
	if !watched {
		var found bool
		if k, found = s.storedKey(ctx, id, now); !found {
			return s.notFound(c, "There is no watched key with id “"+id+"”.")
		}
	}
	p := pages.KeyDetailProps{
		Layout:       s.layoutProps(c, "Key "+truncateTitle(k.Key), layouts.NavKeys),
		ID:           id,
		Instance:     k.Instance,
		DB:           k.DB,
		Key:          k.Key,
		KeyLabel:     tsdb.LabelValue(k.Key),
		Pattern:      k.Pattern,
		Type:         k.Type,
		Live:         keyLive(&k, watched, now),
		Range:        rangePicker(partials.KeyURL(id), c.QueryParams(), r),
		RangeSeconds: r.Seconds(),
	}
	p.Live.PollURL = partials.KeyURL(id) + "?fragment=" + pages.FragmentKeyLive
	p.Live.RefreshMs = int(s.refresh.Milliseconds())
	if c.QueryParam("fragment") == pages.FragmentKeyLive {
		if !watched {
			return s.notFound(c, "The key with id “"+id+"” is not watched any more.")
		}
		return renderFragment(c, pages.KeyDetail(p), pages.FragmentKeyLive)
	}
	if !r.Live {
		p.Start, p.End = r.Start.Unix(), r.End.Unix()
	}

	page, err := intParam(c, "page", 1)
	if err != nil {
		return err
	}
	rows, total, err := s.keySnapshots(ctx, &k, r, max(page, 1))
	if err != nil {
		return err
	}
	p.Snapshots, p.SnapshotTotal = rows.rows, total
	p.SnapshotOffset = (rows.page - 1) * snapshotsPerPage
	pageURL := func(n int) string {
		v := withParam(c.QueryParams(), "page", strconv.Itoa(n))
		v.Del("fragment")
		if n == 1 {
			v.Del("page")
		}
		if len(v) == 0 {
			return partials.KeyURL(id)
		}
		return partials.KeyURL(id) + "?" + v.Encode()
	}
	if rows.page > 1 {
		p.PrevURL = pageURL(rows.page - 1)
	}
	if rows.page*snapshotsPerPage < total {
		p.NextURL = pageURL(rows.page + 1)
	}
	p.ExportCSV = keyExportURL(&k, r, "csv")
	p.ExportJSON = keyExportURL(&k, r, "json")
	return render(c, http.StatusOK, pages.KeyDetail(p))
}

// validKeyID reports whether id looks like a redis.KeyID: 16 lower-case hex digits.
func validKeyID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// truncateTitle makes a key readable and short for the page title.
func truncateTitle(key string) string {
	return components.Clip(components.Printable(key), 60)
}

// watchedKey finds a watched key by id in the samplers' snapshot.
func (s *keysHandler) watchedKey(id string) (redis.KeySnapshot, bool) {
	keys := s.watched.Keys()
	for i := range keys {
		if keys[i].ID == id {
			return keys[i], true
		}
	}
	return redis.KeySnapshot{}, false
}

// storedKey finds a key that is no longer watched among the series of redis_key_exists written
// since the retention began (one index search, then hashing every key's name).
func (s *keysHandler) storedKey(ctx context.Context, id string, now time.Time) (redis.KeySnapshot, bool) {
	sel, err := tsdb.ParseSelector("redis_key_exists")
	if err != nil {
		return redis.KeySnapshot{}, false
	}
	retention := s.retention
	if retention <= 0 {
		retention = 30 * 24 * time.Hour
	}
	series, err := s.history.SeriesMatching(ctx, sel, now.Add(-retention), now)
	if err != nil {
		return redis.KeySnapshot{}, false
	}
	for _, se := range series {
		db, err := strconv.Atoi(se.Label("db"))
		if err != nil {
			continue
		}
		if redis.KeyID(se.Label("instance"), db, se.Label("key")) == id {
			return redis.KeySnapshot{ID: id, Instance: se.Label("instance"), DB: db, Key: se.Label("key"), Type: se.Label("type")}, true
		}
	}
	return redis.KeySnapshot{}, false
}

// keyLive maps a key's snapshot to the live part of its page.
func keyLive(k *redis.KeySnapshot, watched bool, now time.Time) pages.KeyLiveProps {
	p := pages.KeyLiveProps{
		Watched: watched, Type: k.Type, Exists: k.Exists, Length: k.Length, HasLength: k.HasLength,
		MemoryBytes: k.MemoryBytes, TTLSeconds: k.TTLSeconds, LastSampled: k.LastSampled,
		Stale: !k.LastSampled.IsZero() && now.Sub(k.LastSampled) > staleAfter(k.Interval),
		Error: k.Error, Now: now,
	}
	for _, g := range k.Groups {
		p.Groups = append(p.Groups, pages.StreamGroupRow{Name: g.Name, Consumers: g.Consumers, Pending: g.Pending, Lag: g.Lag})
	}
	return p
}

// keyMetricsSelector matches the given metrics of one key.
func keyMetricsSelector(k *redis.KeySnapshot, metrics ...string) (*tsdb.Selector, error) {
	sel := `{__name__=~"` + strings.Join(metrics, "|") + `",instance=` + strconv.Quote(k.Instance) +
		`,db="` + strconv.Itoa(k.DB) + `",key=` + strconv.Quote(k.Key) + `}`
	s, err := tsdb.ParseSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("cannot build the selector of a key: %w", err)
	}
	return s, nil
}

// snapshotPage is one page of a key's snapshots; page is the page shown (past the end: the
// last one).
type snapshotPage struct {
	rows []pages.SnapshotRow
	page int
}

// keySnapshots reads the raw samples of k's snapshotMetrics within r and merges them by
// timestamp into rows, newest first; it returns page (from 1) of them and how many there are.
func (s *keysHandler) keySnapshots(ctx context.Context, k *redis.KeySnapshot, r timeRange, page int) (snapshotPage, int, error) {
	sel, err := keyMetricsSelector(k, snapshotMetrics[:]...)
	if err != nil {
		return snapshotPage{}, 0, err
	}
	series, err := s.history.Raw(ctx, sel, r.Start, r.End)
	if err != nil {
		return snapshotPage{}, 0, fmt.Errorf("cannot read the key's snapshots: %w", err)
	}
	// Walk every series from its newest point, merging equal timestamps into one row.
	type cursor struct {
		col int
		pts []tsdb.Point
		i   int // next point, walking down
	}
	cursors := make([]cursor, 0, len(series))
	for _, se := range series {
		for col, m := range snapshotMetrics {
			if se.Name == m {
				cursors = append(cursors, cursor{col: col, pts: se.Points, i: len(se.Points) - 1})
			}
		}
	}
	next := func() (int64, bool) {
		var ts int64
		ok := false
		for _, c := range cursors {
			if c.i >= 0 && (!ok || c.pts[c.i].Timestamp > ts) {
				ts, ok = c.pts[c.i].Timestamp, true
			}
		}
		return ts, ok
	}
	// Count first, so that a page past the end shows the last one.
	total := 0
	for {
		ts, ok := next()
		if !ok {
			break
		}
		total++
		for i := range cursors {
			c := &cursors[i]
			for c.i >= 0 && c.pts[c.i].Timestamp == ts {
				c.i--
			}
		}
	}
	page = min(page, max(1, (total+snapshotsPerPage-1)/snapshotsPerPage))
	lo := (page - 1) * snapshotsPerPage
	for i := range cursors {
		cursors[i].i = len(cursors[i].pts) - 1
	}
	out := snapshotPage{page: page}
	for n := 0; n < lo+snapshotsPerPage; n++ {
		ts, ok := next()
		if !ok {
			break
		}
		row := pages.SnapshotRow{Time: time.UnixMilli(ts)}
		for i := range cursors {
			c := &cursors[i]
			for c.i >= 0 && c.pts[c.i].Timestamp == ts {
				v := c.pts[c.i].Value
				switch c.col {
				case 0:
					row.Length, row.HasLength = v, true
				case 1:
					row.MemoryBytes, row.HasMemory = v, true
				case 2:
					row.TTLSeconds, row.HasTTL = v, true
				case 3:
					row.Exists, row.HasExists = v != 0, true
				}
				c.i--
			}
		}
		if n >= lo {
			out.rows = append(out.rows, row)
		}
	}
	return out, total, nil
}

// keyExportURL is the /api/v1/export link for k's snapshot series (and its consumer groups'
// for a stream) over r.
func keyExportURL(k *redis.KeySnapshot, r timeRange, format string) string {
	metrics := snapshotMetrics[:]
	if k.Type == "stream" {
		metrics = append(metrics[:len(metrics):len(metrics)], "redis_stream_group_lag", "redis_stream_group_pending")
	}
	v := url.Values{}
	for _, m := range metrics {
		v.Add("match[]", pages.KeySelector(m, k.Instance, k.DB, tsdb.LabelValue(k.Key))) // at most 4 KB, same series
	}
	v.Set("start", strconv.FormatInt(r.Start.Unix(), 10))
	// Milliseconds: the range ends at a fraction of a second, and so may its newest sample.
	v.Set("end", strconv.FormatFloat(float64(r.End.UnixMilli())/1e3, 'f', 3, 64))
	v.Set("format", format)
	return "/api/v1/export?" + v.Encode()
}
