package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
)

// exportFlushBytes is how much of an export is buffered before it is written out.
const exportFlushBytes = 64 << 10

// exportSeries answers GET or POST /api/v1/export?match[]=SEL&start=&end=&format=csv|json
// with raw samples, streamed one series at a time as storage yields them, so memory holds one
// series whatever the export's size. JSON is VictoriaMetrics' export shape: one object per
// line with metric, values and timestamps (milliseconds); ±Inf are "Infinity"/"-Infinity", as
// VictoriaMetrics writes them. CSV has a header: name,labels...,timestamp_ms,value. A series
// any number of selectors match is exported once. Bounds (series, samples, time) are checked
// before the first byte: 422 or 503 naming the bound. An error after the answer began (only
// the deadline, or storage failing) aborts the connection, so the client sees a truncated
// answer rather than a complete-looking one.
func (s *queryHandler) exportSeries(c echo.Context) error {
	params, err := formParams(c)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	sel, err := parseMatches(params)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	start, end, err := parseRange(params, 24*time.Hour)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	format := params.Get("format")
	if format == "" {
		format = "json"
	}
	var w exportWriter
	switch format {
	case "json":
		w = &jsonExport{}
	case "csv":
		w = &csvExport{}
	default:
		return promError(c, http.StatusBadRequest, "bad_data", "format: want csv or json, got "+strconv.Quote(format))
	}
	res := c.Response()
	cutoff := newWriteCutoff(c)
	defer cutoff.disarm()
	started := false
	begin := func(labelNames []string) error {
		started = true
		cutoff.arm()
		w.begin(res, labelNames)
		return nil
	}
	err = s.store.Export(c.Request().Context(), sel, start, end, begin, w.series)
	if err == nil {
		err = w.end()
	}
	switch {
	case err == nil:
		return nil
	case !started:
		return s.queryFailed(c, http.StatusUnprocessableEntity, "execution", err)
	case errors.Is(err, errClientGone):
		return nil
	}
	s.log.Warn("export stopped after its answer began; aborting the connection",
		"request_id", requestID(c), "err", err)
	panic(http.ErrAbortHandler)
}

// writeCutoff makes an export's writes fail once its request's context is done, so a client
// that stops reading cannot keep storage open past the deadline. It is armed when the answer
// begins (an error answer before it must still go out) and disarmed before the handler
// returns: the connection may serve another request after that.
type writeCutoff struct {
	ctx  context.Context
	rc   *http.ResponseController
	mu   sync.Mutex
	done bool // disarmed
	stop func() bool
}

func newWriteCutoff(c echo.Context) *writeCutoff {
	return &writeCutoff{ctx: c.Request().Context(), rc: http.NewResponseController(c.Response())}
}

func (w *writeCutoff) arm() {
	w.stop = context.AfterFunc(w.ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.done {
			_ = w.rc.SetWriteDeadline(time.Now()) // a test's recorder may not support it
		}
	})
}

func (w *writeCutoff) disarm() {
	if w.stop != nil {
		w.stop()
	}
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// errClientGone wraps a failed write of an export: the client went away.
var errClientGone = errors.New("cannot write export")

// exportWriter encodes one export: begin sends the headers, series one series, end the rest.
// Writes are buffered and go out every exportFlushBytes.
type exportWriter interface {
	begin(res *echo.Response, labelNames []string)
	series(s *tsdb.Series) error
	end() error
}

// exportBuffer is the buffered writer under both export formats.
type exportBuffer struct {
	w   io.Writer
	buf []byte
}

// flush writes the buffer out when it holds at least min bytes.
func (b *exportBuffer) flush(min int) error {
	if len(b.buf) < min || len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	if err != nil {
		return fmt.Errorf("%w: %w", errClientGone, err)
	}
	return nil
}

// jsonExport writes VictoriaMetrics' JSON lines export.
type jsonExport struct{ exportBuffer }

func (e *jsonExport) begin(res *echo.Response, _ []string) {
	res.Header().Set(echo.HeaderContentType, "application/x-ndjson")
	res.WriteHeader(http.StatusOK)
	e.w = res
	e.buf = make([]byte, 0, exportFlushBytes+4<<10)
}

func (e *jsonExport) series(s *tsdb.Series) error {
	metric, err := json.Marshal(labelsJSON(s.Name, s.Labels))
	if err != nil {
		return fmt.Errorf("cannot encode labels: %w", err)
	}
	e.buf = append(e.buf, `{"metric":`...)
	e.buf = append(e.buf, metric...)
	e.buf = append(e.buf, `,"values":[`...)
	for i, p := range s.Points {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendJSONValue(e.buf, p.Value)
		if err := e.flush(exportFlushBytes); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, `],"timestamps":[`...)
	for i, p := range s.Points {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = strconv.AppendInt(e.buf, p.Timestamp, 10)
		if err := e.flush(exportFlushBytes); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, "]}\n"...)
	return e.flush(exportFlushBytes)
}

func (e *jsonExport) end() error { return e.flush(1) }

// appendJSONValue appends v as a JSON number, or ±Inf as VictoriaMetrics' export writes them.
// NaN never reaches it: storage reads drop NaNs.
func appendJSONValue(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Infinity"`...)
	}
	// As encoding/json formats a float64: plain decimals unless very small or large.
	format := byte('f')
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, v, format, -1, 64)
}

// csvExport writes CSV: one column per label name of any exported series, sorted.
type csvExport struct {
	cw   *csv.Writer
	cols []string
	row  []string
}

func (e *csvExport) begin(res *echo.Response, labelNames []string) {
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="redwatch-export.csv"`)
	res.WriteHeader(http.StatusOK)
	e.cols = labelNames
	e.cw = csv.NewWriter(res)
	e.row = append(append([]string{"__name__"}, labelNames...), "timestamp_ms", "value")
	_ = e.cw.Write(e.row) // a failed write shows in Error at the first series
}

func (e *csvExport) series(s *tsdb.Series) error {
	e.row = append(e.row[:0], s.Name)
	for _, n := range e.cols {
		e.row = append(e.row, s.Label(n))
	}
	fixed := len(e.row)
	for _, p := range s.Points {
		e.row = append(e.row[:fixed], strconv.FormatInt(p.Timestamp, 10), formatValue(p.Value))
		if err := e.cw.Write(e.row); err != nil {
			return fmt.Errorf("%w: %w", errClientGone, err)
		}
	}
	return nil
}

func (e *csvExport) end() error {
	e.cw.Flush()
	if err := e.cw.Error(); err != nil {
		return fmt.Errorf("%w: %w", errClientGone, err)
	}
	return nil
}
