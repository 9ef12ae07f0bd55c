package syndicate

import (
	"fmt"
	"runtime/debug"
)

// PanicError is a panic caught while reading a feed or publishing an
// item: hostile input that trips a bug costs that poll or that item, not
// the worker and every other feed with it.
type PanicError struct {
	What  string
	Value string
	// Stack is where it happened, for the log.
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic %s: %s", e.What, e.Value) }

// safely runs f and turns a panic in it into a *PanicError.
func safely(what string, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{What: what, Value: fmt.Sprint(p), Stack: debug.Stack()}
		}
	}()
	return f()
}
