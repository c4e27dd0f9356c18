package ingest

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

type nopWriter struct{}

func (nopWriter) Write([]tsdb.Sample) error  { return nil }
func (nopWriter) CheckTimestamp(int64) error { return nil }

// A request waits up to QueueWait for a slot: it gets one freed within the wait, and 503 with
// Retry-After once the wait is over.
func TestAcquireWaitsThenRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		i := New(Options{Writer: nopWriter{}, MaxConcurrent: 2, QueueWait: 2 * time.Second})
		ctx := context.Background()
		r1, busy := i.acquire(ctx)
		if busy != nil {
			t.Fatal(busy)
		}
		_, busy = i.acquire(ctx)
		if busy != nil {
			t.Fatal(busy)
		}
		got := make(chan *reject, 1)
		start := time.Now()
		go func() {
			release, busy := i.acquire(ctx)
			if busy == nil {
				defer release()
			}
			got <- busy
		}()
		time.Sleep(1500 * time.Millisecond) // (fake time)
		synctest.Wait()
		if len(got) != 0 {
			t.Fatal("third request did not wait for a slot")
		}
		r1()
		if busy := <-got; busy != nil {
			t.Fatalf("slot freed within the wait, still refused: %v", busy)
		}
		if d := time.Since(start); d != 1500*time.Millisecond {
			t.Fatalf("got the slot after %s", d)
		}
		// Two at work (one from the start, the third's slot was released): a fourth waits 2 s.
		_, busy = i.acquire(ctx)
		if busy != nil {
			t.Fatal(busy)
		}
		start = time.Now()
		_, busy = i.acquire(ctx)
		if busy == nil || busy.code != http.StatusServiceUnavailable || busy.retryAfter != "1" || busy.reasons[0] != reasonBusy {
			t.Fatalf("fourth request: %+v", busy)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("refused after %s, want 2s", d)
		}
		if busy.msg != "too many concurrent write requests: 2 are at work and none finished within 2s; retry later" {
			t.Fatalf("message %q", busy.msg)
		}
	})
}

// Samples gives every reason's counter, 0 included, stamped now (selfmon writes them every
// interval with redwatch's own series).
func TestSamplesEveryReason(t *testing.T) {
	i := New(Options{Writer: nopWriter{}})
	i.rejected.add([]string{reasonSampledSeries})
	now := time.Unix(1700000000, 0)
	b := i.Samples(now)
	if len(b) != len(reasons) {
		t.Fatalf("%d samples, want one per reason (%d)", len(b), len(reasons))
	}
	for _, s := range b {
		want := 0.0
		if s.Labels[0].Value == reasonSampledSeries {
			want = 1
		}
		if s.Name != SeriesRejected || s.Value != want || s.Timestamp != now.UnixMilli() {
			t.Fatalf("sample %+v, want %s %v at %d", s, SeriesRejected, want, now.UnixMilli())
		}
	}
}
