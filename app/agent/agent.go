// Package agent is `redwatch agent`: it samples the host it runs on with the host sampler and
// pushes the samples to a redwatch hub's POST /api/v1/write (Prometheus remote write) with a
// bearer token.
//
// Each round (one Write of the host sampler, host_up included) is queued in a
// remotewrite.Forwarder and sent at once. While the hub is unreachable (network error, 429,
// 5xx) rounds wait in memory, at most MaxBufferedSamples of them (the oldest are dropped), and
// are sent oldest first, with capped exponential backoff between attempts. A batch the hub
// rejects otherwise (401 for a bad token, 400) is dropped and logged once; later rounds are
// still sent.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/app/remotewrite"
	"github.com/redwatch/redwatch/app/sampler/host"
)

// WritePath is the hub's remote-write endpoint, relative to the hub's URL.
const WritePath = "api/v1/write"

// DefaultMaxBufferedSamples bounds the samples kept while the hub is unreachable: about an hour
// of 10-second rounds of a host with ~130 series.
const DefaultMaxBufferedSamples = 50_000

// Options configure an Agent. Hub, Token and Interval are required.
type Options struct {
	// Hub is the hub's base URL, http:// or https://, optionally with a path prefix
	// (https://hub.example/redwatch); samples go to Hub + "/api/v1/write".
	Hub string
	// Token is sent as "Authorization: Bearer Token"; the hub lists it in [ingest].tokens.
	Token string
	// Interval between two rounds of sampling.
	Interval time.Duration
	// Host is the value of the "host" label; "" means os.Hostname().
	Host string
	// Logger receives the agent's lines (start, stop, hub state changes). nil discards logs.
	Logger *slog.Logger
	// MaxBufferedSamples bounds the samples waiting for the hub; default
	// DefaultMaxBufferedSamples.
	MaxBufferedSamples int

	// The rest default to remotewrite's defaults (10 s per request, backoff 1 s to 5 s, 5 s
	// final flush); tests shorten them.
	Client                 *http.Client
	MinBackoff, MaxBackoff time.Duration
	FinalFlushTimeout      time.Duration
	// Clock schedules the rounds and the forwarder's waits (flushes, backoff, the final flush's
	// bound) and stamps the samples; nil means the real clock. Tests inject a fake one.
	Clock host.Clock
}

// Agent samples this host and pushes to a hub. Build it with New; call Run once.
type Agent struct {
	sampler  *host.Sampler
	fwd      *remotewrite.Forwarder
	log      *slog.Logger
	interval time.Duration
}

// New checks opts and builds the Agent; it sends nothing yet.
func New(opts Options) (*Agent, error) {
	endpoint, err := Endpoint(opts.Hub)
	if err != nil {
		return nil, fmt.Errorf("cannot create agent: %w", err)
	}
	if strings.TrimSpace(opts.Token) == "" {
		return nil, errors.New("cannot create agent: the token is empty")
	}
	if opts.Interval <= 0 {
		return nil, fmt.Errorf("cannot create agent: interval must be > 0, got %s", opts.Interval)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxSamples := opts.MaxBufferedSamples
	if maxSamples <= 0 {
		maxSamples = DefaultMaxBufferedSamples
	}
	var after func(time.Duration) <-chan time.Time
	var now func() time.Time
	if opts.Clock != nil {
		after, now = opts.Clock.After, opts.Clock.Now
	}
	fwd, err := remotewrite.New(remotewrite.Options{
		URL:             endpoint,
		Logger:          log,
		MaxQueueSamples: maxSamples,
		FlushInterval:   opts.Interval,
		FlushOnWrite:    true,
		Header: http.Header{
			"Authorization": {"Bearer " + opts.Token},
			"User-Agent":    {"redwatch-agent/" + buildinfo.Version},
		},
		Client:            opts.Client,
		MinBackoff:        opts.MinBackoff,
		MaxBackoff:        opts.MaxBackoff,
		FinalFlushTimeout: opts.FinalFlushTimeout,
		After:             after,
		Now:               now,
		Target:            "hub",
	})
	if err != nil {
		return nil, fmt.Errorf("cannot create agent: %w", err)
	}
	s, err := host.New(host.Options{Interval: opts.Interval, Host: opts.Host, Writer: fwd, Logger: log,
		Clock: opts.Clock})
	if err != nil {
		return nil, fmt.Errorf("cannot create agent: %w", err)
	}
	return &Agent{sampler: s, fwd: fwd, log: log, interval: opts.Interval}, nil
}

// Endpoint returns the remote-write URL of the hub at base, or an error when base is not an
// absolute http(s) URL.
func Endpoint(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("hub %q is not an absolute http:// or https:// URL", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("hub %q: want the hub's base URL, without a query or fragment", u.Redacted())
	}
	return u.JoinPath(WritePath).String(), nil
}

// Host returns the value of the "host" label the agent sends.
func (a *Agent) Host() string { return a.sampler.Host() }

// Sent, Dropped and Failed count samples: accepted by the hub; never sent (buffer full, or
// still buffered when the final flush gave up); rejected by the hub.
func (a *Agent) Sent() uint64    { return a.fwd.Sent() }
func (a *Agent) Dropped() uint64 { return a.fwd.Dropped() }
func (a *Agent) Failed() uint64  { return a.fwd.Failed() }

// Run samples and pushes until ctx is done, then stops sampling, makes one last attempt (at
// most FinalFlushTimeout) to deliver what is buffered, and returns.
func (a *Agent) Run(ctx context.Context) {
	a.log.Info("agent started", "hub", a.fwd.URL(), "host", a.sampler.Host(), "interval", a.interval.String())
	fctx, stopForwarder := context.WithCancel(context.WithoutCancel(ctx))
	defer stopForwarder()
	var wg sync.WaitGroup
	wg.Go(func() { a.fwd.Run(fctx) })

	a.sampler.Run(ctx) // returns when ctx is done; its last round is queued by then
	stopForwarder()
	wg.Wait()
	a.log.Info("agent stopped", "sent_samples", a.Sent(), "dropped_samples", a.Dropped(), "rejected_samples", a.Failed())
}
