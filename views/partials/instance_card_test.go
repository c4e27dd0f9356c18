package partials_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/views/internal/htmltest"
	"github.com/redwatch/redwatch/views/partials"
)

func card() partials.InstanceCardProps {
	return partials.InstanceCardProps{
		Name: "cache", Addr: "10.0.0.5:6379", Version: "7.2.4", Role: "master", Mode: "standalone",
		Up: true, LastSeen: now.Add(-3 * time.Second), LastRunAt: now.Add(-3 * time.Second),
		OpsPerSec: 12345, MemoryUsedBytes: 1.5 * GiB, MemoryMaxBytes: 2 * GiB,
		ConnectedClients: 1234, HitRatio: 0.5, HitRatioKnown: true, Now: now,
	}
}

func TestInstanceCardUp(t *testing.T) {
	d := htmltest.Render(t, partials.InstanceCard(card()))
	root := d.One(t, "instance-card")
	if htmltest.Attr(root, "data-instance") != "cache" || htmltest.Attr(root, "data-up") != "true" {
		t.Errorf("root attrs wrong")
	}
	for id, want := range map[string]string{
		"instance-name":       "cache",
		"instance-status":     "up",
		"instance-addr":       "10.0.0.5:6379",
		"instance-role":       "7.2.4 · master",
		"instance-ops":        "12.3k ops/s",
		"instance-memory":     "1.5 GiB",
		"instance-memory-max": "2.0 GiB",
		"instance-clients":    "1,234",
		"instance-hit-ratio":  "50.0%",
		"instance-last-seen":  "3s ago",
	} {
		if got := htmltest.Text(d.One(t, id)); got != want {
			t.Errorf("%s = %q; want %q", id, got, want)
		}
	}
	if got := htmltest.Attr(d.One(t, "instance-memory-meter"), "value"); got != "75.0" {
		t.Errorf("memory meter = %q", got)
	}
	if got := htmltest.Attr(d.One(t, "instance-name"), "href"); got != "/redis/cache" {
		t.Errorf("link = %q", got)
	}
	d.None(t, "instance-stale")
	d.None(t, "instance-error")
}

func TestInstanceCardStates(t *testing.T) {
	c := card()
	c.Up, c.Stale, c.HitRatioKnown, c.MemoryMaxBytes = false, true, false, 0
	c.Error = "dial tcp: connection refused"
	c.LastSeen = now.Add(-time.Hour)
	d := htmltest.Render(t, partials.InstanceCard(c))
	for id, want := range map[string]string{
		"instance-status":    "down",
		"instance-stale":     "stale",
		"instance-hit-ratio": "—",
		"instance-error":     "dial tcp: connection refused",
		"instance-last-seen": "1h 0m ago",
	} {
		if got := htmltest.Text(d.One(t, id)); got != want {
			t.Errorf("%s = %q; want %q", id, got, want)
		}
	}
	if !strings.Contains(htmltest.Attr(d.One(t, "instance-card"), "class"), "is-down") {
		t.Errorf("down card not marked")
	}
	d.None(t, "instance-memory-max")
	d.None(t, "instance-memory-meter")

	// Before the first round: waiting, never seen.
	d = htmltest.Render(t, partials.InstanceCard(partials.InstanceCardProps{Name: "new", Addr: "x:1", Now: now}))
	if got := htmltest.Text(d.One(t, "instance-status")); got != "waiting" {
		t.Errorf("status before first round = %q", got)
	}
	if got := htmltest.Text(d.One(t, "instance-last-seen")); got != "never" {
		t.Errorf("last seen = %q", got)
	}
	d.None(t, "instance-role")
}

func TestInstanceCards(t *testing.T) {
	hostile := card()
	hostile.Name = `<b>x</b>`
	d := htmltest.Render(t, partials.InstanceCards(partials.InstanceCardsProps{Cards: []partials.InstanceCardProps{card(), hostile}, PollURL: "/?fragment=instances", RefreshMs: 5000}))
	root := d.One(t, "instance-cards")
	for k, want := range map[string]string{"hx-get": "/?fragment=instances", "hx-trigger": "every 5000ms", "hx-swap": "outerHTML"} {
		if got := htmltest.Attr(root, k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	if n := len(d.ByTestID("instance-card")); n != 2 {
		t.Errorf("%d cards", n)
	}
	if strings.Contains(d.HTML, "<b>x") {
		t.Errorf("instance name not escaped")
	}
	if got := htmltest.Attr(d.ByTestID("instance-name")[1], "href"); got != "/redis/%3Cb%3Ex%3C%2Fb%3E" {
		t.Errorf("hostile link = %q", got)
	}
	d.None(t, "no-instances")

	d = htmltest.Render(t, partials.InstanceCards(partials.InstanceCardsProps{}))
	if got := htmltest.Text(d.One(t, "no-instances")); !strings.Contains(got, "[[redis]]") {
		t.Errorf("hint = %q", got)
	}
	if _, ok := htmltest.LookupAttr(d.One(t, "instance-cards"), "hx-get"); ok {
		t.Errorf("polls without a PollURL")
	}
}

// TestInstanceCardNeverSeen: an instance that never answered shows "—" for every figure, not
// the zero values it was never measured at; a long error is clipped in a disclosure that
// holds all of it.
func TestInstanceCardNeverSeen(t *testing.T) {
	p := partials.InstanceCardProps{Name: "new", Addr: "10.0.0.9:6379", LastRunAt: now, Error: strings.Repeat("dial tcp 10.0.0.9:6379: i/o timeout; ", 10), Now: now}
	d := htmltest.Render(t, partials.InstanceCard(p))
	for _, id := range []string{"instance-ops", "instance-memory", "instance-clients", "instance-hit-ratio"} {
		if got := htmltest.Text(d.One(t, id)); got != "—" {
			t.Errorf("%s = %q; want — for a never-seen instance", id, got)
		}
	}
	if got := htmltest.Text(d.One(t, "instance-last-seen")); got != "never" {
		t.Errorf("last seen %q", got)
	}
	e := d.One(t, "instance-error")
	if e.Data != "details" || htmltest.Attr(e, "title") != p.Error || !strings.Contains(htmltest.Text(e), strings.TrimSpace(p.Error)) {
		t.Errorf("long error: <%s> title %q; want a disclosure holding it all", e.Data, htmltest.Attr(e, "title"))
	}
	// A short one is shown as it is.
	p.Error = "connection refused"
	d = htmltest.Render(t, partials.InstanceCard(p))
	if e := d.One(t, "instance-error"); e.Data != "p" || htmltest.Text(e) != "connection refused" {
		t.Errorf("short error: <%s> %q", e.Data, htmltest.Text(e))
	}
}
