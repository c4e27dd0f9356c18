package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/tsdb"
)

// Defaults of Options.
const (
	DefaultMaxQueueSamples   = 100_000
	DefaultBatchSamples      = 5_000
	DefaultFlushInterval     = 5 * time.Second
	DefaultFinalFlushTimeout = 5 * time.Second
)

// Options configure a Forwarder. Only URL is required.
type Options struct {
	// URL is the receiver's remote-write endpoint, absolute http:// or https://. Userinfo
	// (https://user:pass@host/...) is sent as HTTP Basic authentication, unless Header sets
	// Authorization; logs show the URL without the password.
	URL string
	// Logger receives one line per change of state (delivering, receiver unavailable, samples
	// rejected, queue overflowing). nil discards logs.
	Logger *slog.Logger
	// MaxQueueSamples bounds the samples waiting to be sent; when a Write would exceed it the
	// oldest are dropped. Default DefaultMaxQueueSamples.
	MaxQueueSamples int
	// BatchSamples is the most samples one request carries. Default DefaultBatchSamples.
	BatchSamples int
	// FlushInterval is how often Run sends what is queued when less than a batch is.
	// Default DefaultFlushInterval.
	FlushInterval time.Duration
	// FlushOnWrite makes Run send as soon as Write queues samples instead of waiting for a full
	// batch or FlushInterval. The agent uses it: one Write is one round of host samples.
	FlushOnWrite bool
	// Header is added to every request, e.g. Authorization. Without User-Agent, requests carry
	// "redwatch/<version>".
	Header http.Header
	// Client sends the requests; nil means an http.Client with DefaultTimeout.
	Client *http.Client
	// MinBackoff and MaxBackoff bound the waits between retries; defaults DefaultMinBackoff
	// and DefaultMaxBackoff (5 s: the receiver is tried again at least that often while it is
	// down, so sending resumes at most MaxBackoff after it answers). A Retry-After of the
	// receiver is honoured up to MaxRetryAfter.
	MinBackoff, MaxBackoff time.Duration
	// After is the clock of every wait of Run: FlushInterval, the backoff between retries and
	// FinalFlushTimeout; nil means time.After. Tests inject one.
	After func(time.Duration) <-chan time.Time
	// Now is the clock of Stats; nil means time.Now.
	Now func() time.Time
	// FinalFlushTimeout bounds the last attempt to send what is queued when Run's ctx ends.
	// Default DefaultFinalFlushTimeout.
	FinalFlushTimeout time.Duration
	// Target names the receiver in log messages; default "remote-write endpoint".
	Target string
}

// Forwarder queues samples and sends them with the remote-write protocol.
//
// Write may be called concurrently from any goroutine and never waits for the network. Run,
// called once, sends the queue oldest first in batches: on 2xx the batch is delivered
// (Sent); on a network error, 429 or 5xx it keeps the batch and retries it, with capped
// exponential backoff, before anything queued after it; on any other answer it drops the batch
// (Failed) and goes on with the next. While the receiver is unavailable samples wait in the
// queue, at most MaxQueueSamples of them (plus the one batch being retried): when full, the
// oldest are dropped (Dropped). When Run's ctx ends it makes one last attempt to send
// everything queued; that attempt, and a request already in flight, get FinalFlushTimeout in
// all, and what is left then is counted as Dropped.
//
// Delivery is at least once: a request that times out after the receiver stored it is sent
// again, as with every remote-write client.
type Forwarder struct {
	url        string // without userinfo; Basic auth is in header
	shown      string // for logs
	header     http.Header
	client     *http.Client
	log        *slog.Logger
	target     string
	batch      int
	flushEvery time.Duration
	onWrite    bool
	finalFlush time.Duration

	wake chan struct{} // Write → Run: there is something to send

	mu sync.Mutex
	q  ring

	sent, dropped, failed atomic.Uint64
	overflowing           atomic.Bool  // the queue dropped samples since it was last empty
	holding               atomic.Int64 // samples of the batch Run took and has not delivered

	after func(time.Duration) <-chan time.Time
	now   func() time.Time

	// Run writes these, under smu; Stats reads them.
	smu         sync.Mutex
	state       state
	since       time.Time // when the state began
	lastSuccess time.Time
	lastError   string

	// Only Run touches these.
	backoff    Backoff
	lastStatus int // of the last rejection
}

type state int

const (
	stateNew state = iota
	stateDelivering
	stateUnavailable
	stateRejecting
)

// String is the state's name in Stats: "idle" (nothing sent yet), "delivering", "unavailable"
// (network error, 429 or 5xx: samples wait in the queue) or "rejecting" (another 4xx: batches
// are dropped).
func (s state) String() string {
	switch s {
	case stateDelivering:
		return "delivering"
	case stateUnavailable:
		return "unavailable"
	case stateRejecting:
		return "rejecting"
	}
	return "idle"
}

// New returns a Forwarder, or an error when opts.URL is not an absolute http(s) URL.
func New(opts Options) (*Forwarder, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cannot create remote-write forwarder: %q is not an absolute http:// or https:// URL", redactedURL(opts.URL))
	}
	header := opts.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if u.User != nil && header.Get("Authorization") == "" {
		pass, _ := u.User.Password()
		r := http.Request{Header: header}
		r.SetBasicAuth(u.User.Username(), pass)
	}
	if header.Get("User-Agent") == "" {
		header.Set("User-Agent", "redwatch/"+buildinfo.Version)
	}
	shown := u.Redacted()
	u.User = nil

	f := &Forwarder{
		url:        u.String(),
		shown:      shown,
		header:     header,
		client:     opts.Client,
		log:        opts.Logger,
		target:     opts.Target,
		batch:      opts.BatchSamples,
		flushEvery: opts.FlushInterval,
		onWrite:    opts.FlushOnWrite,
		finalFlush: opts.FinalFlushTimeout,
		wake:       make(chan struct{}, 1),
		q:          ring{max: opts.MaxQueueSamples},
		backoff:    Backoff{Min: opts.MinBackoff, Max: opts.MaxBackoff},
		after:      opts.After,
		now:        opts.Now,
	}
	if f.after == nil {
		f.after = time.After
	}
	if f.now == nil {
		f.now = time.Now
	}
	f.since = f.now()
	if f.client == nil {
		f.client = &http.Client{Timeout: DefaultTimeout}
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.target == "" {
		f.target = "remote-write endpoint"
	}
	if f.q.max <= 0 {
		f.q.max = DefaultMaxQueueSamples
	}
	if f.batch <= 0 {
		f.batch = DefaultBatchSamples
	}
	f.batch = min(f.batch, f.q.max)
	if f.flushEvery <= 0 {
		f.flushEvery = DefaultFlushInterval
	}
	if f.finalFlush <= 0 {
		f.finalFlush = DefaultFinalFlushTimeout
	}
	return f, nil
}

// URL returns the endpoint without its password, as logs show it.
func (f *Forwarder) URL() string { return f.shown }

// Sent is how many samples the receiver accepted (2xx).
func (f *Forwarder) Sent() uint64 { return f.sent.Load() }

// Dropped is how many samples were never sent: pushed out of the full queue, or still queued
// when the final flush gave up.
func (f *Forwarder) Dropped() uint64 { return f.dropped.Load() }

// Failed is how many samples were sent and rejected for good (a 4xx other than 429).
func (f *Forwarder) Failed() uint64 { return f.failed.Load() }

// Pending is how many samples wait in the queue (not counting a batch being sent).
func (f *Forwarder) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.q.n
}

// Stats is a Forwarder's state, for health reports, /status and its own series.
type Stats struct {
	URL string // without the password
	// State is "idle" (nothing sent yet), "delivering", "unavailable" or "rejecting".
	State string
	// Up is false while the receiver is unavailable or rejecting samples.
	Up          bool
	Since       time.Time // when State began
	LastSuccess time.Time // last delivered batch; zero if none
	LastError   string    // of the last failed request while not Up; never holds the password
	// QueueSamples is how many samples wait to be sent, the batch being retried included.
	QueueSamples          int
	Sent, Failed, Dropped uint64
}

// Stats returns the current state. Safe for concurrent use.
func (f *Forwarder) Stats() Stats {
	st := Stats{URL: f.shown, QueueSamples: f.Pending() + int(f.holding.Load()),
		Sent: f.Sent(), Failed: f.Failed(), Dropped: f.Dropped()}
	f.smu.Lock()
	defer f.smu.Unlock()
	st.State = f.state.String()
	st.Up = f.state == stateNew || f.state == stateDelivering
	st.Since, st.LastSuccess = f.since, f.lastSuccess
	if !st.Up {
		st.LastError = f.lastError
	}
	return st
}

// Write queues a copy of samples and returns at once; it never waits for the network and
// always returns nil. When the queue would exceed MaxQueueSamples the oldest samples are
// dropped and counted by Dropped. The caller may reuse samples and their labels afterwards.
func (f *Forwarder) Write(samples []tsdb.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	cp := copySamples(samples)
	f.mu.Lock()
	dropped := f.q.push(cp)
	n := f.q.n
	f.mu.Unlock()
	if dropped > 0 {
		f.dropped.Add(uint64(dropped))
		if f.overflowing.CompareAndSwap(false, true) {
			f.log.Warn("remote-write queue full; dropping the oldest samples", "url", f.shown, "max_queue_samples", f.q.max)
		}
	}
	if f.onWrite || n >= f.batch {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// copySamples copies in, with all labels in one new array.
func copySamples(in []tsdb.Sample) []tsdb.Sample {
	nl := 0
	for i := range in {
		nl += len(in[i].Labels)
	}
	labels := make([]tsdb.Label, 0, nl)
	out := make([]tsdb.Sample, len(in))
	for i, s := range in {
		start := len(labels)
		labels = append(labels, s.Labels...)
		s.Labels = labels[start:len(labels):len(labels)]
		s.Ref = nil // the queue needs no place in this box's latest table, nor to keep it alive
		out[i] = s
	}
	return out
}

// take removes and returns the oldest batch of queued samples; nil when the queue is empty.
func (f *Forwarder) take() []tsdb.Sample {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.q.pop(f.batch)
}

// Run sends queued samples until ctx is done, then makes the final flush and returns. Call it
// once.
func (f *Forwarder) Run(ctx context.Context) {
	// Requests use hard, which ends FinalFlushTimeout after ctx: a request in flight when ctx
	// ends may still complete (cancelling it could make the receiver store the batch while we
	// send it again in the final flush), and the final flush gets what is left of that time.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	returned := make(chan struct{})
	defer close(returned)
	stopAfter := context.AfterFunc(ctx, func() {
		select {
		case <-f.after(f.finalFlush):
			cancelHard()
		case <-returned:
		}
	})
	defer stopAfter()

	// A flush every flushEvery, like a ticker: the next wait starts when one ends, whatever
	// Write woke Run for meanwhile.
	tick := f.after(f.flushEvery)
	var batch []tsdb.Sample // taken from the queue and not delivered yet
	for {
		select {
		case <-ctx.Done():
			f.flushFinal(hard, batch)
			return
		case <-f.wake:
		case <-tick:
			tick = f.after(f.flushEvery)
		}
		batch = f.drain(ctx, hard, batch)
	}
}

// drain sends batch (when not nil) and then the queue, oldest first, until the queue is empty;
// it retries retryable failures after a backoff. When ctx ends first it returns the batch it
// holds, undelivered; otherwise nil. Requests use hard.
func (f *Forwarder) drain(ctx, hard context.Context, batch []tsdb.Sample) []tsdb.Sample {
	for ctx.Err() == nil {
		if batch == nil {
			if batch = f.take(); batch == nil {
				if f.overflowing.CompareAndSwap(true, false) {
					f.log.Info("remote-write queue drained", "url", f.shown, "dropped_total", f.Dropped())
				}
				return nil
			}
		}
		f.holding.Store(int64(len(batch)))
		err := f.send(hard, batch)
		if err == nil || !IsRetryable(err) {
			batch = nil
			f.holding.Store(0)
			continue
		}
		wait := f.backoff.Next()
		var e *Error
		if errors.As(err, &e) && e.RetryAfter > wait {
			wait = min(e.RetryAfter, MaxRetryAfter) // a receiver's wish, within our bound
		}
		if !f.sleep(ctx, wait) {
			break
		}
	}
	return batch
}

// flushFinal gives batch and the queue one attempt each while fctx lasts (until
// FinalFlushTimeout after Run's ctx ended); it stops at the first retryable failure and counts
// what is left as dropped.
func (f *Forwarder) flushFinal(fctx context.Context, batch []tsdb.Sample) {
	for {
		if batch == nil {
			if batch = f.take(); batch == nil {
				return
			}
		}
		f.holding.Store(int64(len(batch)))
		err := f.send(fctx, batch)
		f.holding.Store(0)
		if err == nil || !IsRetryable(err) {
			batch = nil
			continue
		}
		left := len(batch)
		for b := f.take(); b != nil; b = f.take() {
			left += len(b)
		}
		f.dropped.Add(uint64(left))
		f.log.Warn("stopping with samples not delivered to "+f.target, "url", f.shown, "samples", left, "error", err)
		return
	}
}

// send pushes one batch, counts the outcome and logs changes of state.
func (f *Forwarder) send(ctx context.Context, batch []tsdb.Sample) error {
	err := Push(ctx, f.client, f.url, f.header, batch)
	n := uint64(len(batch))
	var e *Error
	errors.As(err, &e)
	now := f.now()
	f.smu.Lock()
	if err == nil {
		f.lastSuccess = now
	} else if ctx.Err() == nil {
		f.lastError = err.Error()
	}
	f.smu.Unlock()
	switch {
	case err == nil:
		f.backoff.Reset()
		switch f.state {
		case stateNew:
			f.log.Info("delivering samples to "+f.target, "url", f.shown)
		case stateUnavailable:
			f.log.Info(f.target+" is reachable again; sending queued samples", "url", f.shown, "unavailable_for", now.Sub(f.since).Round(time.Second).String(), "queued", f.Pending())
		case stateRejecting:
			f.log.Info(f.target+" accepts samples again", "url", f.shown)
		}
		f.setState(stateDelivering)
		f.sent.Add(n) // after the state: who sees the count sees "delivering" (Stats, /status)
	case e != nil && e.Retryable:
		if ctx.Err() != nil {
			return err // shutting down: flushFinal reports
		}
		if f.state != stateUnavailable {
			f.log.Warn(f.target+" unavailable; keeping samples queued and retrying", "url", f.shown, "error", err)
			f.setState(stateUnavailable)
		}
	default:
		f.failed.Add(n)
		f.backoff.Reset()
		lvl := slog.LevelDebug
		if f.state != stateRejecting || (e != nil && e.StatusCode != f.lastStatus) {
			lvl = slog.LevelError
		}
		f.log.Log(ctx, lvl, f.target+" rejected samples; dropping the batch", "url", f.shown, "samples", n, "error", err)
		if e != nil {
			f.lastStatus = e.StatusCode
		}
		f.setState(stateRejecting)
	}
	return err
}

func (f *Forwarder) setState(s state) {
	f.smu.Lock()
	defer f.smu.Unlock()
	if f.state != s {
		f.state, f.since = s, f.now()
	}
}

// sleep waits d on f's clock or until ctx is done; it reports whether d passed.
func (f *Forwarder) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-f.after(d):
		return true
	}
}

// ring is a FIFO of samples holding at most max; it grows on demand up to max.
type ring struct {
	buf     []tsdb.Sample
	head, n int
	max     int
}

// push appends s, dropping the oldest samples (first those queued, then the start of s) to
// stay within max; it returns how many it dropped.
func (r *ring) push(s []tsdb.Sample) (dropped int) {
	if len(s) > r.max {
		dropped = len(s) - r.max
		s = s[dropped:]
	}
	if over := r.n + len(s) - r.max; over > 0 {
		r.discard(over)
		dropped += over
	}
	if r.n+len(s) > len(r.buf) {
		r.grow(r.n + len(s))
	}
	for _, x := range s {
		r.buf[(r.head+r.n)%len(r.buf)] = x
		r.n++
	}
	return dropped
}

func (r *ring) grow(need int) {
	nb := make([]tsdb.Sample, min(r.max, max(need, 2*len(r.buf), 1024)))
	for i := 0; i < r.n; i++ {
		nb[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = nb, 0
}

// discard drops the k oldest samples; k <= n.
func (r *ring) discard(k int) {
	for i := 0; i < k; i++ {
		r.buf[(r.head+i)%len(r.buf)] = tsdb.Sample{}
	}
	r.head = (r.head + k) % len(r.buf)
	r.n -= k
}

// pop removes and returns up to k of the oldest samples; nil when empty.
func (r *ring) pop(k int) []tsdb.Sample {
	k = min(k, r.n)
	if k == 0 {
		return nil
	}
	out := make([]tsdb.Sample, k)
	for i := range out {
		j := (r.head + i) % len(r.buf)
		out[i], r.buf[j] = r.buf[j], tsdb.Sample{}
	}
	r.head = (r.head + k) % len(r.buf)
	r.n -= k
	if r.n == 0 {
		r.head = 0
		if len(r.buf) > 4096 { // give a burst's memory back
			r.buf = nil
		}
	}
	return out
}
