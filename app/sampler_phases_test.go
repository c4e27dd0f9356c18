package app

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// TestSamplerPhaseSeries, end to end on a real redis-server and a real storage: an instance
// with a watched key and a pattern, sampled by a running Manager, gives selfmon one
// redwatch_sampler_duration_seconds and one redwatch_sampler_overruns_total series per phase
// (info, keys, scan) under sampler="redis:NAME", and no phase-less duration for it.
func TestSamplerPhaseSeries(t *testing.T) {
	srv := redistest.Start(t)
	srv.Do("rpush", "q", 1, 2, 3)
	for i := range 5 {
		srv.Do("set", fmt.Sprintf("job:%d", i), "x")
	}
	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	r := config.Redis{Name: "main", Addr: srv.Addr(), Interval: config.Duration(5 * time.Second),
		Keys: []config.Key{{Key: "q"}, {Pattern: "job:*"}}}
	r.ApplyDefaults()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	m, err := redis.NewManager(redis.ManagerOptions{Writer: db}, []config.Redis{r})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	// The first instance round, exact round, scan and pass all run at start.
	testutil.Eventually(t, 10*time.Second, "info, keys and scan phases recorded", func() (bool, string) {
		ps := m.Phases()
		if len(ps) != 1 {
			return false, fmt.Sprintf("%+v", ps)
		}
		return len(ps[0].Phases) == 3, fmt.Sprintf("%+v", ps[0].Phases)
	})

	st := selfmon.New()
	st.AddSamplerGroup("redis:", redisPhases(m))
	now := time.Now()
	if err := db.Write(st.Samples(now, db)); err != nil {
		t.Fatal(err)
	}
	db.Flush()

	read := func(name string) map[string]float64 {
		t.Helper()
		series, err := db.Query(context.Background(), name+`{sampler="redis:main"}`, now)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out := map[string]float64{}
		for _, s := range series {
			if len(s.Points) != 1 {
				t.Fatalf("%s%v: %d points", name, s.Labels, len(s.Points))
			}
			out[s.Label("phase")] = s.Points[0].Value
		}
		return out
	}
	phases := func(m map[string]float64) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		return strings.Join(ks, ",")
	}
	durations := read("redwatch_sampler_duration_seconds")
	if got := phases(durations); got != "info,keys,scan" {
		t.Fatalf("duration series by phase %q, want info,keys,scan (a phase-less one shows as \"\")", got)
	}
	for ph, v := range durations {
		if v <= 0 || v > 5 {
			t.Errorf("phase %s: duration %v s, want a small positive one", ph, v)
		}
	}
	overruns := read("redwatch_sampler_overruns_total")
	if got := phases(overruns); got != "info,keys,scan" {
		t.Fatalf("overrun series by phase %q, want info,keys,scan", got)
	}
	for ph, v := range overruns {
		if v != 0 {
			t.Errorf("phase %s: %v overruns of a few-key instance at 5s, want 0", ph, v)
		}
	}
}
