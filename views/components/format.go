package components

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Dash is shown for values that cannot be formatted (NaN, ±Inf).
const Dash = "—"

// The helpers below format sample values for people. They mirror the
// formatters in assets/app.js so a stat box and the chart next to it agree.

// Bytes formats a byte count with binary units: 512 -> "512 B",
// 1.5*2^30 -> "1.5 GiB". One decimal below 100, none above.
func Bytes(v float64) string {
	if bad(v) {
		return Dash
	}
	sign, a := split(v)
	if math.Round(a) < 1024 {
		return sign + strconv.FormatFloat(math.Round(a), 'f', 0, 64) + " B"
	}
	units := [...]string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for a >= 1024 && i < len(units)-1 {
		a /= 1024
		i++
	}
	// 1023.96 KiB would print as "1024 KiB"; say "1.0 MiB" instead.
	if fixed(a) == "1024" && i < len(units)-1 {
		a /= 1024
		i++
	}
	return sign + fixed(a) + " " + units[i]
}

// BytesPerSec formats a rate in bytes per second: "1.5 MiB/s".
func BytesPerSec(v float64) string {
	if bad(v) {
		return Dash
	}
	return Bytes(v) + "/s"
}

// Percent formats a value already in percent (0..100): 12.345 -> "12.3%".
func Percent(v float64) string {
	if bad(v) {
		return Dash
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

// Number formats a plain quantity compactly: 0.5 -> "0.5", 1234 -> "1234",
// 12345 -> "12.3k", 2.5e6 -> "2.5M".
func Number(v float64) string {
	if bad(v) {
		return Dash
	}
	sign, a := split(v)
	if a < 1e4 {
		prec := 0
		switch {
		case a < 10:
			prec = 2
		case a < 100:
			prec = 1
		}
		return sign + trimZeros(strconv.FormatFloat(a, 'f', prec, 64))
	}
	for _, s := range [...]struct {
		div    float64
		suffix string
	}{{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if a >= s.div {
			return sign + trimZeros(strconv.FormatFloat(a/s.div, 'f', 1, 64)) + s.suffix
		}
	}
	return sign + strconv.FormatFloat(a, 'f', 0, 64)
}

// Ops formats an operation rate: 12345 -> "12.3k ops/s".
func Ops(v float64) string {
	if bad(v) {
		return Dash
	}
	return Number(v) + " ops/s"
}

// Fixed formats v with exactly decimals digits after the point (for values
// such as load averages whose width should not change between refreshes).
func Fixed(v float64, decimals int) string {
	if bad(v) {
		return Dash
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// Duration formats a duration given in seconds: 0.00025 -> "250µs",
// 0.0123 -> "12.3ms", 4.2 -> "4.2s", 42 -> "42s", 185 -> "3m 5s",
// 7380 -> "2h 3m", 446400 -> "5d 4h".
func Duration(seconds float64) string {
	if bad(seconds) {
		return Dash
	}
	sign, s := split(seconds)
	switch {
	case s == 0:
		return "0s"
	case s < 1e-3:
		prec := 0
		if s < 1e-5 {
			prec = 1
		}
		return sign + trimZeros(strconv.FormatFloat(s*1e6, 'f', prec, 64)) + "µs"
	case s < 1:
		prec := 0
		switch {
		case s < 0.01:
			prec = 2
		case s < 0.1:
			prec = 1
		}
		return sign + trimZeros(strconv.FormatFloat(s*1e3, 'f', prec, 64)) + "ms"
	case s < 10:
		return sign + trimZeros(strconv.FormatFloat(s, 'f', 1, 64)) + "s"
	case s < 60:
		return sign + strconv.Itoa(int(s)) + "s"
	}
	t := int64(s)
	d, h, m, r := t/86400, t%86400/3600, t%3600/60, t%60
	switch {
	case d > 0:
		return fmt.Sprintf("%s%dd %dh", sign, d, h)
	case h > 0:
		return fmt.Sprintf("%s%dh %dm", sign, h, m)
	default:
		return fmt.Sprintf("%s%dm %ds", sign, m, r)
	}
}

// Ago formats how long before now t was, in whole seconds: "42s", "3m 5s".
// A zero t gives "never"; a t in the future counts as now.
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t).Truncate(time.Second)
	if d < 0 {
		d = 0
	}
	return Duration(d.Seconds())
}

// SeriesSelector builds a series selector such as
// host_cpu_usage_percent{host="h1"} from a metric name and label name/value
// pairs. Values are written as Go-quoted strings (strconv.Quote), which the
// selector parser unquotes byte for byte, so any host or key name, invalid
// UTF-8 included, selects exactly its series. An odd trailing label name is
// ignored.
func SeriesSelector(metric string, labelPairs ...string) string {
	var b strings.Builder
	b.WriteString(metric)
	b.WriteByte('{')
	for i := 0; i+1 < len(labelPairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(labelPairs[i])
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labelPairs[i+1]))
	}
	b.WriteByte('}')
	return b.String()
}

func bad(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

func split(v float64) (sign string, abs float64) {
	if v < 0 {
		return "-", -v
	}
	return "", v
}

// fixed gives one decimal below 100 and none from 100 up.
func fixed(a float64) string {
	if a < 99.95 {
		return strconv.FormatFloat(a, 'f', 1, 64)
	}
	return strconv.FormatFloat(a, 'f', 0, 64)
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Int formats an exact count with thousands separators: 1234567 -> "1,234,567".
// Use it where the exact figure matters (a queue length); Number where a
// compact one reads better.
func Int(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return sign + s
	}
	var b strings.Builder
	b.WriteString(sign)
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > len(sign) {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// Ratio formats a fraction (0..1) as a percentage: 0.9876 -> "98.8%".
func Ratio(v float64) string {
	if bad(v) {
		return Dash
	}
	return Percent(v * 100)
}

// TTL formats a key's time to live in seconds: -1 -> "no expiry", a
// non-negative value as a Duration, anything else (unknown) as Dash.
func TTL(seconds float64) string {
	switch {
	case bad(seconds):
		return Dash
	case seconds == -1:
		return "no expiry"
	case seconds < 0:
		return Dash
	}
	return Duration(seconds)
}

// Printable makes arbitrary bytes (a Redis key or argument) readable and safe
// to show: invalid UTF-8 bytes and ASCII control characters become \xNN (or
// \n, \r, \t), other invisible or direction-changing characters become
// \uNNNN. Printable text, including backslashes, is kept as is, except in a
// value that is not valid UTF-8, where a backslash is doubled: that is
// tsdb.LabelValue's encoding, so a key reads the same on a page as in /metrics,
// /api/v1/* and notifications (Printable of either gives the same text). (HTML
// escaping is still templ's job.)
func Printable(s string) string {
	invalid := !utf8.ValidString(s)
	clean := !invalid
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' && invalid:
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Clip shortens s to at most n runes, ending in "…" when it was cut. It never
// splits a multi-byte character.
func Clip(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// TitleMaxChars caps a title attribute that carries a long name (a key, a client name), so a
// polled table of 70 KB keys stays small; the key's own page shows the whole name.
const TitleMaxChars = 4096

// LongName is a name as a table cell shows it: Printable, cut to n runes, and when cut, "…"
// and the name's full size: "x:aaaa… (70,002 bytes)".
func LongName(s string, n int) string {
	p := Printable(s)
	c := Clip(p, n)
	if c == p {
		return c
	}
	return c + " (" + Int(int64(len(s))) + " bytes)"
}

// NameTitle is the title attribute of a name shown with LongName: Printable, cut to
// TitleMaxChars runes.
func NameTitle(s string) string { return Clip(Printable(s), TitleMaxChars) }
