// Package probe fetches the runtime identity a running tenant reports and polls it until a
// confirmed match or a deadline.
//
// A tenant offers three surfaces (DESIGN.md section 2): the health JSON, the well-known document
// and the X-Launchplane-* headers on both responses. One surface decides; the others are recorded,
// and any that disagree with it are flagged, because that is how a cache, a CDN or a stale route
// shows itself. Poll repeats rounds through every non-match, since old replicas keep serving during
// a rollout, until enough consecutive rounds match.
//
// Poll is built to notice a switch fast without hammering the tenant (DESIGN.md section 9,
// "Speed"): rounds run on a fixed schedule, at most one request per Interval (10 requests/s by
// default), and a round reads the deciding surface alone (with the headers of its response). The
// other surfaces are read on the round whose match completes the confirmation, on the last round
// before the deadline, and whenever the deciding surface carries no identity, so that the result
// still records every surface and their disagreements. Once always reads every surface.
//
// The package knows nothing of action inputs: callers resolve defaults such as the base URL.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/clock"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// Limits and defaults.
const (
	// MaxBodyBytes bounds every response body read; a larger body is unverifiable.
	MaxBodyBytes = 1 << 20
	// MaxRedirects is how many redirects one request follows; the next one is unverifiable.
	MaxRedirects = 3
	// QueryParam is the cache-busting query parameter added to every request. It is never recorded.
	QueryParam = "_launchplane_probe"

	// DefaultTimeout is the overall deadline for a confirmed match (the verify-timeout default).
	DefaultTimeout = 3 * time.Minute
	// DefaultRequestTimeout bounds each request.
	DefaultRequestTimeout = 5 * time.Second
	// DefaultInterval is the period of Poll's schedule.
	DefaultInterval = 100 * time.Millisecond
	// MinInterval is the shortest Interval: at most 10 requests/s reach the tenant.
	MinInterval = 100 * time.Millisecond
	// DefaultUserAgent identifies the probe to the tenant.
	DefaultUserAgent = "launchplane-runtime-identity-probe"
)

// ErrOptions matches every error about bad Options.
var ErrOptions = errors.New("invalid options")

// Options configures Poll and Once. The zero value of every field but the URLs is a usable default.
type Options struct {
	// HealthURL is the tenant's health JSON endpoint. When set, its JSON decides.
	HealthURL string
	// BaseURL is the tenant's base URL for the well-known document (BaseURL + identity.WellKnownPath)
	// and its headers. At least one of HealthURL and BaseURL is set. Callers that want the
	// well-known document next to a health URL pass Origin(HealthURL).
	BaseURL string
	// Expected is the identity the tenant should report; nil probes once, unchecked.
	Expected *identity.Identity
	// Timeout is the overall deadline for a confirmed match. Default DefaultTimeout.
	Timeout time.Duration
	// RequestTimeout bounds each request, and never reaches past the overall deadline.
	// Default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Interval is the period of Poll's fixed schedule: the round after the one that started at
	// first probe + k·Interval starts at first probe + (k+m)·Interval, where m is how many
	// requests the round sent (1, or 2 when it also read the well-known document), or at the
	// first later tick when the round ran past that one. Rounds never drift by their own
	// duration and never burst to catch up. At least MinInterval; default DefaultInterval.
	Interval time.Duration
	// Confirmations is how many consecutive matching rounds confirm a match. Default 1.
	Confirmations int
	// Client sends the requests. Default: a client on http.DefaultTransport. The probe uses a copy
	// with its own redirect policy (at most MaxRedirects) and no cookie jar, reads bodies through
	// MaxBodyBytes, and sends every request on a fresh connection (Connection: close), so that a
	// load balancer can route each one to another replica.
	Client *http.Client
	// UserAgent is sent with every request. Default DefaultUserAgent.
	UserAgent string
	// Now is the clock. Default time.Now. It is called from concurrent requests of one round.
	Now func() time.Time
	// Sleep waits between rounds and returns early with ctx's error. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRound, when set, is called by Poll after each completed round, for progress logging.
	// With the default Interval that is up to 10 calls a second: log changes, not every round.
	OnRound func(Round)
}

// Answer is what one surface of the tenant answered in one round.
type Answer struct {
	// Surface is health, well-known or headers. A headers answer reads the headers of the
	// response at URL.
	Surface identity.Surface
	// URL is the requested URL without query, fragment or credentials.
	URL string
	// FinalURL is where redirects led, in the same form; empty without redirects.
	FinalURL string
	// StatusCode is the HTTP status; 0 when no response arrived.
	StatusCode int
	// Status is this answer compared with the expected identity: the round's verdict for the
	// deciding answer, the answer's own comparison for the others (unchecked without an
	// expected identity).
	Status identity.Status
	// Observation is what the surface reported. Without a usable answer it is unverifiable and
	// its Detail repeats Error. A NotServed answer reads missing with Detail "not served (404)".
	Observation identity.Observation
	// Error says why there was no usable answer (transport error, timeout, non-2xx, too many
	// redirects, body over the limit); empty otherwise. It never holds a body, query or credential.
	Error string
	// Failure is Error's kind, set exactly when Error is: a caller branches on it (for example
	// FailureDNSNotFound: "the host does not resolve") instead of reading Error's words.
	Failure Failure
	// NotServed is true when the surface answered 404 while another surface decided: the tenant
	// does not offer this surface, which is no failure. A deciding surface's own 404 is an
	// unverifiable answer with FailureHTTPStatus instead.
	NotServed bool
	// Body is the health surface's response body as received, 2xx or not, when it was read whole
	// (at most MaxBodyBytes); nil on other surfaces and when no body, or too large a one, was
	// read. It is the tenant's, untrusted: what a report to Launchplane sends as the health
	// payload, never text to log.
	Body []byte
	// Duration is how long the request took.
	Duration time.Duration
}

// Round is one probe of the tenant: the deciding surface, and when AllSurfaces the others too.
type Round struct {
	// N counts rounds from 1.
	N int
	// At is when the round started, since the first probe.
	At time.Duration
	// Duration is how long the round took.
	Duration time.Duration
	// Answers lists the answers in the order health, well-known, headers of the health response,
	// headers of the well-known response; surfaces that were not probed or gave no response to
	// read headers from are left out.
	Answers []Answer
	// AllSurfaces is true when the round read every configured surface; false when it read the
	// deciding surface alone (see the package comment for when Poll reads the others).
	AllSurfaces bool
	// Deciding and DecidingURL name the answer the verdict comes from (see Decided).
	Deciding    identity.Surface
	DecidingURL string
	// Verdict compares the deciding answer with the expected identity. Its notes carry the
	// surface fallback and Disagreements.
	Verdict identity.Verdict
	// Disagreements describes answers whose identity differs from the deciding one's.
	Disagreements []string
}

// Decided returns the answer the verdict comes from.
func (r Round) Decided() (Answer, bool) {
	for _, a := range r.Answers {
		if a.Surface == r.Deciding && a.URL == r.DecidingURL {
			return a, true
		}
	}
	return Answer{}, false
}

// Result is the outcome of Poll.
type Result struct {
	// Verdict is the last round's.
	Verdict identity.Verdict
	// Surface and URL name the last round's deciding answer.
	Surface identity.Surface
	URL     string
	// Attempts counts the rounds.
	Attempts int
	// Confirmed is true when Required consecutive rounds matched.
	Confirmed bool
	// Confirmations is the streak of matching rounds at the end; Required the streak asked for
	// (0 when nothing was expected).
	Confirmations int
	Required      int
	// FirstSeen holds, for each verdict status seen, when it was first seen since the first probe.
	FirstSeen map[identity.Status]time.Duration
	// TimeToMatch runs from the first probe to the end of the round that completed the
	// confirmation; 0 without one.
	TimeToMatch time.Duration
	// Elapsed runs from the first probe to the end of polling.
	Elapsed time.Duration
	// Last is the last round.
	Last Round
	// TimedOut is true when the deadline passed without a confirmed match.
	TimedOut bool
	// HostNotFound is true when the deciding request of every round failed with
	// FailureDNSNotFound: the tenant's host never resolved, so the caller can say "the host does
	// not resolve" rather than only "unverifiable". A temporary DNS failure is not one.
	HostNotFound bool
}

// Origin returns the scheme and host of rawURL, without credentials: the default base URL for a
// health URL.
func Origin(rawURL string) (string, error) {
	u, err := parseTarget("URL", rawURL)
	if err != nil {
		return "", err
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String(), nil
}

// prober is Options resolved and validated.
type prober struct {
	health, wellKnown *url.URL
	expected          *identity.Identity
	timeout           time.Duration
	reqTimeout        time.Duration
	interval          time.Duration
	required          int
	client            *http.Client
	userAgent         string
	now               func() time.Time
	sleep             func(context.Context, time.Duration) error
	onRound           func(Round)
	buster            *cacheBuster
}

func optionsError(format string, args ...any) error {
	return fmt.Errorf("probe: %w: %s", ErrOptions, fmt.Sprintf(format, args...))
}

func newProber(opts Options) (*prober, error) {
	p := &prober{
		expected:   opts.Expected,
		timeout:    opts.Timeout,
		reqTimeout: opts.RequestTimeout,
		interval:   opts.Interval,
		required:   opts.Confirmations,
		userAgent:  opts.UserAgent,
		now:        opts.Now,
		sleep:      opts.Sleep,
		onRound:    opts.OnRound,
	}
	if opts.HealthURL == "" && opts.BaseURL == "" {
		return nil, optionsError("neither a health URL nor a base URL is set")
	}
	var err error
	if opts.HealthURL != "" {
		if p.health, err = parseTarget("health URL", opts.HealthURL); err != nil {
			return nil, err
		}
	}
	if opts.BaseURL != "" {
		base, err := parseTarget("base URL", opts.BaseURL)
		if err != nil {
			return nil, err
		}
		p.wellKnown = wellKnownURL(base)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"timeout", &p.timeout, DefaultTimeout},
		{"request timeout", &p.reqTimeout, DefaultRequestTimeout},
		{"interval", &p.interval, DefaultInterval},
	} {
		switch {
		case *d.v < 0:
			return nil, optionsError("%s %s is negative", d.name, *d.v)
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if p.interval < MinInterval {
		return nil, optionsError("interval %s is under %s: at most 10 requests/s may reach the tenant", p.interval, MinInterval)
	}
	switch {
	case p.required < 0:
		return nil, optionsError("confirmations %d is negative", p.required)
	case p.required == 0:
		p.required = 1
	}
	if p.userAgent == "" {
		p.userAgent = DefaultUserAgent
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.sleep == nil {
		p.sleep = clock.Sleep
	}
	c := &http.Client{}
	if opts.Client != nil {
		cp := *opts.Client
		c = &cp
	}
	c.CheckRedirect = checkRedirect
	// A cookie jar would let a sticky-session cookie pin every round to one replica.
	c.Jar = nil
	p.client = c
	p.buster = newCacheBuster()
	return p, nil
}

// parseTarget parses a configured URL. Errors never repeat the URL: it may hold credentials.
func parseTarget(name, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, optionsError("%s is not a valid URL", name)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, optionsError("%s must start with http:// or https://", name)
	}
	if u.Host == "" {
		return nil, optionsError("%s has no host", name)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// wellKnownURL appends identity.WellKnownPath to the base URL's path, so a tenant mounted under a
// path prefix works too.
func wellKnownURL(base *url.URL) *url.URL {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + identity.WellKnownPath
	if u.RawPath != "" {
		u.RawPath = strings.TrimSuffix(u.RawPath, "/") + identity.WellKnownPath
	}
	return &u
}

var errTooManyRedirects = errors.New("too many redirects")

func checkRedirect(_ *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return errTooManyRedirects
	}
	return nil
}

// Once runs a single round. Its error is about bad options or a cancelled ctx, never about the
// tenant: what the tenant did is in the Round.
func Once(ctx context.Context, opts Options) (Round, error) {
	p, err := newProber(opts)
	if err != nil {
		return Round{}, err
	}
	if err := ctx.Err(); err != nil {
		return Round{}, fmt.Errorf("probe: %w", err)
	}
	start := p.now()
	r := p.round(ctx, 1, start, start.Add(p.timeout), true, 0)
	if err := ctx.Err(); err != nil {
		return r, fmt.Errorf("probe: %w", err)
	}
	return r, nil
}

// Poll probes until Confirmations consecutive rounds match or the deadline passes, keeping on
// through every non-match. The first round runs at once, the next ones on the schedule Interval
// describes. With no Expected identity it runs one round, reading every surface. Its error is
// about bad options or a cancelled ctx (then the Result holds the rounds completed before), never
// about the tenant: a tenant that never matches gives a Result with TimedOut set and the last
// round's verdict.
func Poll(ctx context.Context, opts Options) (Result, error) {
	p, err := newProber(opts)
	if err != nil {
		return Result{}, err
	}
	res := Result{Required: p.required, FirstSeen: map[identity.Status]time.Duration{}}
	if p.expected == nil {
		res.Required = 0
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("probe: %w", err)
	}
	start := p.now()
	deadline := start.Add(p.timeout)
	tick := p.ticks(start)
	for n, k := 1, 0; ; n++ {
		// The last round before the deadline reads every surface, so that a poll that ends
		// without a match still records them all.
		last := !tick(k + 1).Before(deadline)
		r := p.round(ctx, n, start, deadline, p.expected == nil || last, res.Confirmations)
		if err := ctx.Err(); err != nil {
			// The cancelled round's answers describe the cancellation, not the tenant.
			res.Elapsed = p.now().Sub(start)
			return res, fmt.Errorf("probe: %w", err)
		}
		res.record(r)
		if p.onRound != nil {
			p.onRound(r)
		}
		if p.expected == nil {
			break
		}
		if r.Verdict.Status == identity.StatusMatch {
			res.Confirmations++
		} else {
			res.Confirmations = 0
		}
		if res.Confirmations >= p.required {
			res.Confirmed = true
			res.TimeToMatch = r.At + r.Duration
			break
		}
		// Every request spends one tick of the budget; a round that ran past its next tick
		// waits for the first tick still ahead instead of sending a burst.
		k += requests(r)
		if late := p.now().Sub(start); late > time.Duration(k)*p.interval {
			k = int((late + p.interval - 1) / p.interval)
		}
		next := tick(k)
		if !next.Before(deadline) {
			if err := p.sleepUntil(ctx, deadline); err != nil {
				res.Elapsed = p.now().Sub(start)
				return res, fmt.Errorf("probe: sleep: %w", err)
			}
			res.TimedOut = true
			break
		}
		if err := p.sleepUntil(ctx, next); err != nil {
			res.Elapsed = p.now().Sub(start)
			return res, fmt.Errorf("probe: sleep: %w", err)
		}
	}
	res.Elapsed = p.now().Sub(start)
	return res, nil
}

// ticks returns the schedule: tick k is start + k·interval.
func (p *prober) ticks(start time.Time) func(k int) time.Time {
	return func(k int) time.Time { return start.Add(time.Duration(k) * p.interval) }
}

// sleepUntil sleeps until t by the injected clock; a time already past returns at once with
// ctx's error, if any.
func (p *prober) sleepUntil(ctx context.Context, t time.Time) error {
	d := t.Sub(p.now())
	if d <= 0 {
		return ctx.Err()
	}
	return p.sleep(ctx, d)
}

// requests counts the requests a round sent: one per answer but the headers, which come with
// another answer's response.
func requests(r Round) int {
	n := 0
	for _, a := range r.Answers {
		if a.Surface != identity.SurfaceHeaders {
			n++
		}
	}
	return max(n, 1)
}

func (res *Result) record(r Round) {
	dec, _ := r.Decided()
	res.HostNotFound = (res.Attempts == 0 || res.HostNotFound) && dec.Failure == FailureDNSNotFound
	res.Attempts = r.N
	res.Last = r
	res.Verdict = r.Verdict
	res.Surface = r.Deciding
	res.URL = r.DecidingURL
	if _, ok := res.FirstSeen[r.Verdict.Status]; !ok {
		res.FirstSeen[r.Verdict.Status] = r.At
	}
}
