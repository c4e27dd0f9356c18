package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/tsdb"
)

// hostSamples are one round of host metrics for host at ts (ms), as the host sampler writes
// them, with counters scaled by round so rates are positive.
func hostSamples(host string, ts int64, round int) []tsdb.Sample {
	l := func(kv ...string) []tsdb.Label { return lbls(append([]string{"host", host}, kv...)...) }
	r := float64(round)
	return []tsdb.Sample{
		{Name: "host_up", Labels: l(), Timestamp: ts, Value: 1},
		{Name: "host_cpu_usage_percent", Labels: l(), Timestamp: ts, Value: 12.5},
		{Name: "host_load1", Labels: l(), Timestamp: ts, Value: 0.5},
		{Name: "host_load5", Labels: l(), Timestamp: ts, Value: 0.25},
		{Name: "host_load15", Labels: l(), Timestamp: ts, Value: 0.125},
		{Name: "host_memory_used_bytes", Labels: l(), Timestamp: ts, Value: 2 << 30},
		{Name: "host_memory_total_bytes", Labels: l(), Timestamp: ts, Value: 8 << 30},
		{Name: "host_memory_usage_percent", Labels: l(), Timestamp: ts, Value: 25},
		{Name: "host_swap_used_bytes", Labels: l(), Timestamp: ts, Value: 1 << 20},
		{Name: "host_disk_usage_percent", Labels: l("mount", "/"), Timestamp: ts, Value: 40},
		{Name: "host_disk_usage_percent", Labels: l("mount", "/data"), Timestamp: ts, Value: 70},
		{Name: "host_disk_used_bytes", Labels: l("mount", "/"), Timestamp: ts, Value: 40 << 30},
		{Name: "host_disk_total_bytes", Labels: l("mount", "/"), Timestamp: ts, Value: 100 << 30},
		{Name: "host_disk_read_bytes_total", Labels: l("device", "sda"), Timestamp: ts, Value: r * 1e6},
		{Name: "host_disk_written_bytes_total", Labels: l("device", "sda"), Timestamp: ts, Value: r * 2e6},
		{Name: "host_network_receive_bytes_total", Labels: l("interface", "eth0"), Timestamp: ts, Value: r * 3e6},
		{Name: "host_network_receive_bytes_total", Labels: l("interface", "lo"), Timestamp: ts, Value: r * 1e3},
		{Name: "host_network_transmit_bytes_total", Labels: l("interface", "eth0"), Timestamp: ts, Value: r * 4e6},
	}
}

// hostRounds are rounds of host metrics every 10 s, the last one at last.
func hostRounds(host string, last time.Time, rounds int) []tsdb.Sample {
	var samples []tsdb.Sample
	for i := range rounds {
		ts := last.Add(-time.Duration(rounds-1-i) * 10 * time.Second).UnixMilli()
		samples = append(samples, hostSamples(host, ts, i)...)
	}
	return samples
}

// writeHost writes hostRounds into e's real tsdb and flushes them.
func (e *env) writeHost(host string, last time.Time, rounds int) {
	e.t.Helper()
	if err := e.db.Write(hostRounds(host, last, rounds)); err != nil {
		e.t.Fatal(err)
	}
	e.db.Flush()
}

// telegrafSamples are one round of Telegraf's default cpu, mem, disk, system and swap inputs
// and the net input for host at ts (ms), as the Influx line protocol stores them (field f of
// measurement m is m_f), counters scaled by round.
func telegrafSamples(host string, ts int64, round int) []tsdb.Sample {
	l := func(kv ...string) []tsdb.Label { return lbls(append([]string{"host", host}, kv...)...) }
	r := float64(round)
	return []tsdb.Sample{
		{Name: "cpu_usage_idle", Labels: l("cpu", "cpu-total"), Timestamp: ts, Value: 60},
		{Name: "cpu_usage_idle", Labels: l("cpu", "cpu0"), Timestamp: ts, Value: 10},
		{Name: "cpu_usage_user", Labels: l("cpu", "cpu-total"), Timestamp: ts, Value: 30},
		{Name: "mem_used_percent", Labels: l(), Timestamp: ts, Value: 50},
		{Name: "mem_used", Labels: l(), Timestamp: ts, Value: 2 << 30},
		{Name: "mem_total", Labels: l(), Timestamp: ts, Value: 4 << 30},
		{Name: "system_load1", Labels: l(), Timestamp: ts, Value: 1.5},
		{Name: "system_load5", Labels: l(), Timestamp: ts, Value: 1.25},
		{Name: "system_load15", Labels: l(), Timestamp: ts, Value: 1},
		{Name: "swap_used", Labels: l(), Timestamp: ts, Value: 0},
		{Name: "disk_used_percent", Labels: l("path", "/", "device", "sda1", "fstype", "ext4", "mode", "rw"), Timestamp: ts, Value: 81.5},
		{Name: "disk_used_percent", Labels: l("path", "/boot", "device", "sda2", "fstype", "ext4", "mode", "rw"), Timestamp: ts, Value: 20},
		{Name: "disk_used", Labels: l("path", "/", "device", "sda1", "fstype", "ext4", "mode", "rw"), Timestamp: ts, Value: 80 << 30},
		{Name: "disk_total", Labels: l("path", "/", "device", "sda1", "fstype", "ext4", "mode", "rw"), Timestamp: ts, Value: 100 << 30},
		{Name: "net_bytes_recv", Labels: l("interface", "eth0"), Timestamp: ts, Value: r * 1e5},
		{Name: "net_bytes_sent", Labels: l("interface", "eth0"), Timestamp: ts, Value: r * 2e5},
	}
}

// telegrafRounds are rounds of telegrafSamples every 10 s, the last one at last.
func telegrafRounds(host string, last time.Time, rounds int) []tsdb.Sample {
	var samples []tsdb.Sample
	for i := range rounds {
		ts := last.Add(-time.Duration(rounds-1-i) * 10 * time.Second).UnixMilli()
		samples = append(samples, telegrafSamples(host, ts, i)...)
	}
	return samples
}

// hostRowCells is a /hosts row's figures by data-testid.
func hostRowCells(t *testing.T, r *html.Node) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, id := range []string{"cpu-percent", "mem-percent", "disk-percent", "load", "net-rx", "net-tx", "host-source", "last-seen"} {
		out[id] = text(one(t, r, id))
	}
	return out
}

func TestHostList(t *testing.T) {
	t.Parallel()
	e, st := newLatestEnv(t)
	now := time.Now()
	st.write(hostRounds("testhost", now, 3))
	st.write(hostRounds(hostileKey, now, 3))
	st.write(hostRounds("other", now.Add(-10*time.Minute), 3)) // a pushing host that went quiet: stale
	st.write(telegrafRounds("tg-1", now, 3))
	c := e.login("viewer", viewerPass)

	res, body := e.do(c, "GET", "/hosts", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /hosts: %d %s", res.StatusCode, body)
	}
	if strings.Contains(body, hostileKey) {
		t.Fatal("a hostile host name is rendered as markup")
	}
	doc := parse(t, body)
	table := one(t, doc, "host-list")
	if attr(table, "hx-get") != "/hosts?fragment=host-table" || attr(table, "hx-swap") != "outerHTML" || attr(table, "hx-trigger") != "every 2000ms" {
		t.Errorf("the table does not poll itself: hx-get=%q hx-swap=%q hx-trigger=%q", attr(table, "hx-get"), attr(table, "hx-swap"), attr(table, "hx-trigger"))
	}
	rows := find(doc, "host-row")
	var got, states, links []string
	for _, r := range rows {
		got = append(got, attr(r, "data-host"))
		states = append(states, attr(r, "data-state"))
		links = append(links, attr(one(t, r, "host-link"), "href"))
		if name := text(one(t, r, "host-link")); name != attr(r, "data-host") {
			t.Errorf("row %q shows the name %q", attr(r, "data-host"), name)
		}
	}
	// This host first, then pushing hosts by name ("<" sorts before "o"), agents and Telegraf.
	if want := []string{"testhost", hostileKey, "other", "tg-1"}; !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	if want := []string{"live", "live", "stale", "live"}; !slices.Equal(states, want) {
		t.Errorf("states %q, want %q", states, want)
	}
	if want := []string{"/hosts/testhost", "/hosts/" + url.PathEscape(hostileKey), "/hosts/other", "/hosts/tg-1"}; !slices.Equal(links, want) {
		t.Errorf("links %q, want %q", links, want)
	}
	// The figures: host_* of this host; Telegraf's: CPU 100 - idle of cpu-total, the fullest
	// disk, rates of the net counters.
	wantCells := map[string]map[string]string{
		"testhost": {"cpu-percent": "12.5%", "mem-percent": "25.0%", "disk-percent": "70.0%", "load": "0.50 · 0.25 · 0.12",
			"net-rx": "↓ 293 KiB/s", "net-tx": "↑ 391 KiB/s", "host-source": "this host", "last-seen": "0s ago"},
		"tg-1": {"cpu-percent": "40.0%", "mem-percent": "50.0%", "disk-percent": "81.5%", "load": "1.50 · 1.25 · 1.00",
			"net-rx": "↓ 9.8 KiB/s", "net-tx": "↑ 19.5 KiB/s", "host-source": "Telegraf", "last-seen": "0s ago"},
	}
	for i, host := range []string{"testhost", "tg-1"} {
		r := rows[[]int{0, 3}[i]]
		cells := hostRowCells(t, r)
		for k, want := range wantCells[host] {
			if cells[k] != want {
				t.Errorf("%s %s = %q, want %q", host, k, cells[k], want)
			}
		}
		if attr(r, "data-source") != []string{"agent", "telegraf"}[i] {
			t.Errorf("%s source %q", host, attr(r, "data-source"))
		}
	}
	if got := text(one(t, doc, "host-count")); got != "4 hosts" {
		t.Errorf("host count %q", got)
	}
	if nav := navCurrent(doc); nav != "hosts" {
		t.Errorf("current nav item %q, want hosts", nav)
	}

	// The poll answers with only the table, fresh.
	res, body = e.do(c, "GET", "/hosts?fragment=host-table", nil, "HX-Request: true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("table poll: %d %s", res.StatusCode, body)
	}
	frag := assertFragment(t, body, "host-list")
	if n := len(find(frag, "host-row")); n != 4 {
		t.Errorf("table poll has %d rows, want 4", n)
	}
}

func TestHostListBeforeFirstSample(t *testing.T) {
	t.Parallel()
	e, _ := newLatestEnv(t)
	res, body := e.do(e.login("viewer", viewerPass), "GET", "/hosts", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /hosts: %d", res.StatusCode)
	}
	doc := parse(t, body)
	row := one(t, doc, "host-row")
	if n := len(find(doc, "no-hosts")); n != 0 {
		t.Errorf("%d no-hosts hints beside this host's row", n)
	}
	if attr(row, "data-host") != "testhost" || attr(row, "data-state") != "missing" {
		t.Fatalf("row host=%q state=%q, want testhost missing", attr(row, "data-host"), attr(row, "data-state"))
	}
	one(t, row, "missing")
}
