package partials_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/internal/htmltest"
	"github.com/redwatch/redwatch/views/partials"
)

// cells returns the text of each <td> of row.
func cells(row *htmltest.Node) []string {
	var out []string
	for _, td := range htmltest.All(row, func(n *htmltest.Node) bool { return n.Data == "td" }) {
		out = append(out, htmltest.Text(td))
	}
	return out
}

func texts(d *htmltest.Doc, id string) []string {
	var out []string
	for _, n := range d.ByTestID(id) {
		out = append(out, htmltest.Text(n))
	}
	return out
}

func TestRedisSummary(t *testing.T) {
	d := htmltest.Render(t, partials.RedisSummary(partials.RedisSummaryProps{
		Card: card(), PingLatencySeconds: 0.0002, UptimeSeconds: 7380, FragmentationRatio: 1.234,
		BlockedClients: 2, NetInBytesPerSec: 1536, NetOutBytesPerSec: 0, ConnectedReplicas: 1,
		ReplicationLagBytes: 2048, SlowlogLength: 128, KeysWatched: 3, PatternsWatched: 1,
		PollURL: "/redis/cache?fragment=redis-summary",
	}))
	for id, want := range map[string]string{
		"instance-status":       "up",
		"redis-ops":             "12.3k ops/s",
		"redis-memory":          "1.5 GiB",
		"redis-memory-max":      "2.0 GiB",
		"redis-fragmentation":   "1.23",
		"redis-clients":         "1,234",
		"redis-blocked":         "2",
		"redis-hit-ratio":       "50.0%",
		"redis-uptime":          "2h 3m",
		"redis-ping":            "200µs",
		"redis-net-in":          "1.5 KiB/s",
		"redis-net-out":         "0 B/s",
		"redis-replicas":        "1",
		"redis-replication-lag": "2.0 KiB",
		"redis-slowlog-length":  "128",
		"redis-keys-watched":    "3 keys",
	} {
		if got := htmltest.Text(d.One(t, id)); got != want {
			t.Errorf("%s = %q; want %q", id, got, want)
		}
	}
	root := d.One(t, "redis-summary")
	if htmltest.Attr(root, "hx-get") != "/redis/cache?fragment=redis-summary" || htmltest.Attr(root, "hx-trigger") != "every 2000ms" {
		t.Errorf("summary does not poll")
	}
}

func tables() partials.RedisTablesProps {
	return partials.RedisTablesProps{
		Name: "cache",
		Slowlog: []partials.SlowlogRow{
			{ID: 1, Time: now.Add(-90 * time.Second), DurationSeconds: 0.25, Args: []string{"SET", "k\x01", strings.Repeat("v", 500)}, Client: "10.0.0.1:4000 (w)"},
		},
		Keyspace: []partials.KeyspaceRow{{DB: 0, Keys: 1500, Expires: 3, AvgTTLMs: 5000}},
		Commands: []partials.CommandRow{{Name: "get", Calls: 123456, UsecPerCall: 1.25, P50Seconds: 0.000003, P99Seconds: 0.00002}, {Name: "config|get", Calls: 3}},
		PollURL:  "/redis/cache?fragment=redis-tables",
		Now:      now,
	}
}

func clients() partials.RedisClientsProps {
	return partials.RedisClientsProps{
		Name: "cache",
		Clients: []partials.ClientRow{
			{ID: 7, Addr: "10.0.0.1:4000", Name: "w\x00<i>", User: "default", AgeSeconds: 185, IdleSeconds: 3, DB: 0, Cmd: "get", Flags: "N", MemoryBytes: 20480},
			{ID: 8, Addr: "<b>10.0.0.2</b>:4000", User: `<img src=x onerror=alert(1)>`, AgeSeconds: 5, IdleSeconds: 5, DB: 2, Cmd: "blpop", Flags: "b"},
		},
		Matched:   2,
		Total:     2,
		PollURL:   "/redis/cache?fragment=redis-clients",
		RefreshMs: 1500,
	}
}

func TestRedisClients(t *testing.T) {
	d := htmltest.Render(t, partials.RedisClients(clients()))
	if n := len(d.ByTestID("client-row")); n != 2 {
		t.Fatalf("%d client rows", n)
	}
	if got := texts(d, "client-name"); !slices.Equal(got, []string{`w\x00<i>`, "—"}) {
		t.Errorf("client names %q", got)
	}
	if got := texts(d, "client-addr"); !slices.Equal(got, []string{"10.0.0.1:4000", "<b>10.0.0.2</b>:4000"}) {
		t.Errorf("client addrs %q", got)
	}
	if got := texts(d, "client-user"); !slices.Equal(got, []string{"default", "<img src=x onerror=alert(1)>"}) {
		t.Errorf("client users %q", got)
	}
	if strings.Contains(d.HTML, "<i>") || strings.Contains(d.HTML, "<b>") || strings.Contains(d.HTML, "<img") {
		t.Errorf("client fields not escaped")
	}
	if got := texts(d, "client-age"); !slices.Equal(got, []string{"3m 5s", "5s"}) {
		t.Errorf("ages %q", got)
	}
	// Sort links; the default sort is idle, ascending.
	for id, want := range map[string]string{"sort-idle": "/redis/cache", "sort-age": "/redis/cache?sort=age", "sort-name": "/redis/cache?sort=name"} {
		if got := htmltest.Attr(d.One(t, id), "href"); got != want {
			t.Errorf("%s href %q; want %q", id, got, want)
		}
	}
	if got := htmltest.Attr(d.One(t, "sort-idle").Parent, "aria-sort"); got != "ascending" {
		t.Errorf("idle aria-sort %q", got)
	}
	// Polls itself, sending the filter input; a fixed-height scroll box whose scroll position
	// app.js keeps across swaps.
	root := d.One(t, "clients-body")
	for k, want := range map[string]string{"id": "redis-clients", "hx-get": "/redis/cache?fragment=redis-clients", "hx-trigger": "every 1500ms", "hx-swap": "outerHTML", "hx-include": "#client-filter"} {
		if got := htmltest.Attr(root, k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	wrap := d.One(t, "clients").Parent
	if _, ok := htmltest.LookupAttr(wrap, "data-keep-scroll"); !ok || htmltest.Attr(wrap, "id") == "" {
		t.Errorf("the table's scroll box lacks data-keep-scroll and an id")
	}
	if got := htmltest.Text(d.One(t, "clients-count")); got != "2 connections" {
		t.Errorf("count %q", got)
	}
	d.None(t, "clients-stale")
	if c := htmltest.Attr(root, "class"); !strings.Contains(c, "size-s") {
		t.Errorf("2 connections: class %q, want the small fixed height", c)
	}

	// Sorted by age, with the page's other parameters kept in the links; capped; stale.
	p := clients()
	p.Sort = partials.SortAge
	p.Total, p.Matched = 900, 900
	p.Stale = true
	p.Query = map[string][]string{"client": {"10."}, "range": {"7d"}, "sort": {"age"}}
	d = htmltest.Render(t, partials.RedisClients(p))
	if got := htmltest.Attr(d.One(t, "sort-age").Parent, "aria-sort"); got != "descending" {
		t.Errorf("age aria-sort %q", got)
	}
	if got := htmltest.Attr(d.One(t, "sort-idle").Parent, "aria-sort"); got != "none" {
		t.Errorf("idle aria-sort %q", got)
	}
	for id, want := range map[string]string{"sort-idle": "/redis/cache?client=10.&range=7d", "sort-name": "/redis/cache?client=10.&range=7d&sort=name"} {
		if got := htmltest.Attr(d.One(t, id), "href"); got != want {
			t.Errorf("%s href %q; want %q", id, got, want)
		}
	}
	count := d.One(t, "clients-count")
	if got := htmltest.Text(count); got != "showing 2 of 900 connections" || htmltest.Attr(count, "data-capped") != "true" {
		t.Errorf("cap note %q", got)
	}
	d.One(t, "clients-stale")
	if c := htmltest.Attr(d.One(t, "clients-body"), "class"); !strings.Contains(c, "size-l") || !strings.Contains(c, "is-stale") {
		t.Errorf("900 stale connections: class %q", c)
	}

	// Filtered.
	p = clients()
	p.Filter, p.Matched, p.Total = "10.0", 2, 5
	if got := htmltest.Text(htmltest.Render(t, partials.RedisClients(p)).One(t, "clients-count")); got != "2 of 5 connections match" {
		t.Errorf("filtered count %q", got)
	}
	p.Clients, p.Matched = nil, 0
	d = htmltest.Render(t, partials.RedisClients(p))
	if got := htmltest.Text(d.One(t, "no-matching-clients")); !strings.Contains(got, "10.0") {
		t.Errorf("no match note %q", got)
	}
	d.None(t, "clients")
}

func TestRedisTables(t *testing.T) {
	d := htmltest.Render(t, partials.RedisTables(tables()))
	d.None(t, "client-row")
	row := d.One(t, "slowlog-row")
	if got := cells(row); got[0] != "1m 30s ago" || got[1] != "250ms" || !strings.HasPrefix(got[2], `SET k\x01 vvv`) || got[3] != "10.0.0.1:4000 (w)" {
		t.Errorf("slowlog row %q", got)
	}
	args := d.One(t, "slowlog-args")
	if got := htmltest.Text(args); len([]rune(got)) != 301 || !strings.HasSuffix(got, "…") {
		t.Errorf("slowlog args not clipped to 300: %d runes", len([]rune(got)))
	}
	if got := texts(d, "keyspace-keys"); !slices.Equal(got, []string{"1,500"}) {
		t.Errorf("keyspace %q", got)
	}
	cmds := d.ByTestID("command-row")
	if len(cmds) != 2 || htmltest.Attr(cmds[1], "data-command") != "config|get" {
		t.Fatalf("commands wrong")
	}
	if got := cells(cmds[0]); !slices.Equal(got, []string{"get", "123,456", "1.2µs", "3µs", "20µs", "0"}) {
		t.Errorf("command row %q", got)
	}
	if got := cells(cmds[1]); !slices.Equal(got, []string{"config|get", "3", "—", "—", "—", "0"}) {
		t.Errorf("command row without latency stats %q", got)
	}
	d.None(t, "tables-stale")
	p := tables()
	p.Stale = true
	htmltest.Render(t, partials.RedisTables(p)).One(t, "tables-stale")
}

func TestRedisTablesEmpty(t *testing.T) {
	d := htmltest.Render(t, partials.RedisClients(partials.RedisClientsProps{Name: "x", Error: "NOPERM this user has no permissions to run the 'client|list' command"}))
	if got := htmltest.Text(d.One(t, "clients-error")); !strings.Contains(got, "NOPERM") {
		t.Errorf("clients error %q", got)
	}
	d.None(t, "client-row")
	d = htmltest.Render(t, partials.RedisTables(partials.RedisTablesProps{Name: "x"}))
	for _, id := range []string{"no-slowlog", "no-keyspace", "no-commands"} {
		d.One(t, id)
	}
	d = htmltest.Render(t, partials.RedisClients(partials.RedisClientsProps{Name: "x"}))
	d.One(t, "no-clients")
}

// A 70 KB client name (CLIENT SETNAME takes any length) shows its start and its size; its
// title is bounded, so the polled table stays small.
func TestRedisClientsLongName(t *testing.T) {
	p := clients()
	p.Clients[1].Name = strings.Repeat("n", 70_000)
	d := htmltest.Render(t, partials.RedisClients(p))
	cell := d.ByTestID("client-name")[1]
	if got := htmltest.Text(cell); got != strings.Repeat("n", partials.ClientNameMaxChars)+"… (70,000 bytes)" {
		t.Errorf("long client name shown as %d bytes ending %q", len(got), got[len(got)-20:])
	}
	if n := len(htmltest.Attr(cell, "title")); n > components.TitleMaxChars+len("…") {
		t.Errorf("title of %d bytes", n)
	}
	if len(d.HTML) > 20_000 {
		t.Errorf("the clients table of one long name is %d bytes", len(d.HTML))
	}
}
