package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/syndicate-bot/syndicate/config"
)

// env is the process environment, injected so tests control it.
type env struct {
	lookup func(string) (string, bool)
	// hangup delivers SIGHUP, on which run re-reads its config (nil: never).
	hangup <-chan os.Signal
}

func (e env) get(k string) string {
	if e.lookup == nil {
		return ""
	}
	v, _ := e.lookup(k)
	return v
}

const usage = `syndicate posts new articles from RSS, Atom and JSON feeds to Telegram
channels and Mastodon accounts, exactly once each.

Usage:
  syndicate run --config FILE [--once [--wait D]]
                                         run the worker (until SIGINT/SIGTERM; SIGHUP
                                         reloads the config), or one cycle
  syndicate validate --config FILE       check a config file and report every problem
  syndicate preview --config FILE [--html OUT.html]
                                         show what would be posted, without posting
  syndicate status --config FILE [--json]
                                         show feeds, destinations, parked deliveries
  syndicate check --config FILE [--json] verify every destination and feed live, posting nothing
  syndicate retry --config FILE [--destination ID] [ARTICLE...]
                                         queue parked deliveries again, lift pauses
  syndicate prime --config FILE --feed ID|--all
                                         record feeds' current items as seen, posting none
  syndicate discover URL [--json]        find a site's feeds and print them as config entries
  syndicate import-opml FILE [--to DEST] [--interval D]
                                         turn an OPML subscription list into config entries
  syndicate demo [--state-dir DIR] [--html OUT.html]
                                         run the pipeline on a bundled sample site
  syndicate bench NAME [flags]           measure what the worker costs (poll, idle, push, deliver)
  syndicate --version                    print the version

Run "syndicate COMMAND --help" for a command's flags.
`

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, env env, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "-version", "--version", "version":
		fmt.Fprintf(stdout, "syndicate %s\n", version)
		return 0
	case "run":
		err = cmdRun(ctx, rest, env, stdout, stderr)
	case "validate":
		err = cmdValidate(rest, env, stdout, stderr)
	case "preview":
		err = cmdPreview(ctx, rest, env, stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, rest, env, stdout, stderr)
	case "status":
		err = cmdStatus(ctx, rest, env, stdout, stderr)
	case "check":
		err = cmdCheck(ctx, rest, env, stdout, stderr)
	case "retry":
		err = cmdRetry(ctx, rest, env, stdout, stderr)
	case "bench":
		err = cmdBench(ctx, rest, env, stdout, stderr)
	case "prime":
		err = cmdPrime(ctx, rest, env, stdout, stderr)
	case "discover":
		err = cmdDiscover(ctx, rest, env, stdout, stderr)
	case "import-opml":
		err = cmdImportOPML(ctx, rest, env, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "syndicate: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "syndicate %s: %v\n", cmd, err)
		return 1
	}
}

// errUsage marks a command-line mistake; the flag package already said what.
var errUsage = errors.New("usage")

// newFlags makes a command's flag set with a --help that describes it.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nUsage:\n  syndicate %s [flags]\n\nFlags:\n", synopsis, name)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		fs.Usage()
		return errUsage
	}
	return nil
}

func loadConfig(path string, env env) (*config.Config, error) {
	if path == "" {
		return nil, errors.New("--config FILE is required")
	}
	return config.Load(path, config.LoadOptions{Getenv: env.lookup, Version: version})
}

func cmdValidate(args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("validate", "Check a config file: every problem is printed as file:line:column: field: what is wrong.", stderr)
	path := fs.String("config", "", "config `FILE` (YAML)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, env)
	if err != nil {
		var errs *config.Errors
		if errors.As(err, &errs) {
			fmt.Fprintln(stderr, err)
			return fmt.Errorf("%s: %d problem(s)", *path, len(errs.Problems))
		}
		return err
	}
	for _, f := range readableSecrets(cfg) {
		fmt.Fprintf(stderr, "warning: %s holds secrets and other users can read it: chmod 600 it\n", f)
	}
	dests := len(cfg.Telegram.Channels) + len(cfg.Mastodon.Accounts)
	fmt.Fprintf(stdout, "%s: OK (%d feeds, %d destinations, %d routes)\n", *path, len(cfg.Feeds), dests, len(cfg.Routes))
	return nil
}

func cmdRun(ctx context.Context, args []string, env env, stdout, stderr io.Writer) error {
	fs := newFlags("run", "Run the worker: poll the feeds and post new items until SIGINT or SIGTERM.", stderr)
	path := fs.String("config", "", "config `FILE` (YAML)")
	once := fs.Bool("once", false, "poll every feed once, deliver everything due, wait for deliveries, then exit")
	wait := fs.Duration("wait", defaultOnceWait, "with --once: keep delivering while a retry or rate-limit hold comes due within `D` of the end of the first pass (0: exit after it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkWaitFlag(fs, *once, *wait); err != nil {
		return err
	}
	cfg, err := loadConfig(*path, env)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.Log, stderr)
	a, err := build(ctx, cfg, buildOptions{env: env, logger: logger, waitForStore: !*once})
	if err != nil {
		return err
	}
	defer a.Close()
	if *once {
		return runOnce(ctx, a.engine, *wait, stdout, logger)
	}
	if l := cfg.Worker.Listen; l != "" {
		stopServing, err := serveOps(ctx, l, a, logger)
		if err != nil {
			return err
		}
		defer stopServing()
	}
	logger.Info("worker started", "feeds", len(cfg.Feeds), "destinations", len(cfg.Telegram.Channels)+len(cfg.Mastodon.Accounts), "version", version)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- a.engine.Run(runCtx) }()
wait:
	for {
		select {
		case err := <-done:
			cancel()
			return err
		case <-env.hangup:
			logger.Info("SIGHUP: reloading the config", "file", *path)
			// A refused reload is logged and changes nothing.
			_ = reloadConfig(ctx, a, *path, env, logger)
		case <-ctx.Done():
			break wait
		}
	}
	logger.Info("shutting down: finishing in-flight posts", "timeout", cfg.Worker.ShutdownTimeout.D())
	cancelAfter := time.AfterFunc(cfg.Worker.ShutdownTimeout.D(), cancel)
	defer cancelAfter.Stop()
	a.engine.Stop()
	err = <-done
	cancel()
	logger.Info("stopped")
	return err
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	switch c.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serveOps serves /metrics, /healthz and /readyz (ready while the store
// answers), and the WebSub callbacks under /websub/ (with or without the
// path of push.public_url) when push is on, until the returned function is
// called.
func serveOps(ctx context.Context, addr string, a *app, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", opsAddress(addr))
	if err != nil {
		return nil, fmt.Errorf("worker.listen %s: %w", addr, err)
	}
	var handler http.Handler = a.metrics.Handler(a.store.Ping)
	if a.push != nil {
		mux := http.NewServeMux()
		callbacks := a.push.Handler()
		for _, p := range a.push.Patterns() {
			mux.Handle(p, callbacks)
		}
		mux.Handle("/", handler)
		handler = mux
	}
	// Nothing served here reads more than a WebSub notification.
	maxBody := int64(64 << 10)
	if a.push != nil {
		maxBody = max(maxBody, int64(a.cfg.Push.MaxBody)+1)
	}
	srv := &http.Server{
		Handler:           http.MaxBytesHandler(handler, maxBody),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server stopped", "error", err)
		}
	}()
	logger.Info("serving metrics and health", "listen", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}

// opsAddress binds an address without a host (":9090") to loopback: the
// worker's endpoints reach other machines only when worker.listen names
// an address to serve them on, such as "0.0.0.0:9090".
func opsAddress(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != "" {
		return addr
	}
	return net.JoinHostPort("127.0.0.1", port)
}
