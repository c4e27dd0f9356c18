package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

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

func TestHostList(t *testing.T) {
	t.Parallel()
	e, st := newLatestEnv(t)
	now := time.Now()
	st.write(hostRounds("testhost", now, 3))
	st.write(hostRounds(hostileKey, now, 3))
	st.write(hostRounds("other", now.Add(-10*time.Minute), 3)) // a pushing host that went quiet: stale
	c := e.login("viewer", viewerPass)

	res, body := e.do(c, "GET", "/hosts", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /hosts: %d %s", res.StatusCode, body)
	}
	if strings.Contains(body, hostileKey) {
		t.Fatal("a hostile host name is rendered as markup")
	}
	doc := parse(t, body)
	rows := find(doc, "host-row")
	var got, states, links []string
	for _, r := range rows {
		got = append(got, attr(r, "data-host"))
		states = append(states, attr(r, "data-state"))
		links = append(links, attr(one(t, r, "host-link"), "href"))
		wantPoll := "/hosts?" + url.Values{"fragment": {"host-row"}, "host": {attr(r, "data-host")}}.Encode()
		if attr(r, "hx-get") != wantPoll || attr(r, "hx-swap") != "outerHTML" || attr(r, "hx-trigger") != "every 2000ms" {
			t.Errorf("row %q does not poll itself: hx-get=%q hx-swap=%q hx-trigger=%q", attr(r, "data-host"), attr(r, "hx-get"), attr(r, "hx-swap"), attr(r, "hx-trigger"))
		}
		// The panel inside is the host panel partial, not polling on its own.
		panel := one(t, r, "host-panel")
		if attr(panel, "hx-get") != "" {
			t.Errorf("row %q: the panel polls too (%q)", attr(r, "data-host"), attr(panel, "hx-get"))
		}
		if name := text(one(t, panel, "host-name")); name != attr(r, "data-host") {
			t.Errorf("panel name %q in row %q", name, attr(r, "data-host"))
		}
	}
	// This host first, then pushing hosts by name ("<" sorts before "o").
	if want := []string{"testhost", hostileKey, "other"}; !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	if want := []string{"live", "live", "stale"}; !slices.Equal(states, want) {
		t.Errorf("states %q, want %q", states, want)
	}
	if want := []string{"/hosts/testhost", "/hosts/" + url.PathEscape(hostileKey), "/hosts/other"}; !slices.Equal(links, want) {
		t.Errorf("links %q, want %q", links, want)
	}
	if n := len(find(rows[2], "stale")); n != 1 {
		t.Errorf("the stale host's panel shows %d stale badges, want 1", n)
	}
	if got := text(one(t, doc, "host-count")); got != "3 hosts" {
		t.Errorf("host count %q", got)
	}
	if nav := navCurrent(doc); nav != "hosts" {
		t.Errorf("current nav item %q, want hosts", nav)
	}

	// Each row's poll answers with only that row, fresh.
	for _, h := range []string{"testhost", hostileKey} {
		res, body = e.do(c, "GET", "/hosts?"+url.Values{"fragment": {"host-row"}, "host": {h}}.Encode(), nil, "HX-Request: true")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("row poll %q: %d %s", h, res.StatusCode, body)
		}
		frag := assertFragment(t, body, "host-row")
		if got := attr(one(t, frag, "host-row"), "data-host"); got != h {
			t.Errorf("row poll for %q answers %q", h, got)
		}
	}
	res, _ = e.do(c, "GET", "/hosts?fragment=host-row&host=nope", nil, "HX-Request: true")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("row poll for an unknown host: %d, want 404", res.StatusCode)
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
	if attr(row, "data-host") != "testhost" || attr(row, "data-state") != "missing" {
		t.Fatalf("row host=%q state=%q, want testhost missing", attr(row, "data-host"), attr(row, "data-state"))
	}
	one(t, row, "missing")
}
