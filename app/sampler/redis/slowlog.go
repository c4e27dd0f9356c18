package redis

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/atomicfile"
)

// Display limits of slowlog arguments.
const (
	slowlogMaxArgs      = 16  // arguments kept per entry, the "... (N more arguments)" marker included
	slowlogMaxArgBytes  = 128 // bytes kept per argument, before the "…" mark
	slowlogFileVersion  = 1
	slowlogTruncatedArg = "…"
)

// slowlogStore keeps the last max slowlog entries of one instance, newest first (by Time, then
// ID), deduplicated on (ID, Time), persisted as JSON at path so a restart keeps them. Its methods
// are safe for concurrent use. Entries hold command arguments, which may be secrets: they are
// shown on pages only, never logged, and the file is created with mode 0600.
type slowlogStore struct {
	path string // "" means in memory only
	max  int

	mu   sync.Mutex
	list []SlowlogEntry // newest first; entries are never mutated once stored
}

// slowlogFile is the JSON layout of a slowlog store file.
type slowlogFile struct {
	Version int            `json:"version"`
	Entries []SlowlogEntry `json:"entries"`
}

// newSlowlogStore returns a store keeping at most max (>= 1) entries. It loads path when the
// file exists (a corrupt file is an error naming the path) and creates the directory of path
// when missing. path "" means in memory only.
func newSlowlogStore(path string, max int) (*slowlogStore, error) {
	if max < 1 {
		return nil, fmt.Errorf("cannot create slowlog store: max must be >= 1, got %d", max)
	}
	s := &slowlogStore{path: path, max: max}
	if path == "" {
		return s, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("cannot create slowlog directory: %w", err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read slowlog file: %w", err)
	}
	var f slowlogFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("cannot parse slowlog file %q: %w", path, err)
	}
	if f.Version != slowlogFileVersion {
		return nil, fmt.Errorf("cannot parse slowlog file %q: unknown version %d", path, f.Version)
	}
	for _, e := range f.Entries {
		// Duration is not in the JSON: rebuild it from Micros.
		e.Duration = time.Duration(e.Micros) * time.Microsecond
		s.list = append(s.list, e)
	}
	s.list = s.merge(nil)
	return s, nil
}

// slowlogKey identifies an entry: IDs restart at 0 when Redis restarts, so the time is part of it.
type slowlogKey struct {
	id       int64
	unixNano int64
}

func slowlogKeyOf(e SlowlogEntry) slowlogKey { return slowlogKey{e.ID, e.Time.UnixNano()} }

// add merges entries read by SLOWLOG GET (in any order). An entry is new when no kept entry
// has the same (ID, Time) pair. Args are truncated for display (see truncateSlowlogArgs). It
// returns how many entries were new and are kept (entries older than the max kept ones do not
// count) and persists the store when that is more than 0; a write error is returned with the
// count, the in-memory state being updated anyway.
func (s *slowlogStore) add(entries []goredis.SlowLog) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	old := make(map[slowlogKey]bool, len(s.list))
	for _, e := range s.list {
		old[slowlogKeyOf(e)] = true
	}
	var fresh []SlowlogEntry
	for _, r := range entries {
		e := SlowlogEntry{
			ID:         r.ID,
			Time:       r.Time,
			Duration:   r.Duration,
			Micros:     r.Duration.Microseconds(),
			Args:       truncateSlowlogArgs(r.Args),
			ClientAddr: r.ClientAddr,
			ClientName: truncateSlowlogArg(r.ClientName), // a client name may be 64 KB too
		}
		if !old[slowlogKeyOf(e)] {
			fresh = append(fresh, e)
		}
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	merged := s.merge(fresh)
	added := 0
	for _, e := range merged {
		if !old[slowlogKeyOf(e)] {
			added++
		}
	}
	if added == 0 {
		return 0, nil
	}
	s.list = merged
	if err := s.save(); err != nil {
		return added, err
	}
	return added, nil
}

// merge returns a new list of the kept entries plus fresh, deduplicated, newest first, at
// most s.max long. The caller holds s.mu (or owns s).
func (s *slowlogStore) merge(fresh []SlowlogEntry) []SlowlogEntry {
	all := make([]SlowlogEntry, 0, len(s.list)+len(fresh))
	all = append(all, s.list...)
	all = append(all, fresh...)
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].Time.Equal(all[j].Time) {
			return all[i].Time.After(all[j].Time)
		}
		return all[i].ID > all[j].ID
	})
	out := all[:0]
	seen := make(map[slowlogKey]bool, len(all))
	for _, e := range all {
		k := slowlogKeyOf(e)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, e)
		if len(out) == s.max {
			break
		}
	}
	return out
}

// save writes the kept entries to s.path atomically (mode 0600: arguments may hold
// secrets). The caller holds s.mu.
func (s *slowlogStore) save() error {
	if s.path == "" {
		return nil
	}
	data, err := json.Marshal(slowlogFile{Version: slowlogFileVersion, Entries: s.list})
	if err != nil {
		return fmt.Errorf("cannot encode slowlog: %w", err)
	}
	if err := atomicfile.Write(s.path, data); err != nil {
		return fmt.Errorf("cannot save slowlog: %w", err)
	}
	return nil
}

// entries returns a copy of the kept entries, newest first (by Time, then ID). The Args slices
// are shared and must not be modified.
func (s *slowlogStore) entries() []SlowlogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SlowlogEntry(nil), s.list...)
}

// truncateSlowlogArgs returns args shortened for display: at most slowlogMaxArgs arguments,
// the last one then being "... (N more arguments)" (Redis's own marker, which it writes past 32
// arguments, is kept, its N counted in), each argument cut to slowlogMaxArgBytes on a UTF-8
// boundary with "…" appended, and invalid UTF-8 replaced by U+FFFD.
func truncateSlowlogArgs(args []string) []string {
	moreArgs := int64(0)
	hasMarker := false
	if n := len(args); n > 0 {
		if m, ok := parseMoreMarker(args[n-1], "arguments"); ok {
			moreArgs, hasMarker = m, true
			args = args[:n-1]
		}
	}
	total := len(args) // what would be shown, marker included
	if hasMarker {
		total++
	}
	if total > slowlogMaxArgs {
		moreArgs += int64(len(args) - (slowlogMaxArgs - 1))
		args = args[:slowlogMaxArgs-1]
		hasMarker = true
	}
	out := make([]string, 0, len(args)+1)
	for _, a := range args {
		out = append(out, truncateSlowlogArg(a))
	}
	if hasMarker {
		out = append(out, "... ("+strconv.FormatInt(moreArgs, 10)+" more arguments)")
	}
	return out
}

// truncateSlowlogArg returns a cut to slowlogMaxArgBytes on a UTF-8 boundary with "…" appended,
// invalid UTF-8 replaced. Redis's own "... (N more bytes)" suffix (past 128 bytes) becomes "…".
func truncateSlowlogArg(a string) string {
	cut := false
	if i := strings.LastIndex(a, "... ("); i >= 0 {
		if _, ok := parseMoreMarker(a[i:], "bytes"); ok {
			a, cut = a[:i], true
		}
	}
	a = strings.ToValidUTF8(a, "\uFFFD")
	if len(a) > slowlogMaxArgBytes {
		i := slowlogMaxArgBytes
		for i > 0 && !utf8.RuneStart(a[i]) {
			i--
		}
		a, cut = a[:i], true
	}
	if cut {
		a += slowlogTruncatedArg
	}
	return a
}

// parseMoreMarker parses Redis's slowlog markers "... (N more arguments)" and
// "... (N more bytes)", unit being "arguments" or "bytes".
func parseMoreMarker(s, unit string) (int64, bool) {
	rest, ok := strings.CutPrefix(s, "... (")
	if !ok {
		return 0, false
	}
	rest, ok = strings.CutSuffix(rest, " more "+unit+")")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
