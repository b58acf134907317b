// Package ghdeploy records a verification run on GitHub: a deployment, its statuses and an
// optional commit status, through go-github. It knows nothing of Action inputs; callers pass
// plain values. Every failure is returned as an *Error so the caller can turn it into a warning:
// a GitHub failure never changes a verdict.
package ghdeploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/launchplane/runtime-identity/internal/clock"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// MaxDescription is the longest description, in characters (runes), GitHub accepts on a
// deployment status; commit statuses are held to the same length.
const MaxDescription = 140

// DefaultMaxRetryWait is the longest wait a rate-limited call accepts before giving up.
const DefaultMaxRetryWait = 60 * time.Second

// maxAttempts bounds the requests sent for one call, whatever the failures.
const maxAttempts = 3

// Status states. Deployment statuses take all of them; commit statuses only StateError,
// StateFailure, StatePending and StateSuccess.
const (
	StateError      = "error"
	StateFailure    = "failure"
	StateInactive   = "inactive"
	StateInProgress = "in_progress"
	StateQueued     = "queued"
	StatePending    = "pending"
	StateSuccess    = "success"
)

// The enums of the contract (repos/create-deployment-status, repos/create-commit-status).
var (
	deploymentStates = []string{StateError, StateFailure, StateInactive, StateInProgress, StateQueued, StatePending, StateSuccess}
	commitStates     = []string{StateError, StateFailure, StatePending, StateSuccess}
)

// Client creates deployments, deployment statuses and commit statuses in one repository.
// It is safe for concurrent use.
type Client struct {
	hc           *http.Client
	baseURL      *url.URL
	token        string
	owner, repo  string
	sleep        func(context.Context, time.Duration) error
	now          func() time.Time
	maxRetryWait time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithSleep replaces the function that waits between attempts. It must return ctx.Err() as
// soon as ctx is done.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) { c.sleep = sleep }
}

// WithNow replaces the clock used to turn rate-limit reset times into waits.
func WithNow(now func() time.Time) Option {
	return func(c *Client) { c.now = now }
}

// WithMaxRetryWait sets the longest wait a rate-limited call accepts; when GitHub asks for
// longer the call gives up at once. The default is DefaultMaxRetryWait.
func WithMaxRetryWait(d time.Duration) Option {
	return func(c *Client) { c.maxRetryWait = d }
}

// New returns a Client for repository ("owner/name") on the GitHub API at apiURL, sending
// token as a Bearer token. apiURL is https://api.github.com, a GitHub Enterprise Server
// https://HOST/api/v3, a GHE.com https://api.SUB.ghe.com, or any other base URL (such as a
// loopback fake), which is used as is. A nil hc gets a client with a 30 s timeout.
func New(hc *http.Client, apiURL, token, repository string, opts ...Option) (*Client, error) {
	owner, repo, ok := strings.Cut(repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, errors.New(`ghdeploy: repository must be "owner/name"`)
	}
	if token == "" {
		return nil, errors.New("ghdeploy: empty token")
	}
	base, err := baseURL(apiURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, CheckRedirect: sameHostRedirect}
	}
	c := &Client{
		hc:           hc,
		baseURL:      base,
		token:        token,
		owner:        owner,
		repo:         repo,
		sleep:        clock.Sleep,
		now:          time.Now,
		maxRetryWait: DefaultMaxRetryWait,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// baseURL resolves apiURL the way go-github's WithEnterpriseURLs does for GitHub hosts, and
// keeps any other URL as given: WithEnterpriseURLs would append api/v3/ to it.
func baseURL(apiURL string) (*url.URL, error) {
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, errors.New("ghdeploy: api url must be an http(s) URL without credentials")
	}
	host := u.Hostname()
	path := strings.TrimSuffix(u.Path, "/")
	if host == "api.github.com" || strings.HasSuffix(path, "/api/v3") ||
		strings.HasPrefix(host, "api.") || strings.Contains(host, ".api.") {
		gh, err := github.NewClient(nil).WithEnterpriseURLs(u.String(), u.String())
		if err != nil {
			return nil, fmt.Errorf("ghdeploy: api url: %w", err)
		}
		return gh.BaseURL, nil
	}
	u.Path = path + "/"
	u.RawPath = ""
	return u, nil
}

// api returns a go-github client with no rate-limit memory. go-github remembers limits against
// the wall clock and answers later calls itself until the reset; the retry policy here owns
// every wait (injected clock and sleep, capped), so each attempt starts afresh.
func (c *Client) api() *github.Client {
	gh := github.NewClient(c.hc).WithAuthToken(c.token)
	gh.BaseURL = c.baseURL
	return gh
}

// DeploymentRequest describes a deployment to create.
type DeploymentRequest struct {
	// Ref is the ref to deploy, normally the source commit SHA. Required.
	Ref string
	// Environment names the GitHub environment; empty lets GitHub default to "production".
	Environment string
	// Description is a short description of the deployment; empty omits it.
	Description string
	// Payload is extra data stored with the deployment (statuses carry none). It must encode
	// to a JSON object or string; nil omits it.
	Payload any
	// Transient marks an environment that goes away (a preview).
	Transient bool
	// Production marks an environment end users interact with.
	Production bool
}

// CreateDeployment creates a deployment and returns its id. It always sends
// auto_merge:false, required_contexts:[] and task "deploy", so GitHub neither merges the
// default branch into Ref nor waits for commit status checks.
//
// GitHub API: POST /repos/{owner}/{repo}/deployments (repos/create-deployment).
func (c *Client) CreateDeployment(ctx context.Context, req DeploymentRequest) (int64, error) {
	const op = "create deployment"
	if req.Ref == "" {
		return 0, &Error{Op: op, Err: errors.New("empty ref")}
	}
	if req.Payload != nil {
		if err := checkPayload(req.Payload); err != nil {
			return 0, &Error{Op: op, Err: err}
		}
	}
	body := &github.DeploymentRequest{
		Ref:                   github.String(req.Ref),
		Task:                  github.String("deploy"),
		AutoMerge:             github.Bool(false),
		RequiredContexts:      &[]string{}, // a nil slice would encode null; omitted means "all contexts"
		Payload:               req.Payload,
		TransientEnvironment:  github.Bool(req.Transient),
		ProductionEnvironment: github.Bool(req.Production),
	}
	if req.Environment != "" {
		body.Environment = github.String(req.Environment)
	}
	if req.Description != "" {
		body.Description = github.String(req.Description)
	}
	var id int64
	err := c.do(ctx, op, true, func(ctx context.Context, gh *github.Client) (*github.Response, error) {
		d, resp, err := gh.Repositories.CreateDeployment(ctx, c.owner, c.repo, body)
		if err == nil {
			id = d.GetID()
		}
		return resp, err
	})
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, &Error{Op: op, StatusCode: http.StatusCreated, Attempts: 1, Err: errors.New("response carries no deployment id")}
	}
	return id, nil
}

// checkPayload reports whether p encodes to a JSON object or string, the two forms GitHub
// accepts.
func checkPayload(p any) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode payload: %w", err)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '{' && raw[0] != '"') {
		return errors.New("payload must encode to a JSON object or string")
	}
	return nil
}

// StatusRequest describes a deployment status.
type StatusRequest struct {
	// State is one of error, failure, inactive, in_progress, queued, pending, success.
	State string
	// Description is cut to MaxDescription characters with Truncate.
	Description string
	// EnvironmentURL is where the environment can be reached; empty omits it.
	EnvironmentURL string
	// LogURL is the run's log (GitHub sets target_url from it); empty omits it.
	LogURL string
	// Environment renames the deployment's environment; empty keeps the previous one.
	Environment string
}

// CreateStatus adds a status to deployment deploymentID.
//
// GitHub API: POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses
// (repos/create-deployment-status).
func (c *Client) CreateStatus(ctx context.Context, deploymentID int64, req StatusRequest) error {
	const op = "create deployment status"
	if deploymentID <= 0 {
		return &Error{Op: op, Err: errors.New("no deployment id")}
	}
	if !slices.Contains(deploymentStates, req.State) {
		return &Error{Op: op, Err: fmt.Errorf("state %q is not one of %s", req.State, strings.Join(deploymentStates, ", "))}
	}
	body := &github.DeploymentStatusRequest{State: github.String(req.State)}
	if d := logtext.Truncate(req.Description, MaxDescription); d != "" {
		body.Description = github.String(d)
	}
	if req.EnvironmentURL != "" {
		body.EnvironmentURL = github.String(req.EnvironmentURL)
	}
	if req.LogURL != "" {
		body.LogURL = github.String(req.LogURL)
	}
	if req.Environment != "" {
		body.Environment = github.String(req.Environment)
	}
	return c.do(ctx, op, false, func(ctx context.Context, gh *github.Client) (*github.Response, error) {
		_, resp, err := gh.Repositories.CreateDeploymentStatus(ctx, c.owner, c.repo, deploymentID, body)
		return resp, err
	})
}

// CreateCommitStatus sets the commit status named statusContext on sha, for branch
// protection. state is one of error, failure, pending, success; description is cut to
// MaxDescription characters; an empty targetURL is omitted.
//
// GitHub API: POST /repos/{owner}/{repo}/statuses/{sha} (repos/create-commit-status).
func (c *Client) CreateCommitStatus(ctx context.Context, sha, statusContext, state, description, targetURL string) error {
	const op = "create commit status"
	if sha == "" {
		return &Error{Op: op, Err: errors.New("empty sha")}
	}
	if !slices.Contains(commitStates, state) {
		return &Error{Op: op, Err: fmt.Errorf("state %q is not one of %s", state, strings.Join(commitStates, ", "))}
	}
	body := &github.RepoStatus{State: github.String(state)}
	if statusContext != "" {
		body.Context = github.String(statusContext)
	}
	if d := logtext.Truncate(description, MaxDescription); d != "" {
		body.Description = github.String(d)
	}
	if targetURL != "" {
		body.TargetURL = github.String(targetURL)
	}
	return c.do(ctx, op, false, func(ctx context.Context, gh *github.Client) (*github.Response, error) {
		_, resp, err := gh.Repositories.CreateStatus(ctx, c.owner, c.repo, sha, body)
		return resp, err
	})
}

// sameHostRedirect refuses a redirect to another host: go-github sets the Authorization header
// in its transport on every request, so Go's own stripping of credentials on a cross-host
// redirect does not apply, and the token would follow.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("ghdeploy: stopped after 10 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("ghdeploy: refused a redirect to another host (%s)", req.URL.Host)
	}
	return nil
}
