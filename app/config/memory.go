package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Memory budget (storage.memory_limit).
const (
	// DefaultMemoryLimitBytes is the budget when storage.memory_limit is empty: redwatch's Go
	// memory limit as before the key existed (GOMEMLIMIT, when set, then wins).
	DefaultMemoryLimitBytes = 512 << 20
	// MinMemoryLimitBytes is the smallest storage.memory_limit accepted: below it the storage
	// caches (half of the budget) are too small to hold the host and one instance's series.
	MinMemoryLimitBytes = 64 << 20
)

// byteUnits are the suffixes ParseBytes accepts, longest first.
var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseBytes reads a size: a whole number of bytes ("536870912") or a number with one of the
// units B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), such as
// "512MiB" or "1.5GiB". The result is rounded down to whole bytes and must be positive.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || f*float64(mult) >= 1<<62 {
		return 0, fmt.Errorf("%q is not a size such as 536870912, \"512MiB\" or \"2GB\"", s)
	}
	return int64(f * float64(mult)), nil
}

// MemoryLimitBytes is the memory budget storage.memory_limit sets, or
// DefaultMemoryLimitBytes when it is empty; set says whether the key was. Call it on a
// validated config (Validate rejects what it cannot parse); an unparsable value yields the
// default.
func (s Storage) MemoryLimitBytes() (n int64, set bool) {
	if strings.TrimSpace(s.MemoryLimit) == "" {
		return DefaultMemoryLimitBytes, false
	}
	n, err := ParseBytes(s.MemoryLimit)
	if err != nil {
		return DefaultMemoryLimitBytes, false
	}
	return n, true
}

func (s *Storage) validateMemoryLimit(l *errorList) {
	if strings.TrimSpace(s.MemoryLimit) == "" {
		return
	}
	n, err := ParseBytes(s.MemoryLimit)
	if err != nil {
		l.add("storage.memory_limit", ErrInvalid, err.Error())
		return
	}
	if n < MinMemoryLimitBytes {
		l.add("storage.memory_limit", ErrInvalid, fmt.Sprintf("must be at least 64MiB (%d bytes), got %d bytes", int64(MinMemoryLimitBytes), n))
	}
}
