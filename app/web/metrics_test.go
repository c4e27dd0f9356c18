package web

import (
	"bufio"
	"errors"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/redwatch/redwatch/tsdb"
)

// /metrics is read whole by Prometheus' own parsers: a key that is not valid UTF-8, hostile
// label values, NaN and infinities, counters, a histogram beside per-route quantiles of the
// same name, summaries, and redwatch's own series as selfmon writes them after real requests.
func TestMetricsParsesWithExpfmt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	auth := "Authorization: Basic " + basic("viewer", viewerPass)
	for _, p := range []string{"/health/", "/api/v1/series?match[]=redis_up", "/nope"} {
		e.do(nil, "GET", p, nil, auth)
	}
	now := time.Now().Truncate(time.Millisecond)
	ts := now.UnixMilli()
	key := func(k string) []tsdb.Label {
		return []tsdb.Label{{Name: "instance", Value: "main"}, {Name: "db", Value: "0"}, {Name: "key", Value: k}, {Name: "type", Value: "list"}}
	}
	samples := []tsdb.Sample{
		{Name: "redis_key_length", Labels: key("q\xffbin"), Timestamp: ts, Value: 3},
		{Name: "redis_key_exists", Labels: key("q\xffbin"), Timestamp: ts, Value: 1},
		{Name: "redis_key_length", Labels: key("quote\"back\\slash\nnew\x00line\r\t"), Timestamp: ts, Value: 4},
		{Name: "redis_key_length", Labels: key("ключ"), Timestamp: ts, Value: 5},
		{Name: "redis_command_latency_seconds", Labels: []tsdb.Label{{Name: "instance", Value: "main"}, {Name: "cmd", Value: "get"}, {Name: "quantile", Value: "0.99"}}, Timestamp: ts, Value: 0.0001},
		{Name: "redis_commands_processed_total", Labels: []tsdb.Label{{Name: "instance", Value: "main"}}, Timestamp: ts, Value: 1e15},
		{Name: "pushed_gauge", Labels: []tsdb.Label{{Name: "v", Value: "nan"}}, Timestamp: ts, Value: math.NaN()},
		{Name: "pushed_gauge", Labels: []tsdb.Label{{Name: "v", Value: "inf"}}, Timestamp: ts, Value: math.Inf(1)},
		{Name: "pushed_gauge", Labels: []tsdb.Label{{Name: "v", Value: "-inf"}}, Timestamp: ts, Value: math.Inf(-1)},
		{Name: "pushed_gauge", Labels: []tsdb.Label{{Name: "v", Value: "tiny"}}, Timestamp: ts, Value: 5e-324},
		{Name: "ALERTS", Labels: []tsdb.Label{{Name: "alertname", Value: "QueueLong"}, {Name: "alertstate", Value: "firing"}, {Name: "key", Value: "q\xffbin"}}, Timestamp: ts, Value: 1},
	}
	samples = append(samples, e.srv.opts.Stats.Samples(now, e.db)...)
	if err := e.db.Write(samples); err != nil {
		t.Fatal(err)
	}
	res, body := e.do(nil, "GET", "/metrics", nil, auth)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", res.StatusCode, body)
	}

	// Every sample line, as name{sorted labels} -> value, read back from the text.
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		j := strings.LastIndexByte(l[:i], ' ')
		lines[l[:j]] = l[j+1 : i]
	}

	for _, scheme := range []model.ValidationScheme{model.UTF8Validation, model.LegacyValidation} {
		p := expfmt.NewTextParser(scheme)
		fams, err := p.TextToMetricFamilies(strings.NewReader(body))
		if err != nil {
			t.Fatalf("TextParser(%s): %v\n%s", scheme, err, body)
		}
		checkFamilies(t, fams, lines)
	}
	// The decoder a scraper picks from the Content-Type.
	dec := expfmt.NewDecoder(strings.NewReader(body), expfmt.ResponseFormat(res.Header))
	fams := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("Decoder: %v", err)
		}
		fams[mf.GetName()] = &mf
	}
	checkFamilies(t, fams, lines)

	types := map[string]dto.MetricType{
		"redwatch_http_request_duration_seconds":           dto.MetricType_HISTOGRAM,
		"redwatch_http_request_duration_seconds_quantiles": dto.MetricType_GAUGE,
		"redwatch_http_requests_total":                     dto.MetricType_COUNTER,
		"redis_command_latency_seconds":                    dto.MetricType_GAUGE,
		"redis_commands_processed_total":                   dto.MetricType_COUNTER,
		"redis_key_length":                                 dto.MetricType_GAUGE,
		"ALERTS":                                           dto.MetricType_GAUGE,
	}
	for name, typ := range types {
		if fams[name] == nil || fams[name].GetType() != typ {
			t.Errorf("family %s: want %s, got %v", name, typ, fams[name])
		}
	}
	if h := fams["redwatch_http_request_duration_seconds"].GetMetric()[0].GetHistogram(); h.GetSampleCount() < 3 || len(h.GetBucket()) < 5 {
		t.Errorf("the request histogram lost its parts: %v", h)
	}
	found := false
	for _, m := range fams["redis_key_length"].GetMetric() {
		for _, l := range m.GetLabel() {
			found = found || l.GetName() == "key" && l.GetValue() == `q\xffbin` && m.GetGauge().GetValue() == 3
		}
	}
	if !found {
		t.Errorf(`redis_key_length{key="q\\xffbin"} 3 missing:%s`, body)
	}
}

// checkFamilies asserts that every family has HELP and TYPE, and that the samples extracted
// from fams are exactly the sample lines of the body, values included.
func checkFamilies(t *testing.T, fams map[string]*dto.MetricFamily, lines map[string]string) {
	t.Helper()
	var all []*dto.MetricFamily
	for name, mf := range fams {
		if mf.GetHelp() == "" {
			t.Errorf("family %s has no HELP", name)
		}
		all = append(all, mf)
	}
	vec, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{Timestamp: model.Now()}, all...)
	if err != nil {
		t.Fatalf("ExtractSamples: %v", err)
	}
	got := map[string]string{}
	for _, s := range vec {
		var names []string
		for n := range s.Metric {
			if n != model.MetricNameLabel {
				names = append(names, string(n))
			}
		}
		sort.Strings(names)
		var b strings.Builder
		b.WriteString(string(s.Metric[model.MetricNameLabel]))
		if len(names) > 0 {
			b.WriteByte('{')
			for i, n := range names {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(n + `="` + escapeLabelValue(string(s.Metric[model.LabelName(n)])) + `"`)
			}
			b.WriteByte('}')
		}
		got[b.String()] = formatValue(float64(s.Value))
	}
	for k, v := range lines {
		if g, ok := got[k]; !ok {
			t.Errorf("line %s %s: not read by the parser", k, v)
		} else if g != v {
			if f, _ := strconv.ParseFloat(v, 64); formatValue(f) != g {
				t.Errorf("line %s: wrote %s, parsed %s", k, v, g)
			}
		}
	}
	if len(got) != len(lines) {
		t.Errorf("parsed %d samples from %d lines", len(got), len(lines))
	}
}

// The exposition of writeExposition alone, for the cases a live table rarely holds.
func TestExpositionFamilies(t *testing.T) {
	t.Parallel()
	lv := func(name string, v float64, kv ...string) tsdb.LatestValue {
		var ls []tsdb.Label
		for i := 0; i+1 < len(kv); i += 2 {
			ls = append(ls, tsdb.Label{Name: kv[i], Value: kv[i+1]})
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
		return tsdb.LatestValue{Name: name, Labels: ls, Timestamp: 1000, Value: v}
	}
	var b strings.Builder
	w := bufio.NewWriter(&b)
	writeExposition(w, []tsdb.LatestValue{
		lv("h_bucket", 2, "le", "+Inf"), lv("h_bucket", 1, "le", "0.5"), lv("h_bucket", 0, "le", "0.05"),
		lv("h_count", 2), lv("h_sum", 0.7),
		lv("s", 0.1, "quantile", "0.5"), lv("s_sum", 3), lv("s_count", 4),
		lv("notq", 1, "quantile", "high"), // not numeric: a gauge
	})
	w.Flush()
	want := `# HELP h Latest value of h as written to redwatch.
# TYPE h histogram
h_bucket{le="0.05"} 0 1000
h_bucket{le="0.5"} 1 1000
h_bucket{le="+Inf"} 2 1000
h_sum 0.7 1000
h_count 2 1000
# HELP notq Latest value of notq as written to redwatch.
# TYPE notq gauge
notq{quantile="high"} 1 1000
# HELP s Latest value of s as written to redwatch.
# TYPE s gauge
s{quantile="0.5"} 0.1 1000
# HELP s_count Latest value of s_count as written to redwatch.
# TYPE s_count gauge
s_count 4 1000
# HELP s_sum Latest value of s_sum as written to redwatch.
# TYPE s_sum gauge
s_sum 3 1000
`
	if b.String() != want {
		t.Fatalf("exposition:\n%s\nwant:\n%s", b.String(), want)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
}
