package telegram

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestRateWindow(t *testing.T) {
	tests := []struct {
		r             Rate
		events, burst int
		per           time.Duration
	}{
		{Rate{Events: 3, Per: time.Second, Burst: 5}, 3, 1, time.Second + transit},
		{Rate{Events: 5, Per: time.Second, Burst: 5}, 5, 1, time.Second + transit},
		{Rate{Events: 10, Per: time.Second, Burst: 5}, 10, 2, time.Second + transit},
		{Rate{Events: 30, Per: time.Second, Burst: 5}, 30, 5, time.Second + transit},
		{Rate{Events: 30.7, Per: time.Second, Burst: 5}, 30, 5, time.Second + transit},
		{Rate{Events: 20, Per: time.Minute, Burst: 3}, 20, 3, time.Minute + transit},
		{Rate{Events: 20, Per: time.Minute, Burst: 0}, 20, 1, time.Minute + transit},
		{Rate{Events: 0.5, Per: time.Second, Burst: 3}, 1, 1, 2*time.Second + transit},
		{Rate{Events: 0, Per: time.Second, Burst: 3}, 0, 0, 0},
		{Rate{Events: 5, Per: 0, Burst: 3}, 0, 0, 0},
	}
	for _, tt := range tests {
		events, per, burst := tt.r.Window()
		if events != tt.events || per != tt.per || burst != tt.burst {
			t.Errorf("%+v.Window() = %d per %s burst %d, want %d per %s burst %d",
				tt.r, events, per, burst, tt.events, tt.per, tt.burst)
		}
	}
}

// TestLocalLimiterKeepsEveryWindow takes every call the limiter allows on
// a fake clock and counts the admissions in every closed window of Per
// from each admission: never more than the rate's events, the burst at
// once, and a steady pace of at least three quarters of the events.
func TestLocalLimiterKeepsEveryWindow(t *testing.T) {
	rates := []Rate{
		{Events: 3, Per: time.Second, Burst: 5},
		{Events: 5, Per: time.Second, Burst: 5},
		{Events: 8, Per: time.Second, Burst: 5},
		{Events: 10, Per: time.Second, Burst: 5},
		{Events: 30, Per: time.Second, Burst: 5},
		{Events: 30.7, Per: time.Second, Burst: 5},
		{Events: 20, Per: time.Minute, Burst: 3},
		{Events: 1, Per: time.Minute, Burst: 3},
		{Events: 0.5, Per: time.Second, Burst: 3},
	}
	for _, r := range rates {
		clock := newFakeClock()
		l := NewLocalLimiter(clock)
		events, per, burst := r.Window()
		var times []time.Time
		for range 12*events + burst {
			if err := l.Wait(context.Background(), "tg:bot:1", r); err != nil {
				t.Fatal(err)
			}
			times = append(times, clock.Now())
		}
		for i := range times {
			n := 0
			for j := i; j < len(times) && !times[j].After(times[i].Add(per)); j++ {
				n++
			}
			if n > events {
				t.Errorf("%+v: %d admissions in the window of %s from admission %d", r, n, per, i)
				break
			}
		}
		at := 0
		for at < len(times) && times[at].Equal(times[0]) {
			at++
		}
		if at != burst {
			t.Errorf("%+v: %d admissions at once, want the burst of %d", r, at, burst)
		}
		// Ten windows after the start hold at least 7.4 windows' events.
		end := times[0].Add(10 * per)
		n := 0
		for _, tm := range times {
			if tm.Before(end) {
				n++
			}
		}
		if want := int(math.Floor(7.4 * float64(events))); n < want {
			t.Errorf("%+v: %d admissions in %s, want at least %d", r, n, 10*per, want)
		}
	}
}
