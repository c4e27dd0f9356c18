package redis

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/redistest"
)

// slowlogTestString renders entries one per line, times as unix nanoseconds, so entries
// loaded from JSON compare equal to the ones stored.
func slowlogTestString(entries []SlowlogEntry) string {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%d@%d %v %dus %q %s %q\n", e.ID, e.Time.UnixNano(), e.Duration, e.Micros, e.Args, e.ClientAddr, e.ClientName)
	}
	return b.String()
}

// slowlogTestGet reads the whole slowlog of c.
func slowlogTestGet(t *testing.T, c *goredis.Client) []goredis.SlowLog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	entries, err := c.SlowLogGet(ctx, 128).Result()
	if err != nil {
		t.Fatalf("SLOWLOG GET: %v", err)
	}
	return entries
}

// slowlogTestCheckOrder fails when entries are not newest first (by Time, then ID) or repeat.
func slowlogTestCheckOrder(t *testing.T, entries []SlowlogEntry) {
	t.Helper()
	for i := 1; i < len(entries); i++ {
		a, b := entries[i-1], entries[i]
		if a.Time.Before(b.Time) || (a.Time.Equal(b.Time) && a.ID <= b.ID) {
			t.Fatalf("entries %d and %d out of order or repeated:\n%s", i-1, i, slowlogTestString(entries))
		}
	}
}

func TestSlowlogStoreRealRedis(t *testing.T) {
	srv := redistest.Start(t, "--slowlog-log-slower-than", "0")
	c := srv.Client(func(o *goredis.Options) { o.ClientName = "sampler" })
	path := filepath.Join(t.TempDir(), "state", "slowlog", "cache.json") // directories created
	s, err := newSlowlogStore(path, 100)
	if err != nil {
		t.Fatalf("newSlowlogStore: %v", err)
	}

	srv.Do("SET", "big", strings.Repeat("x", 10<<10))
	srv.Do("SET", "bin", "\xff\xfe\x00abc\xc3")
	rpush := []any{"RPUSH", "list"}
	for i := range 40 {
		rpush = append(rpush, fmt.Sprint(i))
	}
	srv.Do(rpush...) // 42 arguments: Redis keeps 31 and "... (11 more arguments)"
	first := slowlogTestGet(t, c)
	n, err := s.add(first)
	if err != nil || n != len(first) || n < 3 {
		t.Fatalf("first add = %d, %v; want %d new", n, err, len(first))
	}
	if n, err := s.add(first); n != 0 || err != nil {
		t.Fatalf("re-adding the same read = %d, %v; want 0", n, err)
	}

	got := s.entries()
	slowlogTestCheckOrder(t, got)
	byCmd := map[string]SlowlogEntry{}
	for _, e := range got {
		byCmd[strings.ToLower(e.Args[0])+" "+e.Args[min(1, len(e.Args)-1)]] = e
		for _, a := range e.Args {
			if !utf8.ValidString(a) {
				t.Fatalf("invalid UTF-8 arg %q", a)
			}
		}
		if len(e.Args) > slowlogMaxArgs || e.Micros != e.Duration.Microseconds() || e.Time.IsZero() {
			t.Fatalf("entry %+v", e)
		}
	}
	if e := byCmd["set big"]; len(e.Args) != 3 || e.Args[2] != strings.Repeat("x", slowlogMaxArgBytes)+"…" {
		t.Fatalf("10 KB arg kept as %q", e.Args)
	}
	if e := byCmd["set bin"]; len(e.Args) != 3 || e.Args[2] != "\uFFFD\x00abc\uFFFD" {
		t.Fatalf("binary arg kept as %q", e.Args)
	}
	if e := byCmd["rpush list"]; len(e.Args) != slowlogMaxArgs || e.Args[14] != "12" || e.Args[15] != "... (27 more arguments)" {
		t.Fatalf("rpush kept as %q", e.Args)
	}
	if e := byCmd["slowlog get"]; e.ClientName != "" && e.ClientName != "sampler" {
		t.Fatalf("client name %q", e.ClientName)
	}

	// A second read overlaps the first: only the later entries are new.
	srv.Do("GET", "big")
	second := slowlogTestGet(t, c)
	maxID := int64(-1)
	for _, e := range first {
		maxID = max(maxID, e.ID)
	}
	wantNew := 0
	for _, e := range second {
		if e.ID > maxID {
			wantNew++
		}
	}
	if n, err := s.add(second); n != wantNew || wantNew < 1 || err != nil {
		t.Fatalf("second add = %d, %v; want %d new", n, err, wantNew)
	}
	slowlogTestCheckOrder(t, s.entries())
	if len(s.entries()) != len(first)+wantNew {
		t.Fatalf("kept %d entries, want %d", len(s.entries()), len(first)+wantNew)
	}

	// After a restart IDs start again at 0: entries with an old ID but a new time are new.
	// Wait for the next second so that no new entry shares a (ID, Time) pair with an old one.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	srv.Restart()
	srv.Do("SET", "after", "restart")
	third := slowlogTestGet(t, c)
	if third[len(third)-1].ID != 0 {
		t.Fatalf("slowlog IDs did not restart: %+v", third)
	}
	before := len(s.entries())
	if n, err := s.add(third); n != len(third) || err != nil {
		t.Fatalf("add after restart = %d, %v; want %d new", n, err, len(third))
	}
	if len(s.entries()) != before+len(third) {
		t.Fatalf("kept %d entries, want %d", len(s.entries()), before+len(third))
	}
	slowlogTestCheckOrder(t, s.entries())

	// Persistence: a new store on the same path sees the same entries; the file is private.
	s2, err := newSlowlogStore(path, 100)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if a, b := slowlogTestString(s.entries()), slowlogTestString(s2.entries()); a != b {
		t.Fatalf("reloaded entries differ:\n%s\nwant\n%s", b, a)
	}
	if n, err := s2.add(third); n != 0 || err != nil {
		t.Fatalf("re-adding to the reloaded store = %d, %v; want 0", n, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("slowlog file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if tmps, _ := filepath.Glob(path + ".tmp*"); len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
}

// slowlogTestEntries returns n synthetic entries with IDs from..from+n-1, one second apart
// starting at base+from seconds.
func slowlogTestEntries(from, n int, base time.Time) []goredis.SlowLog {
	var es []goredis.SlowLog
	for i := from; i < from+n; i++ {
		es = append(es, goredis.SlowLog{
			ID:       int64(i),
			Time:     base.Add(time.Duration(i) * time.Second),
			Duration: time.Duration(i) * time.Millisecond,
			Args:     []string{"GET", fmt.Sprintf("k%d", i)},
		})
	}
	return es
}

func TestSlowlogStoreDedupeAndMax(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	s, err := newSlowlogStore("", 5)
	if err != nil {
		t.Fatalf("newSlowlogStore: %v", err)
	}
	f := func(entries []goredis.SlowLog, wantNew int, wantIDs string) {
		t.Helper()
		n, err := s.add(entries)
		if err != nil || n != wantNew {
			t.Fatalf("add = %d, %v; want %d", n, err, wantNew)
		}
		got := s.entries()
		var ids []string
		for _, e := range got {
			ids = append(ids, fmt.Sprintf("%d@%d", e.ID, e.Time.Unix()-base.Unix()))
		}
		if strings.Join(ids, " ") != wantIDs {
			t.Fatalf("kept %s, want %s", strings.Join(ids, " "), wantIDs)
		}
		slowlogTestCheckOrder(t, got)
	}
	f(nil, 0, "")
	f(slowlogTestEntries(0, 3, base), 3, "2@2 1@1 0@0")
	// Same (ID, Time) pairs, in another order and repeated within one read: nothing new.
	es := slowlogTestEntries(0, 3, base)
	f([]goredis.SlowLog{es[2], es[0], es[1], es[0]}, 0, "2@2 1@1 0@0")
	// Duplicates within one read count once.
	f(append(slowlogTestEntries(3, 1, base), slowlogTestEntries(3, 1, base)...), 1, "3@3 2@2 1@1 0@0")
	// Same IDs at a later time (Redis restarted): new.
	f(slowlogTestEntries(0, 2, base.Add(100*time.Second)), 2, "1@101 0@100 3@3 2@2 1@1")
	// 20 more: only the 5 newest are kept, and only those count as new.
	f(slowlogTestEntries(200, 20, base), 5, "219@219 218@218 217@217 216@216 215@215")
	// Older than everything kept: not new, nothing changes.
	f(slowlogTestEntries(0, 10, base.Add(-time.Hour)), 0, "219@219 218@218 217@217 216@216 215@215")
	// Same time, ordered by ID.
	same := []goredis.SlowLog{{ID: 501, Time: base.Add(time.Hour)}, {ID: 502, Time: base.Add(time.Hour)}}
	f(same, 2, "502@3600 501@3600 219@219 218@218 217@217")

	// entries is a copy.
	got := s.entries()
	got[0].ID = -1
	if s.entries()[0].ID != 502 {
		t.Fatalf("entries shares its slice with the store")
	}

	if _, err := newSlowlogStore("", 0); err == nil {
		t.Fatalf("max 0 accepted")
	}
}

func TestSlowlogStoreFiles(t *testing.T) {
	dir := t.TempDir()
	base := time.Unix(1_700_000_000, 0)

	// A corrupt file is an error naming the path.
	corrupt := filepath.Join(dir, "corrupt.json")
	if err := os.WriteFile(corrupt, []byte(`{"version":1,"entries":[{"id":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newSlowlogStore(corrupt, 10); err == nil || !strings.Contains(err.Error(), corrupt) {
		t.Fatalf("corrupt file: err = %v, want one naming %s", err, corrupt)
	}
	unknown := filepath.Join(dir, "unknown.json")
	if err := os.WriteFile(unknown, []byte(`{"version":99,"entries":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newSlowlogStore(unknown, 10); err == nil || !strings.Contains(err.Error(), unknown) {
		t.Fatalf("unknown version: err = %v, want one naming %s", err, unknown)
	}

	// Round trip, and a smaller max on reload keeps the newest.
	path := filepath.Join(dir, "a", "b.json")
	s, err := newSlowlogStore(path, 10)
	if err != nil {
		t.Fatalf("newSlowlogStore: %v", err)
	}
	entries := slowlogTestEntries(0, 4, base)
	entries[0].ClientAddr, entries[0].ClientName = "10.0.0.1:5000", "api"
	entries[1].Args = []string{"SET", "k", strings.Repeat("é", 100)} // 200 bytes: cut at 128 on a rune boundary
	if n, err := s.add(entries); n != 4 || err != nil {
		t.Fatalf("add = %d, %v", n, err)
	}
	if got := s.entries()[2].Args[2]; got != strings.Repeat("é", 64)+"…" {
		t.Fatalf("multi-byte arg kept as %q", got)
	}
	s2, err := newSlowlogStore(path, 10)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if a, b := slowlogTestString(s.entries()), slowlogTestString(s2.entries()); a != b {
		t.Fatalf("reloaded:\n%s\nwant\n%s", b, a)
	}
	s3, err := newSlowlogStore(path, 2)
	if err != nil {
		t.Fatalf("reopen with max 2: %v", err)
	}
	if got := s3.entries(); len(got) != 2 || got[0].ID != 3 || got[1].ID != 2 {
		t.Fatalf("max 2 kept %s", slowlogTestString(got))
	}

	// A failed write is reported, with the count, and the entries are kept in memory. The
	// directory is replaced by a file, which fails even for root.
	if err := os.RemoveAll(filepath.Dir(path)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Dir(path), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := s.add(slowlogTestEntries(10, 1, base))
	if n != 1 || err == nil {
		t.Fatalf("add with an unwritable directory = %d, %v; want 1 and an error", n, err)
	}
	if s.entries()[0].ID != 10 {
		t.Fatalf("entry not kept in memory after a failed write")
	}
}

func TestSlowlogStoreConcurrent(t *testing.T) {
	s, err := newSlowlogStore(filepath.Join(t.TempDir(), "s.json"), 50)
	if err != nil {
		t.Fatalf("newSlowlogStore: %v", err)
	}
	base := time.Unix(1_700_000_000, 0)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				if _, err := s.add(slowlogTestEntries(g*100+i, 1, base)); err != nil {
					t.Errorf("add: %v", err)
				}
				_ = s.entries()
			}
		})
	}
	wg.Wait()
	got := s.entries()
	if len(got) != 50 {
		t.Fatalf("kept %d entries, want 50", len(got))
	}
	slowlogTestCheckOrder(t, got)
}

func TestSlowlogTruncateArgs(t *testing.T) {
	f := func(args []string, want ...string) {
		t.Helper()
		got := truncateSlowlogArgs(args)
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("truncateSlowlogArgs(%q)\n got %q\nwant %q", args, got, want)
		}
	}
	nums := func(n int) []string {
		var s []string
		for i := range n {
			s = append(s, fmt.Sprint(i))
		}
		return s
	}
	f(nil)
	f([]string{"GET", "k"}, "GET", "k")
	f([]string{"SET", "k", strings.Repeat("x", 10<<10)}, "SET", "k", strings.Repeat("x", 128)+"…")
	f([]string{strings.Repeat("x", 128)}, strings.Repeat("x", 128))                               // exactly the limit
	f([]string{strings.Repeat("€", 50)}, strings.Repeat("€", 42)+"…")                             // 3-byte runes: 126 bytes kept
	f([]string{"\xff\xfe\x00abc"}, "\uFFFD\x00abc")                                               // invalid UTF-8 replaced
	f([]string{strings.Repeat("y", 128) + "... (9872 more bytes)"}, strings.Repeat("y", 128)+"…") // Redis's cut
	f([]string{strings.Repeat("é", 63) + "\xc3... (5 more bytes)"}, strings.Repeat("é", 63)+"…")  // cut mid-rune by Redis: the replacement does not fit
	f(nums(16), nums(16)...)
	f(nums(17), append(nums(15), "... (2 more arguments)")...)
	f(append(nums(31), "... (11 more arguments)"), append(nums(15), "... (27 more arguments)")...)
	f(append(nums(15), "... (3 more arguments)"), append(nums(15), "... (3 more arguments)")...)
	f(append(nums(16), "... (3 more arguments)"), append(nums(15), "... (4 more arguments)")...)
	f([]string{"ECHO", "... (x more arguments)"}, "ECHO", "... (x more arguments)") // not a marker
}
