// Package launchplanetest is a fake Launchplane HTTP API for tests, rebuilt from the service's
// own models so that it refuses what the real service refuses. It serves
//
//   - GET /v1/deployments/{record_id} (deployment.read),
//   - GET /v1/products/{product}/environments/{environment} (product_environment.read),
//   - GET /v1/product-profiles/{product} (product_profile.read; profile.go),
//   - POST /v1/drivers/generic-web/stable-verification (deployment.write),
//
// with the service's envelopes (trace_id on every answer), GitHub Actions OIDC bearer
// authentication verified against a fake issuer's JWKS (Issuer), the allow-list's matching rules,
// the stable-verification request model and its reclassification of health_payload, and the
// Idempotency-Key replay rules. It records every request, injects faults on demand, and fails
// the test loudly on a route it does not serve. It is test support: it imports testing and
// httptest and must never be linked into the shipped binary.
//
// Sources (cbusillo/launchplane), beyond those in model.go and records.go:
//   - control_plane/http_routes/operational_records.py @ 0b45f92d68a8b5c758a4fa2f812f1b87de40c717:
//     the deployment read (503 database_storage_required, 404 not_found, then 403
//     authorization_denied on deployment.read for product "launchplane", the record's context
//     and instance).
//   - control_plane/http_routes/generic_web.py @ 059f83d92bdd702642fedcc7e0e5c0ae13a0dc18: the
//     stable-verification handler's order: lane (403 product_driver_mismatch), authorization (403
//     authorization_denied), idempotency replay, apply (400 invalid_request), 202; a result is
//     stored for replay only without "fail" or "blocked" in it.
//   - control_plane/generic_web_verification_http.py @ 610ea1013bf1800ba84e0d6af6d74ed3a1291b39:
//     the lane lookup by stripped context and instance, the response records.
//   - control_plane/drivers/registry.py @ 00915efaa134ccf071dbddf63f3fdf9033d59872: the
//     stable_verification action's authz_action deployment.write, scope instance.
//   - control_plane/service_auth.py @ 02594f465f887a5effd4c0aa1b350e7c513d7ffc: Bearer parsing,
//     the OIDC verifier, GitHubActionsPolicyRule.allows (fnmatchcase on workflow refs, products,
//     contexts; exact repository, events, refs, environments, actions; instance selectors).
//   - control_plane/http_routes/mutation_support.py @ 0d96165c2fb73aed7390efebcf22f2b8dfcd3dfe:
//     idempotency_scope, replay_idempotent_response; the evidence routes' 409
//     idempotency_key_reused for a key reused with another fingerprint.
//   - control_plane/http_routes/products.py @ 00086a04be7571bd0de73ca06ca1993d4560cb78 and
//     contracts/product_environment_read_model.py @ 0d856d23c153b513e556a74dfe9315005d2ce7ee:
//     the product environment read and ProductEnvironmentDetail.
//   - The 401 envelope with WWW-Authenticate: Bearer realm="Launchplane API" is pinned by
//     Launchplane's service tests (tests/test_service*.py, index file version 57415647168).
//
// Not confirmed in the sources and modelled as stated: a product with no profile answers 404
// not_found (the handler delegates to a driver_dependency_response this fake could not read);
// a 401 comes before body validation (FastAPI resolves the identity dependency first); the
// accepted result holds deployment_record_id, deployment_health_status and, after a pass,
// inventory_record_id "<context>-<instance>".
package launchplanetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// RouteStableVerification is the stable-verification route.
const RouteStableVerification = "/v1/drivers/generic-web/stable-verification"

// maxBody bounds a request body the fake reads.
const maxBody = 8 << 20

// Server is the fake. Create it with NewServer; it closes itself when the test ends.
type Server struct {
	tb        testing.TB
	srv       *httptest.Server
	issuer    *Issuer
	keys      *jwks
	audience  string
	policy    Policy
	static    map[string]StaticRule
	noDB      bool
	echoToken bool
	now       func() time.Time

	mu            sync.Mutex
	trace         int
	records       map[string]*DeploymentRecord
	products      map[string]Product
	promotions    map[string]Promotion
	requests      []Request
	verifications []Verification
	idem          map[string]idemEntry
	faults        []fault
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // as sent, escaped
	Header http.Header
	Body   []byte
	// Status is the HTTP status the fake answered (0 for a dropped connection).
	Status int
	// Code is the error code of a rejected answer.
	Code string
}

// Verification is one stable verification the fake applied (a replay adds none).
type Verification struct {
	IdempotencyKey string
	// Request is the validated, normalised request.
	Request StableVerification
	// DeploymentHealthStatus is the health recorded on the deployment: pass or fail.
	DeploymentHealthStatus string
	// RuntimeIdentityStatus and RuntimeIdentityDetail are the fake's reclassification of
	// health_payload against the record's identity, as Launchplane's.
	RuntimeIdentityStatus string
	RuntimeIdentityDetail string
	// StructuredHealth is the payload's structured-health status.
	StructuredHealth string
	// Stored reports whether the answer was kept for idempotent replay.
	Stored bool
}

type idemEntry struct {
	fingerprint string
	traceID     string
	records     map[string]any
	result      map[string]any
}

type fault struct {
	status     int
	retryAfter string
	drop       bool // handle the request, then close the connection without answering
}

// Option configures a Server.
type Option func(*Server)

// WithIssuer trusts is as the GitHub OIDC issuer (its JWKS URL plays GitHub's); default: a new
// Issuer, available from Server.Issuer.
func WithIssuer(is *Issuer) Option { return func(s *Server) { s.issuer = is } }

// WithAudience sets the audience the server verifies (LAUNCHPLANE_SERVICE_AUDIENCE); default:
// the server's host, as Launchplane's docs recommend.
func WithAudience(aud string) Option { return func(s *Server) { s.audience = aud } }

// WithPolicy replaces the allow-list; default: AllowRepository for DefaultClaims' repository.
func WithPolicy(p Policy) Option { return func(s *Server) { s.policy = p } }

// WithStaticToken accepts tok as a configured bearer token (a local operator's), allowed what
// rule allows.
func WithStaticToken(tok string, rule StaticRule) Option {
	return func(s *Server) { s.static[tok] = rule }
}

// WithoutDatabase makes the record routes answer 503 database_storage_required, as an instance
// without its Postgres store does.
func WithoutDatabase() Option { return func(s *Server) { s.noDB = true } }

// WithEchoedToken makes error messages quote the Authorization header the request carried, as
// a careless server might, so tests can prove the client never lets it through.
func WithEchoedToken() Option { return func(s *Server) { s.echoToken = true } }

// WithNow replaces the clock that checks token expiry.
func WithNow(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// NewServer starts a fake on a loopback port and closes it on tb.Cleanup.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		tb:         tb,
		static:     map[string]StaticRule{},
		now:        time.Now,
		records:    map[string]*DeploymentRecord{},
		products:   map[string]Product{},
		promotions: map[string]Promotion{},
		idem:       map[string]idemEntry{},
		policy:     Policy{Rules: []Rule{AllowRepository(DefaultClaims().Repository)}},
	}
	for _, o := range opts {
		o(s)
	}
	if s.issuer == nil {
		s.issuer = NewIssuer(tb)
	}
	s.keys = &jwks{url: s.issuer.JWKSURL(), hc: s.issuer.httpClient()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/deployments/{record_id}", s.getDeployment)
	mux.HandleFunc("GET /v1/products/{product}/environments/{environment}", s.getEnvironment)
	mux.HandleFunc("GET /v1/product-profiles/{product}", s.getProfile)
	mux.HandleFunc("POST "+RouteStableVerification, s.postStableVerification)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.tb.Errorf("launchplanetest: unexpected request %s %s", r.Method, r.URL.Path)
		s.reject(w, r, http.StatusNotFound, "not_found", "Not Found")
	})
	s.srv = httptest.NewServer(s.wrap(mux))
	tb.Cleanup(s.srv.Close)
	if s.audience == "" {
		s.audience = strings.TrimPrefix(s.srv.URL, "http://")
	}
	return s
}

// URL returns the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// Audience returns the audience the server verifies.
func (s *Server) Audience() string { return s.audience }

// Issuer returns the OIDC issuer the server trusts.
func (s *Server) Issuer() *Issuer { return s.issuer }

// Token returns a valid OIDC token for DefaultClaims and the server's audience.
func (s *Server) Token() string {
	c := DefaultClaims()
	c.Audience = s.audience
	return s.issuer.Token(c)
}

// AddDeployment stores rec. A record whose identity Launchplane's model would refuse fails the
// test: the real service cannot hold one.
func (s *Server) AddDeployment(rec DeploymentRecord) {
	s.tb.Helper()
	if rec.RuntimeIdentity != nil {
		raw, _ := json.Marshal(rec.RuntimeIdentity)
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		_ = d.Decode(&v)
		if _, ok := runtimeIdentity(v); !ok {
			s.tb.Fatalf("launchplanetest: AddDeployment(%q): the runtime identity breaks Launchplane's model", rec.RecordID)
		}
	}
	if strings.TrimSpace(rec.RecordID) == "" || strip(rec.Context) == "" || strip(rec.Instance) == "" || strip(rec.SourceGitRef) == "" {
		s.tb.Fatalf("launchplanetest: AddDeployment(%q): record_id, context, instance and source_git_ref are required", rec.RecordID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := rec
	s.records[rec.RecordID] = &r
}

// AddIdentity stores NewRecord(id) and a generic-web product owning its lane, and returns the
// record id: the usual set-up of a verification test.
func (s *Server) AddIdentity(id identity.Identity) string {
	s.tb.Helper()
	s.AddDeployment(NewRecord(id))
	s.mu.Lock()
	p, ok := s.products[id.Product]
	s.mu.Unlock()
	if !ok {
		p = GenericWebProduct(id.Product, id.Context, id.Instance, "https://"+id.Product+".example.com")
	} else if !hasLane(p, id.Context, id.Instance) {
		p.Lanes = append(p.Lanes, Lane{Context: id.Context, Instance: id.Instance})
	}
	s.AddProduct(p)
	return id.DeploymentRecordID
}

func hasLane(p Product, context, instance string) bool {
	for _, l := range p.Lanes {
		if strip(l.Context) == strip(context) && strip(l.Instance) == strip(instance) {
			return true
		}
	}
	return false
}

// AddProduct stores a product profile, replacing one of the same product. A profile
// Launchplane's model would refuse fails the test: the real service cannot hold one.
func (s *Server) AddProduct(p Product) {
	s.tb.Helper()
	if err := checkProfile(p); err != nil {
		s.tb.Fatalf("launchplanetest: AddProduct(%q): %v", p.Product, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.products[p.Product] = p
}

// AddPromotion stores a promotion record.
func (s *Server) AddPromotion(p Promotion) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.promotions[p.RecordID] = p
}

// Deployment returns the stored record, as updated by accepted verifications.
func (s *Server) Deployment(recordID string) (DeploymentRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[recordID]
	if !ok {
		return DeploymentRecord{}, false
	}
	return *r, true
}

// FailNext makes the next n requests, whatever their route, answer status with a rejected
// envelope (code "injected_fault"). A 429 carries Retry-After: 1.
func (s *Server) FailNext(n, status int) {
	retryAfter := ""
	if status == http.StatusTooManyRequests {
		retryAfter = "1"
	}
	s.FailNextRetryAfter(n, status, retryAfter)
}

// FailNextRetryAfter is FailNext with the given Retry-After header ("" sends none).
func (s *Server) FailNextRetryAfter(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status, retryAfter: retryAfter})
	}
}

// DropNext makes the next n requests be handled in full (a verification is applied, and stored
// for replay when the rules say so) and then answered by closing the connection: the client
// sees a transport error for a write that landed.
func (s *Server) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{drop: true})
	}
}

// Requests returns every request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// Verifications returns each applied verification once, in order; a replay adds none.
func (s *Server) Verifications() []Verification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Verification(nil), s.verifications...)
}

// recorder buffers an answer so a dropped connection can discard it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// wrap records the request, applies injected faults, and answers through a recorder.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		idx := len(s.requests)
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
		var f *fault
		if len(s.faults) > 0 {
			f = &s.faults[0]
			s.faults = s.faults[1:]
		}
		s.mu.Unlock()
		rec := &recorder{header: http.Header{}}
		if f != nil && !f.drop {
			if f.retryAfter != "" {
				rec.Header().Set("Retry-After", f.retryAfter)
			}
			s.reject(rec, r, f.status, "injected_fault", "Injected failure.")
		} else {
			next.ServeHTTP(rec, r)
		}
		var code struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(rec.body.Bytes(), &code)
		s.mu.Lock()
		s.requests[idx].Status, s.requests[idx].Code = rec.status, code.Error.Code
		if f != nil && f.drop {
			s.requests[idx].Status = 0
		}
		s.mu.Unlock()
		if f != nil && f.drop {
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// nextTrace returns Launchplane's trace id form, launchplane_req_ and 32 hex digits.
func (s *Server) nextTrace() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trace++
	return fmt.Sprintf("launchplane_req_%032x", s.trace)
}

// reject writes LaunchplaneErrorResponse.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if s.echoToken {
		msg += " (you sent " + r.Header.Get("Authorization") + ")"
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Launchplane API"`)
	}
	writeJSON(w, status, orderedObject{
		{"status", "rejected"}, {"trace_id", s.nextTrace()},
		{"error", orderedObject{{"code", code}, {"message", msg}}},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := marshal(v)
	if err != nil {
		panic(fmt.Sprintf("launchplanetest: encode answer: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// caller is an authenticated LaunchplaneIdentity.
type caller struct {
	actions *actionsIdentity
	static  *StaticRule
	scope   string // idempotency_scope
}

// authenticate is read_bearer_token and the identity dependency: 401 authentication_required
// for a missing, malformed or unverified token.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*caller, bool) {
	header := strings.TrimSpace(r.Header.Get("Authorization"))
	if header == "" {
		s.reject(w, r, http.StatusUnauthorized, "authentication_required", "Authorization header is required.")
		return nil, false
	}
	scheme, tok, _ := strings.Cut(header, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "bearer") || tok == "" {
		s.reject(w, r, http.StatusUnauthorized, "authentication_required", "Authorization header must use Bearer token format.")
		return nil, false
	}
	if rule, ok := s.static[tok]; ok {
		return &caller{static: &rule, scope: "local-operator|" + rule.Subject + "|" + rule.TokenLabel}, true
	}
	id, msg := verifyToken(tok, s.keys, GitHubIssuer, s.audience, s.now())
	if msg != "" {
		s.reject(w, r, http.StatusUnauthorized, "authentication_required", msg)
		return nil, false
	}
	ref := id.WorkflowRef
	if ref == "" {
		ref = id.JobWorkflowRef
	}
	return &caller{actions: id, scope: id.Repository + "|" + ref + "|" + id.Subject}, true
}

// allows is authorization_allows for the caller.
func (s *Server) allows(c *caller, action, product, context string, instances ...string) bool {
	if c.static != nil {
		return c.static.allows(action, product, context, instances)
	}
	return s.policy.allows(c.actions, action, product, context, instances)
}

// startRead does what every record read does before it looks anything up: authenticate, refuse
// a path segment that is blank or holds white space (400), and answer 503 with noStore when
// there is no record store. It returns the caller and the path values of names, in order.
func (s *Server) startRead(w http.ResponseWriter, r *http.Request, noStore string, names ...string) (*caller, []string, bool) {
	c, ok := s.authenticate(w, r)
	if !ok {
		return nil, nil, false
	}
	vals := make([]string, len(names))
	for i, name := range names {
		if vals[i] = r.PathValue(name); !pathSegmentOK(vals[i]) {
			s.reject(w, r, http.StatusBadRequest, "invalid_request", "Request could not be completed.")
			return nil, nil, false
		}
	}
	if s.noDB {
		s.reject(w, r, http.StatusServiceUnavailable, "database_storage_required", noStore)
		return nil, nil, false
	}
	return c, vals, true
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) {
	c, vals, ok := s.startRead(w, r, "Launchplane record store does not support deployment record reads: read_deployment_record", "record_id")
	if !ok {
		return
	}
	id := vals[0]
	s.mu.Lock()
	rec, found := s.records[id]
	var obj orderedObject
	if found {
		obj = rec.object()
	}
	s.mu.Unlock()
	if !found {
		s.reject(w, r, http.StatusNotFound, "not_found", "Deployment record not found: "+id)
		return
	}
	if !s.allows(c, "deployment.read", "launchplane", rec.Context, rec.Instance) {
		s.reject(w, r, http.StatusForbidden, "authorization_denied", "Workflow cannot read deployment records for the requested context.")
		return
	}
	writeJSON(w, http.StatusOK, orderedObject{{"status", "ok"}, {"trace_id", s.nextTrace()}, {"record", obj}})
}

func (s *Server) getEnvironment(w http.ResponseWriter, r *http.Request) {
	c, vals, ok := s.startRead(w, r, "Launchplane record store does not support product environment reads.", "product", "environment")
	if !ok {
		return
	}
	product, environment := vals[0], vals[1]
	s.mu.Lock()
	p, found := s.products[product]
	var lane *Lane
	for i := range p.Lanes {
		if p.Lanes[i].Instance == environment {
			lane = &p.Lanes[i]
		}
	}
	var expected *identity.Identity
	if lane != nil {
		expected = s.currentIdentity(lane.Context, lane.Instance)
	}
	s.mu.Unlock()
	if !found {
		s.reject(w, r, http.StatusNotFound, "not_found", fmt.Sprintf("Product profile not found: %s", product))
		return
	}
	if lane == nil {
		s.reject(w, r, http.StatusNotFound, "not_found", fmt.Sprintf("Product '%s' has no environment '%s'.", product, environment))
		return
	}
	if !s.allows(c, "product_environment.read", p.Product, lane.Context, lane.Instance) {
		s.reject(w, r, http.StatusForbidden, "authorization_denied", "Workflow cannot read the requested product environment.")
		return
	}
	writeJSON(w, http.StatusOK, orderedObject{{"status", "ok"}, {"trace_id", s.nextTrace()}, {"environment", environmentDetail(p, *lane, expected)}})
}

// currentIdentity is the identity of the lane's latest record (by finish time); s.mu is held.
func (s *Server) currentIdentity(context, instance string) *identity.Identity {
	var best *DeploymentRecord
	for _, r := range s.records {
		if r.Context == context && r.Instance == instance && (best == nil || r.FinishedAt > best.FinishedAt) {
			best = r
		}
	}
	if best == nil || best.RuntimeIdentity == nil {
		return nil
	}
	id := *best.RuntimeIdentity
	return &id
}

// environmentDetail is ProductEnvironmentDetail for a lane. The topology is left empty: its
// model was not read.
func environmentDetail(p Product, lane Lane, expected *identity.Identity) orderedObject {
	trust := "missing"
	var exp any
	if expected != nil {
		exp, trust = *expected, "recorded"
	}
	provenance := orderedObject{
		{"source_kind", "record"}, {"source_record_id", lane.Context + "-" + lane.Instance}, {"recorded_at", ""},
		{"refreshed_at", ""}, {"freshness_status", trust}, {"stale_after", ""}, {"detail", ""},
	}
	return orderedObject{
		{"schema_version", 1}, {"product", p.Product}, {"display_name", p.DisplayName},
		{"repository", p.Repository}, {"driver_id", p.DriverID}, {"base_driver_id", ""},
		{"environment", lane.Instance}, {"context", lane.Context},
		{"base_url", lane.BaseURL}, {"health_url", lane.HealthURL},
		{"driver_extensions", orderedObject{{"odoo", nil}}},
		{"target", orderedObject{
			{"provider", "dokploy"}, {"target_type", "application"}, {"target_name", lane.Context + "-" + lane.Instance},
			{"provider_target_type", "application"}, {"target_id_recorded", true}, {"artifact_manifest", nil},
			{"expected_runtime_identity", exp}, {"observed_runtime_identity", nil},
			{"runtime_identity_status", "unchecked"}, {"runtime_identity_detail", ""}, {"trust_state", trust},
		}},
		{"topology", orderedObject{}},
		{"health_monitoring", orderedObject{
			{"monitoring_intent", "prelaunch"}, {"public_incident_eligible", false}, {"checks", []any{}},
			{"trust_state", "recorded"}, {"provenance", provenance},
		}},
		{"public_ingress", orderedObject{{"monitoring_intent", "prelaunch"}, {"incident_eligible", false}, {"status", "missing"}, {"trust_state", "missing"}}},
		{"runtime_settings", []any{}}, {"managed_secrets", []any{}}, {"available_actions", []any{}},
		{"warnings", []any{}}, {"trust_state", trust}, {"provenance", provenance},
	}
}

func (s *Server) postStableVerification(w http.ResponseWriter, r *http.Request) {
	c, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	body, _ := io.ReadAll(r.Body)
	req, err := s.validate(r, body)
	if err != nil {
		s.tb.Logf("launchplanetest: stable verification refused: %v", err)
		s.reject(w, r, http.StatusBadRequest, "invalid_request", "Request payload failed validation.")
		return
	}
	if s.noDB {
		s.reject(w, r, http.StatusServiceUnavailable, "database_storage_required", "Product driver validation requires product profile storage.")
		return
	}
	s.mu.Lock()
	p, found := s.products[strings.TrimSpace(req.Product)]
	s.mu.Unlock()
	if !found {
		s.reject(w, r, http.StatusNotFound, "not_found", "No Launchplane route for "+RouteStableVerification+".")
		return
	}
	var lane *Lane
	if p.DriverID == "generic-web" {
		for i := range p.Lanes {
			if strip(p.Lanes[i].Context) == strip(req.Context) && strip(p.Lanes[i].Instance) == strip(req.Instance) {
				lane = &p.Lanes[i]
				break
			}
		}
	}
	if lane == nil {
		s.reject(w, r, http.StatusForbidden, "product_driver_mismatch", "Product is not configured for the requested driver route.")
		return
	}
	if !s.allows(c, "deployment.write", p.Product, lane.Context, lane.Instance) {
		s.reject(w, r, http.StatusForbidden, "authorization_denied", "Workflow cannot write generic web stable verification for the requested product/context.")
		return
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	parsed, _ := loadJSON(body)
	fp := fingerprint(parsed)
	idemKey := c.scope + "\n" + RouteStableVerification + "\n" + key
	if key != "" {
		s.mu.Lock()
		prev, seen := s.idem[idemKey]
		s.mu.Unlock()
		if seen {
			if prev.fingerprint != fp {
				s.reject(w, r, http.StatusConflict, "idempotency_key_reused", "Idempotency-Key was already used for a different Launchplane request payload on this route.")
				return
			}
			writeJSON(w, http.StatusAccepted, accepted(s.nextTrace(), prev.records, prev.result, prev.traceID))
			return
		}
	}
	result, v, err := s.apply(req)
	if err != nil {
		s.tb.Logf("launchplanetest: stable verification not applied: %v", err)
		s.reject(w, r, http.StatusBadRequest, "invalid_request", "Request could not be completed.")
		return
	}
	trace := s.nextTrace()
	records := responseRecords(result)
	v.IdempotencyKey = key
	v.Stored = key != "" && !containsStatus(result, "blocked") && !containsStatus(result, "fail")
	s.mu.Lock()
	if v.Stored {
		s.idem[idemKey] = idemEntry{fingerprint: fp, traceID: trace, records: records, result: result}
	}
	s.verifications = append(s.verifications, v)
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, accepted(trace, records, result, ""))
}

// validate applies the request model. As FastAPI does, it reads the body as JSON when the
// Content-Type is absent, application/json or application/*+json; any other type leaves raw
// bytes the model refuses.
func (s *Server) validate(r *http.Request, body []byte) (*StableVerification, error) {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	if ct != "" && ct != "application/json" && !(strings.HasPrefix(ct, "application/") && strings.HasSuffix(ct, "+json")) {
		return nil, invalid("content type %q is not JSON", ct)
	}
	return ValidateStableVerification(body)
}

// apply is _apply_generic_web_stable_verification_records: the record must exist and agree on
// context and instance, the payload must pass the identity check, and the health evidence is
// written to the record (and the promotion).
func (s *Server) apply(req *StableVerification) (map[string]any, Verification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[req.DeploymentRecordID]
	switch {
	case !ok:
		return nil, Verification{}, invalid("no deployment record %s", req.DeploymentRecordID)
	case rec.Context != req.Context:
		return nil, Verification{}, invalid("context does not match deployment record context")
	case rec.Instance != req.Instance:
		return nil, Verification{}, invalid("instance does not match deployment record instance")
	}
	if err := payloadAccepted(req, rec.RuntimeIdentity); err != nil {
		return nil, Verification{}, err
	}
	health := structuredHealth(req.HealthPayload)
	status := req.VerificationStatus
	if health == healthFail || health == healthMalformed {
		status = "fail"
	}
	st, detail, observed := classify(rec.RuntimeIdentity, req.HealthPayload)
	switch st {
	case "malformed", "mismatch", "missing", "unverifiable":
		status = "fail"
	}
	promotionID := strings.TrimSpace(req.PromotionRecordID)
	var promo Promotion
	if promotionID != "" {
		promo, ok = s.promotions[promotionID]
		switch {
		case !ok:
			return nil, Verification{}, invalid("no promotion record %s", promotionID)
		case promo.Context != req.Context:
			return nil, Verification{}, invalid("context does not match promotion record context")
		case promo.ToInstance != req.Instance:
			return nil, Verification{}, invalid("instance does not match promotion destination instance")
		case strings.TrimSpace(promo.DeploymentRecordID) != "" && strings.TrimSpace(promo.DeploymentRecordID) != req.DeploymentRecordID:
			return nil, Verification{}, invalid("deployment_record_id does not match linked promotion record")
		}
	}
	ev := HealthcheckEvidence{
		Verified: len(req.CheckedURLs) > 0, URLs: append([]string{}, req.CheckedURLs...), Status: status,
		RuntimeIdentityStatus: st, RuntimeIdentityDetail: detail,
		StructuredHealth: StructuredHealthRow{Status: health, Components: []string{}},
	}
	if len(req.CheckedURLs) > 0 && req.TimeoutSeconds != nil && req.TimeoutSeconds.IsInt64() {
		t := req.TimeoutSeconds.Int64()
		ev.TimeoutSeconds = &t
	}
	if observed != nil {
		ev.ObservedIdentity = map[string]any{}
		for k, v := range observed {
			ev.ObservedIdentity[k] = v
		}
	}
	rec.Health = ev
	result := map[string]any{"deployment_record_id": rec.RecordID, "deployment_health_status": status}
	if status == "pass" {
		result["inventory_record_id"] = rec.Context + "-" + rec.Instance
	}
	if promotionID != "" {
		result["promotion_record_id"] = promotionID
		result["promotion_health_status"] = status
	}
	return result, Verification{
		Request: *req, DeploymentHealthStatus: status, RuntimeIdentityStatus: st,
		RuntimeIdentityDetail: detail, StructuredHealth: health,
	}, nil
}

// responseRecords is generic_web_verification_response_records.
func responseRecords(result map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"deployment_record_id", "generation_id", "inventory_record_id", "preview_generation_id", "preview_id", "preview_state", "promotion_record_id", "transition", "verification_status", "verified_at"} {
		if v, ok := result[k]; ok {
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}

// accepted is AcceptedEvidenceResponse (response_model_exclude_none: replayed and
// original_trace_id appear only on a replay).
func accepted(trace string, records, result map[string]any, originalTrace string) orderedObject {
	out := orderedObject{{"status", "accepted"}, {"trace_id", trace}, {"records", records}, {"result", result}}
	if originalTrace != "" {
		out = append(out, field{"replayed", true}, field{"original_trace_id", originalTrace})
	}
	return out
}
