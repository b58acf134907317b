package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/launchplane/runtime-identity/internal/demo"
	"github.com/launchplane/runtime-identity/internal/dokploy/dokploytest"
	"github.com/launchplane/runtime-identity/internal/ghdeploy/ghdeploytest"
)

// rollbackEvidence is the rollback object of the evidence file.
type rollbackEvidence struct {
	Status       string          `json:"status"`
	Reason       string          `json:"reason"`
	RollbackID   *string         `json:"rollback_id"`
	DeploymentID *string         `json:"deployment_id"`
	Restored     json.RawMessage `json:"restored_runtime_identity"`
	Verdict      string          `json:"runtime_identity_status"`
	EnvRestored  bool            `json:"env_restored"`
}

func readRollback(t *testing.T, res result) rollbackEvidence {
	t.Helper()
	var ev struct {
		Rollback *rollbackEvidence `json:"rollback"`
	}
	if err := json.Unmarshal(res.evidence, &ev); err != nil || ev.Rollback == nil {
		t.Fatalf("evidence has no rollback object (%v):\n%s", err, res.evidence)
	}
	return *ev.Rollback
}

// TestRollback covers on-failure: rollback against the fake's rollbacks, which follow Dokploy's:
// a snapshot per build, rollback.rollback restarting the tenant with the snapshot's env and
// leaving the stored env alone.
func TestRollback(t *testing.T) {
	t.Parallel()
	rollbackInputs := func(f *demo.Fake) map[string]string {
		in := deployInputs(f)
		in["on-failure"] = "rollback"
		in["require-identity"] = "true"
		in["verify-timeout"] = "6s"
		return in
	}
	t.Run("required mismatch rolls back and verifies the previous identity", func(t *testing.T) {
		t.Parallel()
		sc, _ := demo.Lookup("rollback")
		f := startScenario(t, "rollback")
		before := f.Server.Env(demo.ServiceID)
		gh := ghdeploytest.NewServer(t, ghdeploytest.WithToken(ghToken))
		in := rollbackInputs(f)
		in["github-deployment"] = "true"
		res := runAsRunner(t, runnerOpts{inputs: in, env: map[string]string{"GITHUB_API_URL": gh.URL()}})
		if res.code != 1 || res.outputs["status"] != "mismatch" || res.outputs["rollback-status"] != "rolled-back" {
			t.Fatalf("exit %d status %q rollback %q, want 1 mismatch rolled-back\n%s", res.code, res.outputs["status"], res.outputs["rollback-status"], res.stdout)
		}
		if got := res.outputs["rollback-deployment-id"]; got != f.PreviousDeploymentID {
			t.Errorf("rollback-deployment-id = %q, want the earlier done deployment %q", got, f.PreviousDeploymentID)
		}
		ev := readRollback(t, res)
		if ev.Verdict != "match" || !ev.EnvRestored || ev.RollbackID == nil || *ev.RollbackID != f.Server.RollbackID(f.PreviousDeploymentID) ||
			!strings.Contains(string(ev.Restored), demo.Previous().DeploymentRecordID) {
			t.Errorf("rollback evidence = %+v, want the previous identity verified and the env restored", ev)
		}
		assertPatchedTo(t, before, f.Server.Env(demo.ServiceID), demo.Previous())
		if !strings.Contains(res.summary, "### Rollback") {
			t.Errorf("the summary has no Rollback section:\n%s", res.summary)
		}
		deps := gh.Deployments()
		if len(deps) != 1 {
			t.Fatalf("%d GitHub deployments, want 1", len(deps))
		}
		sts := gh.Statuses(deps[0].ID)
		if last := sts[len(sts)-1]; last.State != "failure" || !strings.Contains(last.Description, "rollback: rolled-back") {
			t.Errorf("final GitHub status %s %q, want failure saying it was rolled back", last.State, last.Description)
		}
		assertNoLeakOf(t, res, f, demo.SecretsFor(sc))
	})
	t.Run("a rollout error rolls back", func(t *testing.T) {
		t.Parallel()
		sc := demo.Scenario{Name: "rollback-error", Rollbacks: true, Arm: func(s *dokploytest.Server) { s.FailNextDeployment("error: build failed") }}
		f := startCustom(t, sc)
		before := f.Server.Env(demo.ServiceID)
		res := runAsRunner(t, runnerOpts{inputs: rollbackInputs(f)})
		if res.code != 1 || res.outputs["status"] != "unchecked" || res.outputs["rollback-status"] != "rolled-back" {
			t.Fatalf("exit %d status %q rollback %q, want 1 unchecked rolled-back\n%s", res.code, res.outputs["status"], res.outputs["rollback-status"], res.stdout)
		}
		assertPatchedTo(t, before, f.Server.Env(demo.ServiceID), demo.Previous())
		assertNoLeakOf(t, res, f, demo.SecretsFor(sc))
	})
	t.Run("rollbacks off: not possible, nothing restored", func(t *testing.T) {
		t.Parallel()
		f := startCustom(t, demo.Scenario{Name: "no-rollbacks", Arm: demo.ServeWrongIdentity})
		before := f.Server.Env(demo.ServiceID)
		res := runAsRunner(t, runnerOpts{inputs: rollbackInputs(f)})
		if res.code != 1 || res.outputs["rollback-status"] != "not-possible" {
			t.Fatalf("exit %d rollback %q, want 1 not-possible\n%s", res.code, res.outputs["rollback-status"], res.stdout)
		}
		if ev := readRollback(t, res); !strings.Contains(ev.Reason, "rollbacks are off") || ev.EnvRestored {
			t.Errorf("rollback evidence = %+v, want the reason and nothing restored", ev)
		}
		// The env stays as the forward deploy left it.
		assertPatchedTo(t, before, f.Server.Env(demo.ServiceID), demo.Expected())
		if f.Server.Calls("rollback.rollback") != 0 {
			t.Errorf("rollback.rollback was called although rollbacks are off")
		}
	})
	t.Run("the rollback call fails: failed, env left as the forward deploy left it", func(t *testing.T) {
		t.Parallel()
		f := startCustom(t, demo.Scenario{Name: "rollback-refused", Rollbacks: true, Arm: func(s *dokploytest.Server) {
			demo.ServeWrongIdentity(s)
			s.FailNextRollback()
		}})
		before := f.Server.Env(demo.ServiceID)
		res := runAsRunner(t, runnerOpts{inputs: rollbackInputs(f)})
		if res.code != 1 || res.outputs["rollback-status"] != "failed" {
			t.Fatalf("exit %d rollback %q, want 1 failed\n%s", res.code, res.outputs["rollback-status"], res.stdout)
		}
		if ev := readRollback(t, res); !strings.Contains(ev.Reason, "refused") || ev.EnvRestored || string(ev.Restored) != "null" {
			t.Errorf("rollback evidence = %+v, want Dokploy's refusal and nothing restored", ev)
		}
		if !strings.Contains(res.summary, "nothing was changed") || strings.Contains(res.summary, "rolled back to Dokploy deployment") {
			t.Errorf("the summary must say the rollback changed nothing:\n%s", res.summary)
		}
		assertPatchedTo(t, before, f.Server.Env(demo.ServiceID), demo.Expected())
	})
	t.Run("a compose target cannot roll back", func(t *testing.T) {
		t.Parallel()
		f := startScenario(t, "compose")
		in := deployInputs(f)
		in["on-failure"] = "rollback"
		res := runAsRunner(t, runnerOpts{inputs: in})
		if res.code != 2 || !strings.Contains(res.stdout, "input on-failure: Dokploy has no rollbacks for compose services") {
			t.Errorf("exit %d, want 2 naming on-failure\n%s", res.code, res.stdout)
		}
	})
}
