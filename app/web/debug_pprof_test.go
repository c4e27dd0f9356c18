package web

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPprofAdminOnly: /debug/pprof/ asks anonymous users to log in, refuses viewers and gives
// an admin the index, text profiles and gzipped protobuf profiles (heap, allocs, CPU) whose
// string table names their sample types.
func TestPprofAdminOnly(t *testing.T) {
	e := newEnv(t)
	res, _ := e.do(nil, "GET", "/debug/pprof/heap", nil, "Accept: text/html")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous: %d %q, want 303 to /login", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = e.do(nil, "GET", "/debug/pprof/heap", nil) // go tool pprof: no Accept header
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous client: %d, want 401", res.StatusCode)
	}
	viewer := e.login("viewer", viewerPass)
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile?seconds=1", "/debug/pprof/cmdline"} {
		if res, _ := e.do(viewer, "GET", p, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("viewer GET %s: %d, want 403", p, res.StatusCode)
		}
	}

	admin := e.login("admin", adminPass)
	res, body := e.do(admin, "GET", "/debug/pprof/", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "goroutine") || !strings.Contains(body, "heap") {
		t.Fatalf("admin index: %d %.200q", res.StatusCode, body)
	}
	res, body = e.do(admin, "GET", "/debug/pprof/goroutine?debug=1", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "goroutine profile: total ") {
		t.Fatalf("goroutine?debug=1: %d %.200q", res.StatusCode, body)
	}
	if res, _ := e.do(admin, "GET", "/debug/pprof/nosuchprofile", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown profile: %d, want 404", res.StatusCode)
	}
	for path, want := range map[string]string{
		"/debug/pprof/heap":              "inuse_space",
		"/debug/pprof/allocs":            "alloc_space",
		"/debug/pprof/profile?seconds=1": "cpu",
	} {
		res, body := e.do(admin, "GET", path, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("admin %s: %d %.200q", path, res.StatusCode, body)
		}
		strs := profileStrings(t, []byte(body))
		found := false
		for _, s := range strs {
			found = found || s == want
		}
		if !found {
			t.Errorf("%s: string table %q lacks %q", path, strs[:min(len(strs), 10)], want)
		}
	}
	res, body = e.do(admin, "GET", "/debug/pprof/trace?seconds=1", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(body, "go 1.") {
		t.Fatalf("trace: %d %.40q", res.StatusCode, body)
	}
}

// profileStrings parses a gzipped pprof protobuf (profile.proto) far enough to return its
// string table (field 6), failing on anything that is not well-formed protobuf.
func profileStrings(t *testing.T, gz []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("bad gzip: %v", err)
	}
	var strs []string
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatal("bad protobuf key")
		}
		b = b[n:]
		switch key & 7 {
		case 0:
			_, n = binary.Uvarint(b)
			if n <= 0 {
				t.Fatal("bad varint")
			}
			b = b[n:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				t.Fatal("bad length")
			}
			if key>>3 == 6 {
				strs = append(strs, string(b[n:n+int(l)]))
			}
			b = b[n+int(l):]
		default:
			t.Fatalf("unexpected wire type %d", key&7)
		}
	}
	if len(strs) == 0 {
		t.Fatal("no string table")
	}
	return strs
}
