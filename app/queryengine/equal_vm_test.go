package queryengine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/vmtest"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// eqSamples is the data of TestLocalEqualsVictoriaMetrics: 230 series over 6 hours, one
// sample every 30 s from start: counters (one with a reset), gauges and histogram buckets.
func eqSamples(start time.Time) []tsdb.Sample {
	rnd := rand.New(rand.NewPCG(15, 15))
	const steps = 6 * 3600 / 30
	var out []tsdb.Sample
	add := func(name string, ls []tsdb.Label, value func(i int) float64) {
		for i := range steps {
			out = append(out, tsdb.Sample{Name: name, Labels: ls, Timestamp: start.Add(time.Duration(i) * 30 * time.Second).UnixMilli(), Value: value(i)})
		}
	}
	for inst := range 10 {
		instance := tsdb.Label{Name: "instance", Value: "i" + strconv.Itoa(inst)}
		for _, cmd := range []string{"get", "set", "del", "incr", "hget", "hset", "lpush", "rpop", "expire", "ttl"} {
			perSec := 1 + rnd.Float64()*100
			total := 0.0
			reset := cmd == "incr" && inst == 3
			add("rw_eq_commands_total", []tsdb.Label{instance, {Name: "cmd", Value: cmd}}, func(i int) float64 {
				if reset && i == 400 {
					total = 0 // a restart
				}
				total += math.Round(perSec * 30 * (0.5 + rnd.Float64()))
				return total
			})
		}
		base, slope := 1e8*(1+rnd.Float64()), rnd.Float64()*2e4-5e3
		add("rw_eq_memory_used_bytes", []tsdb.Label{instance}, func(i int) float64 {
			return math.Round(base + slope*float64(i)*30 + 1e6*math.Sin(float64(i)/20) + 1e5*rnd.Float64())
		})
		for _, role := range []string{"normal", "replica"} {
			add("rw_eq_clients", []tsdb.Label{instance, {Name: "role", Value: role}}, func(i int) float64 {
				return math.Round((10+rnd.Float64()*50)*1000) / 1000 // no ties: topk's pick is then defined
			})
		}
		// A histogram: cumulative buckets, each observation in the buckets from its own up.
		les := []string{"0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "+Inf"}
		counts := make([]float64, len(les))
		for i := range steps {
			for range 50 {
				obs := rnd.ExpFloat64() * 0.02 * float64(inst+1)
				for b, le := range les {
					if v, _ := strconv.ParseFloat(le, 64); obs <= v || le == "+Inf" {
						counts[b]++
					}
				}
			}
			for b, le := range les {
				out = append(out, tsdb.Sample{Name: "rw_eq_latency_seconds_bucket", Labels: []tsdb.Label{instance, {Name: "le", Value: le}},
					Timestamp: start.Add(time.Duration(i) * 30 * time.Second).UnixMilli(), Value: counts[b]})
			}
		}
	}
	return out
}

// remoteWrite posts samples to a remote-write endpoint in batches.
func remoteWrite(t testing.TB, url string, samples []tsdb.Sample) {
	t.Helper()
	for batch := range slices.Chunk(samples, 20_000) {
		resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(wire.EncodeRemoteWrite(batch)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("remote write to %s: HTTP %d", url, resp.StatusCode)
		}
	}
}

// TestLocalEqualsVictoriaMetrics writes the same samples into a tsdb.DB and into a
// victoria-metrics single-node of this module's version, then asks both the same MetricsQL
// (range and instant queries, label names and values, series): Local and Remote(VM) give the
// same series with the same labels and the same values (to a relative 1e-9).
func TestLocalEqualsVictoriaMetrics(t *testing.T) {
	vm := vmtest.Start(t)
	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	start := time.Now().Add(-8 * time.Hour).Truncate(time.Hour)
	end := start.Add(6 * time.Hour)
	samples := eqSamples(start)
	if err := db.Write(samples); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	remoteWrite(t, vm.WriteURL(), samples)
	vm.Flush()

	local := NewLocal(db)
	remote, err := NewRemote(RemoteOptions{URL: vm.PromURL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	from, to := start.Add(time.Hour), end.Add(10*time.Minute) // past the last sample: staleness too

	ranged := []struct {
		expr   string
		series int // how many series the answer has (so that no shape passes empty)
	}{
		{`rate(rw_eq_commands_total[5m])`, 100},
		{`increase(rw_eq_commands_total[1h])`, 100},
		{`sum by (instance) (rate(rw_eq_commands_total[5m]))`, 10},
		{`predict_linear(rw_eq_memory_used_bytes[30m], 3600)`, 10},
		{`deriv(rw_eq_memory_used_bytes[15m])`, 10},
		{`histogram_quantile(0.9, sum by (instance, le) (rate(rw_eq_latency_seconds_bucket[5m])))`, 10},
		{`topk(3, rate(rw_eq_commands_total[5m]))`, -1},
		{`quantile_over_time(0.95, rw_eq_memory_used_bytes[30m])`, 10},
		{`avg_over_time(rw_eq_clients[10m])`, 20},
		{`rw_eq_clients`, 20},
		{`rw_eq_memory_used_bytes / on (instance) group_left sum by (instance) (rw_eq_clients)`, 10},
		{`sum(rate(rw_eq_commands_total{cmd=~"get|set"}[5m])) by (cmd) > 300`, -1},
		{`rate(rw_eq_commands_total{instance="i3"})`, 10},                                      // MetricsQL: the window is the step
		{`WITH (c = rw_eq_commands_total{cmd="incr"}) increase(c[30m]) keep_metric_names`, 10}, // MetricsQL
		{`count_over_time(rw_eq_latency_seconds_bucket{le="+Inf"}[17m])`, 10},
	}
	for _, step := range []time.Duration{time.Minute, 5*time.Minute + 7*time.Second} {
		for _, q := range ranged {
			want, err := local.QueryRangeExpr(ctx, q.expr, from, to, step)
			if err != nil {
				t.Fatalf("local %s: %v", q.expr, err)
			}
			got, err := remote.QueryRangeExpr(ctx, q.expr, from, to, step)
			if err != nil {
				t.Fatalf("VictoriaMetrics %s: %v", q.expr, err)
			}
			if q.series >= 0 && len(want) != q.series || len(want) == 0 {
				t.Errorf("step %s, %s: local gave %d series, want %d", step, q.expr, len(want), q.series)
			}
			sameSeries(t, fmt.Sprintf("step %s, %s", step, q.expr), got, want)
		}
	}

	instant := []string{
		`sum(rate(rw_eq_commands_total[5m])) by (cmd)`,
		`rw_eq_memory_used_bytes`,
		`histogram_quantile(0.5, sum by (le) (increase(rw_eq_latency_seconds_bucket[1h])))`,
		`topk(2, max_over_time(rw_eq_clients[1h]))`,
		`predict_linear(rw_eq_memory_used_bytes[1h], 4*3600) > 1e8`,
		`count(rw_eq_clients)`,
		`1 + 1`,
	}
	for _, at := range []time.Time{end.Add(-90 * time.Minute), end.Add(-time.Second)} {
		for _, expr := range instant {
			want, err := local.Query(ctx, expr, at)
			if err != nil {
				t.Fatalf("local %s: %v", expr, err)
			}
			got, err := remote.Query(ctx, expr, at)
			if err != nil {
				t.Fatalf("VictoriaMetrics %s: %v", expr, err)
			}
			if len(want) == 0 {
				t.Errorf("instant %s at %s: local gave nothing", expr, at)
			}
			sameSeries(t, fmt.Sprintf("instant %s at %s", expr, at.Format(time.TimeOnly)), got, want)
		}
	}

	lists := []struct {
		what string
		ask  func(e Engine) (any, error)
	}{
		{"labels", func(e Engine) (any, error) { return e.LabelNames(ctx, nil, start, end) }},
		{"labels of a match", func(e Engine) (any, error) {
			return e.LabelNames(ctx, []string{`rw_eq_latency_seconds_bucket`}, start, end)
		}},
		{"metric names", func(e Engine) (any, error) { return e.LabelValues(ctx, "__name__", nil, start, end) }},
		{"label values", func(e Engine) (any, error) {
			return e.LabelValues(ctx, "le", []string{`rw_eq_latency_seconds_bucket{instance="i1"}`}, start, end)
		}},
		{"label values of two matches", func(e Engine) (any, error) {
			return e.LabelValues(ctx, "role", []string{`rw_eq_clients{instance=~"i[12]"}`, `rw_eq_memory_used_bytes`}, start, end)
		}},
		{"series", func(e Engine) (any, error) {
			return e.Series(ctx, []string{`rw_eq_latency_seconds_bucket{instance="i1"}`, `{__name__=~"rw_eq_cl.*", role="replica"}`}, start, end)
		}},
	}
	for _, l := range lists {
		want, err := l.ask(local)
		if err != nil {
			t.Fatalf("local %s: %v", l.what, err)
		}
		got, err := l.ask(remote)
		if err != nil {
			t.Fatalf("VictoriaMetrics %s: %v", l.what, err)
		}
		if reflect.ValueOf(want).Len() == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: VictoriaMetrics %v, local %v", l.what, got, want)
		}
	}
}

// sameSeries fails unless got and want hold the same series (name and labels exactly, in any
// order) with points at the same times and values within a relative 1e-9.
func sameSeries(t *testing.T, what string, got, want []tsdb.Series) {
	t.Helper()
	got, want = slices.Clone(got), slices.Clone(want)
	slices.SortFunc(got, compareSeries)
	slices.SortFunc(want, compareSeries)
	if len(got) != len(want) {
		t.Errorf("%s: VictoriaMetrics gave %d series, local %d", what, len(got), len(want))
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if compareSeries(g, w) != 0 {
			t.Errorf("%s: series %d: VictoriaMetrics %s%v, local %s%v", what, i, g.Name, g.Labels, w.Name, w.Labels)
			return
		}
		if len(g.Points) != len(w.Points) {
			t.Errorf("%s: %s%v: VictoriaMetrics %d points, local %d", what, w.Name, w.Labels, len(g.Points), len(w.Points))
			return
		}
		for j := range w.Points {
			gp, wp := g.Points[j], w.Points[j]
			if gp.Timestamp != wp.Timestamp || !near(gp.Value, wp.Value) {
				t.Errorf("%s: %s%v point %d: VictoriaMetrics %v, local %v", what, w.Name, w.Labels, j, gp, wp)
				return
			}
		}
	}
}

func near(a, b float64) bool {
	if a == b || math.IsNaN(a) && math.IsNaN(b) {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
