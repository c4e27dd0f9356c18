package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/redistest"
)

// hookMessage is the part of the webhook payload the test reads.
type hookMessage struct {
	Status string `json:"status"`
	Alerts []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

// hookServer records every webhook POST.
type hookServer struct {
	mu   sync.Mutex
	msgs []hookMessage
	*httptest.Server
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m hookMessage
		if r.Method != http.MethodPost || r.URL.Path != "/hook" || json.Unmarshal(b, &m) != nil {
			t.Errorf("webhook got %s %s %s", r.Method, r.URL.Path, b)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// count returns how many messages of this status carried an alert of this rule.
func (h *hookServer) count(status, rule string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		for _, a := range m.Alerts {
			if m.Status == status && a.Labels["alertname"] == rule {
				n++
			}
		}
	}
	return n
}

func (h *hookServer) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Sprintf("%+v", h.msgs)
}

// TestRedisDownAlertEndToEnd runs the binary against a real redis-server with a rule on
// redis_up and a webhook: stopping Redis sends "RedisDown" firing once, a restart of redwatch
// while it fires sends nothing again, and starting Redis sends the resolved message.
func TestRedisDownAlertEndToEnd(t *testing.T) {
	srv := redistest.Start(t)
	hook := newHookServer(t)
	cfg := fmt.Sprintf(`[system]
enabled = false
[alerts]
interval = "1s"
default_rules = false
[[alerts.rules]]
name = "RedisDown"
series = 'redis_up{instance="main"}'
op = "<"
threshold = 1
for = "2s"
severity = "critical"
summary = "Redis {{ .Labels.instance }} is down"
[[notify.webhook]]
url = "%s/hook"
send_resolved = true
[[redis]]
name = "main"
addr = %q
interval = "1s"
timeout = "500ms"
`, hook.URL, srv.Addr())
	in := start(t, cfg, "REDWATCH_ADMIN_PASSWORD="+e2ePassword)
	cfgPath := filepath.Join(filepath.Dir(in.logs.Name()), "redwatch.toml")

	var h map[string]any
	eventually(t, 10*time.Second, "main up", func() (bool, string) {
		code := in.getJSON(t, "/health/redis/main", &h)
		return code == 200, fmt.Sprint(code, h)
	})
	time.Sleep(3 * time.Second) // several rounds with Redis up: nothing fires
	if n := hook.count("firing", "RedisDown"); n != 0 {
		t.Fatalf("RedisDown fired while Redis was up: %s", hook)
	}

	srv.Kill()
	eventually(t, 15*time.Second, "RedisDown firing at the webhook", func() (bool, string) {
		return hook.count("firing", "RedisDown") == 1, hook.String()
	})
	var api struct {
		Alerts []struct {
			Rule  string `json:"rule"`
			State string `json:"state"`
		} `json:"alerts"`
	}
	if code := in.getJSON(t, "/api/alerts", &api); code != 200 || len(api.Alerts) != 1 || api.Alerts[0].Rule != "RedisDown" || api.Alerts[0].State != "firing" {
		t.Fatalf("/api/alerts: %d %+v", code, api)
	}

	// A restart of redwatch while the alert fires keeps it firing and sends nothing again.
	in.stop(t)
	in = restart(t, cfgPath)
	time.Sleep(4 * time.Second)
	if code := in.getJSON(t, "/api/alerts", &api); code != 200 || len(api.Alerts) != 1 || api.Alerts[0].State != "firing" {
		t.Fatalf("/api/alerts after restart: %d %+v", code, api)
	}
	if n := hook.count("firing", "RedisDown"); n != 1 {
		t.Fatalf("%d firing messages after a restart, want 1: %s", n, hook)
	}

	srv.Restart()
	eventually(t, 15*time.Second, "RedisDown resolved at the webhook", func() (bool, string) {
		return hook.count("resolved", "RedisDown") == 1, hook.String()
	})
	time.Sleep(2 * time.Second)
	if f, r := hook.count("firing", "RedisDown"), hook.count("resolved", "RedisDown"); f != 1 || r != 1 {
		t.Fatalf("%d firing and %d resolved messages, want 1 and 1: %s", f, r, hook)
	}
	in.stop(t)
}
