// Package host samples the machine redwatch runs on (CPU, load, memory, swap, filesystems,
// disk IO, network) with gopsutil and writes the values as tsdb samples named as in SPEC.md
// ("host_*", label host).
//
// A Sampler is built with New and driven by Run, or by calling Collect directly (the agent does
// that to push samples elsewhere). Counters (*_total) are written as the raw kernel counters;
// rates are the reader's business.
package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/redwatch/redwatch/internal/clock"
	"github.com/redwatch/redwatch/tsdb"
)

// Writer stores samples; tsdb.DB satisfies it. Write is called from the goroutine running
// Sampler.Run, one round at a time; the Sampler does not touch the slice afterwards.
type Writer interface {
	Write(samples []tsdb.Sample) error
}

// Options configure a Sampler.
type Options struct {
	// Interval between the starts of two rounds in Run. Must be > 0.
	Interval time.Duration
	// Host is the value of the "host" label; "" means os.Hostname().
	Host string
	// Writer receives every round's samples in Run. Must not be nil.
	Writer Writer
	// Logger receives warnings about failing metric sources (once per state change) and
	// failing writes. nil discards logs.
	Logger *slog.Logger
	// Clock schedules Run's rounds and stamps them; nil means the real clock.
	Clock Clock
}

// Sampler collects this host's metrics. Its methods may be called concurrently: rounds
// (Collect, and the rounds of Run) are serialised, LastRun and LastDuration never wait for a
// round. Run must be called at most once at a time.
type Sampler struct {
	interval time.Duration
	host     string
	w        Writer
	log      *slog.Logger
	clock    Clock

	roundMu sync.Mutex // serialises rounds and guards the fields below
	cpu     cpuSnapshot
	failing map[string]struct{} // metric sources that failed in the previous round

	stuck stuckMounts

	stateMu      sync.Mutex
	lastAt       time.Time
	lastErr      error
	lastDuration time.Duration
}

// New returns a Sampler. It reads the CPU times once, so that the first round, if it comes at
// least minCPUWindow later, already reports host_cpu_usage_percent.
func New(opts Options) (*Sampler, error) {
	if opts.Interval <= 0 {
		return nil, fmt.Errorf("cannot create host sampler: interval must be > 0, got %s", opts.Interval)
	}
	if opts.Writer == nil {
		return nil, errors.New("cannot create host sampler: Writer is nil")
	}
	host := opts.Host
	if host == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("cannot create host sampler: cannot read the host name (set it explicitly): %w", err)
		}
		host = h
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sampler{
		interval: opts.Interval,
		host:     host,
		w:        opts.Writer,
		log:      log,
		clock:    clock.OrReal(opts.Clock),
		failing:  map[string]struct{}{},
	}
	// A failure here is reported by the first round.
	s.cpu.baseline(context.Background())
	return s, nil
}

// Host returns the value of the "host" label on every sample.
func (s *Sampler) Host() string { return s.host }

// LastRun returns when the last round of Run finished (zero before the first one) and its
// error: the Writer's error, or the collection error when every metric source failed.
// A round where only some sources failed (say, disk IO counters hidden in a container) still
// has a nil error; those failures are logged instead.
func (s *Sampler) LastRun() (at time.Time, err error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.lastAt, s.lastErr
}

// LastDuration returns how long the last round of Run took, collection plus write; it is the
// value of redwatch_sampler_duration_seconds{sampler="host"}. Zero before the first round.
func (s *Sampler) LastDuration() time.Duration {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	return s.lastDuration
}

// Run collects and writes one round immediately, then one every Interval, until ctx is done;
// it returns then, without starting another round. A round that takes longer than Interval
// delays the next one (rounds that were due meanwhile are dropped, never queued). Write errors
// are logged once per state change and reported by LastRun. Rounds are scheduled and stamped on
// the Sampler's clock.
func (s *Sampler) Run(ctx context.Context) {
	writeFailing := false
	next := s.clock.Now()
	for {
		now, started := s.clock.Now(), time.Now()
		samples, err := s.Collect(ctx, now)
		if ctx.Err() != nil {
			return
		}
		if len(samples) > 1 {
			err = nil // only some sources failed (more than host_up was collected); Collect logged them
		}
		if werr := s.w.Write(samples); werr != nil {
			if !writeFailing {
				s.log.Warn("cannot write host samples", "host", s.host, "error", werr)
				writeFailing = true
			}
			err = errors.Join(fmt.Errorf("cannot write host samples: %w", werr), err)
		} else if writeFailing {
			s.log.Info("writing host samples works again", "host", s.host)
			writeFailing = false
		}
		s.stateMu.Lock()
		s.lastAt, s.lastErr, s.lastDuration = s.clock.Now(), err, time.Since(started)
		s.stateMu.Unlock()

		for !next.After(now) {
			next = next.Add(s.interval)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(next.Sub(s.clock.Now())):
		}
	}
}
