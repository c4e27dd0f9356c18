package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

func TestHostDetail(t *testing.T) {
	t.Parallel()
	e, st := newLatestEnv(t)
	now := time.Now()
	st.write(hostRounds("testhost", now, 12))
	c := e.login("viewer", viewerPass)

	res, body := e.do(c, "GET", "/hosts/testhost", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /hosts/testhost: %d %s", res.StatusCode, body)
	}
	doc := parse(t, body)
	if got := attr(one(t, doc, "host-detail"), "data-host"); got != "testhost" {
		t.Errorf("host-detail data-host %q", got)
	}
	panel := one(t, doc, "host-panel")
	if got := attr(panel, "hx-get"); got != "/hosts/testhost?fragment=host-panel" {
		t.Errorf("panel polls %q", got)
	}
	one(t, panel, "live")
	if navCurrent(doc) != "hosts" {
		t.Errorf("current nav item %q, want hosts", navCurrent(doc))
	}
	picker := one(t, doc, "range-picker")
	var current []string
	for d := range picker.Descendants() {
		if attr(d, "aria-current") == "true" && attr(d, "data-range-key") != "" {
			current = append(current, attr(d, "data-range-key"))
		}
	}
	if !slices.Equal(current, []string{"1h"}) {
		t.Errorf("range picker current %q, want 1h", current)
	}

	// The range comes from the URL: a preset, or a fixed custom span.
	res, body = e.do(c, "GET", "/hosts/testhost?range=6h", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("?range=6h: %d", res.StatusCode)
	}
	if got := attr(one(t, parse(t, body), "chart-cpu"), "data-range"); got != "21600" {
		t.Errorf("?range=6h: data-range %q, want 21600", got)
	}
	from, to := now.Add(-3*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	res, body = e.do(c, "GET", "/hosts/testhost?from="+strconv.FormatInt(from, 10)+"&to="+strconv.FormatInt(to, 10), nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("custom range: %d", res.StatusCode)
	}
	ch := one(t, parse(t, body), "chart-net-rx")
	if attr(ch, "data-start") != strconv.FormatInt(from, 10) || attr(ch, "data-end") != strconv.FormatInt(to, 10) || attr(ch, "data-range") != "7200" {
		t.Errorf("custom range chart: start=%q end=%q range=%q", attr(ch, "data-start"), attr(ch, "data-end"), attr(ch, "data-range"))
	}

	// The panel poll answers with only the panel.
	res, body = e.do(c, "GET", "/hosts/testhost?fragment=host-panel", nil, "HX-Request: true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("panel poll: %d", res.StatusCode)
	}
	assertFragment(t, body, "host-panel")

	// A bad range is a 400 naming the parameter; an unknown host a 404.
	for _, bad := range []string{"range=2w", "from=yesterday", "from=200&to=100"} {
		res, body = e.do(c, "GET", "/hosts/testhost?"+bad, nil)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("?%s: %d, want 400", bad, res.StatusCode)
		}
		if bad == "range=2w" && !strings.Contains(body, "range") {
			t.Errorf("?%s: the reason does not name the parameter: %s", bad, body)
		}
	}
	for _, accept := range []string{"text/html", "application/json"} {
		res, body = e.do(c, "GET", "/hosts/nope", nil, "Accept: "+accept)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown host (%s): %d, want 404", accept, res.StatusCode)
		}
		if accept == "text/html" {
			one(t, parse(t, body), "error-page")
		}
	}
	res, _ = e.do(c, "GET", "/hosts/nope?fragment=host-panel", nil, "HX-Request: true")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("panel poll of an unknown host: %d, want 404", res.StatusCode)
	}
}

// TestHostDetailOddNames opens the pages of hosts whose names need escaping in a path.
func TestHostDetailOddNames(t *testing.T) {
	t.Parallel()
	e, st := newLatestEnv(t)
	now := time.Now()
	names := []string{hostileKey, "web 1/eu?x=1#y", `quote"back\slash`}
	for _, h := range names {
		st.write(hostRounds(h, now, 2))
	}
	c := e.login("viewer", viewerPass)
	for _, h := range names {
		res, body := e.do(c, "GET", "/hosts/"+url.PathEscape(h), nil, "Accept: text/html")
		if res.StatusCode != http.StatusOK {
			t.Errorf("host %q: %d", h, res.StatusCode)
			continue
		}
		if strings.Contains(body, hostileKey) {
			t.Errorf("host %q: the hostile name is rendered as markup", h)
		}
		doc := parse(t, body)
		if got := text(one(t, doc, "host-title")); got != h {
			t.Errorf("title %q, want %q", got, h)
		}
		// The chart selector still selects exactly this host.
		sel, err := tsdb.ParseSelector(attr(one(t, doc, "chart-load"), "data-query"))
		if err != nil {
			t.Errorf("host %q: chart selector: %s", h, err)
			continue
		}
		if !sel.Matches("host_load5", []tsdb.Label{{Name: "host", Value: h}}) || sel.Matches("host_load5", []tsdb.Label{{Name: "host", Value: "testhost"}}) || sel.Matches("host_cpu_usage_percent", []tsdb.Label{{Name: "host", Value: h}}) {
			t.Errorf("host %q: chart selector %s selects the wrong series", h, sel)
		}
	}
}
