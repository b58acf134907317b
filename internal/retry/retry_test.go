package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
)

var errBoom = errors.New("boom")

func TestDo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		policy    Policy
		errs      []error // what each attempt returns; nil ends the loop
		wantCalls int
		wantErr   error
		wantSleep []time.Duration
	}{
		{
			name:      "success at once",
			policy:    Policy{Attempts: 3, Initial: time.Second},
			errs:      []error{nil},
			wantCalls: 1,
		},
		{
			name:      "unmarked error is final",
			policy:    Policy{Attempts: 3, Initial: time.Second},
			errs:      []error{errBoom},
			wantCalls: 1, wantErr: errBoom,
		},
		{
			name:      "backoff doubles up to max",
			policy:    Policy{Attempts: 5, Initial: time.Second, Max: 3 * time.Second},
			errs:      []error{Again(errBoom), Again(errBoom), Again(errBoom), Again(errBoom), nil},
			wantCalls: 5,
			wantSleep: []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second},
		},
		{
			name:      "attempts used up returns the cause unmarked",
			policy:    Policy{Attempts: 2, Initial: time.Second},
			errs:      []error{Again(errBoom), Again(errBoom)},
			wantCalls: 2, wantErr: errBoom,
			wantSleep: []time.Duration{time.Second},
		},
		{
			name:      "server wait honoured",
			policy:    Policy{Attempts: 3, Initial: time.Second, MaxWait: 30 * time.Second},
			errs:      []error{After(errBoom, 7*time.Second), nil},
			wantCalls: 2,
			wantSleep: []time.Duration{7 * time.Second},
		},
		{
			name:      "server wait too long gives up",
			policy:    Policy{Attempts: 3, Initial: time.Second, MaxWait: 30 * time.Second},
			errs:      []error{After(errBoom, time.Minute)},
			wantCalls: 1, wantErr: ErrWaitTooLong,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := clocktest.New()
			tt.policy.Sleep, tt.policy.Now = clk.Sleep, clk.Now
			calls, err := Do(context.Background(), tt.policy, func(_ context.Context, n int) error {
				return tt.errs[n-1]
			})
			if calls != tt.wantCalls {
				t.Errorf("Do() calls = %d, want %d", calls, tt.wantCalls)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Do() error = %v, want %v", err, tt.wantErr)
			}
			var m *marked
			if errors.As(err, &m) {
				t.Errorf("Do() error %v still carries its retry mark", err)
			}
			if diff := cmp.Diff(tt.wantSleep, clk.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDoDeadline(t *testing.T) {
	t.Parallel()
	// The context's deadline is real time, so the fake clock starts now.
	clk := clocktest.At(time.Now())
	ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(time.Hour+1500*time.Millisecond))
	defer cancel()
	clk.Advance(time.Hour)
	calls, err := Do(ctx, Policy{Attempts: 10, Initial: time.Second, Sleep: clk.Sleep, Now: clk.Now},
		func(context.Context, int) error { return Again(errBoom) })
	if !errors.Is(err, ErrDeadline) || !errors.Is(err, errBoom) {
		t.Errorf("Do() = %v, want ErrDeadline wrapping the cause", err)
	}
	// 1s fits before the deadline, the next 2s does not.
	if calls != 2 {
		t.Errorf("Do() calls = %d, want 2", calls)
	}
}

func TestDoCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	calls, err := Do(ctx, Policy{Attempts: 10, Initial: time.Hour, Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}}, func(context.Context, int) error { return Again(errBoom) })
	if calls != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, errBoom) {
		t.Errorf("Do() = %d, %v; want 1 call and an error matching both context.Canceled and the cause", calls, err)
	}
}

// TestDoJitter checks that Jitter randomizes each backoff delay within ±Jitter of the schedule
// (1s, 2s, 4s capped at 3s) and not beyond.
func TestDoJitter(t *testing.T) {
	t.Parallel()
	base := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	varied := false
	for range 200 {
		clk := clocktest.New()
		p := Policy{Attempts: 4, Initial: time.Second, Max: 3 * time.Second, Jitter: 0.5, Sleep: clk.Sleep, Now: clk.Now}
		Do(context.Background(), p, func(context.Context, int) error { return Again(errBoom) })
		sleeps := clk.Sleeps()
		if len(sleeps) != len(base) {
			t.Fatalf("sleeps = %v, want %d of them", sleeps, len(base))
		}
		for i, d := range sleeps {
			if lo, hi := base[i]/2, base[i]*3/2+time.Nanosecond; d < lo || d > hi {
				t.Fatalf("sleep %d = %v, want within [%v, %v]", i, d, lo, hi)
			}
			varied = varied || d != base[i]
		}
	}
	if !varied {
		t.Error("200 runs with Jitter 0.5 never moved a delay off the schedule")
	}
}
