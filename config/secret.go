package config

// Secret is a string that must never be printed: tokens, passwords, URLs
// with credentials. In YAML it is a literal, a "${ENV_VAR}" reference, or
// given through a sibling key with the suffix "_file" naming a file that
// holds it.
type Secret struct {
	value string
}

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
	return "[redacted]"
}
