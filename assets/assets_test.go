package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

var hashedURL = regexp.MustCompile(`^/assets/([A-Za-z.]+)\.([0-9a-f]{8,})\.(css|js)$`)

func TestURL(t *testing.T) {
	f := func(name string) {
		t.Helper()
		u := URL(name)
		if u != URL(name) {
			t.Fatalf("URL(%q) is not stable: %q vs %q", name, u, URL(name))
		}
		m := hashedURL.FindStringSubmatch(u)
		if m == nil {
			t.Fatalf("URL(%q) = %q; want /assets/<base>.<hex hash>.<ext>", name, u)
		}
		if got := m[1] + "." + m[3]; got != name {
			t.Fatalf("URL(%q) = %q; base name and extension do not round-trip (%q)", name, u, got)
		}
		data := served(t, name)
		sum := sha256.Sum256(data)
		if !strings.HasPrefix(hex.EncodeToString(sum[:]), m[2]) {
			t.Fatalf("URL(%q) = %q; hash %q is not a prefix of the content's sha256", name, u, m[2])
		}
	}
	f("app.css")
	f("app.js")
	f("htmx.min.js")
	f("uPlot.iife.min.js")
	f("uPlot.min.css")

	if URL("app.css") == URL("app.js") {
		t.Fatalf("different files share a URL")
	}
}

func TestURLUnknownPanics(t *testing.T) {
	defer func() {
		r := recover()
		s, _ := r.(string)
		if !strings.HasPrefix(s, "BUG:") {
			t.Fatalf("URL(unknown) panicked with %v; want a BUG: message", r)
		}
	}()
	URL("nope.js")
	t.Fatalf("URL(unknown) did not panic")
}

func TestNames(t *testing.T) {
	got := strings.Join(Names(), " ")
	want := "app.css app.js htmx.min.js uPlot.iife.min.js uPlot.min.css"
	if got != want {
		t.Fatalf("Names() = %q; want %q", got, want)
	}
}

func TestHandler(t *testing.T) {
	h := Handler()
	f := func(method, target string, wantCode int, wantType, wantCache string) *httptest.ResponseRecorder {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		if rec.Code != wantCode {
			t.Fatalf("%s %s: status %d; want %d", method, target, rec.Code, wantCode)
		}
		if got := rec.Header().Get("Content-Type"); wantType != "" && got != wantType {
			t.Fatalf("%s %s: Content-Type %q; want %q", method, target, got, wantType)
		}
		if got := rec.Header().Get("Cache-Control"); got != wantCache {
			t.Fatalf("%s %s: Cache-Control %q; want %q", method, target, got, wantCache)
		}
		return rec
	}
	const (
		css = "text/css; charset=utf-8"
		js  = "text/javascript; charset=utf-8"
	)

	// Hashed URLs: immutable, right type, full body.
	rec := f("GET", URL("app.css"), 200, css, "public, max-age=31536000, immutable")
	want := served(t, "app.css")
	if rec.Body.String() != string(want) {
		t.Fatalf("body of app.css differs from the embedded file")
	}
	if rec.Header().Get("ETag") == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("missing ETag or nosniff: %v", rec.Header())
	}
	f("GET", URL("app.js"), 200, js, "public, max-age=31536000, immutable")
	f("GET", URL("htmx.min.js"), 200, js, "public, max-age=31536000, immutable")
	f("GET", URL("uPlot.iife.min.js"), 200, js, "public, max-age=31536000, immutable")
	f("GET", URL("uPlot.min.css"), 200, css, "public, max-age=31536000, immutable")
	if rec := f("HEAD", URL("app.js"), 200, js, "public, max-age=31536000, immutable"); rec.Body.Len() != 0 {
		t.Fatalf("HEAD returned a body")
	}

	// Mounted behind http.StripPrefix, too.
	rec = httptest.NewRecorder()
	http.StripPrefix("/assets", h).ServeHTTP(rec, httptest.NewRequest("GET", URL("app.js"), nil))
	if rec.Code != 200 {
		t.Fatalf("behind StripPrefix: status %d; want 200", rec.Code)
	}

	// Plain names: served, short cache.
	f("GET", "/assets/app.css", 200, css, "public, max-age=300")
	f("GET", "/assets/htmx.min.js", 200, js, "public, max-age=300")

	// Conditional request.
	etag := f("GET", URL("app.css"), 200, css, "public, max-age=31536000, immutable").Header().Get("ETag")
	req := httptest.NewRequest("GET", URL("app.css"), nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match: status %d; want 304", rec.Code)
	}

	// Everything else is 404.
	f("GET", "/assets/", 404, "", "")
	f("GET", "/assets/nope.css", 404, "", "")
	f("GET", "/assets/app.0000000000aa.css", 404, "", "")
	f("GET", "/assets/assets.go", 404, "", "")
	f("GET", "/assets/LICENSES", 404, "", "")
	f("GET", "/assets/../go.mod", 404, "", "")

	// Only GET and HEAD.
	rec = f("POST", URL("app.css"), 405, "", "")
	if rec.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("405 without Allow header")
	}
}

func TestHandlerGzip(t *testing.T) {
	h := Handler()
	get := func(target string, header ...string) *httptest.ResponseRecorder {
		t.Helper()
		req := httptest.NewRequest("GET", target, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Add(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != http.StatusNotModified {
			t.Fatalf("GET %s %v: status %d", target, header, rec.Code)
		}
		if got := rec.Header().Get("Vary"); got != "Accept-Encoding" {
			t.Fatalf("GET %s %v: Vary %q; want Accept-Encoding", target, header, got)
		}
		return rec
	}
	for _, name := range Names() {
		want := served(t, name)
		// A browser: gzip, smaller, and it decompresses to the file.
		rec := get(URL(name), "Accept-Encoding", "gzip, deflate, br, zstd")
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: Content-Encoding %q; want gzip", name, rec.Header().Get("Content-Encoding"))
		}
		if rec.Body.Len() >= len(want) {
			t.Errorf("%s: gzip body %d bytes, plain %d", name, rec.Body.Len(), len(want))
		}
		if n, _ := GzipSize(name); n != rec.Body.Len() {
			t.Errorf("%s: GzipSize %d, served %d", name, n, rec.Body.Len())
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatalf("%s: %s", name, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: gzip body does not decompress to the file (%v)", name, err)
		}
		gzETag := rec.Header().Get("ETag")
		// No Accept-Encoding, or gzip refused: the plain file, with another ETag.
		for _, hdr := range [][]string{nil, {"Accept-Encoding", "identity"}, {"Accept-Encoding", "gzip;q=0, br"}, {"Accept-Encoding", "*;q=0"}} {
			rec = get(URL(name), hdr...)
			if rec.Header().Get("Content-Encoding") != "" || !bytes.Equal(rec.Body.Bytes(), want) {
				t.Fatalf("%s %v: want the plain file, got encoding %q and %d bytes", name, hdr, rec.Header().Get("Content-Encoding"), rec.Body.Len())
			}
			if rec.Header().Get("ETag") == gzETag {
				t.Fatalf("%s: the plain and gzip bodies share an ETag", name)
			}
		}
		// Other spellings of yes.
		for _, ae := range []string{"GZIP", "br;q=1.0, gzip;q=0.8", "*", "x-gzip"} {
			if rec = get(URL(name), "Accept-Encoding", ae); rec.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("%s with Accept-Encoding %q: not gzip", name, ae)
			}
		}
		// The gzip ETag revalidates the gzip body.
		if rec = get(URL(name), "Accept-Encoding", "gzip", "If-None-Match", gzETag); rec.Code != http.StatusNotModified {
			t.Fatalf("%s: If-None-Match with the gzip ETag: %d", name, rec.Code)
		}
	}
	if _, ok := GzipSize("nope.js"); ok {
		t.Fatalf("GzipSize of an unknown file")
	}
}

// served is what the handler serves for name: our own files minified, vendored ones as they are.
func served(t *testing.T, name string) []byte {
	t.Helper()
	f, ok := loadTable().byName[name]
	if !ok {
		t.Fatalf("no embedded asset %q", name)
	}
	return f.data
}

// TestOwnAssetsMinified: app.js and app.css are served minified (smaller than their source,
// and exactly what the minifier makes of it); vendored files are served byte for byte.
func TestOwnAssetsMinified(t *testing.T) {
	for _, name := range []string{"app.js", "app.css", "htmx.min.js", "uPlot.iife.min.js", "uPlot.min.css"} {
		src, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got := served(t, name)
		if strings.Contains(name, ".min.") {
			if !bytes.Equal(got, src) {
				t.Errorf("%s: vendored file not served as embedded", name)
			}
			continue
		}
		if len(got) >= len(src) {
			t.Errorf("%s: served %d bytes of a %d-byte source; want it minified", name, len(got), len(src))
		}
		if want := minifyAsset(name, contentTypes[path.Ext(name)], src); !bytes.Equal(got, want) {
			t.Errorf("%s: served bytes are not the minified source", name)
		}
	}
}
