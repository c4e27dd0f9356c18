package web

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// stuckExport is a store whose Export, once its answer began, runs until its context is done,
// as a long export does whose client stops reading (storage checks the context between blocks).
type stuckExport struct {
	*tsdb.DB
	began    chan struct{}
	returned chan time.Time
}

func (s *stuckExport) Export(ctx context.Context, _ *tsdb.Selector, _, _ time.Time, begin func([]string) error, fn func(*tsdb.Series) error) error {
	if err := begin(nil); err != nil {
		return err
	}
	err := fn(&tsdb.Series{Name: "up", Points: []tsdb.Point{{Timestamp: 1, Value: 1}}})
	close(s.began)
	if err == nil {
		<-ctx.Done()
		err = ctx.Err()
	}
	s.returned <- time.Now()
	return err
}

// An export still running when shutdown begins is cut 4 s later: Serve returns and the
// export's context is done then, so storage (whose Close waits for it) is released well within
// SPEC's 10 s from the signal. The query Timeout is far longer, so only the shutdown can end it.
func TestShutdownCutsRunningExport(t *testing.T) {
	st := &stuckExport{began: make(chan struct{}), returned: make(chan time.Time, 1)}
	e := newQueryEnv(t, tsdb.Options{}, QueryLimits{Timeout: time.Minute}, func(db *tsdb.DB) Store { st.DB = db; return st })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, ln) }()

	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/api/v1/export?match[]=up", nil)
	req.Header.Set("Authorization", e.auth)
	go func() {
		// The answer is buffered: the client may see nothing of it before the cut.
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	select {
	case <-st.began:
	case <-time.After(5 * time.Second):
		t.Fatal("the export did not begin")
	}
	t0 := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("Serve still running 8 s after shutdown began")
	}
	if d := time.Since(t0); d < 3*time.Second || d > 6*time.Second {
		t.Fatalf("Serve returned %s after shutdown began, want about 4 s", d)
	}
	select {
	case at := <-st.returned:
		if d := at.Sub(t0); d > 6*time.Second {
			t.Fatalf("export returned %s after shutdown began", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("export still running 2 s after Serve returned: storage's Close would wait for it")
	}
}
