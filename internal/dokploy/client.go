package dokploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/launchplane/runtime-identity/internal/clock"
	"github.com/launchplane/runtime-identity/internal/retry"
)

// successBodyLimit bounds a success response; application.one with a large
// compose file or many relations stays far below it.
const successBodyLimit = 32 << 20

const userAgent = "launchplane-runtime-identity"

// Client calls one Dokploy instance's API. Create it with New. It is safe for
// concurrent use.
type Client struct {
	base   *url.URL // the instance base URL, path ending in "/"
	apiKey string
	hc     *http.Client
	sleep  func(context.Context, time.Duration) error
	now    func() time.Time
	retry  RetryPolicy

	mu    sync.Mutex
	calls map[string]int

	// Application, Compose, Deployment and Rollbacks group the operations
	// of the Dokploy routers application, compose, deployment and rollback.
	Application *ApplicationService
	Compose     *ComposeService
	Deployment  *DeploymentService
	Rollbacks   *RollbackService
}

// RetryPolicy says how GET requests are retried after a network error or a
// 5xx answer. The delays grow from Initial, doubling, up to Max, without
// jitter, and never reach past the request context's deadline. POST requests
// are never retried. The client runs it through internal/retry.
type RetryPolicy struct {
	// Attempts is the total number of tries, at least 1.
	Attempts int
	// Initial is the delay before the second try; Max caps later delays.
	Initial, Max time.Duration
}

// DefaultRetry is the GET retry policy of a new Client: 4 tries, waiting
// 500ms, 1s and 2s in between.
var DefaultRetry = RetryPolicy{Attempts: 4, Initial: 500 * time.Millisecond, Max: 4 * time.Second}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc. The default
// client refuses redirects, because a redirect would carry the x-api-key
// header to wherever it points, and has a 30s timeout as a backstop only:
// every method ends at its context's deadline.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithSleep replaces the sleep used between retries and rollout polls. It
// must return ctx.Err() once ctx is done.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) {
		if sleep != nil {
			c.sleep = sleep
		}
	}
}

// WithClock replaces the clock used for rollout deadlines, grace periods and
// the poll schedule. Retries compare the wall clock with the context's
// deadline, which is a wall-clock instant.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// WithRetry replaces DefaultRetry. Attempts below 1 count as 1 (no retry).
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) {
		if p.Attempts < 1 {
			p.Attempts = 1
		}
		c.retry = p
	}
}

// New returns a client for the Dokploy instance at baseURL (its base URL, such
// as https://dokploy.example.com; the client adds /api/) authenticating with
// apiKey in the x-api-key header. A trailing /api on baseURL is accepted and
// dropped.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if apiKey == "" {
		return nil, errors.New("dokploy: API key is empty")
	}
	if strings.IndexFunc(apiKey, unicode.IsControl) >= 0 {
		return nil, errors.New("dokploy: API key contains control characters")
	}
	c := &Client{
		base:   base,
		apiKey: apiKey,
		hc: &http.Client{
			Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		sleep: clock.Sleep,
		now:   time.Now,
		retry: DefaultRetry,
		calls: map[string]int{},
	}
	for _, o := range opts {
		o(c)
	}
	c.Application = &ApplicationService{c}
	c.Compose = &ComposeService{c}
	c.Deployment = &DeploymentService{c}
	c.Rollbacks = &RollbackService{c}
	return c, nil
}

// parseBaseURL checks that raw is an http(s) URL with a host and no
// credentials, query or fragment, and returns it with a path ending in "/".
// Its errors never repeat raw: it could hold a credential.
func parseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, errors.New("dokploy: URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("dokploy: URL does not parse")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("dokploy: URL must start with http:// or https://")
	case u.Host == "" || u.Hostname() == "":
		return nil, errors.New("dokploy: URL has no host")
	case u.User != nil:
		return nil, errors.New("dokploy: URL must not contain credentials; pass the API key separately")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("dokploy: URL must not have a query or fragment")
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/api")
	u.Path = p + "/"
	u.RawPath = ""
	return u, nil
}

// requestCounts returns how many HTTP requests the client has sent per
// operation (such as "application.one"), retries included.
func (c *Client) requestCounts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

func (c *Client) count(op string) {
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
}

// newRequest builds a request for operation op ("router.procedure"). A GET
// carries query in its query string; a POST carries body as JSON.
func (c *Client) newRequest(ctx context.Context, method, op string, query url.Values, body any) (*http.Request, error) {
	u := c.base.JoinPath("api", op)
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode request: %w", method, op, err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error would print the query string
		}
		return nil, fmt.Errorf("%s %s: %w", method, op, err)
	}
	req.Header.Set("x-api-key", c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// do sends req, retrying a GET on network errors and 5xx answers (through
// internal/retry, so no retry waits past ctx's deadline), and decodes a JSON
// success body into v (when v is not nil and the body is not empty). It
// returns the raw success body. Errors name the method and operation, never
// the URL's query.
func (c *Client) do(req *http.Request, op string, v any) ([]byte, error) {
	p := retry.Policy{
		Attempts: 1,
		Initial:  c.retry.Initial,
		Max:      c.retry.Max,
		Sleep:    c.sleep,
		// Now stays the wall clock: retry compares it with ctx.Deadline(),
		// which is a wall-clock instant whatever clock the caller injected.
	}
	if req.Method == http.MethodGet {
		p.Attempts = c.retry.Attempts
	}
	var data []byte
	_, err := retry.Do(req.Context(), p, func(context.Context, int) error {
		var err error
		data, err = c.attempt(req, op)
		return err
	})
	if err != nil {
		return nil, err
	}
	if v != nil && len(bytes.TrimSpace(data)) > 0 {
		if derr := json.Unmarshal(data, v); derr != nil {
			return data, fmt.Errorf("%s %s: decode response: %w", req.Method, op, derr)
		}
	}
	return data, nil
}

// attempt sends req once. Its error is marked retry.Again when a GET may try
// again: a network error while ctx is live, a 5xx answer, a cut-off body.
func (c *Client) attempt(req *http.Request, op string) ([]byte, error) {
	again := func(err error) error {
		if req.Method != http.MethodGet || req.Context().Err() != nil {
			return err
		}
		return retry.Again(err)
	}
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, op, err)
		}
		req.Body = body
	}
	c.count(op)
	resp, err := c.hc.Do(req)
	if err != nil {
		if cerr := req.Context().Err(); cerr != nil {
			// The caller's deadline or cancellation, not the network.
			return nil, fmt.Errorf("%s %s: %w", req.Method, op, cerr)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error would print the query string
		}
		return nil, again(fmt.Errorf("%s %s: %w", req.Method, op, err))
	}
	defer resp.Body.Close()
	if err := checkResponse(resp, op, requestSecrets(c.apiKey, req)); err != nil {
		if resp.StatusCode >= 500 {
			return nil, again(err)
		}
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, successBodyLimit+1))
	if err != nil {
		if cerr := req.Context().Err(); cerr != nil {
			return nil, fmt.Errorf("%s %s: read response: %w", req.Method, op, cerr)
		}
		return nil, again(fmt.Errorf("%s %s: read response: %w", req.Method, op, err))
	}
	if len(data) > successBodyLimit {
		return nil, fmt.Errorf("%s %s: response larger than %d bytes", req.Method, op, successBodyLimit)
	}
	return data, nil
}

// get calls a query procedure.
func (c *Client) get(ctx context.Context, op string, query url.Values, v any) ([]byte, error) {
	req, err := c.newRequest(ctx, http.MethodGet, op, query, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req, op, v)
}

// post calls a mutation procedure. It is never retried: a trigger or a write
// must not run twice.
func (c *Client) post(ctx context.Context, op string, body, v any) ([]byte, error) {
	req, err := c.newRequest(ctx, http.MethodPost, op, nil, body)
	if err != nil {
		return nil, err
	}
	return c.do(req, op, v)
}
