package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/alert"
)

// goodSilenceForm is a valid silence form for QueueLong's alert on queue hostileQueue.
func goodSilenceForm() url.Values {
	return url.Values{
		"matcher_name":  {"alertname", "q", "severity", "", ""},
		"matcher_op":    {"=", "=", "=", "=", "="},
		"matcher_value": {"QueueLong", hostileQueue, "critical", "", ""},
		"duration":      {"4h"},
		"comment":       {"deploying the <queue> fix"},
	}
}

func TestAlertsSilenceForm(t *testing.T) {
	t.Parallel()
	e := newEngineAlertsEnv(t)
	admin := e.login("admin", adminPass)
	viewer := e.login("viewer", viewerPass)

	// The Silence link opens the form pre-filled with the alert's labels.
	doc, _ := e.pageStatus(t, admin, "/alerts", http.StatusOK)
	target := alertRows(t, doc)["QueueLong/"+hostileQueue]
	link := attr(one(t, target, "silence-alert"), "href")
	fp := attr(target, "data-fingerprint")
	if link != "/alerts?silence="+fp+"#silence-form" {
		t.Fatalf("silence link %q", link)
	}
	doc, _ = e.pageStatus(t, admin, strings.TrimSuffix(link, "#silence-form"), http.StatusOK)
	form := one(t, doc, "silence-form")
	if _, open := lookupAttr(one(t, doc, "silence-panel"), "open"); !open {
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
	good := goodSilenceForm()
	res, _ := e.postForm(t, viewer, "/alerts/silences", good)
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
		{"unknown operator", func(v url.Values) { v["matcher_op"] = []string{"=", "~~", "="} }, []string{"matchers"}},
		{"too many matchers", func(v url.Values) {
			v["matcher_name"], v["matcher_op"], v["matcher_value"] = nil, nil, nil
			for i := range alert.MaxSilenceMatchers + 1 {
				v.Add("matcher_name", "q"+strconv.Itoa(i))
				v.Add("matcher_value", "x")
			}
		}, []string{"matchers"}},
	} {
		v := url.Values{}
		for k, vs := range good {
			v[k] = slices.Clone(vs)
		}
		c.change(v)
		res, body := e.postForm(t, admin, "/alerts/silences", v)
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
		if _, open := lookupAttr(one(t, doc, "silence-panel"), "open"); !open {
			t.Errorf("%s: form closed", c.name)
		}
		if c.name == "no comment, bad regex" {
			// Input kept: the bad regex is still in its row, the error sits in that row.
			var kept bool
			for _, row := range find(doc, "silence-matcher") {
				for d := range row.Descendants() {
					if d.Type == html.ElementNode && attr(d, "name") == "matcher_value" && attr(d, "value") == "(" {
						kept = hasTestID(row, "field-error") && attr(d, "aria-invalid") == "true"
					}
				}
			}
			if !kept {
				t.Errorf("%s: the bad regex row lost its input or its error", c.name)
			}
		}
		if c.name == "until in the past" && attr(byID(doc, "silence-until"), "value") != v.Get("until") {
			t.Errorf("%s: until not kept", c.name)
		}
	}
	if len(e.engine.Silences()) != 0 {
		t.Fatal("an invalid silence was stored")
	}
}
