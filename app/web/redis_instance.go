package web

import (
	"cmp"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// instanceReader finds one watched instance's snapshot by name (RedisSource's Instance).
type instanceReader interface {
	Instance(name string) (redis.InstanceSnapshot, bool)
}

// redisHandler serves /redis/{name}.
type redisHandler struct {
	*pageKit
	instances instanceReader
	refresh   time.Duration // how often the live parts poll
}

// Caps on the rows of the instance page's tables.
const (
	maxClientRows  = 500
	maxCommandRows = 20
)

// maxClientFilter caps the length of the ?client= filter, in bytes.
const maxClientFilter = 200

// showRedisInstance renders /redis/{name}: live summary, charts over the page's time range
// (?range= or ?from=&to=, see pageRange; invalid: 400) and live tables. ?sort=idle|age|name orders
// the clients table and ?client= keeps only the connections whose address, name, user or last
// command contains it (case-insensitive). ?fragment=redis-summary, redis-clients or redis-tables
// answers with only that polled part. An unknown name is a 404.
func (s *redisHandler) showRedisInstance(c echo.Context) error {
	name := c.Param("name")
	in, ok := s.instances.Instance(name)
	if !ok {
		if u, err := url.PathUnescape(name); err == nil && u != name {
			name = u
			in, ok = s.instances.Instance(name)
		}
	}
	if !ok {
		return s.notFound(c, "There is no Redis instance named “"+name+"”.")
	}
	now := time.Now()
	r, err := pageRange(c.QueryParams(), now)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	path := components.RedisInstanceURL(in.Name)

	// The page's own parameters, normalised: what links, polls and forms keep.
	keep := url.Values{}
	for k, vs := range c.QueryParams() {
		if k != "fragment" && len(vs) > 0 {
			keep.Set(k, vs[0])
		}
	}
	sort := keep.Get("sort")
	switch sort {
	case partials.SortAge, partials.SortName, partials.SortBuffers:
	default:
		sort = partials.SortIdle
		keep.Del("sort")
	}
	filter := keep.Get("client")
	if len(filter) > maxClientFilter {
		filter = strings.ToValidUTF8(filter[:maxClientFilter], "")
		keep.Set("client", filter)
	}
	if filter == "" {
		keep.Del("client")
	}
	poll := func(fragment string, params url.Values) string {
		v := url.Values{"fragment": {fragment}}
		for k, vs := range params {
			v[k] = vs
		}
		return path + "?" + v.Encode()
	}
	// The clients poll carries the page's parameters but the filter, which htmx sends from the
	// filter input (hx-include), so typing in it changes what the next poll asks for.
	clientsPoll := url.Values{}
	for k, vs := range keep {
		if k != "client" {
			clientsPoll[k] = vs
		}
	}

	refresh := int(s.refresh.Milliseconds())
	card := instanceCard(&in, now)
	p := pages.RedisInstanceProps{
		Layout:       s.layoutProps(c, "Redis "+in.Name, layouts.NavRedis),
		Name:         in.Name,
		Summary:      redisSummary(&in, now),
		Clients:      redisClients(&in, sort, filter),
		Tables:       redisTables(&in, now),
		Range:        rangePicker(path, keep, r),
		RangeSeconds: r.Seconds(),
	}
	if !r.Live {
		p.Start, p.End = r.Start.Unix(), r.End.Unix()
	}
	for _, k := range slices.Sorted(maps.Keys(keep)) {
		if k != "client" {
			p.FilterHidden = append(p.FilterHidden, components.HiddenField{Name: k, Value: keep.Get(k)})
		}
	}
	p.Layout.RedisCurrent = in.Name
	p.Summary.PollURL, p.Summary.RefreshMs = poll(pages.FragmentRedisSummary, nil), refresh
	p.Clients.PollURL, p.Clients.RefreshMs = poll(pages.FragmentRedisClients, clientsPoll), refresh
	p.Clients.Query, p.Clients.Stale = keep, card.Stale
	p.Tables.PollURL, p.Tables.RefreshMs = poll(pages.FragmentRedisTables, nil), refresh
	p.Tables.Stale = card.Stale
	switch f := c.QueryParam("fragment"); f {
	case pages.FragmentRedisSummary, pages.FragmentRedisClients, pages.FragmentRedisTables:
		return renderFragment(c, pages.RedisInstance(p), f)
	}
	return render(c, http.StatusOK, pages.RedisInstance(p))
}

func redisSummary(in *redis.InstanceSnapshot, now time.Time) partials.RedisSummaryProps {
	return partials.RedisSummaryProps{
		Card:                instanceCard(in, now),
		PingLatencySeconds:  in.PingLatency.Seconds(),
		UptimeSeconds:       in.UptimeSeconds,
		MemoryRSSBytes:      float64(in.MemoryRSSBytes),
		FragmentationRatio:  in.FragmentationRatio,
		BlockedClients:      in.BlockedClients,
		RedwatchConnections: in.RedwatchConnections,
		NetInBytesPerSec:    in.NetInputBytesPerSec,
		NetOutBytesPerSec:   in.NetOutputBytesPerSec,
		ConnectedReplicas:   in.ConnectedReplicas,
		ReplicationLagBytes: in.ReplicationLagBytes,
		SlowlogLength:       in.SlowlogLength,
		KeysWatched:         in.KeysWatched,
		PatternsWatched:     in.PatternsWatched,
	}
}

// redisClients builds the clients table: the connections matching filter (see clientMatches),
// sorted by sort, capped at maxClientRows.
func redisClients(in *redis.InstanceSnapshot, sort, filter string) partials.RedisClientsProps {
	p := partials.RedisClientsProps{Name: in.Name, Sort: sort, Filter: filter, Total: len(in.Clients), Error: in.ClientsError}
	// The snapshot's slices are shared and read-only: filter into a copy.
	clients := make([]redis.Client, 0, len(in.Clients))
	needle := strings.ToLower(filter)
	for _, cl := range in.Clients {
		if clientMatches(&cl, needle) {
			clients = append(clients, cl)
		}
	}
	p.Matched = len(clients)
	sortClients(clients, sort)
	for _, cl := range clients[:min(len(clients), maxClientRows)] {
		p.Clients = append(p.Clients, partials.ClientRow{
			ID: cl.ID, Addr: cl.Addr, Name: cl.Name, User: cl.User,
			AgeSeconds: cl.AgeSeconds, IdleSeconds: cl.IdleSeconds, DB: cl.DB,
			Cmd: cl.Cmd, Flags: cl.Flags, MemoryBytes: cl.MemoryBytes, Redwatch: cl.Redwatch,
			OutputBufferBytes: cl.OutputBufferBytes, QueryBufferBytes: cl.QueryBufferBytes,
		})
	}
	return p
}

// clientMatches reports whether the client's address, name, user or last command contains
// needle, which must be lower case; "" matches every client.
func clientMatches(cl *redis.Client, needle string) bool {
	if needle == "" {
		return true
	}
	for _, f := range []string{cl.Addr, cl.Name, cl.User, cl.Cmd} {
		if strings.Contains(strings.ToLower(f), needle) {
			return true
		}
	}
	return false
}

func redisTables(in *redis.InstanceSnapshot, now time.Time) partials.RedisTablesProps {
	p := partials.RedisTablesProps{
		Name:         in.Name,
		SlowlogError: in.SlowlogError,
		Now:          now,
		Topology:     topologyProps(in.Topology),
	}
	for _, e := range in.Slowlog {
		client := e.ClientAddr
		if e.ClientName != "" {
			client += " (" + e.ClientName + ")"
		}
		p.Slowlog = append(p.Slowlog, partials.SlowlogRow{
			ID: e.ID, Time: e.Time, DurationSeconds: float64(e.Micros) / 1e6, Args: e.Args, Client: client,
		})
	}
	for _, k := range in.Keyspace {
		p.Keyspace = append(p.Keyspace, partials.KeyspaceRow{DB: k.DB, Keys: k.Keys, Expires: k.Expires, AvgTTLMs: k.AvgTTL})
	}
	for _, cs := range in.Commands[:min(len(in.Commands), maxCommandRows)] {
		p.Commands = append(p.Commands, partials.CommandRow{
			Name: cs.Name, Calls: cs.Calls, UsecPerCall: cs.UsecPerCall, FailedCalls: cs.FailedCalls,
			P50Seconds: cs.P50, P99Seconds: cs.P99,
		})
	}
	return p
}

// sortClients orders the clients table: idle (least idle first, the default), age (oldest
// first), buffers (biggest output + query buffer first) or name (named clients first, then by
// address). Ties fall back to the client id.
func sortClients(cs []redis.Client, by string) {
	slices.SortStableFunc(cs, func(a, b redis.Client) int {
		var c int
		switch by {
		case partials.SortAge:
			c = cmp.Compare(b.AgeSeconds, a.AgeSeconds)
		case partials.SortBuffers:
			c = cmp.Compare(b.OutputBufferBytes+b.QueryBufferBytes, a.OutputBufferBytes+a.QueryBufferBytes)
		case partials.SortName:
			// Named clients first.
			c = cmp.Or(cmp.Compare(boolInt(a.Name == ""), boolInt(b.Name == "")), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Addr, b.Addr))
		default:
			c = cmp.Compare(a.IdleSeconds, b.IdleSeconds)
		}
		return cmp.Or(c, cmp.Compare(a.ID, b.ID))
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
