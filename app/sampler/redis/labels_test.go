package redis

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/tsdb"
)

// A 70 KB key under a watched pattern, a 70 KB stream group name and a 70 KB CLIENT SETNAME
// are sampled with their real names and stored in a real tsdb under shortened labels, which
// selectors naming the full values find; snapshots keep the full names.
func TestLongNamesStoredShortened(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	ctx := context.Background()
	longKey := "x:" + strings.Repeat("a", 70_000)
	stream := "s:" + strings.Repeat("s", 70_000)
	group := strings.Repeat("g", 70_000)
	clientName := "n" + strings.Repeat("c", 70_000)
	keyTestDo(t, c, "rpush", longKey, "1", "2", "3")
	keyTestDo(t, c, "xadd", stream, "*", "f", "v")
	keyTestDo(t, c, "xgroup", "create", stream, group, "0")
	named := srv.Client()
	keyTestDo(t, named, "client", "setname", clientName)

	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Timestamps near now: storage keeps only samples within the retention.
	now := time.Now().Truncate(time.Second)
	k := newKeySampler(keyOptions{
		Instance: "main", Client: c, Timeout: 2 * time.Second, Writer: db,
		Keys: []config.Key{keyTestPattern("x:*", time.Second, 10), keyTestExact(stream, time.Second)},
	})
	if err := k.scanDue(ctx, now); err != nil {
		t.Fatalf("scanDue: %v", err)
	}
	if err := k.sampleDue(ctx, now); err != nil {
		t.Fatalf("sampleDue: %v", err)
	}
	s, _, _ := newTestInstance(t, srv.Addr(), func(r *config.Redis) { r.Name = "main" }, func(o *Options) { o.Writer = db })
	s.Round(ctx, now)
	if !s.Up() {
		t.Fatalf("instance round failed: %+v", s.Snapshot().Error)
	}
	db.Flush()

	// f finds exactly one series for sel, whose label name holds want's stored value.
	f := func(sel, name, want string) tsdb.Series {
		t.Helper()
		got, err := db.Raw(ctx, mustParse(t, sel), now.Add(-time.Minute), now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("%.50s...: %d series, want 1", sel, len(got))
		}
		v := got[0].Label(name)
		if v != tsdb.LabelValue(want) || len(v) > tsdb.MaxLabelValueBytes || !strings.Contains(v, "…[sha256:") {
			t.Fatalf("%.50s...: label %s = %.40q... (%d bytes), want the shortened value", sel, name, v, len(v))
		}
		return got[0]
	}
	if se := f(`redis_key_length{key=`+strconv.Quote(longKey)+`}`, "key", longKey); se.Points[0].Value != 3 {
		t.Fatalf("length of the long key: %+v", se.Points)
	}
	if got, err := db.Raw(ctx, mustParse(t, `redis_pattern_keys{pattern="x:*"}`), now.Add(-time.Minute), now.Add(time.Minute)); err != nil || len(got) != 1 || got[0].Points[0].Value != 1 {
		t.Fatalf("redis_pattern_keys: %+v %v", got, err)
	}
	f(`redis_stream_group_pending{group=`+strconv.Quote(group)+`}`, "group", group)
	f(`redis_stream_group_pending{key=`+strconv.Quote(stream)+`}`, "key", stream)
	f(`redis_clients_by_name{client_name=`+strconv.Quote(clientName)+`}`, "client_name", clientName)

	snap := keyTestSnapshot(t, k, longKey)
	if snap.Key != longKey || snap.KeyLabel != tsdb.LabelValue(longKey) || snap.Length != 3 || snap.Pattern != "x:*" {
		t.Fatalf("snapshot of the long key: length %d, key %d bytes, key_label %d bytes", snap.Length, len(snap.Key), len(snap.KeyLabel))
	}
	if ss := keyTestSnapshot(t, k, stream); len(ss.Groups) != 1 || ss.Groups[0].Name != group {
		t.Fatalf("stream groups: %d", len(ss.Groups))
	}
	var seen bool
	for _, cl := range s.Snapshot().Clients {
		seen = seen || cl.Name == clientName
	}
	if !seen {
		t.Fatal("the client with the long name is not in the instance snapshot")
	}
}

func mustParse(t *testing.T, sel string) *tsdb.Selector {
	t.Helper()
	s, err := tsdb.ParseSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
