package config

// IsID reports whether s is accepted as a feed, bot or destination id, so
// that commands writing config for the operator make ids Load accepts.
func IsID(s string) bool { return idPattern.MatchString(s) }

// IsLanguage reports whether s is accepted as a language tag, so that
// commands writing config leave out tags Load would refuse.
func IsLanguage(s string) bool { return languagePattern.MatchString(s) }

// ParseDuration reads a duration as the config does ("90s", "10m", "7d"),
// so that flags take the same durations as the file.
func ParseDuration(s string) (Duration, error) { return parseDuration(s) }

// DefaultUserAgent is the user agent sent when network.user_agent is not
// set, for commands that fetch without a config.
func DefaultUserAgent(version string) string { return userAgent(version) }
