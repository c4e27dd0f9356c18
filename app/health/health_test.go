package health

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// stubStorage answers every check with fixed figures or errors.
type stubStorage struct {
	latency  time.Duration
	pingErr  error
	free     uint64
	freeErr  error
	ds       tsdb.DiskState
	stats    tsdb.Stats
	statsErr error
}

func (s stubStorage) Ping(context.Context) (time.Duration, error) { return s.latency, s.pingErr }
func (s stubStorage) DiskFree() (uint64, error)                   { return s.free, s.freeErr }
func (s stubStorage) DiskState() tsdb.DiskState                   { return s.ds }
func (s stubStorage) Stats() (tsdb.Stats, error)                  { return s.stats, s.statsErr }

func TestReadyAndDBReportReadOnlyStorage(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := func(ds tsdb.DiskState, wantReady, wantDB int, wantStatus string) {
		t.Helper()
		st := stubStorage{latency: time.Millisecond, free: ds.FreeBytes, ds: ds, stats: tsdb.Stats{ReadOnly: ds.ReadOnly}}
		if ds.ReadOnly {
			st.pingErr = tsdb.ErrReadOnly
		}
		c := &Checker{Started: time.Now(), Storage: st}
		r := c.Ready(context.Background(), false)
		check := r.Body.Checks.Storage
		if r.Code != wantReady || check.Status != wantStatus {
			t.Fatalf("Ready with %+v: %d %+v, want %d with storage %s", ds, r.Code, check, wantReady, wantStatus)
		}
		db := c.DB(context.Background(), false)
		if db.Code != wantDB || db.Body.ReadOnly == nil || *db.Body.ReadOnly != ds.ReadOnly || db.Body.MinFreeBytes != ds.MinFreeBytes {
			t.Fatalf("DB with %+v: %d %+v, want %d", ds, db.Code, db.Body, wantDB)
		}
		if !ds.ReadOnly {
			return
		}
		if !check.ReadOnly || check.FreeBytes == nil || *check.FreeBytes != ds.FreeBytes || check.MinFreeBytes == nil || *check.MinFreeBytes != ds.MinFreeBytes ||
			check.Since != "2026-01-02T03:04:05Z" || !strings.Contains(check.Error, "1000 bytes free") || !strings.Contains(check.Error, "limit of 67108864") {
			t.Fatalf("read-only storage check %+v: want the reason with free bytes, limit and since", check)
		}
		if db.Body.Status != "read_only" || db.Body.ReadOnlySince != "2026-01-02T03:04:05Z" {
			t.Fatalf("/health/db while read-only: %+v", db.Body)
		}
	}
	f(tsdb.DiskState{FreeBytes: 1 << 30, MinFreeBytes: 64 << 20, Since: since}, http.StatusOK, http.StatusOK, "ok")
	f(tsdb.DiskState{ReadOnly: true, FreeBytes: 1000, MinFreeBytes: 64 << 20, Since: since}, http.StatusServiceUnavailable, http.StatusServiceUnavailable, "read_only")
}
