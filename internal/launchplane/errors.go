package launchplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/launchplane/runtime-identity/internal/logtext"
	"io"
	"net/http"
	"regexp"
	"strings"
	"unicode"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrUnauthorized matches a 401 or 403: the token is missing, expired, for another
	// audience, or not allowed this action by Launchplane's allow-list.
	ErrUnauthorized = errors.New("launchplane: unauthorized")
	// ErrNotFound matches a 404: no such record (or route, on an older Launchplane).
	ErrNotFound = errors.New("launchplane: not found")
	// ErrConflict matches a 409: an Idempotency-Key replayed with a different payload.
	ErrConflict = errors.New("launchplane: conflict")
	// ErrRateLimited matches a 429.
	ErrRateLimited = errors.New("launchplane: rate limited")
	// ErrOutcomeUnknown marks a write that met a transport error or a 5xx. It was not retried
	// because it may have landed; replay it with the same Idempotency-Key to find out.
	ErrOutcomeUnknown = errors.New("the write may or may not have been recorded")
	// ErrBadResponse marks a 2xx answer that is not the envelope the route documents.
	ErrBadResponse = errors.New("unexpected response")
	// ErrNoIdentity means the deployment record carries no runtime identity.
	ErrNoIdentity = errors.New("the record carries no runtime identity")
	// ErrInvalidIdentity means the record's runtime identity breaks the contract; the error
	// also wraps the *identity.ValidationError naming each field.
	ErrInvalidIdentity = errors.New("the record's runtime identity is invalid")
	// ErrRecordMismatch means the answer describes another deployment record than the one
	// requested.
	ErrRecordMismatch = errors.New("the record describes another deployment")
)

// errorBodyLimit bounds how much of an error response is read.
const errorBodyLimit = 64 << 10

// maxMessageRunes bounds each server-provided string kept in an error.
const maxMessageRunes = 300

// APIError is a non-2xx answer from Launchplane, usually a rejected envelope
// {"status":"rejected","trace_id":…,"error":{"code","message"}}. Its strings come from the server
// and are cleaned before they are stored: the token is removed, control characters replaced and
// long text cut.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code and Message are the envelope's error.code and error.message, when given.
	Code, Message string
	// TraceID is the envelope's trace_id, to quote to Launchplane's operators.
	TraceID string
}

// Error implements error, e.g. `404 not_found: no such deployment record (trace_id tr-1)`.
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

// Is matches ErrUnauthorized (401, 403), ErrNotFound (404), ErrConflict (409) and
// ErrRateLimited (429).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
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
