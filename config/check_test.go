package config

import (
	"testing"
	"time"
)

func TestCheckHelpers(t *testing.T) {
	for _, tc := range []struct {
		s        string
		id, lang bool
	}{
		{"en", true, true},
		{"pt-BR", true, true},
		{"example.org-ar", true, false},
		{"-lead", false, false},
		{"", false, false},
		{"a b", false, false},
		{"e", true, false},
	} {
		if got := IsID(tc.s); got != tc.id {
			t.Errorf("IsID(%q) = %v, want %v", tc.s, got, tc.id)
		}
		if got := IsLanguage(tc.s); got != tc.lang {
			t.Errorf("IsLanguage(%q) = %v, want %v", tc.s, got, tc.lang)
		}
	}
	if d, err := ParseDuration("1d2h"); err != nil || d.D() != 26*time.Hour {
		t.Errorf("ParseDuration(1d2h) = %v, %v", d, err)
	}
	if _, err := ParseDuration("soon"); err == nil {
		t.Error("ParseDuration(soon) accepted")
	}
}
