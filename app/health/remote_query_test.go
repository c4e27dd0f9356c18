package health

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/queryengine"
	"github.com/redwatch/redwatch/app/vmtest"
	"github.com/redwatch/redwatch/tsdb"
)

// TestReadyShowsRemoteQuery: with storage.remote, /health/ready?verbose shows whether the
// remote engine (a real victoria-metrics, then one that is gone) answers, and readiness stays
// 200 either way; without verbose the remote is not asked.
func TestReadyShowsRemoteQuery(t *testing.T) {
	t.Parallel()
	vm := vmtest.Start(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	now := time.Now()
	ok := stubStorage{latency: time.Millisecond, free: 5 << 30, ds: tsdb.DiskState{FreeBytes: 5 << 30, MinFreeBytes: 64 << 20}}
	for _, tt := range []struct {
		url, status, errPart string
	}{
		{vm.PromURL(), "ok", ""},
		{gone.URL, "unavailable", "connection refused"},
	} {
		remote, err := queryengine.NewRemote(queryengine.RemoteOptions{URL: tt.url})
		if err != nil {
			t.Fatal(err)
		}
		c := &Checker{Started: now.Add(-time.Hour), Storage: ok, Now: func() time.Time { return now }, RemoteQuery: remote}
		r := c.Ready(context.Background(), true)
		q := r.Body.Checks.Query
		if r.Code != http.StatusOK || r.Body.Status != "ready" || q == nil || q.Status != tt.status || q.URL != tt.url ||
			!strings.Contains(q.Error, tt.errPart) || (tt.errPart == "") != (q.Error == "") {
			t.Errorf("%s: %d %+v query %+v", tt.url, r.Code, r.Body, q)
		}
		b, err := json.Marshal(r.Body)
		if err != nil || !strings.Contains(string(b), `"query":{`) {
			t.Errorf("%s: JSON %s %v", tt.url, b, err)
		}
		if r := c.Ready(context.Background(), false); r.Body.Checks.Query != nil {
			t.Errorf("%s: not verbose, yet the remote was asked: %+v", tt.url, r.Body.Checks.Query)
		}
	}
}
