package web

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/remotewrite"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// The [remote_write] endpoint is on /status and in /health/targets/ (URL without its password,
// state, queue, counters, last error); its being down neither fails readiness nor makes
// /health/targets/ 503. A real forwarder, first against a refused port, then a real receiver.
// Not parallel: the receiver listens again on the port it closed, which a test running
// alongside could take meanwhile.
func TestRemoteWriteOnStatusAndHealth(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections are refused
	fwd, err := remotewrite.New(remotewrite.Options{
		URL: "http://bob:s3cret-pw@" + addr + "/api/v1/write", FlushOnWrite: true,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Client: &http.Client{Timeout: 2 * time.Second}, FinalFlushTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); fwd.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	e := newStatusEnv(t, newStatusStore(nil), healthyDisk, func(o *Options) { o.Health.RemoteWrite = fwd.Stats })
	fwd.Write([]tsdb.Sample{{Name: "m", Timestamp: time.Now().UnixMilli(), Value: 1}, {Name: "m", Timestamp: time.Now().UnixMilli() + 1, Value: 2}})
	testutil.WaitFor(t, "the forwarder unavailable", func() bool { return fwd.Stats().State == "unavailable" })

	res, body := e.do(nil, "GET", "/health/targets/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/health/targets/ with the endpoint down: %d %s", res.StatusCode, body)
	}
	var rep struct {
		Status      string `json:"status"`
		Down        int    `json:"down"`
		RemoteWrite struct {
			URL          string  `json:"url"`
			Status       string  `json:"status"`
			State        string  `json:"state"`
			Error        string  `json:"error"`
			LastSuccess  *string `json:"last_success"`
			QueueSamples int     `json:"queue_samples"`
			SentTotal    uint64  `json:"sent_total"`
		} `json:"remote_write"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	rw := rep.RemoteWrite
	if rep.Status != "ok" || rep.Down != 0 || rw.Status != "down" || rw.State != "unavailable" || !strings.Contains(rw.Error, "refused") ||
		rw.LastSuccess != nil || rw.QueueSamples != 2 || rw.URL != fwd.URL() || strings.Contains(body, "s3cret-pw") {
		t.Fatalf("/health/targets/: %s", body)
	}
	if res, body := e.do(nil, "GET", "/health/ready/", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("/health/ready/ with the endpoint down: %d %s", res.StatusCode, body)
	}

	c := e.login("viewer", viewerPass)
	card := func() *html.Node {
		t.Helper()
		res, body := e.do(c, "GET", "/status?fragment=status-summary", nil)
		if res.StatusCode != http.StatusOK || strings.Contains(body, "s3cret-pw") {
			t.Fatalf("/status summary: %d %s", res.StatusCode, body)
		}
		return one(t, parse(t, body), "status-remote-write")
	}
	n := card()
	if attr(n, "data-state") != "unavailable" || text(one(t, n, "rw-state")) != "unavailable" || text(one(t, n, "rw-url")) != fwd.URL() ||
		!strings.Contains(text(one(t, n, "rw-error")), "refused") || text(one(t, n, "rw-queue")) != "2" || text(one(t, n, "rw-sent")) != "0" ||
		text(one(t, n, "rw-last-success")) != "never" {
		t.Fatalf("forwarding card while down: %s", text(n))
	}

	// The receiver comes back: delivering, nothing queued, last success set.
	rln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	rs.Listener.Close()
	rs.Listener = rln
	rs.Start()
	t.Cleanup(rs.Close)
	testutil.WaitFor(t, "both samples delivered", func() bool { return fwd.Sent() == 2 })
	n = card()
	if attr(n, "data-state") != "delivering" || text(one(t, n, "rw-queue")) != "0" || text(one(t, n, "rw-sent")) != "2" ||
		text(one(t, n, "rw-last-success")) == "never" || len(texts(n, "rw-error")) != 0 {
		t.Fatalf("forwarding card after resuming: %s", text(n))
	}
	res, body = e.do(nil, "GET", "/health/targets/", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"status":"up"`) || !strings.Contains(body, `"state":"delivering"`) || !strings.Contains(body, `"sent_total":2`) {
		t.Fatalf("/health/targets/ after resuming: %s", body)
	}
}

// Without [remote_write] there is no forwarding card and no remote_write in /health/targets/.
func TestNoRemoteWriteOnStatus(t *testing.T) {
	t.Parallel()
	e := newStatusEnv(t, newStatusStore(nil), healthyDisk, nil)
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/status", nil)
	if res.StatusCode != http.StatusOK || len(texts(parse(t, body), "status-remote-write")) != 0 {
		t.Fatalf("/status without remote write: %d, card present: %v", res.StatusCode, strings.Contains(body, "status-remote-write"))
	}
	if res, body := e.do(nil, "GET", "/health/targets/", nil); res.StatusCode != http.StatusOK || strings.Contains(body, "remote_write") {
		t.Fatalf("/health/targets/: %d %s", res.StatusCode, body)
	}
}
