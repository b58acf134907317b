package ghdeploytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/launchplane/runtime-identity/internal/contracttest"
)

// recTB records Errorf calls instead of failing, so tests can check the fake is loud.
type recTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recTB) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func send(t *testing.T, s *Server, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer test-token")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestRoutesExistInContract(t *testing.T) {
	t.Parallel()
	spec := contracttest.Load(t, contracttest.GitHub)
	for _, rt := range routes {
		if !spec.HasOperation(rt.method, rt.pattern) {
			t.Errorf("HasOperation(%s, %s) = false, want true: the fake serves a route the contract lacks", rt.method, rt.pattern)
		}
	}
	if len(routes) == 0 {
		t.Fatal("routes is empty")
	}
}

// checkResponse validates body against the contract's schema for the operation's answer.
func checkResponse(t *testing.T, spec *contracttest.Spec, method, pattern string, status int, body []byte) {
	t.Helper()
	item := spec.Doc().Paths.Find(pattern)
	if item == nil {
		t.Fatalf("contract has no path %s", pattern)
	}
	op := item.GetOperation(method)
	if op == nil {
		t.Fatalf("contract has no %s %s", method, pattern)
	}
	ref := op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		t.Fatalf("%s %s: contract declares no %d response", method, pattern, status)
	}
	mt := ref.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return // no schema to check (409 and the like)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s %s: response is not JSON: %v", method, pattern, err)
	}
	if err := mt.Schema.Value.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.MultiErrors(), openapi3.EnableFormatValidation()); err != nil {
		t.Errorf("%s %s %d: response breaks the contract: %v", method, pattern, status, err)
	}
}

func TestResponsesFollowContract(t *testing.T) {
	t.Parallel()
	spec := contracttest.Load(t, contracttest.GitHub)
	s := NewServer(t, WithNow(func() time.Time { return fixedNow }))
	const sha = "0123456789abcdef0123456789abcdef01234567"
	steps := []struct {
		name, method, path, pattern, body string
		want                              int
	}{
		{"create deployment", "POST", "/repos/o/r/deployments", "/repos/{owner}/{repo}/deployments",
			`{"ref":"` + sha + `","auto_merge":false,"required_contexts":[],"payload":{"a":1},"environment":"ctx/inst","transient_environment":true,"production_environment":false}`, 201},
		{"create deployment, minimal", "POST", "/repos/o/r/deployments", "/repos/{owner}/{repo}/deployments", `{"ref":"main"}`, 201},
		{"get deployment", "GET", "/repos/o/r/deployments/1", "/repos/{owner}/{repo}/deployments/{deployment_id}", "", 200},
		{"get missing deployment", "GET", "/repos/o/r/deployments/99", "/repos/{owner}/{repo}/deployments/{deployment_id}", "", 404},
		{"create status", "POST", "/repos/o/r/deployments/1/statuses", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
			`{"state":"in_progress","description":"verifying","log_url":"https://github.com/o/r/actions/runs/1","environment_url":"https://app.example.com/"}`, 201},
		{"create minimal status", "POST", "/repos/o/r/deployments/1/statuses", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", `{"state":"success"}`, 201},
		{"list statuses", "GET", "/repos/o/r/deployments/1/statuses", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", "", 200},
		{"list statuses of missing deployment", "GET", "/repos/o/r/deployments/99/statuses", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", "", 404},
		{"create commit status", "POST", "/repos/o/r/statuses/" + sha, "/repos/{owner}/{repo}/statuses/{sha}",
			`{"state":"success","context":"runtime-identity/ctx/inst","description":"match","target_url":"https://github.com/o/r/actions/runs/1"}`, 201},
		{"create minimal commit status", "POST", "/repos/o/r/statuses/" + sha, "/repos/{owner}/{repo}/statuses/{sha}", `{"state":"pending"}`, 201},
	}
	// Sequential: later steps read what earlier ones created.
	for _, st := range steps {
		resp, body := send(t, s, st.method, st.path, st.body)
		if resp.StatusCode != st.want {
			t.Fatalf("%s: status = %d, want %d; body %s", st.name, resp.StatusCode, st.want, body)
		}
		checkResponse(t, spec, st.method, st.pattern, st.want, body)
	}
}

func TestFaultsAnswerLikeGitHub(t *testing.T) {
	t.Parallel()
	spec := contracttest.Load(t, contracttest.GitHub)
	tests := []struct {
		name        string
		fault       Fault
		wantStatus  int
		wantHeaders map[string]string
		wantInBody  string
	}{
		{"secondary rate limit", Fault{Kind: SecondaryRateLimit, RetryAfter: "7"}, 403,
			map[string]string{"Retry-After": "7"}, `secondary-rate-limits"`},
		{"too many requests", Fault{Kind: TooManyRequests, RetryAfter: "5"}, 429,
			map[string]string{"Retry-After": "5"}, "secondary rate limit"},
		{"primary rate limit", Fault{Kind: PrimaryRateLimit, ResetIn: 30 * time.Second}, 403,
			map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": fmt.Sprint(fixedNow.Add(30 * time.Second).Unix())}, "API rate limit exceeded"},
		{"server error default", Fault{Kind: ServerError}, 502, nil, "Bad Gateway"},
		{"server error 503", Fault{Kind: ServerError, Status: 503}, 503, nil, "Service Unavailable"},
		{"validation failed", Fault{Kind: ValidationFailed}, 422, nil, `"code":"custom"`},
		{"auto merged", Fault{Kind: AutoMerged}, 202, nil, "Auto-merged main into main on deployment."},
		{"message override", Fault{Kind: ServerError, Message: "custom words"}, 502, nil, "custom words"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, WithNow(func() time.Time { return fixedNow }))
			s.FailNext(1, tt.fault)
			resp, body := send(t, s, "POST", "/repos/o/r/deployments", `{"ref":"main"}`)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			for k, v := range tt.wantHeaders {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if !strings.Contains(string(body), tt.wantInBody) {
				t.Errorf("body = %s, want it to contain %q", body, tt.wantInBody)
			}
			if tt.wantStatus == 422 || tt.wantStatus == 202 {
				checkResponse(t, spec, "POST", "/repos/{owner}/{repo}/deployments", tt.wantStatus, body)
			}
			if got := len(s.Deployments()); got != 0 {
				t.Errorf("len(Deployments()) = %d after a fault, want 0", got)
			}
			// The fault is used up: the next request succeeds.
			if resp, _ := send(t, s, "POST", "/repos/o/r/deployments", `{"ref":"main"}`); resp.StatusCode != 201 {
				t.Errorf("status after the fault = %d, want 201", resp.StatusCode)
			}
			wantCalls := []int{tt.wantStatus, 201}
			var gotCalls []int
			for _, c := range s.Calls() {
				gotCalls = append(gotCalls, c.Status)
			}
			if diff := cmp.Diff(wantCalls, gotCalls); diff != "" {
				t.Errorf("Calls() statuses mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFailNextCountsAndOperation(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	s.FailNext(2, Fault{Kind: ServerError, Operation: "repos/create-deployment-status"})
	var got []int
	for _, c := range []struct{ path, body string }{
		{"/repos/o/r/deployments", `{"ref":"main"}`},
		{"/repos/o/r/deployments/1/statuses", `{"state":"in_progress"}`},
		{"/repos/o/r/deployments/1/statuses", `{"state":"in_progress"}`},
		{"/repos/o/r/deployments/1/statuses", `{"state":"in_progress"}`},
	} {
		resp, _ := send(t, s, "POST", c.path, c.body)
		got = append(got, resp.StatusCode)
	}
	if diff := cmp.Diff([]int{201, 502, 502, 201}, got); diff != "" {
		t.Errorf("statuses mismatch (-want +got):\n%s", diff)
	}
	wantOps := []string{"repos/create-deployment", "repos/create-deployment-status", "repos/create-deployment-status", "repos/create-deployment-status"}
	if diff := cmp.Diff(wantOps, s.Operations()); diff != "" {
		t.Errorf("Operations() mismatch (-want +got):\n%s", diff)
	}
}

func TestInvalidRequestsAreLoud(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", MaxDescription+1)
	tests := []struct {
		name, method, path, body string
		noAuth                   bool
		wantStatus               int
		wantErr                  string
	}{
		{"deployment without ref", "POST", "/repos/o/r/deployments", `{"environment":"x"}`, false, 422, "breaks the GitHub contract"},
		{"required_contexts null", "POST", "/repos/o/r/deployments", `{"ref":"main","required_contexts":null}`, false, 422, "breaks the GitHub contract"},
		{"payload array", "POST", "/repos/o/r/deployments", `{"ref":"main","payload":[1]}`, false, 422, "breaks the GitHub contract"},
		{"status state outside the enum", "POST", "/repos/o/r/deployments/1/statuses", `{"state":"done"}`, false, 422, "breaks the GitHub contract"},
		{"status without state", "POST", "/repos/o/r/deployments/1/statuses", `{"description":"x"}`, false, 422, "breaks the GitHub contract"},
		{"status description over 140", "POST", "/repos/o/r/deployments/1/statuses", `{"state":"success","description":"` + long + `"}`, false, 422, "more than 140"},
		{"commit status state in_progress", "POST", "/repos/o/r/statuses/abc", `{"state":"in_progress"}`, false, 422, "breaks the GitHub contract"},
		{"route outside the fake", "DELETE", "/repos/o/r/deployments/1", "", false, 404, "serves no such route"},
		{"unknown path", "GET", "/user", "", false, 404, "serves no such route"},
		{"no token", "POST", "/repos/o/r/deployments", `{"ref":"main"}`, true, 401, "no Bearer token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recTB{TB: t}
			s := NewServer(rec)
			req, err := http.NewRequest(tt.method, s.URL()+tt.path, bytes.NewBufferString(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if !tt.noAuth {
				req.Header.Set("Authorization", "Bearer t")
			}
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			errs := rec.errors()
			if len(errs) != 1 || !strings.Contains(errs[0], tt.wantErr) {
				t.Errorf("Errorf calls = %q, want one containing %q", errs, tt.wantErr)
			}
			if n := len(s.Calls()); n != 1 {
				t.Errorf("len(Calls()) = %d, want 1", n)
			}
		})
	}
}

func TestWithTokenRejectsOtherTokens(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithToken("right"))
	resp, _ := send(t, s, "POST", "/repos/o/r/deployments", `{"ref":"main"}`) // sends "test-token"
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", resp.StatusCode)
	}
	if n := len(s.Deployments()); n != 0 {
		t.Errorf("len(Deployments()) = %d, want 0", n)
	}
}

func TestStatusSemantics(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	post := func(path, body string) {
		t.Helper()
		if resp, b := send(t, s, "POST", path, body); resp.StatusCode != 201 {
			t.Fatalf("POST %s = %d %s, want 201", path, resp.StatusCode, b)
		}
	}
	// 1: staging, success. 2: staging, transient. 3: staging, renamed by its first status.
	post("/repos/o/r/deployments", `{"ref":"main","environment":"staging","production_environment":false}`)
	post("/repos/o/r/deployments/1/statuses", `{"state":"success"}`)
	post("/repos/o/r/deployments", `{"ref":"main","environment":"staging","transient_environment":true}`)
	post("/repos/o/r/deployments/2/statuses", `{"state":"in_progress"}`)
	post("/repos/o/r/deployments", `{"ref":"main","environment":"staging"}`)
	post("/repos/o/r/deployments/3/statuses", `{"state":"in_progress","environment":"renamed","log_url":"https://l.example/1"}`)
	post("/repos/o/r/deployments/3/statuses", `{"state":"success"}`)

	states := func(id int64) []string {
		var out []string
		for _, st := range s.Statuses(id) {
			out = append(out, st.State)
		}
		return out
	}
	// Deployment 3 moved to "renamed": its success leaves staging alone.
	if diff := cmp.Diff([]string{"success"}, states(1)); diff != "" {
		t.Errorf("Statuses(1) mismatch (-want +got):\n%s", diff)
	}
	got := s.Statuses(3)
	if len(got) != 2 || got[1].Environment != "renamed" || got[0].TargetURL != "https://l.example/1" {
		t.Errorf("Statuses(3) = %+v, want environment carried over and target_url from log_url", got)
	}
	if d := s.Deployments()[2]; d.Environment != "renamed" || d.OriginalEnvironment != "staging" {
		t.Errorf("deployment 3 environment = %q (original %q), want renamed (original staging)", d.Environment, d.OriginalEnvironment)
	}

	// The transient deployment's success deactivates deployment 1 (it is the prior one that counts).
	post("/repos/o/r/deployments/2/statuses", `{"state":"success"}`)
	if diff := cmp.Diff([]string{"success", "inactive"}, states(1)); diff != "" {
		t.Errorf("Statuses(1) after auto_inactive mismatch (-want +got):\n%s", diff)
	}
	// 4: a production deployment in staging; 5: its successor. Transient 2 and production 4 stay.
	post("/repos/o/r/deployments", `{"ref":"main","environment":"staging","production_environment":true}`)
	post("/repos/o/r/deployments/4/statuses", `{"state":"success"}`)
	post("/repos/o/r/deployments", `{"ref":"main","environment":"staging"}`)
	post("/repos/o/r/deployments/5/statuses", `{"state":"success","auto_inactive":true}`)
	for id, want := range map[int64][]string{1: {"success", "inactive"}, 2: {"in_progress", "success"}, 4: {"success"}} {
		if diff := cmp.Diff(want, states(id)); diff != "" {
			t.Errorf("Statuses(%d) mismatch (-want +got):\n%s", id, diff)
		}
	}
	// auto_inactive:false deactivates nothing.
	post("/repos/o/r/deployments", `{"ref":"main","environment":"staging"}`)
	post("/repos/o/r/deployments/6/statuses", `{"state":"success","auto_inactive":false}`)
	if diff := cmp.Diff([]string{"success"}, states(5)); diff != "" {
		t.Errorf("Statuses(5) mismatch (-want +got):\n%s", diff)
	}
}
