package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// fakeRedis is a RedisSource holding plain snapshots set by the test.
type fakeRedis struct {
	mu        sync.Mutex
	instances []redis.InstanceSnapshot
	keys      []redis.KeySnapshot
	patterns  []redis.PatternSnapshot
}

var _ RedisSource = (*fakeRedis)(nil)

func (f *fakeRedis) set(ins []redis.InstanceSnapshot, keys []redis.KeySnapshot, pats []redis.PatternSnapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.instances, f.keys, f.patterns = ins, keys, pats
}

func (f *fakeRedis) Instances() []redis.InstanceSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.instances
}

func (f *fakeRedis) Instance(name string) (redis.InstanceSnapshot, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range f.instances {
		if in.Name == name {
			return in, true
		}
	}
	return redis.InstanceSnapshot{}, false
}

func (f *fakeRedis) Keys() []redis.KeySnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys
}

func (f *fakeRedis) Patterns() []redis.PatternSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.patterns
}

const (
	hostileKey = `<img src=x onerror=alert(1)>`
	mib        = 1 << 20
)

var longKey = "long:" + strings.Repeat("k", 10<<10)

func key(instance, name, typ string, length int64) redis.KeySnapshot {
	return redis.KeySnapshot{
		ID: redis.KeyID(instance, 0, name), Instance: instance, Key: name, Type: typ,
		Exists: true, Length: length, HasLength: true, MemoryBytes: 1024, TTLSeconds: -1,
		LastSampled: time.Now().Add(-2 * time.Second), Interval: 5 * time.Second,
	}
}

// fill gives e's fake two instances ("cache" up, "down" down and stale), five keys and a pattern.
func (e *env) fill() {
	now := time.Now()
	var cmds []redis.CommandStat
	for i := range 25 {
		cmds = append(cmds, redis.CommandStat{Name: fmt.Sprintf("cmd%02d", i), Calls: int64(1000 - i), UsecPerCall: 1.5, P50: 0.000012, P99: 0.0005})
	}
	cache := redis.InstanceSnapshot{
		Name: "cache", Addr: "127.0.0.1:6379", Interval: 10 * time.Second,
		Up: true, LastSeen: now, LastRunAt: now, PingLatency: 300 * time.Microsecond,
		Version: "7.2.4", Role: "master", Mode: "standalone", UptimeSeconds: 3 * 86400,
		OpsPerSec: 1500, MemoryUsedBytes: 512 * mib, MemoryMaxBytes: 1024 * mib, MemoryRSSBytes: 600 * mib,
		FragmentationRatio: 1.17, ConnectedClients: 3, BlockedClients: 1, RedwatchConnections: 2,
		HitRatio: 0.9876, HitRatioKnown: true, NetInputBytesPerSec: 2048, NetOutputBytesPerSec: 4096,
		Keyspace: []redis.DBKeys{{DB: 0, Keys: 12345, Expires: 10, AvgTTL: 60000}, {DB: 3, Keys: 7}},
		Commands: cmds,
		Clients: []redis.Client{
			{ID: 1, Addr: "10.0.0.1:5000", Name: "worker", AgeSeconds: 100, IdleSeconds: 50, Cmd: "blpop", Flags: "b", MemoryBytes: 20000},
			{ID: 2, Addr: "10.0.0.2:5000", Name: "", AgeSeconds: 900, IdleSeconds: 0, Cmd: "get", Flags: "N", Redwatch: true},
			{ID: 3, Addr: "10.0.0.3:5000", Name: "api", AgeSeconds: 10, IdleSeconds: 5, Cmd: "set", Flags: "N"},
		},
		Slowlog: []redis.SlowlogEntry{
			{ID: 2, Time: now.Add(-time.Minute), Micros: 120000, Args: []string{"EVAL", "<script>alert(1)</script>", "0"}, ClientAddr: "10.0.0.1:5000", ClientName: "worker"},
			{ID: 1, Time: now.Add(-time.Hour), Micros: 25000, Args: []string{"KEYS", "*"}},
		},
		SlowlogLength: 2, KeysWatched: 4, PatternsWatched: 1,
	}
	down := redis.InstanceSnapshot{
		Name: "down", Addr: "10.9.9.9:6379", Interval: 10 * time.Second,
		Up: false, Error: "dial tcp 10.9.9.9:6379: connection refused",
		LastSeen: now.Add(-time.Hour), LastRunAt: now.Add(-5 * time.Minute),
	}
	stale := key("down", "queue:emails", "list", 7)
	stale.LastSampled = now.Add(-time.Minute) // 3 intervals are 15s
	missing := key("cache", "gone", "none", 0)
	missing.Exists, missing.HasLength = false, false
	keys := []redis.KeySnapshot{
		key("cache", hostileKey, "string", 5),
		missing,
		key("cache", longKey, "hash", 3),
		key("cache", "queue:Emails", "list", 1234567),
		stale,
	}
	pats := []redis.PatternSnapshot{{Instance: "cache", Pattern: "session:*", Matched: 5, Tracked: 2, MaxKeys: 1000, LengthSum: 99, LastScan: now}}
	e.redis.set([]redis.InstanceSnapshot{cache, down}, keys, pats)
}

// parse parses an HTML body; find and friends query it by data-testid.
func parse(t *testing.T, body string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("cannot parse HTML: %s", err)
	}
	return n
}

func find(n *html.Node, testID string) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && attr(d, "data-testid") == testID {
			out = append(out, d)
		}
	}
	return out
}

func one(t *testing.T, n *html.Node, testID string) *html.Node {
	t.Helper()
	ns := find(n, testID)
	if len(ns) != 1 {
		t.Fatalf("want one data-testid=%q, found %d", testID, len(ns))
	}
	return ns[0]
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// texts returns the text of every element with testID, in document order.
func texts(n *html.Node, testID string) []string {
	var out []string
	for _, d := range find(n, testID) {
		out = append(out, text(d))
	}
	return out
}

// assertFragment checks that body is only a polled fragment: no document, nav or charts, and
// its first element is the polled root carrying hx-get.
func assertFragment(t *testing.T, body, rootTestID string) *html.Node {
	t.Helper()
	for _, bad := range []string{"<html", "<head>", "<body", "<nav", "data-chart", "<title"} {
		if strings.Contains(body, bad) {
			t.Fatalf("fragment %s contains %q:\n%.300s", rootTestID, bad, body)
		}
	}
	doc := parse(t, body)
	root := one(t, doc, rootTestID)
	if attr(root, "hx-get") == "" || attr(root, "hx-swap") != "outerHTML" {
		t.Fatalf("fragment root %s does not poll itself: hx-get=%q hx-swap=%q", rootTestID, attr(root, "hx-get"), attr(root, "hx-swap"))
	}
	if !strings.HasPrefix(strings.TrimSpace(body), "<"+root.Data) {
		t.Fatalf("fragment does not start with its root <%s>: %.80s", root.Data, body)
	}
	return doc
}

func TestRedisRoutesRegisteredAndProtected(t *testing.T) {
	e := newEnv(t)
	e.fill()
	have := map[string]bool{}
	for _, r := range e.srv.Echo().Routes() {
		have[r.Method+" "+r.Path] = true
	}
	for _, r := range []string{"GET /api/instances", "GET /api/keys", "GET /redis/:name", "GET /keys"} {
		if !have[r] {
			t.Errorf("route %s missing", r)
		}
	}
	for _, p := range []string{"/api/instances", "/api/keys", "/redis/cache", "/keys", "/?fragment=instances", "/keys?fragment=key-table"} {
		res, body := e.do(nil, "GET", p, nil)
		if res.StatusCode != http.StatusUnauthorized || strings.Contains(body, "cache") {
			t.Errorf("%s without login: %d %q", p, res.StatusCode, body)
		}
		res, _ = e.do(nil, "GET", p, nil, "Accept: text/html")
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("%s from a browser without login: %d, want 303", p, res.StatusCode)
		}
	}
}

func TestAPIInstances(t *testing.T) {
	e := newEnv(t)
	viewer := "Authorization: Basic " + basic("viewer", viewerPass)

	res, body := e.do(nil, "GET", "/api/instances", nil, viewer)
	if res.StatusCode != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("no instances: %d %s, want []", res.StatusCode, body)
	}

	e.fill()
	res, body = e.do(nil, "GET", "/api/instances", nil, viewer)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("instances: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("not a JSON array: %s", err)
	}
	if len(got) != 2 || got[0]["name"] != "cache" || got[1]["name"] != "down" {
		t.Fatalf("instances: %s", body)
	}
	c := got[0]
	for k, want := range map[string]any{"addr": "127.0.0.1:6379", "up": true, "version": "7.2.4", "ops_per_second": 1500.0, "connected_clients": 3.0, "keyspace_hit_ratio": 0.9876} {
		if c[k] != want {
			t.Errorf("cache %s = %v, want %v", k, c[k], want)
		}
	}
	if cl, _ := c["clients"].([]any); len(cl) != 3 {
		t.Errorf("cache clients: %v", c["clients"])
	}
	if got[1]["up"] != false || got[1]["error"] == "" {
		t.Errorf("down: %v", got[1])
	}
	if strings.Contains(strings.ToLower(body), "password") {
		t.Errorf("instances JSON mentions a password")
	}

	f := func(query string, want ...string) {
		t.Helper()
		res, body := e.do(nil, "GET", "/api/instances?"+query, nil, viewer)
		var got []redis.InstanceSnapshot
		if err := json.Unmarshal([]byte(body), &got); res.StatusCode != 200 || err != nil || got == nil {
			t.Fatalf("%s: %d %s", query, res.StatusCode, body)
		}
		var names []string
		for _, in := range got {
			names = append(names, in.Name)
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: %v, want %v", query, names, want)
		}
	}
	f("name=cache", "cache")
	f("name=down", "down")
	f("name=nope")
	f("name=", "cache", "down")
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	viewer := "Authorization: Basic " + basic("viewer", viewerPass)
	type resp struct {
		Keys     []redis.KeySnapshot
		Patterns []redis.PatternSnapshot
		Total    int
	}
	get := func(query string) (resp, string) {
		t.Helper()
		res, body := e.do(nil, "GET", "/api/keys?"+query, nil, viewer)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", query, res.StatusCode, body)
		}
		var r resp
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("%s: not JSON: %s", query, err)
		}
		return r, body
	}

	r, body := get("")
	if r.Total != 0 || !strings.Contains(body, `"keys":[]`) || !strings.Contains(body, `"patterns":[]`) {
		t.Fatalf("no keys: %s", body)
	}

	e.fill()
	r, body = get("")
	if r.Total != 5 || len(r.Keys) != 5 || len(r.Patterns) != 1 || r.Patterns[0].Pattern != "session:*" {
		t.Fatalf("all keys: %s", body)
	}
	if r.Keys[0].Key != hostileKey || r.Keys[0].ID == "" || r.Keys[0].Type != "string" {
		t.Errorf("first key: %+v", r.Keys[0])
	}
	f := func(query string, total int, want ...string) {
		t.Helper()
		r, body := get(query)
		var keys []string
		for _, k := range r.Keys {
			keys = append(keys, k.Instance+"/"+k.Key)
		}
		if r.Total != total || !slices.Equal(keys, want) {
			t.Errorf("%s: total %d keys %q, want %d %q (%.200s)", query, r.Total, keys, total, want, body)
		}
	}
	f("instance=down", 1, "down/queue:emails")
	f("q=queue", 2, "cache/queue:Emails", "down/queue:emails")
	f("q=EMAILS&instance=cache", 1, "cache/queue:Emails")
	f("q=nothing-like-this", 0)
	f("limit=2", 5, "cache/"+hostileKey, "cache/gone")
	f("limit=2&offset=3", 5, "cache/queue:Emails", "down/queue:emails")
	f("offset=10", 5)
	f("limit=0", 5)
	if r, _ := get("instance=down"); len(r.Patterns) != 0 {
		t.Errorf("patterns not filtered by instance: %+v", r.Patterns)
	}

	for _, bad := range []string{"limit=x", "limit=-1", "offset=-5", "offset=1.5"} {
		res, body := e.do(nil, "GET", "/api/keys?"+bad, nil, viewer)
		if res.StatusCode != 400 || decode(t, body)["error"] == "" {
			t.Errorf("%s: %d %s, want 400 with a reason", bad, res.StatusCode, body)
		}
	}

	// Limit: default 1000, at most 10000.
	many := make([]redis.KeySnapshot, 10050)
	for i := range many {
		many[i] = key("cache", fmt.Sprintf("k%05d", i), "string", 1)
	}
	e.redis.set(nil, many, nil)
	if r, _ := get(""); r.Total != 10050 || len(r.Keys) != 1000 {
		t.Errorf("default limit: total %d, %d keys", r.Total, len(r.Keys))
	}
	if r, _ := get("limit=20000"); r.Total != 10050 || len(r.Keys) != 10000 {
		t.Errorf("limit cap: total %d, %d keys", r.Total, len(r.Keys))
	}
}

func TestOverviewInstanceCards(t *testing.T) {
	e := newEnv(t)
	c := e.login("viewer", viewerPass)

	// No instances: a hint how to add one.
	res, body := e.do(c, "GET", "/", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("GET /: %d", res.StatusCode)
	}
	doc := parse(t, body)
	if hint := text(one(t, doc, "no-instances")); !strings.Contains(hint, "[[redis]]") {
		t.Errorf("no-instances hint = %q", hint)
	}
	if len(find(doc, "instance-card")) != 0 {
		t.Errorf("cards without instances")
	}

	e.fill()
	res, body = e.do(c, "GET", "/", nil, "Accept: text/html")
	doc = parse(t, body)
	if res.StatusCode != 200 || len(find(doc, "host-panel")) != 1 {
		t.Fatalf("GET /: %d", res.StatusCode)
	}
	cards := one(t, doc, "instance-cards")
	if got := attr(cards, "hx-get"); got != "/?fragment=instances" {
		t.Errorf("cards poll %q", got)
	}
	if got := attr(cards, "hx-trigger"); got != "every 2000ms" {
		t.Errorf("cards poll every %q", got)
	}
	checkCards(t, doc)

	// Nav: the Redis menu links each instance.
	var links []string
	for _, a := range find(doc, "nav-redis-instance") {
		links = append(links, attr(a, "href"))
	}
	if !slices.Equal(links, []string{"/redis/cache", "/redis/down"}) {
		t.Errorf("nav instance links %v", links)
	}

	// The fragment holds only the cards.
	res, body = e.do(c, "GET", "/?fragment=instances", nil, "HX-Request: true")
	if res.StatusCode != 200 {
		t.Fatalf("fragment: %d", res.StatusCode)
	}
	doc = assertFragment(t, body, "instance-cards")
	if len(find(doc, "host-panel")) != 0 {
		t.Errorf("instances fragment holds a host panel")
	}
	checkCards(t, doc)
}

func checkCards(t *testing.T, doc *html.Node) {
	t.Helper()
	cards := find(doc, "instance-card")
	if len(cards) != 2 || attr(cards[0], "data-instance") != "cache" || attr(cards[1], "data-instance") != "down" {
		t.Fatalf("cards: %d", len(cards))
	}
	up, down := cards[0], cards[1]
	for id, want := range map[string]string{
		"instance-status":     "up",
		"instance-ops":        "1500 ops/s",
		"instance-memory":     "512 MiB",
		"instance-memory-max": "1.0 GiB",
		"instance-clients":    "3",
		"instance-hit-ratio":  "98.8%",
		"instance-addr":       "127.0.0.1:6379",
		"instance-role":       "7.2.4 · master",
		"instance-last-seen":  "0s ago",
	} {
		if got := text(one(t, up, id)); got != want {
			t.Errorf("cache %s = %q, want %q", id, got, want)
		}
	}
	if got := attr(one(t, up, "instance-name"), "href"); got != "/redis/cache" {
		t.Errorf("card link %q", got)
	}
	one(t, up, "instance-memory-meter")
	if len(find(up, "instance-stale")) != 0 {
		t.Errorf("fresh instance marked stale")
	}
	for id, want := range map[string]string{
		"instance-status":    "down",
		"instance-stale":     "stale",
		"instance-hit-ratio": "—",
		"instance-last-seen": "1h 0m ago",
		"instance-error":     "dial tcp 10.9.9.9:6379: connection refused",
	} {
		if got := text(one(t, down, id)); got != want {
			t.Errorf("down %s = %q, want %q", id, got, want)
		}
	}
}

func TestRedisInstancePage(t *testing.T) {
	e := newEnv(t)
	e.fill()
	c := e.login("viewer", viewerPass)

	res, body := e.do(c, "GET", "/redis/cache", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("GET /redis/cache: %d", res.StatusCode)
	}
	doc := parse(t, body)
	for id, want := range map[string]string{
		"redis-name":                 "cache",
		"instance-status":            "up",
		"redis-ops":                  "1500 ops/s",
		"redis-memory":               "512 MiB",
		"redis-memory-max":           "1.0 GiB",
		"redis-clients":              "3",
		"redis-blocked":              "1",
		"redis-redwatch-connections": "2",
		"redis-hit-ratio":            "98.8%",
		"redis-uptime":               "3d 0h",
		"redis-fragmentation":        "1.17",
		"redis-net-in":               "2.0 KiB/s",
		"redis-net-out":              "4.0 KiB/s",
		"redis-replicas":             "0",
		"redis-slowlog-length":       "2",
		"redis-ping":                 "300µs",
		"redis-replication-lag":      "0 B",
	} {
		if got := text(one(t, doc, id)); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	// redwatch's own connection is marked in the client list.
	if b := find(doc, "client-redwatch"); len(b) != 1 {
		t.Errorf("%d connections marked redwatch, want 1", len(b))
	}
	// Every chart asks for this instance's series over the default range (1 h, live).
	for id, want := range map[string][2]string{
		"ops-chart":       {`redis_ops_per_second{instance="cache"}`, ""},
		"memory-chart":    {`{__name__=~"redis_memory_used_bytes|redis_memory_max_bytes",instance="cache"}`, ""},
		"clients-chart":   {`{__name__=~"redis_connected_clients|redis_blocked_clients",instance="cache"}`, ""},
		"hit-ratio-chart": {`redis_keyspace_hit_ratio{instance="cache"}`, ""},
		"network-chart":   {`{__name__=~"redis_net_input_bytes_total|redis_net_output_bytes_total",instance="cache"}`, "rate"},
		"keys-chart":      {`{__name__=~"redis_expired_keys_total|redis_evicted_keys_total",instance="cache"}`, "rate"},
	} {
		ch := one(t, doc, id)
		if got := attr(ch, "data-query"); got != want[0] {
			t.Errorf("%s data-query = %q, want %q", id, got, want[0])
		}
		if got := attr(ch, "data-agg"); got != want[1] {
			t.Errorf("%s data-agg = %q, want %q", id, got, want[1])
		}
		if got := attr(ch, "data-range"); got != "3600" {
			t.Errorf("%s data-range = %q, want 3600", id, got)
		}
		if _, fixed := lookupAttr(ch, "data-start"); fixed {
			t.Errorf("%s has data-start on a live range", id)
		}
	}
	// The selectors parse, and the chart API answers them.
	for _, ch := range findAttr(doc, "data-chart") {
		q := attr(ch, "data-query")
		res, body := e.do(c, "GET", "/api/v1/query_range?step=60&agg="+attr(ch, "data-agg")+"&query="+url.QueryEscape(q), nil)
		if res.StatusCode != 200 || decode(t, body)["status"] != "success" {
			t.Errorf("query_range %s: %d %s", q, res.StatusCode, body)
		}
	}
	if got := attr(one(t, doc, "hit-ratio-chart"), "data-scale"); got != "100" {
		t.Errorf("hit ratio chart scale %q", got)
	}
	if got := attr(one(t, doc, "hit-ratio-chart"), "data-unit"); got != "percent" {
		t.Errorf("hit ratio chart unit %q", got)
	}
	if got := attr(one(t, doc, "range-picker"), "aria-label"); got == "" {
		t.Errorf("range picker unlabelled")
	}
	summary, clients, tables := one(t, doc, "redis-summary"), one(t, doc, "clients-body"), one(t, doc, "redis-tables")
	for n, want := range map[*html.Node]string{
		summary: "/redis/cache?fragment=redis-summary",
		clients: "/redis/cache?fragment=redis-clients",
		tables:  "/redis/cache?fragment=redis-tables",
	} {
		if got := attr(n, "hx-get"); got != want {
			t.Errorf("%s polls %q, want %q", attr(n, "data-testid"), got, want)
		}
	}
	// The filter input lives outside the polled clients element (so it keeps focus) and is sent
	// with every poll.
	filter := one(t, doc, "client-filter")
	if attr(clients, "hx-include") != "#client-filter" || attr(filter, "id") != "client-filter" || attr(filter, "name") != "client" {
		t.Errorf("clients poll does not include the filter input")
	}
	if len(find(clients, "client-filter")) != 0 {
		t.Errorf("the filter input is inside the swapped element")
	}
	if attr(filter, "hx-get") != "/redis/cache?fragment=redis-clients" || attr(filter, "hx-target") != "#redis-clients" {
		t.Errorf("filter input: hx-get %q hx-target %q", attr(filter, "hx-get"), attr(filter, "hx-target"))
	}
	for _, n := range []*html.Node{summary, clients, tables} {
		if len(find(n, "ops-chart")) != 0 || len(find(n, "range-picker")) != 0 {
			t.Errorf("a chart or the range picker is inside polled fragment %s", attr(n, "data-testid"))
		}
	}
	if got := attr(one(t, doc, "redis-keys-link"), "href"); got != "/keys?instance=cache" {
		t.Errorf("keys link %q", got)
	}
	// The nav marks Redis and this instance as current.
	cur := 0
	for _, a := range find(doc, "nav-redis-instance") {
		if attr(a, "aria-current") == "page" {
			cur++
			if attr(a, "data-instance") != "cache" {
				t.Errorf("current nav instance %q", attr(a, "data-instance"))
			}
		}
	}
	if cur != 1 {
		t.Errorf("%d current nav instances", cur)
	}

	// Clients, sorted by idle (default), age (oldest first) or name (named first).
	clientIDs := func(doc *html.Node) []string {
		var ids []string
		for _, r := range find(doc, "client-row") {
			ids = append(ids, attr(r, "data-client-id"))
		}
		return ids
	}
	if got := clientIDs(doc); !slices.Equal(got, []string{"2", "3", "1"}) {
		t.Errorf("clients by idle: %v", got)
	}
	for sort, want := range map[string][]string{"age": {"2", "1", "3"}, "name": {"3", "1", "2"}, "idle": {"2", "3", "1"}, "bogus": {"2", "3", "1"}} {
		res, body := e.do(c, "GET", "/redis/cache?sort="+sort, nil, "Accept: text/html")
		if got := clientIDs(parse(t, body)); res.StatusCode != 200 || !slices.Equal(got, want) {
			t.Errorf("clients by %s: %d %v, want %v", sort, res.StatusCode, got, want)
		}
	}

	// Slowlog, keyspace, top 20 commands.
	if got := texts(doc, "slowlog-args"); len(got) != 2 || got[0] != "EVAL <script>alert(1)</script> 0" || got[1] != "KEYS *" {
		t.Errorf("slowlog args %q", got)
	}
	if strings.Contains(body, "<script>alert") {
		t.Errorf("slowlog args rendered unescaped")
	}
	if got := texts(doc, "slowlog-duration"); !slices.Equal(got, []string{"120ms", "25ms"}) {
		t.Errorf("slowlog durations %q", got)
	}
	if got := texts(doc, "keyspace-keys"); !slices.Equal(got, []string{"12,345", "7"}) {
		t.Errorf("keyspace %q", got)
	}
	if n := len(find(doc, "command-row")); n != 20 {
		t.Errorf("%d command rows, want 20", n)
	}

	// Fragments.
	res, body = e.do(c, "GET", "/redis/cache?fragment=redis-summary", nil, "HX-Request: true")
	if res.StatusCode != 200 {
		t.Fatalf("summary fragment: %d", res.StatusCode)
	}
	frag := assertFragment(t, body, "redis-summary")
	if len(find(frag, "client-row")) != 0 || text(one(t, frag, "redis-ops")) != "1500 ops/s" {
		t.Errorf("summary fragment content wrong")
	}
	res, body = e.do(c, "GET", "/redis/cache?fragment=redis-clients&sort=age&range=7d", nil, "HX-Request: true")
	if res.StatusCode != 200 {
		t.Fatalf("clients fragment: %d", res.StatusCode)
	}
	frag = assertFragment(t, body, "clients-body")
	if got := clientIDs(frag); !slices.Equal(got, []string{"2", "1", "3"}) || len(find(frag, "redis-ops"))+len(find(frag, "slowlog-row")) != 0 {
		t.Errorf("clients fragment: clients %v", got)
	}
	if got := attr(one(t, frag, "clients-body"), "hx-get"); got != "/redis/cache?fragment=redis-clients&range=7d&sort=age" {
		t.Errorf("sorted clients poll %q", got)
	}
	res, body = e.do(c, "GET", "/redis/cache?fragment=redis-tables", nil, "HX-Request: true")
	if res.StatusCode != 200 {
		t.Fatalf("tables fragment: %d", res.StatusCode)
	}
	frag = assertFragment(t, body, "redis-tables")
	if len(find(frag, "slowlog-row")) != 2 || len(find(frag, "client-row"))+len(find(frag, "redis-ops")) != 0 {
		t.Errorf("tables fragment content wrong")
	}

	// A down instance renders too.
	res, body = e.do(c, "GET", "/redis/down", nil, "Accept: text/html")
	doc = parse(t, body)
	if res.StatusCode != 200 || text(one(t, doc, "instance-status")) != "down" || len(find(doc, "no-clients")) != 1 {
		t.Errorf("down instance page: %d", res.StatusCode)
	}

	// Unknown instance: 404 page for browsers, JSON for API clients.
	res, body = e.do(c, "GET", "/redis/nope", nil, "Accept: text/html")
	doc = parse(t, body)
	if res.StatusCode != 404 || attr(one(t, doc, "error-page"), "data-code") != "404" || !strings.Contains(text(one(t, doc, "error-message")), "nope") {
		t.Errorf("unknown instance page: %d %.300s", res.StatusCode, body)
	}
	res, body = e.do(c, "GET", "/redis/nope", nil)
	if res.StatusCode != 404 || decode(t, body)["status"] != "error" {
		t.Errorf("unknown instance JSON: %d %s", res.StatusCode, body)
	}
	res, _ = e.do(c, "GET", "/redis/"+url.PathEscape(`<x>`)+"?fragment=redis-tables", nil, "HX-Request: true", "Accept: text/html")
	if res.StatusCode != 404 {
		t.Errorf("unknown instance fragment: %d", res.StatusCode)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Options.Redis nil (no Redis configured): pages and API work and show nothing.
func TestNoRedisSource(t *testing.T) {
	e := newEnv(t)
	e.srv.opts.Redis, e.srv.page.redis = noRedis{}, noRedis{}
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/", nil, "Accept: text/html")
	if doc := parse(t, body); res.StatusCode != 200 || len(find(doc, "no-instances")) != 1 || len(find(doc, "nav-redis-menu")) != 0 {
		t.Errorf("overview without a source: %d", res.StatusCode)
	}
	res, body = e.do(c, "GET", "/keys", nil, "Accept: text/html")
	if doc := parse(t, body); res.StatusCode != 200 || len(find(doc, "no-keys")) != 1 {
		t.Errorf("keys without a source: %d", res.StatusCode)
	}
	res, _ = e.do(c, "GET", "/redis/local", nil, "Accept: text/html")
	if res.StatusCode != 404 {
		t.Errorf("instance without a source: %d", res.StatusCode)
	}
	if res, body = e.do(c, "GET", "/api/instances", nil); res.StatusCode != 200 || strings.TrimSpace(body) != "[]" {
		t.Errorf("/api/instances: %d %s", res.StatusCode, body)
	}
	if res, body = e.do(c, "GET", "/api/keys", nil); res.StatusCode != 200 || strings.TrimSpace(body) != `{"keys":[],"patterns":[],"total":0}` {
		t.Errorf("/api/keys: %d %s", res.StatusCode, body)
	}
}
