package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSilenceFormRowProblemAlone checks that a matcher row the form cannot read (an unknown
// operator) is the only matcher problem shown, as before the policy moved to alert: the
// policy's verdict on the other matchers ("Add at least one matcher", "would mute every
// alert") waits until every row can be read.
func TestSilenceFormRowProblemAlone(t *testing.T) {
	t.Parallel()
	e := newEngineAlertsEnv(t)
	admin := e.login("admin", adminPass)
	for _, c := range []struct{ names, ops, values []string }{
		{[]string{"q"}, []string{"~~"}, []string{"x"}},
		{[]string{"q", "severity"}, []string{"~~", "=~"}, []string{"x", ".*"}},
	} {
		form := url.Values{"matcher_name": c.names, "matcher_op": c.ops, "matcher_value": c.values,
			"duration": {"1h"}, "comment": {"deploying"}}
		res, body := e.postForm(t, admin, "/alerts/silences", form)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%v: %d, want 422", c.ops, res.StatusCode)
		}
		if !strings.Contains(body, "Unknown operator") {
			t.Errorf("%v: no row problem shown", c.ops)
		}
		for _, other := range []string{"Add at least one matcher", "would mute every alert"} {
			if strings.Contains(body, other) {
				t.Errorf("%v: the page says %q next to a row it could not read", c.ops, other)
			}
		}
	}
}
