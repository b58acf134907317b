package ghdeploy

import (
	"errors"
	"fmt"
	"github.com/launchplane/runtime-identity/internal/logtext"
	"net/http"
	"strings"
)

// ErrAutoMerged means GitHub answered 202: it merged the default branch into the ref instead
// of creating a deployment. It is never retried.
var ErrAutoMerged = errors.New("github merged the default branch into the ref instead of deploying (202)")

// ErrRateLimited means GitHub kept rate-limiting the call, or asked for a longer wait than
// the client accepts.
var ErrRateLimited = errors.New("rate limited")

// Error is the error every Client method returns. Its text never holds the token.
type Error struct {
	// Op names the call: "create deployment", "create deployment status" or
	// "create commit status".
	Op string
	// StatusCode is the HTTP status of the last response, 0 when none arrived.
	StatusCode int
	// Attempts counts the requests sent, 0 when the call was refused before sending.
	Attempts int
	// Err is the cause: ErrAutoMerged, ErrRateLimited, a *ResponseError, a context error, or
	// a transport error.
	Err error
}

func (e *Error) Error() string { return "ghdeploy: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ResponseError is an error answer from GitHub. It deliberately does not unwrap to
// go-github's error, whose text carries the unfiltered message of the response body.
type ResponseError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is GitHub's message, on one line, cut short and with the token removed.
	Message string
	// Fields lists "field: code" pairs from a validation failure.
	Fields []string
}

func (e *ResponseError) Error() string {
	s := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		s += ": " + e.Message
	}
	if len(e.Fields) > 0 {
		s += " (" + strings.Join(e.Fields, ", ") + ")"
	}
	return s
}

// sanitizedError carries an error whose text came from outside this package (transport,
// decoding) with the token removed.
type sanitizedError struct {
	msg string
	err error
}

func (e *sanitizedError) Error() string { return e.msg }
func (e *sanitizedError) Unwrap() error { return e.err }

// clean keeps s to one printable line of at most 200 characters without the token.
func clean(s, token string) string {
	if token != "" {
		s = strings.ReplaceAll(s, token, "[redacted]")
	}
	return logtext.Truncate(logtext.OneLine(s), 200)
}
