// Package retry holds the one retry loop the API clients share (Dokploy, Launchplane, GitHub).
// Each client keeps its own rules by classifying its errors: an attempt's error is final unless
// the client marks it with Again (retry after the policy's next backoff delay) or After (retry
// after the wait the server asked for, such as Retry-After). The loop adds the rules every client
// needs: a bounded number of attempts, a bound on server-asked waits, and deadlines that win: it
// never sleeps past the context's deadline, and a done context stops it at once. The backoff
// delays themselves are github.com/cenkalti/backoff's exponential schedule.
//
// A client that must never repeat a request (a POST that creates or triggers something) simply
// never marks its errors, except for answers that certainly refused the request (a rate limit).
package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// ErrWaitTooLong is matched by the error Do returns when the server asked for a longer wait than
// Policy.MaxWait allows.
var ErrWaitTooLong = errors.New("the server asked for a longer wait than allowed")

// ErrDeadline is matched by the error Do returns when the next wait would pass the context's
// deadline, so retrying could not help.
var ErrDeadline = errors.New("no time left before the deadline to retry")

// Policy is one client's retry policy. Delays grow from Initial by Multiplier up to Max.
type Policy struct {
	// Attempts is the total number of tries; below 1 counts as 1.
	Attempts int
	// Initial is the delay before the second try; Max caps later delays.
	Initial, Max time.Duration
	// Multiplier grows the delay; 0 means 2.
	Multiplier float64
	// Jitter randomizes each delay by up to ±Jitter (0 to 1) of itself; 0 means none.
	Jitter float64
	// MaxWait bounds a wait the server asks for (After); 0 means any wait up to the deadline.
	MaxWait time.Duration
	// Sleep waits and returns ctx's error when ctx ends first. Required.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now reads the clock to compare waits with the context's deadline; nil means time.Now.
	Now func() time.Time
}

// marked is an error that may be retried.
type marked struct {
	err  error
	wait time.Duration // >0: the server's requested wait
}

func (m *marked) Error() string { return m.err.Error() }
func (m *marked) Unwrap() error { return m.err }

// Again marks err as worth another try after the policy's next backoff delay (a 5xx answer, a
// dropped connection on a request that may be repeated).
func Again(err error) error {
	if err == nil {
		return nil
	}
	return &marked{err: err}
}

// After marks err as worth another try after wait, the wait the server asked for (Retry-After,
// a rate-limit reset). A wait of zero or less retries after the backoff delay.
func After(err error, wait time.Duration) error {
	if err == nil {
		return nil
	}
	return &marked{err: err, wait: wait}
}

// Do calls attempt until it returns nil or an unmarked error, or the attempts are used up, and
// returns the number of calls made and the last error with its retry mark removed (wrapped as
// "gave up after N attempts" when they were used up). attempt gets the 1-based attempt number.
func Do(ctx context.Context, p Policy, attempt func(ctx context.Context, n int) error) (int, error) {
	if p.Attempts < 1 {
		p.Attempts = 1
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	var delays *backoff.ExponentialBackOff // made at the first backoff wait
	for n := 1; ; n++ {
		err := attempt(ctx, n)
		if err == nil {
			return n, nil
		}
		var m *marked
		if !errors.As(err, &m) {
			return n, err
		}
		cause := m.err
		if n >= p.Attempts {
			if n > 1 {
				return n, fmt.Errorf("gave up after %d attempts: %w", n, cause)
			}
			return n, cause
		}
		if cerr := ctx.Err(); cerr != nil {
			return n, fmt.Errorf("%w; retry stopped: %w", cause, cerr)
		}
		wait := m.wait
		if wait > 0 {
			if p.MaxWait > 0 && wait > p.MaxWait {
				return n, fmt.Errorf("%w (%v, at most %v): %w", ErrWaitTooLong, wait, p.MaxWait, cause)
			}
		} else {
			if delays == nil {
				delays = delaySchedule(p)
			}
			wait = delays.NextBackOff()
		}
		if dl, ok := ctx.Deadline(); ok && now().Add(wait).After(dl) {
			return n, fmt.Errorf("%w: %w", ErrDeadline, cause)
		}
		if serr := p.Sleep(ctx, wait); serr != nil {
			return n, fmt.Errorf("%w; retry stopped: %w", cause, serr)
		}
	}
}

// delaySchedule is the policy's backoff delays as backoff's exponential schedule: Initial
// (capped at Max) growing by Multiplier up to Max, each randomized by ±Jitter. It never stops by
// itself: the attempts and the context's deadline bound the loop.
func delaySchedule(p Policy) *backoff.ExponentialBackOff {
	mult := p.Multiplier
	if mult <= 0 {
		mult = 2
	}
	maxDelay := time.Duration(math.MaxInt64)
	if p.Max > 0 {
		maxDelay = p.Max
	}
	return backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(min(p.Initial, maxDelay)),
		backoff.WithMultiplier(mult),
		backoff.WithRandomizationFactor(min(max(p.Jitter, 0), 1)),
		backoff.WithMaxInterval(maxDelay),
		backoff.WithMaxElapsedTime(0),
	)
}
