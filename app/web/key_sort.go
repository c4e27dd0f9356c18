package web

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/redwatch/redwatch/app/keytrend"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/views/partials"
)

// sortKeys orders keys by col (a partials.KeySort* column). Keys without a value for col
// (missing, never sampled, no change known) come last in either direction; ties go by name.
// changes is needed for KeySortChange only.
func sortKeys(keys []redis.KeySnapshot, col string, desc bool, changes map[keytrend.Key]keytrend.Trend) []*redis.KeySnapshot {
	out := make([]*redis.KeySnapshot, len(keys))
	for i := range keys {
		out[i] = &keys[i]
	}
	switch col {
	case partials.KeySortName:
		cmpName := compareKeyNames
		if desc {
			cmpName = func(a, b *redis.KeySnapshot) int { return compareKeyNames(b, a) }
		}
		if !slices.IsSortedFunc(out, cmpName) { // the source's order is by name already
			slices.SortFunc(out, cmpName)
		}
		return out
	case partials.KeySortType:
		slices.SortFunc(out, func(a, b *redis.KeySnapshot) int {
			if (a.Type == "") != (b.Type == "") {
				return cmpMissing(a.Type == "")
			}
			c := strings.Compare(a.Type, b.Type)
			if desc {
				c = -c
			}
			return cmp.Or(c, compareKeyNames(a, b))
		})
		return out
	}
	type sortable struct {
		k  *redis.KeySnapshot
		v  float64
		ok bool
	}
	rows := make([]sortable, len(out))
	for i, k := range out {
		rows[i].k = k
		rows[i].v, rows[i].ok = sortValue(k, col, changes)
	}
	slices.SortFunc(rows, func(a, b sortable) int {
		if a.ok != b.ok {
			return cmpMissing(!a.ok)
		}
		if !a.ok {
			return compareKeyNames(a.k, b.k)
		}
		c := cmp.Compare(a.v, b.v)
		if desc {
			c = -c
		}
		return cmp.Or(c, compareKeyNames(a.k, b.k))
	})
	for i := range rows {
		out[i] = rows[i].k
	}
	return out
}

// cmpMissing orders a key without a value (aMissing) after one with.
func cmpMissing(aMissing bool) int {
	if aMissing {
		return 1
	}
	return -1
}

// compareKeyNames orders by instance, then key, then db.
func compareKeyNames(a, b *redis.KeySnapshot) int {
	return cmp.Or(strings.Compare(a.Instance, b.Instance), strings.Compare(a.Key, b.Key), cmp.Compare(a.DB, b.DB))
}

// sortValue is k's value in a numeric column; ok is false when it has none.
func sortValue(k *redis.KeySnapshot, col string, changes map[keytrend.Key]keytrend.Trend) (v float64, ok bool) {
	switch col {
	case partials.KeySortLength:
		return float64(k.Length), k.Exists && k.HasLength
	case partials.KeySortMemory:
		return float64(k.MemoryBytes), k.Exists && k.MemoryBytes > 0
	case partials.KeySortTTL:
		if k.TTLSeconds == -1 {
			return 1e300, k.Exists // no expiry lives longest
		}
		return k.TTLSeconds, k.Exists && k.TTLSeconds >= 0
	case partials.KeySortChange:
		t := changes[snapshotKey(k)]
		return t.Change(), t.OK
	}
	panic(fmt.Sprintf("BUG: no sort value for column %q", col))
}
