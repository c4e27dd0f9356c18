// Package assets embeds the dashboard's static files (our CSS and JS plus the
// vendored htmx and uPlot builds) and serves them under content-hashed URLs.
//
// Templates never hard-code asset paths: the web layer calls URL("app.css")
// and passes the result to the views, so a changed file gets a new URL and
// browsers may cache every URL forever.
//
// Our own app.js and app.css are kept readable in the tree (comments and all) and minified
// once when the table is built, so what browsers load is small; the vendored *.min.* files are
// served as they are.
//
// Browsers that accept gzip get a gzip copy of each file, compressed once in
// memory when the table is built (Handler builds it, so at start-up).
//
// Everything here is safe for concurrent use. The hash table is computed once,
// on first use.
package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/js"
)

// Prefix is the URL path under which Handler must be mounted.
const Prefix = "/assets/"

// hashLen is the number of hex characters of the SHA-256 content hash used in
// hashed file names.
const hashLen = 12

// Cache-Control values.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheShort     = "public, max-age=300"
)

//go:embed htmx.min.js uPlot.iife.min.js uPlot.min.css app.css app.js
var files embed.FS

// contentTypes maps the extensions we embed to their Content-Type. It is
// explicit so that responses do not depend on the host's MIME tables.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
}

// file is one embedded asset.
type file struct {
	name        string // plain name, e.g. "app.css"
	hashedName  string // e.g. "app.3f2a1b9c0d1e.css"
	hash        string // hex prefix of the SHA-256 of data
	contentType string
	data        []byte
	gz          []byte // data gzip-compressed; nil when that would not be smaller
}

// table indexes the embedded files; it is immutable once built.
type table struct {
	byName   map[string]*file // plain name -> file
	byHashed map[string]*file // hashed name -> file
}

// loadTable is the only package state: the table, computed once.
var loadTable = sync.OnceValue(newTable)

// newTable reads every embedded file and computes its content hash.
func newTable() *table {
	entries, err := files.ReadDir(".")
	if err != nil {
		panic(fmt.Sprintf("BUG: cannot list embedded assets: %s", err))
	}
	t := &table{
		byName:   make(map[string]*file, len(entries)),
		byHashed: make(map[string]*file, len(entries)),
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		data, err := files.ReadFile(name)
		if err != nil {
			panic(fmt.Sprintf("BUG: cannot read embedded asset %q: %s", name, err))
		}
		ext := path.Ext(name)
		ct, ok := contentTypes[ext]
		if !ok {
			panic(fmt.Sprintf("BUG: embedded asset %q has no known content type", name))
		}
		if !strings.Contains(name, ".min.") {
			data = minifyAsset(name, ct, data)
		}
		sum := sha256.Sum256(data)
		h := hex.EncodeToString(sum[:])[:hashLen]
		f := &file{
			name:        name,
			hashedName:  strings.TrimSuffix(name, ext) + "." + h + ext,
			hash:        h,
			contentType: ct,
			data:        data,
		}
		if gz := gzipBytes(data); len(gz) < len(data) {
			f.gz = gz
		}
		t.byName[name] = f
		t.byHashed[f.hashedName] = f
	}
	return t
}

// minifyAsset minifies one of our own files with tdewolff/minify (the minifier Hugo uses).
// A file the minifier cannot parse is a bug of ours, caught by the assets tests.
func minifyAsset(name, contentType string, data []byte) []byte {
	m := minify.New()
	m.AddFunc("text/css", css.Minify)
	m.AddFunc("text/javascript", js.Minify)
	mediatype, _, _ := strings.Cut(contentType, ";")
	out, err := m.Bytes(mediatype, data)
	if err != nil {
		panic(fmt.Sprintf("BUG: cannot minify embedded asset %q: %s", name, err))
	}
	return out
}

// gzipBytes compresses b at the best compression level.
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		panic(fmt.Sprintf("BUG: cannot create gzip writer: %s", err))
	}
	if _, err := zw.Write(b); err != nil {
		panic(fmt.Sprintf("BUG: cannot gzip in memory: %s", err))
	}
	if err := zw.Close(); err != nil {
		panic(fmt.Sprintf("BUG: cannot gzip in memory: %s", err))
	}
	return buf.Bytes()
}

// GzipSize returns the size in bytes of the named embedded file as served to a browser that
// accepts gzip (the plain size when the file is not served compressed), and whether the file
// exists.
func GzipSize(name string) (int, bool) {
	f, ok := loadTable().byName[name]
	if !ok {
		return 0, false
	}
	if f.gz != nil {
		return len(f.gz), true
	}
	return len(f.data), true
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip: it lists gzip (or
// *) without q=0.
func acceptsGzip(r *http.Request) bool {
	gzipQ, starQ := -1.0, -1.0
	for _, h := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(h, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzipQ = q
			case "*":
				starQ = q
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}

// URL returns the content-hashed URL path of the embedded file name, for
// example URL("app.css") == "/assets/app.3f2a1b9c0d1e.css". The result is
// stable for a given build and changes whenever the file's content changes.
//
// URL panics with a "BUG:" message for a name that is not embedded: asset
// names are compile-time constants, so that is a programming error.
func URL(name string) string {
	f, ok := loadTable().byName[name]
	if !ok {
		panic(fmt.Sprintf("BUG: unknown asset %q; known: %s", name, strings.Join(Names(), ", ")))
	}
	return Prefix + f.hashedName
}

// Names returns the plain names of all embedded files, sorted.
func Names() []string {
	t := loadTable()
	names := make([]string, 0, len(t.byName))
	for n := range t.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Handler serves the embedded files. Mount it at Prefix ("/assets/"), with
// or without stripping the prefix.
//
//   - Hashed names (as returned by URL) are served with
//     "Cache-Control: public, max-age=31536000, immutable".
//   - Plain names ("/assets/app.css") are served too, with a short cache
//     lifetime, for people and tools that do not know the hash.
//   - Anything else, including a hashed name with a stale hash, is 404.
//
// Only GET and HEAD are allowed. Responses carry an ETag (the content hash)
// and honour If-None-Match. A request whose Accept-Encoding allows gzip gets the
// precompressed copy with "Content-Encoding: gzip" (and its own ETag); every
// response says "Vary: Accept-Encoding".
func Handler() http.Handler {
	t := loadTable()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		name = strings.TrimPrefix(name, "/")
		cacheControl := cacheImmutable
		f, ok := t.byHashed[name]
		if !ok {
			f, ok = t.byName[name]
			cacheControl = cacheShort
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", cacheControl)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Add("Vary", "Accept-Encoding")
		body, etag := f.data, `"`+f.hash+`"`
		if f.gz != nil && acceptsGzip(r) {
			body, etag = f.gz, `"`+f.hash+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("ETag", etag)
		http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
	})
}
