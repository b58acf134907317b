package dokploytest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/contracttest"
)

// tenantLauncher re-executes the test binary as a tenant and remembers every process.
type tenantLauncher struct {
	mu    sync.Mutex
	procs []*Process
}

func (l *tenantLauncher) Launch(ctx context.Context, env []string) (Backend, error) {
	pl := ProcessLauncher{
		Path:        os.Args[0],
		Args:        []string{"-test.run=^$"},
		BaseEnv:     []string{tenantEnv + "=1"},
		Stderr:      os.Stderr,
		StopTimeout: 3 * time.Second,
	}
	p, err := pl.start(ctx, env)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p, nil
}

func (l *tenantLauncher) processes() []*Process {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*Process(nil), l.procs...)
}

type setup struct {
	noT         bool             // record violations without failing the test
	onViolation func(msg string) // replaces failing the test as Options.OnViolation
	process     bool             // launch real tenant processes
	opts        Options
}

// newServer starts a fake validated against the contract; it is closed when the test ends.
func newServer(t *testing.T, st setup) (*Server, *tenantLauncher) {
	t.Helper()
	o := st.opts
	o.Validator = contracttest.Load(t, contracttest.Dokploy)
	if !st.noT {
		o.OnViolation = func(msg string) { t.Errorf("%s", msg) }
	}
	if st.onViolation != nil {
		o.OnViolation = st.onViolation
	}
	var l *tenantLauncher
	if st.process {
		l = &tenantLauncher{}
		o.Launcher = l
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, l
}

// must fails the test on a setup error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return v
}

// call sends one API request with the server's key.
func call(t *testing.T, s *Server, method, op string, query url.Values, body any) response {
	t.Helper()
	return callWith(t, s, method, "/api/"+op, query, body, s.APIKey(), "application/json")
}

func callWith(t *testing.T, s *Server, method, path string, query url.Values, body any, key, contentType string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		var data []byte
		switch b := body.(type) {
		case string:
			data = []byte(b)
		default:
			var err error
			if data, err = json.Marshal(b); err != nil {
				t.Fatal(err)
			}
		}
		rd = bytes.NewReader(data)
	}
	u := s.URL() + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	if body != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// rows returns a service's deployment rows as the API lists them.
func rows(t *testing.T, s *Server, kind, id string) []map[string]any {
	t.Helper()
	op, key := "deployment.all", "applicationId"
	if kind == kindCompose {
		op, key = "deployment.allByCompose", "composeId"
	}
	r := call(t, s, http.MethodGet, op, q(key, id), nil)
	if r.status != http.StatusOK {
		t.Fatalf("%s = %d %s, want 200", op, r.status, r.body)
	}
	var out []map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func queue(t *testing.T, s *Server) []map[string]any {
	t.Helper()
	r := call(t, s, http.MethodGet, "deployment.queueList", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("queueList = %d %s, want 200", r.status, r.body)
	}
	var out []map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// eventually polls cond every 10ms until it holds or 10s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// identity fetches the tenant's health and returns runtime_identity as compact JSON ("null"
// when absent).
func identity(t *testing.T, s *Server, id string) string {
	t.Helper()
	res, err := http.Get(s.TenantURL(id) + "/api/health")
	if err != nil {
		t.Fatalf("tenant health: %v", err)
	}
	defer res.Body.Close()
	var h struct {
		Status          string          `json:"status"`
		RuntimeIdentity json.RawMessage `json:"runtime_identity"`
	}
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil || h.Status != "ok" {
		t.Fatalf("tenant health = %d status %q err %v, want ok", res.StatusCode, h.Status, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, h.RuntimeIdentity); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func identityEnv(id string) string {
	return `LAUNCHPLANE_RUNTIME_IDENTITY_JSON='{"deployment_record_id":"` + id + `"}'`
}

func identityJSON(id string) string { return `{"deployment_record_id":"` + id + `"}` }
