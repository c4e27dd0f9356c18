package redis

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// healthRounds runs a round of s at t0, t0+1s, ... each time it is called and returns its
// samples: real Redis rounds with strictly increasing timestamps.
func healthRounds(s *Sampler, w *keyTestWriter, t0 time.Time) func() []tsdb.Sample {
	i := 0
	return func() []tsdb.Sample {
		s.Round(context.Background(), t0.Add(time.Duration(i)*time.Second))
		i++
		return w.take()
	}
}

// TestHealthReplicaLink: a replica reports redis_master_link_up 1 while it is in sync with
// its master (which reports the replica's lag by address), then 0 once the master is stopped.
func TestHealthReplicaLink(t *testing.T) {
	t.Parallel()
	master := redistest.Start(t, "--repl-diskless-sync-delay", "0")
	replica := redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port()))
	ms, mw, _ := newTestInstance(t, master.Addr(), nil, nil)
	rs, rw, _ := newTestInstance(t, replica.Addr(), nil, nil)
	t0 := time.Now()
	masterRound, replicaRound := healthRounds(ms, mw, t0), healthRounds(rs, rw, t0)

	testutil.Eventually(t, 15*time.Second, "replica link up", func() (bool, string) {
		got := keyTestFind(replicaRound(), "redis_master_link_up")
		return len(got) == 1 && got[0].Value == 1, fmt.Sprint(got)
	})
	replicaAddr := `127.0.0.1:` + strconv.Itoa(replica.Port())
	if got := keyTestFind(masterRound(), "redis_replica_lag_bytes", "replica", replicaAddr); len(got) != 1 || got[0].Value < 0 {
		t.Fatalf("master's lag of %s: %v", replicaAddr, got)
	}

	master.Kill()
	testutil.Eventually(t, 15*time.Second, "replica link down", func() (bool, string) {
		got := keyTestFind(replicaRound(), "redis_master_link_up")
		return len(got) == 1 && got[0].Value == 0, fmt.Sprint(got)
	})
}

// TestHealthBgsaveFailingFiresDefaultRule: a BGSAVE into a directory nobody may write to
// (/proc, even for root) gives redis_rdb_last_bgsave_ok 0, and the shipped
// RedisBgsaveFailing rule fires on those samples once stored.
func TestHealthBgsaveFailingFiresDefaultRule(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "--enable-protected-configs", "yes")
	s, w, _ := newTestInstance(t, srv.Addr(), nil, nil)
	t0 := time.Now()
	round := healthRounds(s, w, t0)
	if v := keyTestValue(t, round(), "redis_rdb_last_bgsave_ok", "instance", "main"); v != 1 {
		t.Fatalf("redis_rdb_last_bgsave_ok = %v before any failure, want 1", v)
	}

	srv.Do("config", "set", "dir", "/proc")
	srv.Do("set", "a", "1")
	srv.Do("bgsave")
	var samples []tsdb.Sample
	testutil.Eventually(t, 10*time.Second, "BGSAVE failed", func() (bool, string) {
		samples = round()
		got := keyTestFind(samples, "redis_rdb_last_bgsave_ok")
		return len(got) == 1 && got[0].Value == 0, fmt.Sprint(got)
	})

	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Write(samples); err != nil {
		t.Fatal(err)
	}
	var rule config.Rule
	for _, r := range alert.DefaultRules() {
		if r.Name == "RedisBgsaveFailing" {
			rule = r
		}
	}
	at := time.UnixMilli(samples[0].Timestamp)
	e, err := alert.New(alert.Options{Store: db, Now: func() time.Time { return at }}, []config.Rule{rule})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Evaluate(context.Background(), at); err != nil {
		t.Fatal(err)
	}
	as := e.Alerts()
	if len(as) != 1 || as[0].State != alert.StateFiring || as[0].Labels["instance"] != "main" {
		t.Fatalf("alerts: %+v", as)
	}
}

// TestHealthErrorstats: a command Redis answers with ERR counts in
// redis_errors_total{error="ERR"}.
func TestHealthErrorstats(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	s, w, _ := newTestInstance(t, srv.Addr(), nil, nil)
	c := srv.Client()
	if err := c.Do(context.Background(), "nosuchcommand").Err(); err == nil {
		t.Fatal("an unknown command did not fail")
	}
	got := keyTestFind(healthRounds(s, w, time.Now())(), "redis_errors_total", "error", "ERR")
	if len(got) != 1 || got[0].Value < 1 {
		t.Fatalf(`redis_errors_total{error="ERR"}: %v`, got)
	}
}

// TestHealthLatencySpike: with latency-monitor-threshold set, a slow command shows in the
// round as redis_latency_spike_seconds{event="command"}, read in the same pipeline. The
// threshold is 100 ms: at 1 ms a loaded CI machine recorded a spike of its own (2 ms) before
// the test's slow command.
func TestHealthLatencySpike(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, "--latency-monitor-threshold", "100", "--enable-debug-command", "yes")
	s, w, _ := newTestInstance(t, srv.Addr(), nil, nil)
	round := healthRounds(s, w, time.Now())
	if got := keyTestFind(round(), "redis_latency_spike_seconds"); len(got) != 0 {
		t.Fatalf("spikes before any slow command: %v", got)
	}
	srv.Do("debug", "sleep", "0.25")
	if v := keyTestValue(t, round(), "redis_latency_spike_seconds", "event", "command"); v < 0.25 {
		t.Fatalf(`redis_latency_spike_seconds{event="command"} = %v, want >= 0.25`, v)
	}
}
