package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSeriesCeilingEndToEnd pushes 50,000 new series to a binary with storage.max_series =
// 20,000: about the first 20,000 are stored and shown,
// the rest are dropped and counted in redwatch_series_dropped_total, while /health/ready/ and
// /metrics stay fast and SIGTERM still exits 0 within 10 s.
func TestSeriesCeilingEndToEnd(t *testing.T) {
	const (
		token     = "ceiling-token-0123456789"
		maxSeries = 20_000
		pushed    = 50_000
		batch     = 10_000
	)
	// No host sampler: its series would come and go around the push and take part in the
	// count (the ceiling is first come, first served); redwatch's own series are exempt.
	in := start(t, "[system]\nenabled = false\n[ingest]\ntokens = [\""+token+"\"]\n",
		"REDWATCH_ADMIN_PASSWORD="+e2ePassword, "REDWATCH_STORAGE__MAX_SERIES="+strconv.Itoa(maxSeries))

	now := time.Now().UnixNano()
	for from := 0; from < pushed; from += batch {
		var body strings.Builder
		for i := from; i < from+batch; i++ {
			fmt.Fprintf(&body, "card_test,host=h%d,id=s%d value=%d %d\n", i%100, i, i, now)
		}
		req, _ := http.NewRequest("POST", in.base+"/write", strings.NewReader(body.String()))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /write: %v", err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("POST /write lines %d..%d: %d %s", from, from+batch, res.StatusCode, b)
		}
	}

	// metrics fetches /metrics and returns how long it took, the card_test_value series and
	// the value of each redwatch_series_dropped_total series.
	metrics := func() (time.Duration, int, map[string]float64) {
		t.Helper()
		req, _ := http.NewRequest("GET", in.base+"/metrics", nil)
		req.SetBasicAuth("admin", e2ePassword)
		t0 := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET /metrics: %v", err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %d", res.StatusCode)
		}
		n, dropped := 0, map[string]float64{}
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "card_test_value{") {
				n++
			}
			if rest, ok := strings.CutPrefix(line, "redwatch_series_dropped_total{reason=\""); ok {
				reason, vals, _ := strings.Cut(rest, "\"} ")
				v, err := strconv.ParseFloat(strings.Fields(vals)[0], 64)
				if err != nil {
					t.Fatalf("bad line %q", line)
				}
				dropped[reason] = v
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return time.Since(t0), n, dropped
	}

	// selfmon writes the counter every 10 s.
	var took time.Duration
	var shown int
	eventually(t, 25*time.Second, "drops counted in /metrics", func() (bool, string) {
		d, n, dropped := metrics()
		took, shown = d, n
		return n > 0 && dropped["hourly_limit"] == float64(pushed-n), fmt.Sprintf("%d series shown, dropped %v", n, dropped)
	})
	// The limiter is a bloom filter, as VictoriaMetrics', so a few new series over the
	// ceiling get through as false positives (about 0.2 %).
	if shown > maxSeries+(pushed-maxSeries)/100 || shown < maxSeries {
		t.Fatalf("/metrics shows %d pushed series, want about %d", shown, maxSeries)
	}
	if took > 3*time.Second {
		t.Errorf("/metrics took %s at the ceiling", took)
	}

	// Storage holds exactly what /metrics shows.
	var series struct {
		Status string              `json:"status"`
		Data   []map[string]string `json:"data"`
	}
	start := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	if code := in.getJSON(t, "/api/v1/series?match[]=card_test_value&start="+start, &series); code != http.StatusOK || len(series.Data) != shown {
		t.Fatalf("/api/v1/series: %d, %d series, want the %d shown", code, len(series.Data), shown)
	}

	t0 := time.Now()
	res, err := http.Get(in.base + "/health/ready/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || time.Since(t0) > time.Second {
		t.Errorf("/health/ready/: %d in %s", res.StatusCode, time.Since(t0))
	}
	in.stop(t)
}
