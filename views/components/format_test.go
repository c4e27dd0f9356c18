package components

import (
	"math"
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	f := func(name string, fn func(float64) string, in float64, want string) {
		t.Helper()
		if got := fn(in); got != want {
			t.Errorf("%s(%v) = %q; want %q", name, in, got, want)
		}
	}
	const (
		KiB = 1024.0
		MiB = 1024 * KiB
		GiB = 1024 * MiB
		TiB = 1024 * GiB
	)

	f("Bytes", Bytes, 0, "0 B")
	f("Bytes", Bytes, 512, "512 B")
	f("Bytes", Bytes, 1023, "1023 B")
	f("Bytes", Bytes, 1024, "1.0 KiB")
	f("Bytes", Bytes, 1536, "1.5 KiB")
	f("Bytes", Bytes, 1.5*GiB, "1.5 GiB")
	f("Bytes", Bytes, 15.3*GiB, "15.3 GiB")
	f("Bytes", Bytes, 512*MiB, "512 MiB")
	f("Bytes", Bytes, 1023.99*KiB, "1.0 MiB")
	f("Bytes", Bytes, 2*TiB, "2.0 TiB")
	f("Bytes", Bytes, -2048, "-2.0 KiB")
	f("Bytes", Bytes, math.NaN(), Dash)
	f("Bytes", Bytes, math.Inf(1), Dash)

	f("BytesPerSec", BytesPerSec, 1.5*MiB, "1.5 MiB/s")
	f("BytesPerSec", BytesPerSec, 0, "0 B/s")
	f("BytesPerSec", BytesPerSec, math.NaN(), Dash)

	f("Percent", Percent, 0, "0.0%")
	f("Percent", Percent, 12.345, "12.3%")
	f("Percent", Percent, 100, "100.0%")
	f("Percent", Percent, math.NaN(), Dash)

	f("Number", Number, 0, "0")
	f("Number", Number, 0.5, "0.5")
	f("Number", Number, 1.234, "1.23")
	f("Number", Number, 42, "42")
	f("Number", Number, 1234, "1234")
	f("Number", Number, 12345, "12.3k")
	f("Number", Number, 2.5e6, "2.5M")
	f("Number", Number, 3e9, "3G")
	f("Number", Number, -12345, "-12.3k")

	f("Ops", Ops, 12345, "12.3k ops/s")

	f("Duration", Duration, 0, "0s")
	f("Duration", Duration, 0.00025, "250µs")
	f("Duration", Duration, 0.0123, "12.3ms")
	f("Duration", Duration, 0.25, "250ms")
	f("Duration", Duration, 4.2, "4.2s")
	f("Duration", Duration, 42, "42s")
	f("Duration", Duration, 185, "3m 5s")
	f("Duration", Duration, 7380, "2h 3m")
	f("Duration", Duration, 446400, "5d 4h")
	f("Duration", Duration, math.Inf(-1), Dash)

	if got := Fixed(0.5, 2); got != "0.50" {
		t.Errorf("Fixed(0.5, 2) = %q", got)
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := func(t0 time.Time, want string) {
		t.Helper()
		if got := Ago(now, t0); got != want {
			t.Errorf("Ago(now, %v) = %q; want %q", t0, got, want)
		}
	}
	f(now.Add(-42*time.Second-300*time.Millisecond), "42s")
	f(now.Add(-185*time.Second), "3m 5s")
	f(now.Add(time.Minute), "0s")
	f(time.Time{}, "never")
}

func TestSeriesSelector(t *testing.T) {
	f := func(want, metric string, pairs ...string) {
		t.Helper()
		if got := SeriesSelector(metric, pairs...); got != want {
			t.Errorf("SeriesSelector(%q, %q) = %q; want %q", metric, pairs, got, want)
		}
	}
	f(`up{}`, "up")
	f(`host_cpu_usage_percent{host="h1"}`, "host_cpu_usage_percent", "host", "h1")
	f(`m{host="a\"b\\c\nd"}`, "m", "host", "a\"b\\c\nd")
	f(`m{a="1",b="2"}`, "m", "a", "1", "b", "2")
	f(`m{a="1"}`, "m", "a", "1", "dangling")
}

func TestInt(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12345: "12,345", 1234567: "1,234,567", -1234: "-1,234", -999: "-999", 100000: "100,000"} {
		if got := Int(in); got != want {
			t.Errorf("Int(%d) = %q; want %q", in, got, want)
		}
	}
}

func TestRatioAndTTL(t *testing.T) {
	f := func(name string, fn func(float64) string, in float64, want string) {
		t.Helper()
		if got := fn(in); got != want {
			t.Errorf("%s(%v) = %q; want %q", name, in, got, want)
		}
	}
	f("Ratio", Ratio, 0.9876, "98.8%")
	f("Ratio", Ratio, 0, "0.0%")
	f("Ratio", Ratio, 1, "100.0%")
	f("Ratio", Ratio, math.NaN(), Dash)
	f("TTL", TTL, -1, "no expiry")
	f("TTL", TTL, -2, Dash)
	f("TTL", TTL, 0, "0s")
	f("TTL", TTL, 90, "1m 30s")
	f("TTL", TTL, math.NaN(), Dash)
}

func TestPrintable(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q; want %q", in, got, want)
		}
	}
	f("", "")
	f("queue:emails", "queue:emails")
	f(`<img src=x onerror=alert(1)>`, `<img src=x onerror=alert(1)>`) // HTML escaping is templ's job
	f(`a\b`, `a\b`)
	f("héllo wörld ✓ 日本", "héllo wörld ✓ 日本")
	f("a\x00b\xffc", `a\x00b\xffc`)
	f("line\nnext\ttab\r", `line\nnext\ttab\r`)
	f("\x1b[31mred", `\x1b[31mred`)
	f("\x7f", `\x7f`)
	f("evil\u202egnp.exe", `evil\u202egnp.exe`)
	f("zero\u200bwidth", `zero\u200bwidth`)
	f("\U000e0001tag", `\U000e0001tag`)
	f("\xe2\x82", `\xe2\x82`) // a truncated multi-byte character
	f("\uFFFD", "\uFFFD")     // a real replacement character stays
}

func TestClip(t *testing.T) {
	f := func(in string, n int, want string) {
		t.Helper()
		if got := Clip(in, n); got != want {
			t.Errorf("Clip(%q, %d) = %q; want %q", in, n, got, want)
		}
	}
	f("", 3, "")
	f("abc", 3, "abc")
	f("abcd", 3, "abc…")
	f("ééé", 3, "ééé")
	f("éééé", 3, "ééé…")
	f("日本語テキスト", 2, "日本…")
	f("abc", 0, "")
}

func TestKeysURL(t *testing.T) {
	for _, c := range [][3]string{
		{"", "", "/keys"},
		{"cache", "", "/keys?instance=cache"},
		{"", "a b&c", "/keys?q=a+b%26c"},
		{"x", "q", "/keys?instance=x&q=q"},
	} {
		if got := KeysURL(c[0], c[1]); got != c[2] {
			t.Errorf("KeysURL(%q, %q) = %q; want %q", c[0], c[1], got, c[2])
		}
	}
	if got := RedisInstanceURL("a/b c"); got != "/redis/a%2Fb%20c" {
		t.Errorf("RedisInstanceURL = %q", got)
	}
}
