// Package redistest starts real redis-server processes for tests: each on its own free
// loopback port (never 6379), with persistence off and its files in a test temp directory.
// A missing redis-server fails the test; it never skips (`.ci/run` installs it).
package redistest

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Server is one running redis-server. Methods may be called from the test goroutine only.
type Server struct {
	t    testing.TB
	port int
	dir  string
	args []string
	tls  *tls.Config // nil: plain TCP

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Start runs redis-server with extra configuration args (e.g. "--requirepass", "s3cret", or
// "--user", "alice on >pw ~* +@all") and waits until it answers. The server is killed when the
// test ends.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not found (install it: apt-get install -y redis-server): %v", err)
	}
	s := &Server{t: t, port: FreePort(t), dir: t.TempDir(), args: args}
	s.start()
	t.Cleanup(s.Kill)
	return s
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("cannot find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Addr is "127.0.0.1:PORT"; it stays the same across Stop/Restart.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.port }

func (s *Server) start() {
	s.t.Helper()
	port := []string{"--port", strconv.Itoa(s.port)}
	if s.tls != nil {
		port = []string{"--port", "0", "--tls-port", strconv.Itoa(s.port)}
	}
	args := append(append(port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--daemonize", "no", "--logfile", filepath.Join(s.dir, "redis.log"),
		"--protected-mode", "no",
	), s.args...)
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("cannot start redis-server: %v", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var c net.Conn
		var err error
		if s.tls != nil {
			c, err = tls.DialWithDialer(&net.Dialer{Timeout: 200 * time.Millisecond}, "tcp", s.Addr(), s.tls)
		} else {
			c, err = net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		}
		if err == nil {
			// Any reply (PONG or NOAUTH) means it is serving.
			fmt.Fprint(c, "PING\r\n")
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if rerr == nil && (strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH")) {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server on %s did not come up in 10s: %v\n%s", s.Addr(), err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the server at once (SIGKILL) and waits for it; a no-op when not running.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// running reports whether the server process is running (not killed).
func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Pause stops the server process with SIGSTOP: it keeps its port and accepts TCP
// connections (the kernel completes the handshake) but answers nothing until Resume.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig os.Signal) {
	s.t.Helper()
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		s.t.Fatalf("redis-server on %s is not running", s.Addr())
	}
	if err := cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("cannot signal redis-server: %v", err)
	}
}

// Restart starts the server again on the same port, with an empty dataset.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.start()
}

// Client returns a go-redis client for the server (default user, no password unless given),
// closed when the test ends.
func (s *Server) Client(opts ...func(*goredis.Options)) *goredis.Client {
	o := &goredis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, TLSConfig: s.tls}
	for _, f := range opts {
		f(o)
	}
	c := goredis.NewClient(o)
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Do runs one command on a fresh client and fails the test on error.
func (s *Server) Do(args ...any) any {
	s.t.Helper()
	c := s.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := c.Do(ctx, args...).Result()
	if err != nil && err != goredis.Nil {
		s.t.Fatalf("redis %v: %v", args, err)
	}
	return v
}
