package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "90s", want: 90 * time.Second},
		{in: "10m", want: 10 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "0", want: 0},
		{in: "-5m", err: "must not be negative"},
		{in: "-7d", err: "must not be negative"},
		{in: "1d-1h", err: "not a duration"},
		{in: "5", err: "not a duration"},
		{in: "d", err: "not a duration"},
		{in: "1h2d", err: "not a duration"},
		{in: "10 minutes", err: "not a duration"},
		{in: "999999999999d", err: "too long"},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parseDuration(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got.D() != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{in: "1048576", want: 1 << 20},
		{in: "512KiB", want: 512 << 10},
		{in: "10MiB", want: 10 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "10MB", want: 10_000_000},
		{in: "500kB", want: 500_000},
		{in: "2 TiB", want: 2 << 40},
		{in: "12B", want: 12},
		{in: "-1", err: "must not be negative"},
		{in: "-5MiB", err: "must not be negative"},
		{in: "1.5MiB", err: "not a size"},
		{in: "10mb", err: "not a size"},
		{in: "MiB", err: "not a size"},
		{in: "99999999999TiB", err: "too large"},
		{in: "99999999999999999999", err: "too large"},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parseSize(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || int64(got) != tt.want {
			t.Errorf("parseSize(%q) = %v, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestUnitStrings(t *testing.T) {
	for s, want := range map[Size]string{0: "0", 1: "1", 1024: "1KiB", 10 << 20: "10MiB", 1500: "1500", 3 << 30: "3GiB"} {
		if got := s.String(); got != want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(s), got, want)
		}
	}
	if got := Duration(90 * time.Minute).String(); got != "1h30m0s" {
		t.Errorf("Duration.String() = %q", got)
	}
}
