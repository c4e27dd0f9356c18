package tsdb

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
)

// Engine names the storage engine for health output.
const Engine = "VictoriaMetrics lib/storage v1.150.0"

// Stats describes the store for health checks and the status page.
type Stats struct {
	Series         uint64    // series in the index
	Rows           uint64    // samples stored (including not yet merged ones)
	PendingRows    uint64    // samples not yet searchable
	DiskUsedBytes  int64     // bytes under Path
	DiskFreeBytes  uint64    // free bytes on Path's filesystem for this user
	ReadOnly       bool      // storage turned read-only because free space is below the limit
	RollupsUntil   time.Time // end of the newest 5-minute rollup bucket; zero before the first
	SamplesWritten uint64    // accepted by Write since Open
	Path           string
}

// Stats gathers Stats. It walks the data directory, so call it at most every few seconds.
func (db *DB) Stats() (Stats, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return Stats{}, ErrClosed
	}
	var m storage.Metrics
	db.s.UpdateMetrics(&m)
	tm := &m.TableMetrics
	st := Stats{
		Rows:           tm.TotalRowsCount(),
		PendingRows:    tm.PendingRows,
		ReadOnly:       db.ReadOnly(),
		SamplesWritten: db.samplesWritten.Load(),
		Path:           db.opts.Path,
		RollupsUntil:   db.RollupWatermark(),
	}
	if n, err := db.s.GetSeriesCount(uint64(time.Now().Add(10 * time.Second).Unix())); err == nil {
		st.Series = n
	}
	_ = filepath.WalkDir(db.opts.Path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			st.DiskUsedBytes += info.Size()
		}
		return nil
	})
	st.DiskFreeBytes, _ = db.DiskFree()
	return st, nil
}

// DiskFree returns the bytes free for this user on the data directory's filesystem. It is one
// statfs call, cheap enough for every readiness probe (Stats walks the directory).
func (db *DB) DiskFree() (uint64, error) {
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(db.opts.Path, &sfs); err != nil {
		return 0, fmt.Errorf("cannot read free space of %s: %w", db.opts.Path, err)
	}
	return sfs.Bavail * uint64(sfs.Bsize), nil
}

// Ping measures a small index lookup and checks that the data directory is writable and the
// storage is not read-only. It is what readiness checks call.
func (db *DB) Ping(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	sel, err := ParseSelector(`redwatch_ping_probe`)
	if err != nil {
		return 0, err
	}
	if _, err := db.SeriesMatching(ctx, sel, time.Now().Add(-time.Minute), time.Now()); err != nil {
		return time.Since(t0), err
	}
	if db.ReadOnly() {
		return time.Since(t0), ErrReadOnly
	}
	if err := checkWritable(db.opts.Path); err != nil {
		return time.Since(t0), err
	}
	return time.Since(t0), nil
}

// OffHeapBytes is the memory VictoriaMetrics' caches of both storages (raw and rollups) hold
// outside the Go heap: their fastcache chunks are mmapped, so the Go memory limit does not
// count them, while the process's resident memory does. It reads storage metrics, so call it
// every few seconds at most.
func (db *DB) OffHeapBytes() int64 {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return 0
	}
	var n uint64
	for _, s := range []*storage.Storage{db.s, db.rollup} {
		var m storage.Metrics
		s.UpdateMetrics(&m)
		n += m.TSIDCacheSizeBytes + m.MetricIDCacheSizeBytes + m.MetricNameCacheSizeBytes +
			m.TableMetrics.IndexDBMetrics.LoopsPerDateTagFilterCacheSizeBytes
	}
	return int64(n)
}
