package websub

import (
	"slices"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate"
)

func TestRenewAt(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		granted, before time.Duration
	}{
		{7 * 24 * time.Hour, 7 * 24 * time.Hour / 10}, // a tenth: 16.8h
		{10 * 24 * time.Hour, 24 * time.Hour},
		{24 * time.Hour, 144 * time.Minute},
		{5 * time.Hour, time.Hour},          // at least an hour
		{time.Hour, 30 * time.Minute},       // but not before half the lease
		{10 * time.Minute, 5 * time.Minute}, // a hub granting little
	} {
		st := syndicate.PushState{Requested: t0, Expires: t0.Add(tc.granted)}
		if got := st.Expires.Sub(renewAt(st)); got != tc.before {
			t.Errorf("lease %s: renewed %s before its end; want %s", tc.granted, got, tc.before)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	want := []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute}
	for i, w := range want {
		if got := retryAfter(i + 1); got != w {
			t.Errorf("retryAfter(%d) = %s; want %s", i+1, got, w)
		}
	}
	if got := retryAfter(50); got != 24*time.Hour {
		t.Errorf("retryAfter(50) = %s; want a day", got)
	}
}

func TestCandidates(t *testing.T) {
	for _, tc := range []struct {
		hubs, want []string
	}{
		{[]string{"http://pubsubhubbub.appspot.com/"}, []string{"https://pubsubhubbub.appspot.com/", "http://pubsubhubbub.appspot.com/"}},
		{[]string{"https://hub.example/", "http://hub.example/"}, []string{"https://hub.example/", "http://hub.example/"}},
		{[]string{"http://127.0.0.1:8080/hub"}, []string{"http://127.0.0.1:8080/hub"}}, // a port says where TLS is not
		{[]string{"http://a.example/?pushpress=hub", "https://b.example/"}, []string{"https://a.example/?pushpress=hub", "http://a.example/?pushpress=hub", "https://b.example/"}},
	} {
		if got := candidates(tc.hubs); !slices.Equal(got, tc.want) {
			t.Errorf("candidates(%q) = %q; want %q", tc.hubs, got, tc.want)
		}
	}
}

func TestParseCallback(t *testing.T) {
	for _, tc := range []struct {
		path, feed, token string
		ok                bool
	}{
		{"/websub/news/abc", "news", "abc", true},
		{"/prefix/websub/news/abc", "news", "abc", true},
		{"/websub/a%2Fb/abc", "a/b", "abc", true},
		{"/websub/news", "", "", false},
		{"/websub/news/", "", "", false},
		{"/websub//abc", "", "", false},
		{"/websub/news/abc/more", "", "", false},
		{"/websub/%zz/abc", "", "", false},
		{"/other/news/abc", "", "", false},
	} {
		feed, tok, ok := parseCallback(tc.path)
		if feed != tc.feed || tok != tc.token || ok != tc.ok {
			t.Errorf("parseCallback(%q) = %q, %q, %v", tc.path, feed, tok, ok)
		}
	}
}

// TestNotifyQueue: each feed waits at most once; a full queue drops
// without blocking; taken feeds can be queued again.
func TestNotifyQueue(t *testing.T) {
	q := notifyQueue{ch: make(chan string, 2), in: map[string]bool{}}
	steps := []struct {
		push string
		take int
		want int
	}{
		{push: "a", want: queued},
		{push: "a", want: waiting},
		{push: "b", want: queued},
		{push: "c", want: full},
		{take: 1, push: "a", want: queued}, // a was taken
		{push: "b", want: waiting},
		{take: 2, push: "b", want: queued},
		{push: "c", want: queued},
		{push: "c", want: waiting},
	}
	for i, s := range steps {
		for range s.take {
			<-q.ch
		}
		if got := q.push(s.push); got != s.want {
			t.Errorf("step %d: push(%s) = %d; want %d", i, s.push, got, s.want)
		}
	}
	if !slices.Equal(q.sent, []string{"b", "c"}) || len(q.in) != 2 {
		t.Errorf("mirror %q, index %v; want b and c", q.sent, q.in)
	}
}

func TestDecodeUnreserved(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"https://x.example/%7Euser/feed", "https://x.example/~user/feed"},
		{"https://x.example/a%2fb", "https://x.example/a%2Fb"},
		{"https://x.example/%41", "https://x.example/A"},
	} {
		if !sameTopic(tc.a, tc.b) {
			t.Errorf("%q and %q differ", tc.a, tc.b)
		}
	}
	if sameTopic("https://x.example/a%2Fb", "https://x.example/a/b") {
		t.Error("an encoded slash matched a slash")
	}
	if sameTopic("", "") {
		t.Error("empty topics match")
	}
}
