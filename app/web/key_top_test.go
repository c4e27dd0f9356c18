package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// The overview's top-moving keys: the biggest changes over the last hour, biggest first, with
// their sparklines. The trends come from a fake store.
func TestOverviewTopKeys(t *testing.T) {
	t.Parallel()
	var keys []redis.KeySnapshot
	for i := range 14 {
		keys = append(keys, key("cache", fmt.Sprintf("k%02d", i), "list", 1))
	}
	st := &trendStore{}
	for i := range 12 {
		st.trend(&keys[i], 100, float64(100+i+1)) // +1 … +12
	}
	st.trend(&keys[12], 500, 400) // -100: the biggest move
	st.trend(&keys[13], 9, 9)     // no move: never listed
	e := newEnvWith(t, envOptions{store: st})
	c := e.login("viewer", viewerPass)
	doc := e.page(t, c, "/")
	if got := text(one(t, doc, "no-top-keys")); got != "No keys are watched." {
		t.Errorf("no keys: %q", got)
	}
	if got := text(one(t, doc, "overview-alerts")); !strings.Contains(got, "No alerts firing") {
		t.Errorf("firing alerts without an engine: %q", got)
	}

	e.redis.set(nil, keys, nil)

	doc = e.page(t, c, "/")
	rows := find(one(t, doc, "top-keys"), "top-key-row")
	if len(rows) != 10 {
		t.Fatalf("%d top keys, want 10", len(rows))
	}
	if got := texts(doc, "top-key-name"); !slices.Equal(got, []string{"k12", "k11", "k10", "k09", "k08", "k07", "k06", "k05", "k04", "k03"}) {
		t.Errorf("top keys %q", got)
	}
	if got := texts(doc, "top-key-change")[:2]; !slices.Equal(got, []string{"-100", "+12"}) {
		t.Errorf("changes %q", got)
	}
	for _, r := range rows {
		var href string
		for n := range r.Descendants() {
			if n.Data == "a" && href == "" {
				href = attr(n, "href")
			}
		}
		if href != "/keys/"+attr(r, "data-key-id") {
			t.Errorf("top key links to %q", href)
		}
		if s := one(t, r, "sparkline"); attr(s, "data-points") != strconv.Itoa(trendSparkPoints) {
			t.Errorf("top key with %s sparkline points", attr(s, "data-points"))
		}
	}
	res, body := e.do(c, "GET", "/?fragment=top-keys", nil, "HX-Request: true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("fragment: %d", res.StatusCode)
	}
	if n := len(find(assertFragment(t, body, "top-keys-table"), "top-key-row")); n != 10 {
		t.Errorf("fragment: %d rows", n)
	}
}
