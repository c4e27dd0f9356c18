// Package ingest serves redwatch's write endpoints: Prometheus remote write (POST /api/v1/write)
// and the InfluxDB line protocol as Telegraf sends it (POST /write and POST /api/v2/write).
// Every request carries a token from [ingest].tokens. A body (at most MaxBodyBytes) is kept as
// received, validated whole against Limits as a stream of lines or series, and only then decoded
// again and written in chunks of 10,000 samples, so a bad or over-limit payload stores nothing
// and a big one never sits in memory decoded. Samples of series redwatch samples itself, or
// outside storage's window, are left out and reported as a partial write. At most
// MaxConcurrent requests are at work at once. The package also tracks the hosts that push
// host_* series (what `redwatch agent` sends), for /health/targets, and counts what it
// refuses (redwatch_ingest_rejected_total).
package ingest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// Writer stores decoded samples; *tsdb.DB satisfies it, and so may a writer that also forwards.
// Write is called from many goroutines at once, once per chunk of a request. CheckTimestamp
// says whether Write would store a sample at ts (unix ms) now: storage's window, which ingest
// reports on instead of copying it (tsdb.DB.CheckTimestamp).
type Writer interface {
	Write(samples []tsdb.Sample) error
	CheckTimestamp(ts int64) error
}

// Options configure New.
type Options struct {
	// Tokens are the accepted tokens ([ingest].tokens). Empty strings are ignored; with no
	// token at all every write is refused with 403.
	Tokens []string
	Writer Writer       // required
	Logger *slog.Logger // nil: discard
	// MaxBodyBytes bounds a request body, before and after decompression; 0 means
	// wire.MaxBodyBytes (64 MiB).
	MaxBodyBytes int64
	// Limits bound what one request may hold; zero fields take their defaults.
	Limits Limits
	// MaxConcurrent is how many write requests are at work at once (reading, validating,
	// writing); 0 means max(4, 2 × GOMAXPROCS), as VictoriaMetrics' -maxConcurrentInserts.
	// Further requests wait up to QueueWait for a slot, then get 503 with Retry-After.
	MaxConcurrent int
	// QueueWait is how long a request waits for a slot; 0 means DefaultQueueWait.
	QueueWait time.Duration
	// Sampled, when set, is called once per request; the function it returns names the owner
	// of a series redwatch's own samplers write (a watched Redis instance, this host,
	// redwatch itself), or "". Pushed samples of such a series are not stored, since they
	// would mix with the sampled ones in storage and in the latest values; the rest of the
	// request is, and the answer is a partial write report (see RemoteWrite).
	Sampled func() func(name string, labels []tsdb.Label) string
	// Now is the clock for push tracking and for Influx lines without a timestamp; nil means
	// time.Now. Timestamps are checked on storage's clock (Writer.CheckTimestamp).
	Now func() time.Time
}

// DefaultQueueWait is how long a write request waits for a free slot by default: long enough
// for a burst of agents flushing at once, short against clients' timeouts (Telegraf's is 5 s).
const DefaultQueueWait = 2 * time.Second

// Retry-After values, in seconds: a busy ingest frees up quickly; read-only storage waits for
// disk space.
const (
	busyRetryAfter     = "1"
	readOnlyRetryAfter = "30"
)

// Ingest serves the write endpoints. Create it with New; its methods are safe for concurrent use.
type Ingest struct {
	tokens   [][sha256.Size]byte
	w        Writer
	log      *slog.Logger
	maxBody  int64
	lim      Limits
	slots    chan struct{} // one per request at work
	wait     time.Duration
	sampled  func() func(name string, labels []tsdb.Label) string
	now      func() time.Time
	pushers  pushers
	rejected rejectCounts
}

// New returns an Ingest. It panics when opts.Writer is nil (a programming error).
func New(opts Options) *Ingest {
	if opts.Writer == nil {
		panic("BUG: ingest.New needs a Writer")
	}
	i := &Ingest{w: opts.Writer, log: opts.Logger, maxBody: opts.MaxBodyBytes, lim: opts.Limits.withDefaults(),
		wait: opts.QueueWait, sampled: opts.Sampled, now: opts.Now}
	for _, t := range opts.Tokens {
		if t != "" {
			i.tokens = append(i.tokens, sha256.Sum256([]byte(t)))
		}
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	if i.maxBody <= 0 {
		i.maxBody = wire.MaxBodyBytes
	}
	if i.now == nil {
		i.now = time.Now
	}
	if i.wait <= 0 {
		i.wait = DefaultQueueWait
	}
	n := opts.MaxConcurrent
	if n <= 0 {
		n = max(4, 2*runtime.GOMAXPROCS(0))
	}
	i.slots = make(chan struct{}, n)
	i.pushers.hosts = map[string]*pusher{}
	return i
}

// Enabled reports whether at least one token is configured.
func (i *Ingest) Enabled() bool { return len(i.tokens) > 0 }

// reject is a refused request, or a partial write: the status code, the reason sent back,
// and what it counts as in redwatch_ingest_rejected_total (a partial write counts under
// each reason it had).
type reject struct {
	code       int
	msg        string
	reasons    []string
	retryAfter string // seconds; "" for none
}

func (r *reject) Error() string { return r.msg }

// rejectf is a refusal counted as reasonInvalid; see refuse.
func rejectf(code int, format string, args ...any) *reject {
	return refuse(code, reasonInvalid, format, args...)
}

// refuse is a refusal counted under reason.
func refuse(code int, reason string, format string, args ...any) *reject {
	return &reject{code: code, msg: fmt.Sprintf(format, args...), reasons: []string{reason}}
}

// dialect is how an endpoint answers errors.
type dialect int

const (
	// prometheus answers {"error": "..."}.
	prometheus dialect = iota
	// influx1 (/write) and influx2 (/api/v2/write) answer InfluxDB's shape,
	// {"code": "invalid", "message": "..."}, which InfluxDB clients show, plus the
	// {"error": "..."} of InfluxDB 1.x, which Telegraf's influxdb output reads.
	influx1
	influx2
)

func (d dialect) String() string {
	if d == prometheus {
		return "prometheus"
	}
	return "influx"
}

// influxCodes are InfluxDB 2's error codes for the statuses ingest answers.
var influxCodes = map[int]string{
	http.StatusBadRequest:            "invalid",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusRequestEntityTooLarge: "request too large",
	http.StatusUnsupportedMediaType:  "unsupported media type",
	http.StatusUnprocessableEntity:   "unprocessable entity",
	http.StatusInternalServerError:   "internal error",
	http.StatusServiceUnavailable:    "unavailable",
}

func (d dialect) body(r *reject) any {
	if d == prometheus {
		return map[string]string{"error": r.msg}
	}
	code, ok := influxCodes[r.code]
	if !ok {
		code = "internal error"
	}
	return map[string]string{"code": code, "message": r.msg, "error": r.msg}
}

// decoder reads, validates and writes the body of one request (the token is checked and a
// slot held): nil when everything was stored, else the refusal or the partial write report.
type decoder func(c echo.Context, d dialect) *reject

// serve runs one write request: token check, a slot among MaxConcurrent, then decode.
func (i *Ingest) serve(c echo.Context, d dialect, decode decoder) error {
	r := i.check(c)
	if r == nil {
		release, busy := i.acquire(c.Request().Context())
		r = busy
		if r == nil {
			r = decode(c, d)
			release()
		}
	}
	if r == nil {
		return c.NoContent(http.StatusNoContent)
	}
	i.rejected.add(r.reasons)
	level := slog.LevelWarn
	if r.code >= 500 {
		level = slog.LevelError
	}
	i.log.Log(c.Request().Context(), level, "ingest request rejected",
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		"protocol", d.String(), "ip", c.RealIP(), "status", r.code, "reason", r.msg)
	h := c.Response().Header()
	if r.code == http.StatusUnauthorized {
		h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="redwatch"`)
	}
	if r.retryAfter != "" {
		h.Set("Retry-After", r.retryAfter)
	}
	return c.JSON(r.code, d.body(r))
}

// acquire takes one of the MaxConcurrent slots, waiting at most QueueWait (or until ctx is
// done): 503 with Retry-After when none frees up. release must be called once on success.
func (i *Ingest) acquire(ctx context.Context) (release func(), busy *reject) {
	release = func() { <-i.slots }
	select {
	case i.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(i.wait)
	defer t.Stop()
	select {
	case i.slots <- struct{}{}:
		return release, nil
	case <-t.C:
	case <-ctx.Done():
	}
	r := refuse(http.StatusServiceUnavailable, reasonBusy, "too many concurrent write requests: %d are at work and none finished within %s; retry later", cap(i.slots), i.wait)
	r.retryAfter = busyRetryAfter
	return nil, r
}

// newChunkWriter returns the writer of one request's samples, which leaves out the series
// redwatch samples itself (Options.Sampled) and tracks pushing hosts.
func (i *Ingest) newChunkWriter() *chunkWriter {
	cw := &chunkWriter{w: i.w, observe: func(s []tsdb.Sample) { i.pushers.observe(s, i.now()) }}
	if i.sampled != nil {
		cw.sampled = i.sampled()
	}
	return cw
}

// check enforces the token: 403 when ingest is disabled, 401 when the token is missing or wrong.
// It accepts "Bearer T", "Token T" (InfluxDB 2 clients) and Basic with T as the password and
// any user name (Telegraf's influxdb output). Every configured token is compared in constant
// time, on SHA-256 digests so the comparison does not reveal token lengths either.
func (i *Ingest) check(c echo.Context) *reject {
	if len(i.tokens) == 0 {
		return refuse(http.StatusForbidden, reasonUnauthorized, "ingest is disabled: set [ingest].tokens")
	}
	req := c.Request()
	h := strings.TrimSpace(req.Header.Get(echo.HeaderAuthorization))
	if h == "" {
		return refuse(http.StatusUnauthorized, reasonUnauthorized, "missing token: send the ingest token as Authorization: Bearer")
	}
	scheme, rest, _ := strings.Cut(h, " ")
	var token string
	switch {
	case strings.EqualFold(scheme, "Bearer"), strings.EqualFold(scheme, "Token"):
		token = strings.TrimSpace(rest)
	case strings.EqualFold(scheme, "Basic"):
		_, pw, ok := req.BasicAuth()
		if !ok {
			return refuse(http.StatusUnauthorized, reasonUnauthorized, "malformed Basic credentials: send the ingest token as the password")
		}
		token = pw
	default:
		// Never echo the header: a token sent without a scheme would end up in the log.
		return refuse(http.StatusUnauthorized, reasonUnauthorized, "unsupported authorization scheme: send the ingest token as Bearer, Token or the Basic password")
	}
	if token == "" {
		return refuse(http.StatusUnauthorized, reasonUnauthorized, "missing token: send the ingest token as Authorization: Bearer")
	}
	d := sha256.Sum256([]byte(token))
	match := 0
	for k := range i.tokens {
		match |= subtle.ConstantTimeCompare(i.tokens[k][:], d[:])
	}
	if match != 1 {
		return refuse(http.StatusUnauthorized, reasonUnauthorized, "invalid token")
	}
	return nil
}
