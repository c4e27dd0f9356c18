package web

import (
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// ?sort=buffers puts the clients with the biggest output + query buffers first and shows both.
func TestRedisClientsSortByBuffers(t *testing.T) {
	t.Parallel()
	e := newSnapshotEnv(t)
	now := time.Now()
	in := redis.InstanceSnapshot{Name: "cache", Addr: "127.0.0.1:6379", Interval: 10 * time.Second, Up: true, LastSeen: now, LastRunAt: now,
		Clients: []redis.Client{
			{ID: 1, Addr: "10.0.0.1:1", OutputBufferBytes: 0, QueryBufferBytes: 10},
			{ID: 2, Addr: "10.0.0.2:1", OutputBufferBytes: 8 << 20},
			{ID: 3, Addr: "10.0.0.3:1", QueryBufferBytes: 1 << 20, OutputBufferBytes: 1024},
		}}
	e.redis.set([]redis.InstanceSnapshot{in}, nil, nil)
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/redis/cache?sort=buffers", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("%d", res.StatusCode)
	}
	doc := parse(t, body)
	var ids []string
	for _, r := range find(doc, "client-row") {
		ids = append(ids, attr(r, "data-client-id"))
	}
	if strings.Join(ids, ",") != "2,3,1" {
		t.Fatalf("order %v, want 2,3,1 (biggest buffers first)", ids)
	}
	if got := strings.Join(strings.Fields(text(one(t, find(doc, "client-row")[1], "client-buffers"))), " "); !strings.Contains(got, "1.0 KiB") || !strings.Contains(got, "1.0 MiB") {
		t.Errorf("buffers cell %q", got)
	}
	if got := attr(one(t, doc, "sort-buffers").Parent, "aria-sort"); got != "descending" {
		t.Errorf("aria-sort %q", got)
	}
}
