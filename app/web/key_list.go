package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/keytrend"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// Paging of /keys.
const (
	keysPerPage    = 50
	keysMaxPerPage = 500
)

// keySortColumns are the values of ?sort= on /keys.
var keySortColumns = []string{
	partials.KeySortName, partials.KeySortLength, partials.KeySortChange,
	partials.KeySortMemory, partials.KeySortTTL, partials.KeySortType,
}

// keyListQuery is what /keys is asked for.
type keyListQuery struct {
	instance, q string
	pattern     string // ?pattern=: only the keys this pattern found
	view        string // pages.KeyViewList or pages.KeyViewTree
	sort        string // a partials.KeySort* column
	desc        bool
	page, per   int // page from 1
	r           timeRange
}

// defaultDesc is the direction a column sorts in when the URL names none: names ascending,
// quantities biggest first.
func defaultDesc(col string) bool {
	return col != partials.KeySortName && col != partials.KeySortType
}

// parseKeyListQuery reads /keys' parameters; a bad one is a 400 naming it.
func parseKeyListQuery(c echo.Context, now time.Time) (keyListQuery, error) {
	q := keyListQuery{instance: c.QueryParam("instance"), q: c.QueryParam("q"), pattern: c.QueryParam("pattern")}
	switch q.view = c.QueryParam("view"); q.view {
	case "":
		q.view = pages.KeyViewList
	case pages.KeyViewList, pages.KeyViewTree:
	default:
		return q, echo.NewHTTPError(http.StatusBadRequest, "view: "+strconv.Quote(q.view)+" is not "+pages.KeyViewList+" or "+pages.KeyViewTree)
	}
	var err error
	if q.r, err = pageRange(c.QueryParams(), now); err != nil {
		return q, echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	q.sort = c.QueryParam("sort")
	if q.sort == "" {
		q.sort = partials.KeySortName
	}
	if !slices.Contains(keySortColumns, q.sort) {
		return q, echo.NewHTTPError(http.StatusBadRequest, "sort: "+strconv.Quote(q.sort)+" is not one of "+strings.Join(keySortColumns, ", "))
	}
	switch d := c.QueryParam("dir"); d {
	case "":
		q.desc = defaultDesc(q.sort)
	case "asc", "desc":
		q.desc = d == "desc"
	default:
		return q, echo.NewHTTPError(http.StatusBadRequest, "dir: "+strconv.Quote(d)+" is not asc or desc")
	}
	if q.page, err = intParam(c, "page", 1); err != nil {
		return q, err
	}
	q.page = max(q.page, 1)
	if q.per, err = intParam(c, "per", keysPerPage); err != nil {
		return q, err
	}
	if q.per == 0 {
		q.per = keysPerPage
	}
	q.per = min(q.per, keysMaxPerPage)
	return q, nil
}

// showKeyList renders /keys: watched patterns, then one page of the watched keys with their
// latest values, their change over the page's range and a sparkline of it.
//
// Parameters: ?q= (a case-insensitive substring of the key) and ?instance= filter;
// ?pattern= lists only the keys that pattern found; without it or ?q=, keys a pattern found
// are collapsed under their pattern (counted, not listed); ?view=tree groups the filtered
// keys by namespace instead (showKeyTree);
// ?sort=name|length|change|memory|ttl|type and ?dir=asc|desc order; ?page= (from 1; past the
// end: the last page) and ?per= (default 50, at most 500) page; ?range= or ?from=&to= set the
// range (default 1h). ?fragment=key-table answers with only the polled table.
//
// Filtering and sorting work on the in-memory snapshot; storage is read for the rows of the
// page only, except that sort=change needs every key's change (keytrend's Changes, cached).
func (s *keysHandler) showKeyList(c echo.Context) error {
	now := time.Now()
	kq, err := parseKeyListQuery(c, now)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	keys := filterKeys(s.watched.Keys(), newKeyFilter(kq.instance, kq.q))
	if kq.view == pages.KeyViewTree {
		return s.showKeyTree(c, kq, keys)
	}
	keys, collapsed := collapsePatternKeys(keys, kq)

	var changes map[keytrend.Key]keytrend.Trend
	if kq.sort == partials.KeySortChange {
		if changes, err = s.trends.Changes(ctx, trendRange(kq.r)); err != nil {
			return err
		}
	}
	sorted := sortKeys(keys, kq.sort, kq.desc, changes)

	pageCount := max(1, (len(sorted)+kq.per-1)/kq.per)
	page := min(kq.page, pageCount)
	lo := (page - 1) * kq.per
	rows := sorted[lo:min(lo+kq.per, len(sorted))]
	trends, err := s.trends.Trends(ctx, watchedTrends(rows), trendRange(kq.r), changes == nil)
	if err != nil {
		return err
	}

	params := c.QueryParams()
	t := partials.KeyTableProps{
		Total:     len(sorted),
		Offset:    lo,
		Filtered:  kq.instance != "" || kq.q != "" || kq.pattern != "",
		Collapsed: collapsed,
		IsAdmin:   isAdmin(c),
		Sort:      kq.sort,
		Desc:      kq.desc,
		SortURLs:  make(map[string]string, len(keySortColumns)),
		RangeKey:  kq.r.Key,
		PollURL:   "/keys?" + withParam(params, "fragment", pages.FragmentKeyTable).Encode(),
		RefreshMs: int(s.refresh.Milliseconds()),
		Now:       now,
	}
	for _, col := range keySortColumns {
		desc := defaultDesc(col)
		if col == kq.sort {
			desc = !kq.desc
		}
		dir := "asc"
		if desc {
			dir = "desc"
		}
		v := withParam(withParam(params, "sort", col), "dir", dir)
		v.Del("page")
		v.Del("fragment")
		t.SortURLs[col] = "/keys?" + v.Encode()
	}
	pageURL := func(n int) string {
		v := withParam(params, "page", strconv.Itoa(n))
		v.Del("fragment")
		if n == 1 {
			v.Del("page")
		}
		if len(v) == 0 {
			return "/keys"
		}
		return "/keys?" + v.Encode()
	}
	if page > 1 {
		t.PrevURL = pageURL(page - 1)
	}
	if page < pageCount {
		t.NextURL = pageURL(page + 1)
	}
	for _, pat := range filterPatterns(s.watched.Patterns(), kq.instance) {
		t.Patterns = append(t.Patterns, partials.PatternRow{
			Instance: pat.Instance, DB: pat.DB, Pattern: pat.Pattern, Matched: pat.Matched,
			Tracked: pat.Tracked, MaxKeys: pat.MaxKeys, LengthSum: pat.LengthSum,
			LastScan: pat.LastScan, Error: pat.Error,
			KeysURL: patternKeysURL(pat.Instance, pat.Pattern),
		})
	}
	t.Rows = make([]partials.KeyRow, len(rows))
	for i, k := range rows {
		row := keyRow(k, now)
		id := snapshotKey(k)
		tr := trends[id]
		if tr == nil {
			tr = &keytrend.Row{}
		}
		change := tr.Change
		if changes != nil {
			change = changes[id]
		}
		row.Change, row.HasChange = change.Change(), change.OK
		row.Spark = keySparkline(k.Type, tr.Spark, kq.r)
		t.Rows[i] = row
	}

	if c.QueryParam("fragment") == pages.FragmentKeyTable {
		return renderFragment(c, pages.KeyList(pages.KeyListProps{Table: t}), pages.FragmentKeyTable)
	}
	p := s.keyListPage(c, kq)
	p.Table = t
	return render(c, http.StatusOK, pages.KeyList(p))
}

// keyListPage is what both views of /keys share: layout, search form, range, view links.
func (s *keysHandler) keyListPage(c echo.Context, kq keyListQuery) pages.KeyListProps {
	params := c.QueryParams()
	p := pages.KeyListProps{
		Layout:   s.layoutProps(c, "Keys", layouts.NavKeys),
		Instance: kq.instance,
		Query:    kq.q,
		Pattern:  kq.pattern,
		View:     kq.view,
		Range:    rangePicker("/keys", params, kq.r),
	}
	for _, name := range []string{"view", "sort", "dir", "per", "range", "from", "to", "pattern"} {
		for _, v := range params[name] {
			p.Keep = append(p.Keep, components.HiddenField{Name: name, Value: v})
		}
	}
	for _, view := range []string{pages.KeyViewList, pages.KeyViewTree} {
		v := withParam(params, "view", view)
		v.Del("page")
		v.Del("fragment")
		if view == pages.KeyViewList {
			v.Del("view")
		}
		u := "/keys"
		if len(v) > 0 {
			u += "?" + v.Encode()
		}
		p.ViewURLs = append(p.ViewURLs, u)
	}
	p.Instances = p.Layout.RedisInstances
	return p
}

// collapsePatternKeys keeps the keys the list shows: with ?pattern=, only that pattern's; with
// a search, all; otherwise the exact keys only, and collapsed counts those a pattern found.
func collapsePatternKeys(keys []redis.KeySnapshot, kq keyListQuery) (shown []redis.KeySnapshot, collapsed int) {
	if kq.q != "" && kq.pattern == "" {
		return keys, 0
	}
	shown = make([]redis.KeySnapshot, 0, len(keys))
	for i := range keys {
		switch {
		case kq.pattern != "" && keys[i].Pattern == kq.pattern:
			shown = append(shown, keys[i])
		case kq.pattern == "" && keys[i].Pattern == "":
			shown = append(shown, keys[i])
		case kq.pattern == "":
			collapsed++
		}
	}
	return shown, collapsed
}

// patternKeysURL lists the keys pattern found on instance.
func patternKeysURL(instance, pattern string) string {
	return "/keys?" + url.Values{"instance": {instance}, "pattern": {pattern}}.Encode()
}

// withParam returns a copy of v with name set to value.
func withParam(v url.Values, name, value string) url.Values {
	out := make(url.Values, len(v)+1)
	for k, vs := range v {
		out[k] = vs
	}
	out[name] = []string{value}
	return out
}

// keySparkline builds the sparkline of a key's length over r.
func keySparkline(typ string, pts []tsdb.Point, r timeRange) components.SparklineProps {
	p := components.SparklineProps{
		Points: make([]components.SparkPoint, len(pts)),
		From:   r.Start.UnixMilli(),
		To:     r.End.UnixMilli(),
		Label:  "Length over " + rangeText(r),
		Suffix: "items",
	}
	if typ == "string" {
		p.Unit, p.Suffix = components.UnitBytes, "" // STRLEN
	}
	for i, pt := range pts {
		p.Points[i] = components.SparkPoint{T: pt.Timestamp, V: pt.Value}
	}
	return p
}

// rangeText names r for people: "1h", or "the range" for a custom one.
func rangeText(r timeRange) string {
	if r.Key == "custom" || r.Key == "" {
		return "the range"
	}
	return r.Key
}

func keyRow(k *redis.KeySnapshot, now time.Time) partials.KeyRow {
	return partials.KeyRow{
		ID: k.ID, Instance: k.Instance, DB: k.DB, Key: k.Key, Pattern: k.Pattern, Type: k.Type,
		Exists: k.Exists, Length: k.Length, HasLength: k.HasLength, MemoryBytes: k.MemoryBytes,
		TTLSeconds: k.TTLSeconds, LastSampled: k.LastSampled, Error: k.Error,
		Stale: !k.LastSampled.IsZero() && now.Sub(k.LastSampled) > staleAfter(k.Interval),
	}
}
