package web

import (
	"math"
	"net/url"
	"sort"
	"time"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// telegrafHostSeries are the series whose host label names a host pushing Telegraf's default
// inputs (cpu, mem, system) through the Influx line protocol: field f of measurement m is the
// series m_f, tags are labels (Telegraf adds host=).
var telegrafHostSeries = []string{"cpu_usage_idle", "mem_used_percent", "system_load1"}

// telegrafCPUTotal is the cpu tag of Telegraf's all-CPU figures (totalcpu = true, its default).
const telegrafCPUTotal = "cpu-total"

// hostNames lists hosts with samples, this host first even before its first sample, then
// hosts that push host_* series (redwatch agent) or Telegraf's series, by name.
func (s *hostsHandler) hostNames() []string {
	seen := map[string]bool{}
	var names []string
	if s.localHost != "" {
		names = append(names, s.localHost)
		seen[s.localHost] = true
	}
	var others []string
	for _, name := range append([]string{"host_up"}, telegrafHostSeries...) {
		for _, lv := range s.latest.LatestByName(name) {
			if h := lv.Label("host"); h != "" && !seen[h] {
				seen[h] = true
				others = append(others, h)
			}
		}
	}
	sort.Strings(others)
	return append(names, others...)
}

// hostPanel builds one host's panel from the latest-value table: from the host_* series when
// the host has host_up (this host, redwatch agent), else from Telegraf's (telegrafPanel). A
// figure without a series is NaN, shown as unknown.
func (s *hostsHandler) hostPanel(host string, now time.Time) partials.HostPanelProps {
	p := partials.HostPanelProps{
		Host:      host,
		PollURL:   "/?fragment=" + pages.FragmentHostPanel + "&host=" + url.QueryEscape(host),
		RefreshMs: int(s.refresh.Milliseconds()),
		Now:       now,
		Source:    partials.HostSourceAgent,
	}
	hl := tsdb.Label{Name: "host", Value: host}
	up, ok := s.latest.LatestOne("host_up", hl)
	if !ok {
		if s.telegrafPanel(&p, now) {
			return p
		}
		p.Missing = true
		return p
	}
	get := func(name string) float64 {
		if lv, ok := s.latest.LatestOne(name, hl); ok {
			return lv.Value
		}
		return math.NaN()
	}
	p.UpdatedAt = up.Time()
	p.Stale = now.Sub(p.UpdatedAt) > staleAfter(s.systemInterval)
	p.CPUPercent = get("host_cpu_usage_percent")
	p.Load1, p.Load5, p.Load15 = get("host_load1"), get("host_load5"), get("host_load15")
	p.MemUsedBytes, p.MemTotalBytes = get("host_memory_used_bytes"), get("host_memory_total_bytes")
	p.MemPercent = get("host_memory_usage_percent")
	p.SwapUsedBytes = get("host_swap_used_bytes")
	p.Disks = s.hostDisks(host, "mount", "host_disk_usage_percent", "host_disk_used_bytes", "host_disk_total_bytes")
	p.NetRxBytesPerSec = s.hostRate(host, "host_network_receive_bytes_total")
	p.NetTxBytesPerSec = s.hostRate(host, "host_network_transmit_bytes_total")
	return p
}

// telegrafPanel fills p from Telegraf's default inputs: CPU is 100 - cpu_usage_idle of
// cpu-total; memory mem_used, mem_total, mem_used_percent; load system_load1/5/15; swap
// swap_used; disks disk_used_percent, disk_used, disk_total per path; network the rates of
// net_bytes_recv and net_bytes_sent (the net input, not on by default). UpdatedAt is the newest
// of the cpu, mem and system samples, stale after 3 of the intervals seen between its last two.
// It returns false when the host has none of those series.
func (s *hostsHandler) telegrafPanel(p *partials.HostPanelProps, now time.Time) bool {
	var newest *tsdb.LatestValue
	find := func(name string, match func(lv *tsdb.LatestValue) bool) float64 {
		lvs := s.latest.LatestByName(name)
		for i := range lvs {
			lv := &lvs[i]
			if lv.Label("host") != p.Host || (match != nil && !match(lv)) {
				continue
			}
			if newest == nil || lv.Timestamp > newest.Timestamp {
				newest = lv
			}
			return lv.Value
		}
		return math.NaN()
	}
	cpuTotal := func(lv *tsdb.LatestValue) bool { return lv.Label("cpu") == telegrafCPUTotal }
	p.CPUPercent = 100 - find("cpu_usage_idle", cpuTotal)
	p.MemPercent = find("mem_used_percent", nil)
	p.MemUsedBytes, p.MemTotalBytes = find("mem_used", nil), find("mem_total", nil)
	p.Load1, p.Load5, p.Load15 = find("system_load1", nil), find("system_load5", nil), find("system_load15", nil)
	if newest == nil {
		return false
	}
	last := *newest
	p.SwapUsedBytes = find("swap_used", nil)
	p.Source = partials.HostSourceTelegraf
	p.UpdatedAt = last.Time()
	iv := time.Duration(0)
	if last.PrevTimestamp > 0 && last.Timestamp > last.PrevTimestamp {
		iv = time.Duration(last.Timestamp-last.PrevTimestamp) * time.Millisecond
	}
	p.Stale = now.Sub(p.UpdatedAt) > staleAfter(iv)
	p.Disks = s.hostDisks(p.Host, "path", "disk_used_percent", "disk_used", "disk_total")
	p.NetRxBytesPerSec = s.hostRate(p.Host, "net_bytes_recv")
	p.NetTxBytesPerSec = s.hostRate(p.Host, "net_bytes_sent")
	return true
}

// hostDisks reads host's filesystems, keyed by the label mountLabel, from the series of their
// usage percent, used and total bytes; sorted by mount. A figure without a series is NaN.
func (s *hostsHandler) hostDisks(host, mountLabel, percent, used, total string) []partials.DiskStat {
	byMount := map[string]*partials.DiskStat{}
	var mounts []string
	disk := func(name string, set func(d *partials.DiskStat, v float64)) {
		for _, lv := range s.latest.LatestByName(name) {
			if lv.Label("host") != host {
				continue
			}
			m := lv.Label(mountLabel)
			d := byMount[m]
			if d == nil {
				d = &partials.DiskStat{Mount: m, Percent: math.NaN(), UsedBytes: math.NaN(), TotalBytes: math.NaN()}
				byMount[m] = d
				mounts = append(mounts, m)
			}
			set(d, lv.Value)
		}
	}
	disk(percent, func(d *partials.DiskStat, v float64) { d.Percent = v })
	disk(used, func(d *partials.DiskStat, v float64) { d.UsedBytes = v })
	disk(total, func(d *partials.DiskStat, v float64) { d.TotalBytes = v })
	sort.Strings(mounts)
	out := make([]partials.DiskStat, 0, len(mounts))
	for _, m := range mounts {
		out = append(out, *byMount[m])
	}
	return out
}

// hostRate is the sum over host's series of the counter name of their per-second rates; NaN
// when none has a rate yet (fewer than two samples) or the host has no such series.
func (s *hostsHandler) hostRate(host, name string) float64 {
	sum, known := 0.0, false
	for _, lv := range s.latest.LatestByName(name) {
		if lv.Label("host") == host {
			if r, ok := lv.Rate(); ok {
				sum, known = sum+r, true
			}
		}
	}
	if !known {
		return math.NaN()
	}
	return sum
}
