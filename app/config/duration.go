package config

import (
	"math"
	"strconv"
	"time"
)

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// ParseDuration parses a Go duration string ("300ms", "1m30s", "-1.5h") that may also use the
// units "d" (24h) and "w" (7d), alone or combined: "30d", "1d12h", "2w". A unit is required
// except for "0". The error wraps ErrBadDuration and reads `"5x" is not a duration`.
// It is safe for concurrent use.
func ParseDuration(s string) (time.Duration, error) {
	bad := func() (time.Duration, error) {
		return 0, &FieldError{Reason: strconv.Quote(s) + " is not a duration", Err: ErrBadDuration}
	}
	rest := s
	neg := false
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	if rest == "0" {
		return 0, nil
	}
	if rest == "" {
		return bad()
	}
	var total uint64
	for rest != "" {
		// One segment: a decimal number followed by a unit.
		i := 0
		for i < len(rest) && (rest[i] == '.' || (rest[i] >= '0' && rest[i] <= '9')) {
			i++
		}
		j := i
		for j < len(rest) && rest[j] != '.' && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		if num == "" || num == "." || unit == "" {
			return bad()
		}
		var seg uint64
		switch unit {
		case "d", "w":
			u := uint64(day)
			if unit == "w" {
				u = uint64(week)
			}
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || f*float64(u) >= math.MaxInt64 {
				return bad()
			}
			if n, err := strconv.ParseUint(num, 10, 64); err == nil {
				seg = n * u // exact for whole numbers; bounded by the check above
			} else {
				seg = uint64(f * float64(u))
			}
		default:
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return bad()
			}
			seg = uint64(d)
		}
		if total+seg > math.MaxInt64 {
			return bad()
		}
		total += seg
	}
	if neg {
		return -time.Duration(total), nil
	}
	return time.Duration(total), nil
}

// String formats d compactly so that ParseDuration reads it back: whole weeks as "2w", otherwise
// days, hours, minutes and seconds with zero parts left out: "30d", "1d12h", "1m30s", "100ms",
// "0s".
func (d Duration) String() string {
	if d == 0 {
		return "0s"
	}
	var b []byte
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = -u
	}
	if u%uint64(week) == 0 {
		b = strconv.AppendUint(b, u/uint64(week), 10)
		return string(append(b, 'w'))
	}
	if days := u / uint64(day); days > 0 {
		b = strconv.AppendUint(b, days, 10)
		b = append(b, 'd')
		u %= uint64(day)
	}
	if h := u / uint64(time.Hour); h > 0 {
		b = strconv.AppendUint(b, h, 10)
		b = append(b, 'h')
		u %= uint64(time.Hour)
	}
	if m := u / uint64(time.Minute); m > 0 {
		b = strconv.AppendUint(b, m, 10)
		b = append(b, 'm')
		u %= uint64(time.Minute)
	}
	if u > 0 {
		// Less than a minute: "30s", "1.5s", "100ms", "250µs".
		b = append(b, time.Duration(u).String()...)
	}
	return string(b)
}

// MarshalText implements encoding.TextMarshaler using String.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler using ParseDuration.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
