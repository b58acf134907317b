package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestInvalidInputsWriteNothing: every bad input exits 2 with a message naming the input, and
// the fake Dokploy receives no write at all.
func TestInvalidInputsWriteNothing(t *testing.T) {
	t.Parallel()
	f := startScenario(t, "happy")
	emptyFile := filepath.Join(t.TempDir(), "expected.json")
	if err := os.WriteFile(emptyFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
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
		{"api key with a line break", map[string]string{"dokploy-api-key": "dokploy-key\nsecond-line"}, "dokploy-api-key"},
		{"api key with a scheme", map[string]string{"dokploy-api-key": "Bearer dokploy-key"}, "dokploy-api-key"},
		{"github-token with a line break", map[string]string{"github-token": "ghs_x\nmore"}, "github-token"},
		{"launchplane-token with a control character", map[string]string{"launchplane-token": "tok\x1ben"}, "launchplane-token"},
		{"github-environment with a line break", map[string]string{"github-environment": "shop/prod\n::error::injected"}, "github-environment"},
		{"github-environment too long", map[string]string{"github-environment": strings.Repeat("e", 256)}, "github-environment"},
		{"record id that is a dot segment", map[string]string{"launchplane-url": "https://launchplane.example.com", "launchplane-token": "tok", "deployment-record-id": ".."}, "deployment-record-id"},
		{"record id with a slash", map[string]string{"launchplane-url": "https://launchplane.example.com", "launchplane-token": "tok", "deployment-record-id": "a/b"}, "deployment-record-id"},
		{"identity-file empty", map[string]string{"identity-file": emptyFile}, "identity-file"},
		{"identity-json duplicate key", map[string]string{"identity-json": `{"context":"c","context":"d"}`}, "identity-json"},
		{"identity-json wrong type", map[string]string{"identity-json": `{"context":7,"instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s"}`}, "identity-json"},
		{"identity-json array", map[string]string{"identity-json": `[1,2]`}, "identity-json"},
		{"identity-json bad schema_version", map[string]string{"identity-json": `{"schema_version":"x","context":"c","instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s"}`}, "identity-json"},
		{"launchplane-report in inject", map[string]string{"mode": "inject", "launchplane-url": "https://launchplane.example.com", "launchplane-report": "true"}, "launchplane-report"},
		{"require-identity in inject", map[string]string{"mode": "inject", "require-identity": "true"}, "require-identity"},
		{"confirmations fraction", map[string]string{"confirmations": "1.5"}, "confirmations"},
		{"confirmations negative", map[string]string{"confirmations": "-2"}, "confirmations"},
		{"verify-timeout zero", map[string]string{"verify-timeout": "0s"}, "verify-timeout"},
		{"health-url with a space", map[string]string{"health-url": "https://shop example.com/api/health"}, "health-url"},
		{"base-url javascript", map[string]string{"base-url": "javascript:alert(1)"}, "base-url"},
		{"launchplane-url ftp", map[string]string{"launchplane-url": "ftp://launchplane.example.com"}, "launchplane-url"},
		{"environment-url with credentials", map[string]string{"environment-url": "https://u:p@shop.example.com"}, "environment-url"},
		{"dokploy-url with credentials", map[string]string{"dokploy-url": "https://admin:pw@dokploy.example.com"}, "dokploy-url"},
		{"bad compose id", map[string]string{"dokploy-application-id": "", "dokploy-compose-id": "c/../1"}, "dokploy-compose-id"},
		{"deploy without a target", map[string]string{"mode": "deploy", "dokploy-application-id": ""}, "dokploy-application-id"},
		{"quote in preview-generation-id", map[string]string{"preview-generation-id": "gen'1"}, "preview-generation-id"},
		{"hash in release-tuple-id", map[string]string{"release-tuple-id": "shop#1"}, "release-tuple-id"},
		{"too long image-reference", map[string]string{"image-reference": "ghcr.io/" + strings.Repeat("i", 300)}, "image-reference"},
		{"redeploy yes", map[string]string{"redeploy": "yes"}, "redeploy"},
		{"launchplane-report 1", map[string]string{"launchplane-report": "1"}, "launchplane-report"},
	}
	var catalogue strings.Builder
	catalogue.WriteString("| case | input named | message |\n|---|---|---|\n")
	var mu sync.Mutex
	messages := map[string]string{}
	t.Cleanup(func() {
		for _, tt := range tests {
			fmt.Fprintf(&catalogue, "| %s | `%s` | %s |\n", tt.name, tt.input, mdEscape(messages[tt.name]))
		}
		checkGeneratedDoc(t, filepath.Join("..", "..", "docs", "reliability.md"), "bad-inputs", catalogue.String())
	})
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
			for _, r := range f.Server.Requests() {
				if r.Method != http.MethodGet {
					t.Errorf("the fake Dokploy received %s %s; a bad input sends nothing that writes", r.Method, r.Path)
				}
			}
			errs := annotations(res.stdout, "error")
			named := false
			for _, e := range errs {
				if strings.Contains(e, "input "+tt.input+":") && !named {
					named = true
					mu.Lock()
					messages[tt.name] = strings.ReplaceAll(strings.TrimPrefix(e, "::error::"), emptyFile, "expected.json")
					mu.Unlock()
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
	if len(tests) < 60 {
		t.Errorf("only %d invalid-input cases; the catalogue holds 60 or more", len(tests))
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

// mdEscape makes a message one Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

// checkGeneratedDoc keeps the part of a doc between "<!-- name:start (generated) -->" and
// "<!-- name:end -->" equal to want; -update rewrites it.
func checkGeneratedDoc(t *testing.T, path, name, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start, end := "<!-- "+name+":start (generated) -->\n", "<!-- "+name+":end -->"
	s := string(b)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %q ... %q markers", path, start, end)
	}
	got := s[i+len(start) : j]
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(s[:i+len(start)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the generated %s section is stale; run go test ./cmd/action -update", path, name)
}
