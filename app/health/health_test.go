package health

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// fakeStorage answers the checks with a fixed disk state.
type fakeStorage struct{ ds tsdb.DiskState }

func (f fakeStorage) Ping(context.Context) (time.Duration, error) {
	if f.ds.ReadOnly {
		return time.Millisecond, tsdb.ErrReadOnly
	}
	return time.Millisecond, nil
}
func (f fakeStorage) DiskFree() (uint64, error)  { return f.ds.FreeBytes, nil }
func (f fakeStorage) DiskState() tsdb.DiskState  { return f.ds }
func (f fakeStorage) Stats() (tsdb.Stats, error) { return tsdb.Stats{ReadOnly: f.ds.ReadOnly}, nil }

func TestReadyAndDBReportReadOnlyStorage(t *testing.T) {
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := func(ds tsdb.DiskState, wantReady, wantDB int, wantStatus string) {
		t.Helper()
		c := &Checker{Started: time.Now(), Storage: fakeStorage{ds}}
		r := c.Ready(context.Background(), false)
		st := r.Body["checks"].(map[string]any)["storage"].(map[string]any)
		if r.Code != wantReady || st["status"] != wantStatus {
			t.Fatalf("Ready with %+v: %d %v, want %d with storage %s", ds, r.Code, st, wantReady, wantStatus)
		}
		db := c.DB(context.Background(), false)
		if db.Code != wantDB || db.Body["read_only"] != ds.ReadOnly || db.Body["min_free_bytes"] != ds.MinFreeBytes {
			t.Fatalf("DB with %+v: %d %v, want %d", ds, db.Code, db.Body, wantDB)
		}
		if !ds.ReadOnly {
			return
		}
		msg, _ := st["error"].(string)
		if st["read_only"] != true || st["free_bytes"] != ds.FreeBytes || st["min_free_bytes"] != ds.MinFreeBytes ||
			st["since"] != "2026-01-02T03:04:05Z" || !strings.Contains(msg, "1000 bytes free") || !strings.Contains(msg, "limit of 67108864") {
			t.Fatalf("read-only storage check %v: want the reason with free bytes, limit and since", st)
		}
		if db.Body["status"] != "read_only" || db.Body["read_only_since"] != "2026-01-02T03:04:05Z" {
			t.Fatalf("/health/db while read-only: %v", db.Body)
		}
	}
	f(tsdb.DiskState{FreeBytes: 1 << 30, MinFreeBytes: 64 << 20, Since: since}, http.StatusOK, http.StatusOK, "ok")
	f(tsdb.DiskState{ReadOnly: true, FreeBytes: 1000, MinFreeBytes: 64 << 20, Since: since}, http.StatusServiceUnavailable, http.StatusServiceUnavailable, "read_only")
}
