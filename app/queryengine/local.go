package queryengine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// Local is the Engine over the local store: VictoriaMetrics' engine in-process (tsdb's
// MetricsQL API).
type Local struct {
	db *tsdb.DB
}

var _ Engine = (*Local)(nil)

// NewLocal returns the Engine reading db. db stays the caller's to close; after it is closed
// every call fails with an error wrapping ErrUnavailable (and tsdb.ErrClosed).
func NewLocal(db *tsdb.DB) *Local { return &Local{db: db} }

// Where answers "local".
func (l *Local) Where() string { return "local" }

// Query: see Engine.
func (l *Local) Query(ctx context.Context, expr string, at time.Time) ([]tsdb.Series, error) {
	ss, err := l.db.Query(ctx, expr, at)
	return ss, localError(err)
}

// QueryRangeExpr: see Engine.
func (l *Local) QueryRangeExpr(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]tsdb.Series, error) {
	ss, err := l.db.QueryRangeExpr(ctx, expr, start, end, step)
	return ss, localError(err)
}

// LabelNames: see Engine.
func (l *Local) LabelNames(ctx context.Context, matches []string, start, end time.Time) ([]string, error) {
	var names []string
	err := l.serveInto(ctx, matches, start, end, &names, l.db.ServeLabels)
	return names, err
}

// LabelValues: see Engine.
func (l *Local) LabelValues(ctx context.Context, name string, matches []string, start, end time.Time) ([]string, error) {
	var values []string
	err := l.serveInto(ctx, matches, start, end, &values, func(w http.ResponseWriter, r *http.Request) error {
		return l.db.ServeLabelValues(w, r, name)
	})
	return values, err
}

// Series: see Engine.
func (l *Local) Series(ctx context.Context, matches []string, start, end time.Time) ([]tsdb.Series, error) {
	if len(matches) == 0 {
		return nil, fmt.Errorf("%w: at least one match[] selector is needed", tsdb.ErrBadQuery)
	}
	sels := make([]*tsdb.Selector, 0, len(matches))
	for _, m := range matches {
		sel, err := tsdb.ParseSelector(m)
		if err != nil {
			return nil, fmt.Errorf("%w: match[] %q: %w", tsdb.ErrBadQuery, m, err)
		}
		sels = append(sels, sel)
	}
	ss, err := l.db.SeriesMatching(ctx, tsdb.Union(sels...), start, end)
	return ss, localError(err)
}

// ServeQuery: see Engine.
func (l *Local) ServeQuery(w http.ResponseWriter, r *http.Request) error {
	return localError(l.db.ServeQuery(w, r))
}

// ServeQueryRange: see Engine.
func (l *Local) ServeQueryRange(w http.ResponseWriter, r *http.Request) error {
	return localError(l.db.ServeQueryRange(w, r))
}

// ServeLabels: see Engine.
func (l *Local) ServeLabels(w http.ResponseWriter, r *http.Request) error {
	return localError(l.db.ServeLabels(w, r))
}

// ServeLabelValues: see Engine.
func (l *Local) ServeLabelValues(w http.ResponseWriter, r *http.Request, name string) error {
	return localError(l.db.ServeLabelValues(w, r, name))
}

// serveInto runs one of tsdb's label handlers on an in-memory request and decodes the
// Prometheus answer's data into out: tsdb's Go API has no label listing of its own.
func (l *Local) serveInto(ctx context.Context, matches []string, start, end time.Time, out any,
	serve func(w http.ResponseWriter, r *http.Request) error) error {
	form := url.Values{"match[]": matches}
	form.Set("start", strconv.FormatFloat(float64(start.UnixMilli())/1e3, 'f', -1, 64))
	form.Set("end", strconv.FormatFloat(float64(end.UnixMilli())/1e3, 'f', -1, 64))
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "/?"+form.Encode(), nil)
	if err != nil {
		return fmt.Errorf("BUG: cannot build a label request: %w", err)
	}
	rec := httptest.NewRecorder()
	if err := serve(rec, r); err != nil {
		return localError(err)
	}
	return decodeAnswer(rec.Code, rec.Body.Bytes(), out)
}

// localError marks a closed store's error as ErrUnavailable; other errors pass as they are.
func localError(err error) error {
	if err != nil && errors.Is(err, tsdb.ErrClosed) {
		return &unavailableError{err: err}
	}
	return err
}

// unavailableError is an error of ErrUnavailable's kind; its text is the reason.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string        { return e.err.Error() }
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }
