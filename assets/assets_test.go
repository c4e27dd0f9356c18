package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
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
		data, err := files.ReadFile(name)
		if err != nil {
			t.Fatalf("cannot read %q: %s", name, err)
		}
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
	want, _ := files.ReadFile("app.css")
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
