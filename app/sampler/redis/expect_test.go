package redis

import (
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
)

// TestKeyExpectExists: redis_key_exists carries expect_exists="true" exactly when a key's
// absence is an alarm — expect_exists = true always, false never, unset by the last known type
// (string, stream, HyperLogLog yes; list, set, zset, hash and never-seen keys no) — before and
// after the key disappears; pattern keys never carry it, not even when they vanish.
func TestKeyExpectExists(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	yes, no := true, false
	exact := func(key string, expect *bool) config.Key {
		k := keyTestExact(key, time.Second)
		k.ExpectExists = expect
		return k
	}
	keyTestDo(t, c, "set", "str", "v")
	keyTestDo(t, c, "set", "str-off", "v")
	keyTestDo(t, c, "xadd", "stream", "*", "f", "v")
	keyTestDo(t, c, "pfadd", "hll", "a")
	keyTestDo(t, c, "rpush", "queue", "a")
	keyTestDo(t, c, "rpush", "queue-on", "a")
	keyTestDo(t, c, "sadd", "set", "a")
	keyTestDo(t, c, "zadd", "zset", "1", "a")
	keyTestDo(t, c, "hset", "hash", "f", "v")
	keyTestDo(t, c, "set", "p:1", "v")
	keys := []config.Key{
		exact("str", nil), exact("str-off", &no), exact("stream", nil), exact("hll", nil),
		exact("queue", nil), exact("queue-on", &yes), exact("set", nil), exact("zset", nil), exact("hash", nil),
		exact("never", nil), exact("never-on", &yes),
		keyTestPattern("p:*", time.Second, 10),
	}
	want := map[string]bool{"str": true, "str-off": false, "stream": true, "hll": true, "queue": false,
		"queue-on": true, "set": false, "zset": false, "hash": false, "never": false, "never-on": true, "p:1": false}
	k, w, _ := newKeyTestSampler(t, c, keys, nil)

	check := func(round string, exists float64) {
		t.Helper()
		samples := w.take()
		for key, expect := range want {
			got := keyTestFind(samples, "redis_key_exists", "key", key)
			if len(got) != 1 {
				t.Fatalf("%s: %d redis_key_exists samples for %s, want 1", round, len(got), key)
			}
			if v := keyTestLabel(got[0], "expect_exists"); (v == "true") != expect || (v != "" && v != "true") {
				t.Errorf("%s: %s has expect_exists=%q, want it %v", round, key, v, expect)
			}
			if e := exists; key != "never" && key != "never-on" && got[0].Value != e {
				t.Errorf("%s: %s exists = %v, want %v", round, key, got[0].Value, e)
			}
			for _, name := range []string{"redis_key_length", "redis_key_ttl_seconds"} {
				for _, s := range keyTestFind(samples, name, "key", key) {
					if keyTestLabel(s, "expect_exists") != "" {
						t.Errorf("%s: %s of %s has expect_exists", round, name, key)
					}
				}
			}
		}
	}
	keyTestScan(t, k, keyTestAt(0))
	keyTestSample(t, k, keyTestAt(0))
	check("present", 1)

	for key := range want {
		if key != "never" && key != "never-on" {
			keyTestDo(t, c, "del", key)
		}
	}
	keyTestScan(t, k, keyTestAt(61)) // the pattern's scan finds p:1 gone: exists 0 once
	keyTestSample(t, k, keyTestAt(61))
	check("deleted", 0)
}
