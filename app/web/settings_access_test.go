package web

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestSettingsViewerForbidden(t *testing.T) {
	t.Parallel()
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	res, _ := e.postForm(t, admin, "/settings/instances", settingsInstanceForm("ui1", "127.0.0.1:7000"))
	settingsRedirected(t, res, "", "/settings?added=instance%3Aui1")
	res, _ = e.postForm(t, admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"k1"}})
	settingsRedirected(t, res, "", "/settings?added=key%3Ak1")
	res, _ = e.postForm(t, admin, "/settings/rules", settingsRuleForm("r1", "redis_up"))
	settingsRedirected(t, res, "", "/settings?added=rule%3Ar1")
	id := e.svc.View().Instances[0].Keys[2].ID
	if id == "" {
		t.Fatal("no UI key id")
	}
	before, applied := e.svc.View(), e.apply.count()

	viewer := e.login("viewer", viewerPass)
	res, body := e.do(viewer, "GET", "/settings", nil, "Accept: text/html")
	if res.StatusCode != http.StatusForbidden || strings.Contains(body, "settings-instance") || strings.Contains(body, "ui1") || !strings.Contains(body, `data-testid="error-page"`) {
		t.Fatalf("viewer GET /settings: %d\n%.1000s", res.StatusCode, body)
	}
	res, body = e.do(viewer, "GET", "/settings", nil)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "admin role required") {
		t.Fatalf("viewer GET /settings (JSON): %d %s", res.StatusCode, body)
	}
	res, _ = e.do(viewer, "GET", "/settings/anything", nil, "Accept: text/html")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer GET /settings/anything: %d", res.StatusCode)
	}
	posts := 0
	for _, r := range e.srv.Echo().Routes() {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Path, "/settings") {
			continue
		}
		posts++
		path := strings.NewReplacer(":name", "ui1", ":id", id).Replace(r.Path)
		if strings.HasPrefix(r.Path, "/settings/rules/") {
			path = strings.Replace(r.Path, ":name", "r1", 1)
		}
		form := settingsInstanceForm("ui2", "127.0.0.1:7001")
		form.Set("kind", "key")
		form.Set("key", "viewer-key")
		for k, v := range settingsRuleForm("viewer-rule", "redis_up") {
			form[k] = v
		}
		res, body := e.postForm(t, viewer, path, form)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "admin role required") {
			t.Errorf("viewer POST %s: %d %.300s", path, res.StatusCode, body)
		}
	}
	if posts != 15 {
		t.Fatalf("%d POST routes under /settings, want 15", posts)
	}
	if !reflect.DeepEqual(e.svc.View(), before) || e.apply.count() != applied {
		t.Fatal("a viewer changed the settings")
	}
	// The admin still sees the page.
	doc := e.page(t, admin, "/settings")
	oneWith(t, doc, "settings-instance", "data-instance", "ui1")
}

func TestSettingsConfigObjectsAreReadOnly(t *testing.T) {
	t.Parallel()
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	res, _ := e.postForm(t, admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"mine"}})
	settingsRedirected(t, res, "", "/settings?added=")
	res, _ = e.postForm(t, admin, "/settings/instances", settingsInstanceForm("ui1", "127.0.0.1:7000"))
	settingsRedirected(t, res, "", "/settings?added=")

	doc := e.page(t, admin, "/settings")
	cache := oneWith(t, doc, "settings-instance", "data-instance", "cache")
	for _, id := range []string{"edit-instance", "delete-instance", "pause-instance"} {
		if len(find(cache, id)) != 0 {
			t.Errorf("the config instance has %s", id)
		}
	}
	if got := text(one(t, cache, "settings-source")); got != "from config file" {
		t.Errorf("config source label %q", got)
	}
	// Its fields are shown, its password is not.
	if !strings.Contains(text(cache), "127.0.0.1:6390") || text(one(t, cache, "settings-password")) != "set" {
		t.Errorf("config fields: %s", text(cache))
	}
	for _, k := range findWith(cache, "settings-key", "data-source", "config") {
		for _, id := range []string{"edit-key", "delete-key", "pause-key"} {
			if len(find(k, id)) != 0 {
				t.Errorf("config key %s has %s", attr(k, "data-key"), id)
			}
		}
	}
	mine := oneWith(t, cache, "settings-key", "data-key", "mine")
	for _, id := range []string{"edit-key", "delete-key", "pause-key", "confirm-delete-key"} {
		one(t, mine, id)
	}
	ui1 := oneWith(t, doc, "settings-instance", "data-instance", "ui1")
	for _, id := range []string{"edit-instance", "delete-instance", "pause-instance", "confirm-delete-instance"} {
		one(t, ui1, id)
	}
	// One add-key form per instance, config ones included.
	if len(find(doc, "add-key-form")) != 2 {
		t.Fatalf("add-key forms: %d", len(find(doc, "add-key-form")))
	}
	// Posting changes to the config instance anyway: 409.
	for _, p := range []string{"/settings/instances/cache", "/settings/instances/cache/pause", "/settings/instances/cache/delete"} {
		res, _ := e.postForm(t, admin, p, settingsInstanceForm("cache", "127.0.0.1:1"))
		if res.StatusCode != http.StatusConflict {
			t.Errorf("POST %s: %d, want 409", p, res.StatusCode)
		}
	}
	// ?edit= on a config object opens nothing.
	doc = e.page(t, admin, "/settings?edit=instance:cache")
	if len(find(doc, "edit-instance-form")) != 0 {
		t.Fatal("edit form for a config instance")
	}
}

// Without a settings service the page lists the watched instances read-only.
func TestSettingsWithoutService(t *testing.T) {
	t.Parallel()
	e, _ := newLatestEnv(t)
	e.fill()
	admin := e.login("admin", adminPass)
	res, body := e.do(admin, "GET", "/settings", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("GET /settings: %d", res.StatusCode)
	}
	doc := parse(t, body)
	one(t, doc, "settings-readonly")
	if len(find(doc, "settings-instance")) != 2 || len(find(doc, "add-instance-form"))+len(find(doc, "add-key-form"))+len(find(doc, "edit-instance")) != 0 {
		t.Fatalf("read-only page:\n%.2000s", body)
	}
	res, _ = e.do(nil, "POST", "/settings/instances", strings.NewReader(""), "Authorization: Basic "+basic("admin", adminPass))
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("POST without a service: %d", res.StatusCode)
	}
}
