package dokploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/launchplane/runtime-identity/internal/logtext"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrUnauthorized matches a 401 from Dokploy. Dokploy answers every
	// authentication failure with the same 401, rate limiting included, and
	// denies permissions with 401 too: the key is expired, revoked,
	// rate-limited or lacks a permission.
	ErrUnauthorized = errors.New("dokploy: unauthorized")
	// ErrNotFound matches a 404: an unknown id, or an unknown procedure on an
	// older Dokploy.
	ErrNotFound = errors.New("dokploy: not found")
)

// errWrongRow reports a 200 answer to a read that is empty or describes
// another service.
var errWrongRow = errors.New("the answer does not describe the requested service")

// errorBodyLimit bounds how much of an error response is read.
const errorBodyLimit = 64 << 10

// maxMessageRunes bounds each server-provided string kept in an APIError.
const maxMessageRunes = 300

// APIError is a non-2xx answer from Dokploy. Its strings come from the server
// but are cleaned before they are stored: control characters are replaced,
// long text is cut, and the API key and every value the request carried are
// replaced by "***".
type APIError struct {
	// Method and Operation name the call, e.g. "GET" and "application.one".
	Method, Operation string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the tRPC error code, e.g. "NOT_FOUND" or "BAD_REQUEST".
	Code string
	// Message is the server's message, e.g. "Application not found".
	Message string
	// Issues holds validation issues of a 400 "Input validation failed".
	Issues []Issue
	// Procedure is the tRPC path the error body names (data.path), such as "application.one":
	// a procedure raised the error. It is empty when the router answered (an unknown path, a
	// wrong method) or the server is not Dokploy.
	Procedure string
}

// ProcedureNotFound reports whether the called procedure itself answered 404 (Dokploy's
// "Application not found" and its kin), as opposed to a 404 for an unknown path or from a
// server that is not Dokploy.
func (e *APIError) ProcedureNotFound() bool {
	return e.StatusCode == http.StatusNotFound && e.Procedure != "" && e.Procedure == e.Operation
}

// Issue is one input validation issue (a zod issue).
type Issue struct {
	Code    string `json:"code"`
	Path    []any  `json:"path"`
	Message string `json:"message"`
}

// Error implements error. It names the operation, not the URL, so no query
// string or host path can leak through it.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d", e.Method, e.Operation, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	} else if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for i, is := range e.Issues {
		if i == 3 {
			fmt.Fprintf(&b, " (and %d more issues)", len(e.Issues)-i)
			break
		}
		b.WriteString("; ")
		if p := is.PathString(); p != "" {
			b.WriteString(p + ": ")
		}
		b.WriteString(is.Message)
	}
	return b.String()
}

// Is reports whether target is ErrUnauthorized (401) or ErrNotFound (404).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	}
	return false
}

// PathString joins the issue path with dots, e.g. "buildArgs" or "domains.0.host".
func (i Issue) PathString() string {
	parts := make([]string, 0, len(i.Path))
	for _, p := range i.Path {
		switch v := p.(type) {
		case string:
			parts = append(parts, v)
		case float64:
			parts = append(parts, strconv.FormatFloat(v, 'f', -1, 64))
		default:
			parts = append(parts, fmt.Sprint(v))
		}
	}
	return strings.Join(parts, ".")
}

// errorBody is the lenient shape of a Dokploy error body:
// {"message","code","data":{"code","httpStatus",...},"issues"?}, possibly
// inside a tRPC {"error":{...}} envelope.
type errorBody struct {
	Message json.RawMessage `json:"message"`
	Code    json.RawMessage `json:"code"`
	Data    *struct {
		Code json.RawMessage `json:"code"`
		Path json.RawMessage `json:"path"`
	} `json:"data"`
	Issues []json.RawMessage `json:"issues"`
	Error  *errorBody        `json:"error"`
}

// checkResponse returns nil for a 2xx response and an *APIError otherwise.
// It reads at most errorBodyLimit bytes of the body and never keeps the body.
// secrets are replaced by "***" in every string it keeps.
func checkResponse(r *http.Response, op string, secrets []string) error {
	if r.StatusCode >= 200 && r.StatusCode < 300 {
		return nil
	}
	e := &APIError{Method: r.Request.Method, Operation: op, StatusCode: r.StatusCode}
	data, _ := io.ReadAll(io.LimitReader(r.Body, errorBodyLimit))
	var body errorBody
	if json.Unmarshal(bytes.TrimSpace(data), &body) == nil {
		if body.Error != nil && len(body.Message) == 0 {
			body = *body.Error
		}
		e.Message = logtext.JSONString(body.Message)
		e.Code = logtext.JSONString(body.Code)
		if body.Data != nil {
			if e.Code == "" {
				e.Code = logtext.JSONString(body.Data.Code)
			}
			e.Procedure = logtext.JSONString(body.Data.Path)
		}
		for _, raw := range body.Issues {
			var is Issue
			if json.Unmarshal(raw, &is) == nil {
				e.Issues = append(e.Issues, is)
			}
		}
	}
	if r.StatusCode >= 300 && r.StatusCode < 400 {
		// Only the default client gets here: it refuses redirects so the key
		// never follows one to another host.
		e.Message = "redirect refused; use the final URL of the Dokploy instance"
		if loc, err := r.Location(); err == nil {
			e.Message += " (" + sanitizeURL(loc.String()) + ")"
		}
	}
	clean := newScrubber(secrets)
	e.Code = clean(e.Code)
	e.Message = clean(e.Message)
	e.Procedure = clean(e.Procedure)
	for i := range e.Issues {
		e.Issues[i].Code = clean(e.Issues[i].Code)
		e.Issues[i].Message = clean(e.Issues[i].Message)
		for j, p := range e.Issues[i].Path {
			switch v := p.(type) {
			case string:
				e.Issues[i].Path[j] = clean(v)
			case float64:
			default:
				e.Issues[i].Path[j] = "?"
			}
		}
	}
	return e
}

// newScrubber returns a function that replaces every secret (longest first)
// by "***", then makes the text safe for one log line: control characters
// become spaces and the text is cut to maxMessageRunes.
func newScrubber(secrets []string) func(string) string {
	list := append([]string(nil), secrets...)
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	return func(s string) string {
		for _, sec := range list {
			if sec != "" {
				s = strings.ReplaceAll(s, sec, "***")
			}
		}
		return logtext.Truncate(logtext.OneLine(s), maxMessageRunes)
	}
}

// minSecretLen is the shortest request value that is scrubbed from error
// text; shorter strings carry no secret worth hiding and would mangle words.
const minSecretLen = 4

// requestSecrets collects what a request carried that must never reach error
// text: the API key, every query value, every string in the JSON body, and
// each line and dotenv value inside those strings.
func requestSecrets(apiKey string, r *http.Request) []string {
	var out []string
	add := func(s string) {
		if len(s) < minSecretLen {
			return
		}
		out = append(out, s)
		// A server that echoes its input echoes it JSON-escaped.
		if q, err := json.Marshal(s); err == nil && string(q[1:len(q)-1]) != s {
			out = append(out, string(q[1:len(q)-1]))
		}
	}
	out = append(out, apiKey)
	for _, vs := range r.URL.Query() {
		for _, v := range vs {
			addValueParts(v, add)
		}
	}
	if r.GetBody != nil {
		if rc, err := r.GetBody(); err == nil {
			var v any
			if json.NewDecoder(rc).Decode(&v) == nil {
				walkStrings(v, func(s string) { addValueParts(s, add) })
			}
			rc.Close()
		}
	}
	return out
}

// addValueParts adds s, its lines, the values of dotenv-looking lines, and
// (for env text) every value dotenv would parse from it, with its lines.
func addValueParts(s string, add func(string)) {
	addLines(s, add)
	if !strings.ContainsAny(s, "=:") {
		return
	}
	for _, v := range ParseEnv(s) {
		addLines(v, add)
	}
}

// addLines adds s and, when it has several lines, each line and the value
// after the first "=" of each line, quoted and unquoted.
func addLines(s string, add func(string)) {
	add(s)
	if !strings.ContainsAny(s, "\n=") {
		return
	}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		add(line)
		add(strings.Trim(line, "\"'`"))
		if _, v, ok := strings.Cut(line, "="); ok {
			v = strings.TrimSpace(v)
			add(v)
			add(strings.Trim(v, "\"'`"))
		}
	}
}

// walkStrings calls f for every string in a decoded JSON value.
func walkStrings(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case []any:
		for _, e := range x {
			walkStrings(e, f)
		}
	case map[string]any:
		for _, e := range x {
			walkStrings(e, f)
		}
	}
}

// sanitizeURL drops the query, fragment and user info of a URL.
func sanitizeURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		host, path, _ := strings.Cut(rest, "/")
		if j := strings.LastIndex(host, "@"); j >= 0 {
			host = host[j+1:]
		}
		raw = raw[:i+3] + host
		if path != "" || strings.Contains(rest, "/") {
			raw += "/" + path
		}
	}
	return raw
}
