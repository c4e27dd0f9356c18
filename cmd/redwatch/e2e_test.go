package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redwatch/redwatch/app/redistest"
)

// binary is the redwatch binary built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "redwatch-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "redwatch")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "cannot build redwatch:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// instance is a running redwatch binary.
type instance struct {
	cmd  *exec.Cmd
	base string
	logs *os.File
	done chan error
}

// start runs the binary with the given TOML config and waits until it is ready.
func start(t *testing.T, configTOML string, env ...string) *instance {
	t.Helper()
	return startWithData(t, "", configTOML, env...)
}

// startWithData is start with the data directory at data ("": a new temporary one).
func startWithData(t *testing.T, data, configTOML string, env ...string) *instance {
	t.Helper()
	return launch(t, true, data, configTOML, env...)
}

// startWithDataNotReady is startWithData, but waits only for /health/ready to answer, with
// any status (a start on a full disk is not ready).
func startWithDataNotReady(t *testing.T, data, configTOML string, env ...string) *instance {
	t.Helper()
	return launch(t, false, data, configTOML, env...)
}

func launch(t *testing.T, wantReady bool, data, configTOML string, env ...string) *instance {
	t.Helper()
	dir := t.TempDir()
	if data == "" {
		data = filepath.Join(dir, "data")
	}
	port := redistest.FreePort(t)
	// Top-level keys first: tests never watch the default Redis on 6379 (a test that watches
	// its own [[redis]] says so).
	none := "redis = []\n"
	if strings.Contains(configTOML, "[[redis]]") {
		none = ""
	}
	cfg := fmt.Sprintf("%s[server]\nlisten = \"127.0.0.1:%d\"\n[storage]\npath = %q\n%s", none, port, data, configTOML)
	cfgPath := filepath.Join(dir, "redwatch.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logs, err := os.Create(filepath.Join(dir, "redwatch.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "--config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), logs: logs, done: make(chan error, 1)}
	go func() { in.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			t.Logf("redwatch log:\n%s", b)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(in.base + "/health/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 || !wantReady {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redwatch not ready after 20s (last: %v)", err)
		}
		select {
		case err := <-in.done:
			t.Fatalf("redwatch exited early: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and asserts a clean exit within 10 s.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-in.done:
		if err != nil {
			t.Fatalf("redwatch exited with %v after SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("redwatch did not exit within 10s of SIGTERM")
	}
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// screenshot saves a PNG into $E2E_ARTIFACTS (default: the test's temp dir).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("E2E_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %s", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBrowserLoginLiveHostPanelAndChart(t *testing.T) {
	in := start(t, "[system]\ninterval = \"1s\"\n[ui]\nrefresh = \"500ms\"\n", "REDWATCH_ADMIN_PASSWORD=e2e-password-123")
	ctx := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	// Not logged in: the dashboard sends the browser to the login page.
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/"), chromedp.WaitVisible(css(`[data-testid="login-form"]`))); err != nil {
		t.Fatal(err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "/login") {
		t.Fatalf("not redirected to login: %s %v", loc, err)
	}

	// A wrong password shows an error.
	err := chromedp.Do(ctx,
		chromedp.SendKeys(css(`[data-testid="login-username"]`), "admin"),
		chromedp.SendKeys(css(`[data-testid="login-password"]`), "wrong"),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="login-error"]`)),
	)
	if err != nil {
		t.Fatalf("wrong password: %s", err)
	}
	if msg, err := chromedp.Run(ctx, chromedp.Text(css(`[data-testid="login-error"]`))); err != nil || !strings.Contains(msg, "Wrong") {
		t.Fatalf("wrong password message: %q %v", msg, err)
	}

	// The right password lands on the overview with the live host panel.
	err = chromedp.Do(ctx,
		chromedp.SetValue(css(`[data-testid="login-username"]`), "admin"),
		chromedp.SetValue(css(`[data-testid="login-password"]`), "e2e-password-123"),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="host-panel"]`)),
	)
	if err != nil {
		t.Fatalf("login: %s", err)
	}
	// A marker on window survives only if the page is never reloaded.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__noReload = 42`)); err != nil {
		t.Fatal(err)
	}

	// The panel's numbers change without a page reload. The panel is swapped
	// every 500 ms, so the text is read in one script: a query-then-read pair
	// could find a node that the next swap has already removed.
	read := func() string {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('[data-testid="cpu-percent"]') || {}).textContent || ""`))
		if err != nil {
			t.Fatalf("read cpu-percent: %s", err)
		}
		return strings.TrimSpace(s)
	}
	first, changed := read(), ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && changed == ""; time.Sleep(300 * time.Millisecond) {
		v := read()
		switch {
		case !strings.Contains(first, "%"):
			first = v // still waiting for the first CPU sample
		case v != first && strings.Contains(v, "%"):
			changed = v
		}
	}
	if changed == "" {
		t.Fatalf("CPU value never changed from %q", first)
	}
	if marker, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__noReload || 0`)); err != nil || marker != 42 {
		t.Fatalf("the page reloaded (marker %d, %v)", marker, err)
	}

	// The CPU chart is drawn by uPlot from /api/v1/query_range.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(css(`[data-testid="cpu-chart"][data-chart-ready="true"] canvas`))); err != nil {
		t.Fatalf("chart: %s", err)
	}
	points, err := chromedp.Run(ctx, chromedp.AttributeValue(css(`[data-testid="cpu-chart"]`), "data-points"))
	if err != nil {
		t.Fatalf("chart: %s", err)
	}
	if n, _ := strconv.Atoi(points.Value); n < 1 {
		t.Fatalf("chart has %q points", points.Value)
	}
	screenshot(t, ctx, "overview")
	in.stop(t)
}

func TestSignalsFlushAndRestartKeepsData(t *testing.T) {
	in := start(t, "[system]\ninterval = \"1s\"\n", "REDWATCH_ADMIN_PASSWORD=e2e-password-123")
	time.Sleep(3 * time.Second)
	get := func(in *instance, path string) (int, string) {
		req, _ := http.NewRequest("GET", in.base+path, nil)
		req.SetBasicAuth("admin", "e2e-password-123")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := get(in, "/metrics")
	if code != 200 || !strings.Contains(body, "host_up{") {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	in.stop(t)
	// A restart on the same config and data directory still serves what was stored before
	// SIGTERM.
	in2 := restart(t, in.cmd.Args[len(in.cmd.Args)-1])
	code, body = get(in2, "/api/v1/query_range?query=host_up&step=1&start="+strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10))
	if code != 200 || strings.Count(body, `"1"`) < 2 {
		t.Fatalf("data before restart lost: %d %s", code, body)
	}
	in2.stop(t)
}

// restart starts the binary again with an existing config file.
func restart(t *testing.T, cfgPath string) *instance {
	t.Helper()
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var base string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "listen = "); ok {
			base = "http://" + strings.Trim(v, `"`)
		}
	}
	cmd := exec.Command(binary, "--config", cfgPath)
	cmd.Env = os.Environ()
	logs, _ := os.CreateTemp(t.TempDir(), "log")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{cmd: cmd, base: base, logs: logs, done: make(chan error, 1)}
	go func() { in.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(base + "/health/ready"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("restarted redwatch not ready")
		}
	}
}

// An agent process pushes its host metrics to a hub process; the hub stores them and lists the
// host in /health/targets. (A silent agent turning "down" is tested in app/ingest with a clock.)
func TestAgentPushesToHub(t *testing.T) {
	const token = "e2e-ingest-token-0123456789"
	hub := start(t, "[system]\nenabled = false\n[ingest]\ntokens = [\""+token+"\"]\n", "REDWATCH_ADMIN_PASSWORD=e2e-password-123")
	agent := exec.Command(binary, "agent", "--hub", hub.base, "--interval", "1s", "--host", "agent-e2e")
	agent.Env = append(os.Environ(), "REDWATCH_AGENT_TOKEN="+token)
	logs, err := os.Create(filepath.Join(t.TempDir(), "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	agent.Stdout, agent.Stderr = logs, logs
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- agent.Wait() }()
	t.Cleanup(func() {
		agent.Process.Kill()
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			t.Logf("agent log:\n%s", b)
		}
	})
	targets := func() (int, string) {
		res, err := http.Get(hub.base + "/health/targets/")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	var code int
	var body string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if code, body = targets(); code == 200 && strings.Contains(body, `"name":"agent-e2e"`) && strings.Contains(body, `"status":"up"`) {
			break
		}
	}
	if code != 200 || !strings.Contains(body, `"name":"agent-e2e"`) {
		t.Fatalf("agent never showed up in /health/targets: %d %s", code, body)
	}
	req, _ := http.NewRequest("GET", hub.base+"/api/v1/series?match[]="+url.QueryEscape(`host_cpu_usage_percent{host="agent-e2e"}`), nil)
	req.SetBasicAuth("admin", "e2e-password-123")
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 200 && strings.Contains(string(b), `"host":"agent-e2e"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pushed CPU series not stored: %d %s", res.StatusCode, b)
		}
	}
	// The agent stops cleanly on SIGTERM.
	agent.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("agent exited with %v after SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not exit within 10s of SIGTERM")
	}
	hub.stop(t)
}

// TestKill9LosesAtMostSeconds runs the binary against a real redis-server sampled every second,
// kills it with SIGKILL after runs of 3 s (three in a row, on the same data directory, as a
// crash-looping service would) and 10 s, restarts it once more and counts the redis_up samples
// kept of each run: of the rounds from the first kept sample to the last one sampled before the
// kill (/api/instances' last_seen_at), at most 2 (2 s of samples) may be missing, and no run may
// lose everything.
func TestKill9LosesAtMostSeconds(t *testing.T) {
	srv := redistest.Start(t)
	cfg := fmt.Sprintf("[system]\nenabled = false\n[[redis]]\nname = \"r\"\naddr = %q\ninterval = \"1s\"\ntimeout = \"500ms\"\n", srv.Addr())
	type span struct {
		from, killed, lastSampled time.Time
		slowFlush                 time.Duration // the slowest flush the binary warned about
	}
	var spans []span
	var cfgPath string
	for i, d := range []time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second, 10 * time.Second} {
		t0 := time.Now()
		var in *instance
		if i == 0 {
			in = start(t, cfg, "REDWATCH_ADMIN_PASSWORD="+e2ePassword)
			cfgPath = in.cmd.Args[len(in.cmd.Args)-1]
		} else {
			in = restart(t, cfgPath)
		}
		time.Sleep(time.Until(t0.Add(d)))
		// The newest round the sampler finished: what was sampled, as opposed to what was due.
		var snap []struct {
			LastSeen time.Time `json:"last_seen_at"`
		}
		if code := in.getJSON(t, "/api/instances", &snap); code != 200 || len(snap) != 1 {
			t.Fatalf("/api/instances before the kill: %d %+v", code, snap)
		}
		killed := time.Now()
		if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-in.done
		spans = append(spans, span{t0, killed, snap[0].LastSeen, slowestFlush(t, in.logs.Name())})
	}
	in := restart(t, cfgPath)
	var exported struct{ Timestamps []int64 }
	req, _ := http.NewRequest("GET", in.base+"/api/v1/export?format=json&match[]=redis_up&start="+
		strconv.FormatInt(spans[0].from.Unix()-1, 10)+"&end="+strconv.FormatInt(spans[len(spans)-1].killed.Unix()+1, 10), nil)
	req.SetBasicAuth("admin", e2ePassword)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&exported); err != nil || res.StatusCode != 200 {
		t.Fatalf("export: %d %v", res.StatusCode, err)
	}
	for _, sp := range spans {
		var kept []time.Time
		for _, ts := range exported.Timestamps {
			if at := time.UnixMilli(ts); !at.Before(sp.from) && !at.After(sp.killed) {
				kept = append(kept, at)
			}
		}
		run := sp.killed.Sub(sp.from).Round(100 * time.Millisecond)
		if len(kept) == 0 {
			t.Errorf("a %s run lost every sample to kill -9", run)
			continue
		}
		// 1 s rounds from the first kept sample to the last one sampled (a loaded machine may
		// delay rounds: then fewer were sampled than counted here, which only makes this stricter).
		rounds := int((sp.lastSampled.Sub(kept[0])+500*time.Millisecond)/time.Second) + 1
		tail := sp.killed.Sub(kept[len(kept)-1])
		t.Logf("%s run: kept %d of %d rounds sampled; newest kept %s before the kill, last sampled %s before it",
			run, len(kept), rounds, tail.Round(100*time.Millisecond), sp.killed.Sub(sp.lastSampled).Round(100*time.Millisecond))
		// A flush slower than a second (a disk whose fsync stalls: the binary warns) delays
		// durability by that long; the bound holds for flushes that take less.
		allowed := 2 + int((sp.slowFlush+time.Second-1)/time.Second)
		if sp.slowFlush > 0 {
			t.Logf("%s run: the binary warned of a %s flush; allowing %d lost samples", run, sp.slowFlush, allowed)
		}
		if lost := rounds - len(kept); lost > allowed {
			t.Errorf("a %s run lost %d of %d samples (newest kept %s before the kill); want at most %d", run, lost, rounds, tail, allowed)
		}
	}
	in.stop(t)
}

// slowestFlush returns the longest durability flush the binary's log at path warned about.
func slowestFlush(t *testing.T, path string) time.Duration {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var slowest time.Duration
	for _, line := range strings.Split(string(b), "\n") {
		var rec struct {
			Msg        string `json:"msg"`
			DurationMs int64  `json:"duration_ms"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(rec.Msg, "flushing samples to disk is slow") {
			slowest = max(slowest, time.Duration(rec.DurationMs)*time.Millisecond)
		}
	}
	return slowest
}
