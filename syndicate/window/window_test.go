package window

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// clock is a time the test moves.
type clock struct{ now time.Time }

func newClock() *clock { return &clock{now: time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { return c.now }

func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

// inWindow counts the times in the closed window of per that ends at t.
func inWindow(times []time.Time, t time.Time, per time.Duration) int {
	n := 0
	for _, a := range times {
		if !a.Before(t.Add(-per)) && !a.After(t) {
			n++
		}
	}
	return n
}

// TestTakeIsExact takes calls at random moments under two limits of one
// key and compares every answer with the definition: a call is admitted
// exactly when each limit's closed window ending at it holds fewer than N
// admissions, and a refusal names the time until enough of them leave.
func TestTakeIsExact(t *testing.T) {
	c := newClock()
	l := NewLogs(c.Now)
	limits := []Limit{{N: 10, Per: 400 * time.Millisecond}, {N: 3, Per: 50 * time.Millisecond}}
	rng := rand.New(rand.NewPCG(1, 2))
	var admitted []time.Time
	refused := 0
	for i := range 3000 {
		if rng.IntN(3) > 0 {
			c.advance(time.Duration(rng.IntN(30_000)) * time.Microsecond)
		}
		var want time.Duration
		for _, lim := range limits {
			var in []time.Time
			for _, a := range admitted {
				if !a.Before(c.now.Add(-lim.Per)) {
					in = append(in, a)
				}
			}
			if len(in) >= lim.N {
				want = max(want, in[len(in)-lim.N].Add(lim.Per).Sub(c.now)+time.Nanosecond)
			}
		}
		got, key, err := l.Take(Claim{Key: "k", Limits: limits})
		if err != nil {
			t.Fatal(err)
		}
		if got != want || (got > 0) != (key == "k") {
			t.Fatalf("call %d: Take = %s by %q, want %s", i, got, key, want)
		}
		if got == 0 {
			admitted = append(admitted, c.now)
		} else {
			refused++
		}
	}
	if refused == 0 || len(admitted) < 100 {
		t.Errorf("%d admitted, %d refused: the walk never filled a window", len(admitted), refused)
	}
}

// TestTakeAllOrNone refuses a call under two keys when the second is full
// and checks that the first spent nothing: it still admits its whole limit.
func TestTakeAllOrNone(t *testing.T) {
	c := newClock()
	l := NewLogs(c.Now)
	chat := Claim{Key: "chat", Limits: []Limit{{N: 3, Per: time.Minute}}}
	bot := Claim{Key: "bot", Limits: []Limit{{N: 1, Per: time.Second}}}
	if d, _, err := l.Take(chat, bot); d != 0 || err != nil {
		t.Fatalf("first call: %s %v", d, err)
	}
	for range 5 {
		d, key, err := l.Take(chat, bot)
		if err != nil || key != "bot" || d != time.Second+time.Nanosecond {
			t.Fatalf("call with the bot full: %s by %q %v, want a second by the bot", d, key, err)
		}
	}
	for i := range 2 {
		if d, key, _ := l.Take(chat); d != 0 {
			t.Fatalf("chat alone, call %d: refused for %s by %q: the refused calls spent its slots", i+2, d, key)
		}
	}
	if d, key, _ := l.Take(chat); d != time.Minute+time.Nanosecond || key != "chat" {
		t.Errorf("fourth chat call: %s by %q, want a minute by the chat", d, key)
	}
}

// TestTakeSameKeyTwice counts two claims under one key as two calls, and
// refuses to wait for more calls at once than a limit allows.
func TestTakeSameKeyTwice(t *testing.T) {
	c := newClock()
	l := NewLogs(c.Now)
	req := Claim{Key: "a/requests", Limits: []Limit{{N: 3, Per: time.Minute}}}
	if d, _, _ := l.Take(req, req); d != 0 {
		t.Fatalf("two of three: refused for %s", d)
	}
	if d, _, _ := l.Take(req, req); d != time.Minute+time.Nanosecond {
		t.Errorf("two more with one left: %s, want a minute", d)
	}
	if d, _, _ := l.Take(req); d != 0 {
		t.Errorf("the last one: refused for %s", d)
	}
	_, _, err := l.Take(req, req, req, req)
	if err == nil || !strings.Contains(err.Error(), "a/requests") {
		t.Errorf("four at once under a limit of three: %v, want an error naming the key", err)
	}
}

func TestBlock(t *testing.T) {
	c := newClock()
	l := NewLogs(c.Now)
	free := Claim{Key: "free"}
	l.Block("k", c.now.Add(time.Hour))
	l.Block("k", c.now.Add(time.Minute))
	if d, key, _ := l.Take(free, Claim{Key: "k"}); d != time.Hour || key != "k" {
		t.Errorf("blocked: %s by %q, want the hour of the longer block", d, key)
	}
	if d, _, _ := l.Take(free); d != 0 {
		t.Errorf("another key waits %s", d)
	}
	c.advance(time.Hour)
	if d, _, _ := l.Take(Claim{Key: "k"}); d != 0 {
		t.Errorf("an ended block still holds for %s", d)
	}
}

// TestPlatformKeepsBoundAndPace takes calls as fast as each limit allows
// for fifty windows, lets each arrive at the platform after a transit that
// varies by up to the margin, and counts at the platform as the platforms
// do: no window of Per (from just after t-Per to t) ever holds more than
// N, and the arrivals reach at least 95% of N per Per.
func TestPlatformKeepsBoundAndPace(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		per   time.Duration
		extra []Limit // limits besides the platform's, as Telegram's bursts
	}{
		{"telegram bot", 30, time.Second, []Limit{{N: 5, Per: time.Second / 6}}},
		{"telegram chat", 20, time.Minute, []Limit{{N: 3, Per: 9 * time.Second}}},
		{"telegram chat without a burst limit", 20, time.Minute, nil},
		{"mastodon requests", 300, 5 * time.Minute, nil},
		{"mastodon media", 30, 30 * time.Minute, nil},
		{"mastodon statuses", 300, 3 * time.Hour, nil},
		{"one a minute", 1, time.Minute, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			start := c.now
			l := NewLogs(c.Now)
			claim := Claim{Key: "k", Limits: append([]Limit{Platform(tt.n, tt.per)}, tt.extra...)}
			rng := rand.New(rand.NewPCG(3, 4))
			margin := Margin(tt.per)
			var arrivals []time.Time
			end := start.Add(50 * tt.per)
			for c.now.Before(end) {
				d, _, err := l.Take(claim)
				if err != nil {
					t.Fatal(err)
				}
				if d > 0 {
					c.advance(d)
					continue
				}
				arrivals = append(arrivals, c.now.Add(time.Duration(rng.Int64N(int64(margin)))))
			}
			slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
			for i := tt.n; i < len(arrivals); i++ {
				if span := arrivals[i].Sub(arrivals[i-tt.n]); span < tt.per {
					t.Fatalf("arrivals %d to %d within %s: %d in a window of %s", i-tt.n, i, span, tt.n+1, tt.per)
				}
			}
			got := 0
			for _, a := range arrivals {
				if a.Before(end) {
					got++
				}
			}
			if want := 0.95 * 50 * float64(tt.n); float64(got) < want {
				t.Errorf("%d arrivals in 50 windows, want at least %.0f (95%% of the limit)", got, want)
			}
			t.Logf("%d arrivals in 50 windows of %d: %.1f%% of the limit", got, tt.n, 100*float64(got)/(50*float64(tt.n)))
		})
	}
}

// TestPlatform lengthens windows by the margin and nothing else.
func TestPlatform(t *testing.T) {
	tests := []struct {
		n    int
		per  time.Duration
		want Limit
	}{
		{30, time.Second, Limit{N: 30, Per: 1025 * time.Millisecond, Margin: 25 * time.Millisecond}},
		{20, time.Minute, Limit{N: 20, Per: 61500 * time.Millisecond, Margin: 1500 * time.Millisecond}},
		{300, 3 * time.Hour, Limit{N: 300, Per: 3*time.Hour + 270*time.Second, Margin: 270 * time.Second}},
	}
	for _, tt := range tests {
		if got := Platform(tt.n, tt.per); got != tt.want {
			t.Errorf("Platform(%d, %s) = %+v, want %+v", tt.n, tt.per, got, tt.want)
		}
	}
}

// TestSettle: a finished call's admission moves to its answer less the
// claim's smallest margin when that is later, never earlier; a limit of
// our own does not settle calls; a claim without limits never moves.
func TestSettle(t *testing.T) {
	a := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	bot := Platform(30, time.Second) // margin 25ms
	burst := Limit{N: 3, Per: 3 * time.Second}
	tests := []struct {
		name  string
		c     Claim
		after time.Duration
		want  time.Duration
	}{
		{"answered within the margin", Claim{Key: "b", Limits: []Limit{bot}}, 10 * time.Millisecond, 0},
		{"answered at the margin", Claim{Key: "b", Limits: []Limit{bot}}, 25 * time.Millisecond, 0},
		{"answered late", Claim{Key: "b", Limits: []Limit{bot}}, 400 * time.Millisecond, 375 * time.Millisecond},
		{"a limit of our own too", Claim{Key: "c", Limits: []Limit{Platform(20, time.Minute), burst}}, 2 * time.Second, 500 * time.Millisecond},
		{"only a limit of our own", Claim{Key: "o", Limits: []Limit{burst}}, 2 * time.Second, 0},
		{"no limits", Claim{Key: "x"}, time.Second, 0},
	}
	for _, tt := range tests {
		if got := tt.c.Settle(a, a.Add(tt.after)).Sub(a); got != tt.want {
			t.Errorf("%s: settles %s after admission; want %s", tt.name, got, tt.want)
		}
	}
}

// TestSlowAnswersKeepThePlatformWindow simulates a platform that counts
// arrivals in its own window of 1s and calls whose arrival comes up to
// 300ms after their admission, ten times the margin: every window of the
// platform holds at most N arrivals when each call is settled when its
// answer comes back, and more than N when calls are only counted at
// admission, as before.
func TestSlowAnswersKeepThePlatformWindow(t *testing.T) {
	const n = 5
	per := time.Second
	lim := Platform(n, per)
	claims := []Claim{{Key: "bot", Limits: []Limit{lim}}}
	most := func(settle bool) int {
		now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
		l := NewLogs(func() time.Time { return now })
		type call struct{ admitted, arrives, answered time.Time }
		var open, all []call
		for i := 0; len(all) < 200; i++ {
			// Answers come back as the clock passes them.
			rest := open[:0]
			for _, c := range open {
				if c.answered.After(now) {
					rest = append(rest, c)
					continue
				}
				if settle {
					l.Done(claims, c.admitted)
				}
			}
			open = rest
			at, wait, _, err := l.TakeAt(claims...)
			if err != nil {
				t.Fatal(err)
			}
			if wait > 0 {
				now = now.Add(min(wait, time.Millisecond))
				continue
			}
			// Every third call is slow to arrive; each is answered 1ms after
			// it arrives.
			delay := time.Millisecond
			if i%3 == 0 {
				delay = 300 * time.Millisecond
			}
			c := call{admitted: at, arrives: at.Add(delay), answered: at.Add(delay + time.Millisecond)}
			open, all = append(open, c), append(all, c)
		}
		worst := 0
		for _, c := range all {
			in := 0
			for _, d := range all {
				if !d.arrives.Before(c.arrives) && !d.arrives.After(c.arrives.Add(per)) {
					in++
				}
			}
			worst = max(worst, in)
		}
		return worst
	}
	if got := most(true); got > n {
		t.Errorf("settled at their answers: %d arrivals in one platform window; want at most %d", got, n)
	}
	if got := most(false); got <= n {
		t.Errorf("counted at admission only: at most %d arrivals in a window; the simulation should show the overrun", got)
	}
}
