package alert

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

// recorder is a Notifier that keeps every Update.
type recorder struct {
	mu      sync.Mutex
	updates []update
}

type update struct {
	now    time.Time
	alerts []Alert
}

var _ Notifier = (*recorder)(nil)

func (r *recorder) Update(now time.Time, alerts []Alert) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, update{now, slices.Clone(alerts)})
}

// last returns the alerts of the newest Update.
func (r *recorder) last(t *testing.T) []Alert {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.updates) == 0 {
		t.Fatal("the Notifier got no Update")
	}
	return r.updates[len(r.updates)-1].alerts
}

// count is how many alerts with state st and, if rule != "", that rule were passed in all.
func (r *recorder) count(rule string, st State) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, u := range r.updates {
		for _, a := range u.alerts {
			if a.State == st && (rule == "" || a.Rule == rule) {
				n++
			}
		}
	}
	return n
}

func (r *recorder) rounds() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.updates)
}

func openDB(t testing.TB) *tsdb.DB {
	t.Helper()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatalf("cannot open tsdb: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// env is a real tsdb, a state directory, an injected clock and an engine with a recorder.
type env struct {
	t   *testing.T
	db  *tsdb.DB
	dir string
	now time.Time
	rec *recorder
	e   *Engine
}

func newEnv(t *testing.T, rules ...config.Rule) *env {
	t.Helper()
	ev := &env{
		t:   t,
		db:  openDB(t),
		dir: t.TempDir(),
		// An hour ago: inside the retention, and room to move the clock forward.
		now: time.Now().Add(-time.Hour).Truncate(time.Minute),
	}
	ev.restart(rules...)
	return ev
}

// restart builds a new engine (and recorder) on the same storage and state directory.
func (ev *env) restart(rules ...config.Rule) {
	ev.t.Helper()
	ev.rec = &recorder{}
	e, err := New(Options{
		Store:    ev.db,
		Querier:  ev.db,
		Writer:   ev.db,
		Notifier: ev.rec,
		StateDir: ev.dir,
		Interval: 10 * time.Second,
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Now:      func() time.Time { return ev.now },
	}, rules)
	if err != nil {
		ev.t.Fatalf("New: %v", err)
	}
	ev.e = e
}

// write stores name{kv...} = v at the current time.
func (ev *env) write(name string, v float64, kv ...string) {
	ev.t.Helper()
	ev.writeAt(ev.now, name, v, kv...)
}

func (ev *env) writeAt(at time.Time, name string, v float64, kv ...string) {
	ev.t.Helper()
	var ls []tsdb.Label
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, tsdb.Label{Name: kv[i], Value: kv[i+1]})
	}
	if err := ev.db.Write([]tsdb.Sample{{Name: name, Labels: ls, Timestamp: at.UnixMilli(), Value: v}}); err != nil {
		ev.t.Fatalf("write %s: %v", name, err)
	}
}

// eval makes written samples searchable and runs one round at the current time.
func (ev *env) eval() {
	ev.t.Helper()
	ev.db.Flush()
	if err := ev.e.Evaluate(context.Background(), ev.now); err != nil {
		ev.t.Fatalf("Evaluate: %v", err)
	}
}

func (ev *env) advance(d time.Duration) { ev.now = ev.now.Add(d) }

// alerts returns the engine's alerts, failing unless there are n.
func (ev *env) alerts(n int) []Alert {
	ev.t.Helper()
	as := ev.e.Alerts()
	if len(as) != n {
		ev.t.Fatalf("got %d alerts, want %d: %+v", len(as), n, as)
	}
	return as
}

func (ev *env) status(name string) RuleStatus {
	ev.t.Helper()
	for _, st := range ev.e.Rules() {
		if st.Name == name {
			return st
		}
	}
	ev.t.Fatalf("no rule %q", name)
	return RuleStatus{}
}

func dur(d time.Duration) config.Duration { return config.Duration(d) }
func ptr(v float64) *float64              { return &v }

// gaugeRule is "last(series) op threshold for forDur", warning.
func gaugeRule(name, series, op string, threshold float64, forDur time.Duration) config.Rule {
	return config.Rule{Name: name, Series: series, Aggregate: "last", Op: op, Threshold: threshold, For: dur(forDur), Severity: "warning"}
}
