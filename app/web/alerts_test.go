package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/notify"
	"github.com/redwatch/redwatch/tsdb"
)

const hostileQueue = `<img src=x onerror=alert(1)>`

// fakeNotifiers is a NotifierHealth with fixed answers.
type fakeNotifiers []notify.Health

func (f fakeNotifiers) Health() []notify.Health { return slices.Clone(f) }

// alertsLogBuffer collects log lines written from handler goroutines.
type alertsLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *alertsLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *alertsLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// alertsEnv is newEnv's server rebuilt with a real alert engine over its storage, a fake
// notifier health and a log buffer.
type alertsEnv struct {
	*env
	engine *alert.Engine
	t0     time.Time // the first evaluation
	log    *alertsLogBuffer
}

func newAlertsEnv(t *testing.T, notifiers NotifierHealth) *alertsEnv {
	t.Helper()
	e := newEnv(t)
	t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
	d := func(v time.Duration) config.Duration { return config.Duration(v) }
	rules := []config.Rule{
		{Name: "QueueLong", Series: "queue_len", Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 1,
			Severity: "critical", Summary: `Queue {{ .Labels.q }} holds {{ .Value }} jobs`},
		{Name: "QueueSlow", Series: "queue_len", Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 1,
			For: d(time.Hour), Severity: "warning"},
		{Name: "QueueHuge", Series: "queue_len", Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 1000,
			Severity: "info"},
		{Name: "QueueBadSummary", Series: "queue_len", Aggregate: "last", Window: d(time.Minute), Op: ">", Threshold: 1,
			Severity: "warning", Summary: `{{ index .Labels 5 }}`},
		{Name: "MemoryHigh", Series: "host_memory_usage_percent", Aggregate: "avg", Window: d(5 * time.Minute), Op: ">",
			Threshold: 85, ClearThreshold: new(80.0), For: d(5 * time.Minute), Severity: "warning"},
	}
	engine, err := alert.New(alert.Options{Store: e.db, Writer: e.db, StateDir: t.TempDir()}, rules)
	if err != nil {
		t.Fatal(err)
	}
	// Two evaluations: queue a first, then queue b too, so that the history has an order.
	write := func(q string, at time.Time, v float64) {
		t.Helper()
		if err := e.db.Write([]tsdb.Sample{{Name: "queue_len", Labels: []tsdb.Label{{Name: "q", Value: q}}, Timestamp: at.UnixMilli(), Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	write(hostileQueue, t0.Add(-time.Second), 5)
	if err := engine.Evaluate(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	write("b", t0.Add(9*time.Second), 7)
	write(hostileQueue, t0.Add(9*time.Second), 5)
	if err := engine.Evaluate(context.Background(), t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}

	log := &alertsLogBuffer{}
	opts := e.srv.opts
	opts.Alerts, opts.Notifiers = engine, notifiers
	opts.Logger = slog.New(slog.NewJSONHandler(log, nil))
	e.srv = New(opts)
	e.ts.Close()
	e.ts = httptest.NewServer(e.srv.Handler()) // closed by newEnv's cleanup
	return &alertsEnv{env: e, engine: engine, t0: t0, log: log}
}

// page GETs path as a browser and parses it, asserting the status.
func (e *alertsEnv) page(t *testing.T, c *http.Client, path string, want int) (*html.Node, string) {
	t.Helper()
	res, body := e.do(c, "GET", path, nil, "Accept: text/html")
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%.500s", path, res.StatusCode, want, body)
	}
	return parse(t, body), body
}

// post sends a form with the CSRF token of the client's last page.
func (e *alertsEnv) post(t *testing.T, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	_, body := e.do(c, "GET", "/alerts", nil, "Accept: text/html")
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on /alerts")
	}
	form.Set("_csrf", m[1])
	return e.do(c, "POST", path, strings.NewReader(form.Encode()), "Content-Type: application/x-www-form-urlencoded", "Accept: text/html")
}

// alertRows returns the alert rows by the value of their q label.
func alertRows(t *testing.T, doc *html.Node) map[string]*html.Node {
	t.Helper()
	out := map[string]*html.Node{}
	for _, r := range find(doc, "alert-row") {
		q := ""
		for _, chip := range find(r, "alert-labels") {
			for d := range chip.Descendants() {
				if d.Type == html.ElementNode && attr(d, "data-label") == "q" {
					q = strings.TrimPrefix(text(d), "q=")
				}
			}
		}
		out[attr(r, "data-rule")+"/"+q] = r
	}
	return out
}

func alertsHas(n *html.Node, id string) bool { return len(find(n, id)) > 0 }

func failingNotifiers(now time.Time) fakeNotifiers {
	return fakeNotifiers{
		{Name: "webhook[0]", Kind: "webhook", LastAttempt: now.Add(-5 * time.Second), ConsecutiveFailures: 3, Pending: 2,
			LastError: `POST to hooks.example.com: unexpected status 500 Internal Server Error: "<b>boom</b>"`},
		{Name: "slack[0]", Kind: "slack", LastSuccess: now.Add(-time.Minute), LastAttempt: now.Add(-time.Minute)},
	}
}

func TestAlertsPageLists(t *testing.T) {
	e := newAlertsEnv(t, failingNotifiers(time.Now()))
	for _, user := range []struct{ name, pass string }{{"viewer", viewerPass}, {"admin", adminPass}} {
		c := e.login(user.name, user.pass)
		doc, body := e.page(t, c, "/alerts", http.StatusOK)
		if strings.Contains(body, "<img") || strings.Contains(body, "<b>boom") {
			t.Fatalf("%s: hostile text rendered as HTML", user.name)
		}
		rows := alertRows(t, doc)
		// QueueLong and QueueBadSummary fire for both queues; QueueSlow is pending.
		want := map[string][2]string{
			"QueueLong/" + hostileQueue:       {"firing", "critical"},
			"QueueLong/b":                     {"firing", "critical"},
			"QueueBadSummary/" + hostileQueue: {"firing", "warning"},
			"QueueBadSummary/b":               {"firing", "warning"},
			"QueueSlow/" + hostileQueue:       {"pending", "warning"},
			"QueueSlow/b":                     {"pending", "warning"},
		}
		if len(rows) != len(want) {
			t.Fatalf("%s: alert rows %v", user.name, slices.Collect(maps.Keys(rows)))
		}
		for k, w := range want {
			r := rows[k]
			if r == nil {
				t.Fatalf("%s: no alert row %s", user.name, k)
			}
			if attr(r, "data-state") != w[0] || attr(r, "data-severity") != w[1] || attr(r, "data-silenced") != "false" {
				t.Errorf("%s: %s: state %q severity %q silenced %q", user.name, k, attr(r, "data-state"), attr(r, "data-severity"), attr(r, "data-silenced"))
			}
		}
		// Firing before pending, critical before warning.
		all := find(doc, "alert-row")
		if attr(all[0], "data-rule") != "QueueLong" || attr(all[len(all)-1], "data-state") != "pending" {
			t.Errorf("%s: order: first %s, last %s", user.name, attr(all[0], "data-rule"), attr(all[len(all)-1], "data-state"))
		}
		r := rows["QueueLong/"+hostileQueue]
		if got := text(one(t, r, "alert-summary")); got != "Queue "+hostileQueue+" holds 5 jobs" {
			t.Errorf("%s: summary %q", user.name, got)
		}
		if got := text(one(t, r, "alert-value")); got != "5" {
			t.Errorf("%s: value %q", user.name, got)
		}
		if got := attr(one(t, r, "alert-since"), "datetime"); got != e.t0.UTC().Format(time.RFC3339) {
			t.Errorf("%s: since %q, want %s", user.name, got, e.t0.UTC().Format(time.RFC3339))
		}
		if got := text(one(t, doc, "alert-counts")); got != "4 firing · 2 pending · 0 silenced" {
			t.Errorf("%s: counts %q", user.name, got)
		}
		if alertsHas(doc, "alerts-empty") {
			t.Errorf("%s: empty state shown with alerts", user.name)
		}

		// Rules: state, count, condition with units, the summary error.
		rules := map[string]*html.Node{}
		for _, rr := range find(doc, "rule-row") {
			rules[attr(rr, "data-rule")] = rr
		}
		for name, state := range map[string]string{"QueueLong": "firing", "QueueSlow": "pending", "QueueHuge": "ok", "QueueBadSummary": "firing", "MemoryHigh": "ok"} {
			if rules[name] == nil || attr(rules[name], "data-state") != state {
				t.Errorf("%s: rule %s: %v, want state %s", user.name, name, rules[name] != nil, state)
			}
		}
		if got := text(one(t, rules["QueueLong"], "rule-active")); got != "2" {
			t.Errorf("%s: QueueLong active %q", user.name, got)
		}
		if got := text(one(t, rules["MemoryHigh"], "rule-condition")); got != "avg over 5m > 85.0% for 5m · clears at ≤ 80.0%" {
			t.Errorf("%s: MemoryHigh condition %q", user.name, got)
		}
		if got := text(one(t, rules["QueueBadSummary"], "rule-error")); !strings.Contains(got, "summary") {
			t.Errorf("%s: QueueBadSummary error %q", user.name, got)
		}
		if got := text(one(t, rules["QueueLong"], "rule-error")); got != "" {
			t.Errorf("%s: QueueLong error %q", user.name, got)
		}
		if got := text(one(t, rules["QueueLong"], "rule-last-eval")); got == "never" {
			t.Errorf("%s: QueueLong never evaluated", user.name)
		}

		// Notifiers: the failing one stands out, with its error as text.
		ns := find(doc, "notifier-row")
		if len(ns) != 2 || attr(ns[0], "data-notifier") != "webhook[0]" || attr(ns[0], "data-healthy") != "false" || attr(ns[1], "data-healthy") != "true" {
			t.Fatalf("%s: notifier rows %d", user.name, len(ns))
		}
		if got := text(one(t, ns[0], "notifier-error")); !strings.Contains(got, `unexpected status 500 Internal Server Error: "<b>boom</b>"`) {
			t.Errorf("%s: notifier error %q", user.name, got)
		}
		if got := text(one(t, ns[0], "notifier-status")); got != "failing" {
			t.Errorf("%s: failing notifier status %q", user.name, got)
		}
		if got := text(one(t, ns[1], "notifier-status")); got != "ok" {
			t.Errorf("%s: healthy notifier status %q", user.name, got)
		}

		// History: newest first (queue b's alerts came second).
		hist := find(doc, "history-row")
		if len(hist) != 6 {
			t.Fatalf("%s: %d history rows, want 6", user.name, len(hist))
		}
		if !strings.Contains(text(hist[0]), "q=b") || strings.Contains(text(hist[len(hist)-1]), "q=b") {
			t.Errorf("%s: history not newest first: first %q, last %q", user.name, text(hist[0]), text(hist[len(hist)-1]))
		}
		if attr(hist[len(hist)-1], "data-from") != "inactive" {
			t.Errorf("%s: oldest transition from %q", user.name, attr(hist[len(hist)-1], "data-from"))
		}

		// Viewers get no controls; admins get the silence form and a Silence link per alert.
		admin := user.name == "admin"
		if alertsHas(doc, "silence-form") != admin || alertsHas(doc, "silence-alert") != admin {
			t.Errorf("%s: silence-form %v silence-alert %v", user.name, alertsHas(doc, "silence-form"), alertsHas(doc, "silence-alert"))
		}
	}
}

func TestAlertsFragmentAndAPI(t *testing.T) {
	now := time.Now()
	e := newAlertsEnv(t, failingNotifiers(now))
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/alerts?fragment=alerts-live", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("fragment: %d", res.StatusCode)
	}
	doc := assertFragment(t, body, "alerts-live")
	if len(find(doc, "alert-row")) != 6 || len(find(doc, "rule-row")) != 5 {
		t.Fatalf("fragment rows: %d alerts %d rules", len(find(doc, "alert-row")), len(find(doc, "rule-row")))
	}
	if alertsHas(doc, "silence-alert") || alertsHas(doc, "expire-silence") {
		t.Fatal("viewer fragment has silence controls")
	}

	res, body = e.do(nil, "GET", "/api/alerts", nil, "Authorization: Basic "+basic("viewer", viewerPass))
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("/api/alerts: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got struct {
		Alerts []struct {
			Rule, Fingerprint, Severity, Summary, State string
			Labels                                      map[string]string
			Value                                       float64
			ActiveAt                                    string `json:"active_at"`
			Silenced                                    bool
		}
		Silences []map[string]any
		Rules    []struct {
			Name, State   string
			Active        int
			WindowSeconds float64  `json:"window_seconds"`
			Clear         *float64 `json:"clear_threshold"`
			LastEval      string   `json:"last_eval"`
		}
		Notifiers []struct {
			Name      string
			Healthy   bool
			LastError string `json:"last_error"`
			Failures  int    `json:"consecutive_failures"`
		}
		History []struct {
			At, Rule, From, To string
			Labels             map[string]string
		}
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%s: %s", err, body)
	}
	if len(got.Alerts) != 6 || got.Alerts[0].Rule != "QueueLong" || got.Alerts[0].State != "firing" || got.Alerts[5].State != "pending" {
		t.Fatalf("alerts: %+v", got.Alerts)
	}
	var hostile bool
	for _, a := range got.Alerts {
		if a.Labels["q"] == hostileQueue && a.Rule == "QueueLong" {
			hostile = true
			if a.Summary != "Queue "+hostileQueue+" holds 5 jobs" || a.Value != 5 || a.Labels["alertname"] != "QueueLong" || len(a.Fingerprint) != 16 {
				t.Errorf("hostile alert: %+v", a)
			}
			if at, err := time.Parse(time.RFC3339, a.ActiveAt); err != nil || !at.Equal(e.t0) {
				t.Errorf("active_at %q: %v", a.ActiveAt, err)
			}
		}
	}
	if !hostile {
		t.Error("the hostile queue's alert is missing")
	}
	if got.Silences == nil || len(got.Silences) != 0 {
		t.Errorf("silences: %v (want [])", got.Silences)
	}
	if len(got.Rules) != 5 || got.Rules[0].Name != "QueueLong" || got.Rules[0].State != "firing" || got.Rules[0].Active != 2 ||
		got.Rules[4].WindowSeconds != 300 || got.Rules[4].Clear == nil || *got.Rules[4].Clear != 80 {
		t.Errorf("rules: %+v", got.Rules)
	}
	if _, err := time.Parse(time.RFC3339, got.Rules[0].LastEval); err != nil {
		t.Errorf("last_eval: %v", err)
	}
	if len(got.Notifiers) != 2 || got.Notifiers[0].Healthy || got.Notifiers[0].Failures != 3 || !strings.Contains(got.Notifiers[0].LastError, "500") || !got.Notifiers[1].Healthy {
		t.Errorf("notifiers: %+v", got.Notifiers)
	}
	if len(got.History) != 6 || got.History[0].Labels["q"] != "b" || got.History[5].From != "inactive" {
		t.Errorf("history: %+v", got.History)
	}
	for i := 1; i < len(got.History); i++ {
		a, _ := time.Parse(time.RFC3339, got.History[i-1].At)
		b, _ := time.Parse(time.RFC3339, got.History[i].At)
		if a.Before(b) {
			t.Errorf("history %d older than %d", i-1, i)
		}
	}
	for _, bad := range []string{"password", "url"} {
		if strings.Contains(strings.ToLower(body), `"`+bad+`"`) {
			t.Errorf("/api/alerts has a %q field", bad)
		}
	}
}

func TestAlertsSilenceLifecycle(t *testing.T) {
	e := newAlertsEnv(t, nil)
	admin := e.login("admin", adminPass)
	viewer := e.login("viewer", viewerPass)

	// The Silence link opens the form pre-filled with the alert's labels.
	doc, _ := e.page(t, admin, "/alerts", http.StatusOK)
	target := alertRows(t, doc)["QueueLong/"+hostileQueue]
	link := attr(one(t, target, "silence-alert"), "href")
	fp := attr(target, "data-fingerprint")
	if link != "/alerts?silence="+fp+"#silence-form" {
		t.Fatalf("silence link %q", link)
	}
	doc, _ = e.page(t, admin, strings.TrimSuffix(link, "#silence-form"), http.StatusOK)
	form := one(t, doc, "silence-form")
	if _, open := alertsAttrOK(one(t, doc, "silence-panel"), "open"); !open {
		t.Error("silence form not opened")
	}
	var names, values []string
	for d := range form.Descendants() {
		if d.Type == html.ElementNode && d.Data == "input" {
			switch attr(d, "name") {
			case "matcher_name":
				names = append(names, attr(d, "value"))
			case "matcher_value":
				values = append(values, attr(d, "value"))
			}
		}
	}
	if !slices.Equal(names, []string{"alertname", "q", "severity", "", ""}) || !slices.Equal(values, []string{"QueueLong", hostileQueue, "critical", "", ""}) {
		t.Fatalf("pre-filled matchers %q = %q", names, values)
	}

	// A viewer cannot silence.
	good := url.Values{
		"matcher_name":  {"alertname", "q", "severity", "", ""},
		"matcher_op":    {"=", "=", "=", "=", "="},
		"matcher_value": {"QueueLong", hostileQueue, "critical", "", ""},
		"duration":      {"4h"},
		"comment":       {"deploying the <queue> fix"},
	}
	res, _ := e.post(t, viewer, "/alerts/silences", good)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer silence: %d, want 403", res.StatusCode)
	}
	if len(e.engine.Silences()) != 0 {
		t.Fatal("a viewer's silence was stored")
	}

	// Invalid input: 422, problems next to their fields, input kept.
	for _, c := range []struct {
		name   string
		change func(v url.Values)
		fields []string
	}{
		{"no comment, bad regex", func(v url.Values) {
			v.Set("comment", "  ")
			v["matcher_op"] = []string{"=", "=~", "=", "=", "="}
			v["matcher_value"] = []string{"QueueLong", "(", "critical", "", ""}
		}, []string{"comment", "matchers"}},
		{"no matchers", func(v url.Values) {
			v["matcher_name"], v["matcher_value"] = []string{"", ""}, []string{"", ""}
		}, []string{"matchers"}},
		{"matches everything", func(v url.Values) {
			v["matcher_name"], v["matcher_op"], v["matcher_value"] = []string{"q"}, []string{"=~"}, []string{".*"}
		}, []string{"matchers"}},
		{"bad label name", func(v url.Values) {
			v["matcher_name"] = []string{"alertname", "1q", "severity"}
		}, []string{"matchers"}},
		{"value without a name", func(v url.Values) {
			v["matcher_name"] = []string{"alertname", "", "severity"}
		}, []string{"matchers"}},
		{"until in the past", func(v url.Values) {
			v.Set("duration", "custom")
			v.Set("until", time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04"))
		}, []string{"until"}},
		{"custom without until", func(v url.Values) { v.Set("duration", "custom") }, []string{"until"}},
		{"unknown duration", func(v url.Values) { v.Set("duration", "forever") }, []string{"duration"}},
	} {
		v := url.Values{}
		for k, vs := range good {
			v[k] = slices.Clone(vs)
		}
		c.change(v)
		res, body := e.post(t, admin, "/alerts/silences", v)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d, want 422", c.name, res.StatusCode)
		}
		doc := parse(t, body)
		var fields []string
		for _, fe := range find(doc, "field-error") {
			fields = append(fields, attr(fe, "data-field"))
		}
		slices.Sort(fields)
		if !slices.Equal(slices.Compact(fields), c.fields) {
			t.Errorf("%s: field errors %v, want %v", c.name, fields, c.fields)
		}
		if strings.Contains(body, "<img") {
			t.Fatalf("%s: hostile input rendered as HTML", c.name)
		}
		one(t, doc, "silence-form")
		if _, open := alertsAttrOK(one(t, doc, "silence-panel"), "open"); !open {
			t.Errorf("%s: form closed", c.name)
		}
		if c.name == "no comment, bad regex" {
			// Input kept: the bad regex is still in its row, the error sits in that row.
			var kept bool
			for _, row := range find(doc, "silence-matcher") {
				for d := range row.Descendants() {
					if d.Type == html.ElementNode && attr(d, "name") == "matcher_value" && attr(d, "value") == "(" {
						kept = alertsHas(row, "field-error") && attr(d, "aria-invalid") == "true"
					}
				}
			}
			if !kept {
				t.Errorf("%s: the bad regex row lost its input or its error", c.name)
			}
		}
		if c.name == "until in the past" && attr(alertsByID(doc, "silence-until"), "value") != v.Get("until") {
			t.Errorf("%s: until not kept", c.name)
		}
	}
	if len(e.engine.Silences()) != 0 {
		t.Fatal("an invalid silence was stored")
	}

	// An admin silences the alert: 303, then it is listed silenced, with the silence.
	res, _ = e.post(t, admin, "/alerts/silences", good)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/alerts?silenced=") {
		t.Fatalf("silence: %d %q", res.StatusCode, loc)
	}
	ss := e.engine.Silences()
	if len(ss) != 1 || ss[0].CreatedBy != "admin" || ss[0].Comment != "deploying the <queue> fix" || len(ss[0].Matchers) != 3 ||
		ss[0].EndsAt.Sub(ss[0].StartsAt) > 4*time.Hour || ss[0].EndsAt.Sub(ss[0].StartsAt) < 4*time.Hour-time.Minute {
		t.Fatalf("stored silence: %+v", ss)
	}
	id := ss[0].ID
	if loc != "/alerts?silenced="+id {
		t.Fatalf("redirect %q, want the new silence %s", loc, id)
	}
	if log := e.log.String(); !strings.Contains(log, `"msg":"silence created"`) ||
		!strings.Contains(log, `"user":"admin"`) || !strings.Contains(log, `"silence_id":"`+id+`"`) || !strings.Contains(log, `alertname=\"QueueLong\"`) {
		t.Errorf("silence not logged: %s", log)
	}
	for _, u := range []*http.Client{admin, viewer} {
		doc, _ = e.page(t, u, loc, http.StatusOK)
		rows := alertRows(t, doc)
		if r := rows["QueueLong/"+hostileQueue]; attr(r, "data-silenced") != "true" || attr(r, "data-state") != "firing" || alertsHas(r, "silence-alert") {
			t.Errorf("silenced alert row: silenced=%q", attr(r, "data-silenced"))
		}
		if r := rows["QueueLong/b"]; attr(r, "data-silenced") != "false" {
			t.Errorf("queue b silenced too")
		}
		all := find(doc, "alert-row")
		if last := all[len(all)-1]; attr(last, "data-silenced") != "true" {
			t.Errorf("silenced alerts are not listed last")
		}
		row := one(t, doc, "silence-row")
		if attr(row, "data-silence-id") != id || text(one(t, row, "silence-created-by")) != "admin" ||
			text(one(t, row, "silence-comment")) != "deploying the <queue> fix" || !strings.Contains(text(one(t, row, "silence-matchers")), `q="<img src=x onerror=alert(1)>"`) {
			t.Errorf("silence row: %q", text(row))
		}
		if alertsHas(doc, "expire-silence") != (u == admin) {
			t.Errorf("expire button shown to the wrong user")
		}
		if got := text(one(t, doc, "alert-counts")); got != "3 firing · 2 pending · 1 silenced" {
			t.Errorf("counts %q", got)
		}
	}
	if got := text(one(t, doc, "alerts-notice")); !strings.Contains(got, id) || !strings.Contains(got, "mutes 1 alert now") {
		t.Errorf("notice %q", got)
	}
	silenced := firingAlerts(e.srv.opts.Alerts)
	if len(silenced) != 4 || !silenced[3].Silenced || silenced[0].Silenced || slices.ContainsFunc(silenced, func(a alert.Alert) bool { return a.State != alert.StateFiring }) {
		t.Errorf("firingAlerts: %+v", silenced)
	}

	// Expire: viewers 403, unknown 404, admins 303 and the alert notifies again.
	expire := "/alerts/silences/" + id + "/expire"
	if res, _ := e.post(t, viewer, expire, url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer expire: %d", res.StatusCode)
	}
	if res, _ := e.post(t, admin, "/alerts/silences/0000000000000000/expire", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown expire: %d", res.StatusCode)
	}
	doc, _ = e.page(t, admin, "/alerts", http.StatusOK)
	if got := attr(one(t, doc, "expire-silence").Parent, "action"); got != expire {
		t.Fatalf("expire form posts to %q", got)
	}
	res, _ = e.post(t, admin, expire, url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/alerts?expired="+id {
		t.Fatalf("expire: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	doc, _ = e.page(t, admin, res.Header.Get("Location"), http.StatusOK)
	if r := alertRows(t, doc)["QueueLong/"+hostileQueue]; attr(r, "data-silenced") != "false" || !alertsHas(r, "silence-alert") {
		t.Errorf("alert still silenced after expire")
	}
	if alertsHas(doc, "silence-row") || !alertsHas(doc, "silences-empty") {
		t.Errorf("expired silence still listed as active")
	}
	if !strings.Contains(text(one(t, doc, "alerts-notice")), "expired") {
		t.Errorf("no expire notice")
	}
	if log := e.log.String(); !strings.Contains(log, `"msg":"silence expired"`) {
		t.Errorf("expire not logged: %s", log)
	}
	// The API still lists it, as expired.
	_, body := e.do(nil, "GET", "/api/alerts", nil, "Authorization: Basic "+basic("admin", adminPass))
	if !strings.Contains(body, `"id":"`+id+`"`) || !strings.Contains(body, `"status":"expired"`) {
		t.Errorf("API silences: %s", body)
	}

	// A custom end in UTC.
	v := url.Values{}
	for k, vs := range good {
		v[k] = vs
	}
	until := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Minute)
	v.Set("duration", "custom")
	v.Set("until", until.Format("2006-01-02T15:04"))
	if res, _ := e.post(t, admin, "/alerts/silences", v); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("custom silence: %d", res.StatusCode)
	}
	if ss := e.engine.Silences(); len(ss) != 2 || !ss[0].EndsAt.Equal(until) {
		t.Errorf("custom silence ends %v, want %v", ss[0].EndsAt, until)
	}
}

func alertsAttrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func alertsByID(n *html.Node, id string) *html.Node {
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && attr(d, "id") == id {
			return d
		}
	}
	return &html.Node{}
}

// Without an alert engine the page says so, the API answers empty lists and silences cannot
// be made.
func TestAlertsWithoutEngine(t *testing.T) {
	e := &alertsEnv{env: newEnv(t)}
	admin := e.login("admin", adminPass)
	doc, _ := e.page(t, admin, "/alerts", http.StatusOK)
	if got := text(one(t, doc, "alerts-empty")); !strings.Contains(got, "No alerts firing") || !strings.Contains(got, "No alert rules yet") {
		t.Errorf("empty state %q", got)
	}
	for _, id := range []string{"rules-empty", "silences-empty", "notifiers-empty", "history-empty"} {
		one(t, doc, id)
	}
	if navCurrent(doc) != "alerts" {
		t.Errorf("current nav item %q, want alerts", navCurrent(doc))
	}
	if alertsHas(doc, "silence-form") {
		t.Error("silence form without an engine")
	}
	res, body := e.do(nil, "GET", "/api/alerts", nil, "Authorization: Basic "+basic("viewer", viewerPass))
	if res.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"alerts":[],"silences":[],"rules":[],"notifiers":[],"history":[]}` {
		t.Errorf("/api/alerts: %d %s", res.StatusCode, body)
	}
	res, _ = e.post(t, admin, "/alerts/silences", url.Values{"matcher_name": {"a"}, "matcher_value": {"b"}, "duration": {"1h"}, "comment": {"x"}})
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("silence without an engine: %d, want 404", res.StatusCode)
	}
	if got := firingAlerts(e.srv.opts.Alerts); len(got) != 0 {
		t.Errorf("firingAlerts: %v", got)
	}
}

func TestAlertsValueUnits(t *testing.T) {
	for _, c := range []struct {
		series, agg string
		v           float64
		want        string
	}{
		{"host_cpu_usage_percent", "avg", 91.26, "91.3%"},
		{`redwatch_http_error_ratio{route="/"}`, "avg", 0.05, "5.0%"},
		{"redis_memory_used_bytes", "last", 2048, "2.0 KiB"},
		{"redis_net_input_bytes_total", "rate", 2048, "2.0 KiB/s"},
		{`{__name__="redwatch_http_request_duration_seconds",quantile="0.95"}`, "last", 1.5, "1.5s"},
		{"redis_commands_total", "rate", 12, "12/s"},
		{"queue_len", "last", 5, "5"},
	} {
		if got := ruleUnit(c.series, c.agg).format(c.v); got != c.want {
			t.Errorf("%s %s %v: %q, want %q", c.series, c.agg, c.v, got, c.want)
		}
	}
	for d, want := range map[time.Duration]string{0: "0s", 30 * time.Second: "30s", 5 * time.Minute: "5m", 90 * time.Minute: "1h30m", time.Hour: "1h", 7 * 24 * time.Hour: "7d"} {
		if got := alertDuration(d); got != want {
			t.Errorf("alertDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// The overview lists the firing alerts (not the pending ones), as text, live as a fragment.
func TestOverviewFiringAlerts(t *testing.T) {
	e := newAlertsEnv(t, nil)
	c := e.login("viewer", viewerPass)
	for _, path := range []string{"/", "/?fragment=firing-alerts"} {
		doc, body := e.page(t, c, path, http.StatusOK)
		if strings.Contains(body, "<img") {
			t.Fatalf("%s: hostile label rendered as HTML", path)
		}
		rows := find(doc, "overview-alert")
		rules := map[string]int{}
		for _, r := range rows {
			rules[attr(r, "data-rule")]++
		}
		// QueueLong and QueueBadSummary fire for two queues each, one line per rule with its
		// count; QueueSlow is only pending.
		if len(rows) != 2 || rules["QueueLong"] != 1 || rules["QueueBadSummary"] != 1 {
			t.Fatalf("%s: firing rows %v", path, rules)
		}
		for _, r := range rows {
			if attr(r, "data-count") != "2" || text(one(t, r, "overview-alert-count")) != "2 alerts" {
				t.Errorf("%s: %s count %q", path, attr(r, "data-rule"), attr(r, "data-count"))
			}
		}
		if attr(rows[0], "data-severity") != "critical" {
			t.Errorf("%s: first row %q, want the critical alert first", path, attr(rows[0], "data-severity"))
		}
		if path != "/" && len(find(doc, "top-keys")) != 0 {
			t.Errorf("%s answered more than its fragment", path)
		}
	}
	// Without alerts the panel says so.
	plain := newEnv(t)
	doc, _ := (&alertsEnv{env: plain}).page(t, plain.login("viewer", viewerPass), "/", http.StatusOK)
	if len(find(doc, "no-firing-alerts")) != 1 {
		t.Fatal("no 'No alerts firing' without an engine")
	}
}
