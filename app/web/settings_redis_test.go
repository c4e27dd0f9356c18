package web

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/app/settings"
	"github.com/redwatch/redwatch/internal/testutil"
)

// The whole path with a real redis-server and a real redis.Manager: a key added through the
// form is sampled within an interval, pausing it stops it, and a restart (reopening the
// settings) gives the same effective set.
func TestSettingsRealRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	cli := srv.Client()
	defer cli.Close()
	ctx := context.Background()
	if err := cli.RPush(ctx, "queue:ui", "a", "b", "c").Err(); err != nil {
		t.Fatal(err)
	}
	fromConfig := settingsConfig(srv.Addr())
	fromConfig[0].Password = "" // the test server has none
	fromConfig[0].Keys = nil
	m, err := redis.NewManager(redis.ManagerOptions{Writer: emptyStore{}}, fromConfig)
	if err != nil {
		t.Fatal(err)
	}
	mctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { m.Run(mctx) })
	defer func() { stop(); wg.Wait() }()

	e := newSettingsEnv(t, fromConfig, m, m.Set)
	admin := e.login("admin", adminPass)
	res, body := e.postForm(t, admin, "/settings/instances/cache/keys", url.Values{"kind": {"key"}, "key": {"queue:ui"}, "interval": {"1s"}})
	settingsRedirected(t, res, body, "/settings?added=")

	sampled := func(want bool) {
		t.Helper()
		testutil.Eventually(t, 5*time.Second, fmt.Sprintf("queue:ui sampled=%v", want), func() (bool, string) {
			var found *redis.KeySnapshot
			for _, k := range m.Keys() {
				if k.Key == "queue:ui" {
					found = &k
				}
			}
			if want {
				return found != nil && found.Exists && found.Length == 3, fmt.Sprintf("%+v", found)
			}
			return found == nil, fmt.Sprintf("%+v", found)
		})
	}
	sampled(true)
	// The page shows the instance up.
	doc := e.page(t, admin, "/settings")
	if st := attr(one(t, oneWith(t, doc, "settings-instance", "data-instance", "cache"), "settings-status"), "data-status"); st != "up" {
		t.Fatalf("status %q", st)
	}

	id := e.svc.View().Instances[0].Keys[0].ID
	res, _ = e.postForm(t, admin, "/settings/keys/"+id+"/pause", url.Values{})
	settingsRedirected(t, res, "", "/settings?paused=")
	sampled(false)
	res, _ = e.postForm(t, admin, "/settings/keys/"+id+"/resume", url.Values{})
	settingsRedirected(t, res, "", "/settings?resumed=")
	sampled(true)

	// Restart: reopening the settings gives the same effective set, which is what runs.
	reopened, err := settings.Open(settings.Options{Dir: e.dir, FromConfig: fromConfig})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(reopened.Effective(), e.svc.Effective()) {
		t.Fatalf("after reopening:\n got %+v\nwant %+v", reopened.Effective(), e.svc.Effective())
	}
	if eff := reopened.Effective(); len(eff) != 1 || len(eff[0].Keys) != 1 || eff[0].Keys[0].Key != "queue:ui" || !eff[0].Keys[0].IsEnabled() {
		t.Fatalf("effective after reopening: %+v", eff)
	}
}
