// Package ingest serves redwatch's write endpoints: Prometheus remote write (POST /api/v1/write)
// and the InfluxDB line protocol as Telegraf sends it (POST /write and POST /api/v2/write).
// Every request carries a token from [ingest].tokens; a payload is decoded and validated in full
// before one Write, so a bad payload stores nothing. The package also tracks the hosts that push
// host_* series (what `redwatch agent` sends), for /health/targets.
package ingest

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/tsdb/wire"
)

// Writer stores decoded samples; *tsdb.DB satisfies it, and so may a writer that also forwards.
// Write is called once per accepted request, from many goroutines at once.
type Writer interface {
	Write(samples []tsdb.Sample) error
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
	// Retention is storage's retention ([storage].retention): samples older than it are not
	// stored, and the answer says so. 0 means config.DefaultRetention (30 days).
	Retention time.Duration
	// Now is the clock for push tracking and for Influx lines without a timestamp; nil means
	// time.Now. The retention check uses the wall clock, as storage does.
	Now func() time.Time
}

// MaxAhead is how far in the future storage accepts a sample (VictoriaMetrics' minimum future
// retention); later samples are reported like samples older than the retention.
const MaxAhead = 2 * 24 * time.Hour

// Ingest serves the write endpoints. Create it with New; its methods are safe for concurrent use.
type Ingest struct {
	tokens  [][sha256.Size]byte
	w       Writer
	log     *slog.Logger
	maxBody int64
	keep    time.Duration // Options.Retention
	now     func() time.Time
	pushers pushers
}

// New returns an Ingest. It panics when opts.Writer is nil (a programming error).
func New(opts Options) *Ingest {
	if opts.Writer == nil {
		panic("BUG: ingest.New needs a Writer")
	}
	i := &Ingest{w: opts.Writer, log: opts.Logger, maxBody: opts.MaxBodyBytes, keep: opts.Retention, now: opts.Now}
	if i.keep <= 0 {
		i.keep = config.DefaultRetention.Std()
	}
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
	i.pushers.hosts = map[string]*pusher{}
	return i
}

// Enabled reports whether at least one token is configured.
func (i *Ingest) Enabled() bool { return len(i.tokens) > 0 }

// reject is a refused request: the status code and the reason sent back.
type reject struct {
	code int
	msg  string
}

func (r *reject) Error() string { return r.msg }

func rejectf(code int, format string, args ...any) *reject {
	return &reject{code: code, msg: fmt.Sprintf(format, args...)}
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

// serve runs one write request: token check, body, decode, validation, the retention check,
// one Write.
func (i *Ingest) serve(c echo.Context, d dialect, decode func(c echo.Context) ([]tsdb.Sample, *reject)) error {
	r := i.check(c)
	var samples []tsdb.Sample
	if r == nil {
		samples, r = decode(c)
	}
	if r == nil {
		r = validate(samples)
	}
	if r == nil {
		var outside *reject
		samples, outside = i.inWindow(samples, d)
		if err := i.w.Write(samples); err != nil {
			if errors.Is(err, tsdb.ErrClosed) || errors.Is(err, tsdb.ErrReadOnly) {
				r = rejectf(http.StatusServiceUnavailable, "storage is not available: %s", err)
			} else {
				r = rejectf(http.StatusInternalServerError, "cannot store samples: %s", err)
			}
		} else {
			i.pushers.observe(samples, i.now())
			r = outside
		}
	}
	if r != nil {
		level := slog.LevelWarn
		if r.code >= 500 {
			level = slog.LevelError
		}
		i.log.Log(c.Request().Context(), level, "ingest request rejected",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"protocol", d.String(), "ip", c.RealIP(), "status", r.code, "reason", r.msg)
		if r.code == http.StatusUnauthorized {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="redwatch"`)
		}
		return c.JSON(r.code, d.body(r))
	}
	return c.NoContent(http.StatusNoContent)
}

// inWindow keeps the samples storage would store: not older than the retention, not more than
// MaxAhead in the future (storage drops the others without a word). When it drops some, it
// also returns the answer that says so: a partial write in InfluxDB's words, which Telegraf
// and InfluxDB clients recognize and do not retry; 400, or 422 as InfluxDB 2 answers it.
func (i *Ingest) inWindow(samples []tsdb.Sample, d dialect) ([]tsdb.Sample, *reject) {
	now := time.Now() // storage's clock, not Options.Now
	oldest, latest := now.Add(-i.keep).UnixMilli(), now.Add(MaxAhead).UnixMilli()
	first := -1
	for k := range samples {
		if ts := samples[k].Timestamp; ts < oldest || ts > latest {
			first = k
			break
		}
	}
	if first < 0 {
		return samples, nil
	}
	bad := samples[first]
	kept := slices.Clone(samples[:first])
	for _, s := range samples[first+1:] {
		if s.Timestamp >= oldest && s.Timestamp <= latest {
			kept = append(kept, s)
		}
	}
	dropped := len(samples) - len(kept)
	why := "older than the retention of " + config.Duration(i.keep).String()
	if bad.Timestamp > latest {
		why = "more than 2 days ahead"
	}
	code := http.StatusBadRequest
	if d == influx2 {
		code = http.StatusUnprocessableEntity
	}
	return kept, rejectf(code, "partial write: points beyond retention policy dropped=%d: %d of %d samples were not stored, the first %s (%s at %s); the other %d were stored",
		dropped, dropped, len(samples), why, bad.Name, time.UnixMilli(bad.Timestamp).UTC().Format(time.RFC3339), len(kept))
}

// check enforces the token: 403 when ingest is disabled, 401 when the token is missing or wrong.
// It accepts "Bearer T", "Token T" (InfluxDB 2 clients) and Basic with T as the password and
// any user name (Telegraf's influxdb output). Every configured token is compared in constant
// time, on SHA-256 digests so the comparison does not reveal token lengths either.
func (i *Ingest) check(c echo.Context) *reject {
	if len(i.tokens) == 0 {
		return rejectf(http.StatusForbidden, "ingest is disabled: set [ingest].tokens")
	}
	req := c.Request()
	h := strings.TrimSpace(req.Header.Get(echo.HeaderAuthorization))
	if h == "" {
		return rejectf(http.StatusUnauthorized, "missing token: send the ingest token as Authorization: Bearer")
	}
	scheme, rest, _ := strings.Cut(h, " ")
	var token string
	switch {
	case strings.EqualFold(scheme, "Bearer"), strings.EqualFold(scheme, "Token"):
		token = strings.TrimSpace(rest)
	case strings.EqualFold(scheme, "Basic"):
		_, pw, ok := req.BasicAuth()
		if !ok {
			return rejectf(http.StatusUnauthorized, "malformed Basic credentials: send the ingest token as the password")
		}
		token = pw
	default:
		// Never echo the header: a token sent without a scheme would end up in the log.
		return rejectf(http.StatusUnauthorized, "unsupported authorization scheme: send the ingest token as Bearer, Token or the Basic password")
	}
	if token == "" {
		return rejectf(http.StatusUnauthorized, "missing token: send the ingest token as Authorization: Bearer")
	}
	d := sha256.Sum256([]byte(token))
	match := 0
	for k := range i.tokens {
		match |= subtle.ConstantTimeCompare(i.tokens[k][:], d[:])
	}
	if match != 1 {
		return rejectf(http.StatusUnauthorized, "invalid token")
	}
	return nil
}

// validate applies storage's own rules to every sample before anything is written, so that
// tsdb's Write, which stores the valid samples around an invalid one, never sees a bad one.
func validate(samples []tsdb.Sample) *reject {
	for k := range samples {
		s := &samples[k]
		bad := func(err error) *reject {
			return rejectf(http.StatusBadRequest, "%s: sample %d (%s): %s", wire.ErrBadPayload, k, s.Name, err)
		}
		if err := tsdb.ValidateMetricName(s.Name); err != nil {
			return bad(err)
		}
		for _, l := range s.Labels {
			if err := tsdb.ValidateLabelName(l.Name); err != nil {
				return bad(err)
			}
			if l.Name == "__name__" {
				return bad(errors.New(`label "__name__" is reserved`))
			}
		}
		if s.Timestamp <= 0 {
			return bad(fmt.Errorf("timestamp %d is not positive unix milliseconds", s.Timestamp))
		}
	}
	return nil
}
