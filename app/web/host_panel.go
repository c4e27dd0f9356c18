package web

import (
	"net/url"
	"sort"
	"time"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// hostNames lists hosts with samples, this host first even before its first sample.
func (s *hostsHandler) hostNames() []string {
	seen := map[string]bool{}
	var names []string
	if s.localHost != "" {
		names = append(names, s.localHost)
		seen[s.localHost] = true
	}
	var others []string
	for _, lv := range s.latest.LatestByName("host_up") {
		if h := lv.Label("host"); !seen[h] {
			seen[h] = true
			others = append(others, h)
		}
	}
	sort.Strings(others)
	return append(names, others...)
}

// hostPanel builds one host's panel from the latest-value table.
func (s *hostsHandler) hostPanel(host string, now time.Time) partials.HostPanelProps {
	hl := tsdb.Label{Name: "host", Value: host}
	get := func(name string) float64 {
		lv, _ := s.latest.LatestOne(name, hl)
		return lv.Value
	}
	p := partials.HostPanelProps{
		Host:      host,
		PollURL:   "/?fragment=" + pages.FragmentHostPanel + "&host=" + url.QueryEscape(host),
		RefreshMs: int(s.refresh.Milliseconds()),
		Now:       now,
	}
	up, ok := s.latest.LatestOne("host_up", hl)
	if !ok {
		p.Missing = true
		return p
	}
	p.UpdatedAt = up.Time()
	p.Stale = now.Sub(p.UpdatedAt) > staleAfter(s.systemInterval)
	p.CPUPercent = get("host_cpu_usage_percent")
	p.Load1, p.Load5, p.Load15 = get("host_load1"), get("host_load5"), get("host_load15")
	p.MemUsedBytes, p.MemTotalBytes = get("host_memory_used_bytes"), get("host_memory_total_bytes")
	p.MemPercent = get("host_memory_usage_percent")
	p.SwapUsedBytes = get("host_swap_used_bytes")

	byMount := map[string]*partials.DiskStat{}
	var mounts []string
	disk := func(name string, set func(d *partials.DiskStat, v float64)) {
		for _, lv := range s.latest.LatestByName(name) {
			if lv.Label("host") != host {
				continue
			}
			m := lv.Label("mount")
			d := byMount[m]
			if d == nil {
				d = &partials.DiskStat{Mount: m}
				byMount[m] = d
				mounts = append(mounts, m)
			}
			set(d, lv.Value)
		}
	}
	disk("host_disk_usage_percent", func(d *partials.DiskStat, v float64) { d.Percent = v })
	disk("host_disk_used_bytes", func(d *partials.DiskStat, v float64) { d.UsedBytes = v })
	disk("host_disk_total_bytes", func(d *partials.DiskStat, v float64) { d.TotalBytes = v })
	sort.Strings(mounts)
	for _, m := range mounts {
		p.Disks = append(p.Disks, *byMount[m])
	}
	rate := func(name string) float64 {
		sum := 0.0
		for _, lv := range s.latest.LatestByName(name) {
			if lv.Label("host") == host {
				if r, ok := lv.Rate(); ok {
					sum += r
				}
			}
		}
		return sum
	}
	p.NetRxBytesPerSec = rate("host_network_receive_bytes_total")
	p.NetTxBytesPerSec = rate("host_network_transmit_bytes_total")
	return p
}
