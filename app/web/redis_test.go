package web

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

func TestAPIInstances(t *testing.T) {
	e := newEnv(t)
	viewer := "Authorization: Basic " + basic("viewer", viewerPass)

	res, body := e.do(nil, "GET", "/api/instances", nil, viewer)
	if res.StatusCode != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("no instances: %d %s, want []", res.StatusCode, body)
	}

	e.fill()
	res, body = e.do(nil, "GET", "/api/instances", nil, viewer)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("instances: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("not a JSON array: %s", err)
	}
	if len(got) != 2 || got[0]["name"] != "cache" || got[1]["name"] != "down" {
		t.Fatalf("instances: %s", body)
	}
	c := got[0]
	for k, want := range map[string]any{"addr": "127.0.0.1:6379", "up": true, "version": "7.2.4", "ops_per_second": 1500.0, "connected_clients": 3.0, "keyspace_hit_ratio": 0.9876} {
		if c[k] != want {
			t.Errorf("cache %s = %v, want %v", k, c[k], want)
		}
	}
	if cl, _ := c["clients"].([]any); len(cl) != 3 {
		t.Errorf("cache clients: %v", c["clients"])
	}
	if got[1]["up"] != false || got[1]["error"] == "" {
		t.Errorf("down: %v", got[1])
	}
	if strings.Contains(strings.ToLower(body), "password") {
		t.Errorf("instances JSON mentions a password")
	}

	f := func(query string, want ...string) {
		t.Helper()
		res, body := e.do(nil, "GET", "/api/instances?"+query, nil, viewer)
		var got []redis.InstanceSnapshot
		if err := json.Unmarshal([]byte(body), &got); res.StatusCode != 200 || err != nil || got == nil {
			t.Fatalf("%s: %d %s", query, res.StatusCode, body)
		}
		var names []string
		for _, in := range got {
			names = append(names, in.Name)
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s: %v, want %v", query, names, want)
		}
	}
	f("name=cache", "cache")
	f("name=down", "down")
	f("name=nope")
	f("name=", "cache", "down")
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	viewer := "Authorization: Basic " + basic("viewer", viewerPass)
	type resp struct {
		Keys     []redis.KeySnapshot
		Patterns []redis.PatternSnapshot
		Total    int
	}
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
	if r.Total != 5 || len(r.Keys) != 5 || len(r.Patterns) != 1 || r.Patterns[0].Pattern != "session:*" {
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

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
