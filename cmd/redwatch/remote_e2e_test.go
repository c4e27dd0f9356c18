package main

import (
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/vmtest"
)

// TestStorageRemoteEndToEnd runs two redwatch binaries around a real victoria-metrics
// single-node: the writer forwards what is pushed to it ([remote_write] url); the reader, its
// own store empty, has [storage] remote set to the VM. The reader's chart path
// (query_range with agg) and MetricsQL API show the writer's data, its expression rule fires
// at a webhook on that data and resolves when it drops, and /health/ready?verbose reports the
// remote engine as reachable.
func TestStorageRemoteEndToEnd(t *testing.T) {
	vm := vmtest.Start(t)
	hook := newHookServer(t)
	writer := start(t, fmt.Sprintf(`[system]
enabled = false
[ingest]
tokens = ["e2e-ingest-token"]
[alerts]
default_rules = false
[remote_write]
url = %q
`, vm.WriteURL()), "REDWATCH_ADMIN_PASSWORD="+e2ePassword)
	reader := start(t, fmt.Sprintf(`remote = %q
[system]
enabled = false
[alerts]
interval = "1s"
default_rules = false
[[alerts.rules]]
name = "QueueDeep"
expr = 'app_queue_depth{queue="jobs"} > 100'
severity = "warning"
summary = "queue {{ .Labels.queue }} on {{ .Labels.host }} is {{ .Value }} deep"
[[notify.webhook]]
url = "%s/hook"
send_resolved = true
`, vm.PromURL(), hook.URL), "REDWATCH_ADMIN_PASSWORD="+e2ePassword)

	push := func(depth int) {
		t.Helper()
		if code, body := writer.push(t, "/write", "app_queue,host=w1,queue=jobs depth="+strconv.Itoa(depth)); code != 204 {
			t.Fatalf("push to the writer: %d %s", code, body)
		}
	}
	push(150)
	type matrix struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Values [][2]any          `json:"values"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	now := time.Now()
	chart := url.Values{"query": {`app_queue_depth{host="w1"}`}, "agg": {"last"}, "step": {"10"},
		"start": {strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)}, "end": {strconv.FormatInt(now.Add(time.Minute).Unix(), 10)}}
	eventually(t, 30*time.Second, "the writer's sample on the reader's chart", func() (bool, string) {
		var m matrix
		code := reader.getJSON(t, "/api/v1/query_range?"+chart.Encode(), &m)
		if code != 200 || len(m.Data.Result) != 1 {
			return false, fmt.Sprint(code, m)
		}
		r := m.Data.Result[0]
		last := r.Values[len(r.Values)-1]
		return r.Metric["__name__"] == "app_queue_depth" && r.Metric["queue"] == "jobs" && last[1] == "150", fmt.Sprint(m)
	})
	var own matrix
	if code := writer.getJSON(t, "/api/v1/query_range?"+chart.Encode(), &own); code != 200 || len(own.Data.Result) != 1 {
		t.Fatalf("the writer's own chart: %d %+v", code, own)
	}
	var q matrix
	if code := reader.getJSON(t, "/api/v1/query?query="+url.QueryEscape(`sum(app_queue_depth) by (queue)`), &q); code != 200 || len(q.Data.Result) != 1 || q.Data.Result[0].Value[1] != "150" {
		t.Fatalf("reader's MetricsQL query: %d %+v", code, q)
	}

	eventually(t, 20*time.Second, "QueueDeep firing at the webhook", func() (bool, string) {
		return hook.count("firing", "QueueDeep") == 1, hook.String()
	})
	var ready struct {
		Status string `json:"status"`
		Checks struct {
			Query struct {
				Status string `json:"status"`
				URL    string `json:"url"`
			} `json:"query"`
		} `json:"checks"`
	}
	if code := reader.getJSON(t, "/health/ready?verbose", &ready); code != 200 || ready.Status != "ready" ||
		ready.Checks.Query.Status != "ok" || ready.Checks.Query.URL != vm.PromURL() {
		t.Errorf("reader's /health/ready?verbose: %d %+v", code, ready)
	}

	push(20) // drained: the expression no longer returns the series
	eventually(t, 30*time.Second, "QueueDeep resolved at the webhook", func() (bool, string) {
		return hook.count("resolved", "QueueDeep") == 1, hook.String()
	})
	reader.stop(t)
	writer.stop(t)
}
