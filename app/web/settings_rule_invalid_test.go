package web

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/settings"
)

func TestSettingsRuleInvalidInput(t *testing.T) {
	t.Parallel()
	rec := &applyRecorder[config.Rule]{}
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules(), applyRules: rec.apply})
	admin := e.login("admin", adminPass)

	post := func(form url.Values, want map[string]string) *html.Node {
		t.Helper()
		res, body := e.postForm(t, admin, "/settings/rules", form)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%v: status %d, want 422", form, res.StatusCode)
		}
		f := one(t, parse(t, body), "add-rule-form")
		for field, substr := range want {
			if got := text(oneWith(t, f, "field-error", "data-field", field)); !strings.Contains(got, substr) {
				t.Errorf("%s error %q, want %q", field, got, substr)
			}
		}
		if n := len(find(f, "field-error")); n != len(want) {
			t.Errorf("%d field errors, want %d: %s", n, len(want), text(f))
		}
		return f
	}
	form := settingsRuleForm("Bad", `redis_up{instance="a"`)
	f := post(form, map[string]string{"series": "cannot parse selector"})
	// The input is kept, next to its error.
	fe := oneWith(t, f, "field-error", "data-field", "series")
	for _, in := range findTag(f, "input") {
		if attr(in, "name") == "series" && (attr(in, "value") != `redis_up{instance="a"` || attr(in, "aria-describedby") != attr(fe, "id")) {
			t.Fatalf("series input: %s", outerHTML(in))
		}
	}
	// Values that do not parse, and what validating the rest finds, all at once.
	form = settingsRuleForm("Bad", "redis_up")
	form.Set("window", "5x")
	form.Set("op", "~")
	form.Set("threshold", "lots")
	form.Set("clear_threshold", "2")
	form.Set("labels", "team")
	f = post(form, map[string]string{"window": `"5x" is not a duration`, "op": "must be one of", "threshold": `"lots" is not a number`, "labels": `"team" is not key=value`})
	if got := selectedValue(f, "op"); got != "~" {
		t.Fatalf("the posted op is not kept: %q", got)
	}
	form = settingsRuleForm("Bad", "redis_up")
	form.Set("clear_threshold", "5")
	form.Set("labels", "1x=a, alertname=b")
	post(form, map[string]string{"clear_threshold": "must be <= threshold (1)", "labels": `"1x": label names must match`})
	form = settingsRuleForm("RedisDown", "redis_up")
	form.Set("threshold", "")
	form.Set("severity", "fatal")
	post(form, map[string]string{"name": "a rule from the config file", "threshold": "required", "severity": "must be one of"})
	post(settingsRuleForm("High CPU", "host_cpu_usage_percent"), map[string]string{"name": "may contain only"})
	form = settingsRuleForm("x", "redis_up")
	form.Set("threshold", "NaN")
	post(form, map[string]string{"threshold": `"NaN" is not a number`})

	if rec.count() != 0 {
		t.Fatal("an invalid rule was applied")
	}
	if _, err := os.Stat(filepath.Join(e.dir, settings.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an invalid rule was saved: %v", err)
	}

	// The engine refuses the set: its reason is shown in the form, nothing is saved.
	rec.fail = errors.New(`alert rule "Ok": the engine says no`)
	res, body := e.postForm(t, admin, "/settings/rules", settingsRuleForm("Ok", "redis_up"))
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("refused by the engine: %d", res.StatusCode)
	}
	doc := parse(t, body)
	if got := text(one(t, one(t, doc, "add-rule-form"), "form-error")); !strings.Contains(got, "the engine says no") {
		t.Fatalf("form error %q", got)
	}
	if len(findWith(doc, "settings-rule", "data-rule", "Ok")) != 0 || len(e.svc.View().Rules) != 2 {
		t.Fatal("the refused rule is listed")
	}
	if _, err := os.Stat(filepath.Join(e.dir, settings.FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("settings.json written after a refused rule: %v", err)
	}
	// Unknown rules: 404.
	for _, p := range []string{"/settings/rules/nope", "/settings/rules/nope/pause", "/settings/rules/nope/delete"} {
		if res, _ := e.postForm(t, admin, p, settingsRuleForm("nope", "redis_up")); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", p, res.StatusCode)
		}
	}
}

// Config rules are read-only, and hostile names, selectors and summaries render as text.
func TestSettingsConfigRulesAreReadOnly(t *testing.T) {
	t.Parallel()
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules()})
	admin := e.login("admin", adminPass)
	form := settingsRuleForm("Mine", "redis_up")
	form.Set("summary", hostileKey)
	form.Set("labels", "note="+hostileKey)
	res, body := e.postForm(t, admin, "/settings/rules", form)
	settingsRedirected(t, res, body, "/settings?added=rule%3AMine")

	res, body = e.do(admin, "GET", "/settings", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET: %d", res.StatusCode)
	}
	doc := parse(t, body)
	if len(findTag(doc, "img")) != 0 || strings.Contains(body, "<img") {
		t.Fatal("hostile text rendered as markup")
	}
	rows := find(doc, "settings-rule")
	var got []string
	for _, r := range rows {
		got = append(got, attr(r, "data-rule")+"/"+attr(r, "data-source"))
	}
	if !reflect.DeepEqual(got, []string{"RedisDown/config", hostileKey + "/config", "Mine/ui"}) {
		t.Fatalf("rules: %v", got)
	}
	for _, r := range rows[:2] {
		for _, id := range []string{"edit-rule", "pause-rule", "delete-rule", "confirm-delete-rule"} {
			if len(find(r, id)) != 0 {
				t.Errorf("config rule %s has %s", attr(r, "data-rule"), id)
			}
		}
	}
	hostile := rows[1]
	if text(one(t, hostile, "rule-name")) != hostileKey || text(one(t, hostile, "rule-summary")) != hostileKey ||
		text(one(t, hostile, "rule-series")) != `redis_key_length{key="`+hostileKey+`"}` {
		t.Fatalf("hostile config rule: %s", text(hostile))
	}
	if got := text(one(t, rows[2], "rule-labels")); got != "labels: note="+hostileKey {
		t.Fatalf("hostile label: %q", got)
	}
	for _, p := range []string{"/settings/rules/RedisDown", "/settings/rules/RedisDown/pause", "/settings/rules/RedisDown/delete"} {
		if res, _ := e.postForm(t, admin, p, settingsRuleForm("RedisDown", "redis_up")); res.StatusCode != http.StatusConflict {
			t.Errorf("POST %s: %d, want 409", p, res.StatusCode)
		}
	}
	if doc := e.page(t, admin, "/settings?edit=rule:RedisDown"); len(find(doc, "edit-rule-form")) != 0 {
		t.Fatal("edit form for a config rule")
	}
}

// A UI rule that no longer validates (a hand edit of settings.json) does not stop anything:
// it is shown as not applied with the reason, and fixing it through the form applies it.
func TestSettingsRuleNotApplied(t *testing.T) {
	t.Parallel()
	bad := settings.Rule{Name: "Broken", Series: "redis_up", Aggregate: "last", Window: config.Duration(time.Minute), Op: "~", Threshold: 1, Severity: "warning"}
	rec := &applyRecorder[config.Rule]{}
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), applyRules: rec.apply,
		seed: []settings.Data{{Version: settings.Version, Rules: []settings.Rule{bad}, RulesSeeded: true}}})
	if len(e.svc.EffectiveRules()) != 0 {
		t.Fatalf("the broken rule is evaluated: %+v", e.svc.EffectiveRules())
	}
	admin := e.login("admin", adminPass)
	doc := e.page(t, admin, "/settings")
	row := oneWith(t, doc, "settings-rule", "data-rule", "Broken")
	if st := attr(one(t, row, "rule-state"), "data-state"); st != "not-applied" || !strings.Contains(text(one(t, row, "rule-problem")), `op: must be one of`) {
		t.Fatalf("broken row: state %q, %s", st, text(row))
	}
	doc = e.page(t, admin, "/settings?edit=rule:Broken")
	ef := one(t, doc, "edit-rule-form")
	if got := text(one(t, ef, "form-error")); !strings.Contains(got, "Not evaluated: op: must be one of") {
		t.Fatalf("edit form error %q", got)
	}
	form := settingsRuleForm("Broken", "redis_up")
	form.Set("op", "<")
	res, body := e.postForm(t, admin, "/settings/rules/Broken", form)
	settingsRedirected(t, res, body, "/settings?saved=rule%3ABroken")
	if got := ruleNamesOf(rec.last()); !reflect.DeepEqual(got, []string{"Broken"}) || rec.last()[0].Op != "<" {
		t.Fatalf("applied after the fix: %+v", rec.last())
	}
	doc = e.page(t, admin, "/settings")
	if st := attr(one(t, oneWith(t, doc, "settings-rule", "data-rule", "Broken"), "rule-state"), "data-state"); st != "active" {
		t.Fatalf("state after the fix: %q", st)
	}
}
