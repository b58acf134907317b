// Package contracttest loads the machine-readable API contracts (the Dokploy and GitHub OpenAPI
// documents) and checks HTTP requests against them. Tests find the documents through the
// RUNTIME_IDENTITY_CONTRACTS directory; nothing is embedded in the repository.
//
// Deviations from a plain kin-openapi validation, each forced by the documents:
//   - Routing is an exact, segment-wise match of the request path (server base path stripped)
//     against the document's paths, so dotted Dokploy paths such as /application.one work and
//     GitHub templates such as /repos/{owner}/{repo}/deployments/{deployment_id}/statuses bind
//     one segment per parameter.
//   - Security is not validated: Dokploy operations name a scheme "Authorization" that the
//     document never declares (the key travels in x-api-key). Authentication is the fake
//     servers' job.
//   - Patterns Go's regexp cannot compile: a pattern of the form ^(?!A)(?!B)…rest, as in
//     Dokploy's email pattern, is evaluated as "rest matches and no lookahead matches at the
//     start". Any other uncompilable pattern is not checked (it matches everything) and is
//     listed by SkippedPatterns.
//   - Response bodies are never validated (Dokploy's 200 schemas are empty objects).
package contracttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Contract file names inside the RUNTIME_IDENTITY_CONTRACTS directory.
const (
	Dokploy = "dokploy-openapi.json"
	GitHub  = "github-deployments-openapi.json"
)

// EnvDir names the environment variable holding the contracts directory.
const EnvDir = "RUNTIME_IDENTITY_CONTRACTS"

// EnvRequire names the environment variable that turns a missing contracts directory from a skip
// into a failure. CI sets it to 1, so contract tests can never skip there unnoticed.
const EnvRequire = "RUNTIME_IDENTITY_REQUIRE_CONTRACTS"

// Spec is one loaded OpenAPI document with a request router. It is safe for concurrent use.
type Spec struct {
	name     string
	doc      *openapi3.T
	server   *openapi3.Server
	basePath string
	routes   []route

	mu      sync.Mutex
	skipped map[string]bool
}

type route struct {
	path     string
	segments []string
	multi    map[string]bool // parameters that may span several segments (x-multi-segment)
	method   string
	item     *openapi3.PathItem
	op       *openapi3.Operation // a copy without security requirements
}

type cacheEntry struct {
	once sync.Once
	spec *Spec
	err  error
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*cacheEntry{}
)

// Load returns the named contract from the RUNTIME_IDENTITY_CONTRACTS directory, loading each
// file once per process. It skips the test when the variable is unset (fails it instead when
// RUNTIME_IDENTITY_REQUIRE_CONTRACTS is 1) and fails it when the variable is set but the file is
// missing or cannot be loaded.
func Load(tb testing.TB, name string) *Spec {
	tb.Helper()
	dir := os.Getenv(EnvDir)
	if dir == "" && os.Getenv(EnvRequire) == "1" {
		tb.Fatalf("contracttest: %s is unset but %s=1; set it to the directory holding %s", EnvDir, EnvRequire, name)
	}
	if dir == "" {
		tb.Skipf("contracttest: %s is unset; set RUNTIME_IDENTITY_CONTRACTS to the directory holding %s to run this test", EnvDir, name)
	}
	s, err := Open(dir, name)
	if err != nil {
		tb.Fatalf("contracttest: %s is set but: %v", EnvDir, err)
	}
	return s
}

// Open loads the named contract from dir, caching it per process.
func Open(dir, name string) (*Spec, error) {
	p := filepath.Join(dir, name)
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	cacheMu.Lock()
	e := cache[p]
	if e == nil {
		e = &cacheEntry{}
		cache[p] = e
	}
	cacheMu.Unlock()
	e.once.Do(func() { e.spec, e.err = load(p, name) })
	return e.spec, e.err
}

func load(path, name string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("contracttest: load %s: %w", name, err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("contracttest: load %s: %w", name, err)
	}
	if doc.Paths == nil || doc.Paths.Len() == 0 {
		return nil, fmt.Errorf("contracttest: load %s: document has no paths", name)
	}
	s := &Spec{name: name, doc: doc, skipped: map[string]bool{}}
	if len(doc.Servers) > 0 && doc.Servers[0] != nil {
		s.server = doc.Servers[0]
		if bp, err := doc.Servers[0].BasePath(); err == nil && bp != "/" {
			s.basePath = strings.TrimSuffix(bp, "/")
		}
	}
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			cp := *op
			cp.Security = &openapi3.SecurityRequirements{}
			multi := map[string]bool{}
			for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
				for _, pr := range ps {
					if pr != nil && pr.Value != nil && pr.Value.In == openapi3.ParameterInPath && pr.Value.Extensions["x-multi-segment"] == true {
						multi[pr.Value.Name] = true
					}
				}
			}
			s.routes = append(s.routes, route{
				path:     p,
				segments: strings.Split(strings.Trim(p, "/"), "/"),
				multi:    multi,
				method:   strings.ToUpper(method),
				item:     item,
				op:       &cp,
			})
		}
	}
	// Literal segments first, so /deployments/{id} never shadows a literal sibling.
	sort.Slice(s.routes, func(i, j int) bool {
		pi, pj := params(s.routes[i].segments), params(s.routes[j].segments)
		if pi != pj {
			return pi < pj
		}
		return s.routes[i].path < s.routes[j].path
	})
	return s, nil
}

func params(segs []string) int {
	n := 0
	for _, s := range segs {
		if isParam(s) {
			n++
		}
	}
	return n
}

func isParam(seg string) bool {
	return len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}

// Name is the contract's file name.
func (s *Spec) Name() string { return s.name }

// Doc is the loaded document. Treat it as read-only.
func (s *Spec) Doc() *openapi3.T { return s.doc }

// candidates are the document-relative forms of a request path: as is, and with the server's
// base path (such as Dokploy's /api) stripped wherever it sits, so clients mounted under a test
// prefix still route.
func (s *Spec) candidates(p string) []string {
	out := []string{p}
	if s.basePath != "" {
		if i := strings.LastIndex(p, s.basePath+"/"); i >= 0 {
			out = append([]string{p[i+len(s.basePath):]}, out...)
		}
	}
	return out
}

// match finds the route for method and path. pathFound reports whether the path exists with
// any method.
func (s *Spec) match(method, p string) (r *route, pathParams map[string]string, pathFound bool) {
	method = strings.ToUpper(method)
	for _, c := range s.candidates(p) {
		segs := strings.Split(strings.Trim(c, "/"), "/")
		for i := range s.routes {
			rt := &s.routes[i]
			pp := map[string]string{}
			ok := matchSegments(rt.segments, segs, rt.multi, pp)
			if !ok {
				continue
			}
			pathFound = true
			if rt.method == method {
				return rt, pp, true
			}
		}
	}
	return nil, nil, pathFound
}

func matchSegments(tmpl, segs []string, multi map[string]bool, pp map[string]string) bool {
	if len(tmpl) == 0 {
		return len(segs) == 0
	}
	if len(segs) == 0 {
		return false
	}
	t := tmpl[0]
	if !isParam(t) {
		return t == segs[0] && matchSegments(tmpl[1:], segs[1:], multi, pp)
	}
	name := t[1 : len(t)-1]
	n := 1
	if multi[name] {
		n = len(segs) - (len(tmpl) - 1)
	}
	for ; n >= 1; n-- {
		if n > len(segs) || slices.Contains(segs[:n], "") {
			continue
		}
		if matchSegments(tmpl[1:], segs[n:], multi, pp) {
			pp[name] = strings.Join(segs[:n], "/")
			return true
		}
	}
	return false
}

// HasOperation reports whether the document defines method on path. path may be the
// document's own form (/application.one, /repos/{owner}/{repo}/deployments), a concrete path
// (/repos/o/r/deployments/7/statuses) or carry the server base path (/api/application.one).
func (s *Spec) HasOperation(method, path string) bool {
	r, _, _ := s.match(method, path)
	return r != nil
}

// OperationID returns the operationId of method on path ("" when there is none).
func (s *Spec) OperationID(method, path string) string {
	r, _, _ := s.match(method, path)
	if r == nil {
		return ""
	}
	return r.op.OperationID
}

// ErrNoRoute is wrapped by ValidateRequest errors for an unknown path or method.
var ErrNoRoute = errors.New("no such operation")

// ValidateRequest checks r against the document: the route must exist with r's method, and
// the path and query parameters and the JSON body must satisfy their schemas. body is the
// request body (r.Body is not read). Security requirements are not checked.
func (s *Spec) ValidateRequest(r *http.Request, body []byte) error {
	rt, pp, pathFound := s.match(r.Method, r.URL.Path)
	if rt == nil {
		if pathFound {
			return fmt.Errorf("contracttest: %s %s: method not allowed: %w", r.Method, r.URL.Path, ErrNoRoute)
		}
		return fmt.Errorf("contracttest: %s %s: unknown path: %w", r.Method, r.URL.Path, ErrNoRoute)
	}
	req := r.Clone(r.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if len(body) == 0 {
		req.Body = http.NoBody
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults: true,
		MultiError:          true,
		RegexCompiler:       s.compileRegex,
	}
	opts.WithCustomSchemaErrorFunc(redactValue)
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: pp,
		Route: &routers.Route{
			Spec:      s.doc,
			Server:    s.server,
			Path:      rt.path,
			PathItem:  rt.item,
			Method:    rt.method,
			Operation: rt.op,
		},
		Options: opts,
	}
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
		return fmt.Errorf("contracttest: %s %s (%s): %w", rt.method, rt.path, rt.op.OperationID, err)
	}
	return nil
}

// redactValue keeps a rejected string value out of the message (it may be a secret).
func redactValue(err *openapi3.SchemaError) string {
	reason := err.Reason
	if v, ok := err.Value.(string); ok && len(v) > 0 {
		reason = strings.ReplaceAll(reason, v, "***")
	}
	if p := err.JSONPointer(); len(p) > 0 {
		return fmt.Sprintf("at /%s: %s", strings.Join(p, "/"), reason)
	}
	return reason
}

// SkippedPatterns lists the patterns that could not be compiled even with the lookahead
// rewrite and were therefore not checked, in the order first met.
func (s *Spec) SkippedPatterns() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.skipped))
	for p := range s.skipped {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func (s *Spec) compileRegex(expr string) (openapi3.RegexMatcher, error) {
	m, err := CompilePattern(expr)
	if err == nil {
		return m, nil
	}
	s.mu.Lock()
	s.skipped[expr] = true
	s.mu.Unlock()
	return matchAll{}, nil
}

type matchAll struct{}

func (matchAll) MatchString(string) bool { return true }

var codepoint = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

// CompilePattern compiles an OpenAPI (ECMA-262) pattern with Go's regexp. Leading negative
// lookaheads right after ^, as in ^(?!\.)(?!.*\.\.)rest, are supported by evaluating each one
// at the start of the string; other lookarounds and backreferences give an error.
func CompilePattern(expr string) (openapi3.RegexMatcher, error) {
	goExpr := codepoint.ReplaceAllString(expr, `\x{$1}`)
	if re, err := regexp.Compile(goExpr); err == nil {
		return re, nil
	}
	if !strings.HasPrefix(goExpr, "^(?!") {
		return nil, fmt.Errorf("contracttest: pattern unsupported by Go regexp")
	}
	rest := goExpr[1:]
	var neg []*regexp.Regexp
	for strings.HasPrefix(rest, "(?!") {
		end := closingParen(rest)
		if end < 0 {
			return nil, fmt.Errorf("contracttest: unbalanced lookahead in pattern")
		}
		re, err := regexp.Compile("^(?:" + rest[3:end] + ")")
		if err != nil {
			return nil, fmt.Errorf("contracttest: lookahead: %w", err)
		}
		neg = append(neg, re)
		rest = rest[end+1:]
	}
	body, err := regexp.Compile("^" + rest)
	if err != nil {
		return nil, fmt.Errorf("contracttest: pattern after lookaheads: %w", err)
	}
	return lookaheadMatcher{neg: neg, body: body}, nil
}

// closingParen returns the index of the parenthesis closing the group opened at s[0].
func closingParen(s string) int {
	depth := 0
	inClass := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

type lookaheadMatcher struct {
	neg  []*regexp.Regexp
	body *regexp.Regexp
}

func (m lookaheadMatcher) MatchString(s string) bool {
	for _, n := range m.neg {
		if n.MatchString(s) {
			return false
		}
	}
	return m.body.MatchString(s)
}
