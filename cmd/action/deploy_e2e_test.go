package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/launchplane/runtime-identity/internal/contracttest"
	"github.com/launchplane/runtime-identity/internal/demo"
	"github.com/launchplane/runtime-identity/internal/dokploy"
	"github.com/launchplane/runtime-identity/internal/dokploy/dokploytest"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// startScenario starts the fake Dokploy for a demo scenario; its tenants are the built binary's
// example tenant, run as real processes.
func startScenario(t *testing.T, name string) *demo.Fake {
	t.Helper()
	sc, ok := demo.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	opts := demo.DefaultOptions()
	opts.Launcher = dokploytest.ProcessLauncher{Path: binary, Args: []string{demo.TenantCommand}}
	opts.Validator = contracttest.Load(t, contracttest.Dokploy)
	opts.OnViolation = func(msg string) { t.Errorf("%s", msg) }
	f, err := demo.Start(sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func deployInputs(f *demo.Fake) map[string]string {
	in := map[string]string{"github-deployment": "false"}
	for k, v := range f.Inputs {
		in[k] = v
	}
	return in
}

// TestDeployScenarios runs every designed scenario through the built binary, as the runner runs
// it, against the fake Dokploy with the example tenant as a real process.
func TestDeployScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range demo.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			f := startScenario(t, sc.Name)
			before := f.Server.Env(demo.ServiceID)
			res := runAsRunner(t, runnerOpts{inputs: deployInputs(f)})
			if res.code != sc.Exit {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, sc.Exit, res.stdout, res.stderr)
			}
			if got := res.outputs["status"]; got != sc.Status {
				t.Errorf("status = %q, want %q", got, sc.Status)
			}
			if sc.Message != "" && !strings.Contains(res.stdout, sc.Message) {
				t.Errorf("stdout does not say %q:\n%s", sc.Message, res.stdout)
			}
			assertNoLeakOf(t, res, f, demo.SecretsFor(sc))
			assertMasked(t, res, sc.Compose)
			after := f.Server.Env(demo.ServiceID)
			switch sc.Name {
			case "concurrent":
			case "rollback":
				// The rollback restored the previous deployment's identity keys, and only them.
				assertPatchedTo(t, before, after, demo.Previous())
			default:
				assertPatched(t, before, after)
			}
			calls := func(op string) int { return f.Server.Calls(op) }
			switch sc.Name {
			case "error", "lost", "stuck", "unauthorized", "timeout", "concurrent", "compose-no-env":
				// These end the same way every time; the others race a stale window.
				checkGolden(t, "deploy-"+sc.Name, res)
			}
			switch sc.Name {
			case "happy", "stale", "mixed", "5xx":
				if res.outputs["dokploy-deployment-id"] == "" || res.outputs["time-to-match-ms"] == "" {
					t.Errorf("outputs = %v, want dokploy-deployment-id and time-to-match-ms", res.outputs)
				}
				if calls("application.saveEnvironment") != 1 || calls("application.deploy") != 1 {
					t.Errorf("saveEnvironment %d, deploy %d calls; want 1 and 1", calls("application.saveEnvironment"), calls("application.deploy"))
				}
				if sc.Name == "5xx" && calls("application.one") < 4 {
					t.Errorf("application.one called %d times; the 500 burst must have been retried (2 failures, the read, the confirming read)", calls("application.one"))
				}
			case "compose":
				if calls("compose.update") != 1 || calls("compose.deploy") != 1 || calls("application.saveEnvironment") != 0 {
					t.Errorf("compose.update %d, compose.deploy %d calls; want 1 and 1", calls("compose.update"), calls("compose.deploy"))
				}
			case "unauthorized":
				// The key must fail mid-run: after the deploy was triggered, while following it.
				if calls("application.deploy") != 1 {
					t.Errorf("deploy called %d times; the 401 must come after the trigger", calls("application.deploy"))
				}
			case "concurrent":
				if calls("application.deploy") != 0 {
					t.Errorf("a concurrent edit must stop the run before deploying; deploy called %d times", calls("application.deploy"))
				}
			case "error":
				if !strings.Contains(res.stdout, "::group::Dokploy deployment") || !strings.Contains(res.stdout, "build failed with exit code 1") || !strings.Contains(res.stdout, "***") {
					t.Errorf("stdout lacks the masked log tail in a group:\n%s", res.stdout)
				}
			case "compose-no-env":
				if len(annotations(res.stdout, "warning")) == 0 {
					t.Errorf("no warning annotation:\n%s", res.stdout)
				}
			}
			if sc.Name == "mixed" {
				var ev struct {
					Required int `json:"confirmations_required"`
				}
				if err := json.Unmarshal(res.evidence, &ev); err != nil || ev.Required != 4 {
					t.Errorf("two replicas must require 4 consecutive matches; evidence says %d (%v)", ev.Required, err)
				}
			}
		})
	}
}

// assertPatched checks the env after the run: the identity keys exactly once each, and every
// other line as it was.
func assertPatched(t *testing.T, before, after string) {
	t.Helper()
	assertPatchedTo(t, before, after, demo.Expected())
}

// assertPatchedTo checks that the env after holds want's four identity keys, each exactly once,
// and that every other line is as it was before.
func assertPatchedTo(t *testing.T, before, after string, want identity.Identity) {
	t.Helper()
	got := dokploy.ParseEnv(after)
	for _, kv := range want.EnvVars() {
		if got[kv.Key] != kv.Value {
			t.Errorf("env %s = %q, want %q", kv.Key, got[kv.Key], kv.Value)
		}
		if n := strings.Count(after, "\n"+kv.Key+"=") + boolInt(strings.HasPrefix(after, kv.Key+"=")); n != 1 {
			t.Errorf("env has %d %s lines, want exactly 1", n, kv.Key)
		}
	}
	strip := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			isOurs := false
			for _, k := range identity.EnvKeys {
				if strings.HasPrefix(l, k+"=") {
					isOurs = true
				}
			}
			if !isOurs && l != "" {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if strip(before) != strip(after) {
		t.Errorf("lines other than the identity keys changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// assertNoLeak scans everything the program wrote, and every request it sent to Dokploy except
// the env write itself, for the planted secret values.
func assertNoLeak(t *testing.T, res result, f *demo.Fake) {
	t.Helper()
	assertNoLeakOf(t, res, f, demo.Secrets())
}

// assertNoLeakOf scans everything the step wrote, and every request it sent Dokploy but the env
// write-back, for the planted values secrets, the GitHub token and the Launchplane token.
func assertNoLeakOf(t *testing.T, res result, f *demo.Fake, secrets []string) {
	t.Helper()
	scanWritten(t, res, append(slices.Clone(secrets), ghToken, launchplaneToken))
	if f == nil {
		return
	}
	for _, req := range f.Server.Requests() {
		envWrite := req.Path == "/api/application.saveEnvironment" || req.Path == "/api/compose.update"
		text := req.Query + " " + headerText(req.Header)
		if !envWrite {
			text += " " + req.Body
		}
		for _, s := range secrets {
			if s == demo.APIKey {
				continue // the key travels in x-api-key by design
			}
			if strings.Contains(text, s) {
				t.Errorf("request %s %s carries the planted secret %q", req.Method, req.Path, s)
			}
		}
	}
}

func headerText(h map[string][]string) string {
	var b strings.Builder
	for k, vs := range h {
		if strings.EqualFold(k, "x-api-key") {
			continue
		}
		b.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
	}
	return b.String()
}

func withoutMaskLines(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "::add-mask::") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// assertMasked checks every planted secret was registered with the runner.
func assertMasked(t *testing.T, res result, compose bool) {
	t.Helper()
	masks := map[string]bool{}
	for _, l := range strings.Split(res.stdout, "\n") {
		if v, ok := strings.CutPrefix(l, "::add-mask::"); ok {
			masks[v] = true
		}
	}
	for _, s := range demo.Secrets() {
		appOnly := s == demo.SecretNPMToken || s == demo.SecretBuildSecret || s == demo.SecretRegistry
		if strings.Contains(s, "\n") || (compose && appOnly) {
			continue
		}
		if !masks[s] {
			t.Errorf("planted secret %q was not registered with ::add-mask::", s)
		}
	}
}
