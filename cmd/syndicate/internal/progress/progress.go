// Package progress reports the steps of a long command (checking feeds,
// priming many feeds): a bar redrawn in place when an operator watches a
// terminal, one plain line per step otherwise, so that logs, pipes and
// cron mail get readable text instead of control characters.
package progress

import (
	"fmt"
	"io"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Interactive reports whether progress written to w is seen live on a
// terminal that redraws a line: w is a terminal and TERM (termEnv) is not
// "dumb", the value of terminals that cannot move the cursor.
func Interactive(w io.Writer, termEnv string) bool {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok || termEnv == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// Reporter counts the steps of one operation; it is safe for concurrent
// use.
type Reporter struct {
	mu    sync.Mutex
	w     io.Writer
	what  string
	total int
	done  int
	bar   *progressbar.ProgressBar
}

// New returns a Reporter of total steps described by what ("checking
// feeds"): a bar when bar is true (see Interactive), plain lines
// otherwise.
func New(w io.Writer, what string, total int, bar bool) *Reporter {
	r := &Reporter{w: w, what: what, total: total}
	if bar {
		r.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetPredictTime(false),
		)
	}
	return r
}

// Step records that one step ended: item is what it was about, outcome
// what came of it ("ok", an error).
func (r *Reporter) Step(item, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	if r.bar != nil {
		_ = r.bar.Add(1)
		return
	}
	fmt.Fprintf(r.w, "%s [%d/%d] %s: %s\n", r.what, r.done, r.total, item, outcome)
}

// Done ends the report; a bar is cleared from the terminal so that what
// the command prints next starts on a clean line.
func (r *Reporter) Done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Finish()
		_ = r.bar.Exit()
	}
}
