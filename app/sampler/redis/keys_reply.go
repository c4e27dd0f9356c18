package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// Type labels of redis_key_* series. A module type keeps the name TYPE reports.
const (
	typeNone        = "none"
	typeString      = "string"
	typeList        = "list"
	typeSet         = "set"
	typeZSet        = "zset"
	typeHash        = "hash"
	typeStream      = "stream"
	typeHyperLogLog = "hyperloglog"
)

// hllMagic is how a HyperLogLog string starts (GETRANGE key 0 3).
const hllMagic = "HYLL"

// hllMinLength is the shortest a HyperLogLog can be: its header (magic, encoding, 3 unused
// bytes, the 8-byte cached cardinality). A shorter string is not one.
const hllMinLength = 16

// lengthCommand is the command that measures a key of type typ; "" for types without one
// (module types and "none").
func lengthCommand(typ string) string {
	switch typ {
	case typeList:
		return "llen"
	case typeSet:
		return "scard"
	case typeZSet:
		return "zcard"
	case typeHash:
		return "hlen"
	case typeStream:
		return "xlen"
	case typeString:
		return "strlen"
	case typeHyperLogLog:
		return "pfcount"
	}
	return ""
}

// isModuleType reports whether typ is a type TYPE reported that redwatch has no length for.
func isModuleType(typ string) bool {
	return typ != "" && typ != typeNone && lengthCommand(typ) == ""
}

// internType returns the label for a TYPE reply, sharing one string per type name so that
// 100,000 keys do not hold 100,000 copies.
func (k *keySampler) internType(reply, head string) string {
	switch reply {
	case typeString:
		if head == hllMagic {
			return typeHyperLogLog
		}
		return typeString
	case typeList:
		return typeList
	case typeSet:
		return typeSet
	case typeZSet:
		return typeZSet
	case typeHash:
		return typeHash
	case typeStream:
		return typeStream
	case typeNone:
		return typeNone
	}
	if s, ok := k.typeNames[reply]; ok {
		return s
	}
	k.typeNames[reply] = reply
	return reply
}

// isReplyError reports whether err is an error reply from Redis (including goredis.Nil), as
// opposed to an I/O error, a timeout or a cancelled context.
func isReplyError(err error) bool {
	var re goredis.Error
	return errors.As(err, &re)
}

// isWrongType reports a WRONGTYPE reply: the key changed type since it was detected.
func isWrongType(err error) bool { return goredis.HasErrorPrefix(err, "WRONGTYPE") }

// isCommandRefused reports a reply that refuses the command itself rather than this key:
// unknown or renamed command, an ACL that denies the command, or a managed service that
// disabled it.
func isCommandRefused(err error) bool {
	if !isReplyError(err) {
		return false
	}
	msg := strings.ToLower(err.Error())
	switch {
	case strings.HasPrefix(msg, "err unknown command"), strings.HasPrefix(msg, "err unknown subcommand"):
		return true
	case strings.HasPrefix(msg, "noperm"):
		// "no permissions to run the 'memory|usage' command" vs "... to access one of the keys".
		return !strings.Contains(msg, "key")
	case strings.Contains(msg, "disabled"), strings.Contains(msg, "not allowed"):
		return true
	}
	return false
}

// exec sends cmds in one pipelined round trip. It returns an error only when the round trip
// itself failed (I/O, timeout, cancelled context); reply errors stay on their own command, so
// a failing command never affects another one's reply.
func (k *keySampler) exec(ctx context.Context, cmds []goredis.Cmder) error {
	if len(cmds) == 0 {
		return nil
	}
	k.roundTrips.Add(1)
	if k.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.timeout)
		defer cancel()
	}
	pipe := k.client.Pipeline()
	for _, c := range cmds {
		_ = pipe.Process(ctx, c) // only queues
	}
	_, err := pipe.Exec(ctx)
	if err != nil && !isReplyError(err) {
		return err
	}
	// Exec reports the first failing command; a connection lost midway fails the later ones
	// with an I/O error even when an earlier one carried a reply error.
	for _, c := range cmds {
		if e := c.Err(); e != nil && !isReplyError(e) {
			return e
		}
	}
	return nil
}

// detectTypes finds the type of each name with one pipelined pass (TYPE and GETRANGE key 0 3
// per key, in batches of at most batchSize commands). done is called once per name, in order,
// with the type label ("none" for a missing key) or a reply error; GETRANGE failing with
// WRONGTYPE (any non-string) is expected. An I/O error aborts the pass.
func (k *keySampler) detectTypes(ctx context.Context, names []string, done func(i int, typ string, err error)) error {
	per := max(1, k.batchSize/2)
	cmds := make([]goredis.Cmder, 0, 2*min(per, len(names)))
	for start := 0; start < len(names); start += per {
		end := min(start+per, len(names))
		cmds = cmds[:0]
		for _, name := range names[start:end] {
			cmds = append(cmds,
				goredis.NewStatusCmd(ctx, "type", name),
				goredis.NewStringCmd(ctx, "getrange", name, 0, 3))
		}
		if err := k.exec(ctx, cmds); err != nil {
			return err
		}
		for i := start; i < end; i++ {
			typ, err := cmds[2*(i-start)].(*goredis.StatusCmd).Result()
			if err != nil {
				done(i, "", err)
				continue
			}
			head, _ := cmds[2*(i-start)+1].(*goredis.StringCmd).Result()
			done(i, k.internType(typ, head), nil)
		}
	}
	return nil
}

// measureLengths sends the length command of each (name, type) in pipelined batches; done gets
// each length, or ok false when the type has none or the reply was an error. An I/O error
// aborts the pass. Types whose length is 0 both when empty and when missing (string, stream,
// HyperLogLog) also get a PTTL, so redwatch's own hit/miss count knows which it was.
func (k *keySampler) measureLengths(ctx context.Context, names, types []string, done func(i int, n int64, ok bool)) error {
	cmds := make([]goredis.Cmder, 0, min(k.batchSize, len(names)))
	idx := make([]int, 0, cap(cmds))
	flush := func() error {
		if err := k.exec(ctx, cmds); err != nil {
			return err
		}
		for j, c := range cmds {
			if idx[j] < 0 {
				continue // the PTTL beside a length
			}
			n, err := c.(*goredis.IntCmd).Result()
			done(idx[j], n, err == nil)
		}
		cmds, idx = cmds[:0], idx[:0]
		return nil
	}
	for i, name := range names {
		cmd := lengthCommand(types[i])
		if cmd == "" {
			done(i, 0, false)
			continue
		}
		if len(cmds)+2 > k.batchSize && len(cmds) > 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		cmds = append(cmds, goredis.NewIntCmd(ctx, cmd, name))
		idx = append(idx, i)
		switch types[i] {
		case typeString, typeStream, typeHyperLogLog:
			cmds = append(cmds, goredis.NewIntCmd(ctx, "pttl", name))
			idx = append(idx, -1)
		}
	}
	return flush()
}

// parseGroups reads an XINFO GROUPS reply in RESP2 (flat field/value arrays) or RESP3 (maps)
// form. Lag is -1 when the server does not report it (Redis < 7) or reports it as unknown
// (nil: the stream had deletions the group has not read past).
func parseGroups(v any) ([]StreamGroup, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("unexpected XINFO GROUPS reply of type %T", v)
	}
	groups := make([]StreamGroup, 0, len(list))
	for _, item := range list {
		g := StreamGroup{Lag: -1}
		set := func(field string, val any) {
			switch field {
			case "name":
				g.Name = replyString(val)
			case "consumers":
				g.Consumers, _ = replyInt(val)
			case "pending":
				g.Pending, _ = replyInt(val)
			case "lag":
				if n, ok := replyInt(val); ok {
					g.Lag = n
				}
			}
		}
		switch it := item.(type) {
		case []any:
			for i := 0; i+1 < len(it); i += 2 {
				set(replyString(it[i]), it[i+1])
			}
		case map[any]any:
			for f, val := range it {
				set(replyString(f), val)
			}
		case map[string]any:
			for f, val := range it {
				set(f, val)
			}
		default:
			return nil, fmt.Errorf("unexpected XINFO GROUPS entry of type %T", item)
		}
		groups = append(groups, g)
	}
	return groups, nil
}

func replyString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case []byte:
		return string(s)
	}
	return fmt.Sprint(v)
}

func replyInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}
