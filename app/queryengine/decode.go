package queryengine

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/redwatch/redwatch/tsdb"
)

// promAnswer is the Prometheus HTTP API's envelope.
type promAnswer struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// queryData is the data of /api/v1/query and /api/v1/query_range.
type queryData struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

// promSeries is one element of a vector (Value) or a matrix (Values).
type promSeries struct {
	Metric map[string]string `json:"metric"`
	Value  promPoint         `json:"value"`
	Values []promPoint       `json:"values"`
}

// promPoint is [unix seconds, "value"].
type promPoint struct {
	ms    int64
	value float64
	set   bool
}

func (p *promPoint) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 2 {
		return fmt.Errorf("a point is not [time, \"value\"]: %.80s", b)
	}
	var sec float64
	if err := json.Unmarshal(raw[0], &sec); err != nil {
		return fmt.Errorf("a point's time is not a number: %.40s", raw[0])
	}
	var s string
	if err := json.Unmarshal(raw[1], &s); err != nil {
		return fmt.Errorf("a point's value is not a string: %.40s", raw[1])
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("a point's value %q is not a number", s)
	}
	p.ms, p.value, p.set = int64(math.Round(sec*1000)), v, true
	return nil
}

// answerError is the error of a Prometheus error answer (or of one that is no answer),
// of the kind its status says: 400 ErrBadQuery's, 503 and other server errors ErrUnavailable's,
// 422 and the rest plain (an execution error, a bound).
func answerError(code int, body []byte) error {
	var a promAnswer
	msg := ""
	if json.Unmarshal(body, &a) == nil && a.Error != "" {
		msg = a.Error
	} else {
		msg = strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		if msg == "" {
			msg = http.StatusText(code)
		}
	}
	switch {
	case code == http.StatusBadRequest:
		return fmt.Errorf("%w: %s", tsdb.ErrBadQuery, msg)
	case code >= 500 || code == http.StatusTooManyRequests || code == http.StatusUnauthorized || code == http.StatusForbidden || code == http.StatusNotFound:
		return &unavailableError{err: fmt.Errorf("HTTP %d: %s", code, msg)}
	}
	return fmt.Errorf("HTTP %d: %s", code, msg)
}

// decodeAnswer decodes a Prometheus answer of status code: its data into out on success,
// else answerError's error.
func decodeAnswer(code int, body []byte, out any) error {
	if code != http.StatusOK {
		return answerError(code, body)
	}
	var a promAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return &unavailableError{err: fmt.Errorf("the answer is not Prometheus JSON: %w", err)}
	}
	if a.Status != "success" {
		return answerError(http.StatusUnprocessableEntity, body)
	}
	if err := json.Unmarshal(a.Data, out); err != nil {
		return &unavailableError{err: fmt.Errorf("cannot decode the answer's data: %w", err)}
	}
	return nil
}

// decodeSeries turns the data of a query answer into tsdb.Series as tsdb's engine returns
// them: __name__ in Name, labels sorted, NaN points left out, series without points dropped,
// a scalar a series without name or labels.
func decodeSeries(code int, body []byte) ([]tsdb.Series, error) {
	var d queryData
	if err := decodeAnswer(code, body, &d); err != nil {
		return nil, err
	}
	var ps []promSeries
	switch d.ResultType {
	case "vector", "matrix":
		if err := json.Unmarshal(d.Result, &ps); err != nil {
			return nil, &unavailableError{err: fmt.Errorf("cannot decode the %s: %w", d.ResultType, err)}
		}
	case "scalar":
		var p promPoint
		if err := json.Unmarshal(d.Result, &p); err != nil {
			return nil, &unavailableError{err: fmt.Errorf("cannot decode the scalar: %w", err)}
		}
		ps = []promSeries{{Value: p}}
	default:
		return nil, &unavailableError{err: fmt.Errorf("unexpected resultType %q", d.ResultType)}
	}
	out := make([]tsdb.Series, 0, len(ps))
	for _, p := range ps {
		s := tsdb.Series{Name: p.Metric["__name__"], Labels: make([]tsdb.Label, 0, len(p.Metric))}
		for k, v := range p.Metric {
			if k != "__name__" {
				s.Labels = append(s.Labels, tsdb.Label{Name: k, Value: v})
			}
		}
		slices.SortFunc(s.Labels, func(a, b tsdb.Label) int { return strings.Compare(a.Name, b.Name) })
		pts := p.Values
		if p.Value.set {
			pts = []promPoint{p.Value}
		}
		for _, pt := range pts {
			if !math.IsNaN(pt.value) {
				s.Points = append(s.Points, tsdb.Point{Timestamp: pt.ms, Value: pt.value})
			}
		}
		if len(s.Points) > 0 {
			out = append(out, s)
		}
	}
	return out, nil
}

// decodeSeriesList turns the data of a /api/v1/series answer into tsdb.Series without
// points, sorted by name and labels.
func decodeSeriesList(code int, body []byte) ([]tsdb.Series, error) {
	var ms []map[string]string
	if err := decodeAnswer(code, body, &ms); err != nil {
		return nil, err
	}
	out := make([]tsdb.Series, 0, len(ms))
	for _, m := range ms {
		s := tsdb.Series{Name: m["__name__"], Labels: make([]tsdb.Label, 0, len(m))}
		for k, v := range m {
			if k != "__name__" {
				s.Labels = append(s.Labels, tsdb.Label{Name: k, Value: v})
			}
		}
		slices.SortFunc(s.Labels, func(a, b tsdb.Label) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, s)
	}
	slices.SortFunc(out, compareSeries)
	return out, nil
}

// compareSeries orders series by name, then labels.
func compareSeries(a, b tsdb.Series) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return slices.CompareFunc(a.Labels, b.Labels, func(x, y tsdb.Label) int {
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return strings.Compare(x.Value, y.Value)
	})
}
