package tsdb

import (
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
)

// Durability. VictoriaMetrics keeps new samples in memory before they reach files: pending rows
// for up to 2 s (pendingRowsFlushInterval, fixed), then in-memory parts until
// dataFlushInterval has passed and the next flusher tick (up to 2 × 2 s more); new series'
// index entries (series name -> TSID, in a mergeset per partition) follow the same path. A
// kill -9 loses all of that: about 5 s of samples on average and up to 8 s, and every series
// created in a run shorter than that, with all its samples.
//
// So once a second, when something was written since the last time, persistLoop makes
// VictoriaMetrics write everything it holds in memory, data and index, to files. lib/storage
// exports no such call; creating a snapshot does exactly that flush first (then hard-links the
// parts), so persist creates one and deletes it at once. Files written by the kernel survive
// kill -9 (only a power loss needs fsync, which VictoriaMetrics does on each part anyway), so a
// kill -9 loses at most persistInterval plus one write of samples.

// persistInterval is how often written samples are made durable.
const persistInterval = time.Second

// persistLoop runs persist every persistInterval while samples are written, until stop is
// closed. It pauses while the store is read-only, and reads the free space right before each
// flush, so that a disk filled suddenly makes the store read-only instead of failing the flush.
func (db *DB) persistLoop(stop <-chan struct{}) {
	t := time.NewTicker(persistInterval)
	defer t.Stop()
	var done uint64 // samplesWritten at the last persist
	var slowLogged time.Time
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		n := db.samplesWritten.Load()
		if n == done {
			continue
		}
		db.checkDisk() // a disk that filled since the watcher's last look must not get a flush
		if db.ReadOnly() {
			continue
		}
		t0 := time.Now()
		if db.persist(db.s) {
			done = n
			took := time.Since(t0)
			db.persistNanos.Add(uint64(took))
			db.persists.Add(1)
			if took > persistInterval && time.Since(slowLogged) > time.Minute {
				slowLogged = time.Now()
				db.log.Warn("flushing samples to disk is slow; a kill -9 now loses more than the last second", "duration_ms", took.Milliseconds())
			}
		}
	}
}

// persist writes what s holds in memory to files. It returns false when the DB is closed.
func (db *DB) persist(s *storage.Storage) bool {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return false
	}
	name := s.MustCreateSnapshot()
	if err := s.DeleteSnapshot(name); err != nil {
		db.log.Warn("cannot delete the snapshot made to flush samples to disk", "snapshot", name, "err", err)
	}
	if s == db.rollup {
		db.rollupGen.Add(1) // see rollupGenLabel
	}
	return true
}

// removeSnapshots deletes the snapshots a kill -9 during persist left behind.
func (db *DB) removeSnapshots(s *storage.Storage) {
	for _, name := range s.MustListSnapshots() {
		if err := s.DeleteSnapshot(name); err != nil {
			db.log.Warn("cannot delete a snapshot left by an earlier run", "snapshot", name, "err", err)
		}
	}
}

// PersistStats reports the durability flush: how many ran since Open and their total time.
func (db *DB) PersistStats() (count uint64, total time.Duration) {
	return db.persists.Load(), time.Duration(db.persistNanos.Load())
}
