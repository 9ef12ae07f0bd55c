package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagsArgs is newFlags for a command that takes arguments besides its
// flags (named by operands in the usage line).
func newFlagsArgs(name, operands, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := newFlags(name, synopsis, stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nUsage:\n  syndicate %s %s [flags]\n\nFlags:\n", synopsis, name, operands)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlagsArgs parses flags given before or after the arguments (the
// flag package stops at the first argument) and returns exactly n
// arguments, or a usage error.
func parseFlagsArgs(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		operands = append(operands, args[0])
		args = args[1:]
	}
	if len(operands) != n {
		fmt.Fprintf(fs.Output(), "want %d argument(s), got %d: %s\n", n, len(operands), strings.Join(operands, " "))
		fs.Usage()
		return nil, errUsage
	}
	return operands, nil
}

// stringList is a flag that may be repeated, each value also split at
// commas.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
