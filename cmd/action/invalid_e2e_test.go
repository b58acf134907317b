package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestInvalidInputsWriteNothing: every bad input exits 2 with a message naming the input, and
// the fake Dokploy receives no write at all.
func TestInvalidInputsWriteNothing(t *testing.T) {
	t.Parallel()
	f := startScenario(t, "happy")
	tests := []struct {
		name  string
		set   map[string]string
		input string // the input the message must name
	}{
		{"unknown mode", map[string]string{"mode": "ship"}, "mode"},
		{"mode with wrong case", map[string]string{"mode": "Deploy"}, "mode"},
		{"require-identity yes", map[string]string{"require-identity": "yes"}, "require-identity"},
		{"redeploy 1", map[string]string{"redeploy": "1"}, "redeploy"},
		{"github-deployment on", map[string]string{"github-deployment": "on"}, "github-deployment"},
		{"commit-status TRUE", map[string]string{"commit-status": "TRUE"}, "commit-status"},
		{"verify-timeout words", map[string]string{"verify-timeout": "three minutes"}, "verify-timeout"},
		{"verify-timeout negative", map[string]string{"verify-timeout": "-3m"}, "verify-timeout"},
		{"rollout-timeout bare number", map[string]string{"rollout-timeout": "600"}, "rollout-timeout"},
		{"rollout-timeout zero", map[string]string{"rollout-timeout": "0s"}, "rollout-timeout"},
		{"confirmations zero", map[string]string{"confirmations": "0"}, "confirmations"},
		{"confirmations word", map[string]string{"confirmations": "some"}, "confirmations"},
		{"confirmations too many", map[string]string{"confirmations": "1000"}, "confirmations"},
		{"relative health-url", map[string]string{"health-url": "/api/health"}, "health-url"},
		{"ftp health-url", map[string]string{"health-url": "ftp://shop.example.com/health"}, "health-url"},
		{"base-url with credentials", map[string]string{"base-url": "https://u:p@shop.example.com"}, "base-url"},
		{"dokploy-url without scheme", map[string]string{"dokploy-url": "dokploy.example.com"}, "dokploy-url"},
		{"missing dokploy-url", map[string]string{"dokploy-url": ""}, "dokploy-url"},
		{"missing api key", map[string]string{"dokploy-api-key": ""}, "dokploy-api-key"},
		{"both targets", map[string]string{"dokploy-compose-id": "c-1"}, "dokploy-compose-id"},
		{"bad application id", map[string]string{"dokploy-application-id": "app 1; rm"}, "dokploy-application-id"},
		{"unknown application", map[string]string{"dokploy-application-id": "no-such-app"}, "dokploy-application-id"},
		{"verify with a target", map[string]string{"mode": "verify"}, "mode"},
		{"environment-url relative", map[string]string{"environment-url": "shop.example.com"}, "environment-url"},
		{"newline injection in artifact-id", map[string]string{"artifact-id": "x\nDATABASE_URL=postgres://evil"}, "artifact-id"},
		{"dokploy reference in image-reference", map[string]string{"image-reference": "${{project.DATABASE_URL}}"}, "image-reference"},
		{"hash in context", map[string]string{"context": "shop#prod"}, "context"},
		{"quote in instance", map[string]string{"instance": `prod"`}, "instance"},
		{"space in product", map[string]string{"product": "my shop"}, "product"},
		{"dollar in source-git-ref", map[string]string{"source-git-ref": "$GITHUB_SHA"}, "source-git-ref"},
		{"backslash in preview-id", map[string]string{"preview-id": `pr\42`}, "preview-id"},
		{"bad environment-kind", map[string]string{"environment-kind": "production"}, "environment-kind"},
		{"too long record id", map[string]string{"deployment-record-id": "deployment-" + strings.Repeat("x", 300)}, "deployment-record-id"},
		{"identity-json broken", map[string]string{"identity-json": `{"context":`}, "identity-json"},
		{"identity-json unknown key", map[string]string{"identity-json": `{"context":"c","instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s","extra":1}`, "context": "", "instance": "", "deployment-record-id": "", "artifact-id": "", "image-reference": "", "source-git-ref": ""}, "identity-json"},
		{"identity-file missing", map[string]string{"identity-file": "/nonexistent/expected.json"}, "identity-file"},
		{"identity-json and identity-file", map[string]string{"identity-json": "{}", "identity-file": "x.json"}, "identity-file"},
		{"launchplane-url without a token", map[string]string{"launchplane-url": "https://launchplane.example.com"}, "launchplane-url"},
		{"launchplane-report without launchplane-url", map[string]string{"launchplane-report": "true"}, "launchplane-report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := deployInputs(f)
			for k, v := range tt.set {
				in[k] = v
			}
			writes := f.Server.Writes()
			res := runAsRunner(t, runnerOpts{inputs: in})
			if res.code != 2 {
				t.Fatalf("exit code = %d, want 2\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			if got := f.Server.Writes() - writes; got != 0 {
				t.Errorf("the fake Dokploy received %d writes, want 0", got)
			}
			errs := annotations(res.stdout, "error")
			named := false
			for _, e := range errs {
				if strings.Contains(e, "input "+tt.input+":") {
					named = true
				}
			}
			if !named {
				t.Errorf("no ::error:: names input %s:\n%s", tt.input, res.stdout)
			}
			for _, e := range errs {
				if !saysWhatIsValid(e) {
					t.Errorf("error %q names the problem but not what would be valid", e)
				}
			}
			if !strings.Contains(res.stderr, "nothing was written") {
				t.Errorf("stderr does not say nothing was written: %s", res.stderr)
			}
			assertNoLeak(t, res, nil)
		})
	}
	if len(tests) < 30 {
		t.Errorf("only %d invalid-input cases; the acceptance asks for 30 or more", len(tests))
	}
}

// saysWhatIsValid reports whether an error message tells the user what to do or what is valid.
func saysWhatIsValid(msg string) bool {
	for _, hint := range []string{"use ", "set ", "give ", "valid", "want ", "needs ", "remove ", "allowed", "such as", "letters", "pass ", "at most", "not supported", "copy ", "unknown keys", "cannot read", "give the job"} {
		if strings.Contains(msg, hint) {
			return true
		}
	}
	return false
}

// TestDokployURLThatIsNotDokploy: a dokploy-url that answers 404 without Dokploy's own message
// (a proxy, a dashboard path) is not blamed on the target id.
func TestDokployURLThatIsNotDokploy(t *testing.T) {
	t.Parallel()
	f := startScenario(t, "happy")
	notDokploy := httptest.NewServer(http.NotFoundHandler())
	defer notDokploy.Close()
	in := deployInputs(f)
	in["dokploy-url"] = notDokploy.URL + "/dashboard"
	res := runAsRunner(t, runnerOpts{inputs: in})
	if res.code != 3 || !strings.Contains(res.stdout, "does not answer like the Dokploy API") {
		t.Errorf("exit %d, want 3 saying dokploy-url is not the Dokploy API:\n%s", res.code, res.stdout)
	}
	if strings.Contains(res.stdout, "has no application") {
		t.Errorf("a wrong URL was blamed on the application id:\n%s", res.stdout)
	}
	assertNoLeak(t, res, f)
}
