package alert

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

func TestCompileExprRules(t *testing.T) {
	for _, tt := range []struct {
		name string
		rule config.Rule
		want string // "" = accepted
	}{
		{"ratio without op", config.Rule{Name: "r", Expr: "redis_memory_used_bytes / redis_memory_max_bytes > 0.9"}, ""},
		{"rate with op", config.Rule{Name: "r", Expr: "rate(redis_commands_processed_total[5m])", Op: ">", Threshold: 1000, ClearThreshold: ptr(800)}, ""},
		{"predict_linear", config.Rule{Name: "r", Expr: "predict_linear(redis_memory_used_bytes[1h], 4*3600) > redis_memory_max_bytes"}, ""},
		{"does not parse", config.Rule{Name: "r", Expr: "rate(redis_commands_processed_total[5m]"}, `alert rule "r": expr: not a valid MetricsQL expression: `},
		{"unknown function", config.Rule{Name: "r", Expr: "nosuchfunc(up)"}, `alert rule "r": expr: not a valid MetricsQL expression: `},
		{"both", config.Rule{Name: "r", Series: "up", Expr: "up"}, `alert rule "r": expr: give either series`},
		{"aggregate", config.Rule{Name: "r", Expr: "up", Aggregate: "avg"}, `alert rule "r": aggregate: does not apply to an expr rule`},
		{"threshold without op", config.Rule{Name: "r", Expr: "up", Threshold: 2}, `alert rule "r": threshold: needs an op`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRules([]config.Rule{tt.rule})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Fatalf("error %v, want it to start with %q", err, tt.want)
			}
		})
	}
	if err := CheckExpr("sum(rate(x[5m])) by (instance)"); err != nil {
		t.Errorf("CheckExpr: %v", err)
	}
	if err := CheckExpr("sum(("); !errors.Is(err, tsdb.ErrBadQuery) {
		t.Errorf("CheckExpr of a bad expression: %v, want ErrBadQuery", err)
	}
}

// forecastRule is the shipped RedisMemoryFullForecast.
func forecastRule(t *testing.T) config.Rule {
	for _, r := range DefaultRules() {
		if r.Name == "RedisMemoryFullForecast" {
			return r
		}
	}
	t.Fatal("no default rule RedisMemoryFullForecast")
	return config.Rule{}
}

// TestExprForecastFiresAndResolves runs the shipped predict_linear rule over an hour of memory
// samples: a growing instance under a small maxmemory fires after `for`; a flat one and a
// growing one without maxmemory never do; raising maxmemory resolves it.
func TestExprForecastFiresAndResolves(t *testing.T) {
	ev := newEnv(t, forecastRule(t))
	const mb = 1 << 20
	start := ev.now
	used := func(at time.Time) float64 { return 500*mb + at.Sub(start).Seconds()*mb } // +1 MiB/s
	maxGrowing := float64(1 << 30)
	write := func(at time.Time) {
		ev.writeAt(at, "redis_memory_used_bytes", used(at), "instance", "growing")
		ev.writeAt(at, "redis_memory_max_bytes", maxGrowing, "instance", "growing")
		ev.writeAt(at, "redis_memory_used_bytes", 900*mb, "instance", "flat")
		ev.writeAt(at, "redis_memory_max_bytes", 1<<30, "instance", "flat")
		ev.writeAt(at, "redis_memory_used_bytes", used(at), "instance", "nomax")
		ev.writeAt(at, "redis_memory_max_bytes", 0, "instance", "nomax")
	}
	for at := start; at.Before(start.Add(30 * time.Minute)); at = at.Add(30 * time.Second) {
		write(at)
	}
	ev.now = start.Add(30 * time.Minute)
	step := func() {
		write(ev.now)
		ev.eval()
		ev.advance(time.Minute)
	}
	step()
	as := ev.alerts(1)
	a := as[0]
	if a.State != StatePending || a.Labels["instance"] != "growing" || a.Labels["alertname"] != "RedisMemoryFullForecast" {
		t.Fatalf("after the first round: %+v", a)
	}
	// predict_linear of a line 1 MiB/s: used now + 4 h × 1 MiB/s.
	if want := used(ev.now.Add(-time.Minute)) + 4*3600*mb; a.Value < want*0.999 || a.Value > want*1.001 {
		t.Errorf("value %v, want about %v", a.Value, want)
	}
	for range 10 {
		step()
	}
	if a := ev.alerts(1)[0]; a.State != StateFiring {
		t.Fatalf("after `for`: %+v", a)
	}
	if n := ev.rec.count("RedisMemoryFullForecast", StateFiring); n == 0 {
		t.Fatal("the Notifier got no firing alert")
	}
	if !strings.HasPrefix(ev.alerts(1)[0].Summary, "Redis growing memory is forecast to reach maxmemory within 4h") {
		t.Errorf("summary %q", ev.alerts(1)[0].Summary)
	}
	maxGrowing = 100 << 30 // CONFIG SET maxmemory 100gb
	step()
	ev.alerts(0)
	if n := ev.rec.count("RedisMemoryFullForecast", StateResolved); n != 1 {
		t.Fatalf("%d resolved notifications, want 1", n)
	}
	if st := ev.status("RedisMemoryFullForecast"); st.Error != "" || st.Expr == "" || st.Series != "" {
		t.Errorf("status %+v", st)
	}
}

// TestExprThresholdHysteresis: expr + op + threshold + clear_threshold compares each value.
func TestExprThresholdHysteresis(t *testing.T) {
	ev := newEnv(t, config.Rule{Name: "Ratio", Expr: "redis_memory_used_bytes / redis_memory_max_bytes",
		Op: ">", Threshold: 0.9, ClearThreshold: ptr(0.8), Severity: "critical"})
	for _, tt := range []struct {
		used  float64
		state State // "" = no alert
	}{
		{85, ""}, {95, StateFiring}, {85, StateFiring}, {79, ""},
	} {
		ev.write("redis_memory_used_bytes", tt.used, "instance", "a")
		ev.write("redis_memory_max_bytes", 100, "instance", "a")
		ev.eval()
		as := ev.e.Alerts()
		switch {
		case tt.state == "" && len(as) != 0, tt.state != "" && (len(as) != 1 || as[0].State != tt.state):
			t.Fatalf("used %v: alerts %+v, want %q", tt.used, as, tt.state)
		}
		if len(as) == 1 && (as[0].Value != tt.used/100 || as[0].Labels["instance"] != "a" || as[0].Severity != "critical") {
			t.Errorf("used %v: alert %+v", tt.used, as[0])
		}
		ev.advance(10 * time.Second)
	}
	if n := ev.rec.count("Ratio", StateResolved); n != 1 {
		t.Errorf("%d resolved notifications, want 1", n)
	}
}

// failingQuerier is the real tsdb, failing while fail is set.
type failingQuerier struct {
	db   *tsdb.DB
	fail atomic.Bool
}

func (q *failingQuerier) Query(ctx context.Context, expr string, at time.Time) ([]tsdb.Series, error) {
	if q.fail.Load() {
		return nil, &tsdb.LimitError{Bound: "series"}
	}
	return q.db.Query(ctx, expr, at)
}

// TestExprFailingQueryKeepsAlerts: a query that fails shows the rule's error and leaves its
// firing alert firing (no resolved notification); once it works again the error goes.
func TestExprFailingQueryKeepsAlerts(t *testing.T) {
	ev := newEnv(t)
	q := &failingQuerier{db: ev.db}
	rule := config.Rule{Name: "Down", Expr: "redis_up == 0", Severity: "critical"}
	e, err := New(Options{Store: ev.db, Querier: q, Notifier: ev.rec, Interval: 10 * time.Second,
		Now: func() time.Time { return ev.now }}, []config.Rule{rule})
	if err != nil {
		t.Fatal(err)
	}
	ev.e = e
	ev.write("redis_up", 0, "instance", "a")
	ev.write("redis_up", 1, "instance", "b")
	ev.eval()
	if as := ev.alerts(1); as[0].State != StateFiring || as[0].Labels["instance"] != "a" {
		t.Fatalf("alerts %+v", as)
	}
	q.fail.Store(true)
	for range 5 { // well past the startup grace
		ev.advance(10 * time.Second)
		ev.write("redis_up", 0, "instance", "a")
		ev.eval()
	}
	if as := ev.alerts(1); as[0].State != StateFiring {
		t.Fatalf("alerts %+v", as)
	}
	if st := ev.status("Down"); !strings.HasPrefix(st.Error, "cannot evaluate: ") || !strings.Contains(st.Error, "series") {
		t.Errorf("rule error %q", st.Error)
	}
	if n := ev.rec.count("Down", StateResolved); n != 0 {
		t.Fatalf("%d resolved notifications while the query failed", n)
	}
	q.fail.Store(false)
	ev.advance(10 * time.Second)
	ev.write("redis_up", 1, "instance", "a") // back: the series vanishes from the result
	ev.eval()
	ev.alerts(0)
	if st := ev.status("Down"); st.Error != "" {
		t.Errorf("rule error %q after the query works again", st.Error)
	}
	if n := ev.rec.count("Down", StateResolved); n != 1 {
		t.Fatalf("%d resolved notifications, want 1", n)
	}
}

// TestExprWithoutQuerier: an expr rule of an engine without a Querier shows why it is not
// evaluated.
func TestExprWithoutQuerier(t *testing.T) {
	ev := newEnv(t)
	e, err := New(Options{Store: ev.db, Now: func() time.Time { return ev.now }}, []config.Rule{{Name: "X", Expr: "up"}})
	if err != nil {
		t.Fatal(err)
	}
	ev.e = e
	ev.eval()
	if st := ev.status("X"); !strings.Contains(st.Error, "no query engine") {
		t.Errorf("rule error %q", st.Error)
	}
}
