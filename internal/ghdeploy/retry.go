package ghdeploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-github/v62/github"
)

// defaultRateLimitWait is GitHub's advice when a rate-limited answer names no wait: "wait
// for at least one minute before retrying".
const defaultRateLimitWait = time.Minute

// do runs call with the retry policy:
//   - 202 (auto-merge) and 4xx other than rate limits are permanent;
//   - rate limits (403 secondary, 429, 403 primary with X-RateLimit-Remaining: 0) wait as
//     GitHub asks (Retry-After, else X-RateLimit-Reset, else one minute), but give up at once
//     when that is longer than maxRetryWait;
//   - 5xx and transport errors wait on an exponential backoff, unless creates is true: a
//     request that creates an object may have landed before the error, and a retry would
//     create a second one (a duplicate deployment), so only answers that were certainly
//     refused (rate limits) are retried then;
//   - at most maxAttempts requests in all, and ctx always wins.
func (c *Client) do(ctx context.Context, op string, creates bool, call func(context.Context, *github.Client) (*github.Response, error)) error {
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(time.Second),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(0.5),
		backoff.WithMaxInterval(10*time.Second),
		backoff.WithMaxElapsedTime(0),
		backoff.WithClockProvider(nowClock(c.now)),
	)
	var (
		status int
		last   error
	)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return &Error{Op: op, StatusCode: status, Attempts: attempt - 1, Err: err}
		}
		resp, err := call(ctx, c.api())
		if resp != nil && resp.Response != nil {
			status = resp.StatusCode
		} else {
			status = 0
		}
		if err == nil {
			return nil
		}
		wait, rateLimited, cause := c.classify(ctx, err, b)
		var perm *backoff.PermanentError
		if errors.As(cause, &perm) {
			return &Error{Op: op, StatusCode: status, Attempts: attempt, Err: perm.Err}
		}
		if creates && !rateLimited {
			return &Error{Op: op, StatusCode: status, Attempts: attempt, Err: fmt.Errorf("not retried, the object may already exist: %w", cause)}
		}
		last = cause
		if rateLimited && wait > c.maxRetryWait {
			return &Error{Op: op, StatusCode: status, Attempts: attempt,
				Err: fmt.Errorf("%w: github asks to wait %v, longer than the %v allowed: %w", ErrRateLimited, wait, c.maxRetryWait, cause)}
		}
		if attempt >= maxAttempts {
			if rateLimited {
				last = fmt.Errorf("%w: %w", ErrRateLimited, last)
			}
			return &Error{Op: op, StatusCode: status, Attempts: attempt,
				Err: fmt.Errorf("gave up after %d attempts: %w", attempt, last)}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return &Error{Op: op, StatusCode: status, Attempts: attempt, Err: err}
		}
	}
}

// classify returns how long to wait before the next attempt and whether a rate limit asked
// for it, or a cause wrapped in backoff.Permanent when the call must not be retried. The
// returned cause is safe to print.
func (c *Client) classify(ctx context.Context, err error, b backoff.BackOff) (time.Duration, bool, error) {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return 0, false, backoff.Permanent(ctx.Err())
	}
	var (
		accepted *github.AcceptedError
		primary  *github.RateLimitError
		abuse    *github.AbuseRateLimitError
		resp     *github.ErrorResponse
	)
	switch {
	case errors.As(err, &accepted):
		return 0, false, backoff.Permanent(ErrAutoMerged)
	case errors.As(err, &primary):
		re := &ResponseError{StatusCode: statusOf(primary.Response), Message: clean(primary.Message, c.token)}
		return c.retryAfter(primary.Response), true, re
	case errors.As(err, &abuse):
		re := &ResponseError{StatusCode: statusOf(abuse.Response), Message: clean(abuse.Message, c.token)}
		return c.retryAfter(abuse.Response), true, re
	case errors.As(err, &resp):
		re := &ResponseError{StatusCode: statusOf(resp.Response), Message: clean(resp.Message, c.token)}
		for _, fe := range resp.Errors {
			re.Fields = append(re.Fields, clean(fe.Field+": "+fe.Code, c.token))
		}
		switch {
		case re.StatusCode == http.StatusTooManyRequests: // not classified by go-github v62
			return c.retryAfter(resp.Response), true, re
		case re.StatusCode >= 500:
			return b.NextBackOff(), false, re
		default:
			return 0, false, backoff.Permanent(re)
		}
	}
	se := &sanitizedError{msg: clean(err.Error(), c.token), err: err}
	var netErr interface{ Timeout() bool } // *url.Error and net.Error: the request may not have arrived
	if errors.As(err, &netErr) {
		return b.NextBackOff(), false, se
	}
	return 0, false, backoff.Permanent(se) // a 2xx whose body did not decode: retrying could duplicate
}

// retryAfter reads the wait a rate-limited response asks for: Retry-After (seconds or an
// HTTP date), else X-RateLimit-Reset, else GitHub's one-minute advice.
func (c *Client) retryAfter(r *http.Response) time.Duration {
	if r != nil {
		if v := r.Header.Get("Retry-After"); v != "" {
			if s, err := strconv.ParseInt(v, 10, 64); err == nil {
				return max(time.Duration(s)*time.Second, 0)
			}
			if t, err := http.ParseTime(v); err == nil {
				return roundUp(t.Sub(c.now()))
			}
		}
	}
	return c.untilReset(r)
}

// untilReset is the wait until X-RateLimit-Reset, or one minute when the header is absent.
func (c *Client) untilReset(r *http.Response) time.Duration {
	if r != nil {
		if v := r.Header.Get("X-RateLimit-Reset"); v != "" {
			if s, err := strconv.ParseInt(v, 10, 64); err == nil {
				return roundUp(time.Unix(s, 0).Sub(c.now()))
			}
		}
	}
	return defaultRateLimitWait
}

// roundUp turns a wait into whole seconds, never less than one: reset times are whole
// seconds and clocks drift, so an early retry would only be refused again.
func roundUp(d time.Duration) time.Duration {
	if d <= time.Second {
		return time.Second
	}
	return (d + time.Second - 1).Truncate(time.Second)
}

func statusOf(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// nowClock adapts an injected now function to backoff's Clock.
type nowClock func() time.Time

func (c nowClock) Now() time.Time { return c() }
