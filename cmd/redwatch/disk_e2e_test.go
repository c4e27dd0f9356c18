package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/tsdb/disktest"
)

// pushInflux posts one Influx line with the ingest token and returns the status code.
func (in *instance) pushInflux(t *testing.T, line string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", in.base+"/write", strings.NewReader(line))
	req.Header.Set("Authorization", "Bearer disk-ingest-token-0123")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /write: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}

type readyReport struct {
	Status string `json:"status"`
	Checks struct {
		Storage struct {
			Status       string `json:"status"`
			Error        string `json:"error"`
			ReadOnly     bool   `json:"read_only"`
			FreeBytes    uint64 `json:"free_bytes"`
			MinFreeBytes uint64 `json:"min_free_bytes"`
		} `json:"storage"`
	} `json:"checks"`
}

// TestFullDiskReadOnlyAndBack fills the tmpfs under the data directory of a running binary that
// watches a real Redis: storage goes read-only (ingest 503, readiness 503 with the reason,
// /health/db read_only) while the Redis stays live on /api/instances and /api/keys; once the
// filler is gone it is writable again (ingest 204, readiness 200). Each change is logged once.
// Then the disk fills to the last byte at once: the process lives on and exits 0 on SIGTERM;
// a restart on the full disk starts read-only, says so, and exits 0 too.
func TestFullDiskReadOnlyAndBack(t *testing.T) {
	mnt := disktest.Mount(t, 200)
	srv := redistest.Start(t)
	srv.Do("rpush", "queue:jobs", "a")
	cfg := fmt.Sprintf(`[system]
interval = "1s"
[ingest]
tokens = ["disk-ingest-token-0123"]
[[redis]]
name = "r"
addr = %q
interval = "1s"
timeout = "500ms"
  [[redis.keys]]
  key = "queue:jobs"
  interval = "1s"
`, srv.Addr())
	data := filepath.Join(mnt, "data")
	in := startWithData(t, data, cfg, "REDWATCH_ADMIN_PASSWORD="+e2ePassword)
	now := func() string { return strconv.FormatInt(time.Now().UnixNano(), 10) }
	if code := in.pushInflux(t, "pushed,host=p up=1 "+now()); code != 204 {
		t.Fatalf("ingest before filling: %d", code)
	}

	filler := disktest.Fill(t, mnt, 32<<20) // below the 64 MiB default
	var ready readyReport
	eventually(t, 5*time.Second, "readiness 503 read_only", func() (bool, string) {
		code := in.getJSON(t, "/health/ready", &ready)
		return code == 503 && ready.Checks.Storage.Status == "read_only", fmt.Sprintf("%d %+v", code, ready)
	})
	if st := ready.Checks.Storage; !st.ReadOnly || st.MinFreeBytes != 64<<20 || st.FreeBytes >= st.MinFreeBytes ||
		!strings.Contains(st.Error, "read-only") || !strings.Contains(st.Error, strconv.FormatUint(st.MinFreeBytes, 10)) {
		t.Fatalf("readiness storage check %+v: want read_only with free bytes below the limit, both named", st)
	}
	var db map[string]any
	if code := in.getJSON(t, "/health/db", &db); code != 503 || db["read_only"] != true || db["status"] != "read_only" {
		t.Fatalf("/health/db while read-only: %d %v", code, db)
	}
	if code := in.pushInflux(t, "pushed,host=p up=1 "+now()); code != 503 {
		t.Fatalf("ingest while read-only: %d, want 503", code)
	}
	// The samplers go on: the instance stays live and a key's new length shows.
	seen := func() time.Time {
		var list []apiInstance
		var raw []struct {
			LastSeen time.Time `json:"last_seen_at"`
		}
		in.getJSON(t, "/api/instances", &raw)
		in.getJSON(t, "/api/instances", &list)
		if len(list) != 1 || !list[0].Up || len(raw) != 1 {
			t.Fatalf("/api/instances while read-only: %+v", list)
		}
		return raw[0].LastSeen
	}
	before := seen()
	srv.Do("rpush", "queue:jobs", "b", "c")
	eventually(t, 5*time.Second, "live values while read-only", func() (bool, string) {
		var keys apiKeys
		in.getJSON(t, "/api/keys", &keys)
		return len(keys.Keys) == 1 && keys.Keys[0].Length == 3 && seen().After(before), fmt.Sprintf("%+v", keys)
	})

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "readiness 200 after space returned", func() (bool, string) {
		code := in.getJSON(t, "/health/ready", &ready)
		return code == 200, fmt.Sprintf("%d %+v", code, ready)
	})
	if code := in.pushInflux(t, "pushed,host=p up=1 "+now()); code != 204 {
		t.Fatalf("ingest after space returned: %d, want 204", code)
	}
	select {
	case err := <-in.done:
		t.Fatalf("redwatch exited: %v", err)
	default:
	}
	logs, _ := os.ReadFile(in.logs.Name())
	for msg, want := range map[string]int{`"msg":"storage is read-only`: 1, `"msg":"storage is writable again`: 1, "FATAL": 0, "cannot store": 0, "cannot write": 0} {
		if n := strings.Count(string(logs), msg); n != want {
			t.Errorf("%d log lines with %q, want %d", n, msg, want)
		}
	}

	// The disk fills to the last byte at once, while samples are being written: the reserve is
	// freed, so VictoriaMetrics' flush of its last in-memory samples (within ~6 s) has room and
	// the process lives on; SIGTERM exits 0.
	disktest.Fill(t, mnt, 0)
	eventually(t, 5*time.Second, "read-only after a sudden full disk", func() (bool, string) {
		code := in.getJSON(t, "/health/ready", &ready)
		return code == 503 && ready.Checks.Storage.Status == "read_only", fmt.Sprintf("%d %+v", code, ready)
	})
	select {
	case err := <-in.done:
		t.Fatalf("redwatch exited after the disk filled at once: %v", err)
	case <-time.After(8 * time.Second): // VM flushes in-memory parts within 2 x 2 s + pending 2 s
	}
	logs, _ = os.ReadFile(in.logs.Name())
	if !strings.Contains(string(logs), "freed the disk reserve") || strings.Contains(string(logs), "FATAL") {
		t.Fatalf("sudden full disk: want the reserve freed and no FATAL:\n%s", logs)
	}
	in.stop(t)

	// A start on a full disk: read-only at once, said so, and SIGTERM still exits 0.
	disktest.Fill(t, mnt, 0)
	in2 := startWithDataNotReady(t, data, cfg, "REDWATCH_ADMIN_PASSWORD="+e2ePassword)
	eventually(t, 5*time.Second, "readiness 503 read_only on a full disk", func() (bool, string) {
		code := in2.getJSON(t, "/health/ready", &ready)
		return code == 503 && ready.Checks.Storage.Status == "read_only", fmt.Sprintf("%d %+v", code, ready)
	})
	eventually(t, 5*time.Second, "redis live on a full disk", func() (bool, string) {
		var list []apiInstance
		in2.getJSON(t, "/api/instances", &list)
		return len(list) == 1 && list[0].Up, fmt.Sprintf("%+v", list)
	})
	if code := in2.pushInflux(t, "pushed,host=p up=1 "+now()); code != 503 {
		t.Fatalf("ingest on a full disk: %d, want 503", code)
	}
	logs, _ = os.ReadFile(in2.logs.Name())
	if !strings.Contains(string(logs), "storage starts read-only") {
		t.Fatalf("a start on a full disk does not say it is read-only:\n%s", logs)
	}
	in2.stop(t)
}
