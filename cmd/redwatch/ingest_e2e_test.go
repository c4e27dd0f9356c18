package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/redistest"
)

// push posts Influx lines to path with the ingest token and returns the status and body.
func (in *instance) push(t *testing.T, path, lines string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, in.base+path, bytes.NewReader([]byte(lines)))
	req.Header.Set("Authorization", "Bearer e2e-ingest-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The reproduction, on the real binary: a far-future redis_up=1 for a watched
// instance is refused with 400 naming the line and the bound, so it cannot pin the latest
// values, and the "Redis down" rule (the shipped RedisDown's selector, aggregate and window;
// for shortened to 2 s) fires when that Redis stops. A push of the sampled series with a
// timestamp inside the window is not stored either: it would mix with the sampler's.
func TestFarFuturePushCannotSilenceRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	cfg := fmt.Sprintf(`[system]
enabled = false
[ingest]
tokens = ["e2e-ingest-token"]
[alerts]
interval = "1s"
default_rules = false
[[alerts.rules]]
name = "RedisDown"
series = "redis_up"
aggregate = "last"
window = "1m"
op = "<"
threshold = 1
for = "2s"
severity = "critical"
summary = "Redis {{ .Labels.instance }} is down"
[[redis]]
name = "r4"
addr = %q
interval = "1s"
timeout = "500ms"
`, srv.Addr())
	in := start(t, cfg, "REDWATCH_ADMIN_PASSWORD="+e2ePassword)
	var h map[string]any
	eventually(t, 10*time.Second, "r4 up", func() (bool, string) {
		code := in.getJSON(t, "/health/redis/r4", &h)
		return code == 200, fmt.Sprint(code, h)
	})

	// r4 is sampled: left out whatever the timestamp (a partial write of nothing). For another
	// instance, the year 2100 is refused for its timestamp.
	sampled := `dropped=1: 1 of 1 samples were not stored, the first at line 1 (redis_up): the series is written by redwatch itself (Redis instance \"r4\" is sampled by redwatch)`
	soon := time.Now().Add(5 * time.Minute).Unix()
	for _, ts := range []int64{4102444800, soon} {
		code, body := in.push(t, "/write?precision=s", fmt.Sprintf("redis,instance=r4 up=1 %d\n", ts))
		if code != http.StatusBadRequest || !strings.Contains(body, sampled) {
			t.Fatalf("push of r4's redis_up at %d: %d %s", ts, code, body)
		}
	}
	code, body := in.push(t, "/write?precision=s", "redis,instance=elsewhere up=1 4102444800\n")
	if code != http.StatusBadRequest || !strings.Contains(body, `the first at line 1 (redis_up): timestamp 2100-01-01T00:00:00Z is more than 10m0s ahead of now`) {
		t.Fatalf("far-future push: %d %s", code, body)
	}
	code, body = in.push(t, "/write?precision=s", fmt.Sprintf("redis,instance=elsewhere up=1 %d\n", soon))
	if code != http.StatusNoContent {
		t.Fatalf("push of another instance, 5 minutes ahead: %d %s", code, body)
	}

	srv.Kill()
	var api struct {
		Alerts []struct {
			Rule   string            `json:"rule"`
			State  string            `json:"state"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	eventually(t, 15*time.Second, "RedisDown firing for r4", func() (bool, string) {
		in.getJSON(t, "/api/alerts", &api)
		for _, a := range api.Alerts {
			if a.Rule == "RedisDown" && a.State == "firing" && a.Labels["instance"] == "r4" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", api)
	})
	eventually(t, 15*time.Second, "the refusals on /metrics", func() (bool, string) {
		req, _ := http.NewRequest(http.MethodGet, in.base+"/metrics", nil)
		req.SetBasicAuth("admin", e2ePassword)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		m := string(b)
		return strings.Contains(m, `redwatch_ingest_rejected_total{reason="timestamp_future"} 1 `) &&
			strings.Contains(m, `redwatch_ingest_rejected_total{reason="sampled_series"} 2 `) &&
			strings.Contains(m, `redis_up{instance="r4"} 0 `), m
	})
	in.stop(t)
}
