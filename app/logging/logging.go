// Package logging builds redwatch's one log/slog logger: JSON (or text) lines on stderr and,
// optionally, in a file rotated by lumberjack; secrets redacted; the level changeable at run
// time; and the last warnings and errors kept in memory for the /status page.
//
// JSON lines carry the keys time (RFC 3339 with nanoseconds, local zone), level, msg, then
// logger when the record comes from a Named logger, then the record's attributes. Levels are
// written as slog writes them: "DEBUG", "INFO", "WARN", "ERROR" (uppercase; a log shipper that
// wants lowercase maps them, as Loki and Vector do for slog and zap output).
package logging

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"gopkg.in/natefinch/lumberjack.v2"
)

// LoggerKey is the attribute naming the component that logs ("web", "sampler.redis", "slow").
const LoggerKey = "logger"

// ErrUnknownLevel is wrapped by the errors of ParseLevel and New for a bad level name.
var ErrUnknownLevel = errors.New("unknown log level")

// Options configure New. The zero value logs JSON at info to stderr.
type Options struct {
	Level  string // debug | info | warn | error; "" = info
	Format string // json | text; "" = json
	// File, when set, receives every line written to Stderr too, rotated by lumberjack. Its
	// directory is created when missing; the file is created with mode 0600.
	File       string
	MaxSizeMB  int       // rotate File when it would exceed this size; 0 = lumberjack's 100 MB
	MaxBackups int       // rotated files to keep; 0 = keep them all
	Stderr     io.Writer // nil = os.Stderr
}

// Logger owns the process's slog logger, its rotating file and its ring of recent problems.
// All methods are safe for concurrent use. Whoever calls New calls Close, once, after the last
// line worth keeping in the file.
type Logger struct {
	log   *slog.Logger
	level *slog.LevelVar
	ring  *ring
	out   *output
}

// New returns a Logger configured by opts, or an error naming the bad option. With File set,
// the file is opened now, so that a bad path fails at start-up.
func New(opts Options) (*Logger, error) {
	level := slog.LevelInfo
	if opts.Level != "" {
		l, err := ParseLevel(opts.Level)
		if err != nil {
			return nil, fmt.Errorf("cannot create logger: %w", err)
		}
		level = l
	}
	if opts.MaxSizeMB < 0 {
		return nil, fmt.Errorf("cannot create logger: max size must be >= 0 MB, got %d", opts.MaxSizeMB)
	}
	if opts.MaxBackups < 0 {
		return nil, fmt.Errorf("cannot create logger: max backups must be >= 0, got %d", opts.MaxBackups)
	}

	out := &output{stderr: opts.Stderr}
	if out.stderr == nil {
		out.stderr = os.Stderr
	}
	if opts.File != "" {
		lj := &lumberjack.Logger{Filename: opts.File, MaxSize: opts.MaxSizeMB, MaxBackups: opts.MaxBackups}
		if _, err := lj.Write(nil); err != nil { // opens (or creates) the file
			return nil, fmt.Errorf("cannot open log file %q: %w", opts.File, err)
		}
		out.file = lj
	}

	lv := new(slog.LevelVar)
	lv.Set(level)
	hopts := &slog.HandlerOptions{Level: lv, ReplaceAttr: redactAttr}
	var base slog.Handler
	switch strings.ToLower(strings.TrimSpace(opts.Format)) {
	case "", "json":
		base = slog.NewJSONHandler(out, hopts)
	case "text":
		base = slog.NewTextHandler(out, hopts)
	default:
		_ = out.close()
		return nil, fmt.Errorf("cannot create logger: unknown log format %q: want json or text", opts.Format)
	}
	r := &ring{}
	return &Logger{
		log:   slog.New(&ringHandler{inner: base, ring: r}),
		level: lv,
		ring:  r,
		out:   out,
	}, nil
}

// Slog returns the logger. Records below the current level are dropped, except that warnings
// and errors always reach Recent.
func (l *Logger) Slog() *slog.Logger { return l.log }

// Named returns the logger with the attribute logger=name, which Recent reports as
// Entry.Logger.
func (l *Logger) Named(name string) *slog.Logger { return l.log.With(LoggerKey, name) }

// SetLevel changes the level of every logger derived from l, at once.
func (l *Logger) SetLevel(level slog.Level) { l.level.Set(level) }

// Level returns the current level.
func (l *Logger) Level() slog.Level { return l.level.Level() }

// Recent returns the last 50 records at warn or above, newest first, whatever the current
// level. The slice is a copy.
func (l *Logger) Recent() []Entry { return l.ring.entries() }

// Close closes the log file, if any. Lines logged afterwards go to stderr only.
func (l *Logger) Close() error { return l.out.close() }

// ParseLevel parses debug, info, warn (or warning) and error, in any case. Other names give an
// error wrapping ErrUnknownLevel.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%w %q: want debug, info, warn or error", ErrUnknownLevel, s)
}

// output writes every line to stderr and, until closed, to the rotating file. The slog handler
// serialises calls to Write.
type output struct {
	stderr io.Writer

	mu   sync.Mutex
	file *lumberjack.Logger // nil without a file or after close
}

func (o *output) Write(p []byte) (int, error) {
	_, err := o.stderr.Write(p)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file != nil {
		// A file error (disk full) must not stop stderr, nor stderr errors the file.
		if _, ferr := o.file.Write(p); ferr != nil {
			err = errors.Join(err, ferr)
		}
	}
	return len(p), err
}

func (o *output) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.file == nil {
		return nil
	}
	err := o.file.Close()
	o.file = nil
	if err != nil {
		return fmt.Errorf("cannot close log file: %w", err)
	}
	return nil
}
