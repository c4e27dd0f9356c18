package web

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/settings"
)

func TestSettingsInvalidInputIsShownInPlace(t *testing.T) {
	t.Parallel()
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)

	form := settingsInstanceForm("ui1", "127.0.0.1:7000")
	form.Set("interval", "5x")
	form.Set("password", "typed-secret")
	res, body := e.postForm(t, admin, "/settings/instances", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("interval 5x: %d", res.StatusCode)
	}
	doc := parse(t, body)
	f := one(t, doc, "add-instance-form")
	fe := oneWith(t, f, "field-error", "data-field", "interval")
	if got := text(fe); !strings.Contains(got, `"5x" is not a duration`) {
		t.Fatalf("interval error: %q", got)
	}
	// Next to its field: in the same .field as the input, which points at it.
	input := fe.Parent.FirstChild
	for input != nil && !(input.Type == html.ElementNode && input.Data == "input") {
		input = input.NextSibling
	}
	if input == nil || attr(input, "name") != "interval" || attr(input, "aria-describedby") != attr(fe, "id") || attr(input, "aria-invalid") != "true" || attr(input, "value") != "5x" {
		t.Fatalf("the error is not next to the interval input: %+v", input)
	}
	if strings.Contains(body, "typed-secret") {
		t.Fatal("the typed password was rendered back")
	}
	if !strings.Contains(body, `value="127.0.0.1:7000"`) || !strings.Contains(body, `value="ui1"`) {
		t.Fatal("the user's input was not kept")
	}
	if e.apply.count() != 0 {
		t.Fatal("an invalid form was applied")
	}

	// Problems found by config's validation land on their fields too, all at once.
	form = settingsInstanceForm("Bad!", "nohost")
	form.Set("interval", "500ms")
	res, body = e.postForm(t, admin, "/settings/instances", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad instance: %d", res.StatusCode)
	}
	f = one(t, parse(t, body), "add-instance-form")
	for field, want := range map[string]string{"name": "may contain only", "addr": "is not host:port", "interval": "must be >= 1s"} {
		if got := text(oneWith(t, f, "field-error", "data-field", field)); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	// A name taken by the config file.
	res, body = e.postForm(t, admin, "/settings/instances", settingsInstanceForm("cache", "127.0.0.1:7000"))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(oneWith(t, parse(t, body), "field-error", "data-field", "name")), "config file") {
		t.Fatalf("duplicate of a config name: %d", res.StatusCode)
	}

	// A key form: the error shows in that instance's add-key form, with the input kept.
	// Values that do not parse are reported with what validating the rest finds.
	res, body = e.postForm(t, admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"queue:emails"}, "interval": {"5x"}, "max_keys": {"5"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("key interval 5x: %d", res.StatusCode)
	}
	kf := oneWith(t, parse(t, body), "add-key-form", "data-instance", "cache")
	for field, want := range map[string]string{"interval": `"5x" is not a duration`, "max_keys": "applies only to pattern entries", "key": "already watched"} {
		if got := text(oneWith(t, kf, "field-error", "data-field", field)); !strings.Contains(got, want) {
			t.Errorf("key form %s error: %q, want %q", field, got, want)
		}
	}
	for _, in := range findTag(kf, "input") {
		if attr(in, "name") == "interval" && attr(in, "value") != "5x" {
			t.Fatalf("interval input not kept: %q", attr(in, "value"))
		}
	}
	// A duplicate of the config file's key on the same instance.
	res, body = e.postForm(t, admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"queue:emails"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate key: %d", res.StatusCode)
	}
	kf = oneWith(t, parse(t, body), "add-key-form", "data-instance", "cache")
	if got := text(oneWith(t, kf, "field-error", "data-field", "key")); !strings.Contains(got, "already watched") {
		t.Fatalf("duplicate key error: %q", got)
	}
	// max_keys on an exact key.
	res, body = e.postForm(t, admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"k2"}, "max_keys": {"5"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(oneWith(t, parse(t, body), "field-error", "data-field", "max_keys")), "pattern") {
		t.Fatalf("max_keys on a key: %d", res.StatusCode)
	}
	if e.apply.count() != 0 {
		t.Fatal("an invalid form was applied")
	}
	if _, err := os.Stat(filepath.Join(e.dir, settings.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an invalid form was saved: %v", err)
	}
	// Unknown objects: 404.
	res, _ = e.postForm(t, admin, "/settings/instances/nope/keys", url.Values{"kind": {"key"}, "key": {"k"}})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("key on an unknown instance: %d", res.StatusCode)
	}
	res, _ = e.postForm(t, admin, "/settings/keys/0123456789abcdef/delete", url.Values{})
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown key: %d", res.StatusCode)
	}
}

func TestSettingsFailingApplySavesNothing(t *testing.T) {
	t.Parallel()
	e := newSettingsEnv(t, settingsConfig("127.0.0.1:6390"), nil, nil)
	admin := e.login("admin", adminPass)
	e.apply.fail = errors.New("cannot read tls_ca_file: boom")
	res, body := e.postForm(t, admin, "/settings/instances", settingsInstanceForm("ui1", "127.0.0.1:7000"))
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("failing apply: %d", res.StatusCode)
	}
	doc := parse(t, body)
	if got := text(one(t, one(t, doc, "add-instance-form"), "form-error")); !strings.Contains(got, "boom") {
		t.Fatalf("form error %q", got)
	}
	if len(findWith(doc, "settings-instance", "data-instance", "ui1")) != 0 {
		t.Fatal("the refused instance is listed")
	}
	if _, err := os.Stat(filepath.Join(e.dir, settings.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("settings.json written after a failed apply: %v", err)
	}
	if len(e.svc.View().Instances) != 1 {
		t.Fatal("the service kept the refused instance")
	}

	// A failed save: 500 with the reason; the previous set is applied again.
	e.apply.fail = nil
	path := filepath.Join(e.dir, settings.FileName)
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	n := e.apply.count()
	res, body = e.postForm(t, admin, "/settings/instances", settingsInstanceForm("ui1", "127.0.0.1:7000"))
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(text(one(t, parse(t, body), "settings-error")), "not saved") {
		t.Fatalf("failed save: %d", res.StatusCode)
	}
	if e.apply.count() != n+2 || len(e.apply.last()) != 1 {
		t.Fatalf("apply calls %d, last %+v: want the change then the previous set", e.apply.count()-n, e.apply.last())
	}
}
