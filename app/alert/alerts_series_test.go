package alert

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// ALERTS of an alert that resolves, or that moves from pending to firing, is gone from the
// latest values (so from /metrics) at the next evaluation, not 5 minutes later; storage keeps
// its history.
func TestAlertsSeriesEndAtNextEvaluation(t *testing.T) {
	ev := newEnv(t, gaugeRule("Down", "redis_up", "<", 1, 0), gaugeRule("Slow", "redis_ping_latency_seconds", ">", 0.5, time.Minute))
	sel, err := tsdb.ParseSelector("ALERTS")
	if err != nil {
		t.Fatal(err)
	}
	alerts := func() []string {
		var out []string
		for _, lv := range ev.db.Latest(sel) {
			out = append(out, fmt.Sprintf("%s/%s %s", lv.Label("alertname"), lv.Label("instance"), lv.Label("alertstate")))
		}
		slices.Sort(out)
		return out
	}
	want := func(round string, w ...string) {
		t.Helper()
		if got := alerts(); !slices.Equal(got, w) {
			t.Fatalf("%s: ALERTS %q, want %q", round, got, w)
		}
	}
	t0 := ev.now
	ev.write("redis_up", 0, "instance", "a")
	ev.write("redis_ping_latency_seconds", 1, "instance", "a")
	ev.eval()
	want("round 1", "Down/a firing", "Slow/a pending")

	ev.advance(90 * time.Second)
	ev.write("redis_up", 1, "instance", "a") // Down resolves
	ev.write("redis_ping_latency_seconds", 1, "instance", "a")
	ev.eval() // Slow: pending -> firing
	want("round 2", "Slow/a firing")

	ev.advance(10 * time.Second)
	ev.write("redis_ping_latency_seconds", 0.1, "instance", "a")
	ev.eval()
	want("round 3")

	ev.advance(10 * time.Second)
	ev.write("redis_ping_latency_seconds", 1, "instance", "a")
	ev.eval()
	want("round 4", "Slow/a pending")

	ev.advance(10 * time.Second)
	ev.write("redis_ping_latency_seconds", 0, "instance", "a")
	ev.eval() // pending -> inactive
	want("round 5")

	// History stays in storage: Down firing for one round, Slow firing for one.
	ev.db.Flush()
	firing, err := tsdb.ParseSelector(`ALERTS{alertstate="firing"}`)
	if err != nil {
		t.Fatal(err)
	}
	series, err := ev.db.Raw(context.Background(), firing, t0.Add(-time.Minute), ev.now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 || len(series[0].Points) != 1 || len(series[1].Points) != 1 {
		t.Fatalf("ALERTS history: %+v", series)
	}
}
