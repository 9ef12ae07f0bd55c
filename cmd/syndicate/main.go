// Command syndicate posts new articles from feeds to Telegram channels and
// Mastodon accounts.
//
// Usage:
//
//	syndicate run --config FILE [--once [--wait D]]
//	syndicate validate --config FILE
//	syndicate preview --config FILE
//	syndicate prime --config FILE --feed ID [--feed ID…|--all]
//	syndicate discover URL [--json]
//	syndicate import-opml FILE [--to DEST[,DEST]] [--interval D]
//	syndicate demo [--state-dir DIR] [--reset]
//	syndicate --version
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hangup := make(chan os.Signal, 1)
	signal.Notify(hangup, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], env{lookup: os.LookupEnv, hangup: hangup}, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
