package redis

import (
	"bytes"
	"context"
	"maps"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	goredis "github.com/redis/go-redis/v9"
)

// redwatch does not count itself: an ownTracker knows exactly what redwatch's own commands and
// connections added to a server's INFO counters up to the moment INFO was generated, so the
// instance round can subtract them (see infoSamples).
//
//   - Commands, keyspace hits and misses: a go-redis hook sees every command the sampler's
//     client runs, connection set-up included (HELLO, AUTH, SELECT, CLIENT SETNAME go through
//     the client's hooks), and counts those Redis processed: a reply arrived and it was not
//     rejected before execution (NOPERM, unknown command, wrong arity, ... are not counted by
//     Redis 7 in total_commands_processed). Which commands are key lookups, and whether each
//     was a hit or a miss, follows Redis's own rules, measured against redis-server 7 in
//     TestOwnLookupRules.
//   - Network bytes: every connection is wrapped in a counting net.Conn (over TLS, so the
//     plaintext Redis counts); what redwatch wrote is Redis's input, what it read Redis's
//     output.
//   - Connections: the wrapped connections that are open.
//
// To know the counts "at INFO time", the INFO pipeline is exclusive: every other command or
// pipeline of the client holds gate.RLock while in flight, and the INFO pipeline holds
// gate.Lock, so when INFO runs every earlier command of redwatch has been answered (processed)
// and no other is on the wire. The mark is taken at the INFO command itself: commands counted
// before it (INFO does not count itself), the bytes written up to and including the pipeline
// that starts with INFO (Redis reads the small pipeline in one read before running INFO), and
// the bytes read before its replies.
//
// All methods are safe for concurrent use.
type ownTracker struct {
	gate sync.RWMutex

	commands atomic.Int64
	hits     atomic.Int64
	misses   atomic.Int64
	written  atomic.Int64 // bytes sent to Redis: its total_net_input_bytes
	read     atomic.Int64 // bytes received from Redis: its total_net_output_bytes
	conns    atomic.Int64 // open connections
	armed    atomic.Bool  // the exclusive INFO pipeline is being sent

	mu       sync.Mutex       // guards the marks and addrs
	addrs    map[string]int   // local addresses of the open connections (CLIENT LIST addr=)
	calls    map[string]int64 // processed commands by commandstats name ("info", "client|list")
	markCmd  goredis.Cmder
	cmdMark  *ownCounts // counts before markCmd; nil until seen
	byteMark *ownCounts // bytes at the INFO write; nil until seen
}

// ownCounts is what redwatch's own traffic had added to a server's counters at one moment:
// cumulative since the tracker was made, except Conns (open connections now).
type ownCounts struct {
	Commands int64
	Hits     int64
	Misses   int64
	NetIn    int64 // bytes redwatch wrote
	NetOut   int64 // bytes redwatch read
	Conns    int64
	Calls    map[string]int64 // by commandstats name; read-only once made
}

func (c ownCounts) minus(b ownCounts) ownCounts {
	var calls map[string]int64
	for k, v := range c.Calls {
		if d := v - b.Calls[k]; d != 0 {
			if calls == nil {
				calls = make(map[string]int64, len(c.Calls))
			}
			calls[k] = d
		}
	}
	return ownCounts{Commands: c.Commands - b.Commands, Hits: c.Hits - b.Hits, Misses: c.Misses - b.Misses,
		NetIn: c.NetIn - b.NetIn, NetOut: c.NetOut - b.NetOut, Conns: c.Conns, Calls: calls}
}

// callsOf is what redwatch added to the calls of commandstats entry name: name itself and,
// for a container command on Redis 6 (one "client" entry for every CLIENT subcommand), its
// subcommands.
func (c ownCounts) callsOf(name string) int64 {
	n := c.Calls[name]
	if !strings.Contains(name, "|") {
		for k, v := range c.Calls {
			if len(k) > len(name) && k[len(name)] == '|' && strings.HasPrefix(k, name) {
				n += v
			}
		}
	}
	return n
}

// statName is the commandstats name of a command: lower case, "container|sub" for the
// container commands redwatch sends (Redis 7's naming).
func statName(c goredis.Cmder) string {
	name := c.Name()
	switch name {
	case "client", "slowlog", "latency", "memory", "xinfo":
		if args := c.Args(); len(args) > 1 {
			if sub, ok := args[1].(string); ok {
				return name + "|" + strings.ToLower(sub)
			}
		}
	}
	return name
}

// gateHeld marks a context whose goroutine already holds the gate (read or write), so the
// commands go-redis runs inside it (connection set-up) do not take it again: a second RLock
// while a writer waits would deadlock.
type gateHeld struct{}

func (o *ownTracker) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (o *ownTracker) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if ctx.Value(gateHeld{}) == nil {
			o.gate.RLock()
			defer o.gate.RUnlock()
			ctx = context.WithValue(ctx, gateHeld{}, true)
		}
		err := next(ctx, cmd)
		o.count([]goredis.Cmder{cmd})
		return err
	}
}

func (o *ownTracker) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if ctx.Value(gateHeld{}) == nil {
			o.gate.RLock()
			defer o.gate.RUnlock()
			ctx = context.WithValue(ctx, gateHeld{}, true)
		}
		err := next(ctx, cmds)
		o.count(cmds)
		return err
	}
}

// exclusive runs send (which must send a pipeline whose first command is info, an INFO command)
// with no other command of the client in flight, and returns what redwatch had added to the
// server's counters when INFO ran. When INFO got no reply the counts are those after send.
func (o *ownTracker) exclusive(ctx context.Context, info goredis.Cmder, send func(ctx context.Context)) ownCounts {
	o.gate.Lock()
	defer o.gate.Unlock()
	o.mu.Lock()
	o.markCmd, o.cmdMark, o.byteMark = info, nil, nil
	o.mu.Unlock()
	o.armed.Store(true)
	send(context.WithValue(ctx, gateHeld{}, true))
	o.armed.Store(false)
	o.mu.Lock()
	defer o.mu.Unlock()
	cm, bm := o.cmdMark, o.byteMark
	o.markCmd, o.cmdMark, o.byteMark = nil, nil, nil
	if cm == nil {
		cm = o.commandCounts()
	}
	if bm == nil {
		bm = &ownCounts{NetIn: o.written.Load(), NetOut: o.read.Load(), Conns: o.conns.Load()}
	}
	return ownCounts{Commands: cm.Commands, Hits: cm.Hits, Misses: cm.Misses,
		NetIn: bm.NetIn, NetOut: bm.NetOut, Conns: bm.Conns, Calls: cm.Calls}
}

// commandCounts is the commands, lookups and calls counted so far. The caller holds o.mu.
func (o *ownTracker) commandCounts() *ownCounts {
	return &ownCounts{Commands: o.commands.Load(), Hits: o.hits.Load(), Misses: o.misses.Load(), Calls: maps.Clone(o.calls)}
}

// IsOwn reports whether addr (a CLIENT LIST addr=, the client side of a connection) is one of
// redwatch's open connections. Behind NAT or a proxy the server sees other addresses: false.
func (o *ownTracker) IsOwn(addr string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.addrs[addr] > 0
}

// opened records a new connection and returns its counting wrapper.
func (o *ownTracker) opened(conn net.Conn) *countingConn {
	addr := ""
	if a := conn.LocalAddr(); a != nil {
		addr = a.String()
	}
	o.mu.Lock()
	if o.addrs == nil {
		o.addrs = make(map[string]int)
	}
	o.addrs[addr]++
	o.mu.Unlock()
	o.conns.Add(1)
	return &countingConn{Conn: conn, o: o, addr: addr}
}

// count adds the commands Redis processed of cmds, in order, and their key lookups.
func (o *ownTracker) count(cmds []goredis.Cmder) {
	var exists map[string]bool // key -> exists, from the unambiguous replies of this batch
	for _, c := range cmds {
		if !processed(c.Err()) {
			continue
		}
		if key, e := lookupOf(c); key != "" && e != lookupUnsure {
			if exists == nil {
				exists = make(map[string]bool, len(cmds))
			}
			exists[key] = e == lookupHit
		}
	}
	for _, c := range cmds {
		o.mu.Lock()
		if c == o.markCmd && o.cmdMark == nil {
			o.cmdMark = o.commandCounts()
		}
		ok := processed(c.Err())
		if ok {
			if o.calls == nil {
				o.calls = make(map[string]int64)
			}
			o.calls[statName(c)]++
		}
		o.mu.Unlock()
		if !ok {
			continue
		}
		o.commands.Add(1)
		key, e := lookupOf(c)
		if key == "" {
			continue
		}
		if e == lookupUnsure {
			// A zero length or an empty string: only the key's other replies in the batch tell
			// a missing key from an empty one (every batch redwatch sends has one: TYPE or
			// PTTL). Without one, the key was there a moment ago (it was just detected).
			e = lookupHit
			if ex, ok := exists[key]; ok && !ex {
				e = lookupMiss
			}
		}
		if e == lookupHit {
			o.hits.Add(1)
		} else {
			o.misses.Add(1)
		}
	}
}

// processed reports whether Redis executed a command that ended with err: it answered, and did
// not reject it before execution. Rejected commands are not in total_commands_processed nor
// do they look keys up (TestOwnProcessedRules).
func processed(err error) bool {
	if err == nil {
		return true
	}
	if !isReplyError(err) {
		return false // no reply: I/O error or timeout
	}
	msg := err.Error()
	for _, p := range rejectedPrefixes {
		if strings.HasPrefix(msg, p) {
			return false
		}
	}
	return true
}

// rejectedPrefixes are the error replies Redis 6 and 7 give in processCommand, before a command
// runs (and is counted).
var rejectedPrefixes = []string{
	"NOPERM", "NOAUTH", "LOADING", "BUSY", "MISCONF", "OOM", "READONLY", "MOVED", "ASK", "TRYAGAIN",
	"CROSSSLOT", "CLUSTERDOWN", "NOREPLICAS", "MASTERDOWN", "NOTREADY",
	"ERR unknown command", "ERR unknown subcommand", "ERR wrong number of arguments",
	"ERR Protocol error",
}

// lookupResult is what a key lookup did to keyspace_hits / keyspace_misses.
type lookupResult uint8

const (
	lookupHit    lookupResult = iota
	lookupMiss                // the key did not exist
	lookupUnsure              // a hit or a miss: the reply is the same for an empty and a missing key
)

// lookupOf returns the key a processed command looked up (counting a keyspace hit or miss) and
// how; key is "" for commands that count neither (PING, INFO, CLIENT, SLOWLOG, SCAN, MEMORY
// USAGE, SELECT, AUTH, HELLO, ...). The rules are Redis 7's, measured in TestOwnLookupRules,
// for the commands redwatch sends: TYPE, PTTL, the length commands, PFCOUNT, GETRANGE and
// XINFO look the key up; a WRONGTYPE reply is a hit (the key was found).
func lookupOf(c goredis.Cmder) (string, lookupResult) {
	args := c.Args()
	name := c.Name()
	keyArg := 1
	switch name {
	case "type", "pttl", "llen", "scard", "zcard", "hlen", "strlen", "xlen", "pfcount", "getrange":
	case "xinfo":
		keyArg = 2
	default:
		return "", lookupHit
	}
	if len(args) <= keyArg {
		return "", lookupHit
	}
	key, ok := args[keyArg].(string)
	if !ok {
		return "", lookupHit
	}
	err := c.Err()
	if isWrongType(err) {
		return key, lookupHit
	}
	if name == "xinfo" {
		if err != nil && strings.HasPrefix(err.Error(), "ERR no such key") {
			return key, lookupMiss
		}
		if err != nil {
			return "", lookupHit
		}
		return key, lookupHit
	}
	if err != nil {
		return "", lookupHit // another error (syntax): not a lookup redwatch makes
	}
	switch name {
	case "type":
		if s, _ := replyText(c); s == typeNone {
			return key, lookupMiss
		}
		return key, lookupHit
	case "getrange":
		if s, _ := replyText(c); s == "" {
			return key, lookupUnsure
		}
		return key, lookupHit
	}
	n, ok := replyNumber(c)
	if !ok {
		return "", lookupHit
	}
	switch name {
	case "pttl":
		if n == -2 {
			return key, lookupMiss
		}
		return key, lookupHit
	case "strlen", "xlen", "pfcount":
		if n == 0 {
			return key, lookupUnsure // an empty string, stream or HyperLogLog exists
		}
		return key, lookupHit
	}
	if n == 0 { // llen, scard, zcard, hlen: Redis deletes emptied aggregates
		return key, lookupMiss
	}
	return key, lookupHit
}

func replyText(c goredis.Cmder) (string, bool) {
	switch c := c.(type) {
	case *goredis.StatusCmd:
		return c.Val(), true
	case *goredis.StringCmd:
		return c.Val(), true
	case *goredis.Cmd:
		s, ok := c.Val().(string)
		return s, ok
	}
	return "", false
}

func replyNumber(c goredis.Cmder) (int64, bool) {
	switch c := c.(type) {
	case *goredis.IntCmd:
		return c.Val(), true
	case *goredis.Cmd:
		n, ok := c.Val().(int64)
		return n, ok
	}
	return 0, false
}

// infoRequest is how go-redis writes the INFO ALL command that starts the instance round's
// pipeline (see Sampler.collect).
var infoRequest = []byte("*2\r\n$4\r\ninfo\r\n$3\r\nall\r\n")

// dialer wraps dial (go-redis's own dialer: TCP, then TLS when configured) so that each
// connection's plaintext bytes and its lifetime are counted.
func (o *ownTracker) dialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cc := o.opened(conn)
		if sc, ok := conn.(syscall.Conn); ok {
			// go-redis checks idle plain TCP connections' health through the raw socket.
			return &countingSyscallConn{countingConn: cc, sc: sc}, nil
		}
		return cc, nil
	}
}

// countingConn counts what passes through a connection into its ownTracker.
type countingConn struct {
	net.Conn
	o      *ownTracker
	addr   string // local address
	closed atomic.Bool
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.o.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	w := c.o.written.Add(int64(n))
	if c.o.armed.Load() && bytes.HasPrefix(p, infoRequest) {
		c.o.mu.Lock()
		if c.o.byteMark == nil {
			c.o.byteMark = &ownCounts{NetIn: w, NetOut: c.o.read.Load(), Conns: c.o.conns.Load()}
		}
		c.o.mu.Unlock()
	}
	return n, err
}

func (c *countingConn) Close() error {
	if !c.closed.Swap(true) {
		c.o.conns.Add(-1)
		c.o.mu.Lock()
		if c.o.addrs[c.addr]--; c.o.addrs[c.addr] <= 0 {
			delete(c.o.addrs, c.addr)
		}
		c.o.mu.Unlock()
	}
	return c.Conn.Close()
}

// countingSyscallConn is a countingConn over a plain TCP connection, keeping its raw socket
// reachable for go-redis's health check (a non-consuming peek).
type countingSyscallConn struct {
	*countingConn
	sc syscall.Conn
}

func (c *countingSyscallConn) SyscallConn() (syscall.RawConn, error) { return c.sc.SyscallConn() }
