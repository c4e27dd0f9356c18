package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// memWriter is an in-memory Writer that remembers every round.
type memWriter struct {
	mu     sync.Mutex
	rounds [][]tsdb.Sample
	err    error
}

func (w *memWriter) Write(samples []tsdb.Sample) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rounds = append(w.rounds, samples)
	return w.err
}

func (w *memWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.rounds)
}

func newTestSampler(t testing.TB, w Writer, log *slog.Logger) *Sampler {
	t.Helper()
	if w == nil {
		w = &memWriter{}
	}
	s, err := New(Options{Interval: time.Second, Host: "testhost", Writer: w, Logger: log})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func labelValue(s tsdb.Sample, name string) string {
	for _, l := range s.Labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// seriesKey is name{extra label} of a sample, host excluded.
func seriesKey(s tsdb.Sample) string {
	for _, l := range s.Labels {
		if l.Name != "host" {
			return s.Name + "{" + l.Name + "=" + l.Value + "}"
		}
	}
	return s.Name
}

func TestNewValidates(t *testing.T) {
	f := func(name string, opts Options) {
		t.Helper()
		if _, err := New(opts); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
	f("no interval", Options{Writer: &memWriter{}})
	f("negative interval", Options{Interval: -time.Second, Writer: &memWriter{}})
	f("no writer", Options{Interval: time.Second})

	s, err := New(Options{Interval: time.Second, Writer: &memWriter{}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if s.Host() == "" {
		t.Errorf("Host() is empty, want os.Hostname()")
	}
}

func TestCollect(t *testing.T) {
	t.Parallel()
	s := newTestSampler(t, nil, nil)
	ctx := context.Background()
	now1 := time.UnixMilli(1_700_000_000_123)
	first, err := s.Collect(ctx, now1)
	if err != nil {
		t.Logf("partial failure on this machine: %v", err)
	}
	time.Sleep(2 * minCPUWindow) // real CPU time must pass between two readings
	now2 := now1.Add(time.Second)
	second, err := s.Collect(ctx, now2)
	if err != nil {
		t.Logf("partial failure on this machine: %v", err)
	}

	byName := map[string][]tsdb.Sample{}
	for _, smp := range second {
		if got := labelValue(smp, "host"); got != "testhost" {
			t.Errorf("%s: host label %q, want %q", smp.Name, got, "testhost")
		}
		if smp.Timestamp != now2.UnixMilli() {
			t.Errorf("%s: timestamp %d, want %d", smp.Name, smp.Timestamp, now2.UnixMilli())
		}
		if math.IsNaN(smp.Value) || math.IsInf(smp.Value, 0) || smp.Value < 0 {
			t.Errorf("%s: value %v, want a finite value >= 0", seriesKey(smp), smp.Value)
		}
		byName[smp.Name] = append(byName[smp.Name], smp)
	}
	for _, name := range []string{
		"host_up", "host_cpu_usage_percent", "host_load1", "host_load5", "host_load15",
		"host_memory_used_bytes", "host_memory_total_bytes", "host_memory_usage_percent",
		"host_swap_used_bytes",
	} {
		if len(byName[name]) != 1 {
			t.Errorf("%s: %d samples, want 1", name, len(byName[name]))
		}
	}
	value := func(name string) float64 {
		if ss := byName[name]; len(ss) > 0 {
			return ss[0].Value
		}
		return math.NaN()
	}
	if v := value("host_up"); v != 1 {
		t.Errorf("host_up = %v, want 1", v)
	}
	if v := value("host_memory_total_bytes"); !(v > 0) {
		t.Errorf("host_memory_total_bytes = %v, want > 0", v)
	}
	if used, total := value("host_memory_used_bytes"), value("host_memory_total_bytes"); !(used <= total) {
		t.Errorf("host_memory_used_bytes = %v > host_memory_total_bytes = %v", used, total)
	}
	for _, smp := range append(append(byName["host_memory_usage_percent"], byName["host_cpu_usage_percent"]...), byName["host_disk_usage_percent"]...) {
		if !(smp.Value >= 0 && smp.Value <= 100) {
			t.Errorf("%s = %v, want in [0, 100]", seriesKey(smp), smp.Value)
		}
	}

	// Per-device series come with their label, and in threes for filesystems.
	for name, label := range map[string]string{
		"host_disk_used_bytes": "mount", "host_disk_total_bytes": "mount", "host_disk_usage_percent": "mount",
		"host_disk_read_bytes_total": "device", "host_disk_written_bytes_total": "device",
		"host_network_receive_bytes_total": "interface", "host_network_transmit_bytes_total": "interface",
	} {
		for _, smp := range byName[name] {
			if labelValue(smp, label) == "" || len(smp.Labels) != 2 {
				t.Errorf("%s: labels %v, want host and %s", name, smp.Labels, label)
			}
			if name == "host_network_receive_bytes_total" && labelValue(smp, label) == "lo" {
				t.Errorf("loopback interface reported")
			}
		}
	}
	if n, m := len(byName["host_disk_used_bytes"]), len(byName["host_disk_total_bytes"]); n != m || n != len(byName["host_disk_usage_percent"]) {
		t.Errorf("filesystem series counts differ: used %d, total %d", n, m)
	}
	if len(byName["host_disk_total_bytes"]) == 0 {
		t.Errorf("no filesystem reported; want at least the one holding /")
	}

	// Counters never go down between rounds.
	firstValues := map[string]float64{}
	for _, smp := range first {
		firstValues[seriesKey(smp)] = smp.Value
	}
	for _, smp := range second {
		if !strings.HasSuffix(smp.Name, "_total") {
			continue
		}
		if old, ok := firstValues[seriesKey(smp)]; ok && smp.Value < old {
			t.Errorf("counter %s went down: %v -> %v", seriesKey(smp), old, smp.Value)
		}
	}
	t.Logf("round of %d samples; e.g. %v", len(second), keys(second))
}

func keys(samples []tsdb.Sample) []string {
	var out []string
	for _, s := range samples {
		if len(s.Labels) > 1 {
			out = append(out, seriesKey(s))
		}
	}
	return out
}

func TestCollectCPUNeedsAWindow(t *testing.T) {
	t.Parallel()
	s := newTestSampler(t, nil, nil)
	ctx := context.Background()
	has := func(samples []tsdb.Sample) bool {
		for _, smp := range samples {
			if smp.Name == "host_cpu_usage_percent" {
				return true
			}
		}
		return false
	}
	// Right after New the baseline is too fresh: no value rather than a noisy one.
	if samples, _ := s.Collect(ctx, time.Now()); has(samples) {
		t.Errorf("host_cpu_usage_percent reported right after New")
	}
	time.Sleep(2 * minCPUWindow)
	if samples, _ := s.Collect(ctx, time.Now()); !has(samples) {
		t.Errorf("host_cpu_usage_percent missing after %s", 2*minCPUWindow)
	}
}

func TestReportFailuresOncePerStateChange(t *testing.T) {
	var buf bytes.Buffer
	s := newTestSampler(t, nil, slog.New(slog.NewTextHandler(&buf, nil)))
	boom := errors.New("boom")
	rounds := []map[string]error{
		{"disk_io": boom},
		{"disk_io": boom},
		{"disk_io": boom, "network": boom},
		{"network": boom},
		{},
		{},
	}
	for _, errs := range rounds {
		s.reportFailures(errs)
	}
	out := buf.String()
	if n := strings.Count(out, "level=WARN"); n != 2 {
		t.Errorf("%d warnings, want 2 (disk_io and network starting to fail):\n%s", n, out)
	}
	if n := strings.Count(out, "level=INFO"); n != 2 {
		t.Errorf("%d infos, want 2 (disk_io and network recovering):\n%s", n, out)
	}
}

func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &memWriter{}
		const interval = 10 * time.Second
		s, err := New(Options{Interval: interval, Host: "testhost", Writer: w})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if at, _ := s.LastRun(); !at.IsZero() {
			t.Errorf("LastRun before Run = %v, want zero", at)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		start := time.Now()
		go func() {
			defer close(done)
			s.Run(ctx)
		}()

		synctest.Wait()
		if n := w.count(); n != 1 {
			t.Fatalf("%d rounds written right after start, want 1", n)
		}
		time.Sleep(3*interval + interval/2)
		synctest.Wait()
		if n := w.count(); n != 4 {
			t.Fatalf("%d rounds written after 3.5 intervals, want 4", n)
		}
		at, err := s.LastRun()
		if err != nil {
			t.Errorf("LastRun error: %v", err)
		}
		if want := start.Add(3 * interval); !at.Equal(want) {
			t.Errorf("LastRun at %v, want %v", at, want)
		}
		w.mu.Lock()
		rounds := w.rounds
		w.mu.Unlock()
		for i, round := range rounds {
			want := start.Add(time.Duration(i) * interval).UnixMilli()
			for _, smp := range round {
				if smp.Timestamp != want {
					t.Fatalf("round %d: %s at %d, want %d", i, smp.Name, smp.Timestamp, want)
				}
			}
		}

		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatalf("Run did not return after cancel")
		}
		if n := w.count(); n != 4 {
			t.Errorf("%d rounds written after cancel, want 4", n)
		}
	})
}

func TestRunReportsWriteErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		w := &memWriter{err: errors.New("disk full")}
		s, err := New(Options{Interval: time.Second, Host: "testhost", Writer: w,
			Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go s.Run(ctx)
		time.Sleep(2500 * time.Millisecond)
		synctest.Wait()
		if _, err := s.LastRun(); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("LastRun error = %v, want the write error", err)
		}
		if n := strings.Count(buf.String(), "cannot write host samples"); n != 1 {
			t.Errorf("write error logged %d times over 3 rounds, want once:\n%s", n, buf.String())
		}
	})
}

// TestRunOnClock: an injected clock schedules and stamps the rounds, while LastDuration (0 in
// a synctest bubble) measures the real time a round took.
func TestRunOnClock(t *testing.T) {
	t.Parallel()
	w := &memWriter{}
	t0 := time.UnixMilli(1_700_000_000_000)
	clock := testutil.NewClock(t0)
	const interval = 10 * time.Second
	s, err := New(Options{Interval: interval, Host: "testhost", Writer: w, Clock: clock})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	// waiting is whether Run, after n rounds, waits one interval (a round takes no time on the
	// clock).
	waiting := func(n int) func() bool {
		return func() bool { return w.count() == n && slices.Equal(clock.Waits(), []time.Duration{interval}) }
	}
	testutil.WaitFor(t, "the first round", waiting(1))
	for n := 1; n < 3; n++ {
		clock.Advance(interval / 2)
		if got, waits := w.count(), clock.Waits(); got != n || len(waits) != 1 {
			t.Fatalf("%d rounds and waits %v after %d.5 intervals, want %d rounds and the wait for the next",
				got, waits, n-1, n)
		}
		clock.Advance(interval / 2)
		testutil.WaitFor(t, fmt.Sprintf("round %d", n+1), waiting(n+1))
	}
	at, err := s.LastRun()
	if err != nil {
		t.Errorf("LastRun error: %v", err)
	}
	if want := t0.Add(2 * interval); !at.Equal(want) {
		t.Errorf("LastRun at %v, want %v", at, want)
	}
	w.mu.Lock()
	for i, round := range w.rounds {
		for _, smp := range round {
			if want := t0.Add(time.Duration(i) * interval).UnixMilli(); smp.Timestamp != want {
				t.Fatalf("round %d: %s at %d, want %d", i, smp.Name, smp.Timestamp, want)
			}
		}
	}
	w.mu.Unlock()
	if d := s.LastDuration(); d <= 0 || d > 5*time.Second {
		t.Errorf("LastDuration = %v, want a small positive duration", d)
	}
	cancel()
	testutil.WaitFor(t, "Run to return after cancel", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	if n := w.count(); n != 3 {
		t.Errorf("%d rounds written after cancel, want 3", n)
	}
}

func BenchmarkCollect(b *testing.B) {
	s := newTestSampler(b, nil, nil)
	ctx := context.Background()
	var n int
	for b.Loop() {
		samples, _ := s.Collect(ctx, time.Now())
		n = len(samples)
	}
	b.ReportMetric(float64(n), "samples/op")
}
