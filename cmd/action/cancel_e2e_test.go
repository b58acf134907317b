package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/demo"
	"github.com/launchplane/runtime-identity/internal/ghdeploy/ghdeploytest"
)

// cancelledEvidence reads the stage and the verdict a cancelled run wrote into its evidence.
func cancelledEvidence(t *testing.T, res result) (stage, status string) {
	t.Helper()
	var ev struct {
		Cancelled *string `json:"cancelled"`
		Status    string  `json:"runtime_identity_status"`
	}
	if err := json.Unmarshal(res.evidence, &ev); err != nil {
		t.Fatalf("evidence: %v\n%s", err, res.evidence)
	}
	if ev.Cancelled == nil {
		return "", ev.Status
	}
	return *ev.Cancelled, ev.Status
}

// TestCancelledAtEveryStage sends SIGTERM, as the runner does when a job is cancelled, in each
// stage of a run: the run stops at once, keeps its last observation as the verdict, says
// "cancelled" and where in the summary and the evidence, and leaves the env either untouched or
// fully patched.
func TestCancelledAtEveryStage(t *testing.T) {
	t.Parallel()
	want := prExpected()
	t.Run("verify", func(t *testing.T) {
		t.Parallel()
		in := prInputs(tenant(t, serveJSON(200, healthBody(string(stale(want).Canonical())))))
		in["verify-timeout"] = "5m"
		in["github-deployment"] = "false"
		res := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent(), sigtermWhen: "probe 1:"})
		stage, status := cancelledEvidence(t, res)
		if res.code != 3 || res.outputs["status"] != "mismatch" || stage != "verify" || status != "mismatch" {
			t.Fatalf("exit %d status %q, evidence cancelled %q status %q; want 3, the last observation mismatch, cancelled in verify\n%s", res.code, res.outputs["status"], stage, status, res.stdout)
		}
		if head := strings.SplitN(res.summary, "\n", 2)[0]; !strings.Contains(head, "cancelled during the verify step") || !strings.Contains(head, "mismatch") {
			t.Errorf("summary heading %q, want the cancellation, its stage and the last observation", head)
		}
	})
	t.Run("rollout", func(t *testing.T) {
		t.Parallel()
		f := startScenario(t, "timeout") // the deployment runs for 30 s
		before := f.Server.Env(demo.ServiceID)
		in := deployInputs(f)
		in["rollout-timeout"] = "5m"
		res := runAsRunner(t, runnerOpts{inputs: in, sigtermWhen: "rollout: running"})
		stage, status := cancelledEvidence(t, res)
		if res.code != 3 || stage != "rollout" || status != "unchecked" {
			t.Fatalf("exit %d, evidence cancelled %q status %q; want 3, cancelled in rollout, unchecked\n%s", res.code, stage, status, res.stdout)
		}
		// The env was fully patched before the trigger.
		assertPatched(t, before, f.Server.Env(demo.ServiceID))
		assertNoLeak(t, res, f)
	})
	t.Run("inject", func(t *testing.T) {
		t.Parallel()
		f := startScenario(t, "happy")
		f.Server.SetLatency(3 * time.Second)
		before := f.Server.Env(demo.ServiceID)
		res := runAsRunner(t, runnerOpts{inputs: deployInputs(f), sigtermWhen: "expected identity:"})
		stage, _ := cancelledEvidence(t, res)
		if res.code != 3 || stage != "inject" {
			t.Fatalf("exit %d, evidence cancelled %q; want 3, cancelled in inject\n%s", res.code, stage, res.stdout)
		}
		if got := f.Server.Env(demo.ServiceID); got != before {
			t.Errorf("the env changed although the run was cancelled before writing:\n%s", got)
		}
		if d := res.exited.Sub(res.signalled); d > 5*time.Second {
			t.Errorf("the run took %s to stop after SIGTERM while a request was in flight", d)
		}
	})
	// GitHub stops answering: the in_progress status hangs, SIGTERM arrives, and the final
	// status is still attempted, bounded, so the step ends within the runner's grace period.
	t.Run("report with GitHub stalled", func(t *testing.T) {
		t.Parallel()
		gh := ghdeploytest.NewServer(t, ghdeploytest.WithToken(ghToken))
		gh.FailNext(10, ghdeploytest.Fault{Kind: ghdeploytest.Stall, Operation: "repos/create-deployment-status"})
		in := prInputs(tenant(t, serveJSON(200, healthBody(string(want.Canonical())))))
		res := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent(),
			env: map[string]string{"GITHUB_API_URL": gh.URL()}, sigtermWhen: "GitHub deployment"})
		if res.code != 3 || res.summary == "" || len(res.evidence) == 0 {
			t.Fatalf("exit %d, summary %d bytes, evidence %d bytes; want 3 and both written\n%s", res.code, len(res.summary), len(res.evidence), res.stdout)
		}
		// The final status gets at most 10 s; the rest is start-up and the report.
		if d := res.exited.Sub(res.signalled); d > 13*time.Second {
			t.Errorf("the run took %s to stop after SIGTERM with GitHub stalled, want the final status bounded at 10s", d)
		}
		if n := len(gh.Deployments()); n != 1 {
			t.Errorf("%d GitHub deployments, want 1", n)
		}
	})
}
