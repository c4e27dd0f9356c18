package notify_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
	"github.com/redwatch/redwatch/internal/testutil"
)

// fake is an in-memory notifier: it records what it receives, can fail or hang.
type fake struct {
	name string

	mu       sync.Mutex
	got      []notify.Notification
	attempts []time.Time
	fail     int  // fail this many next sends
	hang     bool // block until the context is done
}

func (f *fake) Name() string { return f.name }

func (f *fake) Send(ctx context.Context, n notify.Notification) error {
	f.mu.Lock()
	f.attempts = append(f.attempts, time.Now())
	hang := f.hang
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return fmt.Errorf("cannot POST to hang.example: %w", ctx.Err())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New(`POST to fake.example: unexpected status 500 Internal Server Error: "boom"`)
	}
	f.got = append(f.got, n)
	return nil
}

func (f *fake) setFail(n int) {
	f.mu.Lock()
	f.fail = n
	f.mu.Unlock()
}

// take returns and forgets what f received, as "status[+reminder]:fp,fp" strings.
func (f *fake) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, n := range f.got {
		s := n.Status
		if n.Reminder {
			s += "+reminder"
		}
		var fps []string
		for _, a := range n.Alerts {
			fps = append(fps, a.Fingerprint)
		}
		out = append(out, s+":"+strings.Join(fps, ","))
	}
	f.got = nil
	return out
}

// resender is a fake with an Alertmanager-like resend interval.
type resender struct{ fake }

func (r *resender) ResendInterval() time.Duration { return time.Minute }

func firing(fp, severity string, activeAt time.Time) alert.Alert {
	return alert.Alert{
		Rule: "Rule" + fp, Fingerprint: fp, Severity: severity, State: alert.StateFiring,
		Labels:   map[string]string{"alertname": "Rule" + fp, "severity": severity},
		ActiveAt: activeAt, FiredAt: activeAt,
	}
}

func resolved(a alert.Alert, at time.Time) alert.Alert {
	a.State = alert.StateResolved
	a.ResolvedAt = at
	return a
}

// harness runs a Dispatcher inside a synctest bubble.
type harness struct {
	t      *testing.T
	d      *notify.Dispatcher
	logs   *testutil.SyncBuffer
	cancel context.CancelFunc
	done   chan struct{}
}

func start(t *testing.T, opts notify.Options, targets ...notify.Target) *harness {
	t.Helper()
	h := &harness{t: t, logs: &testutil.SyncBuffer{}, done: make(chan struct{})}
	opts.Logger = slog.New(slog.NewTextHandler(h.logs, nil))
	d, err := notify.New(opts, targets)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.d = d
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { d.Run(ctx); close(h.done) }()
	t.Cleanup(h.stop)
	return h
}

// update passes alerts as one evaluation would, and waits until the workers are idle.
func (h *harness) update(alerts ...alert.Alert) {
	h.d.Update(time.Now(), alerts)
	synctest.Wait()
}

// stop cancels Run and waits for it.
func (h *harness) stop() {
	h.cancel()
	<-h.done
}

func expect(t *testing.T, f *fake, want ...string) {
	t.Helper()
	if got := f.take(); !slices.Equal(got, want) {
		t.Fatalf("%s received %q, want %q", f.name, got, want)
	}
}

func target(n notify.Notifier, c config.NotifierCommon) notify.Target {
	return notify.Target{Notifier: n, Common: c}
}

func TestDispatcherFiringOnceThenReminders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		once := &fake{name: "webhook[0]"}
		remind := &fake{name: "webhook[1]"}
		h := start(t, notify.Options{ExternalURL: "https://rw.example.com"},
			target(once, config.NotifierCommon{}),
			target(remind, config.NotifierCommon{RepeatInterval: config.Duration(10 * time.Minute)}))
		t0 := time.Now()
		a, b := firing("a", "critical", t0), firing("b", "warning", t0)
		h.update(a, b)
		expect(t, once, "firing:a,b")
		expect(t, remind, "firing:a,b")

		// The evaluator passes the same firing alerts every 10s: nothing new is sent.
		var c alert.Alert
		for i := 1; i < 60; i++ {
			time.Sleep(10 * time.Second)
			if i == 30 { // at 5m, c starts firing: sent alone, not as a reminder
				c = firing("c", "info", time.Now())
				h.update(a, b, c)
				expect(t, once, "firing:c")
				expect(t, remind, "firing:c")
				continue
			}
			if c.Fingerprint != "" {
				h.update(a, b, c)
			} else {
				h.update(a, b)
			}
		}
		expect(t, once)
		expect(t, remind)
		time.Sleep(10 * time.Second) // 10m after the first delivery
		h.update(a, b, c)
		expect(t, once)
		expect(t, remind, "firing+reminder:a,b")
		// The reminder is due without an update too.
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		expect(t, remind, "firing+reminder:c")
		expect(t, once)
	})
}

func TestDispatcherResolved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		with := &fake{name: "slack[0]"}
		without := &fake{name: "slack[1]"}
		h := start(t, notify.Options{},
			target(with, config.NotifierCommon{SendResolved: true}),
			target(without, config.NotifierCommon{}))
		t0 := time.Now()
		a := firing("a", "critical", t0)
		h.update(a)
		expect(t, with, "firing:a")
		expect(t, without, "firing:a")

		time.Sleep(time.Minute)
		h.update(resolved(a, time.Now()))
		expect(t, with, "resolved:a")
		expect(t, without)
		h.update()
		expect(t, with)

		// The same alert fires again later: a new instance, sent to both again.
		time.Sleep(time.Minute)
		a2 := firing("a", "critical", time.Now())
		h.update(a2)
		expect(t, with, "firing:a")
		expect(t, without, "firing:a")

		// A resolve of an alert never delivered (unknown here) sends nothing.
		h.update(a2, resolved(firing("zz", "critical", t0), time.Now()))
		expect(t, with)
	})
}

func TestDispatcherSeverityFilterAndSilences(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		crit := &fake{name: "email"}
		all := &fake{name: "webhook[0]"}
		h := start(t, notify.Options{},
			target(crit, config.NotifierCommon{Severities: []string{"critical"}, SendResolved: true}),
			target(all, config.NotifierCommon{SendResolved: true, RepeatInterval: config.Duration(time.Hour)}))
		t0 := time.Now()
		c, w := firing("c", "critical", t0), firing("w", "warning", t0)
		s := firing("s", "critical", t0)
		s.Silenced, s.SilenceID = true, "sil-1"
		h.update(c, w, s)
		expect(t, crit, "firing:c")
		expect(t, all, "firing:c,w")

		// The warning resolves: the critical-only notifier never heard of it.
		time.Sleep(time.Minute)
		h.update(c, s, resolved(w, time.Now()))
		expect(t, crit)
		expect(t, all, "resolved:w")

		// The silence ends while s still fires: s is sent now.
		time.Sleep(time.Minute)
		s.Silenced, s.SilenceID = false, ""
		h.update(c, s)
		expect(t, crit, "firing:s")
		expect(t, all, "firing:s")

		// Silenced after delivery: no reminder while silenced, and its resolve is not sent.
		s.Silenced = true
		h.update(c, s)
		time.Sleep(time.Hour)
		h.update(c, s)
		expect(t, crit)
		expect(t, all, "firing+reminder:c")
		h.update(c, resolved(s, time.Now()))
		expect(t, crit)
		expect(t, all)
	})
}

func TestDispatcherRetriesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		flaky := &fake{name: "webhook[0]", fail: 3}
		h := start(t, notify.Options{}, target(flaky, config.NotifierCommon{}))
		t0 := time.Now()
		a := firing("a", "critical", t0)
		h.update(a)
		expect(t, flaky)
		hl := h.d.Health()[0]
		if hl.Name != "webhook[0]" || hl.Kind != "webhook" || hl.ConsecutiveFailures != 1 || hl.Pending != 1 ||
			!strings.Contains(hl.LastError, "500") || !hl.LastSuccess.IsZero() || !hl.LastAttempt.Equal(t0) {
			t.Fatalf("health after a failure: %+v", hl)
		}

		// At 2s (during the 2s backoff after the second failure) b starts firing.
		time.Sleep(2 * time.Second)
		b := firing("b", "warning", time.Now())
		h.update(a, b)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		// Attempts after 0, 1s, 1+2s, 1+2+4s: the fourth succeeds with both alerts.
		flaky.mu.Lock()
		var at []time.Duration
		for _, x := range flaky.attempts {
			at = append(at, x.Sub(t0))
		}
		flaky.mu.Unlock()
		if want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}; !slices.Equal(at, want) {
			t.Fatalf("attempts at %v, want %v", at, want)
		}
		expect(t, flaky, "firing:a,b")
		hl = h.d.Health()[0]
		if hl.ConsecutiveFailures != 0 || hl.LastError != "" || !hl.LastSuccess.Equal(t0.Add(7*time.Second)) || hl.Pending != 0 {
			t.Fatalf("health after recovery: %+v", hl)
		}
		logs := h.logs.String()
		if n := strings.Count(logs, "level=WARN msg=\"cannot send notification\" notifier=webhook[0]"); n != 3 {
			t.Fatalf("%d warnings, want 3:\n%s", n, logs)
		}
		if n := strings.Count(logs, "msg=\"notifier recovered\" notifier=webhook[0]"); n != 1 {
			t.Fatalf("%d recoveries logged, want 1:\n%s", n, logs)
		}

		// Backoff caps at a minute.
		flaky.setFail(100)
		c := firing("c", "critical", time.Now())
		h.update(a, b, c)
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		flaky.mu.Lock()
		last := flaky.attempts[len(flaky.attempts)-2:]
		flaky.mu.Unlock()
		if gap := last[1].Sub(last[0]); gap != time.Minute {
			t.Fatalf("capped backoff %s, want 1m", gap)
		}
		// An alert that stops firing is no longer retried.
		h.update(a, b)
		hl = h.d.Health()[0]
		if hl.Pending != 0 || hl.ConsecutiveFailures < 10 {
			t.Fatalf("health: %+v", hl)
		}
	})
}

func TestDispatcherHungNotifierIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hung := &fake{name: "webhook[0]", hang: true}
		fast := &fake{name: "webhook[1]"}
		h := start(t, notify.Options{SendTimeout: 10 * time.Second},
			target(hung, config.NotifierCommon{}), target(fast, config.NotifierCommon{}))
		t0 := time.Now()
		h.d.Update(t0, []alert.Alert{firing("a", "critical", t0)})
		// Update returned at once; the fast notifier delivered without any time passing.
		synctest.Wait()
		if !time.Now().Equal(t0) {
			t.Fatalf("time moved: %s", time.Since(t0))
		}
		expect(t, fast, "firing:a")
		time.Sleep(10 * time.Second)
		synctest.Wait()
		hl := h.d.Health()
		if hl[0].ConsecutiveFailures != 1 || !strings.Contains(hl[0].LastError, "deadline exceeded") || hl[1].ConsecutiveFailures != 0 {
			t.Fatalf("health: %+v", hl)
		}
		// Run returns promptly when stopped while a send hangs.
		time.Sleep(1500 * time.Millisecond) // the retry (after 1s) hangs now
		stopped := time.Now()
		h.stop()
		if d := time.Since(stopped); d != 0 {
			t.Fatalf("Run took %s to stop", d)
		}
	})
}

func TestDispatcherQuietHours(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts at 2000-01-01 00:00 UTC.
		q := &fake{name: "slack[0]"}
		h := start(t, notify.Options{}, target(q, config.NotifierCommon{SendResolved: true, QuietHours: "00:30-01:00", Timezone: "UTC"}))
		t0 := time.Now()
		if t0.Hour() != 0 || t0.Minute() != 0 {
			t.Fatalf("unexpected bubble start %s", t0)
		}
		a := firing("a", "critical", t0)
		h.update(a)
		expect(t, q, "firing:a")

		time.Sleep(35 * time.Minute) // 00:35, quiet
		b := firing("b", "critical", time.Now())
		x := firing("x", "warning", time.Now())
		h.update(a, b, x)
		expect(t, q) // critical alerts are held too
		if hl := h.d.Health()[0]; !hl.Held || hl.Pending != 2 {
			t.Fatalf("health in quiet hours: %+v", hl)
		}
		time.Sleep(5 * time.Minute) // 00:40: a resolves, x fires and resolves inside the window
		h.update(b, resolved(a, time.Now()), resolved(x, time.Now()))
		expect(t, q)

		time.Sleep(20 * time.Minute) // 01:00: the window ends
		synctest.Wait()
		expect(t, q, "resolved:a", "firing:b")
		if hl := h.d.Health()[0]; hl.Held || hl.Pending != 0 {
			t.Fatalf("health after quiet hours: %+v", hl)
		}
	})
}

func TestDispatcherResendInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		am := &resender{fake{name: "alertmanager[0]"}}
		h := start(t, notify.Options{}, target(am, config.NotifierCommon{SendResolved: true}))
		a := firing("a", "critical", time.Now())
		h.update(a)
		expect(t, &am.fake, "firing:a")
		time.Sleep(time.Minute)
		h.update(a)
		expect(t, &am.fake, "firing+reminder:a")
		time.Sleep(30 * time.Second)
		h.update(resolved(a, time.Now()))
		expect(t, &am.fake, "resolved:a")
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		expect(t, &am.fake)
	})
}

func TestDispatcherRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		okA, flakyB := &fake{name: "webhook[0]"}, &fake{name: "webhook[1]"}
		common := config.NotifierCommon{SendResolved: true}
		h := start(t, notify.Options{StateDir: dir}, target(okA, common), target(flakyB, common))
		t0 := time.Now()
		r, a := firing("r", "critical", t0), firing("a", "warning", t0)
		h.update(r)
		expect(t, okA, "firing:r")
		expect(t, flakyB, "firing:r")

		flakyB.setFail(1000)
		time.Sleep(time.Minute)
		h.update(a, resolved(r, time.Now()))
		expect(t, okA, "resolved:r", "firing:a")
		expect(t, flakyB)
		h.stop()

		fi, err := os.Stat(filepath.Join(dir, notify.StateFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("state file: %v, %v", fi, err)
		}

		// Restart: the same alerts come back from the evaluator. A has everything; B gets
		// what failed: the resolve of r (without any update) and a.
		okA2, b2 := &fake{name: "webhook[0]"}, &fake{name: "webhook[1]"}
		h2 := start(t, notify.Options{StateDir: dir}, target(okA2, common), target(b2, common))
		synctest.Wait()
		expect(t, okA2)
		expect(t, b2, "resolved:r")
		h2.update(a)
		expect(t, okA2)
		expect(t, b2, "firing:a")
		h2.stop()

		// And once more: nothing is sent twice.
		okA3, b3 := &fake{name: "webhook[0]"}, &fake{name: "webhook[1]"}
		h3 := start(t, notify.Options{StateDir: dir}, target(okA3, common), target(b3, common))
		h3.update(a)
		expect(t, okA3)
		expect(t, b3)
	})
}

func TestDispatcherPrunes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		w := &fake{name: "webhook[0]"}
		h := start(t, notify.Options{StateDir: dir, PruneAfter: time.Hour}, target(w, config.NotifierCommon{}))
		a := firing("a", "critical", time.Now())
		h.update(a)
		expect(t, w, "firing:a")
		// a disappears from updates (its rule was deleted, say) for two hours.
		for range 12 {
			time.Sleep(10 * time.Minute)
			h.update()
		}
		h.stop()
		b, err := os.ReadFile(filepath.Join(dir, notify.StateFile))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"a"`) {
			t.Fatalf("entry not pruned: %s", b)
		}
		// Forgotten: the same instance appearing again is sent again.
		h2 := start(t, notify.Options{StateDir: dir}, target(w, config.NotifierCommon{}))
		h2.update(a)
		expect(t, w, "firing:a")
	})
}

func TestDispatcherCorruptState(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, notify.StateFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.New(notify.Options{StateDir: dir, Logger: slog.New(slog.DiscardHandler)}, nil); err != nil {
		t.Fatalf("New with a corrupt state file: %v", err)
	}
	_, err := notify.New(notify.Options{}, []notify.Target{target(&fake{name: "x"}, config.NotifierCommon{QuietHours: "25:00-26:00"})})
	if err == nil {
		t.Fatal("an invalid quiet_hours was accepted")
	}
}
