package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/launchplane/runtime-identity/internal/demo"
	"github.com/launchplane/runtime-identity/internal/dokploy/dokploytest"
)

// TestPullRequestGuard: on pull_request events, deploy and inject never assume preview, so a
// stable target cannot get a preview identity by accident; verify keeps the PR defaults.
func TestPullRequestGuard(t *testing.T) {
	t.Parallel()
	f := startScenario(t, "happy")
	for _, mode := range []string{"deploy", "inject"} {
		in := deployInputs(f)
		in["mode"] = mode
		in["instance"] = ""
		before := f.Server.Env(demo.ServiceID)
		res := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent()})
		if res.code != 2 || !strings.Contains(res.stdout, "input environment-kind: mode "+mode+" on a pull_request event needs environment-kind set explicitly") {
			t.Errorf("mode %s on pull_request without environment-kind: exit %d, want 2 naming environment-kind\n%s", mode, res.code, res.stdout)
		}
		if f.Server.Env(demo.ServiceID) != before {
			t.Errorf("mode %s: the env changed although the input was refused", mode)
		}
	}
	in := deployInputs(f)
	in["mode"] = "inject"
	in["environment-kind"] = "stable"
	res := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent()})
	if res.code != 0 || !strings.Contains(res.outputs["identity-json"], `"environment_kind":"stable"`) {
		t.Errorf("inject with environment-kind stable on pull_request: exit %d identity %s\n%s", res.code, res.outputs["identity-json"], res.stdout)
	}
}

// TestNamedTarget resolves dokploy-application-name through Dokploy's search: one exact match
// is the target; none or several exit 2 listing what was found, with nothing written.
func TestNamedTarget(t *testing.T) {
	t.Parallel()
	t.Run("one match", func(t *testing.T) {
		t.Parallel()
		f := startScenario(t, "happy")
		// A service whose appName contains ours must not be taken for it.
		if err := f.Server.AddApplication(dokploytest.App{ID: "app-shop-9", Name: "shop copy", AppName: "shop-web-copy", Env: "A=1\n"}); err != nil {
			t.Fatal(err)
		}
		in := deployInputs(f)
		delete(in, "dokploy-application-id")
		in["dokploy-application-name"] = "shop-web"
		res := runAsRunner(t, runnerOpts{inputs: in})
		if res.code != 0 || res.outputs["status"] != "match" || !strings.Contains(res.stdout, "dokploy-application-name shop-web is application "+demo.ServiceID) {
			t.Fatalf("exit %d status %q, want 0 match on %s\n%s", res.code, res.outputs["status"], demo.ServiceID, res.stdout)
		}
		if f.Server.Env("app-shop-9") != "A=1\n" {
			t.Errorf("the other service's env changed")
		}
	})
	for _, tt := range []struct {
		name, appName, want string
		twin                bool
	}{
		{name: "none", appName: "Shop-Web", want: "no Dokploy application has the appName \"Shop-Web\""},
		{name: "two", appName: "shop-web", twin: true, want: "2 Dokploy applications have the appName \"shop-web\""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := startScenario(t, "happy")
			if tt.twin {
				if err := f.Server.AddApplication(dokploytest.App{ID: "app-shop-2", Name: "shop twin", AppName: "shop-web", Env: "A=1\n"}); err != nil {
					t.Fatal(err)
				}
			}
			in := deployInputs(f)
			delete(in, "dokploy-application-id")
			in["dokploy-application-name"] = tt.appName
			res := runAsRunner(t, runnerOpts{inputs: in})
			if res.code != 2 || !strings.Contains(res.stdout, "input dokploy-application-name: "+tt.want) || !strings.Contains(res.stdout, demo.ServiceID) {
				t.Fatalf("exit %d, want 2 saying %q and listing %s\n%s", res.code, tt.want, demo.ServiceID, res.stdout)
			}
			for _, r := range f.Server.Requests() {
				if r.Method != http.MethodGet {
					t.Errorf("%s %s sent although the target was not found", r.Method, r.Path)
				}
			}
		})
	}
}
