package telegram

import (
	"context"
	"testing"
	"time"
)

func TestRateWindow(t *testing.T) {
	tests := []struct {
		r      Rate
		events int
		per    time.Duration
	}{
		{Rate{Events: 30, Per: time.Second}, 30, 1031250 * time.Microsecond},
		{Rate{Events: 30.7, Per: time.Second}, 30, 1031250 * time.Microsecond},
		{Rate{Events: 20, Per: time.Minute}, 20, 61875 * time.Millisecond},
		{Rate{Events: 0.5, Per: time.Second}, 1, 2062500 * time.Microsecond},
		{Rate{Events: 0, Per: time.Second}, 0, 0},
		{Rate{Events: 5, Per: 0}, 0, 0},
	}
	for _, tt := range tests {
		events, per := tt.r.Window()
		if events != tt.events || per != tt.per {
			t.Errorf("%+v.Window() = %d per %s, want %d per %s", tt.r, events, per, tt.events, tt.per)
		}
	}
}

// TestLocalLimiterKeepsEveryWindow takes every call the limiter allows on
// a fake clock, with calls reaching Telegram up to the margin late, and
// counts the arrivals in every closed window of Per, as Telegram counts:
// never more than the events; and over twenty windows at least 95% of the
// events per window go.
func TestLocalLimiterKeepsEveryWindow(t *testing.T) {
	rates := []Rate{
		{Events: 3, Per: time.Second},
		{Events: 30, Per: time.Second},
		{Events: 30.7, Per: time.Second},
		{Events: 20, Per: time.Minute},
		{Events: 1, Per: time.Minute},
	}
	for _, r := range rates {
		clock := newFakeClock()
		l := NewLocalLimiter(clock)
		events, per := r.Window()
		margin := per - r.Per
		if r.Events < 1 {
			margin = 0
		}
		var arrivals []time.Time
		for i := range 25 * events {
			if err := l.Wait(context.Background(), "tg:bot:1", r); err != nil {
				t.Fatal(err)
			}
			// Alternate calls are delayed on their way by the whole margin,
			// the worst a margin allows: the late one of a window and the
			// early one of the next meet.
			late := time.Duration(0)
			if i%2 == 1 {
				late = margin
			}
			arrivals = append(arrivals, clock.Now().Add(late))
		}
		sortTimes(arrivals)
		for i := range arrivals {
			n := 0
			for j := i; j < len(arrivals) && arrivals[j].Sub(arrivals[i]) < r.Per; j++ {
				n++
			}
			if n > events {
				t.Errorf("%+v: %d arrivals in the window of %s from arrival %d", r, n, r.Per, i)
				break
			}
		}
		// Twenty windows after the start hold at least 95% of their events.
		end := arrivals[0].Add(20 * r.Per)
		n := 0
		for _, tm := range arrivals {
			if tm.Before(end) {
				n++
			}
		}
		if want := int(0.95 * 20 * float64(events)); n < want {
			t.Errorf("%+v: %d calls in %s, want at least %d (95%%)", r, n, 20*r.Per, want)
		}
	}
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}
