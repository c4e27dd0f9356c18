package redis

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
)

// ManagerOptions configure a Manager; they apply to every instance.
type ManagerOptions struct {
	DataDir     string        // storage path (slowlogs are kept under it); "": memory only
	SlowCommand time.Duration // log.slow_command; 0: off
	Writer      Writer
	Logger      *slog.Logger // logger="sampler.redis"; nil: discard
	SlowLogger  *slog.Logger // logger="slow"
	Clock       Clock        // every Sampler's; nil: the real clock
}

// Manager owns one Sampler per watched instance. Set replaces the instance list at any time
// (instances that did not change keep running); Run starts and stops them. Its read methods
// may be called from any goroutine and never send commands to Redis.
type Manager struct {
	opts ManagerOptions

	mu      sync.Mutex
	ctx     context.Context // Run's context; nil before Run
	running map[string]*managed
	wg      sync.WaitGroup
}

type managed struct {
	s      *Sampler
	cancel context.CancelFunc // nil until started
	done   chan struct{}
}

// NewManager builds the samplers of instances (validated, defaults applied) without starting
// them.
func NewManager(opts ManagerOptions, instances []config.Redis) (*Manager, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// go-redis logs pool troubles (each failed dial) through a package-level logger; send it to
	// slog at debug so every line stays JSON and a down instance is logged once per state
	// change, by its Sampler.
	goredis.SetLogger(goredisLog{opts.Logger})
	m := &Manager{opts: opts, running: map[string]*managed{}}
	if err := m.Set(instances); err != nil {
		m.closeAll()
		return nil, err
	}
	return m, nil
}

// Set makes instances the watched set: new names start, removed ones stop, changed ones
// restart with their new configuration, unchanged ones keep running (and their state). On
// error nothing changes.
func (m *Manager) Set(instances []config.Redis) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]config.Redis{}
	for _, r := range instances {
		if _, dup := want[r.Name]; dup {
			return fmt.Errorf("cannot watch redis %q twice", r.Name)
		}
		want[r.Name] = r
	}
	// Build every new sampler first, so that a failure leaves the running set as it was.
	fresh := map[string]*Sampler{}
	for name, r := range want {
		if ms, ok := m.running[name]; ok && reflect.DeepEqual(r, ms.s.Config()) {
			continue
		}
		s, err := New(Options{Config: r, DataDir: m.opts.DataDir, SlowCommand: m.opts.SlowCommand,
			Writer: m.opts.Writer, Logger: m.opts.Logger, SlowLogger: m.opts.SlowLogger, Clock: m.opts.Clock})
		if err != nil {
			for _, f := range fresh {
				_ = f.Close()
			}
			return err
		}
		fresh[name] = s
	}
	for name, ms := range m.running {
		if _, keep := want[name]; !keep || fresh[name] != nil {
			m.stop(ms)
			delete(m.running, name)
		}
	}
	for name, s := range fresh {
		ms := &managed{s: s, done: make(chan struct{})}
		m.running[name] = ms
		if m.ctx != nil {
			m.start(ms)
		}
	}
	return nil
}

// start runs ms under Run's context; m.mu is held.
func (m *Manager) start(ms *managed) {
	ctx, cancel := context.WithCancel(m.ctx)
	ms.cancel = cancel
	m.wg.Go(func() {
		defer close(ms.done)
		ms.s.Run(ctx)
	})
}

// stop stops ms (when started) and waits for it. Closing the client first aborts a round
// waiting on a silent server at once instead of at its timeout; m.mu is held.
func (m *Manager) stop(ms *managed) {
	if ms.cancel != nil {
		ms.cancel()
	}
	_ = ms.s.Close()
	if ms.cancel != nil {
		<-ms.done
	}
}

// Run starts every sampler and returns once ctx is done and all have stopped. Clients are
// closed as soon as ctx is done, so shutdown never waits for a command timeout.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.ctx = ctx
	for _, ms := range m.running {
		m.start(ms)
	}
	m.mu.Unlock()
	<-ctx.Done()
	m.mu.Lock()
	m.ctx = nil // a Set from now on builds samplers without starting them
	m.mu.Unlock()
	m.closeAll()
	m.wg.Wait()
}

// closeAll closes every sampler's client; rounds in flight then fail at once.
func (m *Manager) closeAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ms := range m.running {
		_ = ms.s.Close()
	}
}

// samplers returns the current samplers sorted by name.
func (m *Manager) samplers() []*Sampler {
	m.mu.Lock()
	out := make([]*Sampler, 0, len(m.running))
	for _, ms := range m.running {
		out = append(out, ms.s)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Instances returns every instance's snapshot, sorted by name.
func (m *Manager) Instances() []InstanceSnapshot {
	ss := m.samplers()
	out := make([]InstanceSnapshot, len(ss))
	for i, s := range ss {
		out[i] = s.Snapshot()
	}
	return out
}

// Has reports whether an instance called name is being sampled (ingest refuses pushes of its
// redis_* series).
func (m *Manager) Has(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.running[name]
	return ok
}

// Instance returns one instance's snapshot.
func (m *Manager) Instance(name string) (InstanceSnapshot, bool) {
	m.mu.Lock()
	ms, ok := m.running[name]
	m.mu.Unlock()
	if !ok {
		return InstanceSnapshot{}, false
	}
	return ms.s.Snapshot(), true
}

// Keys returns every tracked key, sorted by instance, then key.
func (m *Manager) Keys() []KeySnapshot {
	var out []KeySnapshot
	for _, s := range m.samplers() {
		out = append(out, s.Keys()...)
	}
	return out
}

// Patterns returns every watched pattern, by instance, then configuration order.
func (m *Manager) Patterns() []PatternSnapshot {
	var out []PatternSnapshot
	for _, s := range m.samplers() {
		out = append(out, s.Patterns()...)
	}
	return out
}

// Phases returns each instance's phase record, sorted by name (for selfmon and /status).
func (m *Manager) Phases() []InstancePhases {
	ss := m.samplers()
	out := make([]InstancePhases, len(ss))
	for i, s := range ss {
		out[i] = InstancePhases{Name: s.Name(), Phases: s.Phases()}
	}
	return out
}

// goredisLog adapts slog to go-redis's logger.
type goredisLog struct{ log *slog.Logger }

func (l goredisLog) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...), "source", "go-redis")
}
