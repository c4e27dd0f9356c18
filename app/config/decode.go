package config

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	gotoml "github.com/pelletier/go-toml/v2"
)

func isDuration(t reflect.Type) bool { return t == reflect.TypeFor[Duration]() }

// field is one koanf-tagged field of a struct; fields of embedded `koanf:",squash"` structs are
// listed as if they belonged to the outer struct.
type field struct {
	name  string
	index []int
}

// structFields returns the koanf keys of struct type t in declaration order.
func structFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag, ok := sf.Tag.Lookup("koanf")
		if !ok {
			panic(fmt.Sprintf("BUG: field %s.%s has no koanf tag", t.Name(), sf.Name))
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "squash" {
			for _, f := range structFields(sf.Type) {
				f.index = append([]int{i}, f.index...)
				out = append(out, f)
			}
			continue
		}
		out = append(out, field{name: name, index: []int{i}})
	}
	return out
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// decoder copies a raw koanf map (as parsed from TOML, with env and flag values merged in) onto
// a Config, checking every key and type and recording every problem with its key path.
type decoder struct {
	errs errorList
	set  map[string]bool // every key path present in the raw map
	bad  []string        // key paths that had a decoding error
}

func newDecoder() *decoder {
	return &decoder{set: make(map[string]bool)}
}

func (d *decoder) isSet(path string) bool { return d.set[path] }

func (d *decoder) fail(path string, sentinel error, reason string) {
	d.errs.add(path, sentinel, reason)
	d.bad = append(d.bad, path)
}

func (d *decoder) wrongType(path, want string, raw any) {
	d.fail(path, ErrWrongType, fmt.Sprintf("must be %s, not %s", want, describe(raw)))
}

// decode stores raw into v (settable), which already holds the default value.
func (d *decoder) decode(path string, raw any, v reflect.Value) {
	d.set[path] = true
	t := v.Type()
	if isDuration(t) {
		s, ok := raw.(string)
		if !ok {
			d.wrongType(path, `a duration string such as "10s"`, raw)
			return
		}
		dur, err := ParseDuration(s)
		if err != nil {
			d.fail(path, ErrBadDuration, err.Error())
			return
		}
		v.SetInt(int64(dur))
		return
	}
	switch t.Kind() {
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			d.wrongType(path, "a string", raw)
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			d.wrongType(path, "true or false", raw)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, ok := raw.(int64)
		if !ok {
			d.wrongType(path, "an integer", raw)
			return
		}
		if v.OverflowInt(n) {
			d.fail(path, ErrInvalid, fmt.Sprintf("%d is out of range", n))
			return
		}
		v.SetInt(n)
	case reflect.Float64:
		switch n := raw.(type) {
		case float64:
			if math.IsNaN(n) || math.IsInf(n, 0) {
				d.fail(path, ErrInvalid, "must be a finite number")
				return
			}
			v.SetFloat(n)
		case int64:
			v.SetFloat(float64(n))
		default:
			d.wrongType(path, "a number", raw)
		}
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		before := len(d.bad)
		d.decode(path, raw, p.Elem())
		if len(d.bad) == before {
			v.Set(p)
		}
	case reflect.Slice:
		d.decodeSlice(path, raw, v)
	case reflect.Map:
		d.decodeMap(path, raw, v)
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			d.wrongType(path, "a table", raw)
			return
		}
		d.decodeStruct(path, m, v)
	default:
		panic(fmt.Sprintf("BUG: config field %s has unsupported type %s", path, t))
	}
}

func (d *decoder) decodeStruct(path string, m map[string]any, v reflect.Value) {
	fields := structFields(v.Type())
	known := make(map[string]bool, len(fields))
	for _, f := range fields {
		known[f.name] = true
		raw, ok := m[f.name]
		if !ok {
			continue
		}
		d.decode(joinPath(path, f.name), raw, v.FieldByIndex(f.index))
	}
	var unknown []string
	for k := range m {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		reason := "unknown key"
		names := make([]string, 0, len(fields))
		for _, f := range fields {
			names = append(names, f.name)
		}
		if s := suggest(k, names); s != "" {
			reason += fmt.Sprintf(" (did you mean %q?)", s)
		}
		d.fail(joinPath(path, k), ErrUnknownKey, reason)
	}
}

func (d *decoder) decodeSlice(path string, raw any, v reflect.Value) {
	items, ok := raw.([]any)
	if !ok {
		if v.Type().Elem().Kind() == reflect.Struct {
			d.wrongType(path, "an array of tables", raw)
		} else {
			d.wrongType(path, "an array", raw)
		}
		return
	}
	if len(items) == 0 {
		v.SetZero() // an empty list is nil, as in Default
		return
	}
	s := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		d.decode(indexPath(path, i), item, s.Index(i))
	}
	v.Set(s)
}

func (d *decoder) decodeMap(path string, raw any, v reflect.Value) {
	m, ok := raw.(map[string]any)
	if !ok {
		d.wrongType(path, "a table", raw)
		return
	}
	if len(m) == 0 {
		v.SetZero()
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(joinPath(path, k), m[k], e)
		out.SetMapIndex(reflect.ValueOf(k), e)
	}
	v.Set(out)
}

// describe names the TOML type of a raw value for error messages.
func describe(raw any) string {
	// Values are not quoted: a misplaced one may be a secret.
	switch raw.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, int:
		return "an integer"
	case float64:
		return "a float"
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time, gotoml.LocalDate, gotoml.LocalTime, gotoml.LocalDateTime:
		return "a date-time"
	default:
		return fmt.Sprintf("a %T", raw)
	}
}

// suggest returns the candidate closest to s if it is close enough to be a likely typo.
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3 // at most 2 edits
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestDist && d < len(c) {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
