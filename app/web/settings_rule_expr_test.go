package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/config"
)

// TestSettingsRuleExpr: the rule form takes a MetricsQL expr instead of a selector, checks it
// inline (422, the message beside the field, the input kept) and adds a valid one, with no op
// and no threshold, as an expr rule.
func TestSettingsRuleExpr(t *testing.T) {
	t.Parallel()
	rec := &applyRecorder[config.Rule]{}
	e := newSettingsEnvWith(t, settingsEnvOptions{fromConfig: settingsConfig("127.0.0.1:6390"), rules: settingsConfigRules(), applyRules: rec.apply})
	admin := e.login("admin", adminPass)

	exprForm := func(name, expr string) url.Values {
		f := settingsRuleForm(name, "")
		f.Set("expr", expr)
		f.Set("op", "")
		f.Set("threshold", "")
		return f
	}
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
	const bad = "rate(redis_commands_processed_total[5m]"
	f := post(exprForm("Bad", bad), map[string]string{"expr": "not a valid MetricsQL expression: "})
	fe := oneWith(t, f, "field-error", "data-field", "expr")
	kept := false
	for _, ta := range findTag(f, "textarea") {
		if attr(ta, "name") == "expr" {
			kept = text(ta) == bad && attr(ta, "aria-describedby") == attr(fe, "id") && attr(ta, "aria-invalid") == "true"
		}
	}
	if !kept {
		t.Fatalf("the expr textarea does not keep the input beside its error: %s", text(f))
	}
	both := exprForm("Both", "redis_up == 0")
	both.Set("series", "redis_up")
	post(both, map[string]string{"expr": "either series"})
	noOp := exprForm("NoOp", "redis_up")
	noOp.Set("threshold", "3")
	post(noOp, map[string]string{"threshold": "needs an op"})
	win := exprForm("Win", "redis_up")
	win.Set("window", "5m")
	post(win, map[string]string{"window": "does not apply to an expr rule"})

	const good = "redis_memory_used_bytes / redis_memory_max_bytes > 0.9"
	res, body := e.postForm(t, admin, "/settings/rules", exprForm("MemRatio", good))
	settingsRedirected(t, res, body, "/settings?added=rule%3AMemRatio#rule-MemRatio")
	got := rec.last()
	r := got[len(got)-1]
	if r.Name != "MemRatio" || r.Expr != good || r.Series != "" || r.Aggregate != "" || r.Window != 0 || r.Op != "" || r.Severity != "warning" {
		t.Fatalf("applied rule: %+v", r)
	}
	row := oneWith(t, e.page(t, admin, "/settings"), "settings-rule", "data-rule", "MemRatio")
	if got := text(one(t, row, "rule-expr")); got != good {
		t.Errorf("rule-expr %q", got)
	}
	if got := text(one(t, row, "rule-condition")); got != "every series returned" {
		t.Errorf("rule-condition %q", got)
	}
}

// TestRuleConditionOfExprRules: /alerts words an expr rule's condition.
func TestRuleConditionOfExprRules(t *testing.T) {
	for _, tt := range []struct {
		r    config.Rule
		want string
	}{
		{config.Rule{Expr: "a / b > 0.9"}, "every series returned"},
		{config.Rule{Expr: "a / b", Op: ">", Threshold: 0.9}, "value > 0.9"},
		{config.Rule{Series: "a", Aggregate: "last", Op: "<", Threshold: 1}, "latest < 1"},
	} {
		if got := ruleCondition(tt.r, valueUnit{}); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.r, got, tt.want)
		}
	}
}
