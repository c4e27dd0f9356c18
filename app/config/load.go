package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	gotoml "github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"
)

// Names of the flags RegisterFlags defines.
const (
	FlagConfig = "config" // path to the TOML file
	FlagListen = "listen" // overrides server.listen
	FlagData   = "data"   // overrides storage.path
)

// EnvPrefix starts every environment variable Load reads.
const EnvPrefix = "REDWATCH_"

// EnvAdminPassword is the one REDWATCH_ variable that is not configuration: the password of the
// first admin user (SPEC.md). Load ignores it.
const EnvAdminPassword = "REDWATCH_ADMIN_PASSWORD"

// EnvAgentToken is the token `redwatch agent` pushes with, when not given by --token; it is
// not configuration either, so an agent and a hub may share an environment.
const EnvAgentToken = "REDWATCH_AGENT_TOKEN"

// LoadOptions says where Load reads configuration from.
type LoadOptions struct {
	// File is the TOML config file; "" means none, unless Flags has --config set.
	File string
	// Env is the environment as os.Environ returns it; only REDWATCH_* entries are used.
	Env []string
	// Flags may be nil; only flags that were Changed apply.
	Flags *pflag.FlagSet
}

// RegisterFlags defines redwatch's configuration flags on fs: --config FILE, --listen ADDR
// (server.listen) and --data DIR (storage.path). Their defaults are empty: Load applies a flag
// only when it was given on the command line. fs must not already define these names.
func RegisterFlags(fs *pflag.FlagSet) {
	fs.String(FlagConfig, "", "path to the TOML configuration file (see config.example.toml)")
	fs.String(FlagListen, "", `address to serve HTTP on, host:port (server.listen; default "`+DefaultListen+`")`)
	fs.String(FlagData, "", `data directory (storage.path; default "`+DefaultStoragePath+`")`)
}

// flagKeys maps flag names to the config keys they set.
func flagKey(name string) string {
	switch name {
	case FlagListen:
		return "server.listen"
	case FlagData:
		return "storage.path"
	}
	return ""
}

// Load builds the configuration from, in increasing precedence: the built-in defaults
// (Default), the TOML file, the environment and the flags; applies the per-entry defaults of
// list entries (for keys that are missing, not for keys given as zero); reads each
// redis[].password_file into Password (contents with surrounding whitespace trimmed); and
// validates the result.
//
// The environment: REDWATCH_ followed by the key path upper-cased with "__" between levels,
// e.g. REDWATCH_SERVER__LISTEN=0.0.0.0:9000, REDWATCH_STORAGE__RETENTION=7d,
// REDWATCH_INGEST__TOKENS=tok1,tok2 (lists of strings are comma-separated). Keys inside list
// sections ([[redis]], [[auth.users]], [[alerts.rules]], [[notify.*]]) cannot be set from the
// environment. Any other REDWATCH_ variable, except REDWATCH_ADMIN_PASSWORD, is an error.
//
// With no [[redis]] in the file, one Redis named "local" at 127.0.0.1:6379 is watched;
// `redis = []` watches none.
//
// On any problem Load returns a zero Config and all problems found, joined; each is a
// *FieldError ("key.path: reason") wrapping one of the sentinel errors; use Errors to list them.
// Load is safe for concurrent use; it reads files but changes nothing.
func Load(opts LoadOptions) (Config, error) {
	path := opts.File
	if path == "" && opts.Flags != nil {
		if f := opts.Flags.Lookup(FlagConfig); f != nil && f.Changed {
			path = f.Value.String()
		}
	}

	k := koanf.New(".")
	if path != "" {
		if err := k.Load(file.Provider(path), toml.Parser()); err != nil {
			return Config{}, fileError(path, err)
		}
	}

	var errs errorList
	// Environment variables can only set keys outside list sections: there is no way to say
	// which [[redis]] entry REDWATCH_REDIS__NAME would belong to.
	envOpt := env.Opt{
		Prefix:        EnvPrefix,
		EnvironFunc:   func() []string { return opts.Env },
		TransformFunc: envTransform(&errs),
	}
	if err := k.Load(env.Provider(".", envOpt), nil); err != nil {
		return Config{}, fmt.Errorf("cannot read the environment: %w", err)
	}
	if opts.Flags != nil {
		p := posflag.ProviderWithFlag(opts.Flags, ".", nil, func(f *pflag.Flag) (string, any) {
			return flagKey(f.Name), f.Value.String()
		})
		if err := k.Load(p, nil); err != nil {
			return Config{}, fmt.Errorf("cannot read flags: %w", err)
		}
	}

	cfg := baseDefaults()
	d := newDecoder()
	d.decodeStruct("", k.Raw(), reflect.ValueOf(&cfg).Elem())
	errs.errs = append(errs.errs, d.errs.errs...)

	if len(cfg.Redis) == 0 && !d.isSet("redis") {
		cfg.Redis = []Redis{localRedis()}
	}
	applyListDefaults(&cfg, d.isSet)
	cfg.readPasswordFiles()

	// Validate, leaving out problems at or under a key that failed to decode: that key holds
	// its default, and the decoding error already says what is wrong.
	if err := cfg.Validate(); err != nil {
		for _, e := range unjoin(err) {
			var fe *FieldError
			if errors.As(e, &fe) && underAny(fe.Path, d.bad) {
				continue
			}
			errs.errs = append(errs.errs, e)
		}
	}
	if err := errs.err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// unjoin returns the errors joined in err.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, ok := err.(*FieldError); !ok {
			return j.Unwrap()
		}
	}
	return []error{err}
}

// underAny reports whether path is one of prefixes or below one of them.
func underAny(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

// fileError describes a config file that cannot be read or parsed.
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &FieldError{Path: path, Reason: "cannot read config file: " + pe.Err.Error(), Err: ErrFile, Cause: err}
	}
	var de *gotoml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return &FieldError{Path: fmt.Sprintf("%s:%d:%d", path, row, col), Reason: de.Error(), Err: ErrSyntax, Cause: err}
	}
	return &FieldError{Path: path, Reason: err.Error(), Err: ErrSyntax, Cause: err}
}

// readPasswordFiles sets Password from PasswordFile where only the file is given. Unreadable
// files are left for Validate to report.
func (c *Config) readPasswordFiles() {
	for i := range c.Redis {
		c.Redis[i].ReadPasswordFile()
	}
}

// ReadPasswordFile sets Password from PasswordFile (its content, trimmed) when only the file
// is given, and SentinelPassword from SentinelPasswordFile likewise. An unreadable file is left for Validate to report.
func (r *Redis) ReadPasswordFile() {
	r.readSentinelPasswordFile()
	if r.PasswordFile == "" || r.Password != "" {
		return
	}
	if b, err := os.ReadFile(r.PasswordFile); err == nil {
		r.Password = strings.TrimSpace(string(b))
	}
}

// envTransform returns the env provider callback: it maps REDWATCH_LOG__LEVEL to "log.level",
// converts the value to the key's type and records unknown variables and bad values in errs.
func envTransform(errs *errorList) func(name, value string) (string, any) {
	leaves, lists := envKeys()
	return func(name, value string) (string, any) {
		if name == EnvAdminPassword || name == EnvAgentToken {
			return "", nil
		}
		key := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, EnvPrefix)), "__", ".")
		t, ok := leaves[key]
		if !ok {
			reason := "unknown configuration variable"
			if inList(key, lists) {
				reason += " (keys inside list sections such as [[redis]] can be set only in the config file)"
			} else if s := suggest(key, slices.Sorted(maps.Keys(leaves))); s != "" {
				reason += fmt.Sprintf(" (did you mean %s?)", envName(s))
			}
			errs.add(name, ErrUnknownKey, reason)
			return "", nil
		}
		v, fe := envValue(value, t)
		if fe != nil {
			fe.Path = key
			fe.Reason += " (from " + name + ")"
			errs.errs = append(errs.errs, fe)
			return "", nil
		}
		return key, v
	}
}

// inList reports whether key is a list section or below one.
func inList(key string, lists map[string]bool) bool {
	prefix := ""
	for part := range strings.SplitSeq(key, ".") {
		prefix = joinPath(prefix, part)
		if lists[prefix] {
			return true
		}
	}
	return false
}

// envName is the environment variable that sets key.
func envName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "__"))
}

// envKeys returns the key paths the environment may set (leaves outside list sections) with
// their types, and the key paths of list sections (and maps), which it may not.
func envKeys() (leaves map[string]reflect.Type, lists map[string]bool) {
	leaves = make(map[string]reflect.Type)
	lists = make(map[string]bool)
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for _, f := range structFields(t) {
			path := joinPath(prefix, f.name)
			ft := t.FieldByIndex(f.index).Type
			switch {
			case ft.Kind() == reflect.Struct && !isDuration(ft):
				walk(path, ft)
			case ft.Kind() == reflect.Map, ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				lists[path] = true
			default:
				leaves[path] = ft
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	return leaves, lists
}

// envValue converts an environment value to what the TOML parser would have produced for a key
// of type t, so the decoder treats both alike.
func envValue(s string, t reflect.Type) (any, *FieldError) {
	if isDuration(t) {
		if _, err := ParseDuration(s); err != nil {
			return nil, &FieldError{Reason: err.Error(), Err: ErrBadDuration}
		}
		return s, nil
	}
	switch t.Kind() {
	case reflect.String:
		return s, nil
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, &FieldError{Reason: fmt.Sprintf("%q is not true or false", s), Err: ErrWrongType}
		}
		return b, nil
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, &FieldError{Reason: fmt.Sprintf("%q is not an integer", s), Err: ErrWrongType}
		}
		return n, nil
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, &FieldError{Reason: fmt.Sprintf("%q is not a number", s), Err: ErrWrongType}
		}
		return f, nil
	case reflect.Pointer:
		return envValue(s, t.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			var out []any
			for part := range strings.SplitSeq(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
			if out == nil {
				out = []any{}
			}
			return out, nil
		}
	}
	panic(fmt.Sprintf("BUG: no environment conversion for %s", t))
}
