package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// peakRSS is the process's peak resident memory in bytes (VmHWM).
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %s", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// 5,000 copies of one selector, by GET and by POST form, export and list each series once,
// and the export costs the binary no memory to speak of (on main: more than 3 GB of RSS for
// 90,000 stored samples, growing until the process was killed).
func TestExportOfRepeatedMatchesIsStreamedOnce(t *testing.T) {
	const token = "e2e-ingest-token-queries-01"
	in := start(t, "[system]\nenabled = false\n[ingest]\ntokens = [\""+token+"\"]\n", "REDWATCH_ADMIN_PASSWORD=e2e-password-123")
	const series, points = 10, 9000
	t0 := time.Now().Add(-26 * time.Hour).Truncate(time.Minute)
	var body strings.Builder
	send := func() {
		req, _ := http.NewRequest(http.MethodPost, in.base+"/write", strings.NewReader(body.String()))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("push: %d %s", res.StatusCode, b)
		}
		body.Reset()
	}
	for i := range series {
		for j := range points {
			fmt.Fprintf(&body, "e2e_export,i=%d v=%d %d\n", i, j, t0.Add(time.Duration(j)*10*time.Second).UnixNano())
			if j%1000 == 999 {
				send()
			}
		}
	}
	query := func(method, path string, form url.Values) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, in.base+path+"?"+form.Encode(), nil)
		if method == http.MethodPost {
			req, _ = http.NewRequest(method, in.base+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.SetBasicAuth("admin", "e2e-password-123")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	form := url.Values{"start": {strconv.FormatInt(t0.Unix(), 10)}}
	for range 5000 {
		form.Add("match[]", "e2e_export_v")
	}
	// exported counts the lines and samples of an export (JSON lines).
	exported := func(res *http.Response) (lines, samples int, err error) {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct{ Timestamps []int64 }
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				return lines, samples, fmt.Errorf("export line %d: %w", lines, err)
			}
			lines++
			samples += len(line.Timestamps)
		}
		return lines, samples, sc.Err()
	}
	// Stored samples become readable a few seconds after the write (storage's flush): wait
	// until one selector exports them all, and the series list has them.
	one := url.Values{"start": form["start"], "match[]": {"e2e_export_v"}}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		res := query(http.MethodPost, "/api/v1/export", one)
		code := res.StatusCode
		lines, samples, err := exported(res)
		if err == nil && code == 200 && lines == series && samples == series*points {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("export of one selector: %d, %d lines, %d samples, %v", code, lines, samples, err)
		}
	}
	res := query(http.MethodPost, "/api/v1/series", form)
	var list struct{ Data []map[string]string }
	err := json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || len(list.Data) != series {
		t.Fatalf("series by POST with 5000 match[]: %d, %d series, %v", res.StatusCode, len(list.Data), err)
	}
	before := peakRSS(t, in.cmd.Process.Pid)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		res := query(method, "/api/v1/export", form)
		lines, samples, err := exported(res)
		if err != nil || res.StatusCode != 200 || lines != series || samples != series*points {
			t.Fatalf("%s export with 5000 match[]: %d, %d lines, %d samples, %v", method, res.StatusCode, lines, samples, err)
		}
	}
	grew := peakRSS(t, in.cmd.Process.Pid) - before
	t.Logf("peak RSS %d MiB before the exports, grew %d MiB", before>>20, grew>>20)
	if grew > 64<<20 {
		t.Errorf("two exports of %d samples grew peak RSS by %d MiB", series*points, grew>>20)
	}
	in.stop(t)
}
