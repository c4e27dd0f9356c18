package web

import (
	"cmp"
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

// Caps on the rows of the instance page's tables.
const (
	maxClientRows  = 500
	maxCommandRows = 20
)

// showRedisInstance renders /redis/{name}: live summary, charts and tables of one instance;
// ?sort=idle|age|name orders the clients table. ?fragment=redis-summary or redis-tables answers
// with only that polled part. An unknown name is a 404.
func (s *Server) showRedisInstance(c echo.Context) error {
	name := c.Param("name")
	in, ok := s.redisSource().Instance(name)
	if !ok {
		if u, err := url.PathUnescape(name); err == nil && u != name {
			name = u
			in, ok = s.redisSource().Instance(name)
		}
	}
	if !ok {
		return s.notFound(c, "There is no Redis instance named “"+name+"”.")
	}
	now := time.Now()
	sort := c.QueryParam("sort")
	switch sort {
	case partials.SortIdle, partials.SortAge, partials.SortName:
	default:
		sort = partials.SortIdle
	}
	poll := func(fragment string) string {
		v := url.Values{"fragment": {fragment}}
		if fragment == pages.FragmentRedisTables && sort != partials.SortIdle {
			v.Set("sort", sort)
		}
		return components.RedisInstanceURL(in.Name) + "?" + v.Encode()
	}
	refresh := int(s.opts.Refresh.Milliseconds())
	p := pages.RedisInstanceProps{
		Layout:  s.layoutProps(c, "Redis "+in.Name, layouts.NavRedis),
		Name:    in.Name,
		Summary: redisSummary(&in, now),
		Tables:  redisTables(&in, sort, now),
	}
	p.Layout.RedisCurrent = in.Name
	p.Summary.PollURL, p.Summary.RefreshMs = poll(pages.FragmentRedisSummary), refresh
	p.Tables.PollURL, p.Tables.RefreshMs = poll(pages.FragmentRedisTables), refresh
	switch f := c.QueryParam("fragment"); f {
	case pages.FragmentRedisSummary, pages.FragmentRedisTables:
		return renderFragment(c, pages.RedisInstance(p), f)
	}
	return render(c, http.StatusOK, pages.RedisInstance(p))
}

// notFound answers 404: for browsers an error page with msg, for API clients JSON.
func (s *Server) notFound(c echo.Context, msg string) error {
	if !strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/html") || c.Request().Header.Get("HX-Request") != "" {
		return echo.NewHTTPError(http.StatusNotFound, msg)
	}
	p := s.errorPage(c, http.StatusNotFound, msg)
	p.Message = msg
	return render(c, http.StatusNotFound, pages.Error(p))
}

func redisSummary(in *redis.InstanceSnapshot, now time.Time) partials.RedisSummaryProps {
	return partials.RedisSummaryProps{
		Card:                instanceCard(in, now),
		PingLatencySeconds:  in.PingLatency.Seconds(),
		UptimeSeconds:       in.UptimeSeconds,
		MemoryRSSBytes:      float64(in.MemoryRSSBytes),
		FragmentationRatio:  in.FragmentationRatio,
		BlockedClients:      in.BlockedClients,
		NetInBytesPerSec:    in.NetInputBytesPerSec,
		NetOutBytesPerSec:   in.NetOutputBytesPerSec,
		ConnectedReplicas:   in.ConnectedReplicas,
		ReplicationLagBytes: in.ReplicationLagBytes,
		SlowlogLength:       in.SlowlogLength,
		KeysWatched:         in.KeysWatched,
		PatternsWatched:     in.PatternsWatched,
	}
}

func redisTables(in *redis.InstanceSnapshot, sort string, now time.Time) partials.RedisTablesProps {
	p := partials.RedisTablesProps{
		Name:         in.Name,
		Sort:         sort,
		ClientsTotal: len(in.Clients),
		ClientsError: in.ClientsError,
		SlowlogError: in.SlowlogError,
		Now:          now,
	}
	// The snapshot's slices are shared and read-only: sort a copy.
	clients := slices.Clone(in.Clients)
	sortClients(clients, sort)
	for _, cl := range clients[:min(len(clients), maxClientRows)] {
		p.Clients = append(p.Clients, partials.ClientRow{
			ID: cl.ID, Addr: cl.Addr, Name: cl.Name, User: cl.User,
			AgeSeconds: cl.AgeSeconds, IdleSeconds: cl.IdleSeconds, DB: cl.DB,
			Cmd: cl.Cmd, Flags: cl.Flags, MemoryBytes: cl.MemoryBytes,
		})
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
// first) or name (named clients first, then by address). Ties fall back to the client id.
func sortClients(cs []redis.Client, by string) {
	slices.SortStableFunc(cs, func(a, b redis.Client) int {
		var c int
		switch by {
		case partials.SortAge:
			c = cmp.Compare(b.AgeSeconds, a.AgeSeconds)
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
