package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Secret is a string that must never be printed: tokens, passwords, URLs
// with credentials. In YAML it is a literal, a "${ENV_VAR}" reference, or
// given through a sibling key with the suffix "_file" naming a file that
// holds it.
type Secret struct {
	value string
}

// redacted stands in for a secret's value wherever it could be shown.
const redacted = "[redacted]"

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Value returns the secret itself, for the one place that uses it.
func (s Secret) Value() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String never shows the value.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return redacted
}

// Format redacts under every fmt verb, including %#v, which would
// otherwise print the unexported field.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = fmt.Fprint(f, s.GoString())
	case verb == 'q':
		_, _ = fmt.Fprint(f, strconv.Quote(s.String()))
	default:
		_, _ = fmt.Fprint(f, s.String())
	}
}

// GoString redacts for %#v.
func (s Secret) GoString() string { return "config.Secret(" + strconv.Quote(s.String()) + ")" }

// MarshalText redacts in YAML, slog text and any encoder of text.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON redacts in JSON.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// LogValue redacts in structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// expand replaces every "${NAME}" in s with the environment variable NAME
// and every "$$" with "$". It returns the problems found, which name
// variables but never contain s or a variable's value.
func expand(s string, getenv func(string) (string, bool)) (string, []string) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	var problems []string
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			b.WriteString(s)
			return b.String(), problems
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		switch {
		case strings.HasPrefix(s, "$"):
			b.WriteByte('$')
			s = s[1:]
		case strings.HasPrefix(s, "{"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				problems = append(problems, `unterminated "${" (write "${NAME}", or "$$" for a literal "$")`)
				return b.String(), problems
			}
			name := s[1:end]
			s = s[end+1:]
			if !envName(name) {
				// The text between the braces is not echoed: it may be a
				// value pasted in the wrong place.
				problems = append(problems, `invalid environment variable name in "${…}" (letters, digits and "_", not starting with a digit)`)
				continue
			}
			v, ok := getenv(name)
			if !ok {
				problems = append(problems, fmt.Sprintf("environment variable %s is not set", name))
				continue
			}
			b.WriteString(v)
		default:
			problems = append(problems, `"$" must start "${NAME}" (write "$$" for a literal "$")`)
		}
	}
}

func envName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
