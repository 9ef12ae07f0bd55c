package telegram

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/syndicate-bot/syndicate/syndicate/window"
)

func TestRateLimits(t *testing.T) {
	tests := []struct {
		r    Rate
		want []window.Limit
	}{
		{Rate{Events: 30, Per: time.Second, Burst: 5}, []window.Limit{{N: 30, Per: 1025 * time.Millisecond, Margin: 25 * time.Millisecond}, {N: 5, Per: time.Second / 6}}},
		{Rate{Events: 30.7, Per: time.Second, Burst: 5}, []window.Limit{{N: 30, Per: 1025 * time.Millisecond, Margin: 25 * time.Millisecond}, {N: 5, Per: time.Second / 6}}},
		{Rate{Events: 20, Per: time.Minute, Burst: 3}, []window.Limit{{N: 20, Per: 61500 * time.Millisecond, Margin: 1500 * time.Millisecond}, {N: 3, Per: 9 * time.Second}}},
		{Rate{Events: 20, Per: time.Minute}, []window.Limit{{N: 20, Per: 61500 * time.Millisecond, Margin: 1500 * time.Millisecond}}},
		{Rate{Events: 5, Per: time.Second, Burst: 5}, []window.Limit{{N: 5, Per: 1025 * time.Millisecond, Margin: 25 * time.Millisecond}}},
		{Rate{Events: 3, Per: time.Second, Burst: 5}, []window.Limit{{N: 3, Per: 1025 * time.Millisecond, Margin: 25 * time.Millisecond}}},
		{Rate{Events: 0.5, Per: time.Second, Burst: 3}, []window.Limit{{N: 1, Per: 2050 * time.Millisecond, Margin: 50 * time.Millisecond}}},
		{Rate{Events: 0, Per: time.Second, Burst: 3}, nil},
		{Rate{Events: 5, Per: 0, Burst: 3}, nil},
	}
	for _, tt := range tests {
		if got := tt.r.Limits(); !slices.Equal(got, tt.want) {
			t.Errorf("%+v.Limits() = %+v, want %+v", tt.r, got, tt.want)
		}
	}
}

// TestLocalLimiterKeepsEveryWindow takes every call the limiter allows on
// a fake clock for fifty windows, lets each reach Telegram after a
// transit that varies by up to the margin, and counts as Telegram does:
// no window of Per ever holds more than the events, and the calls reach
// at least 95% of the rate.
func TestLocalLimiterKeepsEveryWindow(t *testing.T) {
	rates := []Rate{
		{Events: 30, Per: time.Second, Burst: botBurst},
		{Events: 20, Per: time.Minute, Burst: chatBurst},
		{Events: 30.7, Per: time.Second, Burst: 5},
		{Events: 3, Per: time.Second, Burst: 5},
		{Events: 1, Per: time.Minute, Burst: 3},
		{Events: 0.5, Per: time.Second, Burst: 3},
	}
	for _, r := range rates {
		clock := newFakeClock()
		start := clock.Now()
		l := NewLocalLimiter(clock)
		events, per := int(max(1, r.Events)), time.Duration(float64(r.Per)/min(1, r.Events))
		margin := window.Margin(per)
		rng := rand.New(rand.NewPCG(5, 6))
		var arrivals []time.Time
		for clock.Now().Before(start.Add(50 * per)) {
			if err := l.Wait(context.Background(), Limit{Key: "tg:bot:1", Rate: r}); err != nil {
				t.Fatal(err)
			}
			arrivals = append(arrivals, clock.Now().Add(time.Duration(rng.Int64N(int64(margin)))))
		}
		slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
		for i := events; i < len(arrivals); i++ {
			if arrivals[i].Sub(arrivals[i-events]) < per {
				t.Fatalf("%+v: %d calls reach Telegram within %s from call %d", r, events+1, per, i-events)
			}
		}
		got := 0
		for _, a := range arrivals {
			if a.Before(start.Add(50 * per)) {
				got++
			}
		}
		if want := 0.95 * 50 * float64(events); float64(got) < want {
			t.Errorf("%+v: %d calls in 50 windows, want at least %.0f", r, got, want)
		}
	}
}

// TestChatsShareTheBot runs the chats of one bot as the engine does, each
// sending its next post as soon as the last went, through the limits the
// publisher asks for, on a simulated clock for ten minutes. Posts reach
// Telegram after a transit that varies by up to the bot window's margin
// and count as Telegram counts them. Whichever limit binds, no chat gets
// more than 20 posts in a minute nor the bot more than 30 calls in a
// second, and the binding limit is used to at least 95%: the chats' when
// they are few, the bot's when they are many, both when 90 chats ask for
// exactly the bot's rate.
func TestChatsShareTheBot(t *testing.T) {
	const (
		run = 10 * time.Minute
		// send is what a post costs besides the wait: claiming the job,
		// the call, recording the post.
		send = 20 * time.Millisecond
	)
	tests := []struct {
		chats           int
		chatMin, botMin float64 // least share of each limit
	}{
		{chats: 30, chatMin: 0.95},
		{chats: 90, chatMin: 0.95, botMin: 0.95},
		{chats: 200, botMin: 0.95},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d chats", tt.chats), func(t *testing.T) {
			start := newFakeClock().Now()
			now := start
			logs := window.NewLogs(func() time.Time { return now })
			bot := Limit{Key: "tg:bot:1", Rate: Rate{Events: DefaultPerSecond, Per: time.Second, Burst: botBurst}}
			next := make([]time.Time, tt.chats) // when each chat asks next
			claims := make([][]window.Claim, tt.chats)
			for i := range next {
				next[i] = start
				chat := Limit{Key: fmt.Sprintf("tg:chat:%d", i), Rate: Rate{Events: DefaultPerMinute, Per: time.Minute, Burst: chatBurst}}
				claims[i] = Claims([]Limit{chat, bot})
			}
			rng := rand.New(rand.NewPCG(7, 8))
			margin := window.Margin(time.Second)
			perChat := make([][]time.Time, tt.chats)
			var all []time.Time
			for {
				i := 0
				for j := range next {
					if next[j].Before(next[i]) {
						i = j
					}
				}
				if !next[i].Before(start.Add(run)) {
					break
				}
				now = next[i]
				d, _, err := logs.Take(claims[i]...)
				if err != nil {
					t.Fatal(err)
				}
				if d > 0 {
					next[i] = now.Add(d)
					continue
				}
				at := now.Add(time.Duration(rng.Int64N(int64(margin))))
				perChat[i] = append(perChat[i], at)
				all = append(all, at)
				next[i] = now.Add(send)
			}
			sortTimes := func(ts []time.Time) { slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) }) }
			sortTimes(all)
			if n := mostInWindow(all, time.Second); n > DefaultPerSecond {
				t.Errorf("the bot made %d calls in a second", n)
			}
			chatShare := 0.0
			for i, ts := range perChat {
				sortTimes(ts)
				if n := mostInWindow(ts, time.Minute); n > DefaultPerMinute {
					t.Errorf("chat %d got %d posts in a minute", i, n)
				}
				chatShare += float64(len(ts)) / (DefaultPerMinute * run.Minutes())
			}
			chatShare /= float64(tt.chats)
			botShare := float64(len(all)) / (DefaultPerSecond * run.Seconds())
			t.Logf("%d chats: %.1f%% of the chats' limit, %.1f%% of the bot's", tt.chats, 100*chatShare, 100*botShare)
			if chatShare < tt.chatMin || botShare < tt.botMin {
				t.Errorf("%.1f%% of the chats' limit and %.1f%% of the bot's, want at least %.0f%% and %.0f%%",
					100*chatShare, 100*botShare, 100*tt.chatMin, 100*tt.botMin)
			}
		})
	}
}

// mostInWindow is the most of the sorted times in one window of per as
// Telegram counts it: after t-per up to t.
func mostInWindow(ts []time.Time, per time.Duration) int {
	most, j := 0, 0
	for i := range ts {
		for !ts[j].After(ts[i].Add(-per)) {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}
