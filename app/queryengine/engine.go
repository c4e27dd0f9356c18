// Package queryengine is where redwatch evaluates MetricsQL: the in-process engine over the
// local tsdb (Local) or a remote VictoriaMetrics single-node or cluster read through its
// Prometheus query API (Remote, for [storage] remote). Charts, the Explore page, expression
// alert rules and /api/v1/query* take an Engine and never know which one it is.
package queryengine

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// Engine evaluates MetricsQL (a superset of PromQL) over a history of samples. Every method
// is safe for concurrent use.
//
// Results: Series.Name is the metric name, empty when the expression drops it (rate, sum);
// Labels are sorted by name and hold no __name__; steps without a value are left out, and so
// are series with none. Errors: a bad expression or parameter is of tsdb.ErrBadQuery's kind
// (HTTP 400); a bound hit is a *tsdb.LimitError locally and an error naming the bound from a
// remote (HTTP 422); past ctx's deadline an error wrapping context.DeadlineExceeded; an engine
// that cannot answer at all (closed store, remote down or refusing) wraps ErrUnavailable
// (HTTP 503) with the reason.
type Engine interface {
	// Query evaluates expr at the instant at (used as given: no latency offset); each Series
	// has one point, at at.
	Query(ctx context.Context, expr string, at time.Time) ([]tsdb.Series, error)
	// QueryRangeExpr evaluates expr at start, start+step, ... up to end.
	QueryRangeExpr(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]tsdb.Series, error)
	// LabelNames lists the label names (with __name__) of the series that match any of the
	// selectors in matches (all series when empty) and have samples in [start, end], sorted.
	LabelNames(ctx context.Context, matches []string, start, end time.Time) ([]string, error)
	// LabelValues lists the values of the label name (__name__: metric names) over the same
	// series, sorted.
	LabelValues(ctx context.Context, name string, matches []string, start, end time.Time) ([]string, error)
	// Series lists the series matching any of matches (at least one) with samples in
	// [start, end], without points, sorted by name and labels.
	Series(ctx context.Context, matches []string, start, end time.Time) ([]tsdb.Series, error)

	// The Prometheus HTTP API: each reads its parameters from r (URL query and POST form) and
	// writes the Prometheus JSON answer to w itself, returning nil; an error (the kinds above)
	// when it has written nothing, for the caller to turn into the Prometheus error shape.

	// ServeQuery answers /api/v1/query (query, time, step, timeout).
	ServeQuery(w http.ResponseWriter, r *http.Request) error
	// ServeQueryRange answers /api/v1/query_range (query, start, end, step, timeout).
	ServeQueryRange(w http.ResponseWriter, r *http.Request) error
	// ServeLabels answers /api/v1/labels (match[], start, end, limit).
	ServeLabels(w http.ResponseWriter, r *http.Request) error
	// ServeLabelValues answers /api/v1/label/<name>/values (match[], start, end, limit).
	ServeLabelValues(w http.ResponseWriter, r *http.Request, name string) error

	// Where answers "local" or the remote's query URL (never its credentials): for health,
	// /status and logs.
	Where() string
}

// ErrUnavailable is wrapped by the errors of an engine that cannot answer at all: the local
// store is closed, or the remote is unreachable, timed out its connection, or answered with
// a server error. The error's text carries the reason (the remote's own message when it gave
// one).
var ErrUnavailable = errors.New("query engine unavailable")
