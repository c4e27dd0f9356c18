package web

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

// With the real alert engine as the target: the shipped defaults are seeded as editable
// rules, a rule added through the form is evaluated, and pausing or deleting it takes it out.
func TestSettingsRulesRealEngine(t *testing.T) {
	t.Parallel()
	var engine *alert.Engine
	e := newSettingsEnvWith(t, settingsEnvOptions{
		fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules()[:1], defaults: alert.DefaultRules(),
		applyRules: func(rs []config.Rule) error { return engine.SetRules(rs) },
		db:         true, // the engine evaluates what is stored
	})
	var err error
	engine, err = alert.New(alert.Options{Store: e.db, Interval: time.Second}, e.svc.EffectiveRules())
	if err != nil {
		t.Fatal(err)
	}
	engineRules := func() []string {
		var out []string
		for _, r := range engine.Rules() {
			out = append(out, r.Name)
		}
		return out
	}
	// RedisDown is the config file's; the other defaults are UI rules with controls.
	var want []string
	for _, r := range alert.DefaultRules() {
		want = append(want, r.Name)
	}
	if got := engineRules(); len(got) != len(want) || got[0] != "RedisDown" {
		t.Fatalf("engine rules %v, want RedisDown first and %d in all", got, len(want))
	}
	admin := e.login("admin", adminPass)
	doc := e.page(t, admin, "/settings")
	for _, r := range find(doc, "settings-rule") {
		name, src := attr(r, "data-rule"), attr(r, "data-source")
		if (name == "RedisDown") != (src == "config") {
			t.Errorf("%s: source %s", name, src)
		}
		if src == "ui" {
			one(t, r, "edit-rule")
		}
	}
	if n := len(findWith(doc, "settings-rule", "data-rule", "RedisDown")); n != 1 {
		t.Fatalf("RedisDown listed %d times", n)
	}

	form := settingsRuleForm("QueueFull", `redis_key_length{key="queue:emails"}`)
	form.Set("threshold", "100")
	form.Set("summary", "{{ .Labels.key }} has {{ .Value }} items")
	res, body := e.postForm(t, admin, "/settings/rules", form)
	settingsRedirected(t, res, body, "/settings?added=rule%3AQueueFull")
	if got := engineRules(); got[len(got)-1] != "QueueFull" || len(got) != len(want)+1 {
		t.Fatalf("engine rules after adding: %v", got)
	}
	// It is evaluated: a series over the threshold fires it.
	now := time.Now()
	if err := e.db.Write([]tsdb.Sample{{Name: "redis_key_length", Labels: []tsdb.Label{{Name: "instance", Value: "cache"}, {Name: "key", Value: "queue:emails"}},
		Timestamp: now.UnixMilli(), Value: 150}}); err != nil {
		t.Fatal(err)
	}
	if err := engine.Evaluate(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	var firing []string
	for _, a := range engine.Alerts() {
		if a.Rule == "QueueFull" && a.State == alert.StateFiring {
			firing = append(firing, a.Summary)
		}
	}
	if !reflect.DeepEqual(firing, []string{"queue:emails has 150 items"}) {
		t.Fatalf("firing QueueFull alerts: %v (all %+v)", firing, engine.Alerts())
	}
	// Edit keeps its state; pausing takes it out of the engine and resolves its alert.
	form.Set("summary", "backlog {{ .Value }}")
	res, body = e.postForm(t, admin, "/settings/rules/QueueFull", form)
	settingsRedirected(t, res, body, "/settings?saved=rule%3AQueueFull")
	if st := engine.Rules()[len(want)]; st.Name != "QueueFull" || st.Rule.Summary != "backlog {{ .Value }}" || st.State != "firing" {
		t.Fatalf("after edit: %+v", st)
	}
	res, _ = e.postForm(t, admin, "/settings/rules/QueueFull/pause", url.Values{})
	settingsRedirected(t, res, "", "/settings?paused=")
	if got := engineRules(); slices.Contains(got, "QueueFull") {
		t.Fatalf("paused rule still in the engine: %v", got)
	}
	// A seeded default can be deleted like any UI rule.
	res, _ = e.postForm(t, admin, "/settings/rules/HostDiskHigh/delete", url.Values{})
	settingsRedirected(t, res, "", "/settings?deleted=rule%3AHostDiskHigh")
	if got := engineRules(); slices.Contains(got, "HostDiskHigh") || len(got) != len(want)-1 {
		t.Fatalf("engine rules after deleting a default: %v", got)
	}
	// A rule the engine refuses (the same check settings makes, e.g. clear_threshold on the
	// wrong side) never reaches it.
	bad := settingsRuleForm("Flappy", "redis_up")
	bad.Set("op", "<")
	bad.Set("clear_threshold", "0")
	res, _ = e.postForm(t, admin, "/settings/rules", bad)
	if res.StatusCode != http.StatusUnprocessableEntity || slices.Contains(engineRules(), "Flappy") {
		t.Fatalf("a bad clear_threshold: %d, engine %v", res.StatusCode, engineRules())
	}
}
