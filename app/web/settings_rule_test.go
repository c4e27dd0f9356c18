package web

import (
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/settings"
	"github.com/redwatch/redwatch/tsdb"
)

// settingsRuleForm is a valid rule form: name, series, threshold 1; everything else default.
func settingsRuleForm(name, series string) url.Values {
	return url.Values{"name": {name}, "series": {series}, "aggregate": {"last"}, "window": {""}, "op": {">"},
		"threshold": {"1"}, "clear_threshold": {""}, "for": {""}, "severity": {"warning"}, "summary": {""}, "labels": {""}}
}

// settingsConfigRules are the config file's alert rules: RedisDown (also a shipped default's
// name) and, for hostile input, a rule named like an HTML tag.
func settingsConfigRules() []config.Rule {
	rs := []config.Rule{
		{Name: "RedisDown", Series: "redis_up", Op: "<", Threshold: 1, For: config.Duration(30 * time.Second), Severity: "critical"},
		{Name: hostileKey, Series: `redis_key_length{key="` + hostileKey + `"}`, Threshold: 5, Summary: hostileKey},
	}
	for i := range rs {
		rs[i].ApplyDefaults()
	}
	return rs
}

func ruleNamesOf(rs []config.Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestSettingsRuleAdd(t *testing.T) {
	t.Parallel()
	rec := &applyRecorder[config.Rule]{}
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules(), applyRules: rec.apply})
	admin := e.login("admin", adminPass)
	now := time.Now()
	e.latest.write([]tsdb.Sample{
		{Name: "redis_key_length", Labels: []tsdb.Label{{Name: "instance", Value: "cache"}, {Name: "key", Value: "queue:emails"}}, Timestamp: now.UnixMilli(), Value: 3},
		{Name: "redis_key_length", Labels: []tsdb.Label{{Name: "instance", Value: "other"}, {Name: "key", Value: "queue:emails"}}, Timestamp: now.UnixMilli(), Value: 4},
		{Name: "redis_key_length", Labels: []tsdb.Label{{Name: "instance", Value: "cache"}, {Name: "key", Value: "queue:jobs"}}, Timestamp: now.UnixMilli(), Value: 5},
	})

	form := url.Values{"name": {"QueueBacklog"}, "series": {`redis_key_length{key="queue:emails"}`}, "aggregate": {"avg"}, "window": {"5m"},
		"op": {">="}, "threshold": {"1e4"}, "clear_threshold": {"9000.5"}, "for": {"2m"}, "severity": {"critical"},
		"summary": {"{{ .Labels.key }} has {{ .Value }} items"}, "labels": {"team = db\r\nenv=\"prod, eu\"\r\n"}}
	res, body := e.postForm(t, admin, "/settings/rules", form)
	settingsRedirected(t, res, body, "/settings?added=rule%3AQueueBacklog#rule-QueueBacklog")
	doc := e.page(t, admin, res.Header.Get("Location"))
	if got := text(one(t, doc, "settings-notice")); got != "Rule “QueueBacklog” added." {
		t.Fatalf("notice %q", got)
	}
	row := oneWith(t, doc, "settings-rule", "data-rule", "QueueBacklog")
	if attr(row, "data-source") != "ui" || attr(row, "data-paused") != "false" || attr(row, "id") != "rule-QueueBacklog" {
		t.Fatalf("row: %s", outerHTML(row))
	}
	for id, want := range map[string]string{
		"rule-series":    `redis_key_length{key="queue:emails"}`,
		"rule-condition": ">= 10000 (clears at 9000.5)",
		"rule-labels":    "labels: env=prod, eu · team=db",
		"rule-matches":   "matches 2 series",
		"rule-severity":  "critical",
		"rule-state":     "active",
		"rule-summary":   "{{ .Labels.key }} has {{ .Value }} items",
	} {
		if got := text(one(t, row, id)); got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	if !strings.Contains(text(row), "avg over 5m") || !strings.Contains(text(row), "2m") {
		t.Errorf("row text: %s", text(row))
	}
	for _, id := range []string{"edit-rule", "pause-rule", "delete-rule", "confirm-delete-rule"} {
		one(t, row, id)
	}
	// What was applied: the config file's rules, then the new one, parsed as typed.
	got := rec.last()
	if names := ruleNamesOf(got); !reflect.DeepEqual(names, []string{"RedisDown", hostileKey, "QueueBacklog"}) {
		t.Fatalf("applied %v", names)
	}
	r := got[2]
	if r.Aggregate != "avg" || r.Window != config.Duration(5*time.Minute) || r.Op != ">=" || r.Threshold != 1e4 || r.ClearThreshold == nil ||
		*r.ClearThreshold != 9000.5 || r.For != config.Duration(2*time.Minute) || r.Severity != "critical" ||
		!reflect.DeepEqual(r.Labels, map[string]string{"team": "db", "env": "prod, eu"}) {
		t.Fatalf("applied rule: %+v", r)
	}
	// Blank window, for and clear threshold take the defaults; the form defaults are last, >, warning.
	res, body = e.postForm(t, admin, "/settings/rules", settingsRuleForm("Plain", "redis_up"))
	settingsRedirected(t, res, body, "/settings?added=rule%3APlain")
	if r := rec.last()[3]; r.Window != config.DefaultRuleWindow || r.For != 0 || r.ClearThreshold != nil || r.Labels != nil {
		t.Fatalf("defaults: %+v", r)
	}
	doc = e.page(t, admin, "/settings")
	plain := oneWith(t, doc, "settings-rule", "data-rule", "Plain")
	if got := text(one(t, plain, "rule-matches")); got != "matches no series" || attr(one(t, plain, "rule-matches"), "data-count") != "0" {
		t.Fatalf("matches of a selector with no series: %q", got)
	}
	// The blank add form preselects the defaults.
	af := one(t, doc, "add-rule-form")
	for name, want := range map[string]string{"aggregate": "last", "op": ">", "severity": "warning"} {
		if got := selectedValue(af, name); got != want {
			t.Errorf("add form %s preselects %q, want %q", name, got, want)
		}
	}
	// Saved in settings.json.
	d, err := settings.Load(e.dir)
	if err != nil || len(d.Rules) != 2 || d.Rules[0].Name != "QueueBacklog" {
		t.Fatalf("saved: %+v %v", d.Rules, err)
	}
}

func TestSettingsRuleEditPauseDelete(t *testing.T) {
	t.Parallel()
	rec := &applyRecorder[config.Rule]{}
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules(), applyRules: rec.apply})
	admin := e.login("admin", adminPass)
	form := settingsRuleForm("Backlog", `redis_key_length{key="q"}`)
	form.Set("window", "2m")
	form.Set("labels", "team=db, env=prod")
	res, body := e.postForm(t, admin, "/settings/rules", form)
	settingsRedirected(t, res, body, "/settings?added=rule%3ABacklog")

	// The edit form shows the values; labels one per line.
	doc := e.page(t, admin, "/settings?edit=rule:Backlog")
	ef := one(t, doc, "edit-rule-form")
	if attr(ef, "data-rule") != "Backlog" || attr(ef, "action") != "/settings/rules/Backlog" {
		t.Fatalf("edit form: %s", outerHTML(ef))
	}
	vals := map[string]string{}
	for _, in := range findTag(ef, "input") {
		vals[attr(in, "name")] = attr(in, "value")
	}
	if vals["name"] != "Backlog" || vals["series"] != `redis_key_length{key="q"}` || vals["window"] != "2m" || vals["threshold"] != "1" || vals["for"] != "0s" {
		t.Fatalf("edit form values: %v", vals)
	}
	ta := slices.DeleteFunc(findTag(ef, "textarea"), func(n *html.Node) bool { return attr(n, "name") != "labels" })
	if len(ta) != 1 || text(ta[0]) != "env=prod team=db" || !strings.Contains(outerHTML(ta[0]), "env=prod\nteam=db") {
		t.Fatalf("labels textarea: %v", outerHTML(ef))
	}
	// An invalid edit: 422 in the edit form.
	form.Set("for", "-1s")
	res, body = e.postForm(t, admin, "/settings/rules/Backlog", form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("invalid edit: %d", res.StatusCode)
	}
	ef = one(t, parse(t, body), "edit-rule-form")
	if got := text(oneWith(t, ef, "field-error", "data-field", "for")); !strings.Contains(got, "must be >= 0") {
		t.Fatalf("for error %q", got)
	}
	// Rename and raise the threshold.
	form.Set("for", "1m")
	form.Set("name", "QueueBacklog")
	form.Set("threshold", "50")
	res, body = e.postForm(t, admin, "/settings/rules/Backlog", form)
	settingsRedirected(t, res, body, "/settings?saved=rule%3AQueueBacklog#rule-QueueBacklog")
	if r := rec.last()[2]; r.Name != "QueueBacklog" || r.Threshold != 50 || r.For != config.Duration(time.Minute) {
		t.Fatalf("after edit: %+v", r)
	}

	// Pause: out of the evaluated set, shown paused with a Resume button.
	res, _ = e.postForm(t, admin, "/settings/rules/QueueBacklog/pause", url.Values{})
	settingsRedirected(t, res, "", "/settings?paused=rule%3AQueueBacklog")
	if names := ruleNamesOf(rec.last()); len(names) != 2 {
		t.Fatalf("paused rule applied: %v", names)
	}
	doc = e.page(t, admin, "/settings")
	row := oneWith(t, doc, "settings-rule", "data-rule", "QueueBacklog")
	if attr(row, "data-paused") != "true" || attr(one(t, row, "rule-state"), "data-state") != "paused" || text(one(t, row, "pause-rule")) != "Resume" {
		t.Fatalf("paused row: %s", text(row))
	}
	res, _ = e.postForm(t, admin, "/settings/rules/QueueBacklog/resume", url.Values{})
	settingsRedirected(t, res, "", "/settings?resumed=rule%3AQueueBacklog")
	if names := ruleNamesOf(rec.last()); len(names) != 3 {
		t.Fatalf("resumed rule not applied: %v", names)
	}
	doc = e.page(t, admin, "/settings")
	if attr(oneWith(t, doc, "settings-rule", "data-rule", "QueueBacklog"), "data-paused") != "false" {
		t.Fatal("resumed rule shown paused")
	}

	// Delete, through the confirmation's form.
	row = oneWith(t, doc, "settings-rule", "data-rule", "QueueBacklog")
	confirm := one(t, row, "confirm-delete-rule")
	action := attr(confirm.Parent, "action")
	if action != "/settings/rules/QueueBacklog/delete" {
		t.Fatalf("delete form action %q", action)
	}
	res, _ = e.postForm(t, admin, action, url.Values{})
	settingsRedirected(t, res, "", "/settings?deleted=rule%3AQueueBacklog")
	doc = e.page(t, admin, res.Header.Get("Location"))
	if len(findWith(doc, "settings-rule", "data-rule", "QueueBacklog")) != 0 || len(rec.last()) != 2 {
		t.Fatal("deleted rule still there")
	}
	if got := text(one(t, doc, "settings-notice")); got != "Rule “QueueBacklog” deleted." {
		t.Fatalf("notice %q", got)
	}
}
