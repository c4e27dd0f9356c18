package pages_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/internal/htmltest"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

var t0 = time.Unix(1700000000, 0)

func instanceCard(name string) partials.InstanceCardProps {
	return partials.InstanceCardProps{Name: name, Addr: "127.0.0.1:6379", Up: true, LastSeen: t0, LastRunAt: t0, Now: t0.Add(time.Second), OpsPerSec: 10}
}

// assertOnly checks that a fragment holds no page chrome or charts and starts with its root.
func assertOnly(t *testing.T, d *htmltest.Doc, rootTestID string) {
	t.Helper()
	for _, bad := range []string{"<html", "<nav", "data-chart", "<form"} {
		if strings.Contains(d.HTML, bad) {
			t.Fatalf("fragment %s contains %q:\n%s", rootTestID, bad, d.HTML)
		}
	}
	root := d.One(t, rootTestID)
	if !strings.HasPrefix(strings.TrimSpace(d.HTML), "<"+root.Data) {
		t.Fatalf("fragment does not start with its root:\n%.80s", d.HTML)
	}
}

func TestOverviewInstances(t *testing.T) {
	p := pages.OverviewProps{
		Layout:    layout("alice", "viewer"),
		Hosts:     []partials.HostPanelProps{host("h1")},
		Instances: partials.InstanceCardsProps{Cards: []partials.InstanceCardProps{instanceCard("a"), instanceCard("b")}, PollURL: "/?fragment=instances"},
	}
	d := htmltest.Render(t, pages.Overview(p))
	section := d.One(t, "instances")
	if htmltest.Attr(section, "id") != "instances" {
		t.Errorf("the nav's /#instances target is gone")
	}
	cards := d.One(t, "instance-cards")
	if got := htmltest.Attr(cards, "hx-trigger"); got != "every 3000ms" {
		t.Errorf("cards refresh from layout: %q", got)
	}
	if n := len(d.ByTestID("instance-card")); n != 2 {
		t.Errorf("%d cards", n)
	}
	d.None(t, "no-instances")

	f := htmltest.RenderFragments(t, pages.Overview(p), pages.FragmentInstances)
	assertOnly(t, f, "instance-cards")
	f.None(t, "host-panel")
	if n := len(f.ByTestID("instance-card")); n != 2 {
		t.Errorf("fragment: %d cards", n)
	}
}

func TestRedisInstancePage(t *testing.T) {
	l := layout("alice", "viewer")
	l.RedisInstances = []string{"cache", `we"ird\name`}
	p := pages.RedisInstanceProps{
		Layout:       l,
		Name:         `we"ird\name`,
		Summary:      partials.RedisSummaryProps{Card: instanceCard(`we"ird\name`), PollURL: "/redis/x?fragment=redis-summary"},
		Clients:      partials.RedisClientsProps{Name: `we"ird\name`, Filter: `"><b>x`, Clients: []partials.ClientRow{{ID: 1}}, Matched: 1, Total: 1, PollURL: "/redis/x?fragment=redis-clients"},
		Tables:       partials.RedisTablesProps{Name: `we"ird\name`, PollURL: "/redis/x?fragment=redis-tables"},
		Range:        components.RangeProps{Current: "7d", Options: []components.RangeOption{{Key: "1h", URL: "/redis/x?range=1h"}, {Key: "7d", URL: "/redis/x?range=7d"}}, Action: "/redis/x"},
		RangeSeconds: 604800,
		FilterHidden: []components.HiddenField{{Name: "range", Value: "7d"}},
	}
	d := htmltest.Render(t, pages.RedisInstance(p))
	if got := htmltest.Text(d.Tag("title")[0]); got != `Redis we"ird\name · redwatch` {
		t.Errorf("title %q", got)
	}
	for id, want := range map[string]string{
		"ops-chart":       `redis_ops_per_second{instance="we\"ird\\name"}`,
		"memory-chart":    `{__name__=~"redis_memory_used_bytes|redis_memory_max_bytes",instance="we\"ird\\name"}`,
		"clients-chart":   `{__name__=~"redis_connected_clients|redis_blocked_clients",instance="we\"ird\\name"}`,
		"hit-ratio-chart": `redis_keyspace_hit_ratio{instance="we\"ird\\name"}`,
		"network-chart":   `{__name__=~"redis_net_input_bytes_total|redis_net_output_bytes_total",instance="we\"ird\\name"}`,
		"keys-chart":      `{__name__=~"redis_expired_keys_total|redis_evicted_keys_total",instance="we\"ird\\name"}`,
	} {
		n := d.One(t, id)
		if got := htmltest.Attr(n, "data-query"); got != want {
			t.Errorf("%s data-query %q; want %q", id, got, want)
		}
		if got := htmltest.Attr(n, "data-range"); got != "604800" {
			t.Errorf("%s data-range %q", id, got)
		}
		if _, ok := htmltest.LookupAttr(n, "data-start"); ok {
			t.Errorf("%s: data-start on a live range", id)
		}
	}
	for id, want := range map[string]string{"memory-chart": "bytes", "network-chart": "bytes_per_second", "hit-ratio-chart": "percent", "ops-chart": "ops", "keys-chart": "per_second"} {
		if got := htmltest.Attr(d.One(t, id), "data-unit"); got != want {
			t.Errorf("%s unit %q; want %q", id, got, want)
		}
	}
	if got := htmltest.Attr(d.One(t, "memory-chart"), "data-names"); got != `{"redis_memory_max_bytes":"maxmemory","redis_memory_used_bytes":"used"}` {
		t.Errorf("memory legend names %q", got)
	}
	d.One(t, "range-picker")
	if got := htmltest.Attr(d.One(t, "redis-keys-link"), "href"); got != `/keys?instance=we%22ird%5Cname` {
		t.Errorf("keys link %q", got)
	}
	for _, id := range []string{"redis-summary", "clients-body", "redis-tables"} {
		if got := htmltest.Attr(d.One(t, id), "hx-trigger"); got != "every 3000ms" {
			t.Errorf("%s refresh %q", id, got)
		}
	}
	d.One(t, "client-row")
	// The filter input keeps its (hostile) value as a value, outside the swapped element.
	in := d.One(t, "client-filter")
	if htmltest.Attr(in, "value") != `"><b>x` || strings.Contains(d.HTML, "<b>x") {
		t.Errorf("filter value %q not escaped", htmltest.Attr(in, "value"))
	}
	if htmltest.Attr(in, "hx-get") != "/redis/x?fragment=redis-clients" || htmltest.Attr(in, "hx-target") != "#redis-clients" {
		t.Errorf("filter input does not refresh the clients table")
	}
	// Nav: Redis is current, and so is this instance in its menu.
	for _, a := range d.ByTestID("nav-redis-instance") {
		cur := htmltest.Attr(a, "aria-current") == "page"
		if want := htmltest.Attr(a, "data-instance") == `we"ird\name`; cur != want {
			t.Errorf("nav %q current=%v", htmltest.Attr(a, "data-instance"), cur)
		}
	}

	f := htmltest.RenderFragments(t, pages.RedisInstance(p), pages.FragmentRedisSummary)
	assertOnly(t, f, "redis-summary")
	f.None(t, "client-row")
	f = htmltest.RenderFragments(t, pages.RedisInstance(p), pages.FragmentRedisClients)
	assertOnly(t, f, "clients-body")
	f.One(t, "client-row")
	f.None(t, "client-filter")
	f = htmltest.RenderFragments(t, pages.RedisInstance(p), pages.FragmentRedisTables)
	assertOnly(t, f, "redis-tables")
	f.None(t, "client-row")
	f.None(t, "redis-ops")

	// A fixed custom span reaches every chart.
	p.RangeSeconds, p.Start, p.End = 7200, 1700000000, 1700007200
	d = htmltest.Render(t, pages.RedisInstance(p))
	charts := htmltest.All(d.Root, func(n *htmltest.Node) bool { _, ok := htmltest.LookupAttr(n, "data-chart"); return ok })
	if len(charts) != len(pages.RedisCharts(p)) || len(charts) < 5 {
		t.Fatalf("%d charts", len(charts))
	}
	for _, n := range charts {
		if htmltest.Attr(n, "data-start") != "1700000000" || htmltest.Attr(n, "data-end") != "1700007200" || htmltest.Attr(n, "data-range") != "7200" {
			t.Errorf("%s: fixed span not passed on", htmltest.Attr(n, "data-testid"))
		}
	}
}

func TestKeyListPage(t *testing.T) {
	p := pages.KeyListProps{
		Layout:    layout("alice", "viewer"),
		Instances: []string{"a", "b"},
		Instance:  "b",
		Query:     `"><script>`,
		Keep:      []components.HiddenField{{Name: "sort", Value: "length"}, {Name: "range", Value: "6h"}},
		Range:     components.RangeProps{Current: "6h", Action: "/keys", Options: []components.RangeOption{{Key: "6h", URL: "/keys?range=6h"}}},
		Table: partials.KeyTableProps{
			Rows:    []partials.KeyRow{{Instance: "b", Key: "k1", Type: "list", Exists: true, LastSampled: t0}},
			Total:   1,
			PollURL: "/keys?fragment=key-table&instance=b",
			Now:     t0,
		},
	}
	d := htmltest.Render(t, pages.KeyList(p))
	if strings.Contains(d.HTML, `"><script>`) {
		t.Fatalf("query not escaped")
	}
	form := d.One(t, "key-search")
	if htmltest.Attr(form, "method") != "get" || htmltest.Attr(form, "action") != "/keys" {
		t.Errorf("form method/action wrong")
	}
	if got := htmltest.Attr(d.One(t, "key-q"), "value"); got != `"><script>` {
		t.Errorf("search box %q", got)
	}
	var selected []string
	for o := range d.One(t, "key-instance").Descendants() {
		if o.Data == "option" {
			if _, ok := htmltest.LookupAttr(o, "selected"); ok {
				selected = append(selected, htmltest.Attr(o, "value"))
			}
		}
	}
	if strings.Join(selected, ",") != "b" {
		t.Errorf("selected instance %v", selected)
	}
	d.One(t, "key-search-clear")
	d.One(t, "key-row")
	// A new search keeps the sort and the range; the range picker is outside the polled table.
	kept := inputs(form)
	if htmltest.Attr(kept["sort"], "value") != "length" || htmltest.Attr(kept["range"], "value") != "6h" {
		t.Errorf("search form does not keep sort and range")
	}
	if got := htmltest.Attr(d.One(t, "range-picker"), "data-testid"); got != "range-picker" {
		t.Errorf("no range picker")
	}
	if got := htmltest.Attr(d.One(t, "key-table"), "hx-trigger"); got != "every 3000ms" {
		t.Errorf("table refresh %q", got)
	}
	nav := htmltest.All(d.One(t, "nav"), func(n *htmltest.Node) bool { return htmltest.Attr(n, "aria-current") == "page" })
	if len(nav) != 1 || htmltest.Attr(nav[0], "data-nav") != layouts.NavKeys {
		t.Errorf("active nav wrong")
	}

	f := htmltest.RenderFragments(t, pages.KeyList(p), pages.FragmentKeyTable)
	assertOnly(t, f, "key-table")
	f.One(t, "key-row")

	// An unknown instance filter is kept selectable.
	p.Instance = "gone"
	d = htmltest.Render(t, pages.KeyList(p))
	if !strings.Contains(htmltest.Text(d.One(t, "key-instance")), "gone (unknown)") {
		t.Errorf("unknown instance not offered")
	}
}
