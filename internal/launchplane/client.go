// Package launchplane reads deployment records, product profiles and product environments from,
// and reports stable verifications to, the Launchplane HTTP API (/v1/...), authenticating with a
// bearer token: a GitHub Actions OIDC token in a workflow, a static token on a workstation.
//
// It speaks the service's own terms, checked against cbusillo/launchplane (the commits are cited
// where each rule is used): the record's expected identity is record.runtime_identity, a report is
// pass or fail with the tenant's whole health body under Launchplane's stricter rules
// (NewStableVerification), routes are absolute paths on the base URL's origin and the OIDC
// audience is the base URL's host as Launchplane's own client computes it (Audience).
//
// The client follows the go-github shape: one request / do / checkResponse path, a typed
// *APIError carrying the service's code, trace_id and HTTP status, matched by the sentinel
// errors through errors.Is, and one method per API operation, each naming its route in its doc
// comment. Retries go through internal/retry: reads are retried after a transport error or a
// 5xx; a write is never repeated except after a 429 asking for a bounded wait. Error text never
// holds the token, a query string or a response body.
package launchplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/clock"
	"github.com/launchplane/runtime-identity/internal/retry"
)

const (
	userAgent = "launchplane-runtime-identity"

	// successBodyLimit bounds a success response; a deployment record is a few KiB.
	successBodyLimit = 4 << 20

	// getAttempts bounds the requests one read sends, retries included.
	getAttempts = 3

	// postAttempts bounds the requests one write sends: one retry, and only after a 429.
	postAttempts = 2

	// MaxRetryAfter is the longest Retry-After a rate-limited (429) request waits for before
	// its retry; a longer wait gives up at once.
	MaxRetryAfter = 30 * time.Second

	// maxKeyLen bounds a record id or other path segment.
	maxKeyLen = 256

	// maxHeaderLen bounds an Idempotency-Key.
	maxHeaderLen = 1024
)

// Client calls one Launchplane instance. Create it with New. It is safe for concurrent use.
type Client struct {
	origin      *url.URL // scheme and host only: routes are absolute paths
	audience    string
	ignoredPath string
	token       func(context.Context) (string, error)
	hc          *http.Client
	sleep       func(context.Context, time.Duration) error
	now         func() time.Time
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
// passed by hand. In a workflow, pass a function that fetches a GitHub Actions OIDC token for
// Audience(baseURL).
func StaticToken(tok string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return tok, nil }
}

// New returns a client for the Launchplane instance at baseURL (such as
// https://launchplane.example.com). Routes are resolved as absolute paths, as Launchplane's own
// client resolves them, so a path in baseURL is ignored (see IgnoredPath). token is called once
// per API call for the bearer token.
func New(baseURL string, token func(ctx context.Context) (string, error), opts ...Option) (*Client, error) {
	origin, host, path, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if token == nil {
		return nil, errors.New("launchplane: no token function")
	}
	c := &Client{
		origin:      origin,
		audience:    host,
		ignoredPath: path,
		token:       token,
		hc:          &http.Client{Timeout: 30 * time.Second},
		sleep:       clock.Sleep,
		now:         time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	hc := *c.hc // a copy: the caller's client keeps its own policy
	hc.CheckRedirect = sameHostRedirect(c.hc.CheckRedirect)
	c.hc = &hc
	return c, nil
}

// Audience returns the GitHub OIDC audience Launchplane's own client requests for baseURL:
// WHATWG's URL host, so the host name lowercased and a port kept only when it is not the
// scheme's default (cbusillo/launchplane .github/actions/launchplane-request/dist/index.js
// @ 026ad2afa20f1613d8140a17110c5150e5ad1f23: `getInput("audience") || launchplaneUrl.host`).
// Its errors never repeat baseURL.
func Audience(baseURL string) (string, error) {
	_, host, _, err := parseBaseURL(baseURL)
	return host, err
}

// IgnoredPath returns the path of the base URL given to New, which routes do not use (as in
// Launchplane's own client), or "" when it had none.
func (c *Client) IgnoredPath() string { return c.ignoredPath }

// parseBaseURL checks that raw is an http(s) URL with a host and no credentials, query or
// fragment, and returns its origin, its WHATWG host (the audience) and the path it ignores.
// Hosts whose WHATWG form this does not compute (non-ASCII names, percent escapes, IPv4 in
// a non-canonical numeric form) are refused rather than guessed. Its errors never repeat raw.
func parseBaseURL(raw string) (*url.URL, string, string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, "", "", errors.New("launchplane: URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", "", errors.New("launchplane: URL does not parse")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, "", "", errors.New("launchplane: URL must start with http:// or https://")
	case u.Host == "" || u.Hostname() == "":
		return nil, "", "", errors.New("launchplane: URL has no host")
	case u.User != nil:
		return nil, "", "", errors.New("launchplane: URL must not contain credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, "", "", errors.New("launchplane: URL must not have a query or fragment")
	}
	hostname, err := whatwgHostname(u.Hostname())
	if err != nil {
		return nil, "", "", err
	}
	host := hostname
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return nil, "", "", errors.New("launchplane: URL has an invalid port")
		}
		if !(u.Scheme == "http" && n == 80) && !(u.Scheme == "https" && n == 443) {
			host += ":" + strconv.FormatUint(n, 10)
		}
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	return &url.URL{Scheme: u.Scheme, Host: host}, host, path, nil
}

// whatwgHostname returns the host name as WHATWG's URL parser serialises it, for the forms it
// handles: ASCII names (lowercased), canonical dotted IPv4, and IPv6 (bracketed, compressed).
func whatwgHostname(h string) (string, error) {
	if strings.Contains(h, ":") {
		ip := net.ParseIP(h)
		if ip == nil || strings.Contains(h, "%") {
			return "", errors.New("launchplane: URL has an invalid IPv6 host")
		}
		return "[" + whatwgIPv6(ip.To16()) + "]", nil
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c >= 0x80 || c <= ' ' || c == '%' {
			return "", errors.New("launchplane: URL host must be plain ASCII (use the punycode form of an international name)")
		}
	}
	h = strings.ToLower(h)
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	last := labels[len(labels)-1]
	if last != "" && (strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x")) {
		// WHATWG reads such a host as an IPv4 address; only the canonical form is kept as is.
		ip := net.ParseIP(h)
		if ip == nil || ip.To4() == nil || ip.String() != h {
			return "", errors.New("launchplane: URL host must be a name or a dotted IPv4 address")
		}
	}
	return h, nil
}

// whatwgIPv6 serialises a 16-byte address as WHATWG does: eight lowercase hex pieces with the
// first longest run of two or more zero pieces compressed to "::".
func whatwgIPv6(ip net.IP) string {
	var pieces [8]uint16
	for i := range pieces {
		pieces[i] = uint16(ip[2*i])<<8 | uint16(ip[2*i+1])
	}
	start, length := -1, 0
	for i := 0; i < 8; {
		if pieces[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && pieces[j] == 0 {
			j++
		}
		if j-i > length && j-i >= 2 {
			start, length = i, j-i
		}
		i = j
	}
	var b strings.Builder
	for i := 0; i < 8; i++ {
		if i == start {
			b.WriteString("::")
			i += length - 1
			continue
		}
		if i > 0 && i != start+length {
			b.WriteByte(':')
		}
		b.WriteString(strconv.FormatUint(uint64(pieces[i]), 16))
	}
	return b.String()
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

// endpoint returns origin + escapedPath, an absolute route path.
func (c *Client) endpoint(escapedPath string) (*url.URL, error) {
	u, err := url.Parse(c.origin.String() + escapedPath)
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
	body    []byte // nil for a GET; the same bytes on every attempt
	headers map[string]string
}

// do sends cl through internal/retry and returns the success body. A GET is retried after a
// transport error or a 5xx (except a 503 database_storage_required, which is a configuration),
// at most getAttempts requests in all. Any request is retried after a 429 whose Retry-After
// asks for at most MaxRetryAfter. A POST is never retried after a transport error or a 5xx: the
// write may have landed, and the error matches ErrOutcomeUnknown.
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
	policy := retry.Policy{
		Attempts: postAttempts,
		Initial:  250 * time.Millisecond,
		Max:      2 * time.Second,
		MaxWait:  MaxRetryAfter,
		Sleep:    c.sleep,
		Now:      c.now,
	}
	if get {
		policy.Attempts = getAttempts
	}
	var data []byte
	_, err = retry.Do(ctx, policy, func(ctx context.Context, _ int) error {
		d, resp, err := c.attempt(ctx, cl, tok)
		if err == nil {
			data = d
			return nil
		}
		var ae *APIError
		switch {
		case ctx.Err() != nil, errors.Is(err, errRedirectRefused), errors.Is(err, ErrBadResponse):
			return err
		case errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests:
			if wait, ok := c.retryAfter(resp); ok {
				return retry.After(err, max(wait, time.Nanosecond))
			}
			return err
		case ae != nil && ae.StatusCode < 500:
			return err
		case ae != nil && ae.Code == CodeDatabaseStorageRequired:
			return err
		case !get:
			return fmt.Errorf("%w, not retried: %w", ErrOutcomeUnknown, err)
		default:
			return retry.Again(err)
		}
	})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w: %w", err, cerr)
		}
		return nil, fmt.Errorf("launchplane: %s: %w", cl.op, err)
	}
	return data, nil
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

// read sends a GET for path (escaped, absolute) and parses the answer with parse; op names the
// read in errors. It returns the value and the URL read, for evidence links.
func read[T any](ctx context.Context, c *Client, op, path string, parse func([]byte) (*T, error)) (*T, string, error) {
	u, err := c.endpoint(path)
	if err != nil {
		return nil, "", fmt.Errorf("launchplane: %s: %w", op, err)
	}
	data, err := c.do(ctx, call{op: op, method: http.MethodGet, url: u})
	if err != nil {
		return nil, "", err
	}
	v, err := parse(data)
	if err != nil {
		return nil, "", fmt.Errorf("launchplane: %s: %w", op, err)
	}
	return v, u.String(), nil
}
