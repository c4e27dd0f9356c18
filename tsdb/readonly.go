package tsdb

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
)

// Read-only mode. Below Options.MinFreeDiskBytes of free space on the data directory's
// filesystem the store stops writing instead of letting VictoriaMetrics fail a flush into a
// full disk (which it answers with a FATAL exit). While read-only:
//   - Write stores nothing and returns ErrReadOnly; it still updates the latest-value table, so
//     pages and /metrics keep showing current values;
//   - rollups, the rollup watermark and the once-a-second durability flush pause;
//   - VictoriaMetrics stops merging parts (it checks free space itself, about once a second,
//     against the same limit).
//
// A watcher (diskWatchInterval) re-reads the free space and leaves read-only mode by itself when
// space returns. Each change is logged once, at warn when entering and at info when leaving.

// diskWatchInterval is how often free space is read. VictoriaMetrics reads it every second
// (with jitter) too; at redwatch's write rates (kilobytes a second) the 64 MiB default leaves
// minutes of margin between two reads.
const diskWatchInterval = time.Second

// DiskState is the free-space state of the store, for health checks and /status.
type DiskState struct {
	ReadOnly     bool
	FreeBytes    uint64 // free bytes for this user on the data directory's filesystem
	MinFreeBytes uint64 // the limit below which the store is read-only (Options.MinFreeDiskBytes)
	Since        time.Time
	Error        string // the last free-space read failed; "" when it worked
}

// diskWatch owns the read-only state. Its zero value is not ready: see startDiskWatch.
type diskWatch struct {
	mu    sync.Mutex
	state DiskState
	// reserved: Path/reserveFile holds reserveBytes (see keepReserve); reserveFailed: allocating
	// it failed and was logged. Both guarded by mu.
	reserved, reserveFailed bool
	stop                    chan struct{}
	done                    sync.WaitGroup
}

// ReadOnly reports whether the store is read-only (free disk space below the limit at the last
// read). VictoriaMetrics' own flag, read on its own timer, may lag by a second; it only pauses
// its merges, so it is not consulted.
func (db *DB) ReadOnly() bool { return db.readOnly.Load() }

// DiskState returns the state the last free-space read found.
func (db *DB) DiskState() DiskState {
	db.disk.mu.Lock()
	defer db.disk.mu.Unlock()
	return db.disk.state
}

// checkDisk reads the free space, updates the read-only state and logs a change of it. The
// disk watch and persistLoop both call it: the read is made under d.mu, so that a read taken
// before the disk filled is never applied after one taken since (it would leave read-only
// mode, and take back the reserve, on a full disk).
func (db *DB) checkDisk() {
	d := &db.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	free, err := db.DiskFree()
	if err != nil {
		// Keep the previous state: a failing statfs says nothing about space.
		if d.state.Error == "" {
			db.log.Warn("cannot read free disk space", "err", err)
		}
		d.state.Error = err.Error()
		return
	}
	d.state.Error = ""
	free = db.keepReserve(free)
	d.state.FreeBytes = free
	ro := free < d.state.MinFreeBytes
	if ro == d.state.ReadOnly && !d.state.Since.IsZero() {
		return
	}
	first := d.state.Since.IsZero()
	d.state.ReadOnly, d.state.Since = ro, time.Now()
	db.readOnly.Store(ro)
	switch {
	case ro && first:
		db.log.Warn("storage starts read-only: free disk space is below the limit; samples are not stored until space returns",
			"path", db.opts.Path, "free_bytes", free, "min_free_bytes", d.state.MinFreeBytes)
	case ro:
		db.log.Warn("storage is read-only: free disk space is below the limit; samples are not stored until space returns",
			"path", db.opts.Path, "free_bytes", free, "min_free_bytes", d.state.MinFreeBytes)
	case !first:
		db.log.Info("storage is writable again: free disk space is above the limit",
			"path", db.opts.Path, "free_bytes", free, "min_free_bytes", d.state.MinFreeBytes)
	}
}

// startDiskWatch reads the free space once, then every diskWatchInterval until stopDiskWatch.
func (db *DB) startDiskWatch() {
	db.disk.state.MinFreeBytes = uint64(db.opts.MinFreeDiskBytes)
	if st, err := os.Stat(filepath.Join(db.opts.Path, reserveFile)); err == nil && st.Size() == reserveBytes {
		db.disk.reserved = true // from an earlier run
	}
	db.disk.stop = make(chan struct{})
	db.checkDisk()
	db.disk.done.Go(func() {
		t := time.NewTicker(diskWatchInterval)
		defer t.Stop()
		for {
			select {
			case <-db.disk.stop:
				return
			case <-t.C:
				db.checkDisk()
			}
		}
	})
}

func (db *DB) stopDiskWatch() {
	close(db.disk.stop)
	db.disk.done.Wait()
}

// closeMargin is the room Close needs besides VictoriaMetrics' caches: part and metadata
// files, and the samples of the last second, which are still in memory.
const closeMargin = 8 << 20

// closeRoom is the free space Close needs: when VictoriaMetrics closes it saves its caches
// (as large as they are in memory) and writes what it holds in memory; it cannot fail softly
// (a failed write is a FATAL exit), so Close checks first.
func (db *DB) closeRoom() uint64 {
	need := uint64(closeMargin)
	for _, s := range []*storage.Storage{db.s, db.rollup} {
		var m storage.Metrics
		s.UpdateMetrics(&m)
		need += m.TSIDCacheSizeBytes + m.MetricIDCacheSizeBytes + m.MetricNameCacheSizeBytes + m.HourMetricIDCacheSizeBytes
	}
	return need
}

// roomToClose reports whether the disk has the room Close needs, and logs when it has not.
func (db *DB) roomToClose() bool {
	free, err := db.DiskFree()
	if err != nil {
		return true // nothing better to do than try
	}
	need := db.closeRoom()
	if free < need {
		free = db.freeReserve(free) // what it is kept for
	}
	if free >= need {
		return true
	}
	db.log.Warn("storage left unclosed: the disk is too full for VictoriaMetrics to save its caches; "+
		"what was written before storage went read-only is on disk, the next start rebuilds the caches",
		"path", db.opts.Path, "free_bytes", free, "need_bytes", need)
	return false
}

// The disk reserve. A disk filled to the last byte at once (by another process) leaves no room
// for what VictoriaMetrics still holds in memory (at most the last second of samples), which it
// flushes within a few seconds whatever the read-only state, and a failed flush is a FATAL
// exit. So the store keeps reserveBytes allocated in Path/reserveFile while space allows, and
// frees it when free space falls below closeMargin: that flush and Close then have room. Close
// also frees it when the free space alone is short of what it needs (closeRoom). It is
// allocated again once free space is above the limit plus the reserve.
const (
	reserveFile  = "disk-reserve"
	reserveBytes = 32 << 20
)

// keepReserve frees or re-creates the reserve as free space (bytes) asks and returns the free
// space after that; d.mu is held.
func (db *DB) keepReserve(free uint64) uint64 {
	d := &db.disk
	path := filepath.Join(db.opts.Path, reserveFile)
	switch {
	case d.reserved && free < closeMargin:
		return db.freeReserveLocked(free)
	case !d.reserved && free >= d.state.MinFreeBytes+reserveBytes:
		if err := allocate(path, reserveBytes); err != nil {
			if !d.reserveFailed {
				db.log.Warn("cannot allocate the disk reserve; a disk filled at once may stop storage", "path", path, "err", err)
				d.reserveFailed = true
			}
			return free
		}
		d.reserved, d.reserveFailed = true, false
		return free - reserveBytes
	}
	return free
}

// freeReserve frees the reserve, if held, and returns the free space (bytes) after that.
func (db *DB) freeReserve(free uint64) uint64 {
	db.disk.mu.Lock()
	defer db.disk.mu.Unlock()
	if !db.disk.reserved {
		return free
	}
	return db.freeReserveLocked(free)
}

// freeReserveLocked frees the reserve, which is held, and returns the free space after that;
// d.mu is held.
func (db *DB) freeReserveLocked(free uint64) uint64 {
	path := filepath.Join(db.opts.Path, reserveFile)
	if err := os.Remove(path); err != nil {
		db.log.Warn("cannot free the disk reserve", "path", path, "err", err)
		return free
	}
	db.disk.reserved = false
	db.log.Warn("disk nearly full: freed the disk reserve so that storage can flush and close", "path", path, "free_bytes", free, "reserve_bytes", reserveBytes)
	return free + reserveBytes
}

// allocate makes path a file of size bytes with its blocks allocated.
func allocate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	err = syscall.Fallocate(int(f.Fd()), 0, 0, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("cannot allocate %d bytes: %w", size, err)
	}
	return nil
}
