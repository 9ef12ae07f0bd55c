package syndicate

import "context"

// Verdict grades one pre-flight check.
type Verdict int

// Verdicts, from harmless to fatal: a warning is worth reading but does not
// stop posting; a failure does.
const (
	VerdictOK Verdict = iota
	VerdictWarn
	VerdictFail
)

func (v Verdict) String() string {
	switch v {
	case VerdictOK:
		return "ok"
	case VerdictWarn:
		return "WARN"
	}
	return "FAIL"
}

// Check is the outcome of one pre-flight check of a destination: what was
// checked, the verdict and why, in words an operator can act on.
type Check struct {
	// Name says what was checked, e.g. "token", "chat", "rights", "topic",
	// "scopes", "limits".
	Name    string
	Verdict Verdict
	Detail  string
}

// Checker is implemented by publishers that can verify, live and without
// posting anything, that they would be able to post: the operator runs the
// checks before trusting a configuration to a timer.
type Checker interface {
	// Check runs the destination's checks in order; it never returns an
	// empty list, and a check that could not run is a failure, not a gap.
	Check(ctx context.Context) []Check
}
