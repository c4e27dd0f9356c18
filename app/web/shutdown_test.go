package web

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// pipeListener is a net.Listener of in-memory connections (net.Pipe). In a synctest bubble a
// read or write on them that waits for the other side blocks durably, so the bubble's clock
// moves on while a client stalls or a server holds a request.
type pipeListener struct {
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// DialContext connects a client to the listener, as an http.Transport dials.
func (l *pipeListener) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// pipeServe is a Server running Serve (the product's http.Server) on a pipeListener.
type pipeServe struct {
	client   *http.Client // dials the listener
	shutdown func()       // cancels Serve's context: the shutdown begins
	done     chan struct{}
	err      error // Serve's, once done is closed
}

// servePipe runs srv.Serve on in-memory connections until shutdown or the end of the test,
// which waits for Serve to return. Call it in a synctest bubble.
func servePipe(t *testing.T, srv *Server) *pipeServe {
	ln := newPipeListener()
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{DialContext: ln.DialContext}
	ps := &pipeServe{client: &http.Client{Transport: tr}, shutdown: cancel, done: make(chan struct{})}
	go func() {
		ps.err = srv.Serve(ctx, ln)
		close(ps.done)
	}()
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		cancel()
		<-ps.done
	})
	return ps
}

// stuckExport is a store whose Export, once its answer began, runs until its context is done,
// as a long export does whose client stops reading (storage checks the context between blocks).
type stuckExport struct {
	Store
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
// In a synctest bubble on in-memory connections, the 4 s pass on the bubble's clock.
func TestShutdownCutsRunningExport(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := &stuckExport{began: make(chan struct{}), returned: make(chan time.Time, 1)}
		srv, auth := newQueryServer(t, st, QueryLimits{Timeout: time.Minute})
		ps := servePipe(t, srv)
		req, _ := http.NewRequest(http.MethodGet, "http://redwatch/api/v1/export?match[]=up", nil)
		req.Header.Set("Authorization", auth)
		go func() {
			// The answer is buffered: the client may see nothing of it before the cut.
			if res, err := ps.client.Do(req); err == nil {
				res.Body.Close()
			}
		}()
		select {
		case <-st.began:
		case <-time.After(5 * time.Second):
			t.Fatal("the export did not begin")
		}
		t0 := time.Now()
		ps.shutdown()
		select {
		case <-ps.done:
			if ps.err != nil {
				t.Fatalf("Serve: %v", ps.err)
			}
		case <-time.After(8 * time.Second):
			t.Fatal("Serve still running 8 s after shutdown began")
		}
		if d := time.Since(t0); d != 4*time.Second {
			t.Fatalf("Serve returned %s after shutdown began, want 4 s", d)
		}
		select {
		case at := <-st.returned:
			if d := at.Sub(t0); d != 4*time.Second {
				t.Fatalf("export returned %s after shutdown began, want when Serve returned (4 s)", d)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("export still running 2 s after Serve returned: storage's Close would wait for it")
		}
	})
}
