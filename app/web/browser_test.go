package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium is where the Debian package installs the browser the browser tests drive.
const chromium = "/usr/bin/chromium"

// browserTZ is the time zone the test browser runs in: not UTC, so that a datetime-local input
// read as UTC instead of local time shows.
const browserTZ = "America/New_York"

// browserRefresh is ui.refresh for the browser tests: the shortest chart refresh app.js takes
// (MIN_REFRESH_MS), so that waiting for a poll or for a refresh period is quick.
const browserRefresh = 500 * time.Millisecond

// testBrowser is the one headless chromium the browser tests of this test binary share: the
// first test that needs it starts it, TestMain stops it. Each test works in a tab of its own.
var testBrowser struct {
	once sync.Once
	ctx  context.Context // the browser's first tab, parent of the tests' tabs
	stop func()
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testBrowser.stop != nil {
		testBrowser.stop()
	}
	os.Exit(code)
}

// startTestBrowser starts the shared chromium, once, in browserTZ (like cmd/redwatch's
// end-to-end tests), and returns why it could not.
func startTestBrowser() error {
	testBrowser.once.Do(func() {
		if _, err := os.Stat(chromium); err != nil {
			testBrowser.err = fmt.Errorf("chromium not found (install it: apt-get install -y chromium): %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "redwatch-web-chromium-")
		if err != nil {
			testBrowser.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chromium),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1280, 900),
			chromedp.Env("TZ="+browserTZ),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		testBrowser.ctx, testBrowser.stop = ctx, func() {
			cancel()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		if err := chromedp.Do(ctx); err != nil { // starts the browser
			testBrowser.err = fmt.Errorf("cannot start chromium: %w", err)
		}
	})
	return testBrowser.err
}

// browserTab is a test's tab of the shared browser.
type browserTab struct {
	t   *testing.T
	ctx context.Context // run the test's actions with it
}

// newBrowserTab opens a tab in a browser context of its own, so that cookies stay apart (they
// are per host, and every test server is on 127.0.0.1). It closes when the test ends; its
// actions fail after timeout.
func newBrowserTab(t *testing.T, timeout time.Duration) browserTab {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if err := startTestBrowser(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(testBrowser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancelTimeout)
	return browserTab{t: t, ctx: ctx}
}

// run runs steps in the tab, failing the test with what on an error.
func (b browserTab) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %s", what, err)
	}
}

// login logs user in through the form at loginURL (its ?next= the page to go on to) and waits
// until the page it leads to shows the element then (a CSS selector).
func (b browserTab) login(loginURL, user, password, then string) {
	b.t.Helper()
	b.run("login",
		chromedp.Navigate(loginURL),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="login-password"]`), password),
		chromedp.Click(chromedp.CSS(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(then)),
	)
}

// eval evaluates js in the tab into out: a *string (any value, formatted), *float64 or *bool.
func (b browserTab) eval(what, js string, out any) {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		b.t.Fatalf("%s: %s", what, err)
	}
	switch o := out.(type) {
	case *string:
		*o = fmt.Sprint(v)
	case *float64:
		f, _ := v.(float64)
		*o = f
	case *bool:
		ok, _ := v.(bool)
		*o = ok
	}
}

// waitJS waits until js is truthy, for at most timeout; it survives a navigation (a poll task
// does not, so it tries again on the new page). When it fails the test, it reports the value
// of the JS expression state: what the page looked like.
func (b browserTab) waitJS(what, js string, timeout time.Duration, state string) {
	b.t.Helper()
	var err error
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		_, err = chromedp.Run(b.ctx, chromedp.Poll[any](js, chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(50*time.Millisecond)))
		// A navigation under way destroys the polling context ("context", "navigated"): retry.
		if err == nil || !(strings.Contains(err.Error(), "context") || strings.Contains(err.Error(), "navigated")) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		var s string
		b.eval("state", state, &s)
		b.t.Fatalf("%s: %s\npage state: %s", what, err, s)
	}
}

// location is the tab's current URL.
func (b browserTab) location() *url.URL {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// clickPolled clicks the element sel in a part of the page that htmx polls: when a poll
// replaces the element between finding and clicking it, it clicks the new one.
func clickPolled(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			v, err := chromedp.Click(chromedp.CSS(sel))(ctx, t)
			if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "Could not find node") {
				return v, err
			}
		}
	}
}

// screenshot saves a PNG of the tab into $E2E_ARTIFACTS, when set.
func (b browserTab) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("E2E_ARTIFACTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %s", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
