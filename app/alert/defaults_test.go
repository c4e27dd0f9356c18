package alert

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

func TestDefaultRulesValid(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range DefaultRules() {
		r.ApplyDefaults()
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
		if seen[r.Name] {
			t.Errorf("%s: duplicate name", r.Name)
		}
		seen[r.Name] = true
	}
	if len(seen) != 18 {
		t.Fatalf("%d default rules, want 18", len(seen))
	}
}

// TestDefaultRulesFire drives every default rule over its threshold for long enough and checks
// the summaries each renders.
func TestDefaultRulesFire(t *testing.T) {
	ev := newEnv(t, DefaultRules()...)
	dropped := 0.0  // redwatch_series_dropped_total{reason="hourly_limit"}: 100 more every 10 s
	rejected := 0.0 // redis_rejected_connections_total{instance="cache"}: 5 more every 10 s
	write := func() {
		dropped += 100
		rejected += 5
		ev.write("redwatch_series_dropped_total", dropped, "reason", "hourly_limit")
		ev.write("redwatch_series_dropped_total", 0, "reason", "daily_limit")
		ev.write("host_cpu_usage_percent", 97.4, "host", "web1")
		ev.write("host_memory_usage_percent", 96, "host", "web1")
		ev.write("host_disk_usage_percent", 91, "host", "web1", "mount", "/var")
		ev.write("host_disk_usage_percent", 20, "host", "web1", "mount", "/")
		ev.write("redis_up", 0, "instance", "cache")
		ev.write("redis_up", 1, "instance", "sessions")
		ev.write("redis_memory_usage_percent", 93, "instance", "cache")
		ev.write("redis_cluster_state_ok", 0, "instance", "shop")
		ev.write("redis_cluster_state_ok", 1, "instance", "sessions")
		ev.write("redis_rdb_last_bgsave_ok", 0, "instance", "cache")
		ev.write("redis_rdb_last_bgsave_ok", 1, "instance", "sessions")
		ev.write("redis_aof_last_write_ok", 0, "instance", "cache")
		ev.write("redis_aof_last_write_ok", 1, "instance", "sessions")
		ev.write("redis_master_link_up", 0, "instance", "cache-replica")
		ev.write("redis_master_link_up", 1, "instance", "sessions-replica")
		ev.write("redis_replica_lag_bytes", 3<<20, "instance", "cache", "replica", "10.0.0.2:6379")
		ev.write("redis_replica_lag_bytes", 1<<19, "instance", "cache", "replica", "10.0.0.3:6379")
		ev.write("redis_rejected_connections_total", rejected, "instance", "cache")
		ev.write("redis_rejected_connections_total", 7, "instance", "sessions")
		ev.write("redis_key_exists", 0, "instance", "cache", "db", "0", "key", "config:flags", "expect_exists", "true")
		ev.write("redis_key_exists", 1, "instance", "cache", "db", "0", "key", "config:limits", "expect_exists", "true")
		ev.write("redis_key_exists", 0, "instance", "cache", "db", "0", "key", "queue:emails") // an emptied queue
		ev.write("redis_key_exists", 0, "instance", "cache", "db", "0", "key", "session:1", "pattern", "session:*")
		ev.write("redwatch_http_error_ratio", 0.125)
		ev.write("redwatch_http_request_duration_seconds", 1.5, "route", "/keys", "quantile", "0.95")
		ev.write("redwatch_http_request_duration_seconds", 3, "route", "/keys", "quantile", "0.99")
	}
	for range 31 { // 5 minutes
		write()
		ev.eval()
		ev.advance(10 * time.Second)
	}
	want := map[string]string{
		"HostCPUHigh":              "web1 CPU at 97% (5-minute average, warning above 80%)",
		"HostCPUCritical":          "web1 CPU at 97% (5-minute average, critical above 95%)",
		"HostMemoryHigh":           "web1 memory 96% used (warning above 85%)",
		"HostMemoryCritical":       "web1 memory 96% used (critical above 95%)",
		"HostDiskHigh":             "web1 disk /var 91% full (warning above 80%)",
		"RedisDown":                "Redis cache is down (not answering for 30s)",
		"RedisClusterStateFail":    "Redis cluster shop is failing (cluster_state:fail): some slots have no reachable master",
		"RedisMemoryHigh":          "Redis cache uses 93% of maxmemory (warning above 90%)",
		"RedisKeyMissing":          `Key "config:flags" is missing on Redis cache (db 0)`,
		"RedisBgsaveFailing":       "Redis cache cannot save its RDB snapshot: the last BGSAVE failed",
		"RedisAOFWriteFailing":     "Redis cache cannot write its append-only file: the last AOF write failed",
		"RedisReplicaLinkDown":     "Redis replica cache-replica lost its link to its master (down for 30s)",
		"RedisReplicaLagHigh":      "Redis cache: replica 10.0.0.2:6379 is 3145728 bytes behind (warning above 1048576)",
		"RedisRejectedConnections": "Redis cache rejects connections (0.50/s over 5 minutes): maxclients reached",
		"RedwatchErrorRate":        "redwatch answers 0.125 of requests with 5xx (5-minute average, warning above 0.05)",
		"RedwatchSlow":             "redwatch p95 response time 1.50s on /keys (warning above 1s)",
		"RedwatchSeriesDropped":    "redwatch drops samples of new series (hourly_limit, 10.0/s over 5 minutes): storage.max_series is reached",
	}
	got := map[string]string{}
	for _, a := range ev.alerts(len(want)) {
		if a.State != StateFiring {
			t.Errorf("%s is %s", a.Rule, a.State)
		}
		got[a.Rule] = a.Summary
	}
	for name, s := range want {
		if got[name] != s {
			t.Errorf("%s summary %q, want %q", name, got[name], s)
		}
	}
	for _, st := range ev.e.Rules() {
		if st.Error != "" {
			t.Errorf("%s: %s", st.Name, st.Error)
		}
	}
}

// memStore is a Store whose one series, redis_up{instance="a"} = 0, is always fresh.
type memStore struct{}

func (memStore) Latest(sel *tsdb.Selector) []tsdb.LatestValue {
	ls := []tsdb.Label{{Name: "instance", Value: "a"}}
	if !sel.Matches("redis_up", ls) {
		return nil
	}
	return []tsdb.LatestValue{{Name: "redis_up", Labels: ls, Timestamp: time.Now().UnixMilli()}}
}

func (memStore) Raw(context.Context, *tsdb.Selector, time.Time, time.Time) ([]tsdb.Series, error) {
	return nil, nil
}

func TestRunEvaluatesEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		e, err := New(Options{Store: memStore{}, Notifier: rec, Interval: 10 * time.Second, StateDir: t.TempDir()},
			[]config.Rule{gaugeRule("Down", "redis_up", "<", 1, 15*time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { e.Run(ctx) })
		time.Sleep(35 * time.Second) // rounds at 0, 10, 20 and 30 s
		synctest.Wait()
		cancel()
		wg.Wait()
		if n := rec.rounds(); n != 4 {
			t.Fatalf("%d rounds in 35 s, want 4", n)
		}
		// Pending at 0 and 10 s, firing from 20 s (held 15 s).
		if n := rec.count("Down", StateFiring); n != 2 {
			t.Fatalf("firing in %d rounds, want 2", n)
		}
		if a := e.Alerts()[0]; !a.FiredAt.Equal(start.Add(20*time.Second)) || !a.ActiveAt.Equal(start) {
			t.Fatalf("alert %+v", a)
		}
		if st := e.Rules()[0]; !st.LastEval.Equal(start.Add(30 * time.Second)) {
			t.Fatalf("last evaluation at %s", st.LastEval)
		}
	})
}

// TestConcurrentUse runs evaluations while the read API, SetRules and silences are used; run
// with -race.
func TestConcurrentUse(t *testing.T) {
	ev := newEnv(t, gaugeRule("Down", "redis_up", "<", 1, 0))
	ev.write("redis_up", 0, "instance", "a")
	e := ev.e
	now := ev.now
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			if err := e.Evaluate(ctx, now); err != nil && ctx.Err() == nil {
				t.Errorf("Evaluate: %v", err)
			}
		}
	})
	for i := range 50 {
		rules := []config.Rule{gaugeRule("Down", "redis_up", "<", 1, 0)}
		if i%2 == 0 {
			rules = append(rules, gaugeRule("Other", "redis_up", "<", 2, 0))
		}
		if err := e.SetRules(rules); err != nil {
			t.Fatal(err)
		}
		s, err := e.AddSilence(Silence{Matchers: []Matcher{{Name: "instance", Value: "a"}}, EndsAt: now.Add(time.Hour), Comment: "test"})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range e.Alerts() {
			_ = a.Labels["instance"]
		}
		_ = e.History()
		_ = e.Rules()
		if err := e.ExpireSilence(s.ID); err != nil {
			t.Fatal(err)
		}
		_ = e.Silences()
	}
	cancel()
	wg.Wait()
	if as := e.Alerts(); len(as) == 0 || !strings.Contains(as[0].Summary, "Down") {
		t.Fatalf("alerts %+v", as)
	}
}

// TestRedisKeyMissingOnlyAlarmingAbsence: the shipped RedisKeyMissing rule fires for a key
// marked expect_exists="true" and for nothing else: not for expired pattern keys nor for
// emptied queues (which Redis deletes), which the sampler writes without that label.
func TestRedisKeyMissingOnlyAlarmingAbsence(t *testing.T) {
	var rule config.Rule
	for _, r := range DefaultRules() {
		if r.Name == "RedisKeyMissing" {
			rule = r
		}
	}
	if rule.Series != `redis_key_exists{expect_exists="true"}` {
		t.Fatalf("RedisKeyMissing selects %s", rule.Series)
	}
	ev := newEnv(t, rule)
	for range 13 { // 2 minutes
		for i := range 20 {
			ev.write("redis_key_exists", 0, "instance", "cache", "db", "0", "key", fmt.Sprintf("session:%d", i), "type", "string")
		}
		ev.write("redis_key_exists", 0, "instance", "cache", "db", "0", "key", "queue:emails", "type", "list")
		ev.write("redis_key_exists", 0, "instance", "cache", "db", "0", "key", "config:flags", "type", "string", "expect_exists", "true")
		ev.eval()
		ev.advance(10 * time.Second)
	}
	as := ev.alerts(1)
	if as[0].Labels["key"] != "config:flags" || as[0].State != StateFiring {
		t.Fatalf("alerts: %+v", as)
	}
}
