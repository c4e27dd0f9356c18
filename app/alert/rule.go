package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

// rule is a validated, compiled config.Rule. It is immutable once built.
type rule struct {
	def       config.Rule    // defaults applied; owns its Labels map and ClearThreshold
	sel       *tsdb.Selector // nil for an expr rule
	expr      string         // the MetricsQL expression of an expr rule; "" for a selector rule
	agg       string
	window    time.Duration
	forDur    time.Duration
	threshold float64
	clear     *float64
	tmpl      *template.Template // nil when the rule has no summary
	// extra are the labels every alert of the rule carries on top of its series' labels,
	// sorted by name: the rule's labels, then alertname and severity (which win).
	extra []tsdb.Label
	// key identifies the rule's definition, summary excepted: rules with equal keys evaluate
	// to the same alerts.
	key string
}

// CheckRules reports whether New would accept rules: each validates and compiles, and names
// are unique. Every error names its rule. It builds no engine and reads no state.
func CheckRules(rules []config.Rule) error {
	_, err := compileRules(rules)
	return err
}

// CheckSeries reports whether series, a rule's series, is a selector the engine can evaluate
// (name{label="value",...}, no functions or operators). Compiling a rule checks it (config's
// Validate does not); the settings form checks it with this.
func CheckSeries(series string) error {
	_, err := tsdb.ParseSelector(series)
	return err
}

// CheckExpr reports whether expr, a rule's expr, is a MetricsQL expression the engine can
// evaluate (tsdb.ValidateExpr); the error, of tsdb.ErrBadQuery's kind, says where it does not
// parse. Compiling a rule
// checks it (config's Validate does not); the settings form checks it with this.
func CheckExpr(expr string) error {
	if err := tsdb.ValidateExpr(expr); err != nil {
		return fmt.Errorf("not a valid MetricsQL expression: %w", err)
	}
	return nil
}

// compileRules validates and compiles rules. Every error names its rule; names must be unique.
func compileRules(rules []config.Rule) ([]*rule, error) {
	var errs []error
	out := make([]*rule, 0, len(rules))
	seen := make(map[string]int, len(rules))
	for i, r := range rules {
		c, err := compileRule(r)
		if err != nil && r.Name == "" {
			err = fmt.Errorf("alert rules[%d]: %w", i, err)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if j, dup := seen[c.def.Name]; dup {
			errs = append(errs, fmt.Errorf("alert rule %q (rules[%d]): name is also the name of rules[%d]", c.def.Name, i, j))
			continue
		}
		seen[c.def.Name] = i
		out = append(out, c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// compileRule applies defaults to a copy of r, validates it and compiles it. Errors name the
// rule, unless it has no name.
func compileRule(r config.Rule) (*rule, error) {
	r.Labels = maps.Clone(r.Labels)
	if r.ClearThreshold != nil {
		v := *r.ClearThreshold
		r.ClearThreshold = &v
	}
	r.ApplyDefaults()
	fail := func(err error) (*rule, error) {
		if r.Name == "" {
			return nil, err
		}
		return nil, fmt.Errorf("alert rule %q: %w", r.Name, err)
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	var sel *tsdb.Selector
	if r.Expr != "" {
		if err := CheckExpr(r.Expr); err != nil {
			return fail(fmt.Errorf("expr: %w", err))
		}
	} else {
		var err error
		if sel, err = tsdb.ParseSelector(r.Series); err != nil {
			return fail(fmt.Errorf("series: %w", err))
		}
	}
	c := &rule{
		def:       r,
		sel:       sel,
		expr:      r.Expr,
		agg:       r.Aggregate,
		window:    r.Window.Std(),
		forDur:    r.For.Std(),
		threshold: r.Threshold,
		clear:     r.ClearThreshold,
	}
	if strings.TrimSpace(r.Summary) != "" {
		// missingkey=zero: a label the series lacks renders as "" rather than "<no value>".
		t, err := template.New(r.Name).Option("missingkey=zero").Parse(r.Summary)
		if err != nil {
			return fail(fmt.Errorf("summary: not a valid template: %w", err))
		}
		c.tmpl = t
	}
	extra := map[string]string{}
	for k, v := range r.Labels {
		if v != "" {
			extra[k] = v
		}
	}
	extra["alertname"] = r.Name
	extra["severity"] = r.Severity
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		c.extra = append(c.extra, tsdb.Label{Name: k, Value: extra[k]})
	}
	keyDef := r
	keyDef.Summary = ""
	b, err := json.Marshal(keyDef)
	if err != nil {
		return fail(fmt.Errorf("cannot encode the rule: %w", err))
	}
	c.key = string(b)
	return c, nil
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// compare reports whether "v op x" holds.
func compare(op string, v, x float64) bool {
	switch op {
	case ">":
		return v > x
	case ">=":
		return v >= x
	case "<":
		return v < x
	case "<=":
		return v <= x
	case "==":
		return v == x
	case "!=":
		return v != x
	}
	panic("BUG: unknown op " + op)
}

// fires reports whether v meets the rule's condition: "v op threshold"; always for an expr
// rule without op (every series the expression returns fires).
func (r *rule) fires(v float64) bool { return r.def.Op == "" || compare(r.def.Op, v, r.threshold) }

// holds reports whether a firing alert with value v stays firing. Without clear_threshold it
// is fires(v); with it, "v op clear_threshold": for op ">" threshold 80 clear_threshold 70, a
// firing alert resolves once v <= 70, so a value hovering around 80 does not flap.
func (r *rule) holds(v float64) bool {
	if r.clear == nil || r.def.Op == "" {
		return r.fires(v)
	}
	return compare(r.def.Op, v, *r.clear)
}

// stale is how old a series' newest sample may be before the series counts as gone:
// max(window, 3 intervals).
func (r *rule) stale(interval time.Duration) time.Duration { return max(r.window, 3*interval) }

// labels returns the alert labels of a series as a map: its labels (sorted, without __name__)
// merged with r.extra, which wins on a clash.
func (r *rule) labels(series []tsdb.Label) map[string]string {
	buf := make([]tsdb.Label, 0, len(series)+len(r.extra))
	i, j := 0, 0
	for i < len(series) || j < len(r.extra) {
		switch {
		case j == len(r.extra) || (i < len(series) && series[i].Name < r.extra[j].Name):
			if series[i].Name != "__name__" && series[i].Value != "" {
				buf = append(buf, series[i])
			}
			i++
		case i == len(series) || r.extra[j].Name < series[i].Name:
			buf = append(buf, r.extra[j])
			j++
		default: // same name: the rule's wins
			buf = append(buf, r.extra[j])
			i++
			j++
		}
	}
	return labelMap(buf)
}

// Fingerprints are 64-bit FNV-1a hashes of an alert's labels sorted by name, each label
// hashed as name 0xff value 0xff, shown as 16 hex digits.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func hashLabel(h uint64, l tsdb.Label) uint64 {
	for i := 0; i < len(l.Name); i++ {
		h = (h ^ uint64(l.Name[i])) * fnvPrime64
	}
	h = (h ^ 0xff) * fnvPrime64
	for i := 0; i < len(l.Value); i++ {
		h = (h ^ uint64(l.Value[i])) * fnvPrime64
	}
	return (h ^ 0xff) * fnvPrime64
}

// fingerprint hashes the alert labels of a series (see labels) without building them.
func (r *rule) fingerprint(series []tsdb.Label) uint64 {
	h := uint64(fnvOffset64)
	i, j := 0, 0
	for i < len(series) || j < len(r.extra) {
		switch {
		case j == len(r.extra) || (i < len(series) && series[i].Name < r.extra[j].Name):
			if series[i].Name != "__name__" && series[i].Value != "" {
				h = hashLabel(h, series[i])
			}
			i++
		case i == len(series) || r.extra[j].Name < series[i].Name:
			h = hashLabel(h, r.extra[j])
			j++
		default:
			h = hashLabel(h, r.extra[j])
			i++
			j++
		}
	}
	return h
}

// fingerprintOf hashes a label map.
func fingerprintOf(m map[string]string) uint64 {
	h := uint64(fnvOffset64)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		h = hashLabel(h, tsdb.Label{Name: k, Value: m[k]})
	}
	return h
}

func fingerprintString(h uint64) string { return fmt.Sprintf("%016x", h) }

func labelMap(ls []tsdb.Label) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// summaryData is what a rule's summary template sees.
type summaryData struct {
	Labels    map[string]string
	Value     float64
	Rule      string
	Threshold float64
}

// summary renders the rule's summary for an alert. On a template error it returns the plain
// summary and the error.
func (r *rule) summary(labels map[string]string, v float64) (string, error) {
	if r.tmpl == nil {
		return r.plainSummary(v), nil
	}
	var b strings.Builder
	err := r.tmpl.Execute(&b, summaryData{Labels: labels, Value: v, Rule: r.def.Name, Threshold: r.threshold})
	if err != nil {
		return r.plainSummary(v), fmt.Errorf("cannot render summary: %w", err)
	}
	s := b.String()
	if len(s) > MaxSummaryBytes {
		s = strings.ToValidUTF8(s[:MaxSummaryBytes], "") + "…"
	}
	return s, nil
}

// MaxSummaryBytes bounds a rendered summary; a longer one is cut and ends with "…".
const MaxSummaryBytes = 2000

// plainSummary is "<rule>: <value> <op> <threshold>" ("<rule>: <value>" for an expr rule
// without op), used without a template or when it fails.
func (r *rule) plainSummary(v float64) string {
	if r.def.Op == "" {
		return fmt.Sprintf("%s: %s", r.def.Name, fmtFloat(v))
	}
	return fmt.Sprintf("%s: %s %s %s", r.def.Name, fmtFloat(v), r.def.Op, fmtFloat(r.threshold))
}
