package config

import (
	"errors"
	"strings"
)

// Sentinel errors. Every error returned by Load, Validate and ParseDuration wraps exactly one of
// them (test with errors.Is); the message itself is a *FieldError of the form "key.path: reason".
var (
	// ErrUnknownKey: a key in the file, or a REDWATCH_ environment variable, that redwatch does
	// not know (usually a typo).
	ErrUnknownKey = errors.New("unknown key")
	// ErrWrongType: a value of the wrong TOML type, e.g. a string where an integer is expected.
	ErrWrongType = errors.New("wrong type")
	// ErrBadDuration: a string that ParseDuration rejects.
	ErrBadDuration = errors.New("bad duration")
	// ErrRequired: a key that must be set is missing or empty.
	ErrRequired = errors.New("required")
	// ErrInvalid: a value that is out of range, not one of the allowed values, or malformed.
	ErrInvalid = errors.New("invalid value")
	// ErrDuplicate: a name or key that must be unique appears twice.
	ErrDuplicate = errors.New("duplicate")
	// ErrFile: a file named by the configuration (the config file itself, tls_cert, tls_key,
	// password_file) cannot be read. The underlying *fs.PathError is wrapped as well, so
	// errors.Is(err, fs.ErrNotExist) works.
	ErrFile = errors.New("cannot read file")
	// ErrSyntax: the config file is not valid TOML.
	ErrSyntax = errors.New("syntax error")
)

// FieldError is one configuration problem. Error() returns "Path: Reason" on one line.
type FieldError struct {
	// Path is the key path, e.g. "redis[1].keys[0].interval", or the name of the environment
	// variable or file the problem is in. Empty for errors not tied to a key (ParseDuration).
	Path string
	// Reason says what is wrong, e.g. `"5x" is not a duration`. It never contains secrets
	// (passwords, tokens, URLs).
	Reason string
	// Err is the sentinel (ErrInvalid, ...).
	Err error
	// Cause is the underlying error, if any (e.g. an *fs.PathError).
	Cause error
}

// Error implements error.
func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Unwrap returns the sentinel and the cause, so errors.Is matches both.
func (e *FieldError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// Errors flattens an error returned by Load, Check or Validate into one message per problem,
// in the order found, for printing one per line. It returns nil for a nil error.
func Errors(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	var walk func(error)
	walk = func(err error) {
		if _, ok := err.(*FieldError); !ok {
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range j.Unwrap() {
					walk(e)
				}
				return
			}
		}
		out = append(out, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	walk(err)
	return out
}

// errorList collects FieldErrors. The zero value is ready to use.
type errorList struct {
	errs []error
}

func (l *errorList) add(path string, sentinel error, reason string) {
	l.errs = append(l.errs, &FieldError{Path: path, Reason: reason, Err: sentinel})
}

func (l *errorList) addCause(path string, sentinel error, reason string, cause error) {
	l.errs = append(l.errs, &FieldError{Path: path, Reason: reason, Err: sentinel, Cause: cause})
}

// err returns all collected errors joined, or nil.
func (l *errorList) err() error {
	return errors.Join(l.errs...)
}
