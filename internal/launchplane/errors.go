package launchplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"unicode"

	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Error codes Launchplane puts in a rejected envelope's error.code (cbusillo/launchplane
// control_plane/http_routes/operational_records.py @ 0b45f92d68a8b5c758a4fa2f812f1b87de40c717,
// http_routes/generic_web.py @ 059f83d92bdd702642fedcc7e0e5c0ae13a0dc18, and the evidence routes'
// idempotency check). Compare APIError.Code with them, never the message.
const (
	CodeAuthenticationRequired  = "authentication_required"
	CodeAuthorizationDenied     = "authorization_denied"
	CodeInvalidRequest          = "invalid_request"
	CodeNotFound                = "not_found"
	CodeProductDriverMismatch   = "product_driver_mismatch"
	CodeIdempotencyKeyReused    = "idempotency_key_reused"
	CodeDatabaseStorageRequired = "database_storage_required"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrUnauthorized matches a 401 (no token, or one Launchplane did not verify: expired, wrong
	// audience, bad signature) and a 403 authorization_denied (the allow-list does not grant this
	// repository, workflow, ref or environment the action).
	ErrUnauthorized = errors.New("launchplane: unauthorized")
	// ErrProductDriverMismatch matches a 403 product_driver_mismatch: the product has no
	// generic-web lane for the context and instance reported.
	ErrProductDriverMismatch = errors.New("launchplane: no such generic-web lane")
	// ErrInvalidRequest matches a 400: Launchplane refused the request's content (its 400 bodies
	// do not say which field).
	ErrInvalidRequest = errors.New("launchplane: invalid request")
	// ErrNotFound matches a 404: no such record, product or environment.
	ErrNotFound = errors.New("launchplane: not found")
	// ErrConflict matches a 409: an Idempotency-Key reused with a different body.
	ErrConflict = errors.New("launchplane: conflict")
	// ErrRateLimited matches a 429.
	ErrRateLimited = errors.New("launchplane: rate limited")
	// ErrStorageRequired matches a 503 database_storage_required: the instance runs without the
	// database its record routes need.
	ErrStorageRequired = errors.New("launchplane: database storage required")
	// ErrOutcomeUnknown marks a write that met a transport error or a 5xx. It was not retried
	// because it may have landed; send the same Request again to find out (Launchplane replays
	// an accepted pass under the same key and body).
	ErrOutcomeUnknown = errors.New("the write may or may not have been recorded")
	// ErrBadResponse marks a 2xx answer that is not the envelope the route documents.
	ErrBadResponse = errors.New("unexpected response")
	// ErrInvalidIdentity means the record's runtime identity breaks the contract; the error
	// also wraps the *identity.ValidationError naming each field.
	ErrInvalidIdentity = errors.New("the record's runtime identity is invalid")
	// ErrRecordMismatch means the answer describes another deployment record, product or
	// environment than the one requested.
	ErrRecordMismatch = errors.New("the answer describes another record")
)

// errorBodyLimit bounds how much of an error response is read.
const errorBodyLimit = 64 << 10

// maxMessageRunes bounds each server-provided string kept in an error.
const maxMessageRunes = 300

// APIError is a non-2xx answer from Launchplane, usually the rejected envelope
// {"status":"rejected","trace_id":…,"error":{"code","message"}}. Its strings come from the
// server and are cleaned before they are stored: the token is removed, control characters
// replaced and long text cut.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the envelope's error.code, one of the Code constants for the routes this client
	// calls; empty when the body was not an envelope.
	Code string
	// Message is the envelope's error.message, for people; never match on it.
	Message string
	// TraceID is the envelope's trace_id, to quote to Launchplane's operators.
	TraceID string
}

// Error implements error, e.g. `403 authorization_denied: Workflow cannot … (trace_id launchplane_req_…)`.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	} else if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.TraceID != "" {
		b.WriteString(" (trace_id " + e.TraceID + ")")
	}
	return b.String()
}

// Is matches the sentinel errors by status and code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized ||
			(e.StatusCode == http.StatusForbidden && e.Code != CodeProductDriverMismatch)
	case ErrProductDriverMismatch:
		return e.StatusCode == http.StatusForbidden && e.Code == CodeProductDriverMismatch
	case ErrInvalidRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrStorageRequired:
		return e.StatusCode == http.StatusServiceUnavailable && e.Code == CodeDatabaseStorageRequired
	}
	return false
}

// rejected is the error envelope.
type rejected struct {
	TraceID json.RawMessage `json:"trace_id"`
	Error   *struct {
		Code    json.RawMessage `json:"code"`
		Message json.RawMessage `json:"message"`
	} `json:"error"`
}

// checkResponse returns nil for a 2xx response and an *APIError otherwise. It reads at most
// errorBodyLimit bytes and keeps only the cleaned envelope fields, never the body.
func checkResponse(r *http.Response, tok string) error {
	if r.StatusCode >= 200 && r.StatusCode < 300 {
		return nil
	}
	e := &APIError{StatusCode: r.StatusCode}
	data, _ := io.ReadAll(io.LimitReader(r.Body, errorBodyLimit))
	var env rejected
	if json.Unmarshal(data, &env) == nil {
		e.TraceID = clean(logtext.JSONString(env.TraceID), tok)
		if env.Error != nil {
			e.Code = clean(logtext.JSONString(env.Error.Code), tok)
			e.Message = clean(logtext.JSONString(env.Error.Message), tok)
		}
	}
	if r.StatusCode >= 300 && r.StatusCode < 400 {
		e.Message = "redirect not followed; use the final URL of the Launchplane instance"
	}
	return e
}

// jwtPattern matches a JWT (or the start of one): OIDC tokens are JWTs, and a server that
// echoes one, or a prefix of one, must not get it into a log.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){0,2}`)

// tokenPrefixLen is how much of the token's start marks an echoed (possibly cut) token.
const tokenPrefixLen = 8

// clean makes a server-provided string safe for one log line: the token, any run starting with
// the token's first characters, and anything JWT-shaped become "***"; control characters become
// spaces; the text is cut to maxMessageRunes.
func clean(s, tok string) string {
	if tok != "" {
		s = strings.ReplaceAll(s, tok, "***")
		if len(tok) >= tokenPrefixLen {
			s = redactRuns(s, tok[:tokenPrefixLen])
		}
	}
	s = jwtPattern.ReplaceAllString(s, "***")
	return logtext.Truncate(logtext.OneLine(s), maxMessageRunes)
}

// redactRuns replaces every run of non-space characters that starts with prefix by "***".
func redactRuns(s, prefix string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, prefix)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString("***")
		s = s[i:]
		j := strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '"' || r == '\'' })
		if j < 0 {
			return b.String()
		}
		s = s[j:]
	}
}
