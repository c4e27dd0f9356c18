package tsdb

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb/disktest"
)

func TestReadOnlyBelowFreeSpaceAndBack(t *testing.T) {
	dir := disktest.Mount(t, 200)
	logs := &testutil.SyncBuffer{}
	db, err := Open(Options{Path: dir, MinFreeDiskBytes: 64 << 20, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	up := func(v float64, at time.Time) []Sample {
		return []Sample{{Name: "redis_up", Labels: []Label{{"instance", "r"}}, Timestamp: at.UnixMilli(), Value: v}}
	}
	if err := db.Write(up(1, now.Add(-2*time.Second))); err != nil {
		t.Fatalf("Write before filling: %v", err)
	}

	filler := disktest.Fill(t, dir, 32<<20)
	db.checkDisk()
	if !db.ReadOnly() {
		t.Fatalf("not read-only with 32 MiB free and a 64 MiB limit: %+v", db.DiskState())
	}
	st := db.DiskState()
	if st.FreeBytes >= 64<<20 || st.MinFreeBytes != 64<<20 {
		t.Fatalf("DiskState %+v: want free below the 64 MiB limit", st)
	}
	for i := range 3 {
		err := db.Write(up(0, now.Add(-time.Second+time.Duration(i)*time.Millisecond)))
		if !errors.Is(err, ErrReadOnly) {
			t.Fatalf("Write while read-only: %v, want ErrReadOnly", err)
		}
		db.checkDisk()
	}
	// The latest table still shows the current value; storage has only the first sample.
	if lv, ok := db.LatestOne("redis_up", Label{"instance", "r"}); !ok || lv.Value != 0 {
		t.Fatalf("latest while read-only: %+v %v, want the newest value 0", lv, ok)
	}
	db.Flush()
	got, err := db.Raw(t.Context(), mustSel(t, `redis_up`), now.Add(-time.Minute), now.Add(time.Minute))
	if err != nil || len(got) != 1 || len(got[0].Points) != 1 {
		t.Fatalf("stored while read-only: %+v %v, want only the first sample", got, err)
	}
	w := db.watermark.Load()
	if err := db.RollupUntil(t.Context(), now.Add(time.Hour)); err != nil || db.watermark.Load() != w {
		t.Fatalf("rollups while read-only: err %v, watermark %d -> %d; want paused", err, w, db.watermark.Load())
	}
	if n := strings.Count(logs.String(), "storage is read-only"); n != 1 {
		t.Fatalf("%d log lines about entering read-only, want 1:\n%s", n, logs.String())
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	db.checkDisk()
	db.checkDisk()
	if db.ReadOnly() {
		t.Fatalf("still read-only after the filler was removed: %+v", db.DiskState())
	}
	if err := db.Write(up(1, now)); err != nil {
		t.Fatalf("Write after space returned: %v", err)
	}
	db.Flush()
	got, err = db.Raw(t.Context(), mustSel(t, `redis_up`), now.Add(-time.Minute), now.Add(time.Minute))
	if err != nil || len(got) != 1 || len(got[0].Points) != 2 {
		t.Fatalf("after recovery: %+v %v, want 2 samples", got, err)
	}
	if n := strings.Count(logs.String(), "storage is writable again"); n != 1 {
		t.Fatalf("%d log lines about leaving read-only, want 1:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "switching the storage"); n != 0 {
		t.Fatalf("VictoriaMetrics' own read-only lines leak at info level:\n%s", logs.String())
	}
}

// A start on a full disk (a crash left it so, or something else filled it while redwatch was
// down) opens read-only and says so: no panic, no error, reads work, and Close returns without
// exiting the process. Only a store that does not exist yet cannot be created there.
func TestOpenOnFullDisk(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		t.Run(map[bool]string{false: "existing", true: "fresh"}[fresh], func(t *testing.T) {
			mnt := disktest.Mount(t, 80)
			dir := filepath.Join(mnt, "data")
			now := time.Now()
			if !fresh {
				db, err := Open(Options{Path: dir})
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Write([]Sample{{Name: "redis_up", Labels: []Label{{"instance", "r"}}, Timestamp: now.Add(-time.Minute).UnixMilli(), Value: 1}}); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}
			filler := disktest.Fill(t, mnt, 0)
			if fresh {
				// VictoriaMetrics cannot create a store without writing: a clear error, no exit.
				_, err := Open(Options{Path: dir})
				if err == nil || !strings.Contains(err.Error(), "bytes free on its disk") {
					t.Fatalf("Open of a new store on a full disk: %v, want an error naming the free space", err)
				}
				return
			}
			logs := &testutil.SyncBuffer{}
			db, err := Open(Options{Path: dir, Logger: slog.New(slog.NewTextHandler(io.MultiWriter(logs, os.Stderr), nil))})
			if err != nil {
				t.Fatalf("Open on a full disk: %v", err)
			}
			if !db.ReadOnly() || !strings.Contains(logs.String(), "storage starts read-only") {
				t.Fatalf("not read-only on a full disk (%+v):\n%s", db.DiskState(), logs)
			}
			err = db.Write([]Sample{{Name: "redis_up", Labels: []Label{{"instance", "r"}}, Timestamp: now.UnixMilli(), Value: 0}})
			if !errors.Is(err, ErrReadOnly) {
				t.Fatalf("Write on a full disk: %v, want ErrReadOnly", err)
			}
			if _, err := db.Raw(t.Context(), mustSel(t, `redis_up`), now.Add(-time.Hour), now.Add(time.Minute)); err != nil {
				t.Fatalf("Raw on a full disk: %v", err)
			}
			if err := db.Close(); err != nil {
				t.Fatalf("Close on a full disk: %v", err)
			}
			if !strings.Contains(logs.String(), "storage left unclosed") {
				t.Fatalf("Close on a full disk does not say it left storage unclosed:\n%s", logs)
			}
			// The process goes on (here: the test binary); VictoriaMetrics still runs on the
			// data directory.
			closeLeftUnclosed(t, db, filler)
		})
	}
}

// A disk filled to the last byte at once while samples are in memory: the store frees its
// reserve, goes read-only, and closes properly (VictoriaMetrics' final flush and cache saves
// have room); once space returns the reserve is allocated again.
func TestSuddenFullDiskFreesReserve(t *testing.T) {
	mnt := disktest.Mount(t, 200)
	logs := &testutil.SyncBuffer{}
	db, err := Open(Options{Path: mnt, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	reserve := filepath.Join(mnt, reserveFile)
	if st, err := os.Stat(reserve); err != nil || st.Size() != reserveBytes {
		t.Fatalf("no %d-byte reserve after Open on a 200 MiB disk: %v", reserveBytes, err)
	}
	now := time.Now()
	if err := db.Write([]Sample{{Name: "redis_up", Labels: []Label{{"instance", "r"}}, Timestamp: now.UnixMilli(), Value: 1}}); err != nil {
		t.Fatal(err)
	}
	filler := fillAtOnce(t, db, mnt)
	db.checkDisk()
	if _, err := os.Stat(reserve); !errors.Is(err, os.ErrNotExist) || !db.ReadOnly() {
		t.Fatalf("after the disk filled: reserve %v, read-only %v; want it freed and read-only", err, db.ReadOnly())
	}
	if st := db.DiskState(); st.FreeBytes < reserveBytes {
		t.Fatalf("free %d after freeing the reserve, want at least %d", st.FreeBytes, reserveBytes)
	}
	os.Remove(filler)
	db.checkDisk()
	if st, err := os.Stat(reserve); err != nil || st.Size() != reserveBytes || db.ReadOnly() {
		t.Fatalf("after space returned: reserve %v, read-only %v; want it back and writable", err, db.ReadOnly())
	}
	filler = fillAtOnce(t, db, mnt)
	db.checkDisk()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if s := logs.String(); strings.Count(s, "freed the disk reserve") != 2 || !strings.Contains(s, "storage closed") || strings.Contains(s, "left unclosed") {
		if strings.Contains(s, "left unclosed") {
			closeLeftUnclosed(t, db, filler)
		}
		t.Fatalf("want the reserve freed twice and storage closed properly:\n%s", s)
	}
}

// closeLeftUnclosed gives VictoriaMetrics, still running on a store Close left unclosed, room
// (removes filler) and closes it, so that the tmpfs can be unmounted without a FATAL from it.
func closeLeftUnclosed(t *testing.T, db *DB, filler string) {
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	db.s.MustClose()
	db.rollup.MustClose()
}

// fillAtOnce fills mnt to the last byte with the disk watch and persistLoop held off, as a
// disk filled at once: Fill's last bytes are written until ENOSPC, and a watch that freed the
// reserve meanwhile would see the filler take it (CI once failed so).
func fillAtOnce(t *testing.T, db *DB, mnt string) string {
	db.disk.mu.Lock() // checkDisk takes it
	defer db.disk.mu.Unlock()
	return disktest.Fill(t, mnt, 0)
}

// A disk nearly full but not below closeMargin keeps the reserve; when Close needs more room
// than is free (VictoriaMetrics saves caches as large as in memory) it frees the reserve and
// closes storage properly instead of leaving it unclosed.
func TestCloseUsesReserve(t *testing.T) {
	mnt := disktest.Mount(t, 200)
	logs := &testutil.SyncBuffer{}
	db, err := Open(Options{Path: mnt, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var samples []Sample
	for i := range 2000 {
		samples = append(samples, Sample{Name: "redis_up", Labels: []Label{{"instance", strconv.Itoa(i)}}, Timestamp: now.UnixMilli(), Value: 1})
	}
	if err := db.Write(samples); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	const leave = closeMargin + 4<<20
	need := db.closeRoom()
	if need < leave+1<<20 || need+(1<<20) > leave+reserveBytes {
		t.Fatalf("Close needs %d bytes: the test wants between %d and %d (free plus the reserve)", need, leave, leave+reserveBytes)
	}
	disktest.Fill(t, mnt, leave)
	db.checkDisk()
	if _, err := os.Stat(filepath.Join(mnt, reserveFile)); err != nil || !db.ReadOnly() {
		t.Fatalf("with %d bytes free: reserve %v, read-only %v; want it held and read-only", leave, err, db.ReadOnly())
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if s := logs.String(); !strings.Contains(s, "freed the disk reserve") || !strings.Contains(s, "storage closed") || strings.Contains(s, "left unclosed") {
		t.Fatalf("want the reserve freed and storage closed properly:\n%s", s)
	}
}
