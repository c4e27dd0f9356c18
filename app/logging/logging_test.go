package logging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func newTest(t *testing.T, opts Options) (*Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	opts.Stderr = &buf
	l, err := New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l, &buf
}

// jsonLines parses every line of b as a JSON object.
func jsonLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestJSONShape(t *testing.T) {
	l, buf := newTest(t, Options{})
	l.Slog().Info("plain", "n", 3)
	l.Named("web").Warn("with logger", "path", "/x")
	l.Named("sampler").WithGroup("redis").Error("grouped", "instance", "cache")

	lines := jsonLines(t, buf.Bytes())
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), buf)
	}
	f := func(i int, key string, want any) {
		t.Helper()
		if got := lines[i][key]; got != want {
			t.Errorf("line %d: %s = %#v, want %#v", i, key, got, want)
		}
	}
	for i := range lines {
		if _, ok := lines[i]["time"].(string); !ok {
			t.Errorf("line %d: no time: %v", i, lines[i])
		}
	}
	f(0, "level", "INFO")
	f(0, "msg", "plain")
	f(0, "n", 3.0)
	if _, ok := lines[0][LoggerKey]; ok {
		t.Errorf("line 0: logger set without Named")
	}
	f(1, "level", "WARN")
	f(1, LoggerKey, "web")
	f(1, "path", "/x")
	f(2, "level", "ERROR")
	f(2, LoggerKey, "sampler")
	if g, _ := lines[2]["redis"].(map[string]any); g["instance"] != "cache" {
		t.Errorf("line 2: redis group = %v, want instance=cache", lines[2]["redis"])
	}
}

func TestTextFormat(t *testing.T) {
	l, buf := newTest(t, Options{Format: "TEXT"})
	l.Named("web").Info("hello")
	if out := buf.String(); !strings.Contains(out, "level=INFO msg=hello logger=web") {
		t.Errorf("text output %q", out)
	}
}

func TestLevelFiltering(t *testing.T) {
	levels := []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}
	f := func(level string, want []string) {
		t.Helper()
		l, buf := newTest(t, Options{Level: level})
		for _, lv := range levels {
			l.Slog().Log(t.Context(), lv, "m")
		}
		var got []string
		for _, line := range jsonLines(t, buf.Bytes()) {
			got = append(got, line["level"].(string))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("level %q wrote %v, want %v", level, got, want)
		}
	}
	f("debug", []string{"DEBUG", "INFO", "WARN", "ERROR"})
	f("", []string{"INFO", "WARN", "ERROR"})
	f("info", []string{"INFO", "WARN", "ERROR"})
	f("Warn", []string{"WARN", "ERROR"})
	f("error", []string{"ERROR"})
}

func TestSetLevel(t *testing.T) {
	l, buf := newTest(t, Options{Level: "error"})
	named := l.Named("web") // derived before the change: follows it too
	named.Info("dropped")
	l.SetLevel(slog.LevelDebug)
	if l.Level() != slog.LevelDebug {
		t.Errorf("Level() = %v after SetLevel(debug)", l.Level())
	}
	named.Debug("kept")
	lines := jsonLines(t, buf.Bytes())
	if len(lines) != 1 || lines[0]["msg"] != "kept" {
		t.Errorf("lines %v, want only the debug line written after SetLevel", lines)
	}
	// Warnings reach Recent even when the level hides them.
	l.SetLevel(slog.LevelError)
	named.Warn("hidden")
	if r := l.Recent(); len(r) != 1 || r[0].Msg != "hidden" {
		t.Errorf("Recent() = %v, want the hidden warning", r)
	}
}

func TestFileOutputAndRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "redwatch.log") // the directory is created
	l, buf := newTest(t, Options{File: path, MaxSizeMB: 1, MaxBackups: 3})

	if lj := l.out.file; lj.MaxSize != 1 || lj.MaxBackups != 3 || lj.Filename != path {
		t.Errorf("lumberjack configured with %s, %d MB, %d backups", lj.Filename, lj.MaxSize, lj.MaxBackups)
	}
	l.Named("test").Info("first", "password", "hunter2")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	if !bytes.Equal(b, buf.Bytes()) {
		t.Errorf("file holds %q, stderr %q; want the same lines", b, buf.Bytes())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v (%v), want 0600", fi.Mode(), err)
	}

	// Write a bit more than 1 MB: the file rotates once.
	payload := strings.Repeat("x", 1000)
	for range 1100 {
		l.Slog().Info("filler", "payload", payload)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("log dir holds %v, want the current file and one backup", names)
	}
	for _, e := range entries {
		fi, _ := e.Info()
		if fi.Size() > 1<<20 {
			t.Errorf("%s is %d bytes, over the 1 MB limit", e.Name(), fi.Size())
		}
		jsonLines(t, mustRead(t, filepath.Join(filepath.Dir(path), e.Name())))
	}

	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	before := mustRead(t, path)
	l.Slog().Info("after close")
	if after := mustRead(t, path); !bytes.Equal(before, after) {
		t.Errorf("a line logged after Close reached the file")
	}
	if !strings.Contains(buf.String(), "after close") {
		t.Errorf("a line logged after Close did not reach stderr")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecent(t *testing.T) {
	l, _ := newTest(t, Options{Level: "debug"})
	if r := l.Recent(); len(r) != 0 {
		t.Fatalf("Recent() on a new logger = %v", r)
	}
	web := l.Named("web")
	for i := range 70 {
		web.Debug("debug", "i", i)
		web.Info("info", "i", i)
		if i%2 == 0 {
			web.Warn("warn", "i", i)
		} else {
			web.Error("error", "i", i)
		}
	}
	r := l.Recent()
	if len(r) != ringSize {
		t.Fatalf("Recent() holds %d entries, want %d", len(r), ringSize)
	}
	for j, e := range r {
		i := 69 - j // newest first
		wantLevel, wantMsg := "WARN", "warn"
		if i%2 == 1 {
			wantLevel, wantMsg = "ERROR", "error"
		}
		want := Entry{Time: e.Time, Level: wantLevel, Logger: "web", Msg: wantMsg, Attrs: fmt.Sprintf("i=%d", i)}
		if e != want {
			t.Fatalf("Recent()[%d] = %+v, want %+v", j, e, want)
		}
		if e.Time.IsZero() || (j > 0 && e.Time.After(r[j-1].Time)) {
			t.Errorf("Recent()[%d].Time = %v, not newest first", j, e.Time)
		}
	}
}

func TestRecentAttrs(t *testing.T) {
	l, _ := newTest(t, Options{})
	f := func(log *slog.Logger, want Entry, args ...any) {
		t.Helper()
		log.Warn("m", args...)
		got := l.Recent()[0]
		want.Time, want.Level, want.Msg = got.Time, "WARN", "m"
		if got != want {
			t.Errorf("entry %+v, want %+v", got, want)
		}
	}
	base := l.Slog()
	f(base, Entry{Attrs: "a=1 b=\"two words\""}, "a", 1, "b", "two words")
	f(base, Entry{Logger: "x", Attrs: "a=1"}, "logger", "x", "a", 1)
	f(l.Named("slow").With("instance", "cache"), Entry{Logger: "slow", Attrs: "instance=cache cmd=GET"}, "cmd", "GET")
	f(l.Named("web").WithGroup("req").With("id", 7), Entry{Logger: "web", Attrs: "req.id=7 req.logger=inner"}, "logger", "inner")
	f(base, Entry{Attrs: "g.a=1 g.h.b=2 err=boom"}, slog.Group("g", "a", 1, slog.Group("h", "b", 2)), "err", errors.New("boom"), slog.Group("empty"))
	f(base.With(slog.Group("db", "password", "pw1")), Entry{Attrs: "db.password=[redacted] token=[redacted]"}, "token", "t0k")
	f(base, Entry{Attrs: "a=" + strings.Repeat("y", maxEntryAttrs-len("a=")-len("…")) + "…"}, "a", strings.Repeat("y", 2*maxEntryAttrs))
}

func TestRedaction(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		l, buf := newTest(t, Options{Format: format})
		l.Named("auth").
			With("Authorization", "Bearer abc123secretvalue").
			WithGroup("redis").
			Warn("login",
				"password", "hunter2",
				"REDIS_PASSWORD", "hunter3",
				"X-Auth-Token", "tok-999",
				"client_secret", "s3cr3t",
				"Cookie", "session=c00kie",
				slog.Group("secrets", "api", "key-777"),
				"user", "alice",
			)
		out := buf.String()
		for _, leak := range []string{"abc123secretvalue", "hunter2", "hunter3", "tok-999", "s3cr3t", "c00kie", "key-777"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s output leaks %q: %s", format, leak, out)
			}
			for _, e := range l.Recent() {
				if strings.Contains(fmt.Sprint(e), leak) {
					t.Errorf("Recent() leaks %q: %+v", leak, e)
				}
			}
		}
		if n := strings.Count(out, Redacted); n != 7 {
			t.Errorf("%s output has %d %q, want 7: %s", format, n, Redacted, out)
		}
		if !strings.Contains(out, "alice") {
			t.Errorf("%s output lost a harmless attribute: %s", format, out)
		}
	}
}

func TestParseLevel(t *testing.T) {
	f := func(s string, want slog.Level) {
		t.Helper()
		got, err := ParseLevel(s)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	f("debug", slog.LevelDebug)
	f("INFO", slog.LevelInfo)
	f(" warn ", slog.LevelWarn)
	f("warning", slog.LevelWarn)
	f("Error", slog.LevelError)
	for _, s := range []string{"", "verbose", "fatal", "info2", "-4"} {
		if _, err := ParseLevel(s); !errors.Is(err, ErrUnknownLevel) {
			t.Errorf("ParseLevel(%q) error = %v, want ErrUnknownLevel", s, err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f := func(opts Options, want string) {
		t.Helper()
		opts.Stderr = &bytes.Buffer{}
		l, err := New(opts)
		if err == nil {
			l.Close()
			t.Fatalf("New(%+v) succeeded, want an error", opts)
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New(%+v) error %q, want it to mention %q", opts, err, want)
		}
	}
	f(Options{Level: "loud"}, `unknown log level "loud"`)
	f(Options{Format: "xml"}, `unknown log format "xml"`)
	f(Options{MaxSizeMB: -1}, "max size")
	f(Options{MaxBackups: -1}, "max backups")
	f(Options{File: filepath.Join(file, "under-a-file.log")}, "cannot open log file")
}

func TestConcurrentUse(t *testing.T) {
	l, _ := newTest(t, Options{File: filepath.Join(t.TempDir(), "c.log")})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			log := l.Named(fmt.Sprint("g", g))
			for i := range 100 {
				log.Warn("w", "i", i)
				_ = l.Recent()
			}
		})
	}
	wg.Go(func() { l.SetLevel(slog.LevelError) })
	wg.Wait()
	if n := len(l.Recent()); n != ringSize {
		t.Errorf("Recent() holds %d entries, want %d", n, ringSize)
	}
}
