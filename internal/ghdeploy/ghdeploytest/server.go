// Package ghdeploytest is a fake GitHub REST API for deployments, deployment statuses and
// commit statuses. Every request is checked against the GitHub contract
// (github-deployments-openapi.json, through internal/contracttest); a request that breaks it
// fails the test and gets a 422. The server records what it receives and can fail on demand
// with GitHub's rate-limit, server and validation answers.
//
// Tests using it skip when RUNTIME_IDENTITY_CONTRACTS is unset, like every contract test.
package ghdeploytest

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/contracttest"
)

// MaxDescription is the deployment-status description limit GitHub documents (140
// characters). The contract's request schema does not carry it, so the fake checks it itself.
const MaxDescription = 140

const (
	docsRateLimits = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
	maxBody        = 1 << 20
)

// Server is the fake. Create it with NewServer; it closes itself when the test ends.
type Server struct {
	tb    testing.TB
	spec  *contracttest.Spec
	srv   *httptest.Server
	now   func() time.Time
	token string

	mu             sync.Mutex
	lastID         map[string]int64 // per kind of object, as GitHub numbers them
	remaining      int
	deployments    []*Deployment
	statuses       map[int64][]Status
	commitStatuses []CommitStatus
	calls          []Call
	faults         []*pendingFault
}

// Option configures a Server.
type Option func(*Server)

// WithNow sets the server clock, used for created_at and rate-limit reset headers.
func WithNow(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithToken makes the server answer 401 Bad credentials unless the request carries
// "Authorization: Bearer <token>". Without it any Bearer token is accepted.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// Deployment is a deployment as the server received and stored it.
type Deployment struct {
	ID                  int64
	Owner, Repo         string
	Ref                 string
	SHA                 string // ref itself when it is a 40-hex SHA, else a stand-in derived from it
	Task                string // "deploy" when not sent
	Environment         string // current environment: as sent (default "production"), renamed by statuses
	OriginalEnvironment string
	Description         string
	Payload             json.RawMessage // as received; nil when not sent
	AutoMerge           *bool           // nil when not sent (GitHub then auto-merges)
	RequiredContexts    *[]string       // nil when not sent (GitHub then checks every context)
	Transient           *bool           // transient_environment; nil when not sent
	Production          *bool           // production_environment; nil when not sent
	CreatedAt           time.Time
	Request             json.RawMessage // the whole request body as received
}

// Status is a deployment status as stored.
type Status struct {
	ID             int64
	DeploymentID   int64
	State          string
	Description    string
	Environment    string // effective: as sent, else carried over from the previous status
	EnvironmentURL string
	LogURL         string
	TargetURL      string // log_url when sent, else target_url
	AutoInactive   *bool
	CreatedAt      time.Time
	Request        json.RawMessage // nil for inactive statuses the server added (auto_inactive)
}

// CommitStatus is a commit status as stored.
type CommitStatus struct {
	ID          int64
	Owner, Repo string
	SHA         string
	State       string
	Context     string // "default" when not sent
	Description string
	TargetURL   string
	CreatedAt   time.Time
	Request     json.RawMessage
}

// Call is one request, in arrival order, whatever its outcome.
type Call struct {
	Method    string
	Path      string
	Operation string // the contract's operationId, "" for a route outside the contract
	Body      string
	Status    int // the status the server answered
}

// FaultKind selects a failure answer.
type FaultKind int

// Failure answers, as GitHub sends them.
const (
	// SecondaryRateLimit is a 403 whose documentation_url ends in secondary-rate-limits.
	SecondaryRateLimit FaultKind = iota + 1
	// TooManyRequests is a 429.
	TooManyRequests
	// ServerError is a 5xx (Fault.Status, default 502).
	ServerError
	// ValidationFailed is a 422 with a validation-error body.
	ValidationFailed
	// PrimaryRateLimit is a 403 with X-RateLimit-Remaining: 0 and X-RateLimit-Reset.
	PrimaryRateLimit
	// AutoMerged is the 202 GitHub sends when it merged the default branch instead of
	// deploying (repos/create-deployment only).
	AutoMerged
	// Stall never answers: the request hangs until the client gives up (a GitHub that stops
	// responding), or a minute passes.
	Stall
)

// Fault describes a failure answer.
type Fault struct {
	Kind FaultKind
	// Operation limits the fault to one contract operationId, such as
	// "repos/create-deployment-status"; "" matches any request.
	Operation string
	// Status is the ServerError status (500-599, default 502).
	Status int
	// RetryAfter is the Retry-After header value, as sent ("30" or an HTTP date); "" omits it.
	RetryAfter string
	// ResetIn sets X-RateLimit-Reset to the server clock plus ResetIn (PrimaryRateLimit
	// always sends it, default one hour; other kinds only when non-zero).
	ResetIn time.Duration
	// Message replaces the body's message.
	Message string
}

type pendingFault struct {
	Fault
	left int
}

type route struct {
	method, pattern string
	handle          func(s *Server, w http.ResponseWriter, r *http.Request, body []byte)
}

// routes are the operations the fake serves, in the contract's own path syntax (Go's
// ServeMux reads the same wildcards).
var routes = []route{
	{"POST", "/repos/{owner}/{repo}/deployments", (*Server).createDeployment},
	{"GET", "/repos/{owner}/{repo}/deployments/{deployment_id}", (*Server).getDeployment},
	{"POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", (*Server).createStatus},
	{"GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", (*Server).listStatuses},
	{"POST", "/repos/{owner}/{repo}/statuses/{sha}", (*Server).createCommitStatus},
}

// NewServer starts the fake. It skips the test when RUNTIME_IDENTITY_CONTRACTS is unset.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		tb:        tb,
		spec:      contracttest.Load(tb, contracttest.GitHub),
		now:       time.Now,
		remaining: 5000,
		statuses:  map[int64][]Status{},
		lastID:    map[string]int64{},
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	for _, rt := range routes {
		mux.HandleFunc(rt.method+" "+rt.pattern, s.serve(rt))
	}
	mux.HandleFunc("/", s.serve(route{}))
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the API base URL, to pass to ghdeploy.New.
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// FailNext makes the next n requests matching f.Operation fail with f. Faults queue in the
// order given; each request takes the first matching fault with requests left.
func (s *Server) FailNext(n int, f Fault) {
	s.tb.Helper()
	if n < 1 {
		s.tb.Fatalf("ghdeploytest: FailNext(%d): n must be at least 1", n)
	}
	switch f.Kind {
	case SecondaryRateLimit, TooManyRequests, ValidationFailed, PrimaryRateLimit:
	case ServerError:
		if f.Status == 0 {
			f.Status = http.StatusBadGateway
		}
		if f.Status < 500 || f.Status > 599 {
			s.tb.Fatalf("ghdeploytest: FailNext: ServerError status %d is not 5xx", f.Status)
		}
	case Stall:
	case AutoMerged:
		if f.Operation == "" {
			f.Operation = "repos/create-deployment"
		}
		if f.Operation != "repos/create-deployment" {
			s.tb.Fatalf("ghdeploytest: FailNext: AutoMerged only answers repos/create-deployment, not %s", f.Operation)
		}
	default:
		s.tb.Fatalf("ghdeploytest: FailNext: unknown fault kind %d", f.Kind)
	}
	if f.Operation != "" && !s.knownOperation(f.Operation) {
		s.tb.Fatalf("ghdeploytest: FailNext: the fake serves no operation %q", f.Operation)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &pendingFault{Fault: f, left: n})
}

func (s *Server) knownOperation(id string) bool {
	for _, rt := range routes {
		if s.spec.OperationID(rt.method, rt.pattern) == id {
			return true
		}
	}
	return false
}

// Deployments returns the deployments created so far, oldest first.
func (s *Server) Deployments() []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Deployment, 0, len(s.deployments))
	for _, d := range s.deployments {
		out = append(out, *d)
	}
	return out
}

// Statuses returns the statuses of deployment id, oldest first.
func (s *Server) Statuses(id int64) []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses[id])
}

// CommitStatuses returns the commit statuses created so far, oldest first.
func (s *Server) CommitStatuses() []CommitStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commitStatuses)
}

// Calls returns every request received, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Operations returns the operationId of every request received, in order: the shortest way
// to assert the order of calls.
func (s *Server) Operations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.calls))
	for _, c := range s.calls {
		out = append(out, c.Operation)
	}
	return out
}

// statusRecorder keeps the status written, for Calls.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) serve(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			s.tb.Errorf("ghdeploytest: %s %s: unreadable or oversized body", r.Method, r.URL.Path)
			body = nil
		}
		rec := &statusRecorder{ResponseWriter: w}
		op := s.spec.OperationID(r.Method, r.URL.Path)
		defer func() {
			s.mu.Lock()
			s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Operation: op, Body: string(body), Status: rec.status})
			s.mu.Unlock()
		}()
		s.handle(rec, r, rt, body)
	}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, rt route, body []byte) {
	if rt.handle == nil {
		s.tb.Errorf("ghdeploytest: unexpected request %s %s: the fake serves no such route", r.Method, r.URL.Path)
		writeJSON(w, http.StatusNotFound, notFound())
		return
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") || len(auth) == len("Bearer ") {
		s.tb.Errorf("ghdeploytest: %s %s: no Bearer token", r.Method, r.URL.Path)
		writeJSON(w, http.StatusUnauthorized, basicError(http.StatusUnauthorized, "Requires authentication"))
		return
	}
	if s.token != "" && auth != "Bearer "+s.token {
		writeJSON(w, http.StatusUnauthorized, basicError(http.StatusUnauthorized, "Bad credentials"))
		return
	}
	if err := s.validate(r, body); err != nil {
		s.tb.Errorf("ghdeploytest: %s %s: request breaks the GitHub contract: %v", r.Method, r.URL.Path, err)
		writeJSON(w, http.StatusUnprocessableEntity, validationError("Invalid request.", nil))
		return
	}
	if f := s.takeFault(s.spec.OperationID(r.Method, r.URL.Path)); f != nil {
		s.writeFault(w, r, body, *f)
		return
	}
	rt.handle(s, w, r, body)
}

// validate checks the contract, then what GitHub enforces beyond it.
func (s *Server) validate(r *http.Request, body []byte) error {
	if len(body) > 0 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return fmt.Errorf("content type %q, want application/json", r.Header.Get("Content-Type"))
	}
	if err := s.spec.ValidateRequest(r, body); err != nil {
		return err
	}
	if s.spec.OperationID(r.Method, r.URL.Path) == "repos/create-deployment-status" {
		var req struct {
			Description *string `json:"description"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return err
		}
		if req.Description != nil && utf8.RuneCountInString(*req.Description) > MaxDescription {
			return fmt.Errorf("description has %d characters, more than %d", utf8.RuneCountInString(*req.Description), MaxDescription)
		}
	}
	return nil
}

func (s *Server) takeFault(op string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Operation != "" && f.Operation != op {
			continue
		}
		f.left--
		if f.left == 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return &f.Fault
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, body []byte, f Fault) {
	h := w.Header()
	if f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	if f.ResetIn != 0 || f.Kind == PrimaryRateLimit {
		reset := f.ResetIn
		if reset == 0 {
			reset = time.Hour
		}
		h.Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(reset).Unix(), 10))
	}
	msg := func(def string) string {
		if f.Message != "" {
			return f.Message
		}
		return def
	}
	switch f.Kind {
	case Stall:
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
			writeJSON(w, http.StatusGatewayTimeout, basicError(http.StatusGatewayTimeout, "stalled"))
		}
	case SecondaryRateLimit:
		writeJSON(w, http.StatusForbidden, map[string]any{
			"message":           msg("You have exceeded a secondary rate limit. Please wait a few minutes before you try again."),
			"documentation_url": docsRateLimits + "#about-secondary-rate-limits",
		})
	case TooManyRequests:
		writeJSON(w, http.StatusTooManyRequests, map[string]any{
			"message":           msg("You have exceeded a secondary rate limit. Please wait a few minutes before you try again."),
			"documentation_url": docsRateLimits + "#about-secondary-rate-limits",
		})
	case PrimaryRateLimit:
		h.Set("X-RateLimit-Limit", "5000")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", "5000")
		h.Set("X-RateLimit-Resource", "core")
		writeJSON(w, http.StatusForbidden, map[string]any{
			"message":           msg("API rate limit exceeded for installation ID 1."),
			"documentation_url": docsRateLimits + "#about-the-primary-rate-limit",
		})
	case ServerError:
		writeJSON(w, f.Status, basicError(f.Status, msg(http.StatusText(f.Status))))
	case ValidationFailed:
		writeJSON(w, http.StatusUnprocessableEntity, validationError(msg("Validation Failed"), []map[string]any{
			{"resource": "Deployment", "code": "custom", "message": "injected validation failure"},
		}))
	case AutoMerged:
		var req struct {
			Ref string `json:"ref"`
		}
		_ = json.Unmarshal(body, &req) // validated already
		writeJSON(w, http.StatusAccepted, map[string]any{
			"message": msg("Auto-merged main into " + req.Ref + " on deployment."),
		})
	}
}

var hexSHA = regexp.MustCompile(`^[0-9a-f]{40}$`)

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Ref                   string          `json:"ref"`
		Task                  *string         `json:"task"`
		AutoMerge             *bool           `json:"auto_merge"`
		RequiredContexts      *[]string       `json:"required_contexts"`
		Payload               json.RawMessage `json:"payload"`
		Environment           *string         `json:"environment"`
		Description           *string         `json:"description"`
		TransientEnvironment  *bool           `json:"transient_environment"`
		ProductionEnvironment *bool           `json:"production_environment"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, basicError(http.StatusBadRequest, "Problems parsing JSON"))
		return
	}
	d := &Deployment{
		Owner:            r.PathValue("owner"),
		Repo:             r.PathValue("repo"),
		Ref:              req.Ref,
		SHA:              req.Ref,
		Task:             deref(req.Task, "deploy"),
		Environment:      deref(req.Environment, "production"),
		Description:      deref(req.Description, ""),
		AutoMerge:        req.AutoMerge,
		RequiredContexts: req.RequiredContexts,
		Transient:        req.TransientEnvironment,
		Production:       req.ProductionEnvironment,
		CreatedAt:        s.now().UTC().Truncate(time.Second),
		Request:          slices.Clone(json.RawMessage(body)),
	}
	if len(req.Payload) > 0 && string(req.Payload) != "null" {
		d.Payload = slices.Clone(req.Payload)
	}
	if !hexSHA.MatchString(d.SHA) {
		sum := sha1.Sum([]byte(d.Ref))
		d.SHA = hex.EncodeToString(sum[:])
	}
	d.OriginalEnvironment = d.Environment
	s.mu.Lock()
	d.ID = s.newID("deployment")
	s.deployments = append(s.deployments, d)
	resp := s.deploymentJSON(d)
	s.mu.Unlock()
	w.Header().Set("Location", resp["url"].(string))
	s.writeOK(w, http.StatusCreated, resp)
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.mu.Lock()
	d := s.find(r)
	var resp map[string]any
	if d != nil {
		resp = s.deploymentJSON(d)
	}
	s.mu.Unlock()
	if d == nil {
		writeJSON(w, http.StatusNotFound, notFound())
		return
	}
	s.writeOK(w, http.StatusOK, resp)
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		State          string  `json:"state"`
		TargetURL      *string `json:"target_url"`
		LogURL         *string `json:"log_url"`
		Description    *string `json:"description"`
		Environment    *string `json:"environment"`
		EnvironmentURL *string `json:"environment_url"`
		AutoInactive   *bool   `json:"auto_inactive"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, basicError(http.StatusBadRequest, "Problems parsing JSON"))
		return
	}
	s.mu.Lock()
	d := s.find(r)
	if d == nil {
		s.mu.Unlock()
		writeJSON(w, http.StatusNotFound, notFound())
		return
	}
	st := Status{
		DeploymentID:   d.ID,
		State:          req.State,
		Description:    deref(req.Description, ""),
		Environment:    d.Environment,
		EnvironmentURL: deref(req.EnvironmentURL, ""),
		LogURL:         deref(req.LogURL, ""),
		TargetURL:      deref(req.LogURL, deref(req.TargetURL, "")),
		AutoInactive:   req.AutoInactive,
		CreatedAt:      s.now().UTC().Truncate(time.Second),
		Request:        slices.Clone(json.RawMessage(body)),
	}
	if req.Environment != nil {
		st.Environment = *req.Environment
		d.Environment = *req.Environment
	}
	st.ID = s.newID("status")
	s.statuses[d.ID] = append(s.statuses[d.ID], st)
	if st.State == "success" && deref(req.AutoInactive, true) {
		s.autoInactive(d)
	}
	resp := s.statusJSON(d, st)
	s.mu.Unlock()
	w.Header().Set("Location", resp["url"].(string))
	s.writeOK(w, http.StatusCreated, resp)
}

// autoInactive does what GitHub does on a success status with auto_inactive: prior
// deployments that reached success, are neither transient nor production and share the
// repository and environment get an inactive status. Callers hold s.mu.
func (s *Server) autoInactive(cur *Deployment) {
	for _, d := range s.deployments {
		if d.ID == cur.ID || d.Owner != cur.Owner || d.Repo != cur.Repo || d.Environment != cur.Environment {
			continue
		}
		if deref(d.Transient, false) || deref(d.Production, d.OriginalEnvironment == "production") {
			continue
		}
		sts := s.statuses[d.ID]
		if len(sts) == 0 || sts[len(sts)-1].State != "success" {
			continue
		}
		s.statuses[d.ID] = append(sts, Status{
			ID: s.newID("status"), DeploymentID: d.ID, State: "inactive", Environment: d.Environment,
			CreatedAt: s.now().UTC().Truncate(time.Second),
		})
	}
}

func (s *Server) listStatuses(w http.ResponseWriter, r *http.Request, _ []byte) {
	s.mu.Lock()
	d := s.find(r)
	var out []map[string]any
	if d != nil {
		sts := s.statuses[d.ID]
		out = make([]map[string]any, 0, len(sts))
		for i := len(sts) - 1; i >= 0; i-- { // newest first, as GitHub lists them
			out = append(out, s.statusJSON(d, sts[i]))
		}
	}
	s.mu.Unlock()
	if d == nil {
		writeJSON(w, http.StatusNotFound, notFound())
		return
	}
	s.writeOK(w, http.StatusOK, out)
}

func (s *Server) createCommitStatus(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		State       string  `json:"state"`
		TargetURL   *string `json:"target_url"`
		Description *string `json:"description"`
		Context     *string `json:"context"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, basicError(http.StatusBadRequest, "Problems parsing JSON"))
		return
	}
	cs := CommitStatus{
		Owner:       r.PathValue("owner"),
		Repo:        r.PathValue("repo"),
		SHA:         r.PathValue("sha"),
		State:       req.State,
		Context:     deref(req.Context, "default"),
		Description: deref(req.Description, ""),
		TargetURL:   deref(req.TargetURL, ""),
		CreatedAt:   s.now().UTC().Truncate(time.Second),
		Request:     slices.Clone(json.RawMessage(body)),
	}
	s.mu.Lock()
	cs.ID = s.newID("commit status")
	s.commitStatuses = append(s.commitStatuses, cs)
	s.mu.Unlock()
	base := s.srv.URL + "/repos/" + cs.Owner + "/" + cs.Repo
	resp := map[string]any{
		"url":         base + "/statuses/" + cs.SHA,
		"avatar_url":  nil,
		"id":          cs.ID,
		"node_id":     nodeID("SC", cs.ID),
		"state":       cs.State,
		"description": nullable(req.Description),
		"target_url":  nullable(req.TargetURL),
		"context":     cs.Context,
		"created_at":  cs.CreatedAt.Format(time.RFC3339),
		"updated_at":  cs.CreatedAt.Format(time.RFC3339),
		"creator":     s.user(),
	}
	w.Header().Set("Location", resp["url"].(string))
	s.writeOK(w, http.StatusCreated, resp)
}

// newID returns the next id of a kind. Callers hold s.mu.
func (s *Server) newID(kind string) int64 {
	s.lastID[kind]++
	return s.lastID[kind]
}

// find returns the deployment named by the request path, or nil. Callers hold s.mu.
func (s *Server) find(r *http.Request) *Deployment {
	id, err := strconv.ParseInt(r.PathValue("deployment_id"), 10, 64)
	if err != nil {
		return nil
	}
	for _, d := range s.deployments {
		if d.ID == id && d.Owner == r.PathValue("owner") && d.Repo == r.PathValue("repo") {
			return d
		}
	}
	return nil
}

func (s *Server) deploymentJSON(d *Deployment) map[string]any {
	repoURL := s.srv.URL + "/repos/" + d.Owner + "/" + d.Repo
	url := repoURL + "/deployments/" + strconv.FormatInt(d.ID, 10)
	var payload any = map[string]any{}
	if d.Payload != nil {
		payload = d.Payload
	}
	var desc any
	if d.Description != "" {
		desc = d.Description
	}
	return map[string]any{
		"url":                      url,
		"id":                       d.ID,
		"node_id":                  nodeID("DE", d.ID),
		"sha":                      d.SHA,
		"ref":                      d.Ref,
		"task":                     d.Task,
		"payload":                  payload,
		"original_environment":     d.OriginalEnvironment,
		"environment":              d.Environment,
		"description":              desc,
		"creator":                  s.user(),
		"created_at":               d.CreatedAt.Format(time.RFC3339),
		"updated_at":               d.CreatedAt.Format(time.RFC3339),
		"statuses_url":             url + "/statuses",
		"repository_url":           repoURL,
		"transient_environment":    deref(d.Transient, false),
		"production_environment":   deref(d.Production, d.OriginalEnvironment == "production"),
		"performed_via_github_app": nil,
	}
}

func (s *Server) statusJSON(d *Deployment, st Status) map[string]any {
	repoURL := s.srv.URL + "/repos/" + d.Owner + "/" + d.Repo
	depURL := repoURL + "/deployments/" + strconv.FormatInt(d.ID, 10)
	return map[string]any{
		"url":                      depURL + "/statuses/" + strconv.FormatInt(st.ID, 10),
		"id":                       st.ID,
		"node_id":                  nodeID("DES", st.ID),
		"state":                    st.State,
		"creator":                  s.user(),
		"description":              st.Description,
		"environment":              st.Environment,
		"target_url":               st.TargetURL,
		"created_at":               st.CreatedAt.Format(time.RFC3339),
		"updated_at":               st.CreatedAt.Format(time.RFC3339),
		"deployment_url":           depURL,
		"repository_url":           repoURL,
		"environment_url":          st.EnvironmentURL,
		"log_url":                  st.LogURL,
		"performed_via_github_app": nil,
	}
}

// user is the token's owner as GitHub shows it on created objects: the Actions bot.
func (s *Server) user() map[string]any {
	u := s.srv.URL + "/users/github-actions%5Bbot%5D"
	return map[string]any{
		"login": "github-actions[bot]", "id": 41898282, "node_id": "MDM6Qm90NDE4OTgyODI=",
		"avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4", "gravatar_id": "",
		"url": u, "html_url": "https://github.com/apps/github-actions",
		"followers_url": u + "/followers", "following_url": u + "/following{/other_user}",
		"gists_url": u + "/gists{/gist_id}", "starred_url": u + "/starred{/owner}{/repo}",
		"subscriptions_url": u + "/subscriptions", "organizations_url": u + "/orgs",
		"repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
		"received_events_url": u + "/received_events", "type": "Bot", "site_admin": false,
	}
}

// writeOK answers a served request with the usual rate-limit headers.
func (s *Server) writeOK(w http.ResponseWriter, status int, v any) {
	s.mu.Lock()
	if s.remaining > 1 {
		s.remaining--
	}
	remaining := s.remaining
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(5000-remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.now().Add(time.Hour).Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	writeJSON(w, status, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "ghdeploytest: encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func basicError(status int, msg string) map[string]any {
	return map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest", "status": strconv.Itoa(status)}
}

func notFound() map[string]any { return basicError(http.StatusNotFound, "Not Found") }

func validationError(msg string, errs []map[string]any) map[string]any {
	v := map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest/deployments/deployments"}
	if errs != nil {
		v["errors"] = errs
	}
	return v
}

func nodeID(prefix string, id int64) string {
	return prefix + "_kwDO" + strconv.FormatInt(id, 36)
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func nullable(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}
