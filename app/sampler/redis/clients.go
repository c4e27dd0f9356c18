package redis

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// maxClientNames caps the distinct client_name label values of redis_clients_by_name; the
// remaining names are summed under client_name="(other)".
const maxClientNames = 50

// otherClientsName is the client_name label of the clients beyond the maxClientNames names.
const otherClientsName = "(other)"

// parseClientList parses a CLIENT LIST reply: one client per line, space-separated k=v fields
// (values never contain spaces; Redis refuses client names with spaces). Unknown fields are
// ignored. A line is skipped as malformed when a field has no "=", when id is missing or not an
// integer, or when age, idle, db, tot-mem, omem or qbuf is present but not an integer. now is when the
// reply was read: LastActive = now - idle. The result is sorted by ID.
func parseClientList(text string, now time.Time) []Client {
	var clients []Client
	for line := range strings.SplitSeq(text, "\n") {
		if c, ok := parseClientLine(strings.TrimSpace(line), now); ok {
			clients = append(clients, c)
		}
	}
	sort.Slice(clients, func(i, j int) bool { return clients[i].ID < clients[j].ID })
	return clients
}

// parseClientLine parses one CLIENT LIST line; ok is false for blank or malformed lines.
func parseClientLine(line string, now time.Time) (Client, bool) {
	var c Client
	if line == "" {
		return c, false
	}
	hasID := false
	for field := range strings.FieldsSeq(line) {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return c, false
		}
		var err error
		switch k {
		case "id":
			c.ID, err = strconv.ParseInt(v, 10, 64)
			hasID = err == nil
		case "addr":
			c.Addr = v
		case "name":
			c.Name = v
		case "user":
			c.User = v
		case "age":
			c.AgeSeconds, err = strconv.ParseInt(v, 10, 64)
		case "idle":
			c.IdleSeconds, err = strconv.ParseInt(v, 10, 64)
		case "db":
			c.DB, err = strconv.Atoi(v)
		case "cmd":
			c.Cmd = v
		case "flags":
			c.Flags = v
		case "tot-mem":
			c.MemoryBytes, err = strconv.ParseInt(v, 10, 64)
		case "omem":
			c.OutputBufferBytes, err = strconv.ParseInt(v, 10, 64)
		case "qbuf":
			c.QueryBufferBytes, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return c, false
		}
	}
	if !hasID {
		return c, false
	}
	c.Age = time.Duration(c.AgeSeconds) * time.Second
	c.Idle = time.Duration(c.IdleSeconds) * time.Second
	c.LastActive = now.Add(-c.Idle)
	return c, true
}

// clientSamples appends, with timestamp ts (unix ms) and label instance=name:
//   - redis_clients_by_name{client_name}: connections per client name; unnamed clients get
//     client_name="" (storage then drops the label). At most maxClientNames distinct names, by
//     count descending then name; the rest are summed under client_name="(other)".
//   - redis_clients_idle{over="1m"} and {over="10m"}: clients idle for more than 60 s / 600 s
//     (always written, 0 when none).
//   - redis_client_output_buffer_max_bytes: the biggest output buffer (omem) of a client other
//     than redwatch's own, the first sign of a consumer that cannot keep up (always written, 0
//     when none).
func clientSamples(dst []tsdb.Sample, name string, ts int64, clients []Client) []tsdb.Sample {
	add := func(metric string, v float64, labels ...tsdb.Label) {
		dst = append(dst, tsdb.Sample{
			Name:      metric,
			Labels:    append([]tsdb.Label{{Name: "instance", Value: name}}, labels...),
			Timestamp: ts,
			Value:     v,
		})
	}

	counts := make(map[string]int)
	var idle1m, idle10m int
	var maxOutput int64
	for _, c := range clients {
		counts[c.Name]++
		if !c.Redwatch { // redwatch's own holds the replies of its pipelined round
			maxOutput = max(maxOutput, c.OutputBufferBytes)
		}
		if c.IdleSeconds > 60 {
			idle1m++
		}
		if c.IdleSeconds > 600 {
			idle10m++
		}
	}

	type nameCount struct {
		name  string
		count int
	}
	byCount := make([]nameCount, 0, len(counts))
	for n, k := range counts {
		byCount = append(byCount, nameCount{n, k})
	}
	sort.Slice(byCount, func(i, j int) bool {
		if byCount[i].count != byCount[j].count {
			return byCount[i].count > byCount[j].count
		}
		return byCount[i].name < byCount[j].name
	})
	other, kept := 0, 0
	for _, nc := range byCount {
		// A client really named "(other)" joins the bucket, so the series is written once.
		if kept >= maxClientNames || nc.name == otherClientsName {
			other += nc.count
			continue
		}
		kept++
		add("redis_clients_by_name", float64(nc.count), tsdb.Label{Name: "client_name", Value: nc.name})
	}
	if other > 0 {
		add("redis_clients_by_name", float64(other), tsdb.Label{Name: "client_name", Value: otherClientsName})
	}

	add("redis_clients_idle", float64(idle1m), tsdb.Label{Name: "over", Value: "1m"})
	add("redis_clients_idle", float64(idle10m), tsdb.Label{Name: "over", Value: "10m"})
	add("redis_client_output_buffer_max_bytes", float64(maxOutput))
	return dst
}
