package redis

import (
	"context"
	"fmt"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
)

// ownTestStats reads total_commands_processed, keyspace_hits and keyspace_misses.
func ownTestStats(t *testing.T, c *goredis.Client) [3]int64 {
	t.Helper()
	text, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	in := parseInfo(text)
	var out [3]int64
	for i, k := range []string{"total_commands_processed", "keyspace_hits", "keyspace_misses"} {
		v, ok := in.int(k)
		if !ok {
			t.Fatalf("INFO stats has no %s", k)
		}
		out[i] = v
	}
	return out
}

// TestOwnLookupRules measures, against the real redis-server, what each command redwatch
// sends (and the ways it can fail) adds to total_commands_processed, keyspace_hits and
// keyspace_misses, and checks that ownTracker counts exactly that: which commands Redis
// processes (rejections before execution are not counted), which look keys up, and whether a
// lookup was a hit or a miss — for present, empty, missing and wrong-type keys.
func TestOwnLookupRules(t *testing.T) {
	srv := redistest.Start(t, "--user", "mon", "on", ">pw", "+@read", "+info", "+ping", "+client|list")
	ctx := context.Background()
	// One connection per client (no separate pipeline pool): nothing dials while measuring.
	c := srv.Client(func(o *goredis.Options) { o.PipelinePoolSize, o.PoolSize = -1, 1 })
	mon := srv.Client(func(o *goredis.Options) { o.Username, o.Password, o.PipelinePoolSize, o.PoolSize = "mon", "pw", -1, 1 })
	setup := [][]any{
		{"set", "s", "hello"}, {"set", "e", ""}, {"rpush", "l", "a", "b"}, {"sadd", "st", "a"},
		{"zadd", "z", "1", "a"}, {"hset", "h", "f", "v"}, {"xadd", "x", "*", "f", "v"},
		{"xgroup", "create", "x", "g", "0"}, {"xadd", "ex", "*", "f", "v"}, {"xtrim", "ex", "maxlen", "0"},
		{"pfadd", "hl", "a", "b"}, {"pfadd", "he"}, {"set", "ttl", "v", "EX", "1000"},
	}
	for _, a := range setup {
		if err := c.Do(ctx, a...).Err(); err != nil {
			t.Fatalf("%v: %v", a, err)
		}
	}
	i := func(args ...any) goredis.Cmder { return goredis.NewIntCmd(ctx, args...) }
	str := func(args ...any) goredis.Cmder { return goredis.NewStringCmd(ctx, args...) }
	st := func(args ...any) goredis.Cmder { return goredis.NewStatusCmd(ctx, args...) }
	any_ := func(args ...any) goredis.Cmder { return goredis.NewCmd(ctx, args...) }
	cases := []struct {
		name   string
		client *goredis.Client
		cmds   []goredis.Cmder
	}{}
	add := func(name string, cmds ...goredis.Cmder) {
		cases = append(cases, struct {
			name   string
			client *goredis.Client
			cmds   []goredis.Cmder
		}{name, c, cmds})
	}
	for _, k := range []string{"s", "e", "l", "st", "z", "h", "x", "ex", "hl", "he", "ttl", "nokey"} {
		add("type "+k, st("type", k))
		add("pttl "+k, i("pttl", k))
		add("type+getrange "+k, st("type", k), str("getrange", k, 0, 3))
		add("memory usage "+k, i("memory", "usage", k, "samples", 5))
	}
	for cmd, keys := range map[string][]string{
		"llen": {"l", "nokey", "s"}, "scard": {"st", "nokey", "l"}, "zcard": {"z", "nokey", "s"},
		"hlen": {"h", "nokey", "s"}, "strlen": {"s", "e", "nokey", "l"}, "xlen": {"x", "ex", "nokey", "s"},
		"pfcount": {"hl", "he", "nokey", "s"},
	} {
		for _, k := range keys {
			add(cmd+" "+k+" +pttl", i(cmd, k), i("pttl", k))
			add("pttl+"+cmd+" "+k, i("pttl", k), i(cmd, k))
		}
	}
	add("strlen e alone", i("strlen", "e")) // no other reply: counted as the hit it is
	for _, k := range []string{"x", "nokey", "s"} {
		add("xinfo groups "+k, any_("xinfo", "groups", k))
	}
	for _, k := range []string{"s", "hl", "nokey"} {
		add("object encoding "+k, str("object", "encoding", k))
	}
	add("scan", any_("scan", 0, "match", "*", "count", 1000))
	add("ping", st("ping"))
	add("info", str("info", "all"))
	add("client list", str("client", "list"))
	add("client setname", st("client", "setname", "x"))
	add("slowlog get", any_("slowlog", "get", 128))
	add("slowlog len", any_("slowlog", "len"))
	add("select", st("select", 0))
	add("hello", any_("hello", 2))
	add("auth wrong", st("auth", "mon", "wrong"))
	add("unknown command", any_("nosuchcommand", "x"))
	add("unknown subcommand", any_("memory", "nosuch"))
	add("wrong arity", any_("type"))
	add("syntax error", any_("scan", 0, "bogus"))
	for _, cmds := range [][]goredis.Cmder{
		{st("client", "setname", "x")}, {st("select", 0)}, {any_("slowlog", "len")},
		{st("type", "s")}, {i("pttl", "nokey"), i("llen", "l")}, // no key permissions
		{st("ping"), any_("scan", 0)},
	} {
		cases = append(cases, struct {
			name   string
			client *goredis.Client
			cmds   []goredis.Cmder
		}{"as mon: " + cmds[0].Name(), mon, cmds})
	}

	for _, tc := range cases {
		_ = tc.client.Ping(ctx) // connect (and AUTH) before measuring
		before := ownTestStats(t, c)
		pipe := tc.client.Pipeline()
		for _, cmd := range tc.cmds {
			_ = pipe.Process(ctx, cmd)
		}
		_, _ = pipe.Exec(ctx)
		after := ownTestStats(t, c)
		real := [3]int64{after[0] - before[0] - 1, after[1] - before[1], after[2] - before[2]} // -1: the first INFO
		var o ownTracker
		o.count(tc.cmds)
		got := [3]int64{o.commands.Load(), o.hits.Load(), o.misses.Load()}
		if got != real {
			var replies []string
			for _, cmd := range tc.cmds {
				replies = append(replies, fmt.Sprintf("%v -> %.60q", cmd.Args(), strings.TrimSpace(cmd.String())))
			}
			t.Errorf("%s: counted commands/hits/misses %v, Redis counted %v\n%s", tc.name, got, real, strings.Join(replies, "\n"))
		}
	}
}

// TestOwnTrackerCountsConnectionSetup: the sampler's client counts its connection set-up
// (HELLO with AUTH, SELECT, CLIENT SETNAME from onConnect) exactly as Redis does, and its open
// connections.
func TestOwnTrackerCountsConnectionSetup(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "pw")
	ctx := context.Background()
	probe := srv.Client(func(o *goredis.Options) { o.Password = "pw" })
	if err := probe.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	s, _, _ := newTestInstance(t, srv.Addr(), func(r *config.Redis) { r.Password, r.DB = "pw", 1 }, nil)
	before := ownTestStats(t, probe)
	if err := s.client.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	after := ownTestStats(t, probe)
	real := after[0] - before[0] - 1                            // -1: the first INFO
	if got := s.own.commands.Load(); got != real || real != 4 { // HELLO, SELECT, CLIENT SETNAME, PING
		t.Fatalf("commands: counted %d, Redis %d, want 4", got, real)
	}
	if s.own.Conns() != 1 || s.own.written.Load() <= 0 || s.own.read.Load() <= 0 {
		t.Fatalf("conns %d, written %d, read %d", s.own.Conns(), s.own.written.Load(), s.own.read.Load())
	}
	s.Close()
	if s.own.Conns() != 0 {
		t.Fatalf("open connections after Close = %d", s.own.Conns())
	}
}
