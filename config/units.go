package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// String shows the duration as Go does, so printed configs read naturally.
func (d Duration) String() string { return time.Duration(d).String() }

// String shows the size in the largest binary unit that divides it.
func (s Size) String() string {
	units := []struct {
		name string
		n    int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if s != 0 && int64(s)%u.n == 0 {
			return strconv.FormatInt(int64(s)/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10)
}

var errNegative = errors.New("must not be negative")

// parseDuration reads a Go duration with an optional leading day count:
// "90s", "1h30m", "7d", "1d12h".
func parseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	var days int64
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 64)
		if err != nil {
			return 0, errors.New("not a duration")
		}
		if n < 0 || strings.HasPrefix(s, "+") {
			return 0, errNegative
		}
		if n > math.MaxInt64/int64(24*time.Hour) {
			return 0, errors.New("too long")
		}
		days, s = n, s[i+1:]
		if s == "" {
			return Duration(time.Duration(days) * 24 * time.Hour), nil
		}
		if s[0] == '-' || s[0] == '+' {
			return 0, errors.New("not a duration")
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("not a duration")
	}
	if d < 0 {
		return 0, errNegative
	}
	total := time.Duration(days)*24*time.Hour + d
	if total < 0 {
		return 0, errors.New("too long")
	}
	return Duration(total), nil
}

// sizeUnits are the suffixes a Size accepts, decimal and binary.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
}

// parseSize reads a byte count with an optional unit: "1048576", "512KiB",
// "10MB".
func parseSize(s string) (Size, error) {
	s = strings.TrimSpace(s)
	i := 0
	if i < len(s) && s[i] == '-' {
		return 0, errNegative
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, errors.New("not a size")
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, errors.New("too large")
	}
	mult, ok := sizeUnits[strings.TrimSpace(s[i:])]
	if !ok {
		return 0, errors.New("not a size")
	}
	if n > math.MaxInt64/mult {
		return 0, errors.New("too large")
	}
	return Size(n * mult), nil
}
