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
