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

	"github.com/cenkalti/backoff/v4"
	"github.com/launchplane/runtime-identity/internal/clock"
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

	// Application, Compose and Deployment group the operations of the
	// Dokploy routers of the same names.
	Application *ApplicationService
	Compose     *ComposeService
	Deployment  *DeploymentService
}

// RetryPolicy says how GET requests are retried after a network error or a
// 5xx answer. The delays grow from Initial, doubling, up to Max, without
// jitter. POST requests are never retried.
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
// client has a 30s timeout and refuses redirects, because a redirect would
// carry the x-api-key header to wherever it points.
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

// WithClock replaces the clock used for rollout deadlines and grace periods.
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

// BaseURL returns the instance base URL the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// Calls returns how many HTTP requests the client has sent per operation
// (such as "application.one"), retries included.
func (c *Client) Calls() map[string]int {
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

// do sends req, retrying a GET on network errors and 5xx answers, and decodes
// a JSON success body into v (when v is not nil and the body is not empty).
// It returns the raw success body. Errors name the method and operation,
// never the URL's query.
func (c *Client) do(req *http.Request, op string, v any) ([]byte, error) {
	ctx := req.Context()
	attempts := 1
	if req.Method == http.MethodGet {
		attempts = c.retry.Attempts
	}
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(c.retry.Initial),
		backoff.WithMaxInterval(c.retry.Max),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(0),
		backoff.WithMaxElapsedTime(0),
	)
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			if serr := c.sleep(ctx, b.NextBackOff()); serr != nil {
				return nil, fmt.Errorf("%v; retry stopped: %w", err, serr)
			}
		}
		var data []byte
		var retry bool
		data, retry, err = c.attempt(req, op)
		if err == nil {
			if v != nil && len(bytes.TrimSpace(data)) > 0 {
				if derr := json.Unmarshal(data, v); derr != nil {
					return data, fmt.Errorf("%s %s: decode response: %w", req.Method, op, derr)
				}
			}
			return data, nil
		}
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return nil, err
}

// attempt sends req once. retry says whether a GET may try again.
func (c *Client) attempt(req *http.Request, op string) (data []byte, retry bool, err error) {
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, false, fmt.Errorf("%s %s: %w", req.Method, op, err)
		}
		req.Body = body
	}
	c.count(op)
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error would print the query string
		}
		return nil, true, fmt.Errorf("%s %s: %w", req.Method, op, err)
	}
	defer resp.Body.Close()
	if err := checkResponse(resp, op, requestSecrets(c.apiKey, req)); err != nil {
		return nil, resp.StatusCode >= 500, err
	}
	data, err = io.ReadAll(io.LimitReader(resp.Body, successBodyLimit+1))
	if err != nil {
		return nil, true, fmt.Errorf("%s %s: read response: %w", req.Method, op, err)
	}
	if len(data) > successBodyLimit {
		return nil, false, fmt.Errorf("%s %s: response larger than %d bytes", req.Method, op, successBodyLimit)
	}
	return data, false, nil
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
