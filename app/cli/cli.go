// Package cli is redwatch's command line: serve (the default), check-config, hash-password,
// agent and version. Main returns the process exit code: 0 ok, 1 runtime failure, 2 bad usage or config.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/redwatch/redwatch/app"
	"github.com/redwatch/redwatch/app/agent"
	"github.com/redwatch/redwatch/app/alert"
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
  redwatch agent --hub URL --token T [--interval 10s]   push this host's metrics to a hub
                                         (redwatch agent --help lists its flags)
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
	case "agent":
		return runAgent(args, sio)
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
	if err == nil {
		err = checkRuleSeries(cfg.Alerts.Rules)
	}
	if err != nil {
		for _, line := range config.Errors(err) {
			fmt.Fprintln(sio.Stderr, line)
		}
		return config.Config{}, false
	}
	return cfg, true
}

// checkRuleSeries reports, as config errors, the alert rules whose series is not a selector
// the alert engine can evaluate, or whose expr not a MetricsQL expression: config does not
// parse them (that would link the query parser into everything that reads configuration), so
// this is checked before anything starts.
func checkRuleSeries(rules []config.Rule) error {
	var errs []error
	for i, r := range rules {
		if r.Expr != "" {
			if err := alert.CheckExpr(r.Expr); err != nil {
				errs = append(errs, fmt.Errorf("alerts.rules[%d].expr: %w", i, err))
			}
			continue
		}
		if err := alert.CheckSeries(r.Series); err != nil {
			errs = append(errs, fmt.Errorf("alerts.rules[%d].series: %w", i, err))
		}
	}
	return errors.Join(errs...)
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
	ctx, stop := untilSignal(log)
	defer stop()
	if err := a.Run(ctx); err != nil {
		log.Error("stopped with error", "err", err)
		return 1
	}
	return 0
}

// EnvAgentToken is read by `redwatch agent` when --token is not given, so that the token need
// not appear in ps.
const EnvAgentToken = config.EnvAgentToken

const agentUsage = `redwatch agent samples the host it runs on (the host_* series, label host) and pushes
the samples to a redwatch hub's POST /api/v1/write with the Prometheus remote-write protocol.
While the hub is unreachable it keeps up to 50,000 samples in memory and sends them, oldest
first, when the hub is back. SIGTERM or SIGINT: one last push (at most 5 s), then exit 0.

Usage:
  redwatch agent --hub URL --token T [--interval 10s]

Flags:
`

func agentFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("redwatch agent", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("hub", "", "base URL of the redwatch hub, http:// or https:// (required), e.g. https://hub.example:8080")
	fs.String("token", "", "bearer token the hub accepts, one of its [ingest].tokens (required; default $"+EnvAgentToken+")")
	fs.String("interval", "10s", "time between two rounds of sampling and pushing (at least 1s)")
	fs.String("host", "", "value of the host label (default: this machine's hostname)")
	fs.String("log-level", "info", "debug | info | warn | error")
	fs.String("log-format", "json", "json | text")
	return fs
}

// runAgent is `redwatch agent`: exit 0 after SIGTERM/SIGINT, 2 for bad flags, 1 when the agent
// cannot start.
func runAgent(args []string, sio IO) int {
	fs := agentFlags()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprint(sio.Stdout, agentUsage, fs.FlagUsages())
			return 0
		}
		fmt.Fprintf(sio.Stderr, "redwatch agent: %s\n\n%s%s", err, agentUsage, fs.FlagUsages())
		return 2
	}
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	hub, _ := fs.GetString("hub")
	switch {
	case hub == "":
		problems = append(problems, "--hub is required: the hub's base URL, e.g. --hub https://hub.example:8080")
	default:
		if _, err := agent.Endpoint(hub); err != nil {
			problems = append(problems, "--hub: "+err.Error())
		}
	}
	token, _ := fs.GetString("token")
	if !fs.Changed("token") {
		token = getenv(sio.Env, EnvAgentToken)
	}
	if strings.TrimSpace(token) == "" {
		problems = append(problems, "--token is required (or set "+EnvAgentToken+"): one of the hub's [ingest].tokens")
	}
	ivs, _ := fs.GetString("interval")
	interval, err := config.ParseDuration(ivs)
	switch {
	case err != nil:
		problems = append(problems, "--interval: "+err.Error())
	case interval < time.Second:
		problems = append(problems, fmt.Sprintf("--interval: must be at least 1s, got %s", ivs))
	}
	level, _ := fs.GetString("log-level")
	format, _ := fs.GetString("log-format")
	if _, err := logging.ParseLevel(level); err != nil {
		problems = append(problems, "--log-level: "+err.Error())
	}
	if f := strings.ToLower(strings.TrimSpace(format)); f != "json" && f != "text" {
		problems = append(problems, fmt.Sprintf("--log-format: %q: want json or text", format))
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(sio.Stderr, "redwatch agent: %s\n", p)
		}
		return 2
	}
	lg, err := logging.New(logging.Options{Level: level, Format: format, Stderr: sio.Stderr})
	if err != nil {
		fmt.Fprintf(sio.Stderr, "redwatch agent: %s\n", err)
		return 2
	}
	defer lg.Close()
	log := lg.Named("agent")

	hostName, _ := fs.GetString("host")
	ag, err := agent.New(agent.Options{Hub: hub, Token: token, Interval: interval, Host: hostName, Logger: log})
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	// The agent's final push is bounded to 5 s, well inside the watchdog's 10 s.
	ctx, stop := untilSignal(log)
	defer stop()
	ag.Run(ctx)
	return 0
}

// untilSignal returns a context cancelled by SIGTERM or SIGINT, and arms a watchdog then: SPEC
// promises an exit within 10 s of the signal, whatever is stuck.
func untilSignal(log *slog.Logger) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		log.Info("shutting down")
		time.AfterFunc(10*time.Second, func() {
			log.Error("shutdown took longer than 10s; exiting")
			os.Exit(1)
		})
	}()
	return ctx, stop
}
