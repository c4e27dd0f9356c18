package config

import (
	"errors"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	f := func(s string, want time.Duration) {
		t.Helper()
		got, err := ParseDuration(s)
		if err != nil {
			t.Fatalf("ParseDuration(%q): unexpected error: %s", s, err)
		}
		if got != want {
			t.Fatalf("ParseDuration(%q) = %s; want %s", s, got, want)
		}
	}
	f("0", 0)
	f("0s", 0)
	f("90s", 90*time.Second)
	f("1m30s", 90*time.Second)
	f("100ms", 100*time.Millisecond)
	f("1.5h", 90*time.Minute)
	f("250µs", 250*time.Microsecond)
	f("30d", 30*24*time.Hour)
	f("2w", 14*24*time.Hour)
	f("1d12h", 36*time.Hour)
	f("1.5d", 36*time.Hour)
	f("1w2d3h4m5s", (7+2)*24*time.Hour+3*time.Hour+4*time.Minute+5*time.Second)
	f("-1d", -24*time.Hour)
	f("+2h", 2*time.Hour)
	f("106751d", 106751*24*time.Hour) // near the int64 limit
}

func TestParseDurationError(t *testing.T) {
	f := func(s string) {
		t.Helper()
		_, err := ParseDuration(s)
		if err == nil {
			t.Fatalf("ParseDuration(%q): expected an error", s)
		}
		if !errors.Is(err, ErrBadDuration) {
			t.Fatalf("ParseDuration(%q): error %q does not wrap ErrBadDuration", s, err)
		}
		if want := `"` + s + `" is not a duration`; err.Error() != want {
			t.Fatalf("ParseDuration(%q): error %q; want %q", s, err, want)
		}
	}
	f("")
	f("5x")
	f("10")
	f("d")
	f("1d2")
	f(".d")
	f("1..5d")
	f("-")
	f("1 d")
	f(" 1d")
	f("1D")
	f("abc")
	f("106752d")           // overflows int64 nanoseconds
	f("9999999999999999w") // overflows
	f("106751d24h")        // overflows in the sum
}

func TestDurationString(t *testing.T) {
	f := func(d time.Duration, want string) {
		t.Helper()
		got := Duration(d).String()
		if got != want {
			t.Fatalf("Duration(%s).String() = %q; want %q", d, got, want)
		}
		back, err := ParseDuration(got)
		if err != nil {
			t.Fatalf("ParseDuration(%q): %s", got, err)
		}
		if back != d {
			t.Fatalf("ParseDuration(%q) = %s; want %s", got, back, d)
		}
	}
	f(0, "0s")
	f(30*24*time.Hour, "30d")
	f(14*24*time.Hour, "2w")
	f(36*time.Hour, "1d12h")
	f(90*time.Second, "1m30s")
	f(time.Hour, "1h")
	f(time.Hour+30*time.Second, "1h30s")
	f(time.Hour+500*time.Millisecond, "1h500ms")
	f(100*time.Millisecond, "100ms")
	f(1500*time.Millisecond, "1.5s")
	f(time.Microsecond, "1µs")
	f(-90*time.Second, "-1m30s")
	f(-14*24*time.Hour, "-2w")
	f(8*24*time.Hour+time.Nanosecond, "8d1ns")
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("1d12h")); err != nil {
		t.Fatalf("UnmarshalText: %s", err)
	}
	if d.Std() != 36*time.Hour {
		t.Fatalf("UnmarshalText: got %s; want 36h", d.Std())
	}
	b, err := d.MarshalText()
	if err != nil || string(b) != "1d12h" {
		t.Fatalf("MarshalText = %q, %v; want %q", b, err, "1d12h")
	}
	if err := d.UnmarshalText([]byte("5x")); !errors.Is(err, ErrBadDuration) {
		t.Fatalf("UnmarshalText(5x): got %v; want ErrBadDuration", err)
	}
	if d.Std() != 36*time.Hour {
		t.Fatalf("a failed UnmarshalText changed the value to %s", d.Std())
	}
}
