package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/contracttest"
	"github.com/launchplane/runtime-identity/internal/demo"
	"github.com/launchplane/runtime-identity/internal/dokploy"
	"github.com/launchplane/runtime-identity/internal/dokploy/dokploytest"
)

// startCustom starts the fake Dokploy for an ad-hoc scenario.
func startCustom(t *testing.T, sc demo.Scenario) *demo.Fake {
	t.Helper()
	opts := demo.DefaultOptions()
	opts.Launcher = dokploytest.ProcessLauncher{Path: binary, Args: []string{demo.TenantCommand}}
	opts.Validator = contracttest.Load(t, contracttest.Dokploy)
	opts.OnViolation = func(v string) { t.Errorf("contract violation: %s", v) }
	f, err := demo.Start(sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// TestDefects reproduces, runner-style, each defect the hostile-user review found (issue 7),
// and checks the designed outcome.
func TestDefects(t *testing.T) {
	t.Parallel()
	// 1. A build log echoes a value the target's env only references: the project's secret must
	// not reach the log.
	t.Run("referenced project secret in a failed build's log", func(t *testing.T) {
		t.Parallel()
		sc := demo.Scenario{Name: "references", References: true, Arm: func(s *dokploytest.Server) {
			s.FailNextDeploymentWith(func(env map[string]string) string {
				return "Step 4/9 : RUN ./migrate\nerror: payments rejected token " + env["PAYMENTS_TOKEN"] + "\nsearch token " + env["SEARCH_TOKEN"] + "\nbuild failed"
			})
		}}
		f := startCustom(t, sc)
		res := runAsRunner(t, runnerOpts{inputs: deployInputs(f)})
		if res.code != 1 || !strings.Contains(res.stdout, "payments rejected token ***") {
			t.Fatalf("exit %d, want 1 with the log tail shown redacted\n%s", res.code, res.stdout)
		}
		assertNoLeakOf(t, res, f, demo.SecretsFor(sc))
		assertMasked(t, res, false)
		for _, s := range []string{demo.SecretProjectToken, demo.SecretEnvironmentToken} {
			if !strings.Contains(res.stdout, "::add-mask::"+s) {
				t.Errorf("the referenced value %q was not masked for the runner", s)
			}
		}
	})
	// 2. A hostile row id and title must not start workflow commands of their own.
	t.Run("workflow commands in a row id and title", func(t *testing.T) {
		t.Parallel()
		f := startCustom(t, demo.Scenario{Name: "hostile", Arm: func(s *dokploytest.Server) {
			s.HostileNextRow()
			s.FailNextDeployment("build failed\n::error::pwned in the log\n::add-mask::x")
		}})
		res := runAsRunner(t, runnerOpts{inputs: deployInputs(f)})
		if res.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", res.code, res.stdout)
		}
		assertNoInjectedCommands(t, res.stdout)
		if got := res.outputs["status"]; got != "unchecked" {
			t.Errorf("status output = %q, want unchecked: a row's text must not set outputs", got)
		}
		if id := res.outputs["dokploy-deployment-id"]; strings.ContainsAny(id, "\r\n") {
			t.Errorf("dokploy-deployment-id output %q holds a line break", id)
		}
	})
	// 3. Someone edits the env between our read and our write: the edit is kept.
	t.Run("env edited between our read and our write", func(t *testing.T) {
		t.Parallel()
		f := startCustom(t, demo.Scenario{Name: "edit", Arm: func(s *dokploytest.Server) {
			s.EditAfterNextRead(demo.ServiceID, func(env string) string {
				return strings.Replace(env, "FEATURE_FLAGS=search,checkout", "FEATURE_FLAGS=search", 1) + "ADDED_BY_SOMEONE=yes\n"
			})
		}})
		res := runAsRunner(t, runnerOpts{inputs: deployInputs(f)})
		if res.code != 0 || res.outputs["status"] != "match" {
			t.Fatalf("exit %d status %q, want 0 match\n%s", res.code, res.outputs["status"], res.stdout)
		}
		got := dokploy.ParseEnv(f.Server.Env(demo.ServiceID))
		if got["ADDED_BY_SOMEONE"] != "yes" || got["FEATURE_FLAGS"] != "search" {
			t.Errorf("the edit made between our read and our write was lost: ADDED_BY_SOMEONE=%q FEATURE_FLAGS=%q", got["ADDED_BY_SOMEONE"], got["FEATURE_FLAGS"])
		}
		if got["LAUNCHPLANE_DEPLOYMENT_RECORD_ID"] != demo.Expected().DeploymentRecordID {
			t.Errorf("the identity was not written: %q", got["LAUNCHPLANE_DEPLOYMENT_RECORD_ID"])
		}
		if !strings.Contains(res.summary, "the newer text was patched") {
			t.Errorf("the summary does not say the env changed under us:\n%s", res.summary)
		}
	})
	// 4. Dokploy stops answering mid-rollout: rollout-timeout bounds the run, with its message.
	t.Run("Dokploy stalls mid-rollout", func(t *testing.T) {
		t.Parallel()
		f := startCustom(t, demo.Scenario{Name: "stall", Arm: func(s *dokploytest.Server) {
			s.StallFrom(s.RequestCount() + 7) // the first poll after the trigger
		}})
		in := deployInputs(f)
		in["rollout-timeout"] = "6s"
		start := time.Now()
		res := runAsRunner(t, runnerOpts{inputs: in, timeout: 40 * time.Second})
		if res.code != 3 || !strings.Contains(res.stdout, "rollout timeout: the deployment did not finish within rollout-timeout 6s") {
			t.Fatalf("exit %d after %s, want 3 with the rollout-timeout message\n%s", res.code, time.Since(start).Round(time.Second), res.stdout)
		}
	})
	// 5. A newer row of another service in the target's list never decides the rollout.
	t.Run("another service's row in the list", func(t *testing.T) {
		t.Parallel()
		f := startCustom(t, demo.Scenario{Name: "foreign", Arm: func(s *dokploytest.Server) {
			s.LeakForeignRow("done")
			s.FailNextDeployment("error: build failed")
		}})
		res := runAsRunner(t, runnerOpts{inputs: deployInputs(f)})
		if res.code != 1 || !strings.Contains(res.stdout, "ended with status error") {
			t.Fatalf("exit %d, want 1: the target's own deployment failed\n%s", res.code, res.stdout)
		}
		id := res.outputs["dokploy-deployment-id"]
		if own := f.Server.DeploymentIDs(demo.ServiceID); !slices.Contains(own, id) {
			t.Errorf("dokploy-deployment-id = %q, which is not one of the target's own rows", id)
		}
		if !strings.Contains(strings.Join(annotations(res.stdout, "warning"), "\n"), "other services") {
			t.Errorf("no warning about the other service's row:\n%s", res.stdout)
		}
	})
}

// assertNoInjectedCommands checks that every workflow command in the log is one the program
// meant: text from outside never starts a line.
func assertNoInjectedCommands(t *testing.T, stdout string) {
	t.Helper()
	paused := ""
	for _, l := range strings.Split(stdout, "\n") {
		if paused != "" {
			if l == "::"+paused+"::" {
				paused = ""
			}
			continue
		}
		if tok, ok := strings.CutPrefix(l, "::stop-commands::"); ok {
			paused = tok
			continue
		}
		if strings.HasPrefix(l, "::error::pwned") || strings.HasPrefix(l, "::set-output") || strings.HasPrefix(l, "::add-mask::x") {
			t.Errorf("outside text started a workflow command: %q", l)
		}
	}
}
