package ingest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/tsdb"
)

const (
	// minUpWindow is the shortest time a pushing host stays up after a push.
	minUpWindow = 30 * time.Second
	// missedPushes is how many observed intervals may pass without a push before a host is down.
	missedPushes = 3
	// burstGap: pushes closer together than this are one push split into several requests
	// (Telegraf sends batches); they do not count as an interval.
	burstGap = time.Second
	// keptGaps is how many recent intervals are kept; their median is the observed interval,
	// so one outage or one retry does not change it.
	keptGaps = 5
	// forgetAfter: a host silent this long is no longer reported.
	forgetAfter = 24 * time.Hour
	// maxPushers bounds the hosts tracked, against a pusher that invents host names.
	maxPushers = 10000
)

// pushers tracks hosts that push host_* series.
type pushers struct {
	mu    sync.Mutex
	hosts map[string]*pusher
}

type pusher struct {
	last time.Time
	gaps []time.Duration // most recent last, at most keptGaps
}

// interval is the median of the recent gaps between pushes; 0 before the second push.
func (p *pusher) interval() time.Duration {
	if len(p.gaps) == 0 {
		return 0
	}
	s := slices.Clone(p.gaps)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// observe records that the hosts named by the host label of host_* samples pushed at now.
func (ps *pushers) observe(samples []tsdb.Sample, now time.Time) {
	var seen []string
	for k := range samples {
		s := &samples[k]
		if !strings.HasPrefix(s.Name, "host_") {
			continue
		}
		for _, l := range s.Labels {
			if l.Name == "host" && l.Value != "" && !slices.Contains(seen, l.Value) {
				seen = append(seen, l.Value)
			}
		}
	}
	if len(seen) == 0 {
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, h := range seen {
		p := ps.hosts[h]
		if p == nil {
			if len(ps.hosts) >= maxPushers {
				continue
			}
			ps.hosts[h] = &pusher{last: now}
			continue
		}
		if gap := now.Sub(p.last); gap >= burstGap {
			p.gaps = append(p.gaps, gap)
			if len(p.gaps) > keptGaps {
				p.gaps = slices.Delete(p.gaps, 0, len(p.gaps)-keptGaps)
			}
		}
		if now.After(p.last) {
			p.last = now
		}
	}
}

// Targets lists the hosts that pushed host_* series (what `redwatch agent` sends), sorted by
// name, as /health/targets reports them: Kind "host", Name the host label, Interval the
// observed gap between pushes (the median of the last few), LastSeen the last push, and Up
// when the last push is at most max(3 × Interval, 30s) old; otherwise Error says how long the
// host has been silent. A host silent for 24 h is forgotten.
//
// Targets are marked Pushed: a silent agent is down, but it is no stuck sampler of redwatch's
// and does not make redwatch itself "not ready".
func (i *Ingest) Targets(now time.Time) []health.Target {
	ps := &i.pushers
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := make([]health.Target, 0, len(ps.hosts))
	for name, p := range ps.hosts {
		silent := now.Sub(p.last)
		if silent > forgetAfter {
			delete(ps.hosts, name)
			continue
		}
		iv := p.interval()
		t := health.Target{Kind: "host", Name: name, LastSeen: p.last, Interval: iv, Pushed: true}
		t.Up = silent <= max(missedPushes*iv, minUpWindow)
		if !t.Up {
			t.Error = fmt.Sprintf("no push for %ds", int64(silent/time.Second))
		}
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b health.Target) int { return strings.Compare(a.Name, b.Name) })
	return out
}
