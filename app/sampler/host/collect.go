package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
	psnet "github.com/shirou/gopsutil/v4/net"

	"github.com/redwatch/redwatch/tsdb"
)

const (
	// minCPUWindow is the shortest time between two CPU readings that yields a
	// host_cpu_usage_percent value; shorter windows are dominated by tick granularity (10 ms).
	minCPUWindow = 100 * time.Millisecond
	// statfsTimeout bounds how long a round waits for the usage of one filesystem. A mount that
	// does not answer in time (a hung NFS server) is skipped until its statfs call returns.
	statfsTimeout = 5 * time.Second
)

// Collect reads every metric source once and returns the samples, all stamped with now (unix
// milliseconds), without writing them. host_up is always there. host_cpu_usage_percent is
// missing when the previous CPU reading (by New or the previous round) is less than 100 ms old.
//
// When some sources fail, Collect still returns the samples of the others, and an error joining
// one "cannot ..." error per failing source. Each source's failure is logged at warn when it
// starts and at info when it ends, not every round. Rounds are serialised: concurrent calls wait
// for each other. A round normally takes a few milliseconds; a hung filesystem adds up to 5 s,
// once.
func (s *Sampler) Collect(ctx context.Context, now time.Time) ([]tsdb.Sample, error) {
	s.roundMu.Lock()
	defer s.roundMu.Unlock()

	r := &round{ts: now.UnixMilli(), host: s.host, samples: make([]tsdb.Sample, 0, 64)}
	r.add("host_up", 1)
	s.collectCPU(ctx, r)
	collectLoad(ctx, r)
	collectMemory(ctx, r)
	s.collectFilesystems(ctx, r)
	collectDiskIO(ctx, r)
	collectNetwork(ctx, r)

	if ctx.Err() == nil { // failures caused by cancellation are not worth a log line
		s.reportFailures(r.errs)
	}
	return r.samples, r.err()
}

// round accumulates the samples and failures of one Collect call.
type round struct {
	ts      int64
	host    string
	samples []tsdb.Sample
	errs    map[string]error // metric source -> why it failed
}

func (r *round) add(name string, v float64, extra ...tsdb.Label) {
	// Each sample gets its own label slice: the Writer may sort or extend it.
	labels := make([]tsdb.Label, 0, 1+len(extra))
	labels = append(labels, tsdb.Label{Name: "host", Value: r.host})
	labels = append(labels, extra...)
	r.samples = append(r.samples, tsdb.Sample{Name: name, Labels: labels, Timestamp: r.ts, Value: v})
}

func (r *round) fail(source string, err error) {
	if r.errs == nil {
		r.errs = map[string]error{}
	}
	r.errs[source] = err
}

func (r *round) err() error {
	if len(r.errs) == 0 {
		return nil
	}
	errs := make([]error, 0, len(r.errs))
	for _, k := range slices.Sorted(maps.Keys(r.errs)) {
		errs = append(errs, r.errs[k])
	}
	return errors.Join(errs...)
}

// reportFailures logs the sources whose state changed since the previous round.
// The caller holds s.roundMu.
func (s *Sampler) reportFailures(errs map[string]error) {
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		if _, ok := s.failing[k]; !ok {
			s.log.Warn("cannot read host metrics; other metrics are still collected",
				"host", s.host, "source", k, "error", errs[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.failing)) {
		if _, ok := errs[k]; !ok {
			s.log.Info("host metrics can be read again", "host", s.host, "source", k)
			delete(s.failing, k)
		}
	}
	for k := range errs {
		s.failing[k] = struct{}{}
	}
}

// cpuSnapshot is one reading of the CPU times of all CPUs, in seconds.
type cpuSnapshot struct {
	ok          bool
	at          time.Time // monotonic reading time, independent of the now passed to Collect
	total, idle float64
}

func readCPU(ctx context.Context) (total, idle float64, err error) {
	ts, err := cpu.TimesWithContext(ctx, false)
	if err != nil {
		return 0, 0, err
	}
	if len(ts) == 0 {
		return 0, 0, errors.New("no CPU times reported")
	}
	t := ts[0]
	// Guest time is already part of User and Nice on Linux: leave it out of the total.
	total = t.User + t.Nice + t.System + t.Idle + t.Iowait + t.Irq + t.Softirq + t.Steal
	return total, t.Idle + t.Iowait, nil
}

func (c *cpuSnapshot) baseline(ctx context.Context) {
	if total, idle, err := readCPU(ctx); err == nil {
		*c = cpuSnapshot{ok: true, at: time.Now(), total: total, idle: idle}
	}
}

// collectCPU reports the share of non-idle CPU time since the previous reading, in percent of
// all CPUs (0..100). The caller holds s.roundMu.
func (s *Sampler) collectCPU(ctx context.Context, r *round) {
	total, idle, err := readCPU(ctx)
	if err != nil {
		r.fail("cpu", fmt.Errorf("cannot read CPU times: %w", err))
		return
	}
	at := time.Now()
	prev := s.cpu
	if prev.ok && at.Sub(prev.at) < minCPUWindow {
		return // too soon for a meaningful value; keep measuring from the older reading
	}
	s.cpu = cpuSnapshot{ok: true, at: at, total: total, idle: idle}
	if !prev.ok {
		return
	}
	dt := total - prev.total
	if dt <= 0 {
		return
	}
	busy := dt - (idle - prev.idle) // iowait may go backwards on Linux: clamp below
	r.add("host_cpu_usage_percent", min(max(busy/dt*100, 0), 100))
}

func collectLoad(ctx context.Context, r *round) {
	a, err := load.AvgWithContext(ctx)
	if err != nil {
		r.fail("load", fmt.Errorf("cannot read load averages: %w", err))
		return
	}
	r.add("host_load1", a.Load1)
	r.add("host_load5", a.Load5)
	r.add("host_load15", a.Load15)
}

func collectMemory(ctx context.Context, r *round) {
	if vm, err := mem.VirtualMemoryWithContext(ctx); err != nil {
		r.fail("memory", fmt.Errorf("cannot read memory usage: %w", err))
	} else {
		// Used is Total - Available, as free(1) counts it.
		r.add("host_memory_used_bytes", float64(vm.Used))
		r.add("host_memory_total_bytes", float64(vm.Total))
		r.add("host_memory_usage_percent", vm.UsedPercent)
	}
	if sw, err := mem.SwapMemoryWithContext(ctx); err != nil {
		r.fail("swap", fmt.Errorf("cannot read swap usage: %w", err))
	} else {
		r.add("host_swap_used_bytes", float64(sw.Used))
	}
}

// collectFilesystems reports the usage of real filesystems (see realFilesystems), as df does:
// used = blocks - free blocks; percent = used / (used + blocks available to unprivileged users).
func (s *Sampler) collectFilesystems(ctx context.Context, r *round) {
	parts, err := disk.PartitionsWithContext(ctx, true)
	if err != nil {
		r.fail("filesystems", fmt.Errorf("cannot list mounted filesystems: %w", err))
		return
	}
	for _, p := range realFilesystems(parts) {
		u, err := s.stuck.usage(ctx, p.Mountpoint, statfsTimeout)
		if err != nil {
			r.fail("filesystem "+p.Mountpoint, fmt.Errorf("cannot read usage of filesystem %q: %w", p.Mountpoint, err))
			continue
		}
		if u.Total == 0 {
			continue // a pseudo filesystem that slipped through the filter
		}
		l := tsdb.Label{Name: "mount", Value: p.Mountpoint}
		r.add("host_disk_used_bytes", float64(u.Used), l)
		r.add("host_disk_total_bytes", float64(u.Total), l)
		r.add("host_disk_usage_percent", u.UsedPercent, l)
	}
}

// collectDiskIO reports the bytes read and written by whole block devices (see
// keepDiskDevice) since boot.
func collectDiskIO(ctx context.Context, r *round) {
	m, err := disk.IOCountersWithContext(ctx)
	if err != nil {
		r.fail("disk_io", fmt.Errorf("cannot read disk IO counters: %w", err))
		// m may still hold the devices parsed before the error.
	}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if !keepDiskDevice(name) {
			continue
		}
		c := m[name]
		l := tsdb.Label{Name: "device", Value: name}
		r.add("host_disk_read_bytes_total", float64(c.ReadBytes), l)
		r.add("host_disk_written_bytes_total", float64(c.WriteBytes), l)
	}
}

// collectNetwork reports the bytes received and sent by every interface but the loopback.
func collectNetwork(ctx context.Context, r *round) {
	stats, err := psnet.IOCountersWithContext(ctx, true)
	if err != nil {
		r.fail("network", fmt.Errorf("cannot read network counters: %w", err))
		return
	}
	for _, st := range stats {
		if st.Name == "lo" {
			continue
		}
		l := tsdb.Label{Name: "interface", Value: st.Name}
		r.add("host_network_receive_bytes_total", float64(st.BytesRecv), l)
		r.add("host_network_transmit_bytes_total", float64(st.BytesSent), l)
	}
}
