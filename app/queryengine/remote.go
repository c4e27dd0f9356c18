package queryengine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// maxAnswerBytes bounds how much of a remote answer is read.
const maxAnswerBytes = 256 << 20

// RemoteOptions configure a Remote.
type RemoteOptions struct {
	// URL is the Prometheus API root of a VictoriaMetrics single-node (http://vm:8428) or
	// vmselect (http://vmselect:8481/select/0/prometheus): /api/v1/... is appended.
	URL string
	// Username and Password: HTTP basic auth when Username is set. BearerToken: an
	// Authorization: Bearer header when set (not both).
	Username, Password, BearerToken string
	// Timeout bounds one request when ctx has no sooner deadline; 0: 30 s.
	Timeout time.Duration
	// Client is the HTTP client; nil: a client of its own.
	Client *http.Client
}

// Remote is the Engine of a remote VictoriaMetrics, read through its Prometheus query API.
type Remote struct {
	base    *url.URL
	opts    RemoteOptions
	client  *http.Client
	display string
}

var _ Engine = (*Remote)(nil)

// NewRemote checks opts and returns the Remote; an error names what is wrong with the URL.
func NewRemote(opts RemoteOptions) (*Remote, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL of a VictoriaMetrics query API", opts.URL)
	}
	if u.User != nil || (opts.Username != "" && opts.BearerToken != "") {
		return nil, errors.New("give credentials as username/password or bearer_token, not in the URL and not both")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	c := opts.Client
	if c == nil {
		c = &http.Client{}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Remote{base: u, opts: opts, client: c, display: u.Redacted()}, nil
}

// Where answers the remote's URL.
func (r *Remote) Where() string { return r.display }

// do sends form to path and returns the answer's status and body; a transport failure wraps
// ErrUnavailable.
func (r *Remote) do(ctx context.Context, path string, form url.Values) (int, []byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.opts.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base.String()+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, fmt.Errorf("BUG: cannot build a request to %s: %w", r.display, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if r.opts.Username != "" {
		req.SetBasicAuth(r.opts.Username, r.opts.Password)
	} else if r.opts.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+r.opts.BearerToken)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return 0, nil, fmt.Errorf("remote %s: %w", r.display, context.DeadlineExceeded)
		}
		return 0, nil, &unavailableError{err: fmt.Errorf("remote %s: %w", r.display, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return 0, nil, &unavailableError{err: fmt.Errorf("remote %s: cannot read the answer: %w", r.display, err)}
	}
	return resp.StatusCode, body, nil
}

func secs(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', -1, 64) }

// Query: see Engine.
func (r *Remote) Query(ctx context.Context, expr string, at time.Time) ([]tsdb.Series, error) {
	if err := tsdb.ValidateExpr(expr); err != nil {
		return nil, err
	}
	// nocache and latency_offset=1ms (its least): evaluate at at as given, as Local does.
	code, body, err := r.do(ctx, "/api/v1/query", url.Values{"query": {expr}, "time": {secs(at)}, "nocache": {"1"}, "latency_offset": {"1ms"}})
	if err != nil {
		return nil, err
	}
	return r.named(decodeSeries(code, body))
}

// QueryRangeExpr: see Engine.
func (r *Remote) QueryRangeExpr(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]tsdb.Series, error) {
	if err := tsdb.ValidateExpr(expr); err != nil {
		return nil, err
	}
	if step < time.Millisecond || end.Before(start) {
		return nil, fmt.Errorf("%w: step must be positive and end not before start", tsdb.ErrBadQuery)
	}
	code, body, err := r.do(ctx, "/api/v1/query_range", url.Values{"query": {expr}, "start": {secs(start)}, "end": {secs(end)},
		"step": {strconv.FormatInt(step.Milliseconds(), 10) + "ms"}, "latency_offset": {"1ms"}})
	if err != nil {
		return nil, err
	}
	return r.named(decodeSeries(code, body))
}

// LabelNames: see Engine.
func (r *Remote) LabelNames(ctx context.Context, matches []string, start, end time.Time) ([]string, error) {
	var names []string
	return names, r.list(ctx, "/api/v1/labels", matches, start, end, &names)
}

// LabelValues: see Engine.
func (r *Remote) LabelValues(ctx context.Context, name string, matches []string, start, end time.Time) ([]string, error) {
	var values []string
	return values, r.list(ctx, "/api/v1/label/"+url.PathEscape(name)+"/values", matches, start, end, &values)
}

// Series: see Engine.
func (r *Remote) Series(ctx context.Context, matches []string, start, end time.Time) ([]tsdb.Series, error) {
	if len(matches) == 0 {
		return nil, fmt.Errorf("%w: at least one match[] selector is needed", tsdb.ErrBadQuery)
	}
	code, body, err := r.do(ctx, "/api/v1/series", url.Values{"match[]": matches, "start": {secs(start)}, "end": {secs(end)}})
	if err != nil {
		return nil, err
	}
	return r.named(decodeSeriesList(code, body))
}

func (r *Remote) list(ctx context.Context, path string, matches []string, start, end time.Time, out any) error {
	code, body, err := r.do(ctx, path, url.Values{"match[]": matches, "start": {secs(start)}, "end": {secs(end)}})
	if err == nil {
		err = decodeAnswer(code, body, out)
	}
	return r.nameErr(err)
}

// named prefixes errors with the remote's URL so they say where they come from.
func (r *Remote) named(ss []tsdb.Series, err error) ([]tsdb.Series, error) { return ss, r.nameErr(err) }

func (r *Remote) nameErr(err error) error {
	if err == nil || strings.Contains(err.Error(), r.display) {
		return err
	}
	if errors.Is(err, ErrUnavailable) {
		return &unavailableError{err: fmt.Errorf("remote %s: %w", r.display, err)}
	}
	return fmt.Errorf("remote %s: %w", r.display, err)
}

// ServeQuery: see Engine; the remote's answer is passed on as it is.
func (r *Remote) ServeQuery(w http.ResponseWriter, req *http.Request) error {
	return r.proxy(w, req, "/api/v1/query")
}

// ServeQueryRange: see Engine.
func (r *Remote) ServeQueryRange(w http.ResponseWriter, req *http.Request) error {
	return r.proxy(w, req, "/api/v1/query_range")
}

// ServeLabels: see Engine.
func (r *Remote) ServeLabels(w http.ResponseWriter, req *http.Request) error {
	return r.proxy(w, req, "/api/v1/labels")
}

// ServeLabelValues: see Engine.
func (r *Remote) ServeLabelValues(w http.ResponseWriter, req *http.Request, name string) error {
	return r.proxy(w, req, "/api/v1/label/"+url.PathEscape(name)+"/values")
}

// ServeSeries answers /api/v1/series from the remote.
func (r *Remote) ServeSeries(w http.ResponseWriter, req *http.Request) error {
	return r.proxy(w, req, "/api/v1/series")
}

// proxy forwards req's parameters to path and writes the remote's answer when it is one a
// client can read (200, or a Prometheus error of 400 or 422); else it writes nothing and
// returns the error (ErrUnavailable's kind for a server error or an unreachable remote).
func (r *Remote) proxy(w http.ResponseWriter, req *http.Request, path string) error {
	if err := req.ParseForm(); err != nil {
		return fmt.Errorf("%w: cannot read form: %w", tsdb.ErrBadQuery, err)
	}
	code, body, err := r.do(req.Context(), path, req.Form)
	if err != nil {
		return err
	}
	if code != http.StatusOK && code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
		return r.nameErr(answerError(code, body))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, err = w.Write(body)
	return err
}

// Check asks the remote a trivial query; nil when it answers, else the reason (for health).
func (r *Remote) Check(ctx context.Context) error {
	_, err := r.Query(ctx, "1", time.Now())
	return err
}
