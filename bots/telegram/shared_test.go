package telegram

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndicate-bot/syndicate/syndicate/ratelimit"
	"github.com/syndicate-bot/syndicate/syndicate/store/redistest"
)

// TestSharedLimiter takes Telegram's limits through the limiter replicas
// share in Redis: the burst of a chat at once, then a wait for the burst
// window; a bot whose burst is its whole limit; a call refused by its bot,
// which leaves its chat's slots free; and a block.
func TestSharedLimiter(t *testing.T) {
	opt, err := redis.ParseURL(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	var slept []time.Duration
	stop := errors.New("stop")
	shared, err := ratelimit.New(rdb, ratelimit.Options{Prefix: redistest.Prefix(t), Sleep: func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		return stop
	}})
	if err != nil {
		t.Fatal(err)
	}
	tl := SharedLimiter(shared)
	ctx := context.Background()
	chat := Limit{Key: "tg:chat:@news", Rate: Rate{Events: 20, Per: time.Minute, Burst: 3}}
	for i := range 3 {
		if err := tl.Wait(ctx, chat); err != nil {
			t.Fatalf("call %d of the burst: %v", i+1, err)
		}
	}
	if err := tl.Wait(ctx, chat); !errors.Is(err, stop) {
		t.Fatalf("fourth call: %v, want a wait", err)
	}
	// The burst of 3 may recur once the burst window, 3/20 of a minute, passed.
	if len(slept) != 1 || slept[0] <= 8*time.Second || slept[0] > 9*time.Second+time.Millisecond {
		t.Errorf("fourth call would sleep %v, want just under 9s", slept)
	}

	slept = nil
	bot := Limit{Key: "tg:bot:slow", Rate: Rate{Events: 3, Per: time.Second, Burst: 5}}
	for i := range 3 {
		if err := tl.Wait(ctx, bot); err != nil {
			t.Fatalf("call %d at 3 a second: %v", i+1, err)
		}
	}
	if err := tl.Wait(ctx, bot); !errors.Is(err, stop) {
		t.Fatalf("fourth call at 3 a second: %v, want a wait", err)
	}
	if len(slept) != 1 || slept[0] <= time.Second || slept[0] > 1025*time.Millisecond+time.Millisecond {
		t.Errorf("fourth call at 3 a second would sleep %v, want just under the window of 1.025s", slept)
	}

	slept = nil
	other := Limit{Key: "tg:chat:@other", Rate: chat.Rate}
	if err := tl.Wait(ctx, other, bot); !errors.Is(err, stop) {
		t.Fatalf("a chat of the full bot: %v, want a wait", err)
	}
	// The refused call took nothing from its chat: its whole burst is left.
	for i := range 3 {
		if err := tl.Wait(ctx, other); err != nil {
			t.Errorf("call %d of the other chat's burst after a refused call: %v", i+1, err)
		}
	}

	slept = nil
	main := Limit{Key: "tg:bot:main", Rate: Rate{Events: 30, Per: time.Second, Burst: 5}}
	tl.Block(main.Key, time.Now().Add(time.Hour))
	if err := tl.Wait(ctx, main); !errors.Is(err, stop) {
		t.Fatalf("blocked bot: %v, want a wait", err)
	}
	if len(slept) != 1 || slept[0] <= 59*time.Minute {
		t.Errorf("blocked bot would sleep %v, want about an hour", slept)
	}
}
