// Package launchplane reads deployment records from, and reports stable verifications to, the
// Launchplane HTTP API (/v1/...), authenticating with a bearer token: a GitHub Actions OIDC token
// in a workflow, a static token on a workstation.
//
// The client follows the go-github shape: one newRequest / do / checkResponse path, a typed
// *APIError that matches ErrUnauthorized, ErrNotFound, ErrConflict and ErrRateLimited through
// errors.Is, and one method per API operation, each naming its route in its doc comment.
// Error text never holds the token, a query string or a response body.
package launchplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/launchplane/runtime-identity/internal/clock"
)

const (
	userAgent = "launchplane-runtime-identity"

	// successBodyLimit bounds a success response; a deployment record is a few KiB.
	successBodyLimit = 4 << 20

	// maxGetAttempts bounds the requests one read sends, retries included.
	maxGetAttempts = 3

	// MaxRetryAfter is the longest Retry-After a rate-limited (429) request waits for before
	// its single retry; a longer wait gives up at once.
	MaxRetryAfter = 30 * time.Second

	// maxKeyLen bounds an Idempotency-Key and a record id.
	maxKeyLen = 256
)

// Client calls one Launchplane instance. Create it with New. It is safe for concurrent use.
type Client struct {
	base  *url.URL // path ending in "/"
	token func(context.Context) (string, error)
	hc    *http.Client
	sleep func(context.Context, time.Duration) error
	now   func() time.Time
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sends requests through hc. Whatever hc's own redirect policy, the client
// refuses a redirect to another host, so the bearer token never follows one. The default client
// has a 30s timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithSleep replaces the wait between retries. It must return ctx.Err() once ctx is done.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) {
		if sleep != nil {
			c.sleep = sleep
		}
	}
}

// WithNow replaces the clock that turns an HTTP-date Retry-After into a wait.
func WithNow(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// StaticToken returns a token function that always returns tok, for local use with a token
// passed by hand. In a workflow, pass a function that fetches a GitHub Actions OIDC token.
func StaticToken(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// New returns a client for the Launchplane instance at baseURL (such as
// https://launchplane.example.com; the client adds /v1/...). token is called once per API call
// for the bearer token.
func New(baseURL string, token func(ctx context.Context) (string, error), opts ...Option) (*Client, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if token == nil {
		return nil, errors.New("launchplane: no token function")
	}
	c := &Client{
		base:  base,
		token: token,
		hc:    &http.Client{Timeout: 30 * time.Second},
		sleep: clock.Sleep,
		now:   time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	hc := *c.hc // a copy: the caller's client keeps its own policy
	hc.CheckRedirect = sameHostRedirect(c.hc.CheckRedirect)
	c.hc = &hc
	return c, nil
}

// parseBaseURL checks that raw is an http(s) URL with a host and no credentials, query or
// fragment, and returns it with a path ending in "/". Its errors never repeat raw.
func parseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("launchplane: URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("launchplane: URL does not parse")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("launchplane: URL must start with http:// or https://")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("launchplane: URL has no host")
	case u.User != nil:
		return nil, errors.New("launchplane: URL must not contain credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("launchplane: URL must not have a query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/"
	u.RawPath = ""
	return u, nil
}

// errRedirectRefused is what sameHostRedirect returns; it is never retried.
var errRedirectRefused = errors.New("refused a redirect to another host; use the final URL of the Launchplane instance")

// sameHostRedirect wraps next (nil: Go's default of 10 redirects) and refuses a redirect to
// another scheme or host: the Authorization header must not follow it.
func sameHostRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
			return errRedirectRefused
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// BaseURL returns the base URL the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// endpoint returns base + path, where path is already escaped.
func (c *Client) endpoint(escapedPath string) (*url.URL, error) {
	u, err := url.Parse(c.base.String() + escapedPath)
	if err != nil {
		return nil, errors.New("bad request path")
	}
	return u, nil
}

// call is one API operation: its name for errors and the request it sends.
type call struct {
	op      string // e.g. "read deployment deployment-2026...", used in error text
	method  string
	url     *url.URL
	body    []byte // nil for a GET
	headers map[string]string
}

// do sends cl and returns the success body. A GET is retried after a transport error or a 5xx,
// at most maxGetAttempts requests in all, on a short exponential backoff. Any method is retried
// once after a 429 that asks for a wait of at most MaxRetryAfter. A POST is never retried after
// a transport error or a 5xx: the write may have landed, and the error matches ErrOutcomeUnknown.
func (c *Client) do(ctx context.Context, cl call) ([]byte, error) {
	tok, err := c.token(ctx)
	if err != nil {
		return nil, fmt.Errorf("launchplane: %s: get token: %w", cl.op, err)
	}
	if tok == "" {
		return nil, fmt.Errorf("launchplane: %s: the token is empty", cl.op)
	}
	if !printableToken(tok) {
		return nil, fmt.Errorf("launchplane: %s: the token contains whitespace, control or non-ASCII characters", cl.op)
	}
	get := cl.method == http.MethodGet
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(250*time.Millisecond),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(0),
		backoff.WithMaxInterval(2*time.Second),
		backoff.WithMaxElapsedTime(0),
	)
	rateLimitRetried := false
	for attempt := 1; ; attempt++ {
		data, resp, err := c.attempt(ctx, cl, tok)
		if err == nil {
			return data, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("launchplane: %s: %w", cl.op, ctx.Err())
		}
		var wait time.Duration
		var ae *APIError
		switch {
		case errors.Is(err, errRedirectRefused), errors.Is(err, ErrBadResponse):
			return nil, fmt.Errorf("launchplane: %s: %w", cl.op, err)
		case errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests:
			d, ok := c.retryAfter(resp)
			if !ok || d > MaxRetryAfter || rateLimitRetried || (get && attempt >= maxGetAttempts) {
				return nil, fmt.Errorf("launchplane: %s: %w", cl.op, err)
			}
			rateLimitRetried = true
			wait = d
		case ae != nil && ae.StatusCode < 500:
			return nil, fmt.Errorf("launchplane: %s: %w", cl.op, err)
		case !get: // a 5xx or a transport error
			return nil, fmt.Errorf("launchplane: %s: %w, not retried: %w", cl.op, ErrOutcomeUnknown, err)
		case attempt >= maxGetAttempts:
			return nil, fmt.Errorf("launchplane: %s: gave up after %d attempts: %w", cl.op, attempt, err)
		default:
			wait = b.NextBackOff()
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("launchplane: %s: %w; retry stopped: %w", cl.op, err, serr)
		}
	}
}

// printableToken reports whether tok is printable ASCII without spaces, as bearer tokens
// (JWTs included) are; anything else could split the header or hide from redaction.
func printableToken(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] >= 0x7f {
			return false
		}
	}
	return true
}

// attempt sends one request. On an error answer it returns the response (body closed) so the
// caller can read Retry-After.
func (c *Client) attempt(ctx context.Context, cl call, tok string) ([]byte, *http.Response, error) {
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url.String(), body)
	if err != nil {
		return nil, nil, errors.New("cannot build the request")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range cl.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, transportError(err, tok)
	}
	defer resp.Body.Close()
	if err := checkResponse(resp, tok); err != nil {
		return nil, resp, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, successBodyLimit+1))
	if err != nil {
		return nil, nil, transportError(fmt.Errorf("read response: %w", err), tok)
	}
	if len(data) > successBodyLimit {
		return nil, nil, fmt.Errorf("%w: larger than %d bytes", ErrBadResponse, successBodyLimit)
	}
	return data, resp, nil
}

// transportError drops the URL a *url.Error carries and removes the token from the rest.
func transportError(err error, tok string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, errRedirectRefused) {
		return errRedirectRefused
	}
	return &sanitizedError{msg: clean(err.Error(), tok), err: err}
}

// sanitizedError carries an error from outside the package with its text cleaned.
type sanitizedError struct {
	msg string
	err error
}

func (e *sanitizedError) Error() string { return e.msg }
func (e *sanitizedError) Unwrap() error { return e.err }

// retryAfter reads a 429's Retry-After: delta seconds or an HTTP date.
func (c *Client) retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(min(s, 1<<20)) * time.Second, true // capped: no overflow
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(c.now()), 0), true
	}
	return 0, false
}
