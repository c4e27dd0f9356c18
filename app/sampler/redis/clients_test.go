package redis

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/internal/testutil"
)

func TestClientListRealRedis(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Three named connections: two "worker", one "web".
	for _, name := range []string{"worker", "worker", "web"} {
		conn := c.Conn()
		t.Cleanup(func() { conn.Close() })
		if err := conn.ClientSetName(ctx, name).Err(); err != nil {
			t.Fatalf("CLIENT SETNAME %s: %v", name, err)
		}
	}
	// One raw connection that never sends a command: unnamed, idle.
	idle, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatalf("cannot dial: %v", err)
	}
	defer idle.Close()
	// The server's own clock has to pass a second for the idle connection to show idle >= 1.
	var text string
	var now time.Time
	testutil.Eventually(t, 5*time.Second, "the raw connection idle for 1 s", func() (bool, string) {
		text, err = c.ClientList(ctx).Result()
		if err != nil {
			t.Fatalf("CLIENT LIST: %v", err)
		}
		now = time.Now()
		for _, cl := range parseClientList(text, now) {
			if cl.Addr == idle.LocalAddr().String() {
				return cl.IdleSeconds >= 1, text
			}
		}
		return false, text
	})
	clients := parseClientList(text, now)
	if want := strings.Count(strings.TrimSpace(text), "\n") + 1; len(clients) != want {
		t.Fatalf("parsed %d clients from %d lines:\n%s", len(clients), want, text)
	}
	names := map[string]int{}
	var idleClient *Client
	for i, cl := range clients {
		names[cl.Name]++
		if i > 0 && clients[i-1].ID >= cl.ID {
			t.Fatalf("clients not sorted by ID: %d then %d", clients[i-1].ID, cl.ID)
		}
		if cl.ID <= 0 || cl.Addr == "" || cl.User != "default" || cl.Flags == "" || cl.MemoryBytes <= 0 || cl.Cmd == "" {
			t.Fatalf("client %+v", cl)
		}
		if cl.Age != time.Duration(cl.AgeSeconds)*time.Second || cl.Idle != time.Duration(cl.IdleSeconds)*time.Second ||
			cl.IdleSeconds > cl.AgeSeconds || !cl.LastActive.Equal(now.Add(-cl.Idle)) {
			t.Fatalf("client times %+v (now %v)", cl, now)
		}
		if cl.Addr == idle.LocalAddr().String() {
			idleClient = &clients[i]
		}
	}
	if names["worker"] != 2 || names["web"] != 1 || names[""] != 2 { // "": the idle one and the CLIENT LIST caller
		t.Fatalf("names = %v", names)
	}
	if idleClient == nil {
		t.Fatalf("idle connection %s not listed:\n%s", idle.LocalAddr(), text)
	}
	if idleClient.IdleSeconds < 1 || idleClient.Name != "" || idleClient.Cmd != "NULL" || !idleClient.LastActive.Before(now) {
		t.Fatalf("idle client = %+v", *idleClient)
	}

	const ts = 99
	m := infoTestSeries(t, clientSamples(nil, "cache", ts, clients), "cache", ts)
	want := map[string]float64{
		`redis_clients_by_name{client_name="worker"}`: 2,
		`redis_clients_by_name{client_name=""}`:       2,
		`redis_clients_by_name{client_name="web"}`:    1,
		`redis_clients_idle{over="1m"}`:               0,
		`redis_clients_idle{over="10m"}`:              0,
		`redis_client_output_buffer_max_bytes`:        0, // every reply read
	}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Fatalf("series = %v\nwant %v", m, want)
	}
}

func TestParseClientList(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := func(text string, want []Client) {
		t.Helper()
		got := parseClientList(text, now)
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Fatalf("parseClientList(%q)\n got %+v\nwant %+v", text, got, want)
		}
	}
	f("", nil)
	f("\r\n\n", nil)
	// Redis 7 line, CRLF, unknown fields ignored; Redis 4 line without user/tot-mem.
	f("id=9 addr=10.0.0.1:5000 laddr=10.0.0.9:6379 fd=8 name=api age=100 idle=30 flags=N db=2 sub=0 psub=0 "+
		"multi=-1 qbuf=26 qbuf-free=0 argv-mem=0 obl=0 oll=3 omem=4096 tot-mem=20512 events=r cmd=get user=app redir=-1 resp=3\r\n"+
		"id=3 addr=[::1]:4000 fd=9 name= age=5 idle=5 flags=N db=0 cmd=NULL\n",
		[]Client{
			{ID: 3, Addr: "[::1]:4000", Age: 5 * time.Second, Idle: 5 * time.Second, AgeSeconds: 5, IdleSeconds: 5,
				Cmd: "NULL", Flags: "N", LastActive: now.Add(-5 * time.Second)},
			{ID: 9, Addr: "10.0.0.1:5000", Name: "api", User: "app", Age: 100 * time.Second, Idle: 30 * time.Second,
				AgeSeconds: 100, IdleSeconds: 30, DB: 2, Cmd: "get", Flags: "N", MemoryBytes: 20512, OutputBufferBytes: 4096, QueryBufferBytes: 26,
				LastActive: now.Add(-30 * time.Second)},
		})
	// Malformed lines are skipped, the good one kept.
	f("garbage\n"+
		"id=x addr=a\n"+
		"addr=no-id age=1\n"+
		"id=5 age=abc\n"+
		"id=6 idle=-\n"+
		"id=7 stray name=x\n"+
		"id=8 tot-mem=1.5\n"+
		"id=9 omem=-\n"+
		"id=11 qbuf=x\n"+
		"id=10 name=ok future-field=1",
		[]Client{{ID: 10, Name: "ok", LastActive: now}})
}

func TestClientSamplesCapAndIdle(t *testing.T) {
	// 60 distinct names: n00..n09 twice each, n10..n59 once; plus 3 unnamed clients.
	var b strings.Builder
	id := 1
	line := func(name string, idle int) {
		omem := 10 * id
		if id == 3 { // n01: the biggest
			omem = 16384
		}
		fmt.Fprintf(&b, "id=%d addr=10.0.0.1:%d name=%s age=1000 idle=%d flags=N db=0 omem=%d cmd=get\n", id, 1000+id, name, idle, omem)
		id++
	}
	for i := range 60 {
		line(fmt.Sprintf("n%02d", i), 0)
		if i < 10 {
			line(fmt.Sprintf("n%02d", i), 0)
		}
	}
	line("", 60)  // not over 1m
	line("", 61)  // over 1m
	line("", 601) // over 1m and 10m
	clients := parseClientList(b.String(), time.Unix(5000, 0))
	if len(clients) != 73 {
		t.Fatalf("parsed %d clients, want 73", len(clients))
	}

	const ts = 5
	samples := clientSamples(nil, "x", ts, clients)
	m := infoTestSeries(t, samples, "x", ts)
	want := map[string]float64{
		`redis_clients_by_name{client_name=""}`:        3,
		`redis_clients_by_name{client_name="(other)"}`: 11, // n49..n59: after n00..n09 (2 each), "" (3) and n10..n48
		`redis_clients_idle{over="1m"}`:                2,
		`redis_clients_idle{over="10m"}`:               1,
		`redis_client_output_buffer_max_bytes`:         16384,
	}
	for i := range 49 {
		want[fmt.Sprintf(`redis_clients_by_name{client_name="n%02d"}`, i)] = map[bool]float64{true: 2, false: 1}[i < 10]
	}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Fatalf("series = %v\nwant %v", m, want)
	}
	named := 0
	for _, s := range samples {
		if s.Name == "redis_clients_by_name" {
			named++
		}
	}
	if named != maxClientNames+1 {
		t.Fatalf("%d redis_clients_by_name series, want %d names + (other)", named, maxClientNames)
	}

	// A client really named "(other)" is counted once, in the bucket; no clients: zeros only.
	m = infoTestSeries(t, clientSamples(nil, "x", ts, []Client{{Name: "(other)"}, {Name: "a"}}), "x", ts)
	if m[`redis_clients_by_name{client_name="(other)"}`] != 1 || m[`redis_clients_by_name{client_name="a"}`] != 1 || len(m) != 5 {
		t.Fatalf("series = %v", m)
	}
	// redwatch's own connection (holding its round's replies) is not the biggest buffer.
	own := []Client{{Name: "redwatch", Redwatch: true, OutputBufferBytes: 1 << 20}, {OutputBufferBytes: 512}}
	if v := infoTestSeries(t, clientSamples(nil, "x", ts, own), "x", ts)["redis_client_output_buffer_max_bytes"]; v != 512 {
		t.Fatalf("redis_client_output_buffer_max_bytes = %v, want 512", v)
	}
	m = infoTestSeries(t, clientSamples(nil, "x", ts, nil), "x", ts)
	if fmt.Sprint(m) != fmt.Sprint(map[string]float64{`redis_clients_idle{over="10m"}`: 0, `redis_clients_idle{over="1m"}`: 0,
		`redis_client_output_buffer_max_bytes`: 0}) {
		t.Fatalf("series = %v", m)
	}
}
