package ghdeploy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/launchplane/runtime-identity/internal/retry"
)

// defaultRateLimitWait is GitHub's advice when a rate-limited answer names no wait: "wait
// for at least one minute before retrying".
const defaultRateLimitWait = time.Minute

// do runs call with the retry policy, through the shared loop of internal/retry:
//   - 202 (auto-merge) and 4xx other than rate limits are final;
//   - rate limits (403 secondary, 429, 403 primary with X-RateLimit-Remaining: 0) wait as
//     GitHub asks (Retry-After, else X-RateLimit-Reset, else one minute), but give up at once
//     when that is longer than maxRetryWait or would pass ctx's deadline;
//   - 5xx and transport errors wait on an exponential backoff, unless creates is true: a
//     request that creates an object may have landed before the error, and a retry would
//     create a second one (a duplicate deployment), so only answers that were certainly
//     refused (rate limits) are retried then;
//   - at most maxAttempts requests in all, and ctx always wins.
func (c *Client) do(ctx context.Context, op string, creates bool, call func(context.Context, *github.Client) (*github.Response, error)) error {
	policy := retry.Policy{
		Attempts: maxAttempts,
		Initial:  time.Second,
		Max:      10 * time.Second,
		Jitter:   0.5,
		MaxWait:  c.maxRetryWait,
		Sleep:    c.sleep,
		Now:      c.now,
	}
	status, rateLimited := 0, false
	attempts, err := retry.Do(ctx, policy, func(ctx context.Context, _ int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		resp, err := call(ctx, c.api())
		status = 0
		if resp != nil && resp.Response != nil {
			status = resp.StatusCode
		}
		if err == nil {
			return nil
		}
		var (
			wait  time.Duration
			cause error
			again bool
		)
		wait, rateLimited, again, cause = c.classify(ctx, err)
		switch {
		case rateLimited:
			return retry.After(cause, wait)
		case again && creates:
			return fmt.Errorf("not retried, the object may already exist: %w", cause)
		case again:
			return retry.Again(cause)
		}
		return cause
	})
	if err == nil {
		return nil
	}
	if rateLimited {
		// Given up on a rate limit: too long a wait, the deadline, or every attempt refused.
		err = fmt.Errorf("%w: %w", ErrRateLimited, err)
	}
	return &Error{Op: op, StatusCode: status, Attempts: attempts, Err: err}
}

// classify says how long a rate limit asks to wait, whether the error is one, whether any
// other retry could help (a 5xx, a transport error), and the cause, which is safe to print.
func (c *Client) classify(ctx context.Context, err error) (wait time.Duration, rateLimited, again bool, cause error) {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return 0, false, false, ctx.Err()
	}
	var (
		accepted *github.AcceptedError
		primary  *github.RateLimitError
		abuse    *github.AbuseRateLimitError
		resp     *github.ErrorResponse
	)
	switch {
	case errors.As(err, &accepted):
		return 0, false, false, ErrAutoMerged
	case errors.As(err, &primary):
		re := &ResponseError{StatusCode: statusOf(primary.Response), Message: clean(primary.Message, c.token)}
		return c.retryAfter(primary.Response), true, false, re
	case errors.As(err, &abuse):
		re := &ResponseError{StatusCode: statusOf(abuse.Response), Message: clean(abuse.Message, c.token)}
		return c.retryAfter(abuse.Response), true, false, re
	case errors.As(err, &resp):
		re := &ResponseError{StatusCode: statusOf(resp.Response), Message: clean(resp.Message, c.token)}
		for _, fe := range resp.Errors {
			re.Fields = append(re.Fields, clean(fe.Field+": "+fe.Code, c.token))
		}
		switch {
		case re.StatusCode == http.StatusTooManyRequests: // not classified by go-github v62
			return c.retryAfter(resp.Response), true, false, re
		case re.StatusCode >= 500:
			return 0, false, true, re
		default:
			return 0, false, false, re
		}
	}
	se := &sanitizedError{msg: clean(err.Error(), c.token), err: err}
	var netErr interface{ Timeout() bool } // *url.Error and net.Error: the request may not have arrived
	if errors.As(err, &netErr) {
		return 0, false, true, se
	}
	return 0, false, false, se // a 2xx whose body did not decode: retrying could duplicate
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
