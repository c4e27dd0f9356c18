package pages_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/views/internal/htmltest"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

func layout(user, role string) layouts.Props {
	return layouts.Props{
		User:      user,
		Role:      role,
		CSRFToken: "csrf-123",
		RefreshMs: 3000,
		Assets:    layouts.AssetURLs{AppCSS: "/assets/app.1.css", AppJS: "/assets/app.2.js", HTMX: "/assets/htmx.min.3.js", UPlotJS: "/assets/uPlot.iife.min.4.js", UPlotCSS: "/assets/uPlot.min.5.css"},
	}
}

func inputs(form *htmltest.Node) map[string]*htmltest.Node {
	m := map[string]*htmltest.Node{}
	for _, in := range htmltest.All(form, func(n *htmltest.Node) bool { return n.Data == "input" }) {
		m[htmltest.Attr(in, "name")] = in
	}
	return m
}

func TestLogin(t *testing.T) {
	d := htmltest.Render(t, pages.Login(pages.LoginProps{Layout: layout("", ""), Next: "/keys?x=1"}))
	form := d.One(t, "login-form")
	if htmltest.Attr(form, "method") != "post" || htmltest.Attr(form, "action") != "/login" {
		t.Fatalf("form method=%q action=%q", htmltest.Attr(form, "method"), htmltest.Attr(form, "action"))
	}
	in := inputs(form)
	for name, want := range map[string]string{"_csrf": "csrf-123", "next": "/keys?x=1"} {
		if n := in[name]; n == nil || htmltest.Attr(n, "type") != "hidden" || htmltest.Attr(n, "value") != want {
			t.Errorf("hidden input %q missing or wrong", name)
		}
	}
	user := d.One(t, "login-username")
	pass := d.One(t, "login-password")
	if htmltest.Attr(user, "name") != "username" || htmltest.Attr(pass, "name") != "password" || htmltest.Attr(pass, "type") != "password" {
		t.Errorf("username/password inputs wrong")
	}
	if _, ok := htmltest.LookupAttr(user, "autofocus"); !ok {
		t.Errorf("username not autofocused")
	}
	// Every visible input has a label.
	labels := map[string]bool{}
	for _, l := range d.Tag("label") {
		labels[htmltest.Attr(l, "for")] = true
	}
	for _, n := range []*htmltest.Node{user, pass} {
		if !labels[htmltest.Attr(n, "id")] {
			t.Errorf("input %q has no label", htmltest.Attr(n, "name"))
		}
	}
	if htmltest.Attr(d.One(t, "login-submit"), "type") != "submit" {
		t.Errorf("submit button wrong")
	}
	d.None(t, "login-error")
	d.None(t, "nav")
	d.None(t, "logout")
	// It says where the first admin password is.
	if hint := htmltest.Text(d.One(t, "login-hint")); !strings.Contains(hint, "generated first admin password") || !strings.Contains(hint, "REDWATCH_ADMIN_PASSWORD") {
		t.Errorf("login hint %q does not say where the first password is", hint)
	}
}

// TestSettingsBuiltInInstance: the built-in default instance is labelled so, one from the
// file "from config file".
func TestSettingsBuiltInInstance(t *testing.T) {
	d := htmltest.Render(t, pages.Settings(pages.SettingsProps{Layout: layout("ann", "admin"), ReadOnly: true, Instances: []pages.SettingsInstance{
		{Name: "local", Source: pages.SourceConfig, BuiltIn: true, Addr: "127.0.0.1:6379"},
		{Name: "cache", Source: pages.SourceConfig, Addr: "10.0.0.1:6379"},
	}}))
	var got []string
	for _, n := range d.ByTestID("settings-source") {
		got = append(got, htmltest.Text(n))
	}
	if strings.Join(got, "|") != "built-in default|from config file" {
		t.Fatalf("sources %q; want built-in default, then from config file", got)
	}
}

func TestLoginError(t *testing.T) {
	d := htmltest.Render(t, pages.Login(pages.LoginProps{Layout: layout("", ""), Error: "Wrong <username> or password", Username: "carol"}))
	if got := htmltest.Text(d.One(t, "login-error")); got != "Wrong <username> or password" {
		t.Errorf("login-error = %q", got)
	}
	if strings.Contains(d.HTML, "<username>") {
		t.Errorf("error text not escaped")
	}
	user := d.One(t, "login-username")
	if htmltest.Attr(user, "value") != "carol" {
		t.Errorf("username not kept")
	}
	if _, ok := htmltest.LookupAttr(d.One(t, "login-password"), "autofocus"); !ok {
		t.Errorf("password not autofocused after a failed attempt")
	}
	if htmltest.Attr(user, "aria-invalid") != "true" {
		t.Errorf("aria-invalid not set")
	}
}

func host(name string) partials.HostPanelProps {
	return partials.HostPanelProps{
		Host:          name,
		CPUPercent:    12.5,
		MemUsedBytes:  1.5 * (1 << 30),
		MemTotalBytes: 8 * (1 << 30),
		MemPercent:    18.75,
		PollURL:       "/hosts/x/panel",
		UpdatedAt:     time.Unix(1700000000, 0),
		Now:           time.Unix(1700000002, 0),
	}
}

func TestOverview(t *testing.T) {
	d := htmltest.Render(t, pages.Overview(pages.OverviewProps{Layout: layout("alice", "admin"), Hosts: []partials.HostPanelProps{host("h1")}}))
	panel := d.One(t, "host-panel")
	if got := htmltest.Attr(panel, "hx-trigger"); got != "every 3000ms" {
		t.Errorf("panel refresh from layout: hx-trigger = %q", got)
	}
	if got := htmltest.Text(d.One(t, "mem-used")); got != "1.5 GiB" {
		t.Errorf("mem-used = %q", got)
	}
	if got := htmltest.Text(d.One(t, "cpu-percent")); got != "12.5%" {
		t.Errorf("cpu-percent = %q", got)
	}
	for id, want := range map[string][2]string{
		"cpu-chart": {`host_cpu_usage_percent{host="h1"}`, "percent"},
		"mem-chart": {`host_memory_usage_percent{host="h1"}`, "percent"},
		"net-chart": {`host_network_receive_bytes_total{host="h1"}`, "bytes_per_second"},
	} {
		c := d.One(t, id)
		if _, ok := htmltest.LookupAttr(c, "data-chart"); !ok {
			t.Errorf("%s lacks data-chart", id)
		}
		if got := htmltest.Attr(c, "data-query"); got != want[0] {
			t.Errorf("%s data-query = %q; want %q", id, got, want[0])
		}
		if got := htmltest.Attr(c, "data-unit"); got != want[1] {
			t.Errorf("%s data-unit = %q; want %q", id, got, want[1])
		}
		if got := htmltest.Attr(c, "data-range"); got != "3600" {
			t.Errorf("%s data-range = %q", id, got)
		}
	}
	if got := htmltest.Attr(d.One(t, "net-chart"), "data-agg"); got != "rate" {
		t.Errorf("net-chart data-agg = %q", got)
	}
	if got := htmltest.Text(d.One(t, "no-instances")); !strings.Contains(got, "[[redis]]") {
		t.Errorf("no-instances hint = %q", got)
	}
	// Layout defaults: title and active nav.
	if got := htmltest.Text(d.Tag("title")[0]); got != "Overview · redwatch" {
		t.Errorf("title = %q", got)
	}
	nav := htmltest.All(d.One(t, "nav"), func(n *htmltest.Node) bool { return htmltest.Attr(n, "aria-current") == "page" })
	if len(nav) != 1 || htmltest.Text(nav[0]) != "Overview" {
		t.Errorf("active nav wrong")
	}
	// Admin sees Settings.
	if !strings.Contains(htmltest.Text(d.One(t, "nav")), "Settings") {
		t.Errorf("admin does not see Settings")
	}
}

func TestOverviewViewerHasNoSettings(t *testing.T) {
	d := htmltest.Render(t, pages.Overview(pages.OverviewProps{Layout: layout("vic", "viewer"), Hosts: []partials.HostPanelProps{host("h1")}}))
	if nav := htmltest.Text(d.One(t, "nav")); strings.Contains(nav, "Settings") {
		t.Errorf("viewer sees Settings: %q", nav)
	}
	for _, a := range d.Tag("a") {
		if htmltest.Attr(a, "href") == "/settings" {
			t.Errorf("viewer page links /settings")
		}
	}
}

func TestOverviewHostileHostName(t *testing.T) {
	const evil = `<script>"x\`
	d := htmltest.Render(t, pages.Overview(pages.OverviewProps{Layout: layout("alice", "viewer"), Hosts: []partials.HostPanelProps{host(evil)}}))
	if strings.Contains(d.HTML, "<script>\"x") {
		t.Fatalf("host name rendered unescaped")
	}
	for _, s := range d.Tag("script") {
		if htmltest.Attr(s, "src") == "" {
			t.Fatalf("an inline <script> element appeared")
		}
	}
	// Escaped in text ...
	if got := htmltest.Text(d.One(t, "host-name")); got != evil {
		t.Errorf("host-name text = %q; want %q", got, evil)
	}
	// ... and in the selector inside the attribute (PromQL escaping of \ and ").
	want := `host_cpu_usage_percent{host="<script>\"x\\"}`
	if got := htmltest.Attr(d.One(t, "cpu-chart"), "data-query"); got != want {
		t.Errorf("data-query = %q; want %q", got, want)
	}
	if id := htmltest.Attr(d.One(t, "host-panel"), "id"); strings.ContainsAny(id, `<>"\ `) {
		t.Errorf("panel id %q is not a safe id", id)
	}
}

func TestOverviewStale(t *testing.T) {
	h := host("h1")
	h.Stale = true
	d := htmltest.Render(t, pages.Overview(pages.OverviewProps{Layout: layout("alice", "viewer"), Hosts: []partials.HostPanelProps{h}}))
	if got := htmltest.Text(d.One(t, "stale")); got != "stale — last update 2s ago" {
		t.Errorf("stale badge = %q", got)
	}
}

func TestOverviewNoHosts(t *testing.T) {
	d := htmltest.Render(t, pages.Overview(pages.OverviewProps{Layout: layout("alice", "viewer")}))
	d.One(t, "no-hosts")
	d.None(t, "host-panel")
	d.One(t, "instances")
}

func TestOverviewFragments(t *testing.T) {
	p := pages.OverviewProps{Layout: layout("alice", "viewer"), Hosts: []partials.HostPanelProps{host("h1"), host("h2")}}

	f := func(id any, wantHosts ...string) {
		t.Helper()
		d := htmltest.RenderFragments(t, pages.Overview(p), id)
		if strings.Contains(d.HTML, "<html") || strings.Contains(d.HTML, "data-chart") || strings.Contains(d.HTML, "<nav") {
			t.Fatalf("fragment %v contains more than host panels:\n%s", id, d.HTML)
		}
		if len(wantHosts) > 0 && !strings.HasPrefix(strings.TrimSpace(d.HTML), "<section") {
			t.Fatalf("fragment %v does not start with the panel root:\n%.80s", id, d.HTML)
		}
		var got []string
		for _, n := range d.ByTestID("host-panel") {
			got = append(got, htmltest.Attr(n, "data-host"))
		}
		if strings.Join(got, ",") != strings.Join(wantHosts, ",") {
			t.Errorf("fragment %v: hosts %v; want %v", id, got, wantHosts)
		}
	}
	f(pages.FragmentHostPanel, "h1", "h2")
	f(pages.HostPanelFragment("h2"), "h2")
	f("host-panel:nope")
}

func TestOverviewFragmentMatchesPartial(t *testing.T) {
	h := host("h1")
	h.RefreshMs = 3000
	p := pages.OverviewProps{Layout: layout("alice", "viewer"), Hosts: []partials.HostPanelProps{h}}
	frag := htmltest.RenderFragments(t, pages.Overview(p), pages.FragmentHostPanel).HTML
	part := htmltest.Render(t, partials.HostPanel(h)).HTML
	if frag != part {
		t.Errorf("fragment and partial differ:\n%s\n---\n%s", frag, part)
	}
}
