package alert

import (
	"strings"
	"testing"

	"github.com/redwatch/redwatch/app/config"
)

// A rule's series must be a selector: compiling the rule (New, SetRules, CheckRules at
// start-up) refuses it with an error naming the rule; config's Validate does not parse it.
func TestCheckRulesSeries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ series, want string }{
		{"rate(up[5m])", `alert rule "r": series: "rate(up[5m])" is not a series selector`},
		{"up > 1", `alert rule "r": series: "up > 1" is not a series selector`},
		{`up{key="x`, `alert rule "r": series: cannot parse selector`},
	} {
		r := config.Rule{Name: "r", Series: tc.series}
		if err := CheckRules([]config.Rule{r}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckRules(series %q): %v, want an error containing %q", tc.series, err, tc.want)
		}
		reason := strings.TrimPrefix(tc.want, `alert rule "r": series: `)
		if err := CheckSeries(tc.series); err == nil || !strings.HasPrefix(err.Error(), reason) {
			t.Errorf("CheckSeries(%q): %v, want an error starting %q", tc.series, err, reason)
		}
		r.ApplyDefaults()
		if err := r.Validate(); err != nil {
			t.Errorf("config.Rule.Validate(series %q): %v, want nil (compiling checks it)", tc.series, err)
		}
	}
	for _, ok := range []string{`redis_key_length{instance=~"c.*",key!="x"}`, `{__name__="up"}`} {
		if err := CheckSeries(ok); err != nil {
			t.Errorf("CheckSeries(%q): %v", ok, err)
		}
	}
}
