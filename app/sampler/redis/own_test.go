package redis

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
	if s.own.conns.Load() != 1 || s.own.written.Load() <= 0 || s.own.read.Load() <= 0 {
		t.Fatalf("conns %d, written %d, read %d", s.own.conns.Load(), s.own.written.Load(), s.own.read.Load())
	}
	s.Close()
	if n := s.own.conns.Load(); n != 0 {
		t.Fatalf("open connections after Close = %d", n)
	}
}

// TestKeyNoGetrangePerRound: a string key is probed with GETRANGE once, when its type is
// detected, not every round (Redis's commandstats count it); a string replaced by a HyperLogLog
// between rounds is still recognised.
func TestKeyNoGetrangePerRound(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	keyTestDo(t, c, "set", "counter", "7")
	keyTestDo(t, c, "set", "blob", "a value longer than sixteen bytes")
	k, w, _ := newKeyTestSampler(t, c, []config.Key{keyTestExact("counter", time.Second), keyTestExact("blob", time.Second)}, nil)
	calls := func() int64 {
		t.Helper()
		text, err := c.Info(context.Background(), "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		n, _ := infoPairInt(splitInfoPairs(parseInfo(text)["cmdstat_getrange"]), "calls")
		return n
	}
	for sec := range 5 {
		keyTestSample(t, k, keyTestAt(sec))
		keyTestDo(t, c, "incr", "counter") // a changing short string: never re-detected
	}
	if n := calls(); n != 2 {
		t.Fatalf("GETRANGE called %d times in 5 rounds of 2 strings, want 2 (detection only)", n)
	}
	w.take()
	keyTestDo(t, c, "del", "blob")
	keyTestDo(t, c, "pfadd", "blob", "a", "b", "c", "d")
	keyTestSample(t, k, keyTestAt(5))
	if got := keyTestFind(w.take(), "redis_key_length", "key", "blob", "type", "hyperloglog"); len(got) != 1 || got[0].Value != 4 {
		t.Fatalf("blob not seen as a HyperLogLog of 4: %v", got)
	}
	if s := keyTestSnapshot(t, k, "blob"); s.Type != typeHyperLogLog || s.Error != "" {
		t.Fatalf("snapshot %+v", s)
	}
}

// TestInfoSamplesSubtractOwn: rates and counters exclude what redwatch added (own), counters
// since the sampler started; after a new run_id or a counter reset, since that round.
func TestInfoSamplesSubtractOwn(t *testing.T) {
	text := func(run string, cmds, hits, misses, in, out, clients int) info {
		return parseInfo(fmt.Sprintf("run_id:%s\nuptime_in_seconds:100\nconnected_clients:%d\n"+
			"total_commands_processed:%d\nkeyspace_hits:%d\nkeyspace_misses:%d\n"+
			"total_net_input_bytes:%d\ntotal_net_output_bytes:%d\n", run, clients, cmds, hits, misses, in, out))
	}
	at := time.Unix(1000, 0)
	r1 := &infoRound{at: at, info: text("a", 1000, 100, 50, 9000, 90000, 5), own: ownCounts{Commands: 10, Hits: 4, Misses: 2, NetIn: 300, NetOut: 3000, Conns: 2}}
	// Over 10 s: 520 commands (20 own), 30 hits (10 own), 40 misses (20 own), 1500 B in (500 own), 20000 B out (10000 own).
	r2 := &infoRound{at: at.Add(10 * time.Second), info: text("a", 1520, 130, 90, 10500, 110000, 6),
		own: ownCounts{Commands: 30, Hits: 14, Misses: 22, NetIn: 800, NetOut: 13000, Conns: 3}}
	var snap InstanceSnapshot
	infoSamples(nil, "x", 1, r1, nil, &snap)
	m := infoTestSeries(t, infoSamples(nil, "x", 2, r2, r1, &snap), "x", 2)
	want := map[string]float64{
		"redis_ops_per_second": 50, "redis_keyspace_hit_ratio": 20.0 / 40,
		// Counters: less everything the sampler sent since it started (its first round's base is 0).
		"redis_commands_processed_total": 1520 - 30, "redis_keyspace_hits_total": 130 - 14,
		"redis_keyspace_misses_total": 90 - 22, "redis_net_input_bytes_total": 10500 - 800,
		"redis_net_output_bytes_total": 110000 - 13000, "redis_connected_clients": 3, "redis_redwatch_connections": 3,
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if snap.NetInputBytesPerSec != 100 || snap.NetOutputBytesPerSec != 1000 || snap.ConnectedClients != 3 || snap.RedwatchConnections != 3 {
		t.Errorf("snap = %+v", snap)
	}
	// A restarted server (new run_id): its counters are taken as they are, then own is
	// subtracted from there.
	r3 := &infoRound{at: at.Add(20 * time.Second), info: text("b", 5, 1, 1, 100, 1000, 3), own: ownCounts{Commands: 40, Conns: 3}}
	m3 := infoTestSeries(t, infoSamples(nil, "x", 3, r3, r2, &snap), "x", 3)
	if m3["redis_commands_processed_total"] != 5 || snap.HitRatioKnown {
		t.Errorf("after restart: commands %v, hit ratio known %v", m3["redis_commands_processed_total"], snap.HitRatioKnown)
	}
	r4 := &infoRound{at: at.Add(30 * time.Second), info: text("b", 15, 1, 1, 100, 1000, 3), own: ownCounts{Commands: 48, Conns: 3}}
	m4 := infoTestSeries(t, infoSamples(nil, "x", 4, r4, r3, &snap), "x", 4)
	if m4["redis_commands_processed_total"] != 15-8 || m4["redis_ops_per_second"] != 0.2 {
		t.Errorf("after restart: commands %v, ops %v", m4["redis_commands_processed_total"], m4["redis_ops_per_second"])
	}
}

// TestOwnCallsOf: redwatch's calls per commandstats entry, Redis 7's "client|list" and Redis
// 6's single "client" entry for every subcommand.
func TestOwnCallsOf(t *testing.T) {
	own := ownCounts{Calls: map[string]int64{"info": 3, "client|list": 2, "client|setname": 1, "clients": 7}}
	for name, want := range map[string]int64{"info": 3, "client|list": 2, "client": 3, "get": 0, "clients": 7} {
		if got := own.callsOf(name); got != want {
			t.Errorf("callsOf(%q) = %d, want %d", name, got, want)
		}
	}
}
