package vmtest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/remotewrite"
	"github.com/redwatch/redwatch/tsdb"
)

// Writer is the storage side of a redwatch appliance with [remote_write].url set to a VM: a
// tsdb.DB of its own and a remotewrite.Forwarder to the VM, every batch written to both as
// the app's writer does. It is closed in t.Cleanup.
type Writer struct {
	t   testing.TB
	vm  *VM
	DB  *tsdb.DB
	Fwd *remotewrite.Forwarder
	n   uint64 // samples written
}

// NewWriter opens the Writer's store in a temporary directory and runs its Forwarder to vm.
func NewWriter(t testing.TB, vm *VM) *Writer {
	t.Helper()
	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := remotewrite.New(remotewrite.Options{URL: vm.WriteURL(), FlushInterval: 50 * time.Millisecond, Target: "test VictoriaMetrics"})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { fwd.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		db.Close()
	})
	return &Writer{t: t, vm: vm, DB: db, Fwd: fwd}
}

// Write stores samples locally and queues them for the VM.
func (w *Writer) Write(samples []tsdb.Sample) {
	w.t.Helper()
	if err := w.DB.Write(samples); err != nil {
		w.t.Fatal(err)
	}
	if err := w.Fwd.Write(samples); err != nil {
		w.t.Fatal(err)
	}
	w.n += uint64(len(samples))
}

// Sync waits until the Forwarder has delivered everything written (at most 30 s), then
// flushes the local store and the VM, so that both answer queries with all of it.
func (w *Writer) Sync() {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for w.Fwd.Sent() < w.n {
		if time.Now().After(deadline) {
			w.t.Fatalf("the forwarder delivered %d of %d samples in 30 s: %+v", w.Fwd.Sent(), w.n, w.Fwd.Stats())
		}
		time.Sleep(10 * time.Millisecond) // polling for delivery, not timing an assertion
	}
	w.DB.Flush()
	w.vm.Flush()
}
