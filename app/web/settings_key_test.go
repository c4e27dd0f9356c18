package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/settings"
)

func TestSettingsHostileKeyRendersAsText(t *testing.T) {
	t.Parallel()
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	res, body := e.postForm(t, admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {hostileKey}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add hostile key: %d %.500s", res.StatusCode, body)
	}
	res, body = e.do(admin, "GET", res.Header.Get("Location"), nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("GET: %d", res.StatusCode)
	}
	if strings.Contains(body, "<img") {
		t.Fatal("the hostile key is rendered as markup")
	}
	doc := parse(t, body)
	if len(findTag(doc, "img")) != 0 {
		t.Fatal("an <img> element exists")
	}
	k := oneWith(t, doc, "settings-key", "data-key", hostileKey)
	if got := text(one(t, k, "settings-key-name")); got != hostileKey {
		t.Fatalf("key text %q", got)
	}
	if got := text(one(t, doc, "settings-notice")); !strings.Contains(got, hostileKey) {
		t.Fatalf("notice %q", got)
	}
	// Its edit form keeps it as a value.
	doc = e.page(t, admin, "/settings?edit="+url.QueryEscape("key:"+attr(k, "id")[len("key-"):]))
	ef := one(t, doc, "edit-key-form")
	for _, in := range findTag(ef, "input") {
		if attr(in, "name") == "key" && attr(in, "value") != hostileKey {
			t.Fatalf("edit value %q", attr(in, "value"))
		}
	}
}

// Keys added to a config instance that the config file no longer has are listed as orphans,
// with only a delete button.
func TestSettingsOrphanedKeys(t *testing.T) {
	t.Parallel()
	d := settings.Data{Version: settings.Version, Keys: []settings.Key{{ID: "00000000000000aa", Instance: "gone", Key: "old:key"}}}
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil, d)
	admin := e.login("admin", adminPass)
	doc := e.page(t, admin, "/settings")
	o := one(t, doc, "settings-orphans")
	k := oneWith(t, o, "settings-key", "data-key", "old:key")
	if attr(k, "data-orphan") != "true" || attr(k, "data-instance") != "gone" {
		t.Fatalf("orphan row: %s", outerHTML(k))
	}
	one(t, k, "delete-key")
	if len(find(k, "edit-key"))+len(find(k, "pause-key")) != 0 {
		t.Fatal("an orphan can be edited or paused")
	}
	res, _ := e.postForm(t, admin, "/settings/keys/00000000000000aa/delete", url.Values{})
	settingsRedirected(t, res, "", "/settings?deleted=key%3Aold%3Akey")
	doc = e.page(t, admin, "/settings")
	if len(find(doc, "settings-orphans")) != 0 {
		t.Fatal("orphan still listed")
	}
}

// TestSettingsKeyExpectExists: the key form's "Missing alarms" select sets expect_exists on
// exact keys; a pattern with it is refused next to the field.
func TestSettingsKeyExpectExists(t *testing.T) {
	t.Parallel()
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	addKey := oneWith(t, e.page(t, admin, "/settings"), "add-key-form", "data-instance", "cache")
	sel := formField(t, addKey, "expect_exists")
	var opts []string
	for d := range sel.Descendants() {
		if d.Type == html.ElementNode && d.Data == "option" {
			opts = append(opts, attr(d, "value")+"="+text(d))
		}
	}
	if strings.Join(opts, ",") != "=by type,true=always,false=never" {
		t.Fatalf("expect_exists options: %v", opts)
	}
	res, body := e.postForm(t, admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"config:flags"}, "expect_exists": {"true"}})
	settingsRedirected(t, res, body, "/settings?added=key%3Aconfig%3Aflags")
	ks := instanceNamed(e.apply.last(), "cache").Keys
	if k := ks[len(ks)-1]; k.Key != "config:flags" || k.ExpectExists == nil || !*k.ExpectExists {
		t.Fatalf("applied key: %+v", k)
	}
	doc := e.page(t, admin, "/settings")
	row := oneWith(t, doc, "settings-key", "data-key", "config:flags")
	if c := one(t, row, "key-expect-exists"); attr(c, "data-expect-exists") != "true" || text(c) != "always" {
		t.Fatalf("row shows expect_exists %q %q", attr(c, "data-expect-exists"), text(c))
	}
	if c := one(t, oneWith(t, doc, "settings-key", "data-key", "queue:emails"), "key-expect-exists"); text(c) != "by type" {
		t.Fatalf("a config key without expect_exists shows %q", text(c))
	}
	res, body = e.postForm(t, admin, "/settings/instances/cache/keys", url.Values{"kind": {"pattern"}, "key": {"job:*"}, "expect_exists": {"true"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("pattern with expect_exists: %d", res.StatusCode)
	}
	f := oneWith(t, parse(t, body), "add-key-form", "data-instance", "cache")
	if got := text(oneWith(t, f, "field-error", "data-field", "expect_exists")); !strings.Contains(got, "applies only to exact keys") {
		t.Fatalf("expect_exists error: %q", got)
	}
	if v := selectedValue(f, "expect_exists"); v != "true" {
		t.Fatalf("the refused form does not keep the choice: %q", v)
	}
}
