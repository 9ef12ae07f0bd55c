package mastodon

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	gomastodon "github.com/mattn/go-mastodon"

	"github.com/syndicate-bot/syndicate/bots/mastodon/mastodonfake"
	"github.com/syndicate-bot/syndicate/syndicate"
)

// countPieces are fragments of status text whose lengths differ between
// the servers' counts; the test joins them in pairs.
var countPieces = []string{
	"plain words",
	"👩‍👩‍👧‍👦🏳️‍🌈👨🏽‍🔧🇦🇱",
	"e\u0301\u0302\u0303 ö\u0308",
	"क्षि ज़्",
	"https://news.example.org/" + strings.Repeat("long-slug-", 12),
	"https://t.co/x",
	"http://a.co,http://b.co,https://c.co/x",
	"see https://example.com/page#section.",
	"@Gargron@mastodon.social @admin",
	"\u200f\u2060#\u2060tag \u200e",
	"  padded  \n\n",
	"",
}

// trustedIn returns the pieces that are whole URLs, as the renderer passes
// the links it placed.
func trustedIn(pieces ...string) []string {
	var out []string
	for _, p := range pieces {
		if strings.HasPrefix(p, "http") && !strings.ContainsAny(p, ", ") {
			out = append(out, p)
		}
	}
	return out
}

// TestCountBoundsTheServers checks that each count is never below what its
// servers count, and the strict count never below any server's.
func TestCountBoundsTheServers(t *testing.T) {
	for _, a := range countPieces {
		for _, b := range countPieces {
			for _, spoiler := range []string{"", "CW 🏳️‍🌈 e\u0301"} {
				text := a + " " + b
				trusted := trustedIn(a, b)
				servers := map[Count]int{
					CountMastodon:   mastodonfake.Length(spoiler, text, 23),
					CountGraphemes:  mastodonfake.PleromaLength(spoiler, text),
					CountCodePoints: mastodonfake.CodePointLength(spoiler, text),
				}
				lim := DefaultLimits()
				for c, server := range servers {
					lim.Count = c
					if got := Length(spoiler, text, lim, trusted...); got < server {
						t.Errorf("%v counts %d for %q + %q, its servers %d", c, got, spoiler, text, server)
					}
					lim.Count = CountStrict
					if got := Length(spoiler, text, lim, trusted...); got < server {
						t.Errorf("strict counts %d for %q + %q, %v servers %d", got, spoiler, text, c, server)
					}
				}
			}
		}
	}
}

func TestCountExact(t *testing.T) {
	long := "https://news.example.org/" + strings.Repeat("x", 75) // 100 characters
	tests := []struct {
		text                                    string
		trusted                                 []string
		mastodon, graphemes, codePoints, strict int
	}{
		{"hello", nil, 5, 5, 5, 5},
		{"👩‍👩‍👧‍👦 e\u0301", nil, 3, 3, 10, 10},
		{"see " + long, []string{long}, 4 + 23, 104, 104, 104},
		// A URL shorter than the reserved length costs the reserved length
		// strictly: Mastodon counts it so.
		{"see https://t.co/x", []string{"https://t.co/x"}, 4 + 23, 18, 18, 4 + 23},
		// Not placed by the renderer: its length and a reserved length
		// for every scheme in it, where the server counts URLs as 23.
		{"x http://a.co,http://b.co", nil, 2 + 23 + 2*23, 25, 25, 2 + 23 + 2*23},
	}
	for _, tt := range tests {
		for c, want := range map[Count]int{CountMastodon: tt.mastodon, CountGraphemes: tt.graphemes, CountCodePoints: tt.codePoints, CountStrict: tt.strict} {
			lim := DefaultLimits()
			lim.Count = c
			if got := Length("", tt.text, lim, tt.trusted...); got != want {
				t.Errorf("%v: Length(%q) = %d, want %d", c, tt.text, got, want)
			}
		}
	}
}

func TestIsTooLong(t *testing.T) {
	tests := []struct {
		code int
		text string
		want bool
	}{
		{422, "Validation failed: Text character limit of 500 exceeded", true},
		{400, "Bad Request: text with spoiler exceed max chars (5000)", true},
		{422, "The status is over the character limit", true},
		{400, "The status is over the character limit", true},
		{422, "Status is too long", true},
		{413, "", true},
		{413, "Request Entity Too Large", true},
		{500, "ERROR: value too long for type character varying(5000)", true},
		{400, "status exceeds 500 chars", true},
		{422, "Validation failed: Text is too long (maximum is 500 characters)", true},
		{422, "content length over maximum", true},
		// Not the status's length.
		{422, "Validation failed: Description is too long (maximum is 1500 characters)", false},
		{400, "Bad Request: image description length must be between 0 and 1500 characters (inclusive), but provided image description was 1600 chars", false},
		{422, "description_too_long", false},
		{400, "Bad Request: media files exceed max count (6)", false},
		{400, "Bad Request: poll option 0 exceed max chars (50)", false},
		{422, "Validation failed: Language is not supported", false},
		{422, "Cannot attach files that have not finished processing. Try again in a moment!", false},
		{401, "The access token is invalid", false},
		{429, "Too long a burst", false},
		{404, "Record not found", false},
	}
	for _, tt := range tests {
		for name, err := range map[string]error{
			"client":  &gomastodon.APIError{StatusCode: tt.code, Message: tt.text},
			"request": &httpError{Status: tt.code, Message: tt.text},
		} {
			err = fmt.Errorf("post status: %w", err)
			if got := isTooLong(err); got != tt.want {
				t.Errorf("%s: isTooLong(%d %q) = %v, want %v", name, tt.code, tt.text, got, tt.want)
			}
			if k := classify(err, newClock().Now()).Kind; tt.want && k != syndicate.ErrTemporary {
				t.Errorf("%d %q classified %v: a length refusal is never final", tt.code, tt.text, k)
			}
		}
	}
	if isTooLong(errors.New("too long")) {
		t.Error("an error without an answer taken for a refusal")
	}
}

func TestStatedLimit(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"Validation failed: Text character limit of 500 exceeded", 500},
		{"Bad Request: text with spoiler exceed max chars (5000)", 5000},
		{"Validation failed: Text is too long (maximum is 280 characters)", 280},
		{"status too long, limit is 1000", 1000},
		{"The status is over the character limit", 0},
		{"Status is too long", 0},
	}
	for _, tt := range tests {
		n, ok := statedLimit(&httpError{Status: 422, Message: tt.text})
		if n != tt.want || ok != (tt.want > 0) {
			t.Errorf("statedLimit(%q) = %d, %v; want %d", tt.text, n, ok, tt.want)
		}
	}
}

func TestWithMargin(t *testing.T) {
	for n, want := range map[int]int{500: 450, 5000: 4500, 11: 10, 5: 4, 1: 1} {
		if got := withMargin(n); got != want {
			t.Errorf("withMargin(%d) = %d, want %d", n, got, want)
		}
	}
}
