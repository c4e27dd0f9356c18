package redis

import (
	"sync"
	"time"
)

// Phase is one part of an instance's sampling work, timed on its own
// (redwatch_sampler_duration_seconds{phase}).
type Phase int

const (
	// PhaseInfo is the instance round: PING, then INFO, CLIENT LIST, SLOWLOG and LATENCY
	// LATEST (for a cluster: discovery and every node's round).
	PhaseInfo Phase = iota
	// PhaseKeys is a round of the exact keys (every due exact cohort at once), or a sampling
	// pass over the keys a pattern found, from its first chunk to its last.
	PhaseKeys
	// PhaseScan is one pattern's SCAN expansion, from its first page to its commit.
	PhaseScan
	numPhases
)

// String is the phase's label value: "info", "keys" or "scan".
func (p Phase) String() string {
	switch p {
	case PhaseInfo:
		return "info"
	case PhaseKeys:
		return "keys"
	case PhaseScan:
		return "scan"
	}
	return "unknown"
}

// PhaseStat is what is known of one phase's runs since the sampler started.
type PhaseStat struct {
	Phase Phase
	// Last is how long the latest run took; Max the longest, Total all of them (Mean divides).
	Last, Max, Total time.Duration
	// Interval is what the latest run had to fit in: the instance's interval (info), the
	// shortest exact-key interval or the pattern keys' interval (keys), the pattern's
	// scan_interval (scan).
	Interval time.Duration
	Runs     uint64
	// Overruns counts the runs that did not fit: the next run was due (on the sampler's clock)
	// before this one ended, so it started late.
	Overruns uint64
}

// Mean is the average duration of the runs; 0 before the first.
func (s PhaseStat) Mean() time.Duration {
	if s.Runs == 0 {
		return 0
	}
	return s.Total / time.Duration(s.Runs)
}

// PhaseStats records the durations and overruns of one instance's phases. Durations are read
// on its stopwatch (real time in production: they measure the work, whatever clock schedules
// it); whether a run overran is the caller's verdict on the sampler's clock. Start, Observe and
// Stats are safe for concurrent use; every method is a no-op on a nil *PhaseStats (a key
// sampler built without one records nothing).
type PhaseStats struct {
	now func() time.Time // the stopwatch

	mu    sync.Mutex
	stats [numPhases]PhaseStat
}

// NewPhaseStats returns empty stats read on stopwatch; nil is time.Now.
func NewPhaseStats(stopwatch func() time.Time) *PhaseStats {
	if stopwatch == nil {
		stopwatch = time.Now
	}
	return &PhaseStats{now: stopwatch}
}

// Start is the stopwatch's time at the start of a run, for Observe.
func (p *PhaseStats) Start() time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.now()
}

// Observe records a run of ph that began at start (a Start value) and ends now, which had to
// fit in interval; overran says it did not. It returns the run's duration.
func (p *PhaseStats) Observe(ph Phase, start time.Time, interval time.Duration, overran bool) time.Duration {
	if p == nil {
		return 0
	}
	return p.Record(ph, p.now().Sub(start), interval, overran)
}

// Record records a run of ph that took d (measured by the caller); see Observe.
func (p *PhaseStats) Record(ph Phase, d, interval time.Duration, overran bool) time.Duration {
	if p == nil || ph < 0 || ph >= numPhases {
		return d
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.stats[ph]
	s.Phase, s.Last, s.Interval = ph, d, interval
	s.Max = max(s.Max, d)
	s.Total += d
	s.Runs++
	if overran {
		s.Overruns++
	}
	return d
}

// Stats returns the phases that ran at least once, in Phase order.
func (p *PhaseStats) Stats() []PhaseStat {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]PhaseStat, 0, numPhases)
	for _, s := range p.stats {
		if s.Runs > 0 {
			out = append(out, s)
		}
	}
	return out
}

// InstancePhases is one instance's phase record (Manager.Phases).
type InstancePhases struct {
	Name   string
	Phases []PhaseStat // the phases that ran, in Phase order
}

// The key sampler's hooks: each records one finished run of the keys or scan phase. They run
// on the round goroutine and read only its state.

// exactRoundDone records a round of exact keys that began at start: it overran when an exact
// cohort was due again (the earliest next slot) before it ended.
func (k *keySampler) exactRoundDone(start time.Time) {
	if k.phases == nil {
		return
	}
	var next time.Time
	var every time.Duration
	for _, c := range k.cohorts {
		if c.patterns {
			continue
		}
		if next.IsZero() || c.next.Before(next) {
			next = c.next
		}
		if every == 0 || c.interval < every {
			every = c.interval
		}
	}
	k.phases.Observe(PhaseKeys, start, every, !k.clock.Now().Before(next))
}

// passDone records c's sampling pass that just ended: it overran when c was due again before
// it ended (c.next is the slot after the pass's start).
func (k *keySampler) passDone(c *cohort) {
	k.phases.Observe(PhaseKeys, c.passStart, c.interval, !k.clock.Now().Before(c.next))
}

// scanDone records p's scan r, just committed: it overran when p's next scan was due before it
// ended.
func (k *keySampler) scanDone(p *patternState, r *scanRun) {
	k.phases.Observe(PhaseScan, r.started, p.scanEach, !k.clock.Now().Before(p.nextScan))
}
