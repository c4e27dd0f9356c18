package logging

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	// ringSize is how many records Recent keeps.
	ringSize = 50
	// maxEntryAttrs is the longest Entry.Attrs, in bytes, before it is cut and ends with "…".
	maxEntryAttrs = 512
)

// Entry is one warning or error kept for the /status page. Secrets are redacted as in the log
// output.
type Entry struct {
	Time   time.Time
	Level  string // "WARN", "ERROR" (slog's names)
	Logger string // the logger attribute, "" when unset
	Msg    string
	Attrs  string // the other attributes as space-separated key=value pairs, group.key for groups; at most 512 bytes
}

// ring holds the last ringSize entries. Safe for concurrent use.
type ring struct {
	mu    sync.Mutex
	buf   [ringSize]Entry
	next  int // index of the slot written next
	count int
}

func (r *ring) add(e Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = e
	r.next = (r.next + 1) % ringSize
	r.count = min(r.count+1, ringSize)
}

// entries returns the entries, newest first.
func (r *ring) entries() []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Entry, 0, r.count)
	for i := 1; i <= r.count; i++ {
		out = append(out, r.buf[(r.next-i+ringSize)%ringSize])
	}
	return out
}

// ringHandler passes records to inner, when inner is enabled for them, and copies every record
// at warn or above into ring. It tracks the attributes and groups added by With and WithGroup,
// so that a logger attribute set with Named is reported.
type ringHandler struct {
	inner  slog.Handler
	ring   *ring
	logger string   // the top-level logger attribute
	attrs  []string // preformatted key=value pairs from WithAttrs
	groups []string // open groups, outermost first
}

func (h *ringHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn || h.inner.Enabled(ctx, level)
}

func (h *ringHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.remember(r)
	}
	if !h.inner.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h *ringHandler) remember(r slog.Record) {
	logger := h.logger
	pairs := slices.Clone(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		if len(h.groups) == 0 && a.Key == LoggerKey {
			logger = a.Value.Resolve().String()
			return true
		}
		pairs = appendPairs(pairs, h.groups, a)
		return true
	})
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	h.ring.add(Entry{Time: t, Level: r.Level.String(), Logger: logger, Msg: r.Message, Attrs: truncate(strings.Join(pairs, " "), maxEntryAttrs)})
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	h2 := *h
	h2.inner = h.inner.WithAttrs(as)
	h2.attrs = slices.Clip(h.attrs) // appends below must not share h's array
	for _, a := range as {
		if len(h.groups) == 0 && a.Key == LoggerKey {
			h2.logger = a.Value.Resolve().String()
			continue
		}
		h2.attrs = appendPairs(h2.attrs, h.groups, a)
	}
	return &h2
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.inner = h.inner.WithGroup(name)
	h2.groups = append(slices.Clip(h.groups), name)
	return &h2
}

// appendPairs appends a as key=value pairs, flattening groups, redacting as redactAttr does and
// skipping empty attributes as the slog handlers do.
func appendPairs(pairs, groups []string, a slog.Attr) []string {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		members := v.Group()
		if len(members) == 0 {
			return pairs
		}
		if a.Key != "" {
			groups = append(slices.Clip(groups), a.Key)
		}
		for _, m := range members {
			pairs = appendPairs(pairs, groups, m)
		}
		return pairs
	}
	if a.Key == "" && v.Any() == nil {
		return pairs
	}
	a = redactAttr(groups, slog.Attr{Key: a.Key, Value: v})
	key := a.Key
	if len(groups) > 0 {
		key = strings.Join(groups, ".") + "." + key
	}
	return append(pairs, key+"="+quoteIfNeeded(a.Value.String()))
}

func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for _, c := range s {
		if c == '=' || c == '"' || unicode.IsSpace(c) || !unicode.IsPrint(c) {
			return strconv.Quote(s)
		}
	}
	return s
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
