package partials_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/views/internal/htmltest"
	"github.com/redwatch/redwatch/views/partials"
)

const GiB = 1 << 30

var now = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func sample() partials.HostPanelProps {
	return partials.HostPanelProps{
		Host:             "h1",
		CPUPercent:       12.5,
		Load1:            0.5,
		Load5:            0.25,
		Load15:           1,
		MemUsedBytes:     1.5 * GiB,
		MemTotalBytes:    16 * GiB,
		MemPercent:       9.375,
		SwapUsedBytes:    0,
		Disks:            []partials.DiskStat{{Mount: "/", UsedBytes: 40 * GiB, TotalBytes: 100 * GiB, Percent: 40}, {Mount: "/data", UsedBytes: 950 * GiB, TotalBytes: 1000 * GiB, Percent: 95}},
		NetRxBytesPerSec: 1536,
		NetTxBytesPerSec: 2.5 * 1024 * 1024,
		UpdatedAt:        now.Add(-3 * time.Second),
		PollURL:          "/partials/host/h1",
		RefreshMs:        2000,
		Now:              now,
	}
}

func TestHostPanelValues(t *testing.T) {
	d := htmltest.Render(t, partials.HostPanel(sample()))
	root := d.One(t, "host-panel")
	for k, want := range map[string]string{
		"id":         "host-h1",
		"hx-get":     "/partials/host/h1",
		"hx-trigger": "every 2000ms",
		"hx-swap":    "outerHTML",
		"data-host":  "h1",
	} {
		if got := htmltest.Attr(root, k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	for id, want := range map[string]string{
		"host-name":   "h1",
		"cpu-percent": "12.5%",
		"mem-percent": "9.4%",
		"mem-used":    "1.5 GiB",
		"mem-total":   "16.0 GiB",
		"load1":       "0.50",
		"load5":       "0.25",
		"load15":      "1.00",
		"swap-used":   "0 B",
		"net-rx":      "1.5 KiB/s",
		"net-tx":      "2.5 MiB/s",
		"live":        "live",
	} {
		if got := htmltest.Text(d.One(t, id)); got != want {
			t.Errorf("%s = %q; want %q", id, got, want)
		}
	}
	var pcts, mounts []string
	for _, n := range d.ByTestID("disk-percent") {
		pcts = append(pcts, htmltest.Text(n))
	}
	for _, n := range d.ByTestID("disk-mount") {
		mounts = append(mounts, htmltest.Text(n))
	}
	if got := strings.Join(pcts, ","); got != "40.0%,95.0%" {
		t.Errorf("disk-percent = %s", got)
	}
	if got := strings.Join(mounts, ","); got != "/,/data" {
		t.Errorf("disk-mount = %s", got)
	}
	if len(d.Tag("meter")) != 4 { // cpu, mem, 2 disks
		t.Errorf("meters = %d; want 4", len(d.Tag("meter")))
	}
	d.None(t, "stale")
	d.None(t, "missing")
}

func TestHostPanelStale(t *testing.T) {
	p := sample()
	p.Stale = true
	p.UpdatedAt = now.Add(-42 * time.Second)
	d := htmltest.Render(t, partials.HostPanel(p))
	if got := htmltest.Text(d.One(t, "stale")); got != "stale — last update 42s ago" {
		t.Errorf("stale badge = %q", got)
	}
	if !strings.Contains(htmltest.Attr(d.One(t, "host-panel"), "class"), "is-stale") {
		t.Errorf("panel lacks is-stale class")
	}
	d.None(t, "live")
	d.One(t, "cpu-percent") // values still shown, greyed
}

func TestHostPanelMissing(t *testing.T) {
	p := sample()
	p.Missing = true
	d := htmltest.Render(t, partials.HostPanel(p))
	if got := htmltest.Text(d.One(t, "missing")); !strings.Contains(got, "waiting for first sample") {
		t.Errorf("missing text = %q", got)
	}
	d.None(t, "cpu-percent")
	d.None(t, "stale")
	// Still polls, so the first sample shows up by itself.
	if htmltest.Attr(d.One(t, "host-panel"), "hx-get") == "" {
		t.Errorf("missing panel does not poll")
	}
}

func TestHostPanelNoPoll(t *testing.T) {
	p := sample()
	p.PollURL = ""
	p.RefreshMs = 0
	root := htmltest.Render(t, partials.HostPanel(p)).One(t, "host-panel")
	for _, k := range []string{"hx-get", "hx-trigger", "hx-swap"} {
		if _, ok := htmltest.LookupAttr(root, k); ok {
			t.Errorf("%s present without PollURL", k)
		}
	}
}

func TestHostPanelID(t *testing.T) {
	f := func(host string) string {
		t.Helper()
		id := partials.HostPanelID(host)
		for _, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				t.Fatalf("HostPanelID(%q) = %q has %q", host, id, r)
			}
		}
		return id
	}
	if got := f("web-1"); got != "host-web-1" {
		t.Errorf("HostPanelID(web-1) = %q", got)
	}
	seen := map[string]string{}
	for _, h := range []string{"a.b", "a-b", "a b", "A-B", "", `<script>"x`, "日本"} {
		id := f(h)
		if prev, dup := seen[id]; dup {
			t.Errorf("HostPanelID(%q) == HostPanelID(%q) == %q", h, prev, id)
		}
		seen[id] = h
	}
}
