package web

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	e := newSnapshotEnv(t)
	viewer := "Authorization: Basic " + basic("viewer", viewerPass)
	type resp = keysResponse
	get := func(query string) (resp, string) {
		t.Helper()
		res, body := e.do(nil, "GET", "/api/keys?"+query, nil, viewer)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", query, res.StatusCode, body)
		}
		var r resp
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("%s: not JSON: %s", query, err)
		}
		return r, body
	}

	r, body := get("")
	if r.Total != 0 || !strings.Contains(body, `"keys":[]`) || !strings.Contains(body, `"patterns":[]`) {
		t.Fatalf("no keys: %s", body)
	}

	e.fill()
	r, body = get("")
	if r.Total != 5 || len(r.Keys) != 5 || len(r.Patterns) != 1 || r.Patterns[0].Pattern != "session:*" || r.Patterns[0].MatchedKeys != 5 {
		t.Fatalf("all keys: %s", body)
	}
	if r.Keys[0].Key != hostileKey || r.Keys[0].ID == "" || r.Keys[0].Type != "string" {
		t.Errorf("first key: %+v", r.Keys[0])
	}
	f := func(query string, total int, want ...string) {
		t.Helper()
		r, body := get(query)
		var keys []string
		for _, k := range r.Keys {
			keys = append(keys, k.Instance+"/"+k.Key)
		}
		if r.Total != total || !slices.Equal(keys, want) {
			t.Errorf("%s: total %d keys %q, want %d %q (%.200s)", query, r.Total, keys, total, want, body)
		}
	}
	f("instance=down", 1, "down/queue:emails")
	f("q=queue", 2, "cache/queue:Emails", "down/queue:emails")
	f("q=EMAILS&instance=cache", 1, "cache/queue:Emails")
	f("q=nothing-like-this", 0)
	f("limit=2", 5, "cache/"+hostileKey, "cache/gone")
	f("limit=2&offset=3", 5, "cache/queue:Emails", "down/queue:emails")
	f("offset=10", 5)
	f("limit=0", 5)
	if r, _ := get("instance=down"); len(r.Patterns) != 0 {
		t.Errorf("patterns not filtered by instance: %+v", r.Patterns)
	}

	for _, bad := range []string{"limit=x", "limit=-1", "offset=-5", "offset=1.5"} {
		res, body := e.do(nil, "GET", "/api/keys?"+bad, nil, viewer)
		if res.StatusCode != 400 || decode(t, body)["error"] == "" {
			t.Errorf("%s: %d %s, want 400 with a reason", bad, res.StatusCode, body)
		}
	}

	// Limit: default 1000, at most 10000.
	many := make([]redis.KeySnapshot, 10050)
	for i := range many {
		many[i] = key("cache", fmt.Sprintf("k%05d", i), "string", 1)
	}
	e.redis.set(nil, many, nil)
	if r, _ := get(""); r.Total != 10050 || len(r.Keys) != 1000 {
		t.Errorf("default limit: total %d, %d keys", r.Total, len(r.Keys))
	}
	if r, _ := get("limit=20000"); r.Total != 10050 || len(r.Keys) != 10000 {
		t.Errorf("limit cap: total %d, %d keys", r.Total, len(r.Keys))
	}
}

// Key and pattern snapshots map to the documented JSON field by field: units in the names,
// times in UTC, null where the snapshot does not know a value.
func TestKeyJSON(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 2, 5, 0, 0, 0, time.FixedZone("CET", 3600))
	f := func(k redis.KeySnapshot, want string) {
		t.Helper()
		b, err := json.Marshal(newKeyJSON(&k))
		if err != nil || string(b) != want {
			t.Errorf("JSON of %s:\n got %s (%v)\nwant %s", k.Key, b, err, want)
		}
	}
	f(redis.KeySnapshot{ID: "0123456789abcdef", Instance: "cache", DB: 2, Key: "events", Pattern: "ev*", Type: "stream",
		Interval: 5 * time.Second, Exists: true, Length: 3, HasLength: true, MemoryBytes: 1024, TTLSeconds: -1,
		Groups:      []redis.StreamGroup{{Name: "g1", Consumers: 2, Pending: 1, Lag: 4}, {Name: "g2", Lag: -1}},
		LastSampled: at},
		`{"id":"0123456789abcdef","instance":"cache","db":2,"key":"events","pattern":"ev*","type":"stream","interval_seconds":5,`+
			`"exists":true,"length":3,"memory_bytes":1024,"ttl_seconds":-1,"groups":[{"name":"g1","consumers":2,"pending":1,"lag":4},`+
			`{"name":"g2","consumers":0,"pending":0,"lag":null}],"last_sampled_at":"2026-12-02T04:00:00Z"}`)
	// A missing key: no length, memory or TTL; a key with a shortened label and an error.
	f(redis.KeySnapshot{ID: "fedcba9876543210", Instance: "cache", Key: "gone", KeyLabel: "gone~1", Type: "none",
		Interval: 10 * time.Second, TTLSeconds: -2, LastSampled: at, Error: "WRONGTYPE"},
		`{"id":"fedcba9876543210","instance":"cache","db":0,"key":"gone","key_label":"gone~1","type":"none","interval_seconds":10,`+
			`"exists":false,"length":null,"memory_bytes":null,"ttl_seconds":null,"last_sampled_at":"2026-12-02T04:00:00Z","error":"WRONGTYPE"}`)
	f(redis.KeySnapshot{ID: "1", Instance: "cache", Key: "new", Type: "none"},
		`{"id":"1","instance":"cache","db":0,"key":"new","type":"none","interval_seconds":0,"exists":false,"length":null,`+
			`"memory_bytes":null,"ttl_seconds":null,"last_sampled_at":null}`)

	p := redis.PatternSnapshot{Instance: "cache", DB: 1, Pattern: "session:*", Matched: 5, Tracked: 2, MaxKeys: 1000, LengthSum: 99, LastScan: at}
	want := `{"instance":"cache","db":1,"pattern":"session:*","matched_keys":5,"tracked_keys":2,"max_keys":1000,"length_sum":99,"last_scan_at":"2026-12-02T04:00:00Z"}`
	if b, err := json.Marshal(newPatternJSON(&p)); err != nil || string(b) != want {
		t.Errorf("JSON of a pattern:\n got %s (%v)\nwant %s", b, err, want)
	}
	p = redis.PatternSnapshot{Instance: "cache", Pattern: "x:*", MaxKeys: 10, Error: "SCAN refused"}
	want = `{"instance":"cache","db":0,"pattern":"x:*","matched_keys":0,"tracked_keys":0,"max_keys":10,"length_sum":0,"last_scan_at":null,"error":"SCAN refused"}`
	if b, err := json.Marshal(newPatternJSON(&p)); err != nil || string(b) != want {
		t.Errorf("JSON of a pattern never scanned:\n got %s (%v)\nwant %s", b, err, want)
	}
}
