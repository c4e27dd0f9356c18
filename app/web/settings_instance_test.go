package web

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/settings"
)

func TestSettingsAddInstanceAndKey(t *testing.T) {
	t.Parallel()
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)

	form := settingsInstanceForm("ui1", "127.0.0.1:7000")
	form.Set("password", "hunter2")
	res, body := e.postForm(t, admin, "/settings/instances", form)
	settingsRedirected(t, res, body, "/settings?added=instance%3Aui1")
	doc := e.page(t, admin, res.Header.Get("Location"))
	if got := text(one(t, doc, "settings-notice")); got != "Instance “ui1” added." || !strings.Contains(got, "added") {
		t.Fatalf("notice: %q", got)
	}
	in := oneWith(t, doc, "settings-instance", "data-instance", "ui1")
	if attr(in, "data-source") != "ui" {
		t.Fatalf("ui1 source %q", attr(in, "data-source"))
	}
	if cfg := oneWith(t, doc, "settings-instance", "data-instance", "cache"); attr(cfg, "data-source") != "config" {
		t.Fatalf("cache source %q", attr(cfg, "data-source"))
	}
	if strings.Contains(body, "hunter2") || strings.Contains(outerHTML(doc), "hunter2") || strings.Contains(outerHTML(doc), "config-secret") {
		t.Fatal("a password is on the page")
	}
	if got := text(one(t, in, "settings-password")); got != "set" {
		t.Fatalf("password shown as %q", got)
	}

	// A key on the UI instance, a pattern on the config one.
	res, body = e.postForm(t, admin, "/settings/instances/ui1/keys", url.Values{"kind": {"key"}, "key": {"queue:jobs"}, "interval": {"2s"}, "enabled": {"false", "true"}})
	settingsRedirected(t, res, body, "/settings?added=key%3Aqueue%3Ajobs")
	res, body = e.postForm(t, admin, "/settings/instances/cache/keys", url.Values{"kind": {"pattern"}, "key": {"job:*"}, "max_keys": {"50"}, "scan_interval": {"1m"}, "enabled": {"false"}})
	settingsRedirected(t, res, body, "/settings?added=key%3Ajob%3A%2A")

	doc = e.page(t, admin, "/settings")
	in = oneWith(t, doc, "settings-instance", "data-instance", "ui1")
	k := oneWith(t, in, "settings-key", "data-key", "queue:jobs")
	if attr(k, "data-source") != "ui" || text(one(t, k, "key-state")) != "active" {
		t.Fatalf("queue:jobs row: source %q state %q", attr(k, "data-source"), text(one(t, k, "key-state")))
	}
	cache := oneWith(t, doc, "settings-instance", "data-instance", "cache")
	var got []string
	for _, k := range find(cache, "settings-key") {
		got = append(got, attr(k, "data-key")+"/"+attr(k, "data-source"))
	}
	if strings.Join(got, " ") != "queue:emails/config session:*/config job:*/ui" {
		t.Fatalf("cache keys: %v", got)
	}
	if text(one(t, oneWith(t, cache, "settings-key", "data-key", "job:*"), "key-state")) != "paused" {
		t.Fatal("the pattern added without enabled is not paused")
	}

	// The apply hook got the merged set: the config's instance with its keys then the UI's.
	last := e.apply.last()
	if !reflect.DeepEqual(last, e.svc.Effective()) || len(last) != 2 || last[0].Name != "cache" || last[1].Name != "ui1" {
		t.Fatalf("applied set: %+v", last)
	}
	if ks := last[0].Keys; len(ks) != 3 || ks[2].Pattern != "job:*" || ks[2].MaxKeys != 50 || ks[2].IsEnabled() {
		t.Fatalf("cache keys applied: %+v", ks)
	}
	if ks := last[1].Keys; len(ks) != 1 || ks[0].Key != "queue:jobs" || ks[0].Interval != config.Duration(2*time.Second) || last[1].Password != "hunter2" {
		t.Fatalf("ui1 applied: %+v", last[1])
	}
	// Saved with mode 0600.
	if st, err := os.Stat(filepath.Join(e.dir, settings.FileName)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("settings.json: %v %v", st, err)
	}
}

func TestSettingsEditPauseDelete(t *testing.T) {
	t.Parallel()
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	form := settingsInstanceForm("ui1", "127.0.0.1:7000")
	form.Set("password", "hunter2")
	res, _ := e.postForm(t, admin, "/settings/instances", form)
	settingsRedirected(t, res, "", "/settings?added=")
	res, _ = e.postForm(t, admin, "/settings/instances/ui1/keys", url.Values{"kind": {"key"}, "key": {"k1"}})
	settingsRedirected(t, res, "", "/settings?added=")

	// The edit form shows the values, never the password.
	doc := e.page(t, admin, "/settings?edit=instance:ui1")
	ef := one(t, doc, "edit-instance-form")
	vals := map[string]string{}
	for _, in := range findTag(ef, "input") {
		vals[attr(in, "name")] = attr(in, "value")
	}
	if vals["addr"] != "127.0.0.1:7000" || vals["interval"] != "5s" || vals["password"] != "" || vals["clear_password"] != "true" {
		t.Fatalf("edit form values: %v", vals)
	}
	if strings.Contains(outerHTML(doc), "hunter2") {
		t.Fatal("the stored password is on the page")
	}
	// Save with a blank password: kept. An invalid timeout: 422 in the edit form.
	form = settingsInstanceForm("ui1", "127.0.0.1:7001")
	form.Set("timeout", "9s")
	res, body := e.postForm(t, admin, "/settings/instances/ui1", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("timeout > interval: %d", res.StatusCode)
	}
	ef = one(t, parse(t, body), "edit-instance-form")
	if got := text(oneWith(t, ef, "field-error", "data-field", "timeout")); !strings.Contains(got, "must not exceed interval (5s), got 9s") {
		t.Fatalf("timeout error %q", got)
	}
	res, body = e.postForm(t, admin, "/settings/instances/ui1", settingsInstanceForm("ui1", "127.0.0.1:7001"))
	settingsRedirected(t, res, body, "/settings?saved=instance%3Aui1")
	if r := e.apply.last()[1]; r.Addr != "127.0.0.1:7001" || r.Password != "hunter2" || len(r.Keys) != 1 {
		t.Fatalf("after edit: %+v", r)
	}

	// Pause: out of the running set, shown paused with a Resume button; resume.
	res, _ = e.postForm(t, admin, "/settings/instances/ui1/pause", url.Values{})
	settingsRedirected(t, res, "", "/settings?paused=instance%3Aui1")
	if len(e.apply.last()) != 1 {
		t.Fatalf("paused instance still applied: %+v", e.apply.last())
	}
	doc = e.page(t, admin, "/settings")
	ui1 := oneWith(t, doc, "settings-instance", "data-instance", "ui1")
	if attr(one(t, ui1, "settings-status"), "data-status") != "paused" || text(one(t, ui1, "pause-instance")) != "Resume" {
		t.Fatalf("paused instance: %s", text(ui1))
	}
	res, _ = e.postForm(t, admin, "/settings/instances/ui1/resume", url.Values{})
	settingsRedirected(t, res, "", "/settings?resumed=instance%3Aui1")

	// Key: edit, pause, delete.
	id := e.svc.View().Instances[1].Keys[0].ID
	doc = e.page(t, admin, "/settings?edit=key:"+id)
	one(t, doc, "edit-key-form")
	res, body = e.postForm(t, admin, "/settings/keys/"+id, url.Values{"kind": {"pattern"}, "key": {"k*"}, "interval": {"3s"}})
	settingsRedirected(t, res, body, "/settings?saved=key%3Ak%2A")
	if k := e.apply.last()[1].Keys[0]; k.Pattern != "k*" || k.Interval != config.Duration(3*time.Second) {
		t.Fatalf("edited key: %+v", k)
	}
	res, _ = e.postForm(t, admin, "/settings/keys/"+id+"/pause", url.Values{})
	settingsRedirected(t, res, "", "/settings?paused=key%3Ak%2A")
	if e.apply.last()[1].Keys[0].IsEnabled() {
		t.Fatal("paused key enabled")
	}
	res, _ = e.postForm(t, admin, "/settings/keys/"+id+"/delete", url.Values{})
	settingsRedirected(t, res, "", "/settings?deleted=key%3Ak%2A")
	if len(e.apply.last()[1].Keys) != 0 {
		t.Fatal("deleted key still applied")
	}
	// Delete the instance.
	res, _ = e.postForm(t, admin, "/settings/instances/ui1/delete", url.Values{})
	settingsRedirected(t, res, "", "/settings?deleted=instance%3Aui1")
	doc = e.page(t, admin, "/settings")
	if len(findWith(doc, "settings-instance", "data-instance", "ui1")) != 0 || len(e.apply.last()) != 1 {
		t.Fatal("deleted instance still there")
	}
}

// TestSettingsShortIntervalTimeout: the instance forms prefill no timeout (the placeholder
// says min(2s, interval)), so an instance added or edited at interval 1s with the form as
// rendered is accepted with a 1s timeout; only a typed timeout above the interval is refused.
func TestSettingsShortIntervalTimeout(t *testing.T) {
	t.Parallel()
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)

	add := one(t, e.page(t, admin, "/settings"), "add-instance-form")
	timeout := formField(t, add, "timeout")
	if attr(timeout, "value") != "" || attr(timeout, "placeholder") != "min(2s, interval)" {
		t.Fatalf("add form timeout: value %q placeholder %q", attr(timeout, "value"), attr(timeout, "placeholder"))
	}
	form := url.Values{"name": {"fast"}, "addr": {"127.0.0.1:7000"}, "db": {"0"}, "interval": {"1s"}, "timeout": {attr(timeout, "value")}}
	res, body := e.postForm(t, admin, "/settings/instances", form)
	settingsRedirected(t, res, body, "/settings?added=instance%3Afast")
	if got := instanceNamed(e.apply.last(), "fast"); got.Timeout != config.Duration(time.Second) || got.Interval != config.Duration(time.Second) {
		t.Fatalf("applied: interval %s timeout %s, want 1s and 1s", got.Interval, got.Timeout)
	}
	doc := e.page(t, admin, "/settings")
	if got := text(one(t, oneWith(t, doc, "settings-instance", "data-instance", "fast"), "settings-timeout")); !strings.Contains(got, "1s") || !strings.Contains(got, "min(2s, interval)") {
		t.Fatalf("instance timeout shown as %q", got)
	}

	// Edit: 30s (timeout 2s), then back to 1s with the edit form as rendered.
	form.Set("interval", "30s")
	res, body = e.postForm(t, admin, "/settings/instances/fast", form)
	settingsRedirected(t, res, body, "/settings?saved=instance%3Afast")
	if got := instanceNamed(e.apply.last(), "fast"); got.Timeout != config.Duration(2*time.Second) {
		t.Fatalf("interval 30s: timeout %s, want 2s", got.Timeout)
	}
	edit := one(t, e.page(t, admin, "/settings?edit=instance%3Afast"), "edit-instance-form")
	if v := attr(formField(t, edit, "timeout"), "value"); v != "" {
		t.Fatalf("edit form prefills timeout %q; want blank (it follows the interval)", v)
	}
	form.Set("interval", "1s")
	form.Set("timeout", attr(formField(t, edit, "timeout"), "value"))
	res, body = e.postForm(t, admin, "/settings/instances/fast", form)
	settingsRedirected(t, res, body, "/settings?saved=instance%3Afast")
	if got := instanceNamed(e.apply.last(), "fast"); got.Timeout != config.Duration(time.Second) {
		t.Fatalf("interval 1s: timeout %s, want 1s", got.Timeout)
	}

	// timeout = interval is fine; above it is refused next to the field.
	form.Set("timeout", "1s")
	res, body = e.postForm(t, admin, "/settings/instances/fast", form)
	settingsRedirected(t, res, body, "/settings?saved=instance%3Afast")
	edit = one(t, e.page(t, admin, "/settings?edit=instance%3Afast"), "edit-instance-form")
	if v := attr(formField(t, edit, "timeout"), "value"); v != "1s" {
		t.Fatalf("an explicit timeout is shown as %q in the edit form", v)
	}
	form.Set("timeout", "2s")
	res, body = e.postForm(t, admin, "/settings/instances/fast", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("timeout 2s > interval 1s: %d", res.StatusCode)
	}
	fe := oneWith(t, one(t, parse(t, body), "edit-instance-form"), "field-error", "data-field", "timeout")
	if got := text(fe); got != "must not exceed interval (1s), got 2s" {
		t.Fatalf("timeout error: %q", got)
	}
}
