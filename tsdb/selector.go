package tsdb

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
	"github.com/VictoriaMetrics/metricsql"
)

// Selector is a parsed series selector such as `redis_key_length{instance="cache",key=~"q:.*"}`:
// groups of label filters joined by "or"; a series matches when every filter of any group does.
// A Selector is immutable and safe for concurrent use.
type Selector struct {
	text   string
	groups [][]labelFilter
}

type labelFilter struct {
	name     string // "__name__" for the metric name
	value    string
	negative bool
	regexp   bool
	re       *regexp.Regexp // anchored; set when regexp
}

// ParseSelector parses a Prometheus/MetricsQL series selector with =, !=, =~ and !~ matchers.
// Anything else (functions, arithmetic, ranges) is rejected with the reason. The values of =
// and != matchers are encoded with LabelValue, as Write stores label values, so a value that
// is not valid UTF-8 selects its series; regexps match the stored (encoded) values.
func ParseSelector(s string) (*Selector, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty selector")
	}
	expr, err := metricsql.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("cannot parse selector %q: %w", s, err)
	}
	me, ok := expr.(*metricsql.MetricExpr)
	if !ok {
		return nil, fmt.Errorf("%q is not a series selector: only name{label=\"value\"} selectors are supported", s)
	}
	sel := &Selector{text: s}
	for _, g := range me.LabelFilterss {
		group := make([]labelFilter, 0, len(g))
		for _, f := range g {
			lf := labelFilter{name: f.Label, value: f.Value, negative: f.IsNegative, regexp: f.IsRegexp}
			if lf.regexp {
				re, err := regexp.Compile("^(?:" + f.Value + ")$")
				if err != nil {
					return nil, fmt.Errorf("selector %q: bad regexp for label %s: %w", s, f.Label, err)
				}
				lf.re = re
			} else {
				lf.value = LabelValue(lf.value) // as Write stores it
			}
			group = append(group, lf)
		}
		if len(group) == 0 {
			continue
		}
		sel.groups = append(sel.groups, group)
	}
	if len(sel.groups) == 0 {
		return nil, fmt.Errorf("selector %q matches every series: name a metric or a label", s)
	}
	return sel, nil
}

// String returns the selector as written.
func (sel *Selector) String() string { return sel.text }

// maxQuotedSelector is how much of a selector's text an error message quotes.
const maxQuotedSelector = 200

// quoted is the selector's text for error messages: at most maxQuotedSelector bytes, with the
// length of the rest when longer (a union of thousands of match[] stays readable).
func (sel *Selector) quoted() string {
	if len(sel.text) <= maxQuotedSelector {
		return sel.text
	}
	cut := maxQuotedSelector
	for cut > 0 && !utf8.RuneStart(sel.text[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d more bytes)", sel.text[:cut], len(sel.text)-cut)
}

// Union returns a selector matching every series any of sels matches, read with one storage
// search, so a series matched by several selectors is read and returned once. Groups that
// repeat (the same filters, in any order) are kept once: a thousand copies of one selector
// cost what one does. Its text is the distinct texts of sels joined by ", ". sels must not be
// empty.
func Union(sels ...*Selector) *Selector {
	if len(sels) == 0 {
		panic("BUG: Union of no selectors")
	}
	if len(sels) == 1 {
		return sels[0]
	}
	u := &Selector{}
	texts := map[string]bool{}
	groups := map[string]bool{}
	var b strings.Builder
	for _, sel := range sels {
		if !texts[sel.text] {
			texts[sel.text] = true
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString(sel.text)
		}
		for _, g := range sel.groups {
			if k := groupKey(g); !groups[k] {
				groups[k] = true
				u.groups = append(u.groups, g)
			}
		}
	}
	u.text = b.String()
	return u
}

// groupKey identifies a group of filters whatever their order.
func groupKey(g []labelFilter) string {
	keys := make([]string, len(g))
	for i, f := range g {
		op := "="
		switch {
		case f.negative && f.regexp:
			op = "!~"
		case f.negative:
			op = "!="
		case f.regexp:
			op = "=~"
		}
		keys[i] = strconv.Quote(f.name) + op + strconv.Quote(f.value)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// MetricNames returns the exact metric names the selector is limited to, or nil when a group
// does not pin the name with "=". The latest table uses it to avoid a full scan.
func (sel *Selector) MetricNames() []string {
	var names []string
	for _, g := range sel.groups {
		found := false
		for _, f := range g {
			if f.name == "__name__" && !f.negative && !f.regexp {
				names = append(names, f.value)
				found = true
				break
			}
		}
		if !found {
			return nil
		}
	}
	sort.Strings(names)
	return names
}

// Matches reports whether the series name{labels} matches. A missing label has the value "".
func (sel *Selector) Matches(name string, labels []Label) bool {
	for _, g := range sel.groups {
		if groupMatches(g, name, labels) {
			return true
		}
	}
	return false
}

func groupMatches(g []labelFilter, name string, labels []Label) bool {
	for i := range g {
		f := &g[i]
		v := name
		if f.name != "__name__" {
			v = labelValue(labels, f.name)
		}
		var ok bool
		if f.regexp {
			ok = f.re.MatchString(v)
		} else {
			ok = v == f.value
		}
		if ok == f.negative {
			return false
		}
	}
	return true
}

func labelValue(labels []Label, name string) string {
	for _, l := range labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// tagFilters converts sel into VictoriaMetrics tag filters (one TagFilters per or-group).
func (sel *Selector) tagFilters() ([]*storage.TagFilters, error) {
	tfss := make([]*storage.TagFilters, 0, len(sel.groups))
	for _, g := range sel.groups {
		tfs := storage.NewTagFilters()
		for _, f := range g {
			var key []byte
			if f.name != "__name__" {
				key = []byte(f.name)
			}
			if err := tfs.Add(key, []byte(f.value), f.negative, f.regexp); err != nil {
				return nil, fmt.Errorf("selector %q: %w", sel.quoted(), err)
			}
		}
		tfss = append(tfss, tfs)
	}
	return tfss, nil
}

// allSeriesFilters matches every series; the compactor and the latest-table preload use it.
func allSeriesFilters() []*storage.TagFilters {
	tfs := storage.NewTagFilters()
	if err := tfs.Add(nil, []byte(".+"), false, true); err != nil {
		panic(fmt.Sprintf("BUG: cannot build the all-series filter: %s", err))
	}
	return []*storage.TagFilters{tfs}
}
