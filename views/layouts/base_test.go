package layouts_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/redwatch/redwatch/views/internal/htmltest"
	"github.com/redwatch/redwatch/views/layouts"
)

// page renders Base around a marker paragraph.
func page(p layouts.Props) templ.Component {
	body := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<p data-testid="content">hello</p>`)
		return err
	})
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return layouts.Base(p).Render(templ.WithChildren(ctx, body), w)
	})
}

func props(user, role string) layouts.Props {
	return layouts.Props{
		Title:     "Overview",
		User:      user,
		Role:      role,
		CSRFToken: "tok<&>\"en",
		RefreshMs: 1500,
		Nav:       layouts.NavHosts,
		Assets: layouts.AssetURLs{
			AppCSS:   "/assets/app.aaaa.css",
			AppJS:    "/assets/app.bbbb.js",
			HTMX:     "/assets/htmx.min.cccc.js",
			UPlotJS:  "/assets/uPlot.iife.min.dddd.js",
			UPlotCSS: "/assets/uPlot.min.eeee.css",
		},
	}
}

func navLabels(t *testing.T, d *htmltest.Doc) []string {
	t.Helper()
	var out []string
	for _, a := range htmltest.All(d.One(t, "nav"), func(n *htmltest.Node) bool { return n.Data == "a" }) {
		out = append(out, htmltest.Text(a))
	}
	return out
}

func TestBaseDocument(t *testing.T) {
	d := htmltest.Render(t, page(props("alice", "viewer")))
	if !strings.HasPrefix(strings.ToLower(d.HTML), "<!doctype html>") {
		t.Fatalf("no doctype: %.40q", d.HTML)
	}
	if got := htmltest.Text(d.Tag("title")[0]); got != "Overview · redwatch" {
		t.Errorf("title = %q", got)
	}
	var csrf string
	for _, m := range d.Tag("meta") {
		if htmltest.Attr(m, "name") == "csrf-token" {
			csrf = htmltest.Attr(m, "content")
		}
	}
	if csrf != "tok<&>\"en" {
		t.Errorf("csrf meta = %q", csrf)
	}
	body := d.Tag("body")[0]
	if got := htmltest.Attr(body, "data-refresh-ms"); got != "1500" {
		t.Errorf("data-refresh-ms = %q", got)
	}
	d.One(t, "content")

	// Assets, and no inline scripts.
	var srcs []string
	for _, s := range d.Tag("script") {
		if htmltest.Attr(s, "src") == "" {
			t.Errorf("inline <script> found: %q", htmltest.Text(s))
		}
		srcs = append(srcs, htmltest.Attr(s, "src"))
	}
	for _, l := range d.Tag("link") {
		srcs = append(srcs, htmltest.Attr(l, "href"))
	}
	all := strings.Join(srcs, " ")
	for _, want := range []string{"app.aaaa.css", "app.bbbb.js", "htmx.min.cccc.js", "uPlot.iife.min.dddd.js", "uPlot.min.eeee.css"} {
		if !strings.Contains(all, want) {
			t.Errorf("asset %s not linked (have %s)", want, all)
		}
	}
	if len(d.Tag("style")) != 0 {
		t.Errorf("inline <style> found")
	}

	// Skip link points at main.
	skip := d.Tag("a")[0]
	if htmltest.Attr(skip, "href") != "#main" || htmltest.Attr(d.Tag("main")[0], "id") != "main" {
		t.Errorf("skip link or main id missing")
	}

	// User and logout.
	if got := htmltest.Text(d.One(t, "user-name")); got != "alice" {
		t.Errorf("user-name = %q", got)
	}
	form := d.One(t, "logout-form")
	if htmltest.Attr(form, "method") != "post" || htmltest.Attr(form, "action") != "/logout" {
		t.Errorf("logout form: method=%q action=%q", htmltest.Attr(form, "method"), htmltest.Attr(form, "action"))
	}
	var csrfInput string
	for _, in := range htmltest.All(form, func(n *htmltest.Node) bool { return n.Data == "input" }) {
		if htmltest.Attr(in, "name") == "_csrf" {
			csrfInput = htmltest.Attr(in, "value")
		}
	}
	if csrfInput != "tok<&>\"en" {
		t.Errorf("_csrf input = %q", csrfInput)
	}
	if htmltest.Attr(d.One(t, "logout"), "type") != "submit" {
		t.Errorf("logout is not a submit button")
	}
	d.One(t, "theme-toggle")

	// Active nav item.
	for _, a := range htmltest.All(d.One(t, "nav"), func(n *htmltest.Node) bool { return n.Data == "a" }) {
		_, current := htmltest.LookupAttr(a, "aria-current")
		if want := htmltest.Attr(a, "data-nav") == layouts.NavHosts; current != want {
			t.Errorf("nav %q: aria-current=%v; want %v", htmltest.Text(a), current, want)
		}
	}
}

func TestBaseNavByRole(t *testing.T) {
	f := func(role string, want string) {
		t.Helper()
		d := htmltest.Render(t, page(props("bob", role)))
		if got := strings.Join(navLabels(t, d), ","); got != want {
			t.Errorf("role %q: nav = %s; want %s", role, got, want)
		}
	}
	f("admin", "Overview,Redis,Keys,Hosts,Alerts,Explore,Status,Settings")
	f("viewer", "Overview,Redis,Keys,Hosts,Alerts,Explore,Status")
	f("", "Overview,Redis,Keys,Hosts,Alerts,Explore,Status")
}

func TestBaseLoggedOut(t *testing.T) {
	p := props("", "")
	p.RefreshMs = 0
	d := htmltest.Render(t, page(p))
	d.None(t, "nav")
	d.None(t, "user-name")
	d.None(t, "logout")
	d.One(t, "theme-toggle")
	if got := htmltest.Attr(d.Tag("body")[0], "data-refresh-ms"); got != "2000" {
		t.Errorf("default data-refresh-ms = %q", got)
	}
}

func TestBaseNavRedisMenu(t *testing.T) {
	p := props("bob", "viewer")
	p.RedisInstances = []string{"cache", "queue <1>"}
	p.Nav = layouts.NavRedis
	p.RedisCurrent = "queue <1>"
	d := htmltest.Render(t, page(p))
	menu := d.One(t, "nav-redis-menu")
	if menu.Data != "details" {
		t.Fatalf("menu is a <%s>, want <details>", menu.Data)
	}
	if _, ok := htmltest.LookupAttr(menu, "data-nav-menu"); !ok {
		t.Errorf("menu lacks data-nav-menu (app.js closes it)")
	}
	if got := htmltest.Attr(d.One(t, "nav-redis-all"), "href"); got != "/#instances" {
		t.Errorf("all instances link %q", got)
	}
	links := d.ByTestID("nav-redis-instance")
	if len(links) != 2 {
		t.Fatalf("%d instance links", len(links))
	}
	for i, want := range [][2]string{{"/redis/cache", ""}, {"/redis/queue%20%3C1%3E", "page"}} {
		if got := htmltest.Attr(links[i], "href"); got != want[0] {
			t.Errorf("link %d href %q; want %q", i, got, want[0])
		}
		if got := htmltest.Attr(links[i], "aria-current"); got != want[1] {
			t.Errorf("link %d aria-current %q; want %q", i, got, want[1])
		}
	}
	if strings.Contains(d.HTML, "queue <1>") {
		t.Errorf("instance name not escaped")
	}
	var summary *htmltest.Node
	for n := range menu.Descendants() {
		if n.Data == "summary" {
			summary = n
		}
	}
	if summary == nil || htmltest.Attr(summary, "class") != "is-current" || htmltest.Text(summary) != "Redis" {
		t.Errorf("summary missing or not marked current")
	}
	// The other items stay plain links, in order.
	if got := strings.Join(navLabels(t, d), ","); got != "Overview,All instances,cache,queue <1>,Keys,Hosts,Alerts,Explore,Status" {
		t.Errorf("nav = %s", got)
	}
	// Without instances the Redis item is a plain link.
	d = htmltest.Render(t, page(props("bob", "viewer")))
	d.None(t, "nav-redis-menu")
}
