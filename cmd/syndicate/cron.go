package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

// defaultOnceWait covers the retries a run from cron commonly meets (a
// rate limit of seconds, the first backoffs after a server error), so
// that they do not wait for the next run.
const defaultOnceWait = 2 * time.Minute

// checkWaitFlag refuses --wait without --once, where it would mean nothing.
func checkWaitFlag(fs *flag.FlagSet, once bool, wait time.Duration) error {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "wait" })
	switch {
	case set && !once:
		fmt.Fprintln(fs.Output(), "--wait is only for --once")
	case wait < 0:
		fmt.Fprintln(fs.Output(), "--wait must not be negative")
	default:
		return nil
	}
	fs.Usage()
	return errUsage
}

// runOnce runs one cycle and prints, one line per destination, what is
// still waiting and when it will next be tried, so that a cron mail or
// timer log tells what the next run will find.
func runOnce(ctx context.Context, eng *syndicate.Engine, wait time.Duration, stdout io.Writer, logger *slog.Logger) error {
	left, err := eng.Cycle(ctx, wait)
	if err != nil {
		return err
	}
	total := 0
	for _, w := range left {
		total += w.Jobs
		fmt.Fprintln(stdout, waitingLine(w))
	}
	if total > 0 {
		logger.Info("cycle done; some deliveries wait for a later run", "waiting", total, "destinations", len(left))
	}
	return nil
}

// waitingLine says what one destination still has to deliver.
func waitingLine(w syndicate.Waiting) string {
	n := fmt.Sprintf("%d deliveries", w.Jobs)
	if w.Jobs == 1 {
		n = "1 delivery"
	}
	switch {
	case w.Paused != "":
		return fmt.Sprintf("%s: %s waiting; paused until the next run: %s", w.Destination, n, w.Paused)
	case w.Next.IsZero():
		return fmt.Sprintf("%s: %s waiting; next attempt now", w.Destination, n)
	default:
		return fmt.Sprintf("%s: %s waiting; next attempt at %s", w.Destination, n, w.Next.Format(time.RFC3339))
	}
}
