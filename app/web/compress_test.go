package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// Pages, polled fragments, the JSON API and /metrics are gzip-compressed for a client that
// accepts gzip, and decompress to exactly what a client without gzip gets; precompressed
// assets are not compressed twice, and small answers are sent as they are.
func TestResponsesGzipCompressed(t *testing.T) {
	t.Parallel()
	keys := newLatestStore()
	for i := range 100 {
		keys.write([]tsdb.Sample{{Name: "redis_key_length", Labels: []tsdb.Label{{Name: "instance", Value: "cache"}, {Name: "key", Value: "queue:" + strconv.Itoa(i)}}, Timestamp: time.Now().UnixMilli(), Value: float64(i)}})
	}
	e := newAccessEnv(t, envOptions{store: keys})
	e.fill()
	c := e.login("viewer", viewerPass)
	for _, path := range []string{
		"/", "/redis/cache", "/redis/cache?fragment=redis-clients", "/keys", "/alerts", "/status",
		"/api/instances", "/metrics",
	} {
		plainRes, plain := e.do(c, "GET", path, nil, "Accept-Encoding: identity")
		if plainRes.StatusCode != 200 || plainRes.Header.Get("Content-Encoding") != "" {
			t.Fatalf("GET %s without gzip: %d, Content-Encoding %q", path, plainRes.StatusCode, plainRes.Header.Get("Content-Encoding"))
		}
		if len(plain) < gzipMinBytes {
			t.Fatalf("GET %s is only %d bytes: pick a larger answer for this test", path, len(plain))
		}
		res, body := e.do(c, "GET", path, nil, "Accept-Encoding: gzip, deflate, br")
		if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("GET %s: %d, Content-Encoding %q, Vary %q; want gzip", path, res.StatusCode, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
			continue
		}
		got := gunzip(t, body)
		if ct := res.Header.Get("Content-Type"); ct != plainRes.Header.Get("Content-Type") {
			t.Errorf("GET %s: Content-Type %q compressed, %q plain", path, ct, plainRes.Header.Get("Content-Type"))
		}
		// Pages carry per-request values (CSRF token, request time): compare their shape.
		if strings.HasPrefix(path, "/api/") || path == "/metrics" {
			if len(got) < len(plain)*9/10 || len(got) > len(plain)*11/10 {
				t.Errorf("GET %s: %d bytes decompressed, %d plain", path, len(got), len(plain))
			}
		} else if !strings.Contains(got, "</html>") && !strings.Contains(path, "fragment=") {
			t.Errorf("GET %s: decompressed body is not the page: %.200q", path, got)
		}
		if len(body) >= len(plain) {
			t.Errorf("GET %s: %d bytes gzip, %d plain", path, len(body), len(plain))
		}
		t.Logf("%s: %d B plain, %d B gzip", path, len(plain), len(body))
	}

	// Assets: compressed once (their body gunzips to the file itself, not to more gzip).
	_, page := e.do(c, "GET", "/", nil, "Accept-Encoding: identity")
	i := strings.Index(page, `src="/assets/`)
	if i < 0 {
		t.Fatal("overview loads no script from /assets/")
	}
	ref := page[i+len(`src="`):]
	ref = ref[:strings.IndexByte(ref, '"')]
	res, body := e.do(nil, "GET", ref, nil, "Accept-Encoding: gzip")
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("GET %s: %d, Content-Encoding %q", ref, res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	if js := gunzip(t, body); strings.HasPrefix(js, "\x1f\x8b") || len(js) < len(body) {
		t.Errorf("GET %s: compressed twice", ref)
	}

	// A small answer is not worth compressing.
	res, _ = e.do(nil, "GET", "/health/", nil, "Accept-Encoding: gzip")
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("GET /health/: %d, Content-Encoding %q; want a plain small answer", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
}

func gunzip(t *testing.T, s string) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader([]byte(s)))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("bad gzip: %v", err)
	}
	return string(b)
}
