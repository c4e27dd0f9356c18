package web

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func TestOverviewInstanceCards(t *testing.T) {
	t.Parallel()
	e, _ := newLatestEnv(t)
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

// Options.Redis nil (no Redis configured): pages and API work and show nothing, even with
// snapshots in the test's fake (which is then not the server's source).
func TestNoRedisSource(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, envOptions{store: newLatestStore(), mod: func(o *Options) { o.Redis = nil }})
	e.fill()
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

// The overview shows a live panel per known host, each polling only itself.
func TestOverviewHostPanels(t *testing.T) {
	t.Parallel()
	e, st := newLatestEnv(t)
	now := time.Now()
	st.write(hostRounds("other", now, 2)) // a pushing host
	c := e.login("viewer", viewerPass)

	res, body := e.do(c, "GET", "/", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", res.StatusCode)
	}
	var hosts, polls []string
	for _, p := range find(parse(t, body), "host-panel") {
		hosts = append(hosts, attr(p, "data-host"))
		polls = append(polls, attr(p, "hx-get"))
	}
	if want := []string{"testhost", "other"}; !slices.Equal(hosts, want) {
		t.Errorf("host panels %q, want %q", hosts, want)
	}
	if want := []string{"/?fragment=host-panel&host=testhost", "/?fragment=host-panel&host=other"}; !slices.Equal(polls, want) {
		t.Errorf("host panels poll %q, want %q", polls, want)
	}

	res, body = e.do(c, "GET", "/?fragment=host-panel&host=other", nil, "HX-Request: true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("panel poll: %d %s", res.StatusCode, body)
	}
	frag := assertFragment(t, body, "host-panel")
	if got := attr(one(t, frag, "host-panel"), "data-host"); got != "other" {
		t.Errorf("panel poll for other answers %q", got)
	}
	if got := text(one(t, frag, "mem-used")); got != "2.0 GiB" {
		t.Errorf("other's memory used %q, want 2.0 GiB", got)
	}
	if len(find(frag, "instance-cards")) != 0 {
		t.Errorf("the panel poll holds the instance cards")
	}
	res, _ = e.do(c, "GET", "/?fragment=host-panel&host=nope", nil, "HX-Request: true")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("panel poll for an unknown host: %d, want 404", res.StatusCode)
	}
}
