package alert

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

// BenchmarkEvaluate measures one evaluation round of 100 rules over 10,000 series in a real
// tsdb: redis_key_length for 10,000 keys on 10 instances, 10 minutes of samples every 10 s.
// Rules: 40 last over the whole name, 20 avg over 1m and 20 min/max over 5m per instance, 10
// rate over 2m per instance, 10 avg over 1m of a key regexp; about 800 alerts are active.
func BenchmarkEvaluate(b *testing.B) {
	const (
		nSeries   = 10000
		instances = 10
	)
	db := openDB(b)
	now := time.Now().Add(-time.Hour).Truncate(time.Minute)
	labels := make([][]tsdb.Label, nSeries)
	for i := range labels {
		labels[i] = []tsdb.Label{
			{Name: "instance", Value: fmt.Sprintf("i%d", i%instances)},
			{Name: "db", Value: "0"},
			{Name: "key", Value: fmt.Sprintf("k%05d", i)},
			{Name: "type", Value: "list"},
		}
	}
	for step := 60; step >= 0; step-- {
		ts := now.Add(-time.Duration(step) * 10 * time.Second).UnixMilli()
		batch := make([]tsdb.Sample, nSeries)
		for i := range batch {
			// Each key grows by 1 a step (a counter-like length) around its index.
			batch[i] = tsdb.Sample{Name: "redis_key_length", Labels: labels[i], Timestamp: ts, Value: float64(i + 60 - step)}
		}
		if err := db.Write(batch); err != nil {
			b.Fatal(err)
		}
	}
	db.Flush()

	var rules []config.Rule
	add := func(series, agg string, window time.Duration, op string, threshold float64) {
		rules = append(rules, config.Rule{
			Name: fmt.Sprintf("R%03d", len(rules)), Series: series, Aggregate: agg, Window: dur(window),
			Op: op, Threshold: threshold, For: dur(time.Minute), Severity: "warning",
			Summary: `{{ .Labels.instance }} {{ .Labels.key }} has {{ printf "%.0f" .Value }} items`,
		})
	}
	for i := range 40 {
		add("redis_key_length", "last", time.Minute, ">", float64(nSeries+50-i)) // 10..49 alerts each
	}
	for i := range 20 {
		add(fmt.Sprintf(`redis_key_length{instance="i%d"}`, i%instances), "avg", time.Minute, ">", 9500)
	}
	for i := range 20 {
		agg := []string{"min", "max"}[i%2]
		add(fmt.Sprintf(`redis_key_length{instance="i%d"}`, i%instances), agg, 5*time.Minute, "<", 100)
	}
	for i := range 10 {
		add(fmt.Sprintf(`redis_key_length{instance="i%d"}`, i), "rate", 2*time.Minute, ">", 1) // never: 0.1/s
	}
	for i := range 10 {
		add(fmt.Sprintf(`redis_key_length{key=~"k0%d.*"}`, i), "avg", time.Minute, ">", float64(i*1000+990)) // 1000 series each, ~70 over
	}

	e, err := New(Options{Store: db, Writer: db, Notifier: nopNotifier{}, StateDir: b.TempDir(), Interval: 10 * time.Second, Now: func() time.Time { return now }}, rules)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := e.Evaluate(ctx, now); err != nil { // warm up: alerts become pending
		b.Fatal(err)
	}
	t0 := time.Now()
	for b.Loop() {
		if err := e.Evaluate(ctx, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(t0).Milliseconds())/float64(b.N), "ms/round")
	b.ReportMetric(float64(len(e.Alerts())), "alerts")
	for _, st := range e.Rules() {
		if st.Error != "" {
			b.Fatalf("%s: %s", st.Name, st.Error)
		}
	}
}

type nopNotifier struct{}

func (nopNotifier) Update(time.Time, []Alert) {}
