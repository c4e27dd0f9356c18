package web

import (
	"bufio"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
)

// metricsHandler serves /metrics.
type metricsHandler struct {
	latest latestTable
}

// latestTable walks the latest value of every fresh series; Store is one.
type latestTable interface {
	LatestAll(fn func(lv *tsdb.LatestValue))
}

// showMetrics answers GET /metrics with the Prometheus text exposition (format 0.0.4) of the
// latest value of every fresh series (redwatch's own redwatch_* series included). It reads the
// in-memory latest table only. Every family has # HELP and # TYPE lines (see writeExposition).
// Answers are built one at a time (metricsRunning); one that waits longer than the query
// MaxWait gets 503 with Retry-After.
func (s *metricsHandler) showMetrics(c echo.Context) error {
	var lvs []tsdb.LatestValue
	s.latest.LatestAll(func(lv *tsdb.LatestValue) { lvs = append(lvs, *lv) })
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	res.WriteHeader(http.StatusOK)
	w := bufio.NewWriter(res)
	writeExposition(w, lvs)
	return w.Flush()
}

// expoFamily is one metric family of the exposition.
type expoFamily struct {
	name, typ string
	samples   []expoSample
}

type expoSample struct {
	lv    *tsdb.LatestValue
	name  string // the sample's name in the exposition
	group string // labels without le (as tsdb.SeriesKey): a histogram's buckets, sum and count share it
	rank  int    // within a group: buckets (by le), then _sum, then _count
	le    float64
}

// writeExposition writes lvs as families sorted by name. Types:
//   - NAME_bucket series that all have a numeric le label, with NAME_sum and NAME_count, form
//     the histogram NAME;
//   - a name ending in _total is a counter; anything else is a gauge, quantiles included:
//     typed summary, a family without _sum and _count makes parsers invent both as 0.
//
// A family cannot be both a histogram and hold other samples: series named NAME without a suffix
// while NAME is a histogram (redwatch_http_request_duration_seconds{route,quantile} beside
// its _bucket/_sum/_count) are exported as the family NAME_quantiles; storage, queries and
// alert rules keep NAME. Label values (encoded by tsdb.LabelValue) are escaped as the format
// says.
func writeExposition(w *bufio.Writer, lvs []tsdb.LatestValue) {
	byName := map[string][]*tsdb.LatestValue{}
	for i := range lvs {
		byName[lvs[i].Name] = append(byName[lvs[i].Name], &lvs[i])
	}
	allHave := func(name, label string) bool {
		vs := byName[name]
		for _, lv := range vs {
			if _, err := strconv.ParseFloat(lv.Label(label), 64); err != nil {
				return false
			}
		}
		return len(vs) > 0
	}
	histogram := map[string]bool{}
	for name := range byName {
		if base, ok := strings.CutSuffix(name, "_bucket"); ok && allHave(name, "le") {
			histogram[base] = true
		}
	}
	families := map[string]*expoFamily{}
	add := func(family, typ string, s expoSample) {
		f := families[family]
		if f == nil {
			f = &expoFamily{name: family, typ: typ}
			families[family] = f
		}
		f.samples = append(f.samples, s)
	}
	for name, vs := range byName {
		family, typ, rank := name, "gauge", 0
		if base, suffix, ok := cutHistogramSuffix(name); ok && histogram[base] {
			family, typ, rank = base, "histogram", map[string]int{"_bucket": 0, "_sum": 1, "_count": 2}[suffix]
		} else {
			switch {
			case histogram[name]:
				family = name + "_quantiles"
			case strings.HasSuffix(name, "_total"):
				typ = "counter"
			}
		}
		expoName := name
		if family == name+"_quantiles" {
			expoName = family
		}
		for _, lv := range vs {
			s := expoSample{lv: lv, name: expoName, rank: rank}
			if typ != "histogram" {
				// The group is all the labels: the table's own key, in the same format, so
				// no key is built per sample (at a million series, most of the allocations).
				s.group = lv.Key()
				add(family, typ, s)
				continue
			}
			var g strings.Builder
			for _, l := range lv.Labels {
				// A bucket's le orders the buckets of a group.
				if rank == 0 && typ == "histogram" && l.Name == "le" {
					s.le, _ = strconv.ParseFloat(l.Value, 64) // "+Inf" included
					continue
				}
				g.WriteString(l.Name)
				g.WriteByte(0)
				g.WriteString(l.Value)
				g.WriteByte(1)
			}
			s.group = g.String()
			add(family, typ, s)
		}
	}
	names := make([]string, 0, len(families))
	for name := range families {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := families[name]
		slices.SortFunc(f.samples, func(a, b expoSample) int {
			if c := strings.Compare(a.group, b.group); c != 0 {
				return c
			}
			if a.rank != b.rank {
				return a.rank - b.rank
			}
			if a.le != b.le {
				if a.le < b.le {
					return -1
				}
				return 1
			}
			return strings.Compare(a.name, b.name)
		})
		w.WriteString("# HELP " + name + " " + helpEscaper.Replace(metricHelp(name)) + "\n")
		w.WriteString("# TYPE " + name + " " + f.typ + "\n")
		for _, s := range f.samples {
			writeSample(w, s.name, s.lv.Labels, s.lv.Value, s.lv.Timestamp)
		}
	}
}

func writeSample(w *bufio.Writer, name string, labels []tsdb.Label, v float64, ts int64) {
	w.WriteString(name)
	if len(labels) > 0 {
		w.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(l.Name)
			w.WriteString(`="`)
			w.WriteString(escapeLabelValue(l.Value))
			w.WriteByte('"')
		}
		w.WriteByte('}')
	}
	// Appended into the writer's free space, not formatted into new strings: no allocation
	// per sample.
	b := w.AvailableBuffer()
	b = append(b, ' ')
	if math.IsInf(v, 0) || math.IsNaN(v) {
		b = append(b, formatValue(v)...)
	} else {
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '\n')
	w.Write(b)
}

// cutHistogramSuffix splits NAME_bucket, NAME_sum and NAME_count.
func cutHistogramSuffix(name string) (base, suffix string, ok bool) {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && base != "" {
			return base, suffix, true
		}
	}
	return "", "", false
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// escapeLabelValue escapes v for the text format; the latest table holds values encoded with
// tsdb.LabelValue (valid UTF-8), preloaded ones included.
func escapeLabelValue(v string) string { return labelEscaper.Replace(v) }
