// Package vmtest runs a real VictoriaMetrics single-node for tests: the victoria-metrics
// binary of this module's VictoriaMetrics version (a Go tool dependency in go.mod), built by
// `go tool` on first use and cached by the Go build cache, started on a free loopback port
// with its own data directory and stopped when the test ends.
package vmtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// toolPkg is the go.mod tool that builds victoria-metrics.
const toolPkg = "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics"

// VM is one running victoria-metrics single-node.
type VM struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
}

var binary struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of the victoria-metrics binary, building it once per test process
// (`go tool -n`, which builds into the Go build cache; a cold build takes about 30 s).
func Binary(t testing.TB) string {
	t.Helper()
	binary.once.Do(func() {
		cmd := exec.Command("go", "tool", "-n", toolPkg)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			binary.err = fmt.Errorf("cannot build victoria-metrics (go tool -n %s): %w: %s", toolPkg, err, stderr.String())
			return
		}
		binary.path = strings.TrimSpace(string(out))
		if _, err := os.Stat(binary.path); err != nil {
			binary.err = fmt.Errorf("go tool -n gave %q: %w", binary.path, err)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// Start runs a victoria-metrics single-node on a free loopback port with a temporary
// -storageDataPath, waits until /health answers, and stops it (and removes its data) in
// t.Cleanup. Its settings make it read as redwatch's in-process engine does: no retention
// bound (-retentionPeriod=100y, so samples of any age are kept), the newest samples visible
// at once (-search.latencyOffset=1ms) and no response cache (-search.disableCache,
// -search.cacheTimestampOffset=0s). args are appended (later flags win).
func Start(t testing.TB, args ...string) *VM {
	t.Helper()
	bin := Binary(t)
	for attempt := 0; ; attempt++ {
		vm, err := start(t, bin, args)
		if err == nil {
			t.Cleanup(vm.stop)
			return vm
		}
		if attempt == 2 {
			t.Fatal(err)
		}
		t.Logf("victoria-metrics did not start (retrying on another port): %v", err)
	}
}

func start(t testing.TB, bin string, extra []string) (*VM, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	vm := &VM{t: t, port: port, logs: &syncBuffer{}, done: make(chan struct{})}
	args := append([]string{
		"-httpListenAddr=127.0.0.1:" + strconv.Itoa(port),
		"-storageDataPath=" + filepath.Join(t.TempDir(), "vm-data"),
		"-retentionPeriod=100y",
		"-search.latencyOffset=1ms",
		"-search.disableCache",
		"-search.cacheTimestampOffset=0s",
		"-loggerLevel=WARN",
		"-memory.allowedBytes=256MiB",
	}, extra...)
	vm.cmd = exec.Command(bin, args...)
	vm.cmd.Stdout, vm.cmd.Stderr = vm.logs, vm.logs
	if err := vm.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start %s: %w", bin, err)
	}
	go func() { vm.cmd.Wait(); close(vm.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(vm.Root() + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return vm, nil
			}
		}
		select {
		case <-vm.done:
			return nil, fmt.Errorf("victoria-metrics exited: %s", vm.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			vm.stop()
			return nil, fmt.Errorf("victoria-metrics did not answer /health within 30 s: %s", vm.logs.String())
		}
	}
}

// stop ends the process (SIGINT: VictoriaMetrics' graceful stop, then SIGKILL after 10 s).
func (vm *VM) stop() {
	select {
	case <-vm.done:
		return
	default:
	}
	vm.cmd.Process.Signal(os.Interrupt)
	select {
	case <-vm.done:
	case <-time.After(10 * time.Second):
		vm.cmd.Process.Kill()
		<-vm.done
	}
}

// Root is the server's root, http://127.0.0.1:PORT.
func (vm *VM) Root() string { return "http://127.0.0.1:" + strconv.Itoa(vm.port) }

// WriteURL is its Prometheus remote-write endpoint.
func (vm *VM) WriteURL() string { return vm.Root() + "/api/v1/write" }

// PromURL is the root of its Prometheus query API (/api/v1/query etc. are under it), as
// storage.remote takes it.
func (vm *VM) PromURL() string { return vm.Root() + "/prometheus" }

// Logs is what the process printed so far (warnings and errors).
func (vm *VM) Logs() string { return vm.logs.String() }

// Flush makes every sample written so far searchable (/internal/force_flush).
func (vm *VM) Flush() {
	vm.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, vm.Root()+"/internal/force_flush", nil)
	if err != nil {
		vm.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		vm.t.Fatalf("force_flush: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		vm.t.Fatalf("force_flush: HTTP %d", resp.StatusCode)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("cannot find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer is a bytes.Buffer safe for the process' writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil // enough to say what went wrong
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
