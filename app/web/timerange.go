package web

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/redwatch/redwatch/views/components"
)

// rangePresets are the ranges the range picker offers, shortest first. The key is what the
// page URL carries as ?range=.
var rangePresets = []struct {
	Key string
	Dur time.Duration
}{
	{"15m", 15 * time.Minute},
	{"1h", time.Hour},
	{"6h", 6 * time.Hour},
	{"24h", 24 * time.Hour},
	{"7d", 7 * 24 * time.Hour},
	{"30d", 30 * 24 * time.Hour},
}

// defaultRange is the range of a page whose URL names none.
const defaultRange = "1h"

// timeRange is the time span a page shows: a preset ending now (Live, charts keep appending
// points), or a custom, fixed span from ?from=&to= (unix seconds or RFC 3339).
type timeRange struct {
	Key        string // a preset key, or "custom"
	Start, End time.Time
	Live       bool
}

// Seconds is the span's length in whole seconds (at least 1).
func (r timeRange) Seconds() int { return max(1, int(r.End.Sub(r.Start)/time.Second)) }

// pageRange reads ?range= or ?from=&to= from q. An unknown preset or a malformed or empty
// custom span is an error naming the parameter; no parameters give defaultRange.
func pageRange(q url.Values, now time.Time) (timeRange, error) {
	from, to := q.Get("from"), q.Get("to")
	if from != "" || to != "" {
		start, err := parseTimeParam("from", from, now)
		if err != nil {
			return timeRange{}, err
		}
		end := now
		if to != "" {
			if end, err = parseTimeParam("to", to, now); err != nil {
				return timeRange{}, err
			}
		}
		if !start.Before(end) {
			return timeRange{}, fmt.Errorf("from must be before to")
		}
		if !start.Before(now) {
			return timeRange{}, fmt.Errorf("from: %s is in the future", start.UTC().Format(time.RFC3339))
		}
		if end.After(now) {
			end = now
		}
		return timeRange{Key: "custom", Start: start, End: end, Live: to == ""}, nil
	}
	key := q.Get("range")
	if key == "" {
		key = defaultRange
	}
	for _, p := range rangePresets {
		if p.Key == key {
			return timeRange{Key: key, Start: now.Add(-p.Dur), End: now, Live: true}, nil
		}
	}
	return timeRange{}, fmt.Errorf("range: %q is not one of 15m, 1h, 6h, 24h, 7d, 30d", key)
}

func parseTimeParam(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("%s: missing", name)
	}
	if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(sec, 0), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: %q is not a unix time or an RFC 3339 time", name, v)
}

// rangePicker builds the picker for a page at path whose other query parameters (keep) stay in
// every link, so that a view keeps its filters when its range changes.
func rangePicker(path string, keep url.Values, r timeRange) components.RangeProps {
	p := components.RangeProps{Current: r.Key, Action: path}
	for _, k := range slices.Sorted(maps.Keys(keep)) {
		vs := keep[k]
		if k == "range" || k == "from" || k == "to" || k == "fragment" || k == "page" {
			continue
		}
		for _, v := range vs {
			p.Hidden = append(p.Hidden, components.HiddenField{Name: k, Value: v})
		}
	}
	for _, pr := range rangePresets {
		v := url.Values{}
		for _, h := range p.Hidden {
			v.Add(h.Name, h.Value)
		}
		v.Set("range", pr.Key)
		p.Options = append(p.Options, components.RangeOption{Key: pr.Key, URL: path + "?" + v.Encode()})
	}
	if r.Key == "custom" {
		p.From = r.Start.Unix()
		if !r.Live {
			p.To = r.End.Unix()
		}
	}
	return p
}
