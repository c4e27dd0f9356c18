package settings

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/redwatch/redwatch/app/config"
)

// Sentinel errors of Service.Update, tested with errors.Is.
var (
	// ErrNotFound: the instance, key or rule does not exist (or no longer does).
	ErrNotFound = errors.New("not found")
	// ErrReadOnly: the object comes from the config file and cannot be changed here.
	ErrReadOnly = errors.New("from the config file; edit the file to change it")
	// ErrInvalid: the change does not validate; the error is a *ValidationError.
	ErrInvalid = errors.New("invalid settings")
	// ErrApply: the running samplers (or, for a rule, the alert engine) refused the new set;
	// nothing was saved.
	ErrApply = errors.New("cannot apply settings")
)

// ValidationError lists what is wrong with a change, by form field. Field names are the config
// key names of the object ("name", "addr", "interval", "timeout", "tls_ca_file", ... for an
// instance; "key" (the key or pattern), "interval", "max_keys", "scan_interval", "expect_exists" for a key;
// "name", "series", "aggregate", "window", "op", "threshold", "clear_threshold", "for",
// "severity", "summary", "labels" for a rule).
// Problems not tied to one field are in Other. Messages never contain secrets.
type ValidationError struct {
	Fields map[string]string // field -> reason; several reasons for a field are joined by "; "
	Other  []string
}

func (e *ValidationError) Error() string {
	var parts []string
	for _, f := range fieldOrder {
		if r, ok := e.Fields[f]; ok {
			parts = append(parts, f+": "+r)
		}
	}
	var rest []string
	for f := range e.Fields {
		if !slices.Contains(fieldOrder, f) {
			rest = append(rest, f)
		}
	}
	slices.Sort(rest)
	for _, f := range rest {
		parts = append(parts, f+": "+e.Fields[f])
	}
	parts = append(parts, e.Other...)
	return strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// fieldOrder is the order Error lists fields in (the forms' order).
var fieldOrder = []string{"name", "addr", "username", "password", "password_file", "db", "tls",
	"tls_ca_file", "tls_cert_file", "tls_key_file", "interval", "timeout", "kind", "key", "max_keys", "scan_interval", "expect_exists",
	"series", "aggregate", "window", "op", "threshold", "clear_threshold", "for", "severity", "summary", "labels"}

func (e *ValidationError) add(field, reason string) {
	if field == "" {
		e.Other = append(e.Other, reason)
		return
	}
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if old, ok := e.Fields[field]; ok {
		reason = old + "; " + reason
	}
	e.Fields[field] = reason
}

func (e *ValidationError) orNil() error {
	if len(e.Fields) == 0 && len(e.Other) == 0 {
		return nil
	}
	return e
}

// instanceFields are the instance paths config.Redis.Validate reports that are form fields.
var instanceFields = map[string]bool{"name": true, "addr": true, "username": true, "password": true,
	"password_file": true, "db": true, "tls": true, "tls_ca_file": true, "tls_cert_file": true,
	"tls_key_file": true, "interval": true, "timeout": true}

// validateInstance validates r (defaults applied) as an instance form: problems with its
// keys are reported under Other.
func validateInstance(r *config.Redis, ve *ValidationError) {
	for _, fe := range fieldErrors(r.Validate()) {
		if instanceFields[fe.Path] {
			ve.add(fe.Path, fe.Reason)
			continue
		}
		ve.add("", fe.Error())
	}
}

var keyPath = regexp.MustCompile(`^keys\[(\d+)\](?:\.(.*))?$`)

// validateKey validates the key at index i of r's keys as a key form: only problems with that
// key are reported (r itself was validated when it was made).
func validateKey(r *config.Redis, i int, ve *ValidationError) {
	for _, fe := range fieldErrors(r.Validate()) {
		m := keyPath.FindStringSubmatch(fe.Path)
		if m == nil || m[1] != fmt.Sprint(i) {
			continue
		}
		reason := fe.Reason
		switch {
		case errors.Is(fe, config.ErrDuplicate):
			reason = "already watched on this instance"
		case errors.Is(fe, config.ErrRequired) && m[2] == "":
			reason = "required"
		}
		switch m[2] {
		case "", "key", "pattern":
			ve.add("key", reason)
		case "interval", "max_keys", "scan_interval", "expect_exists":
			ve.add(m[2], reason)
		default:
			ve.add("", fe.Error())
		}
	}
}

// fieldErrors flattens the joined errors of config's Validate into its *FieldErrors.
func fieldErrors(err error) []*config.FieldError {
	var out []*config.FieldError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*config.FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if err != nil {
			out = append(out, &config.FieldError{Reason: err.Error(), Err: err})
		}
	}
	walk(err)
	return out
}
