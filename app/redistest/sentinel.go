package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// SentinelOptions shape a Sentinel-managed set. The zero value gives a master, two replicas and
// three sentinels (quorum 2) monitoring it as "mymaster", quick to fail over: the master is
// subjectively down after 1 s and a failover attempt times out after 3 s, so a killed master is
// replaced within a few seconds.
type SentinelOptions struct {
	MasterName      string        // "mymaster"
	Replicas        int           // 2; -1: none
	Sentinels       int           // 3
	Quorum          int           // 2
	DownAfter       time.Duration // 1s: down-after-milliseconds
	FailoverTimeout time.Duration // 3s: failover-timeout
	// ServerArgs are extra redis-server args for the master and the replicas (e.g. a
	// requirepass; the replicas then need a matching masterauth).
	ServerArgs []string
	// SentinelConf are extra sentinel.conf lines (e.g. "requirepass s3cret", a "user" line,
	// "sentinel auth-pass mymaster pw").
	SentinelConf []string
}

// SentinelSet is a running master, its replicas and the sentinels monitoring it, all on free
// loopback ports. Everything is killed when the test ends. Methods may be called from the test
// goroutine only.
type SentinelSet struct {
	t          testing.TB
	MasterName string
	// Master is the master at start; after a failover it may be a replica or dead.
	Master    *Server
	Replicas  []*Server
	Sentinels []*Sentinel
}

// StartSentinelSet starts a master, its replicas (replicating it) and the sentinels, and
// returns once every replica is in sync and every sentinel knows the master, every replica and every other sentinel, so
// that a failover can happen at once. A missing redis-server or redis-sentinel fails the test.
func StartSentinelSet(t testing.TB, o SentinelOptions) *SentinelSet {
	t.Helper()
	if o.MasterName == "" {
		o.MasterName = "mymaster"
	}
	switch {
	case o.Replicas == 0:
		o.Replicas = 2
	case o.Replicas < 0:
		o.Replicas = 0
	}
	if o.Sentinels == 0 {
		o.Sentinels = 3
	}
	if o.Quorum == 0 {
		o.Quorum = 2
	}
	if o.DownAfter == 0 {
		o.DownAfter = time.Second
	}
	if o.FailoverTimeout == 0 {
		o.FailoverTimeout = 3 * time.Second
	}
	if _, err := exec.LookPath("redis-sentinel"); err != nil {
		t.Fatalf("redis-sentinel not found (install it: apt-get install -y redis-sentinel): %v", err)
	}
	set := &SentinelSet{t: t, MasterName: o.MasterName}
	// Redis 7 waits 5 s before a diskless full sync, to serve more replicas at once.
	serverArgs := append([]string{"--repl-diskless-sync-delay", "0"}, o.ServerArgs...)
	set.Master = Start(t, serverArgs...)
	for range o.Replicas {
		args := append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(set.Master.Port())}, serverArgs...)
		set.Replicas = append(set.Replicas, Start(t, args...))
	}
	for _, r := range set.Replicas {
		r.waitLinkUp(10 * time.Second)
	}
	conf := append([]string{
		fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d %d", o.MasterName, set.Master.Port(), o.Quorum),
		fmt.Sprintf("sentinel down-after-milliseconds %s %d", o.MasterName, o.DownAfter.Milliseconds()),
		fmt.Sprintf("sentinel failover-timeout %s %d", o.MasterName, o.FailoverTimeout.Milliseconds()),
		fmt.Sprintf("sentinel parallel-syncs %s %d", o.MasterName, max(1, o.Replicas)),
	}, o.SentinelConf...)
	for range o.Sentinels {
		set.Sentinels = append(set.Sentinels, StartSentinel(t, conf...))
	}
	set.waitDiscovered(o.Replicas, o.Sentinels-1, 20*time.Second)
	return set
}

// waitDiscovered waits until every sentinel sees the master up with replicas replicas and
// others other sentinels.
func (set *SentinelSet) waitDiscovered(replicas, others int, timeout time.Duration) {
	set.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var why string
		for _, s := range set.Sentinels {
			if why != "" {
				break
			}
			m, err := s.Master(set.MasterName)
			switch {
			case err != nil:
				why = fmt.Sprintf("sentinel %s: %v", s.Addr(), err)
			case m["num-slaves"] != strconv.Itoa(replicas) || m["num-other-sentinels"] != strconv.Itoa(others):
				why = fmt.Sprintf("sentinel %s sees %s replicas and %s other sentinels", s.Addr(), m["num-slaves"], m["num-other-sentinels"])
			case m["flags"] != "master":
				why = fmt.Sprintf("sentinel %s flags the master %q", s.Addr(), m["flags"])
			}
		}
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			set.t.Fatalf("sentinels not ready in %s: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SentinelAddrs are the sentinels' "127.0.0.1:PORT", for sentinel_addrs.
func (set *SentinelSet) SentinelAddrs() []string {
	out := make([]string, len(set.Sentinels))
	for i, s := range set.Sentinels {
		out[i] = s.Addr()
	}
	return out
}

// MasterAddr is the master's address as the first sentinel that answers names it ("" when
// none answers).
func (set *SentinelSet) MasterAddr() string {
	for _, s := range set.Sentinels {
		if a, err := s.MasterAddr(set.MasterName); err == nil {
			return a
		}
	}
	return ""
}

// Server returns the server (master or replica) listening on addr, or nil.
func (set *SentinelSet) Server(addr string) *Server {
	for _, s := range append([]*Server{set.Master}, set.Replicas...) {
		if s.Addr() == addr {
			return s
		}
	}
	return nil
}

// WaitFailover waits until a majority of the sentinels name a master other than old, and that
// server answers as a master; it returns the new master's address.
func (set *SentinelSet) WaitFailover(old string, timeout time.Duration) string {
	set.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		votes := map[string]int{}
		for _, s := range set.Sentinels {
			if a, err := s.MasterAddr(set.MasterName); err == nil && a != old {
				votes[a]++
			}
		}
		for a, n := range votes {
			if srv := set.Server(a); n > len(set.Sentinels)/2 && srv != nil && isMaster(srv) {
				return a
			}
		}
		if time.Now().After(deadline) {
			set.t.Fatalf("no failover away from %s in %s (sentinels name %v)", old, timeout, votes)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLinkUp waits until the replica's master_link_status is up (its first sync is done).
func (s *Server) waitLinkUp(timeout time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		info, _ := s.Do("info", "replication").(string)
		if strings.Contains(info, "master_link_status:up") {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("replica %s not in sync after %s:\n%s", s.Addr(), timeout, info)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isMaster(s *Server) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	return err == nil && strings.Contains(info, "role:master")
}

// Sentinel is one running redis-sentinel. Methods may be called from the test goroutine only.
type Sentinel struct {
	t    testing.TB
	port int
	dir  string
	conf []string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// StartSentinel runs redis-sentinel on a free loopback port with the given sentinel.conf lines
// (at least one "sentinel monitor ...") and waits until it answers. It is killed when the test
// ends.
func StartSentinel(t testing.TB, conf ...string) *Sentinel {
	t.Helper()
	if _, err := exec.LookPath("redis-sentinel"); err != nil {
		t.Fatalf("redis-sentinel not found (install it: apt-get install -y redis-sentinel): %v", err)
	}
	s := &Sentinel{t: t, port: FreePort(t), dir: t.TempDir(), conf: conf}
	s.start()
	t.Cleanup(s.Kill)
	return s
}

// Addr is "127.0.0.1:PORT".
func (s *Sentinel) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *Sentinel) start() {
	s.t.Helper()
	path := filepath.Join(s.dir, "sentinel.conf")
	lines := append([]string{
		"port " + strconv.Itoa(s.port),
		"bind 127.0.0.1",
		"daemonize no",
		"protected-mode no",
		"dir " + s.dir,
		"logfile " + filepath.Join(s.dir, "sentinel.log"),
	}, s.conf...)
	// Sentinel rewrites its config file (it must be writable).
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		s.t.Fatalf("cannot write sentinel.conf: %v", err)
	}
	cmd := exec.Command("redis-sentinel", path)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("cannot start redis-sentinel: %v", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "sentinel.log"))
			s.t.Fatalf("redis-sentinel on %s did not come up in 10s: %v\n%s", s.Addr(), err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the sentinel at once (SIGKILL) and waits for it; a no-op when not running.
func (s *Sentinel) Kill() {
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

// Client returns a go-redis client for the sentinel (no password unless given), closed when the
// test ends.
func (s *Sentinel) Client(opts ...func(*goredis.Options)) *goredis.SentinelClient {
	o := &goredis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1}
	for _, f := range opts {
		f(o)
	}
	c := goredis.NewSentinelClient(o)
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Master is SENTINEL MASTER name, on a fresh connection (no password: the helpers' own
// queries need a sentinel without requirepass).
func (s *Sentinel) Master(name string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c := goredis.NewSentinelClient(&goredis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	return c.Master(ctx, name).Result()
}

// MasterAddr is SENTINEL GET-MASTER-ADDR-BY-NAME name as host:port, on a fresh connection.
func (s *Sentinel) MasterAddr(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c := goredis.NewSentinelClient(&goredis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	a, err := c.GetMasterAddrByName(ctx, name).Result()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(a[0], a[1]), nil
}
