package web

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

const hostileQueue = `<img src=x onerror=alert(1)>`

// alertsEnv is a server with an alert source, notifier health and a log buffer.
type alertsEnv struct {
	*env
	engine *alert.Engine // nil with a fakeAlerts source
	t0     time.Time     // the first evaluation
	log    *testutil.SyncBuffer
}

// queueRules are the rules of the alerts tests: over queue_len{q}, QueueLong (critical, with a
// summary), QueueSlow (for 1h), QueueHuge (never fires) and QueueBadSummary (its summary
// fails) fire above 1; MemoryHigh has a window, a for and a clear_threshold.
func queueRules() []config.Rule {
	d := func(v time.Duration) config.Duration { return config.Duration(v) }
	return []config.Rule{
		{Name: "QueueLong", Series: "queue_len", Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 1,
			Severity: "critical", Summary: `Queue {{ .Labels.q }} holds {{ .Value }} jobs`},
		{Name: "QueueSlow", Series: "queue_len", Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 1,
			For: d(time.Hour), Severity: "warning"},
		{Name: "QueueHuge", Series: "queue_len", Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 1000,
			Severity: "info"},
		{Name: "QueueBadSummary", Series: "queue_len", Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 1,
			Severity: "warning", Summary: `{{ index .Labels 5 }}`},
		{Name: "MemoryHigh", Series: "host_memory_usage_percent", Aggregate: "avg", Window: d(5 * time.Minute), Op: ">",
			Threshold: 85, ClearThreshold: new(80.0), For: d(5 * time.Minute), Severity: "warning"},
	}
}

// alertsStorage is what the engine reads and writes (*tsdb.DB, *latestStore).
type alertsStorage interface {
	alert.Store
	alert.Writer
}

// newQueueEngine builds an engine with queueRules over st and evaluates twice: at t0 (a minute
// ago) queue hostileQueue holds 5, at t0+10s queue b holds 7 too, so the history has an order.
func newQueueEngine(t *testing.T, st alertsStorage) (*alert.Engine, time.Time) {
	t.Helper()
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	engine, err := alert.New(alert.Options{Store: st, Writer: st, StateDir: t.TempDir()}, queueRules())
	if err != nil {
		t.Fatal(err)
	}
	write := func(q string, at time.Time, v float64) {
		t.Helper()
		if err := st.Write([]tsdb.Sample{{Name: "queue_len", Labels: []tsdb.Label{{Name: "q", Value: q}}, Timestamp: at.UnixMilli(), Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	write(hostileQueue, t0.Add(-time.Second), 5)
	if err := engine.Evaluate(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	write("b", t0.Add(9*time.Second), 7)
	write(hostileQueue, t0.Add(9*time.Second), 5)
	if err := engine.Evaluate(context.Background(), t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	return engine, t0
}

// newAlertsEnv is newEnv's server rebuilt with a real alert engine over its real storage (see
// newQueueEngine), notifiers and a log buffer: for tests that write samples for the engine to
// see, such as the browser test.
func newAlertsEnv(t *testing.T, notifiers NotifierHealth) *alertsEnv {
	t.Helper()
	e := newEnv(t)
	engine, t0 := newQueueEngine(t, e.db)
	log := &testutil.SyncBuffer{}
	e.restart(func(o *Options) {
		o.Alerts, o.Notifiers = engine, notifiers
		o.Logger = slog.New(slog.NewJSONHandler(log, nil))
	})
	return &alertsEnv{env: e, engine: engine, t0: t0, log: log}
}

// newEngineAlertsEnv is a server with a real alert engine (see newQueueEngine) on storage in
// memory, and no tsdb: for the silence tests, in which the engine applies the silences made.
func newEngineAlertsEnv(t *testing.T) *alertsEnv {
	t.Helper()
	engine, t0 := newQueueEngine(t, newLatestStore())
	return newAlertsEnvWith(t, engine, nil, t0)
}

// newAlertsEnvWith is a server on no storage with src and notifiers.
func newAlertsEnvWith(t *testing.T, src AlertSource, notifiers NotifierHealth, t0 time.Time) *alertsEnv {
	t.Helper()
	log := &testutil.SyncBuffer{}
	e := newEnvWith(t, envOptions{store: emptyStore{}, mod: func(o *Options) {
		o.Alerts, o.Notifiers = src, notifiers
		o.Logger = slog.New(slog.NewJSONHandler(log, nil))
	}})
	engine, _ := src.(*alert.Engine)
	return &alertsEnv{env: e, engine: engine, t0: t0, log: log}
}

// alertRows returns the alert rows by the value of their q label.
func alertRows(t *testing.T, doc *html.Node) map[string]*html.Node {
	t.Helper()
	out := map[string]*html.Node{}
	for _, r := range find(doc, "alert-row") {
		q := ""
		for _, chip := range find(r, "alert-labels") {
			for d := range chip.Descendants() {
				if d.Type == html.ElementNode && attr(d, "data-label") == "q" {
					q = strings.TrimPrefix(text(d), "q=")
				}
			}
		}
		out[attr(r, "data-rule")+"/"+q] = r
	}
	return out
}

// newFakeAlertsEnv is a server on no storage whose alert source is queueAlerts.
func newFakeAlertsEnv(t *testing.T, notifiers NotifierHealth) *alertsEnv {
	t.Helper()
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	return newAlertsEnvWith(t, queueAlerts(t0), notifiers, t0)
}
