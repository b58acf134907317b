// Package launchplanetest is a fake Launchplane HTTP API for tests: GET /v1/deployments/{record_id}
// and POST /v1/drivers/generic-web/stable-verification, with Launchplane's envelopes, bearer
// authentication and Idempotency-Key semantics. It records every request, fails on demand, and
// fails the test loudly on a route it does not serve.
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

// maxBody bounds a request body the fake reads.
const maxBody = 1 << 20

// Server is the fake. Create it with NewServer; it closes itself when the test ends.
type Server struct {
	tb        testing.TB
	srv       *httptest.Server
	token     string
	echoToken bool

	mu            sync.Mutex
	trace         int
	records       map[string]json.RawMessage
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
}

// Verification is one accepted stable verification: the Idempotency-Key and the body.
type Verification struct {
	IdempotencyKey string
	Product        string
	// Verification is the body's verification object.
	Verification map[string]any
	// RuntimeIdentityStatus is how the fake classified health_payload against the recorded
	// identity, as Launchplane reclassifies it.
	RuntimeIdentityStatus identity.Status
}

type idemEntry struct {
	payload []byte // canonical JSON of the body
	status  int
	answer  []byte
}

type fault struct {
	status     int
	retryAfter string
}

// Option configures a Server.
type Option func(*Server)

// WithToken makes the server require "Authorization: Bearer <tok>"; any other request gets a
// 401 rejected envelope. Without it any non-empty bearer token is accepted.
func WithToken(tok string) Option { return func(s *Server) { s.token = tok } }

// WithEchoedToken makes error messages quote the bearer token the request carried, as a
// careless server might, so tests can prove the client never lets it through.
func WithEchoedToken() Option { return func(s *Server) { s.echoToken = true } }

// NewServer starts a fake on a loopback port and closes it on tb.Cleanup.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{
		tb:      tb,
		records: map[string]json.RawMessage{},
		idem:    map[string]idemEntry{},
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/deployments/{record_id}", s.getDeployment)
	mux.HandleFunc("POST /v1/drivers/generic-web/stable-verification", s.postVerification)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.tb.Errorf("launchplanetest: unexpected request %s %s", r.Method, r.URL.Path)
		s.reject(w, r, http.StatusNotFound, "not_found", "no such route")
	})
	s.srv = httptest.NewServer(s.wrap(mux))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL returns the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// AddDeployment stores record (a deployment record object) under recordID.
func (s *Server) AddDeployment(recordID string, record map[string]any) {
	s.tb.Helper()
	raw, err := json.Marshal(record)
	if err != nil {
		s.tb.Fatalf("launchplanetest: AddDeployment(%q): %v", recordID, err)
	}
	s.mu.Lock()
	s.records[recordID] = raw
	s.mu.Unlock()
}

// AddIdentity stores a realistic deployment record carrying id as its runtime_identity
// object, under id.DeploymentRecordID, and returns that record id.
func (s *Server) AddIdentity(id identity.Identity) string {
	s.tb.Helper()
	s.AddDeployment(id.DeploymentRecordID, Record(id))
	return id.DeploymentRecordID
}

// Record returns a deployment record shaped like Launchplane's, carrying id as its
// runtime_identity object. Tests edit it to build odd records.
func Record(id identity.Identity) map[string]any {
	deployedAt := id.DeployedAt
	if deployedAt == "" {
		deployedAt = "2026-05-10T14:15:00Z"
	}
	return map[string]any{
		"deployment_record_id": id.DeploymentRecordID,
		"product":              id.Product,
		"context":              id.Context,
		"instance":             id.Instance,
		"environment_kind":     id.EnvironmentKind,
		"artifact_id":          id.ArtifactID,
		"source_git_ref":       id.SourceGitRef,
		"deployed_at":          deployedAt,
		"runtime_identity":     json.RawMessage(id.Canonical()),
		"deploy": map[string]any{
			"deployment_id": "control-plane-dokploy",
			"status":        "pass",
			"started_at":    deployedAt,
			"finished_at":   deployedAt,
		},
	}
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
		s.faults = append(s.faults, fault{status, retryAfter})
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

// Verifications returns each accepted verification once, in order; an idempotent replay
// adds none.
func (s *Server) Verifications() []Verification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Verification(nil), s.verifications...)
}

// wrap records the request, applies injected faults, then authenticates.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
		var f *fault
		if len(s.faults) > 0 {
			f = &s.faults[0]
			s.faults = s.faults[1:]
		}
		s.mu.Unlock()
		if f != nil {
			if f.retryAfter != "" {
				w.Header().Set("Retry-After", f.retryAfter)
			}
			s.reject(w, r, f.status, "injected_fault", "injected failure")
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" || (s.token != "" && tok != s.token) {
			s.reject(w, r, http.StatusUnauthorized, "unauthorized", "the bearer token was not accepted")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) nextTrace() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trace++
	return fmt.Sprintf("trace-%06d", s.trace)
}

// reject writes a rejected envelope.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if s.echoToken {
		msg += " (you sent " + r.Header.Get("Authorization") + ")"
	}
	writeJSON(w, status, map[string]any{
		"status":   "rejected",
		"trace_id": s.nextTrace(),
		"error":    map[string]any{"code": code, "message": msg},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("record_id")
	s.mu.Lock()
	rec, ok := s.records[id]
	s.mu.Unlock()
	if !ok {
		s.reject(w, r, http.StatusNotFound, "not_found", "deployment record not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "trace_id": s.nextTrace(), "record": rec})
}

// wireVerification is the body Launchplane accepts; unknown keys are refused.
type wireVerification struct {
	Product      *string `json:"product"`
	Verification *struct {
		Context            *string         `json:"context"`
		Instance           *string         `json:"instance"`
		DeploymentRecordID *string         `json:"deployment_record_id"`
		PromotionRecordID  *string         `json:"promotion_record_id"`
		VerificationStatus *string         `json:"verification_status"`
		VerifiedAt         *string         `json:"verified_at"`
		CheckedURLs        *[]string       `json:"checked_urls"`
		TimeoutSeconds     *int            `json:"timeout_seconds"`
		HealthPayload      json.RawMessage `json:"health_payload"`
		FailureSummary     *string         `json:"failure_summary"`
	} `json:"verification"`
}

func (s *Server) postVerification(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		s.reject(w, r, http.StatusBadRequest, "idempotency_key_required", "mutations require an Idempotency-Key header")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.reject(w, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in wireVerification
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		s.reject(w, r, http.StatusUnprocessableEntity, "invalid_request", "body does not match the stable-verification schema")
		return
	}
	if msg := checkVerification(in); msg != "" {
		s.reject(w, r, http.StatusUnprocessableEntity, "invalid_request", msg)
		return
	}
	var canon any
	json.Unmarshal(body, &canon)
	payload, _ := json.Marshal(canon) // map keys sorted: key order does not make a new payload

	s.mu.Lock()
	prev, replay := s.idem[key]
	s.mu.Unlock()
	if replay {
		if !bytes.Equal(prev.payload, payload) {
			s.reject(w, r, http.StatusConflict, "idempotency_conflict", "the Idempotency-Key was used with a different payload")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prev.status)
		w.Write(prev.answer)
		return
	}

	v := in.Verification
	s.mu.Lock()
	rec, ok := s.records[*v.DeploymentRecordID]
	s.mu.Unlock()
	if !ok {
		s.reject(w, r, http.StatusNotFound, "not_found", "deployment record not found")
		return
	}
	status := classify(rec, v.HealthPayload)
	answer, _ := json.Marshal(map[string]any{
		"status":   "accepted",
		"trace_id": s.nextTrace(),
		"records":  map[string]any{"deployment_record_id": *v.DeploymentRecordID},
		"result": map[string]any{
			"verification_status":     *v.VerificationStatus,
			"runtime_identity_status": status,
		},
	})
	var obj map[string]any
	json.Unmarshal(mustField(body, "verification"), &obj)
	s.mu.Lock()
	if _, raced := s.idem[key]; !raced {
		s.idem[key] = idemEntry{payload: payload, status: http.StatusAccepted, answer: answer}
		s.verifications = append(s.verifications, Verification{IdempotencyKey: key, Product: *in.Product, Verification: obj, RuntimeIdentityStatus: status})
	}
	e := s.idem[key]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(e.answer)
}

// checkVerification names the first required field that is missing or unusable, or "".
func checkVerification(in wireVerification) string {
	v := in.Verification
	if in.Product == nil || *in.Product == "" {
		return "product is required"
	}
	if v == nil {
		return "verification is required"
	}
	for _, f := range []struct {
		name string
		val  *string
	}{
		{"context", v.Context}, {"instance", v.Instance}, {"deployment_record_id", v.DeploymentRecordID},
		{"verification_status", v.VerificationStatus}, {"verified_at", v.VerifiedAt},
	} {
		if f.val == nil || *f.val == "" {
			return "verification." + f.name + " is required"
		}
	}
	if v.FailureSummary == nil {
		return "verification.failure_summary is required"
	}
	if _, err := time.Parse("2006-01-02T15:04:05Z", *v.VerifiedAt); err != nil {
		return "verification.verified_at must be UTC to the second, like 2026-05-10T14:15:00Z"
	}
	if v.CheckedURLs == nil {
		return "verification.checked_urls must be an array"
	}
	if v.TimeoutSeconds == nil || *v.TimeoutSeconds < 0 {
		return "verification.timeout_seconds must be a non-negative integer"
	}
	if len(v.HealthPayload) == 0 {
		return "verification.health_payload is required (null when none)"
	}
	return ""
}

// classify reclassifies health against the record's runtime_identity, as Launchplane does.
func classify(record, health json.RawMessage) identity.Status {
	var rec map[string]json.RawMessage
	if json.Unmarshal(record, &rec) != nil {
		return identity.StatusUnchecked
	}
	raw := rec["runtime_identity"]
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	want, _, err := identity.Decode(raw)
	if err != nil {
		return identity.StatusUnchecked
	}
	if len(health) == 0 || string(health) == "null" {
		return identity.StatusMissing
	}
	return identity.Compare(&want, identity.ExtractHealth(health)).Status
}

func mustField(body []byte, key string) json.RawMessage {
	var m map[string]json.RawMessage
	json.Unmarshal(body, &m)
	return m[key]
}
