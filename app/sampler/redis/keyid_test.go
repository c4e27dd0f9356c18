package redis

import "testing"

// TestKeyIDIsStable: /keys/{id} URLs outlive a release, so the id is pinned to its definition
// (the first 16 hex digits of SHA-256 over instance, 0, db, 0, key; values from Python's
// hashlib), binary key bytes included.
func TestKeyIDIsStable(t *testing.T) {
	for _, tc := range []struct {
		instance string
		db       int
		key, id  string
	}{
		{"main", 0, "queue:jobs", "31af790b630ef44e"},
		{"cache", 3, "\xff\x00k", "da86160e8de43860"},
	} {
		if got := KeyID(tc.instance, tc.db, tc.key); got != tc.id {
			t.Errorf("KeyID(%q, %d, %q) = %s, want %s", tc.instance, tc.db, tc.key, got, tc.id)
		}
	}
}
