// Package node_test checks the Node.js example tenant against the Go package tenant: for the same
// env, both must report the same state and answer every identity surface with the same status,
// headers and identity bytes. It runs the real server.js under node and skips when node is not
// on PATH (CI has it).
package node_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/tenant"
)

// canonicalJSON is an identity as runtime-identity injects it.
const canonicalJSON = `{"artifact_id":"ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111","context":"shop","deployed_at":"","deployment_record_id":"deployment-20260510T141500Z-shop-prod","environment_kind":"stable","image_reference":"ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111","instance":"prod","preview_generation_id":"","preview_id":"","product":"shop","release_tuple_id":"","schema_version":1,"source_git_ref":"6b3c9d7e8f901234567890abcdef1234567890ab"}`

// required holds the five required fields, for hand-written variants.
const required = `"context":"shop","instance":"prod","deployment_record_id":"deployment-20260510T141500Z-shop-prod","artifact_id":"ghcr.io/acme/shop:1","source_git_ref":"6b3c9d7e8f901234567890abcdef1234567890ab"`

func TestNodeTenantMatchesGoTenant(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH; the Node example tenant is checked where it is (CI)")
	}
	tests := []struct {
		name string
		env  map[string]string
		want tenant.State
	}{
		{name: "injected by runtime-identity, with the copies", want: tenant.StateOK, env: map[string]string{
			tenant.EnvJSON: canonicalJSON, tenant.EnvDeploymentRecordID: "deployment-20260510T141500Z-shop-prod",
			tenant.EnvArtifactID:   "ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111",
			tenant.EnvSourceGitRef: "6b3c9d7e8f901234567890abcdef1234567890ab",
		}},
		{name: "hand-written: other order, spaces, defaults, string schema_version", want: tenant.StateOK, env: map[string]string{
			tenant.EnvJSON: "  {\n  \"schema_version\": \"1\", " + required + " }\n"}},
		{name: "characters outside printable ASCII are escaped", want: tenant.StateOK, env: map[string]string{
			tenant.EnvJSON: `{` + required + `,"product":"café ☕ 😀","release_tuple_id":"a<b>&c\t\u007f\"\\/","preview_id":"\u2028"}`}},
		{name: "unknown keys are dropped", want: tenant.StateOK, env: map[string]string{
			tenant.EnvJSON: `{` + required + `,"region":"eu","schema_version":1}`}},
		{name: "a record id a header cannot carry", want: tenant.StateOK, env: map[string]string{
			tenant.EnvJSON: `{"context":"shop","instance":"prod","deployment_record_id":"deploy ment","artifact_id":"a","source_git_ref":"b"}`}},
		{name: "not injected", want: tenant.StateMissing, env: map[string]string{}},
		{name: "blank", want: tenant.StateMissing, env: map[string]string{tenant.EnvJSON: " \n\t "}},
		{name: "record id without the JSON", want: tenant.StateMissing, env: map[string]string{tenant.EnvDeploymentRecordID: "deployment-1"}},
		{name: "not JSON", want: tenant.StateMalformed, env: map[string]string{tenant.EnvJSON: `{"context":`}},
		{name: "an array", want: tenant.StateMalformed, env: map[string]string{tenant.EnvJSON: `[` + `{` + required + `}]`}},
		{name: "null", want: tenant.StateMalformed, env: map[string]string{tenant.EnvJSON: `null`}},
		{name: "trailing data", want: tenant.StateMalformed, env: map[string]string{tenant.EnvJSON: `{` + required + `} {}`}},
		{name: "a number where a string belongs", want: tenant.StateMalformed, env: map[string]string{
			tenant.EnvJSON: `{` + strings.Replace(required, `"instance":"prod"`, `"instance":7`, 1) + `}`}},
		{name: "a null where a string belongs", want: tenant.StateMalformed, env: map[string]string{
			tenant.EnvJSON: `{` + required + `,"product":null}`}},
		{name: "a required field missing", want: tenant.StateMalformed, env: map[string]string{
			tenant.EnvJSON: `{` + strings.Replace(required, `"context":"shop",`, ``, 1) + `}`}},
		{name: "a required field blank", want: tenant.StateMalformed, env: map[string]string{
			tenant.EnvJSON: `{` + strings.Replace(required, `"context":"shop"`, `"context":"  "`, 1) + `}`}},
		{name: "schema_version 2", want: tenant.StateMalformed, env: map[string]string{tenant.EnvJSON: `{` + required + `,"schema_version":2}`}},
		{name: "schema_version true, which Launchplane reads as 1", want: tenant.StateOK, env: map[string]string{tenant.EnvJSON: `{` + required + `,"schema_version":true}`}},
		{name: "schema_version false", want: tenant.StateMalformed, env: map[string]string{tenant.EnvJSON: `{` + required + `,"schema_version":false}`}},
		{name: "schema_version a padded string", want: tenant.StateOK, env: map[string]string{tenant.EnvJSON: `{` + required + `,"schema_version":" +01.0 "}`}},
		{name: "schema_version a fraction", want: tenant.StateMalformed, env: map[string]string{tenant.EnvJSON: `{` + required + `,"schema_version":1.5}`}},
		{name: "a copy that disagrees", want: tenant.StateMalformed, env: map[string]string{
			tenant.EnvJSON: canonicalJSON, tenant.EnvSourceGitRef: "0000000000000000000000000000000000000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string { return tt.env[k] }
			rt := tenant.FromEnv(getenv)
			if rt.State() != tt.want {
				t.Fatalf("Go tenant state = %s, want %s (%s): the case itself is wrong", rt.State(), tt.want, rt.Reason())
			}
			goURL := httptest.NewServer(reference(rt)).URL
			nodeURL, state := startNode(t, node, tt.env)
			if state != string(tt.want) {
				t.Errorf("node tenant state = %q, want %q", state, tt.want)
			}
			for _, req := range []struct{ method, path string }{
				{"GET", tenant.WellKnownPath},
				{"HEAD", tenant.WellKnownPath},
				{"POST", tenant.WellKnownPath},
				{"GET", "/api/health"},
				{"GET", "/no/such/page"},
			} {
				g, n := fetch(t, req.method, goURL+req.path), fetch(t, req.method, nodeURL+req.path)
				if req.path == "/no/such/page" {
					// Only the identity headers are the contract here; the 404 page is the tenant's own.
					g, n = g.identityHeadersOnly(), n.identityHeadersOnly()
				}
				if req.path == "/api/health" && tt.want == tenant.StateMalformed {
					// The detail says why in each implementation's own words; both carry one.
					g, n = g.withoutDetail(t), n.withoutDetail(t)
				}
				if diff := cmp.Diff(g, n); diff != "" {
					t.Errorf("%s %s: Go tenant vs node tenant (-go +node):\n%s", req.method, req.path, diff)
				}
			}
		})
	}
}

// reference is the Go tenant the node one must equal: the tenant package's middleware around a
// health handler that embeds HealthValue the way server.js does.
func reference(rt *tenant.Runtime) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/health", func(w http.ResponseWriter, r *http.Request) {
		v := rt.HealthValue()
		if v == nil {
			v = json.RawMessage("null")
		}
		body := `{"status":"ok","runtime_identity":` + string(v) + `}`
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, body)
	})
	return rt.Middleware(mux)
}

// answer is what the comparison looks at: status, the contract's headers and the body.
type answer struct {
	Status  int
	Headers map[string]string
	Body    string
}

var compared = []string{"Content-Type", "Cache-Control", "X-Content-Type-Options", "Content-Length", "Allow", tenant.HeaderDeployment, tenant.HeaderDigest}

func fetch(t *testing.T, method, url string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	a := answer{Status: resp.StatusCode, Headers: map[string]string{}, Body: string(body)}
	for _, h := range compared {
		if v := resp.Header.Values(h); len(v) > 0 {
			a.Headers[h] = strings.Join(v, ", ")
		}
	}
	return a
}

func (a answer) identityHeadersOnly() answer {
	out := answer{Headers: map[string]string{}}
	for _, h := range []string{tenant.HeaderDeployment, tenant.HeaderDigest} {
		if v, ok := a.Headers[h]; ok {
			out.Headers[h] = v
		}
	}
	return out
}

// withoutDetail drops runtime_identity.detail from a malformed health body after checking it is
// there and that the rest of the error object is exact.
func (a answer) withoutDetail(t *testing.T) answer {
	t.Helper()
	var body struct {
		Status          string            `json:"status"`
		RuntimeIdentity map[string]string `json:"runtime_identity"`
	}
	if err := json.Unmarshal([]byte(a.Body), &body); err != nil {
		t.Fatalf("malformed health body %q: %v", a.Body, err)
	}
	if body.RuntimeIdentity["detail"] == "" {
		t.Errorf("malformed health body %q has no detail", a.Body)
	}
	delete(body.RuntimeIdentity, "detail")
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	a.Body = string(b)
	delete(a.Headers, "Content-Length")
	return a
}

// startNode runs server.js with exactly env (plus PATH) on a free port and returns its base URL
// and the state it logged. The process is stopped with SIGTERM at the end of the test, which must
// end it cleanly.
func startNode(t *testing.T, node string, env map[string]string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, node, "server.js")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "PORT=0"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The state line comes first on stderr, before the server listens; the rest is kept for
	// failure messages.
	errLines := bufio.NewReader(stderrPipe)
	first, err := errLines.ReadString('\n')
	if err != nil {
		t.Fatalf("node tenant printed no state line: %v (%q)", err, first)
	}
	var stderr lockedBuilder
	stderr.WriteString(first)
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&stderr, errLines); close(copied) }()
	done := make(chan error, 1)
	go func() { <-copied; done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-done; err != nil {
			t.Errorf("node tenant did not stop cleanly on SIGTERM: %v\nstderr: %s", err, stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("node tenant printed no listening line: %v\nstderr: %s", err, stderr.String())
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("node tenant's first line = %q, want listening on http://...", line)
	}
	state, _, _ := strings.Cut(strings.TrimPrefix(first, "runtime identity "), ":")
	return url, state
}

// lockedBuilder collects a process's stderr while the test may read it.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
