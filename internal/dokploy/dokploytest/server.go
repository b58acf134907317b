// Package dokploytest is a faithful fake of Dokploy v0.30.2's HTTP API for tests and the demo.
//
// It reproduces the behaviour listed in section 13 of the project's Dokploy reference: dot-path
// routing (/api/<router>.<procedure>), GET queries and JSON POST mutations, the 401 before
// routing, 404 NOT_FOUND after it, 415 for non-JSON POSTs, tRPC-shaped zod validation errors,
// silent stripping of unknown keys, secrets returned verbatim by one, an empty body from
// application deploy, the queued object from compose deploy, delayed row creation (first no row,
// then a row already running, then done or error), rows newest first capped at 10 (+1),
// title overwrite on git deploys, queueList, readLogs as a plain string, and unknown statuses.
//
// Beyond that list it has what Dokploy does around a deployment: one returns the service's
// environment and project with their env, and the env a tenant gets has its ${{project.KEY}},
// ${{environment.KEY}} and ${{KEY}} references resolved (an unresolved one fails the
// deployment); application.search and compose.search find services by name; applications with
// rollbacks on record a snapshot per deployment, deployment.allByType shows it, and
// rollback.rollback restarts the tenant with it at once (rollback.delete removes it).
//
// Deploying really restarts a tenant: each service has a stable loopback tenant URL, a reverse
// proxy in front of the service's backends. A deployment launches a new backend with the env
// held when it was triggered, marks the row done, keeps serving the old backend for
// Options.StaleWindow, alternates old and new for Options.MixedWindow when the service has
// more than one replica, and then serves only the new one and stops the old once the requests
// it is answering end.
//
// Every request is checked against Dokploy's OpenAPI document when Options.Validator is set
// (tests pass a *contracttest.Spec); a request that does not fit is recorded (Violations) and
// reported through Options.OnViolation. The fake then answers it as Dokploy would when Dokploy
// would reject it too (401, 404, 415, 400 with zod issues); otherwise it answers 400 with a
// message naming the contract violation.
//
// The fake is production code: the demo in the shipped binary runs it. It therefore imports no
// test support (no testing, no httptest, no contract validator); it listens with net.Listen on
// loopback and serves with http.Server.
//
// Faults are switched on by methods that are safe for concurrent use.
package dokploytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultAPIKey is the key the fake accepts when Options.APIKey is empty.
const DefaultAPIKey = "dokploytest-key"

// Options configure a Server. Zero durations are allowed and make the step immediate.
type Options struct {
	// APIKey is the only x-api-key accepted (default DefaultAPIKey).
	APIKey string
	// Addr is the API's listen address (default 127.0.0.1:0, a free loopback port). Tenant
	// URLs listen on free ports of the same host.
	Addr string
	// PublicHost, when set, is the host URL and TenantURL name instead of the one listened on:
	// for clients that reach the fake through another address, such as a container action
	// reaching the runner through its Docker network's gateway.
	PublicHost string
	// Validator, when set, checks every request against the Dokploy OpenAPI document.
	Validator Validator
	// OnViolation, when set, hears of every contract violation (tests pass a func calling
	// t.Errorf). The message never holds a request value.
	OnViolation func(msg string)
	// Launcher starts tenant processes. Nil: deployments run without backends and tenant URLs
	// answer 503.
	Launcher Launcher

	// RowDelay is the time from a job becoming active to its row appearing (already running).
	RowDelay time.Duration
	// RunDuration is the time from the new backend listening to the row turning done (or, for
	// a failing deployment, from the row appearing to error).
	RunDuration time.Duration
	// StaleWindow is how long after done the tenant URL keeps serving only the old backend.
	StaleWindow time.Duration
	// MixedWindow is how long after the stale window a service with Replicas > 1 alternates
	// old and new backends per request.
	MixedWindow time.Duration
	// LostJobLinger is how long a lost job stays in queueList before vanishing (default
	// RowDelay).
	LostJobLinger time.Duration
	// StatusHold is how long an injected unknown status lasts before the row turns running
	// (default RowDelay).
	StatusHold time.Duration
	// LaunchTimeout bounds one backend start (default 15s).
	LaunchTimeout time.Duration

	// Now is the clock for timestamps (default time.Now).
	Now func() time.Time
}

// Validator checks one request against an API contract. *contracttest.Spec implements it; the
// interface keeps the validator, and its dependencies, out of the code the binary links.
type Validator interface {
	// ValidateRequest reports why r, whose body is body, does not fit the contract (nil when
	// it fits). r.Body is not read.
	ValidateRequest(r *http.Request, body []byte) error
	// HasOperation reports whether the contract defines method on path.
	HasOperation(method, path string) bool
}

// RecordedRequest is one API request as received, for leak and call-count tests.
type RecordedRequest struct {
	Method string
	Path   string
	Query  string // raw query string
	Body   string
	Header http.Header
}

// Server is a running fake Dokploy. Create it with New and end it with Close.
type Server struct {
	opts       Options
	api        *loopServer
	tenantAddr string // where tenant proxies listen
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	transport  *http.Transport

	mu         sync.Mutex
	closed     bool
	started    bool
	services   map[string]*service
	order      []string
	rows       map[string]*row
	jobs       []*job
	jobSeq     int
	rowSeq     int
	reqCount   int
	requests   []RecordedRequest
	calls      map[string]int
	writes     int
	violations []string
	faults     faults
	backends   map[Backend]bool
	denied     map[string]bool
	hidden     map[string]bool // left out of search (Dokploy issue #5361)

	projects     map[string]*project
	environments map[string]*environment
	rollbacks    map[string]*rollbackRecord
	rollbackSeq  int
	foreign      map[string]*service // by kind: the owner of leaked rows
}

// New starts a fake Dokploy listening on Options.Addr (a free loopback port by default). Add
// services, then call Start; Close ends it.
func New(opts Options) (*Server, error) {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LostJobLinger == 0 {
		opts.LostJobLinger = opts.RowDelay
	}
	if opts.StatusHold == 0 {
		opts.StatusHold = opts.RowDelay
	}
	if opts.LaunchTimeout == 0 {
		opts.LaunchTimeout = 15 * time.Second
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("dokploytest: Addr: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:      opts,
		ctx:       ctx,
		cancel:    cancel,
		transport: &http.Transport{DisableKeepAlives: true},
		services:  map[string]*service{},
		rows:      map[string]*row{},
		calls:     map[string]int{},
		backends:  map[Backend]bool{},
		denied:    map[string]bool{},
		hidden:    map[string]bool{},

		projects:     map[string]*project{},
		environments: map[string]*environment{},
		rollbacks:    map[string]*rollbackRecord{},
		foreign:      map[string]*service{},
		tenantAddr:   net.JoinHostPort(host, "0"),
	}
	s.environmentLocked(DefaultEnvironmentID, DefaultProjectID)
	api, err := listen(opts.Addr, opts.PublicHost, http.HandlerFunc(s.serveAPI))
	if err != nil {
		cancel()
		return nil, fmt.Errorf("dokploytest: %w", err)
	}
	s.api = api
	return s, nil
}

// URL is the instance base URL (the API lives under URL()+"/api/").
func (s *Server) URL() string { return s.api.url }

// APIKey is the accepted key.
func (s *Server) APIKey() string { return s.opts.APIKey }

// Start launches each service's first backend with its current env (references resolved; an
// unresolved one is an error), so a tenant serves before any deploy. Services added later
// start when added.
func (s *Server) Start() error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("dokploytest: already started")
	}
	s.started = true
	var svcs []*service
	for _, id := range s.order {
		svcs = append(svcs, s.services[id])
	}
	s.mu.Unlock()
	for _, svc := range svcs {
		if err := s.startService(svc); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) startService(svc *service) error {
	if s.opts.Launcher == nil {
		return nil
	}
	s.mu.Lock()
	vars, err := s.processEnvLocked(svc)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("dokploytest: start %s: %w", svc.id, err)
	}
	b, err := s.launch(envList(vars))
	if err != nil {
		return fmt.Errorf("dokploytest: start %s: %w", svc.id, err)
	}
	svc.tenant.rollout(b, 0, 0, 1)
	return nil
}

// launch starts a backend and registers it so Close stops it.
func (s *Server) launch(env []string) (Backend, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.LaunchTimeout)
	defer cancel()
	b, err := s.opts.Launcher.Launch(ctx, env)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = b.Stop()
		return nil, errors.New("dokploytest: server closed")
	}
	s.backends[b] = true
	s.mu.Unlock()
	return b, nil
}

// stopBackend stops b and forgets it.
func (s *Server) stopBackend(b Backend) {
	_ = b.Stop()
	s.mu.Lock()
	delete(s.backends, b)
	s.mu.Unlock()
}

// enter registers a request handler Close waits for; after Close it reports false.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// goAsync runs f in a goroutine Close waits for; after Close it does nothing.
func (s *Server) goAsync(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// Close stops the API, every worker, every tenant proxy and every backend process.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.api.close()
	s.wg.Wait()
	s.mu.Lock()
	var tenants []*tenant
	for _, id := range s.order {
		tenants = append(tenants, s.services[id].tenant)
	}
	var bs []Backend
	for b := range s.backends {
		bs = append(bs, b)
	}
	s.mu.Unlock()
	for _, t := range tenants {
		t.close()
	}
	var wg sync.WaitGroup
	for _, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.stopBackend(b)
		}()
	}
	wg.Wait()
	s.transport.CloseIdleConnections()
}

// Running reports how many backends are live (launched and not yet stopped).
func (s *Server) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.backends)
}

// Writes counts every POST the API received, rejected ones included.
func (s *Server) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// Requests returns a copy of every API request received, in order.
func (s *Server) Requests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RecordedRequest, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Calls counts the requests received for op ("application.one"), whatever their outcome.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Violations lists the requests that did not fit the OpenAPI document or the fake's routes.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

func (s *Server) violate(msg string) {
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.mu.Unlock()
	if s.opts.OnViolation != nil {
		s.opts.OnViolation(msg)
	}
}

// sleep waits d unless the server or ctx ends first; it reports whether the full wait passed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil && ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	case <-ctx.Done():
		return false
	}
}

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

// ---- request pipeline ----

// trpcError is an error answer in tRPC's shape.
type trpcError struct {
	status  int
	code    string
	message string
	issues  []zodIssue
}

func (e *trpcError) body(op string) any {
	var zod any
	if e.issues != nil {
		zod = flatten(e.issues)
	}
	m := map[string]any{
		"message": e.message,
		"code":    e.code,
		"data": map[string]any{
			"code":       e.code,
			"httpStatus": e.status,
			"path":       op,
			"zodError":   zod,
		},
	}
	if e.issues != nil {
		m["issues"] = e.issues
	}
	return m
}

func notFound(what string) *trpcError {
	return &trpcError{status: http.StatusNotFound, code: "NOT_FOUND", message: what + " not found"}
}

// accessDenied is the in-procedure permission failure a member meets: 401, tRPC-shaped.
func accessDenied() *trpcError {
	return &trpcError{status: http.StatusUnauthorized, code: "UNAUTHORIZED", message: "You don't have access to this service"}
}

// internalError is tRPC's answer to an exception that is not a TRPCError.
func internalError() *trpcError {
	return &trpcError{status: http.StatusInternalServerError, code: "INTERNAL_SERVER_ERROR", message: "Internal server error"}
}

func badInput(issues []zodIssue) *trpcError {
	return &trpcError{status: http.StatusBadRequest, code: "BAD_REQUEST", message: "Input validation failed", issues: issues}
}

// emptyBody marks a procedure result of undefined: 200 with no body.
type emptyBody struct{}

func writeJSON(w http.ResponseWriter, status int, v any, charset bool) {
	data, err := json.Marshal(v)
	if err != nil {
		status, data = http.StatusInternalServerError, []byte(`{"message":"Internal server error","code":"INTERNAL_SERVER_ERROR"}`)
	}
	ct := "application/json"
	if charset {
		ct += "; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	// Close waits for every handler; after Close nothing is served.
	if !s.enter() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"message": "Service unavailable", "code": "INTERNAL_SERVER_ERROR"}, false)
		return
	}
	defer s.wg.Done()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	op := strings.TrimPrefix(r.URL.Path, "/api/")
	isAPI := strings.HasPrefix(r.URL.Path, "/api/") && op != ""

	s.mu.Lock()
	s.reqCount++
	n := s.reqCount
	s.requests = append(s.requests, RecordedRequest{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: string(body), Header: r.Header.Clone(),
	})
	if isAPI {
		s.calls[op]++
	}
	if r.Method == http.MethodPost {
		s.writes++
	}
	stall := s.faults.stallFrom > 0 && n >= s.faults.stallFrom
	fail5xx := false
	if !stall && s.faults.fail5xx > 0 {
		s.faults.fail5xx--
		fail5xx = true
	}
	delay := s.faults.delay
	unauthorized := s.faults.unauthorizedFrom > 0 && n >= s.faults.unauthorizedFrom
	s.mu.Unlock()

	if stall {
		// A Dokploy that stopped answering: hold the request until the client gives up or the
		// fake closes, and answer nothing.
		select {
		case <-r.Context().Done():
		case <-s.ctx.Done():
		}
		// Drop the connection without a status line, as a dead server does.
		panic(http.ErrAbortHandler)
	}

	contractErr := ""
	if s.opts.Validator != nil {
		if err := s.opts.Validator.ValidateRequest(r, body); err != nil {
			contractErr = err.Error()
			s.violate(fmt.Sprintf("dokploytest: request %d (%s %s) violates the OpenAPI contract: %v", n, r.Method, r.URL.Path, err))
		}
	}

	if delay > 0 && !s.sleep(r.Context(), delay) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"message": "Service unavailable", "code": "INTERNAL_SERVER_ERROR"}, false)
		return
	}
	if fail5xx {
		writeJSON(w, http.StatusInternalServerError, internalError().body(op), false)
		return
	}
	if unauthorized || !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Unauthorized"}, true)
		return
	}
	proc, ok := procedures[op]
	if !isAPI || !ok || proc.method != r.Method {
		if isAPI && !ok && s.opts.Validator != nil && s.opts.Validator.HasOperation(r.Method, r.URL.Path) {
			s.violate(fmt.Sprintf("dokploytest: request %d: %s %s is in the contract but the fake does not implement it", n, r.Method, r.URL.Path))
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not found", "code": "NOT_FOUND"}, false)
		return
	}
	var raw map[string]any
	fromQuery := r.Method == http.MethodGet
	if fromQuery {
		raw = map[string]any{}
		for k, v := range r.URL.Query() {
			if len(v) > 0 {
				raw[k] = v[0]
			}
		}
	} else {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]any{
				"message": fmt.Sprintf("Unsupported content-type \"%s\"", mt), "code": "UNSUPPORTED_MEDIA_TYPE",
			}, false)
			return
		}
		var v any
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &v); err != nil {
				writeJSON(w, http.StatusBadRequest, (&trpcError{status: 400, code: "PARSE_ERROR", message: "Failed to parse request body"}).body(op), false)
				return
			}
		}
		obj, isObj := v.(map[string]any)
		if !isObj {
			e := badInput([]zodIssue{{Expected: "object", Code: "invalid_type", Path: []any{},
				Message: "Invalid input: expected object, received " + received(v, v != nil)}})
			writeJSON(w, e.status, e.body(op), false)
			return
		}
		raw = obj
	}
	in, issues := parse(proc.fields, raw, fromQuery)
	if len(issues) > 0 {
		e := badInput(issues)
		writeJSON(w, e.status, e.body(op), false)
		return
	}
	if contractErr != "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"message": "dokploytest: request violates the Dokploy OpenAPI contract (see the test log)",
			"code":    "BAD_REQUEST",
		}, false)
		return
	}
	out, terr := proc.handle(s, in)
	if terr != nil {
		writeJSON(w, terr.status, terr.body(op), false)
		return
	}
	if _, ok := out.(emptyBody); ok {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, out, false)
}

func (s *Server) authorized(r *http.Request) bool {
	return r.Header.Get("x-api-key") == s.opts.APIKey
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
