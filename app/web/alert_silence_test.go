package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/alert"
)

func TestAlertsSilenceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEngineAlertsEnv(t)
	admin := e.login("admin", adminPass)
	viewer := e.login("viewer", viewerPass)
	good := goodSilenceForm()

	// An admin silences the alert: 303, then it is listed silenced, with the silence.
	res, _ := e.postForm(t, admin, "/alerts/silences", good)
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
	var doc *html.Node // the last user's page
	for _, u := range []*http.Client{admin, viewer} {
		doc, _ = e.pageStatus(t, u, loc, http.StatusOK)
		rows := alertRows(t, doc)
		if r := rows["QueueLong/"+hostileQueue]; attr(r, "data-silenced") != "true" || attr(r, "data-state") != "firing" || hasTestID(r, "silence-alert") {
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
		if hasTestID(doc, "expire-silence") != (u == admin) {
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
	if res, _ := e.postForm(t, viewer, expire, url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer expire: %d", res.StatusCode)
	}
	if res, _ := e.postForm(t, admin, "/alerts/silences/0000000000000000/expire", url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown expire: %d", res.StatusCode)
	}
	doc, _ = e.pageStatus(t, admin, "/alerts", http.StatusOK)
	if got := attr(one(t, doc, "expire-silence").Parent, "action"); got != expire {
		t.Fatalf("expire form posts to %q", got)
	}
	res, _ = e.postForm(t, admin, expire, url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/alerts?expired="+id {
		t.Fatalf("expire: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	doc, _ = e.pageStatus(t, admin, res.Header.Get("Location"), http.StatusOK)
	if r := alertRows(t, doc)["QueueLong/"+hostileQueue]; attr(r, "data-silenced") != "false" || !hasTestID(r, "silence-alert") {
		t.Errorf("alert still silenced after expire")
	}
	if hasTestID(doc, "silence-row") || !hasTestID(doc, "silences-empty") {
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
	if res, _ := e.postForm(t, admin, "/alerts/silences", v); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("custom silence: %d", res.StatusCode)
	}
	if ss := e.engine.Silences(); len(ss) != 2 || !ss[0].EndsAt.Equal(until) {
		t.Errorf("custom silence ends %v, want %v", ss[0].EndsAt, until)
	}
}
