package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/demo"
	"github.com/launchplane/runtime-identity/internal/ghdeploy/ghdeploytest"
)

// TestGitHubDeploymentCalls checks the GitHub calls a run makes, in order, and that a GitHub
// failure never changes the verdict or the exit code.
func TestGitHubDeploymentCalls(t *testing.T) {
	t.Parallel()
	want := prExpected()
	tests := []struct {
		name       string
		scenario   string // a deploy scenario; "" runs verify against handler
		handler    string // verify tenant: match, stale, missing, html
		fault      *ghdeploytest.Fault
		faultLate  bool // arm the fault once the tenant is first probed: it hits the final status
		required   bool
		commit     bool
		code       int
		status     string
		finalState string
		ops        []string
		warning    bool
	}{
		{name: "match", handler: "match", commit: true, status: "match", finalState: "success",
			ops: []string{"repos/create-deployment", "repos/create-deployment-status", "repos/create-deployment-status", "repos/create-commit-status"}},
		{name: "mismatch", handler: "stale", status: "mismatch", finalState: "failure",
			ops: []string{"repos/create-deployment", "repos/create-deployment-status", "repos/create-deployment-status"}},
		{name: "missing", handler: "missing", status: "missing", finalState: "success",
			ops: []string{"repos/create-deployment", "repos/create-deployment-status", "repos/create-deployment-status"}},
		{name: "unverifiable", handler: "html", status: "unverifiable", finalState: "error",
			ops: []string{"repos/create-deployment", "repos/create-deployment-status", "repos/create-deployment-status"}},
		{name: "rollout error", scenario: "error", code: 1, status: "unchecked", finalState: "failure",
			ops: []string{"repos/create-deployment", "repos/create-deployment-status", "repos/create-deployment-status"}},
		{name: "5xx during the status write", handler: "stale", status: "mismatch", warning: true,
			fault: &ghdeploytest.Fault{Kind: ghdeploytest.ServerError, Operation: "repos/create-deployment-status", Status: 503},
			// in_progress fails three times (retried, then given up: a warning), the final status lands.
			ops: []string{"repos/create-deployment", "repos/create-deployment-status", "repos/create-deployment-status", "repos/create-deployment-status", "repos/create-deployment-status"}, finalState: "failure"},
		{name: "5xx on the final status, required", handler: "stale", status: "mismatch", warning: true, required: true, code: 1,
			fault: &ghdeploytest.Fault{Kind: ghdeploytest.ServerError, Operation: "repos/create-deployment-status", Status: 502}, faultLate: true,
			// the final status fails three times and is given up: the deployment stays in_progress,
			// and the verdict and exit code are what they would have been.
			ops: []string{"repos/create-deployment", "repos/create-deployment-status", "repos/create-deployment-status", "repos/create-deployment-status", "repos/create-deployment-status"}, finalState: "in_progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gh := ghdeploytest.NewServer(t, ghdeploytest.WithToken(ghToken))
			if tt.fault != nil && !tt.faultLate {
				gh.FailNext(3, *tt.fault)
			}
			var armed atomic.Bool
			env := map[string]string{"GITHUB_API_URL": gh.URL()}
			var res result
			var fake *demo.Fake
			if tt.scenario != "" {
				f := startScenario(t, tt.scenario)
				fake = f
				in := deployInputs(f)
				in["github-deployment"] = "true"
				res = runAsRunner(t, runnerOpts{inputs: in, env: env})
			} else {
				body := map[string]string{
					"match":   healthBody(string(want.Canonical())),
					"stale":   healthBody(string(stale(want).Canonical())),
					"missing": `{"status":"ok"}`,
					"html":    "<html></html>",
				}[tt.handler]
				in := prInputs(tenant(t, func(w http.ResponseWriter, r *http.Request) {
					if tt.faultLate && armed.CompareAndSwap(false, true) {
						gh.FailNext(3, *tt.fault)
					}
					serveJSON(200, body)(w, r)
				}))
				in["commit-status"] = fmt.Sprint(tt.commit)
				in["require-identity"] = fmt.Sprint(tt.required)
				res = runAsRunner(t, runnerOpts{inputs: in, env: env, eventName: "pull_request", event: prEvent()})
			}
			if res.code != tt.code || res.outputs["status"] != tt.status {
				t.Fatalf("exit %d status %q, want %d %q\n%s\n%s", res.code, res.outputs["status"], tt.code, tt.status, res.stdout, res.stderr)
			}
			if diff := cmp.Diff(tt.ops, gh.Operations()); diff != "" {
				t.Errorf("GitHub operations (-want +got):\n%s", diff)
			}
			deps := gh.Deployments()
			if len(deps) != 1 {
				t.Fatalf("%d deployments created, want 1", len(deps))
			}
			d := deps[0]
			if d.AutoMerge == nil || *d.AutoMerge || d.RequiredContexts == nil || len(*d.RequiredContexts) != 0 {
				t.Errorf("deployment request %s: want auto_merge false and required_contexts []", d.Request)
			}
			if id := res.outputs["github-deployment-id"]; id == "" {
				t.Errorf("github-deployment-id output is empty")
			}
			var payload struct {
				RuntimeIdentity map[string]any `json:"runtime_identity"`
			}
			if err := json.Unmarshal(d.Payload, &payload); err != nil || payload.RuntimeIdentity["deployment_record_id"] == nil {
				t.Errorf("payload %s does not carry the expected identity", d.Payload)
			}
			sts := gh.Statuses(d.ID)
			if len(sts) < 1 {
				t.Fatalf("no statuses")
			}
			last := sts[len(sts)-1]
			if last.State != tt.finalState {
				t.Errorf("final status %q, want %q", last.State, tt.finalState)
			}
			if !strings.Contains(last.Description, tt.status) && tt.status != "unchecked" && last.State != "in_progress" {
				t.Errorf("final description %q does not state the verdict %s", last.Description, tt.status)
			}
			if last.LogURL != "https://github.com/acme/shop/actions/runs/4242" {
				t.Errorf("log_url = %q, want the run", last.LogURL)
			}
			if tt.scenario == "" && (d.Environment != want.Context+"/"+want.Instance || d.Transient == nil || !*d.Transient) {
				t.Errorf("deployment environment %q transient %v, want %s/%s transient", d.Environment, d.Transient, want.Context, want.Instance)
			}
			if tt.warning && !strings.Contains(strings.Join(annotations(res.stdout, "warning"), "\n"), "GitHub") {
				t.Errorf("a GitHub failure must be a warning annotation:\n%s", res.stdout)
			}
			if tt.commit {
				cs := gh.CommitStatuses()
				if len(cs) != 1 || cs[0].Context != "runtime-identity/"+want.Context+"/"+want.Instance || cs[0].SHA != headSHA || cs[0].State != "success" {
					t.Errorf("commit statuses = %+v", cs)
				}
			}
			checkGolden(t, "github-"+strings.NewReplacer(" ", "-", ",", "").Replace(tt.name), res)
			for _, c := range gh.Calls() {
				for _, s := range append(demo.Secrets(), ghToken) {
					if strings.Contains(c.Body, s) || strings.Contains(c.Path, s) {
						t.Errorf("GitHub request %s %s carries a planted secret %q", c.Method, c.Path, s)
					}
				}
			}
			assertNoLeak(t, res, fake)
		})
	}
}
