package alert

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

func TestPendingThenFiringAfterFor(t *testing.T) {
	ev := newEnv(t, gaugeRule("QueueBacklog", "redis_key_length", ">", 100, time.Minute))
	start := ev.now
	for i := range 6 { // 0s .. 50s: pending
		ev.write("redis_key_length", 500, "key", "q")
		ev.eval()
		a := ev.alerts(1)[0]
		if a.State != StatePending || !a.ActiveAt.Equal(start) || !a.FiredAt.IsZero() {
			t.Fatalf("round %d: got %s active %s fired %s, want pending since %s", i, a.State, a.ActiveAt, a.FiredAt, start)
		}
		if n := ev.rec.count("", StateFiring); n != 0 {
			t.Fatalf("round %d: the Notifier got %d firing alerts while pending", i, n)
		}
		if len(ev.rec.last(t)) != 0 {
			t.Fatalf("round %d: pending alerts were passed to the Notifier", i)
		}
		ev.advance(10 * time.Second)
	}
	ev.write("redis_key_length", 500, "key", "q") // 60s: held for `for`
	ev.eval()
	a := ev.alerts(1)[0]
	if a.State != StateFiring || !a.FiredAt.Equal(ev.now) || !a.ActiveAt.Equal(start) {
		t.Fatalf("got %s fired %s active %s, want firing at %s, active since %s", a.State, a.FiredAt, a.ActiveAt, ev.now, start)
	}
	got := ev.rec.last(t)
	if len(got) != 1 || got[0].State != StateFiring || got[0].Labels["key"] != "q" || got[0].Value != 500 {
		t.Fatalf("Notifier got %+v, want the firing alert", got)
	}
	h := ev.e.History()
	if len(h) != 2 || h[0].From != StatePending || h[0].To != StateFiring || h[1].From != StateInactive || h[1].To != StatePending {
		t.Fatalf("history %+v, want inactive->pending then pending->firing, newest first", h)
	}
	if st := ev.status("QueueBacklog"); st.State != "firing" || st.Active != 1 || st.Error != "" || !st.LastEval.Equal(ev.now) {
		t.Fatalf("rule status %+v", st)
	}
}

func TestForZeroFiresAtOnce(t *testing.T) {
	ev := newEnv(t, gaugeRule("Down", "redis_up", "<", 1, 0))
	ev.write("redis_up", 0, "instance", "a")
	ev.eval()
	a := ev.alerts(1)[0]
	if a.State != StateFiring || !a.FiredAt.Equal(ev.now) || !a.ActiveAt.Equal(ev.now) {
		t.Fatalf("got %+v, want firing now", a)
	}
	if ev.rec.count("Down", StateFiring) != 1 {
		t.Fatalf("the Notifier did not get the alert firing")
	}
	h := ev.e.History()
	if len(h) != 1 || h[0].From != StateInactive || h[0].To != StateFiring {
		t.Fatalf("history %+v, want one inactive->firing", h)
	}
}

func TestPendingBackToInactiveSilently(t *testing.T) {
	ev := newEnv(t, gaugeRule("High", "host_cpu_usage_percent", ">", 80, time.Minute))
	ev.write("host_cpu_usage_percent", 90, "host", "h")
	ev.eval()
	ev.alerts(1)
	ev.advance(10 * time.Second)
	ev.write("host_cpu_usage_percent", 50, "host", "h")
	ev.eval()
	ev.alerts(0)
	// Holding again later starts a new pending period from scratch.
	for range 3 {
		ev.advance(20 * time.Second)
		ev.write("host_cpu_usage_percent", 90, "host", "h")
		ev.eval()
	}
	a := ev.alerts(1)[0]
	if want := ev.now.Add(-40 * time.Second); a.State != StatePending || !a.ActiveAt.Equal(want) {
		t.Fatalf("got %s active %s, want pending since %s", a.State, a.ActiveAt, want)
	}
	if n := ev.rec.count("", StateFiring) + ev.rec.count("", StateResolved) + ev.rec.count("", StatePending); n != 0 {
		t.Fatalf("the Notifier got %d alerts, want none", n)
	}
	h := ev.e.History()
	if len(h) != 3 || h[1].From != StatePending || h[1].To != StateInactive || h[1].Value != 50 {
		t.Fatalf("history %+v, want pending->inactive at 50 in the middle", h)
	}
}

func TestResolvedWhenConditionStops(t *testing.T) {
	ev := newEnv(t, gaugeRule("High", "host_cpu_usage_percent", ">", 80, 0))
	ev.write("host_cpu_usage_percent", 90, "host", "h")
	ev.eval()
	fired := ev.alerts(1)[0]
	ev.advance(10 * time.Second)
	ev.write("host_cpu_usage_percent", 40, "host", "h")
	ev.eval()
	ev.alerts(0)
	ev.advance(10 * time.Second)
	ev.write("host_cpu_usage_percent", 40, "host", "h")
	ev.eval()
	if f, r := ev.rec.count("High", StateFiring), ev.rec.count("High", StateResolved); f != 1 || r != 1 {
		t.Fatalf("Notifier saw firing %d times and resolved %d times, want once each", f, r)
	}
	res := ev.rec.updates[1].alerts[0]
	if res.State != StateResolved || !res.ResolvedAt.Equal(ev.now.Add(-10*time.Second)) || !res.FiredAt.Equal(fired.FiredAt) ||
		res.Value != 40 || res.Fingerprint != fired.Fingerprint {
		t.Fatalf("resolved alert %+v", res)
	}
	if ev.rec.rounds() != 3 || len(ev.rec.last(t)) != 0 {
		t.Fatalf("want 3 Updates, the last empty; got %d", ev.rec.rounds())
	}
}

func TestClearThresholdSuppressesFlapping(t *testing.T) {
	r := gaugeRule("CPU", "host_cpu_usage_percent", ">", 80, 0)
	r.ClearThreshold = ptr(70)
	ev := newEnv(t, r)
	for _, v := range []float64{81, 79, 81, 79, 75, 70.5} {
		ev.write("host_cpu_usage_percent", v, "host", "h")
		ev.eval()
		if a := ev.alerts(1)[0]; a.State != StateFiring || a.Value != v {
			t.Fatalf("at %v: got %s %v, want firing", v, a.State, a.Value)
		}
		ev.advance(10 * time.Second)
	}
	ev.write("host_cpu_usage_percent", 70, "host", "h") // NOT (70 > 70): resolves
	ev.eval()
	ev.alerts(0)
	h := ev.e.History()
	if len(h) != 2 || h[1].To != StateFiring || h[0].To != StateResolved || h[0].Value != 70 {
		t.Fatalf("history %+v, want fired once and resolved once at 70", h)
	}
	if r := ev.rec.count("CPU", StateResolved); r != 1 {
		t.Fatalf("resolved notified %d times, want 1", r)
	}
	// Below the threshold but above the clear threshold does not start a new alert.
	ev.advance(10 * time.Second)
	ev.write("host_cpu_usage_percent", 79, "host", "h")
	ev.eval()
	ev.alerts(0)
}

func TestSeriesDisappearingResolves(t *testing.T) {
	ev := newEnv(t, gaugeRule("Missing", "redis_key_exists", "==", 0, 0), gaugeRule("Pend", "redis_key_exists", "==", 0, time.Hour))
	ev.advance(time.Minute) // past the start-up grace
	ev.write("redis_key_exists", 0, "key", "k")
	ev.eval()
	if as := ev.alerts(2); as[0].State != StateFiring || as[1].State != StatePending {
		t.Fatalf("got %+v", as)
	}
	// Not written any more: still there while the last sample is younger than max(window 1m, 30s).
	ev.advance(50 * time.Second)
	ev.eval()
	ev.alerts(2)
	ev.advance(10 * time.Second)
	ev.eval()
	ev.alerts(0)
	if ev.rec.count("Missing", StateResolved) != 1 {
		t.Fatal("the firing alert of a gone series was not resolved")
	}
	if ev.rec.count("Pend", StateResolved) != 0 {
		t.Fatal("a pending alert of a gone series was notified")
	}
}

func TestStartupGraceKeepsAlertsOfLateSeries(t *testing.T) {
	ev := newEnv(t, gaugeRule("Down", "redis_up", "<", 1, 0))
	ev.write("redis_up", 0, "instance", "a")
	ev.eval()
	ev.alerts(1)
	// redwatch is down for 5 minutes; on restart the latest sample is stale.
	ev.advance(5 * time.Minute)
	ev.restart(gaugeRule("Down", "redis_up", "<", 1, 0))
	ev.eval()
	if a := ev.alerts(1)[0]; a.State != StateFiring {
		t.Fatalf("got %s, want still firing during the grace period", a.State)
	}
	ev.advance(10 * time.Second)
	ev.write("redis_up", 0, "instance", "a") // the sampler is back
	ev.eval()
	ev.advance(time.Minute)
	ev.write("redis_up", 0, "instance", "a")
	ev.eval()
	ev.alerts(1)
	if n := ev.rec.count("", StateResolved); n != 0 {
		t.Fatalf("resolved %d alerts across a restart", n)
	}
}

func TestOneRuleThreeSeriesThreeInstances(t *testing.T) {
	r := gaugeRule("Backlog", "redis_key_length", ">", 10, 0)
	r.Labels = map[string]string{"team": "ops", "instance": "overridden"}
	ev := newEnv(t, r)
	for _, k := range []string{"a", "b", "c"} {
		ev.write("redis_key_length", 100, "instance", "cache", "key", k, "db", "0")
	}
	ev.write("redis_key_length", 1, "instance", "cache", "key", "d", "db", "0") // below
	ev.eval()
	as := ev.alerts(3)
	fps := map[string]bool{}
	for _, a := range as {
		k := a.Labels["key"]
		want := map[string]string{"alertname": "Backlog", "severity": "warning", "team": "ops", "instance": "overridden", "key": k, "db": "0"}
		if fmt.Sprint(a.Labels) != fmt.Sprint(want) || (k != "a" && k != "b" && k != "c") {
			t.Errorf("alert labels %v, want %v", a.Labels, want)
		}
		if len(a.Fingerprint) != 16 || a.Fingerprint != fingerprintString(fingerprintOf(a.Labels)) {
			t.Errorf("alert %s fingerprint %q", k, a.Fingerprint)
		}
		fps[a.Fingerprint] = true
	}
	if len(fps) != 3 {
		t.Fatalf("fingerprints not distinct: %v", fps)
	}
	if st := ev.status("Backlog"); st.Active != 3 {
		t.Fatalf("rule status active %d", st.Active)
	}
}

func TestCollidingSeriesReported(t *testing.T) {
	ev := newEnv(t, gaugeRule("Any", `{__name__=~"m1|m2",host="h"}`, ">", 0, 0))
	ev.write("m1", 1, "host", "h")
	ev.write("m2", 2, "host", "h")
	ev.eval()
	ev.alerts(1)
	if st := ev.status("Any"); !strings.Contains(st.Error, "same labels") {
		t.Fatalf("rule error %q, want the collision reported", st.Error)
	}
}

func TestRestartKeepsFiringAndPending(t *testing.T) {
	rules := []config.Rule{
		gaugeRule("Down", "redis_up", "<", 1, 0),
		gaugeRule("Slow", "redis_ping_latency_seconds", ">", 0.5, 5*time.Minute),
		gaugeRule("Gone", "redis_blocked_clients", ">", 0, 0),
	}
	ev := newEnv(t, rules...)
	ev.write("redis_up", 0, "instance", "a")
	ev.write("redis_ping_latency_seconds", 1, "instance", "a")
	ev.write("redis_blocked_clients", 3, "instance", "a")
	ev.eval()
	pendingSince := ev.now
	ev.advance(2 * time.Minute)
	ev.write("redis_up", 0, "instance", "a")
	ev.write("redis_ping_latency_seconds", 1, "instance", "a")
	ev.write("redis_blocked_clients", 3, "instance", "a")
	ev.eval()
	before := ev.alerts(3)
	history := ev.e.History()

	// Restart without the rule "Gone".
	ev.advance(10 * time.Second)
	ev.restart(rules[:2]...)
	if got := ev.e.History(); len(got) != len(history)+1 || got[0].Rule != "Gone" || got[0].To != StateResolved {
		t.Fatalf("history after restart %+v", got)
	}
	ev.write("redis_up", 0, "instance", "a")
	ev.write("redis_ping_latency_seconds", 1, "instance", "a")
	ev.eval()
	first := ev.rec.updates[0].alerts
	if len(first) != 2 {
		t.Fatalf("first Update after restart %+v, want Down firing and Gone resolved", first)
	}
	for _, a := range first {
		switch a.Rule {
		case "Down":
			if a.State != StateFiring || !a.FiredAt.Equal(before[0].FiredAt) || !a.ActiveAt.Equal(before[0].ActiveAt) {
				t.Errorf("Down after restart %+v, want firing since %s", a, before[0].FiredAt)
			}
		case "Gone":
			if a.State != StateResolved {
				t.Errorf("Gone after restart %+v, want resolved", a)
			}
		default:
			t.Errorf("unexpected %+v", a)
		}
	}
	var slow Alert
	for _, a := range ev.alerts(2) {
		if a.Rule == "Slow" {
			slow = a
		}
	}
	if slow.State != StatePending || !slow.ActiveAt.Equal(pendingSince) {
		t.Fatalf("Slow after restart %+v, want pending since %s", slow, pendingSince)
	}
	// It fires 5 minutes after it first held, not 5 minutes after the restart.
	ev.now = pendingSince.Add(5 * time.Minute)
	ev.write("redis_up", 0, "instance", "a")
	ev.write("redis_ping_latency_seconds", 1, "instance", "a")
	ev.eval()
	if as := ev.alerts(2); as[0].State != StateFiring || as[1].State != StateFiring {
		t.Fatalf("got %+v, want both firing", as)
	}
	if ev.rec.count("Gone", StateResolved) != 1 {
		t.Fatal("Gone resolved more than once")
	}
}

func TestCorruptStateMovedAside(t *testing.T) {
	ev := newEnv(t)
	p := filepath.Join(ev.dir, StateFile)
	if err := os.WriteFile(p, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	ev.restart()
	if _, err := os.Stat(p + ".bad"); err != nil {
		t.Fatalf("corrupt state not moved aside: %v", err)
	}
}

func TestAlertsSeriesWritten(t *testing.T) {
	crit := gaugeRule("Down", "redis_up", "<", 1, 0)
	crit.Severity = "critical"
	ev := newEnv(t, crit, gaugeRule("Slow", "redis_ping_latency_seconds", ">", 0.5, time.Hour))
	ev.write("redis_up", 0, "instance", "a")
	ev.write("redis_up", 0, "instance", "b")
	ev.write("redis_ping_latency_seconds", 1, "instance", "a")
	ev.eval()
	sel := func(s string) *tsdb.Selector {
		t.Helper()
		x, err := tsdb.ParseSelector(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	got := map[string]string{}
	for _, lv := range ev.db.Latest(sel("ALERTS")) {
		if lv.Value != 1 || lv.Timestamp != ev.now.UnixMilli() {
			t.Errorf("ALERTS %v = %v at %d", lv.Labels, lv.Value, lv.Timestamp)
		}
		got[lv.Label("alertname")+"/"+lv.Label("instance")] = fmt.Sprintf("%s %s", lv.Label("alertstate"), lv.Label("severity"))
	}
	want := map[string]string{"Down/a": "firing critical", "Down/b": "firing critical", "Slow/a": "pending warning"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ALERTS %v, want %v", got, want)
	}
	counts := map[string]float64{}
	for _, lv := range ev.db.Latest(sel("redwatch_alerts_firing")) {
		if lv.Timestamp != ev.now.UnixMilli() {
			t.Errorf("redwatch_alerts_firing stamped %d", lv.Timestamp)
		}
		counts[lv.Label("severity")] = lv.Value
	}
	if fmt.Sprint(counts) != "map[critical:2 info:0 warning:0]" {
		t.Fatalf("redwatch_alerts_firing %v", counts)
	}
}

func TestWindowAggregates(t *testing.T) {
	type tc struct {
		agg    string
		window time.Duration
		want   float64
	}
	// One sample every 10 s for 10 minutes, ending at now: 0, 1, 2, ... 60 (a counter), with a
	// reset to 0 at 30 s before now (..., 56, 57, 0, 1, 2, 3).
	f := func(t *testing.T, cases []tc) {
		t.Helper()
		var rules []config.Rule
		for i, c := range cases {
			rules = append(rules, config.Rule{
				Name: fmt.Sprintf("r%d_%s", i, c.agg), Series: `c{job="x"}`, Aggregate: c.agg, Window: dur(c.window),
				Op: ">", Threshold: -1e9, Severity: "info",
			})
		}
		ev := newEnv(t, rules...)
		end := ev.now.Add(10 * time.Minute)
		for i := 0; i <= 60; i++ {
			v := float64(i)
			if i > 57 {
				v = float64(i - 57) // 1, 2, 3 after the reset
			}
			if i == 57 {
				v = 0
			}
			ev.writeAt(end.Add(-time.Duration(60-i)*10*time.Second), "c", v, "job", "x")
		}
		ev.now = end
		ev.eval()
		byRule := map[string]float64{}
		for _, a := range ev.alerts(len(cases)) {
			byRule[a.Rule] = a.Value
		}
		for i, c := range cases {
			name := fmt.Sprintf("r%d_%s", i, c.agg)
			if got := byRule[name]; math.Abs(got-c.want) > 1e-9 {
				t.Errorf("%s over %s = %v, want %v", c.agg, c.window, got, c.want)
			}
		}
	}
	f(t, []tc{
		{"last", time.Minute, 3},
		// (now-1m, now]: samples 55..60 = 55, 56, 0, 1, 2, 3
		{"avg", time.Minute, (55 + 56 + 0 + 1 + 2 + 3) / 6.0},
		{"min", time.Minute, 0},
		{"max", time.Minute, 56},
		// baseline 54 at now-1m: +1 +1, reset counts 0, +1 +1 +1 = 5 over 60 s
		{"rate", time.Minute, 5.0 / 60},
		// A window of 5 minutes and more (QueryRange would read 5-minute rollups): samples
		// 31..60 = 31..56, 0, 1, 2, 3.
		{"avg", 5 * time.Minute, (float64((31+56)*26/2) + 0 + 1 + 2 + 3) / 30},
		{"max", 10 * time.Minute, 56},
		{"min", 5 * time.Minute, 0},
		// baseline 30 at now-5m: 26 to 56, then 0..3 counted as 3: 29 over 300 s
		{"rate", 5 * time.Minute, 29.0 / 300},
	})
}

func TestRateOfYoungAndSlowSeries(t *testing.T) {
	ev := newEnv(t, config.Rule{Name: "R", Series: "c", Aggregate: "rate", Window: dur(time.Minute), Op: ">", Threshold: -1, Severity: "info"})
	ev.writeAt(ev.now.Add(-20*time.Second), "c", 10)
	ev.eval()
	ev.alerts(0) // one sample: no rate
	ev.write("c", 30)
	ev.eval()
	if a := ev.alerts(1)[0]; a.Value != 1 { // 20 over 20 s, from the first sample
		t.Fatalf("rate of a young series %v, want 1", a.Value)
	}
	// A slow sampler: the window (now-10s, now] holds no sample, the newest one is younger
	// than 3 intervals: the rate is over the last two samples.
	ev = newEnv(t, config.Rule{Name: "R", Series: "c", Aggregate: "rate", Window: dur(10 * time.Second), Op: ">", Threshold: -1, Severity: "info"})
	ev.writeAt(ev.now.Add(-35*time.Second), "c", 105)
	ev.writeAt(ev.now.Add(-20*time.Second), "c", 120)
	ev.eval()
	if a := ev.alerts(1)[0]; a.Value != 1 {
		t.Fatalf("rate over the last two samples %v, want 1", a.Value)
	}
}

func TestEmptyWindowCarriesLastValueForward(t *testing.T) {
	ev := newEnv(t, config.Rule{Name: "A", Series: "g", Aggregate: "max", Window: dur(10 * time.Second), Op: ">", Threshold: 0, Severity: "info"})
	ev.advance(time.Minute) // past the start-up grace
	ev.writeAt(ev.now.Add(-25*time.Second), "g", 4)
	ev.eval()
	if a := ev.alerts(1)[0]; a.Value != 4 {
		t.Fatalf("got %v, want 4 carried forward (younger than 3 intervals)", a.Value)
	}
	ev.advance(10 * time.Second) // now 35 s old: gone
	ev.eval()
	ev.alerts(0)
}

func TestNonFiniteValuesIgnored(t *testing.T) {
	ev := newEnv(t, gaugeRule("G", "g", ">", 0, 0), config.Rule{Name: "A", Series: "g", Aggregate: "avg", Window: dur(time.Minute), Op: ">", Threshold: 0, Severity: "info"})
	ev.writeAt(ev.now.Add(-10*time.Second), "g", 5, "s", "a")
	ev.write("g", math.Inf(1), "s", "a")
	ev.write("g", math.NaN(), "s", "b")
	ev.eval()
	as := ev.alerts(1)
	if as[0].Rule != "A" || as[0].Value != 5 {
		t.Fatalf("got %+v, want only the average of the finite sample", as)
	}
	if _, err := os.Stat(filepath.Join(ev.dir, StateFile)); err != nil {
		t.Fatalf("state not saved: %v", err)
	}
}

func TestSetRules(t *testing.T) {
	keep := gaugeRule("Keep", "redis_up", "<", 1, 0)
	drop := gaugeRule("Drop", "redis_blocked_clients", ">", 0, 0)
	move := gaugeRule("Move", "redis_connected_clients", ">", 10, 0)
	ev := newEnv(t, keep, drop, move)
	ev.write("redis_up", 0, "instance", "a")
	ev.write("redis_blocked_clients", 3, "instance", "a")
	ev.write("redis_connected_clients", 20, "instance", "a")
	ev.eval()
	before := ev.alerts(3)

	if err := ev.e.SetRules([]config.Rule{keep, {Name: "Bad", Series: "x{"}}); err == nil || !strings.Contains(err.Error(), `"Bad"`) {
		t.Fatalf("SetRules with a bad rule: %v, want an error naming it", err)
	}
	ev.alerts(3)

	ev.advance(10 * time.Second)
	moved := move
	moved.Threshold = 50 // the value 20 no longer meets it
	added := gaugeRule("Added", "redis_up", "<", 1, time.Hour)
	if err := ev.e.SetRules([]config.Rule{keep, moved, added}); err != nil {
		t.Fatal(err)
	}
	if st := ev.e.Rules(); len(st) != 3 || st[0].Name != "Keep" || st[1].Name != "Move" || st[2].Name != "Added" {
		t.Fatalf("rules %+v", st)
	}
	ev.write("redis_up", 0, "instance", "a")
	ev.write("redis_connected_clients", 20, "instance", "a")
	ev.eval()
	var keptFiredAt time.Time
	for _, a := range ev.alerts(2) {
		switch a.Rule {
		case "Keep":
			keptFiredAt = a.FiredAt
		case "Added":
			if a.State != StatePending {
				t.Errorf("Added %+v", a)
			}
		default:
			t.Errorf("unexpected %+v", a)
		}
	}
	if !keptFiredAt.Equal(before[0].FiredAt) {
		t.Fatalf("Keep fired at %s, want unchanged %s", keptFiredAt, before[0].FiredAt)
	}
	got := map[string]State{}
	for _, a := range ev.rec.last(t) {
		got[a.Rule] = a.State
	}
	if fmt.Sprint(got) != "map[Drop:resolved Keep:firing Move:resolved]" {
		t.Fatalf("Update after SetRules %v", got)
	}
	ev.advance(10 * time.Second)
	ev.eval()
	if ev.rec.count("Drop", StateResolved) != 1 || ev.rec.count("Move", StateResolved) != 1 {
		t.Fatal("a removed or changed rule's alert was resolved more than once")
	}
}

func TestHostileLabelValues(t *testing.T) {
	r := gaugeRule("Hostile", "redis_key_length", ">", 0, 0)
	r.Summary = `{{ .Labels.key }} has {{ .Value }} items`
	ev := newEnv(t, r)
	keys := []string{"<script>alert(1)</script>", "line1\nline2\r\t\"quoted\"", "ünïcødé \x00 nul"}
	for _, k := range keys {
		ev.write("redis_key_length", 7, "key", k)
	}
	ev.eval()
	check := func() {
		t.Helper()
		got := map[string]string{}
		for _, a := range ev.alerts(len(keys)) {
			got[a.Labels["key"]] = a.Summary
		}
		for _, k := range keys {
			if s, ok := got[k]; !ok || s != k+" has 7 items" {
				t.Errorf("key %q: summary %q (present %v)", k, s, ok)
			}
		}
	}
	check()
	ev.restart(r) // through state.json and back
	check()
}

func TestSummaryTemplateError(t *testing.T) {
	r := gaugeRule("Tmpl", "g", ">", 1, 0)
	r.Summary = `value {{ .Nope }}`
	ev := newEnv(t, r)
	ev.write("g", 5, "s", "x")
	ev.eval()
	a := ev.alerts(1)[0]
	if a.Summary != "Tmpl: 5 > 1" {
		t.Fatalf("summary %q, want the plain fallback", a.Summary)
	}
	if st := ev.status("Tmpl"); !strings.Contains(st.Error, "cannot render summary") || !strings.Contains(st.Error, "Nope") {
		t.Fatalf("rule error %q", st.Error)
	}
	if got := ev.rec.last(t); len(got) != 1 || got[0].Summary != "Tmpl: 5 > 1" {
		t.Fatalf("Notifier got %+v", got)
	}

	// A summary that renders huge is cut.
	long := gaugeRule("Tmpl", "g", ">", 1, 0)
	long.Summary = `é{{ printf "%099999d" 7 }}`
	if err := ev.e.SetRules([]config.Rule{long}); err != nil {
		t.Fatal(err)
	}
	ev.eval()
	s := ev.alerts(1)[0].Summary
	if len(s) > MaxSummaryBytes+len("…") || !strings.HasPrefix(s, "é000") || !strings.HasSuffix(s, "…") {
		t.Fatalf("summary of %d bytes, want at most %d ending in …", len(s), MaxSummaryBytes+len("…"))
	}
	if st := ev.status("Tmpl"); st.Error != "" {
		t.Fatalf("rule error %q after the template was fixed", st.Error)
	}
}

// failingStore fails Raw while fail is set.
type failingStore struct {
	*tsdb.DB
	fail atomic.Bool
}

func (s *failingStore) Raw(ctx context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error) {
	if s.fail.Load() {
		return nil, errors.New("storage on fire")
	}
	return s.DB.Raw(ctx, sel, start, end)
}

func TestQueryErrorKeepsState(t *testing.T) {
	ev := newEnv(t)
	st := &failingStore{DB: ev.db}
	rec := &recorder{}
	e, err := New(Options{Store: st, Notifier: rec, Now: func() time.Time { return ev.now }},
		[]config.Rule{{Name: "Avg", Series: "g", Aggregate: "avg", Window: dur(time.Minute), Op: ">", Threshold: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ev.write("g", 5)
	ev.db.Flush()
	if err := e.Evaluate(context.Background(), ev.now); err != nil {
		t.Fatal(err)
	}
	st.fail.Store(true)
	ev.advance(2 * time.Minute) // the series would be gone by now
	if err := e.Evaluate(context.Background(), ev.now); err != nil {
		t.Fatal(err)
	}
	as := e.Alerts()
	if len(as) != 1 || as[0].State != StateFiring {
		t.Fatalf("alerts %+v, want the firing alert kept", as)
	}
	if rs := e.Rules()[0]; !strings.Contains(rs.Error, "storage on fire") || rs.State != "firing" {
		t.Fatalf("rule status %+v", rs)
	}
	if rec.count("Avg", StateFiring) != 2 || rec.count("", StateResolved) != 0 {
		t.Fatal("a failed query changed what was notified")
	}
	st.fail.Store(false)
	ev.advance(10 * time.Second)
	ev.write("g", 5)
	ev.db.Flush()
	if err := e.Evaluate(context.Background(), ev.now); err != nil {
		t.Fatal(err)
	}
	if rs := e.Rules()[0]; rs.Error != "" {
		t.Fatalf("error %q not cleared", rs.Error)
	}
}

func TestNewValidatesRules(t *testing.T) {
	db := openDB(t)
	f := func(want string, rules ...config.Rule) {
		t.Helper()
		_, err := New(Options{Store: db}, rules)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New: %v, want an error containing %q", err, want)
		}
	}
	f(`alert rule "A": series`, config.Rule{Name: "A", Series: "x{"})
	f(`alert rule "A": op`, config.Rule{Name: "A", Series: "x", Op: "=>"})
	f(`alert rules[1]: name: required`, config.Rule{Name: "A", Series: "x"}, config.Rule{Series: "x"})
	f(`alert rule "A" (rules[1]): name is also the name of rules[0]`, config.Rule{Name: "A", Series: "x"}, config.Rule{Name: "A", Series: "y"})
	f(`alert rule "C": clear_threshold: must be <= threshold`, config.Rule{Name: "C", Series: "x", Op: ">", Threshold: 80, ClearThreshold: ptr(90)})
	f(`alert rule "C": clear_threshold: must be >= threshold`, config.Rule{Name: "C", Series: "x", Op: "<", Threshold: 80, ClearThreshold: ptr(70)})
	f(`alert rule "C": clear_threshold: applies only`, config.Rule{Name: "C", Series: "x", Op: "==", ClearThreshold: ptr(1)})
	f(`alert rule "T": summary`, config.Rule{Name: "T", Series: "x", Summary: "{{ .Value"})
	if _, err := New(Options{}, nil); err == nil {
		t.Error("New without a Store succeeded")
	}
}

func TestAlertsOrder(t *testing.T) {
	crit := gaugeRule("Crit", "g", ">", 0, 0)
	crit.Severity = "critical"
	info := gaugeRule("Info", "g", ">", 0, 0)
	info.Severity = "info"
	pend := gaugeRule("Pend", "g", ">", 0, time.Hour)
	pend.Severity = "critical"
	ev := newEnv(t, info, pend, crit)
	ev.write("g", 1, "s", "old")
	ev.eval()
	ev.advance(10 * time.Second)
	ev.write("g", 1, "s", "old")
	ev.write("g", 1, "s", "new")
	ev.eval()
	var got []string
	for _, a := range ev.alerts(6) {
		got = append(got, a.Rule+"/"+a.Labels["s"])
	}
	want := "Crit/old Crit/new Info/old Info/new Pend/old Pend/new"
	if strings.Join(got, " ") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
}
