package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/labstack/echo/v4"
)

// At most MaxRunning queries run; MaxQueued more wait up to MaxWait; the rest get 503 with
// Retry-After at once. A running query's context carries the Timeout deadline.
func TestQueryGate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		g := newQueryGate(QueryLimits{MaxRunning: 1, MaxQueued: 1, MaxWait: 2 * time.Second, Timeout: 30 * time.Second}, "the query and export endpoints")
		release := make(chan struct{})
		e := echo.New()
		e.GET("/q", func(c echo.Context) error {
			d, ok := c.Request().Context().Deadline()
			if !ok || time.Until(d) != 30*time.Second {
				t.Errorf("running query's deadline in %v (set %v), want 30s", time.Until(d), ok)
			}
			<-release
			return c.String(http.StatusOK, "ok")
		}, g.middleware)
		var mu sync.Mutex
		var wg sync.WaitGroup
		codes := map[string]*httptest.ResponseRecorder{}
		send := func(name string) {
			wg.Go(func() {
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/q", nil))
				mu.Lock()
				codes[name] = rec
				mu.Unlock()
			})
			synctest.Wait()
		}
		result := func(name string) *httptest.ResponseRecorder {
			mu.Lock()
			defer mu.Unlock()
			return codes[name]
		}
		send("running")
		send("queued")
		send("refused")
		if r := result("refused"); r == nil || r.Code != 503 || r.Header().Get("Retry-After") != "1" ||
			!strings.Contains(r.Body.String(), `"errorType":"unavailable"`) || !strings.Contains(r.Body.String(), "1 running and 1 waiting") {
			t.Fatalf("third query with one running and one queued: %+v", r)
		}
		if result("running") != nil || result("queued") != nil {
			t.Fatal("the running or the queued query has answered")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if r := result("queued"); r == nil || r.Code != 503 || r.Header().Get("Retry-After") != "1" || !strings.Contains(r.Body.String(), "waited 2s for one of the 1 query slots") {
			t.Fatalf("queued query after 2s: %+v", r)
		}
		send("queued again")
		close(release)
		wg.Wait()
		for _, name := range []string{"running", "queued again"} {
			if r := result(name); r.Code != 200 {
				t.Errorf("%s: %d %s", name, r.Code, r.Body)
			}
		}
	})
}
