package launchplanetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
)

func stable() identity.Identity {
	return identity.Identity{
		SchemaVersion: 1, Product: "p", Context: "c", Instance: "prod", EnvironmentKind: "stable",
		DeploymentRecordID: "deployment-20260510T141500Z-c-prod", ArtifactID: "a1", SourceGitRef: "abc",
	}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func send(t *testing.T, s *Server, method, path string, header map[string]string, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v", method, path, err)
	}
	return answer{resp.StatusCode, resp.Header, m}
}

func body(t *testing.T, health any, mutate func(map[string]any)) string {
	t.Helper()
	v := map[string]any{
		"context": "c", "instance": "prod", "deployment_record_id": stable().DeploymentRecordID,
		"verification_status": "pass", "verified_at": "2026-05-10T14:20:00Z",
		"checked_urls": []string{"https://c.example.com/api/health"}, "timeout_seconds": 60,
		"health_payload": health, "failure_summary": "",
	}
	if mutate != nil {
		mutate(v)
	}
	data, _ := json.Marshal(map[string]any{"product": "p", "verification": v})
	return string(data)
}

func code(a answer) string {
	e, _ := a.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestServerRoutes(t *testing.T) {
	t.Parallel()
	auth := map[string]string{"Authorization": "Bearer tok"}
	post := map[string]string{"Authorization": "Bearer tok", "Content-Type": "application/json", "Idempotency-Key": "k1"}
	match := map[string]any{"runtime_identity": json.RawMessage(stable().Canonical())}
	stale := stable()
	stale.ArtifactID = "a0"
	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		body       string
		wantStatus int
		wantCode   string
		wantRIS    string // result.runtime_identity_status
	}{
		{name: "read ok", method: "GET", path: "/v1/deployments/" + stable().DeploymentRecordID, header: auth, wantStatus: 200},
		{name: "read unknown", method: "GET", path: "/v1/deployments/deployment-x", header: auth, wantStatus: 404, wantCode: "not_found"},
		{name: "no token", method: "GET", path: "/v1/deployments/deployment-x", wantStatus: 401, wantCode: "unauthorized"},
		{name: "wrong token", method: "GET", path: "/v1/deployments/deployment-x", header: map[string]string{"Authorization": "Bearer nope"}, wantStatus: 401, wantCode: "unauthorized"},
		{name: "report match", method: "POST", path: "/v1/drivers/generic-web/stable-verification", header: post, body: body(t, match, nil), wantStatus: 202, wantRIS: "match"},
		{
			name: "report mismatch", method: "POST", path: "/v1/drivers/generic-web/stable-verification", header: post,
			body: body(t, map[string]any{"runtime_identity": json.RawMessage(stale.Canonical())}, nil), wantStatus: 202, wantRIS: "mismatch",
		},
		{name: "report null payload", method: "POST", path: "/v1/drivers/generic-web/stable-verification", header: post, body: body(t, nil, nil), wantStatus: 202, wantRIS: "missing"},
		{
			name: "report without key", method: "POST", path: "/v1/drivers/generic-web/stable-verification",
			header: map[string]string{"Authorization": "Bearer tok", "Content-Type": "application/json"}, body: body(t, match, nil),
			wantStatus: 400, wantCode: "idempotency_key_required",
		},
		{
			name: "report unknown field", method: "POST", path: "/v1/drivers/generic-web/stable-verification", header: post,
			body: body(t, match, func(v map[string]any) { v["extra"] = 1 }), wantStatus: 422, wantCode: "invalid_request",
		},
		{
			name: "report bad time", method: "POST", path: "/v1/drivers/generic-web/stable-verification", header: post,
			body: body(t, match, func(v map[string]any) { v["verified_at"] = "2026-05-10 14:20" }), wantStatus: 422, wantCode: "invalid_request",
		},
		{
			name: "report without checked_urls", method: "POST", path: "/v1/drivers/generic-web/stable-verification", header: post,
			body: body(t, match, func(v map[string]any) { delete(v, "checked_urls") }), wantStatus: 422, wantCode: "invalid_request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, WithToken("tok"))
			s.AddIdentity(stable())
			a := send(t, s, tt.method, tt.path, tt.header, tt.body)
			if a.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", a.status, tt.wantStatus)
			}
			if got := code(a); got != tt.wantCode {
				t.Errorf("error.code = %q, want %q", got, tt.wantCode)
			}
			if tr, _ := a.body["trace_id"].(string); tr == "" {
				t.Errorf("trace_id = %q, want one", tr)
			}
			wantEnv := map[int]string{200: "ok", 202: "accepted"}[tt.wantStatus]
			if wantEnv == "" {
				wantEnv = "rejected"
			}
			if a.body["status"] != wantEnv {
				t.Errorf("envelope status = %v, want %q", a.body["status"], wantEnv)
			}
			if tt.wantRIS != "" {
				res, _ := a.body["result"].(map[string]any)
				if res["runtime_identity_status"] != tt.wantRIS {
					t.Errorf("result.runtime_identity_status = %v, want %q", res["runtime_identity_status"], tt.wantRIS)
				}
				if vs := s.Verifications(); len(vs) != 1 || string(vs[0].RuntimeIdentityStatus) != tt.wantRIS {
					t.Errorf("Verifications() = %+v, want one %q", vs, tt.wantRIS)
				}
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("Requests() = %d, want 1", n)
			}
		})
	}
}

func TestServerRecordShape(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.AddIdentity(stable())
	a := send(t, s, "GET", "/v1/deployments/"+stable().DeploymentRecordID, map[string]string{"Authorization": "Bearer x"}, "")
	rec, _ := a.body["record"].(map[string]any)
	deploy, _ := rec["deploy"].(map[string]any)
	got := map[string]any{
		"deployment_record_id": rec["deployment_record_id"],
		"deployment_id":        deploy["deployment_id"],
		"runtime_identity":     rec["runtime_identity"] != nil,
	}
	want := map[string]any{
		"deployment_record_id": stable().DeploymentRecordID,
		"deployment_id":        "control-plane-dokploy",
		"runtime_identity":     true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("record mismatch (-want +got):\n%s", diff)
	}
}

func TestServerIdempotency(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.AddIdentity(stable())
	h := map[string]string{"Authorization": "Bearer x", "Content-Type": "application/json", "Idempotency-Key": "k"}
	first := send(t, s, "POST", "/v1/drivers/generic-web/stable-verification", h, body(t, nil, nil))
	// Same payload, keys reordered: the same answer.
	var m map[string]any
	json.Unmarshal([]byte(body(t, nil, nil)), &m)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.Encode(m)
	replay := send(t, s, "POST", "/v1/drivers/generic-web/stable-verification", h, buf.String())
	if diff := cmp.Diff(first.body, replay.body); diff != "" || replay.status != 202 {
		t.Errorf("replay = %d, mismatch (-first +replay):\n%s", replay.status, diff)
	}
	conflict := send(t, s, "POST", "/v1/drivers/generic-web/stable-verification", h,
		body(t, nil, func(v map[string]any) { v["verification_status"] = "fail" }))
	if conflict.status != 409 || code(conflict) != "idempotency_conflict" {
		t.Errorf("conflicting replay = %d %q, want 409 idempotency_conflict", conflict.status, code(conflict))
	}
	if n := len(s.Verifications()); n != 1 {
		t.Errorf("Verifications() = %d, want 1", n)
	}
}

func TestServerFailNext(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.AddIdentity(stable())
	s.FailNext(1, 503)
	s.FailNext(1, 429)
	h := map[string]string{"Authorization": "Bearer x"}
	path := "/v1/deployments/" + stable().DeploymentRecordID
	var got []int
	var retryAfter string
	for range 3 {
		a := send(t, s, "GET", path, h, "")
		got = append(got, a.status)
		if a.status == 429 {
			retryAfter = a.header.Get("Retry-After")
		}
	}
	if diff := cmp.Diff([]int{503, 429, 200}, got); diff != "" || retryAfter != "1" {
		t.Errorf("statuses mismatch (-want +got):\n%s; Retry-After %q, want 1", diff, retryAfter)
	}
}

func TestServerEchoedToken(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithToken("right"), WithEchoedToken())
	a := send(t, s, "GET", "/v1/deployments/x", map[string]string{"Authorization": "Bearer planted"}, "")
	e, _ := a.body["error"].(map[string]any)
	if msg, _ := e["message"].(string); !strings.Contains(msg, "Bearer planted") {
		t.Errorf("error.message = %q, want the echoed token", msg)
	}
}

// recordingTB captures Errorf calls, to check that the fake fails loudly.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.errs = append(r.errs, format)
	r.mu.Unlock()
}

func TestServerUnknownRouteIsLoud(t *testing.T) {
	t.Parallel()
	rec := &recordingTB{TB: t}
	s := NewServer(rec)
	a := send(t, s, "GET", "/v1/inventory/c/prod", map[string]string{"Authorization": "Bearer x"}, "")
	if a.status != 404 {
		t.Errorf("status = %d, want 404", a.status)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) != 1 {
		t.Errorf("Errorf calls = %d, want 1", len(rec.errs))
	}
}
