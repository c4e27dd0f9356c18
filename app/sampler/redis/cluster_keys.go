package redis

import (
	"context"
	"fmt"
	"sort"
	"sync"

	goredis "github.com/redis/go-redis/v9"
)

// clusterKeys is the key sampler's client on a Cluster. Pipeline is the ClusterClient's:
// commands are split by slot into one pipeline per node, sent to the nodes in parallel, and
// MOVED / ASK replies are followed (up to MaxRedirects) and make go-redis reload the slot map,
// so a resharding costs redirects, not samples. Scan walks every master in turn with one
// composite cursor (scanCursor).
type clusterKeys struct {
	cc *goredis.ClusterClient
}

var _ keyClient = clusterKeys{}

// Pipeline returns a pipeline that routes each command to the node owning its key's slot.
func (c clusterKeys) Pipeline() goredis.Pipeliner { return c.cc.Pipeline() }

// Scan is SCAN over the whole cluster: cursor 0 starts on the first master (masters ordered by
// address, as the client's slot map has them now), a page comes from one master, and the
// cursor returned names the master and that master's own cursor; 0 when the last master is
// done. A master added or gone between two pages shifts the order, so that scan may miss or
// repeat one master's keys (the key sampler drops repeats); the next scan is whole again.
func (c clusterKeys) Scan(ctx context.Context, cursor uint64, match string, count int64) *goredis.ScanCmd {
	cmd := goredis.NewScanCmd(ctx, nil, "scan", cursor, "match", match, "count", count)
	masters, err := c.masters(ctx)
	if err != nil {
		cmd.SetErr(err)
		return cmd
	}
	idx, nodeCursor := splitScanCursor(cursor)
	if idx >= len(masters) {
		if idx == 0 {
			cmd.SetVal(nil, 0) // no master at all: nothing matches
			return cmd
		}
		cmd.SetErr(fmt.Errorf("cannot continue SCAN on master %d of the cluster: it has %d now", idx+1, len(masters)))
		return cmd
	}
	keys, next, err := masters[idx].Scan(ctx, nodeCursor, match, count).Result()
	if err != nil {
		cmd.SetErr(fmt.Errorf("SCAN on %s: %w", masters[idx].Options().Addr, err))
		return cmd
	}
	switch {
	case next != 0:
		nc, err := joinScanCursor(idx, next)
		if err != nil {
			cmd.SetErr(err)
			return cmd
		}
		cmd.SetVal(keys, nc)
	case idx+1 < len(masters):
		nc, _ := joinScanCursor(idx+1, 0)
		cmd.SetVal(keys, nc)
	default:
		cmd.SetVal(keys, 0)
	}
	return cmd
}

// masters returns the client of every master in the ClusterClient's slot map, by address.
func (c clusterKeys) masters(ctx context.Context) ([]*goredis.Client, error) {
	var mu sync.Mutex
	var out []*goredis.Client
	err := c.cc.ForEachMaster(ctx, func(_ context.Context, m *goredis.Client) error {
		mu.Lock()
		out = append(out, m)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot list the cluster's masters: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Options().Addr < out[j].Options().Addr })
	return out, nil
}

// A composite cluster SCAN cursor: the master's index in the top scanIndexBits bits, the
// master's own cursor below. Redis cursors stay far below 2^54 (a hash table of 2^40 buckets,
// plus 14 bits of slot on Redis 7.4+ clusters), so nothing is lost; a larger one is an error.
const (
	scanIndexBits  = 10 // up to 1024 masters
	scanCursorBits = 64 - scanIndexBits
)

func splitScanCursor(c uint64) (idx int, nodeCursor uint64) {
	return int(c >> scanCursorBits), c & (1<<scanCursorBits - 1)
}

func joinScanCursor(idx int, nodeCursor uint64) (uint64, error) {
	if idx >= 1<<scanIndexBits {
		return 0, fmt.Errorf("cannot SCAN a cluster of more than %d masters", 1<<scanIndexBits)
	}
	if nodeCursor >= 1<<scanCursorBits {
		return 0, fmt.Errorf("cannot continue SCAN: the node's cursor %d does not fit in %d bits", nodeCursor, scanCursorBits)
	}
	return uint64(idx)<<scanCursorBits | nodeCursor, nil
}
