// Package cli is redwatch's command line: serve (the default), check-config, hash-password and
// version. Main returns the process exit code: 0 ok, 1 runtime failure, 2 bad usage or config.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/redwatch/redwatch/app"
	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/logging"
)

const usage = `redwatch watches Redis instances, chosen keys and hosts, stores every sample in an
embedded VictoriaMetrics storage and serves a live dashboard.

Usage:
  redwatch [serve] [--config FILE] [--listen ADDR] [--data DIR]   run (default)
  redwatch check-config --config FILE    validate; exit 0, or exit 2 listing every error
  redwatch hash-password                 read a password on stdin, print its bcrypt hash
  redwatch version                       version, commit, Go version

Flags:
`

// IO is the process's standard streams and environment.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Env    []string
}

// Main runs the command in args (without the program name) and returns the exit code.
func Main(args []string, sio IO) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, sio)
	case "check-config":
		return checkConfig(args, sio)
	case "hash-password":
		return hashPassword(args, sio)
	case "version":
		bi := buildinfo.Get()
		fmt.Fprintf(sio.Stdout, "redwatch %s\ncommit %s\n%s\n", bi.Version, bi.Commit, bi.GoVersion)
		return 0
	case "help":
		printUsage(sio.Stdout, newFlags())
		return 0
	}
	fmt.Fprintf(sio.Stderr, "redwatch: unknown command %q\n\n", cmd)
	printUsage(sio.Stderr, newFlags())
	return 2
}

func newFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("redwatch", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	config.RegisterFlags(fs)
	return fs
}

func printUsage(w io.Writer, fs *pflag.FlagSet) {
	fmt.Fprint(w, usage)
	fmt.Fprint(w, fs.FlagUsages())
}

// parse parses redwatch's own flags (never VictoriaMetrics'), printing help for --help.
func parse(args []string, sio IO) (*pflag.FlagSet, int, bool) {
	fs := newFlags()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printUsage(sio.Stdout, fs)
			return nil, 0, false
		}
		fmt.Fprintf(sio.Stderr, "redwatch: %s\n\n", err)
		printUsage(sio.Stderr, fs)
		return nil, 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(sio.Stderr, "redwatch: unexpected argument %q\n", fs.Arg(0))
		return nil, 2, false
	}
	return fs, 0, true
}

func load(fs *pflag.FlagSet, sio IO) (config.Config, bool) {
	cfg, err := config.Load(config.LoadOptions{Env: sio.Env, Flags: fs})
	if err != nil {
		for _, line := range config.Errors(err) {
			fmt.Fprintln(sio.Stderr, line)
		}
		return config.Config{}, false
	}
	return cfg, true
}

func checkConfig(args []string, sio IO) int {
	fs, code, ok := parse(args, sio)
	if !ok {
		return code
	}
	if _, ok := load(fs, sio); !ok {
		return 2
	}
	fmt.Fprintln(sio.Stdout, "configuration OK")
	return 0
}

func hashPassword(args []string, sio IO) int {
	if len(args) > 0 {
		fmt.Fprintln(sio.Stderr, "redwatch hash-password takes no arguments: it reads the password from stdin")
		return 2
	}
	line, err := bufio.NewReader(sio.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(sio.Stderr, "cannot read password: %s\n", err)
		return 1
	}
	hash, err := auth.HashPassword(strings.TrimRight(line, "\r\n"))
	if err != nil {
		fmt.Fprintf(sio.Stderr, "%s\n", err)
		return 2
	}
	fmt.Fprintln(sio.Stdout, hash)
	return 0
}

func getenv(env []string, key string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func serve(args []string, sio IO) int {
	fs, code, ok := parse(args, sio)
	if !ok {
		return code
	}
	cfg, ok := load(fs, sio)
	if !ok {
		return 2
	}
	lg, err := logging.New(logging.Options{
		Level:      cfg.Log.Level,
		Format:     cfg.Log.Format,
		File:       cfg.Log.File,
		MaxSizeMB:  cfg.Log.MaxSizeMB,
		MaxBackups: cfg.Log.MaxBackups,
		Stderr:     sio.Stderr,
	})
	if err != nil {
		fmt.Fprintf(sio.Stderr, "log: %s\n", err)
		return 2
	}
	defer lg.Close()
	log := lg.Named("main")

	a, err := app.New(cfg, app.Options{Logger: lg, AdminPassword: getenv(sio.Env, config.EnvAdminPassword)})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		log.Info("shutting down")
		// SPEC: exit within 10 s of SIGTERM, whatever is stuck.
		time.AfterFunc(10*time.Second, func() {
			log.Error("shutdown took longer than 10s; exiting")
			os.Exit(1)
		})
	}()
	if err := a.Run(ctx); err != nil {
		log.Error("stopped with error", "err", err)
		return 1
	}
	return 0
}
