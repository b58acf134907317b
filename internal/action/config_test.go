package action

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/summary"
)

func inputs(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// good is a valid verify configuration that each bad case breaks in one place.
var good = []string{
	"context", "shop", "instance", "prod", "deployment-record-id", "deployment-20260510T141500Z-shop-prod",
	"artifact-id", "ghcr.io/acme/shop@sha256:1111", "source-git-ref", "6b3c9d7e8f901234567890abcdef1234567890ab",
	"health-url", "https://shop.example.com/api/health",
}

func with(kv ...string) func(string) string {
	return inputs(append(append([]string{}, good...), kv...)...)
}

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := parseConfig(with())
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeVerify || c.VerifyTimeout != 3*time.Minute || c.RolloutTimeout != 10*time.Minute ||
		c.Confirmations != 0 || c.RequireIdentity || !c.GitHubDeployment || c.BaseURL != "https://shop.example.com" {
		t.Errorf("parseConfig() = %+v, want the documented defaults", c)
	}
	c, err = parseConfig(with("dokploy-url", "https://dokploy.example.com", "dokploy-api-key", "k", "dokploy-application-id", "app1"))
	if err != nil || c.Mode != ModeDeploy {
		t.Errorf("parseConfig() with a Dokploy target = %v, %v; want mode deploy", c, err)
	}
}

// TestParseConfigErrors: every bad input is named, with what would be valid.
func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	dok := []string{"dokploy-url", "https://d.example.com", "dokploy-api-key", "key", "dokploy-application-id", "app1"}
	tests := []struct {
		name  string
		get   func(string) string
		input string
		hint  string
	}{
		{"unknown mode", with("mode", "ship"), "mode", "deploy, inject, verify, render or inventory"},
		{"bad boolean", with("require-identity", "yes"), "require-identity", "true or false"},
		{"bad redeploy", with("redeploy", "1"), "redeploy", "true or false"},
		{"bad github-deployment", with("github-deployment", "on"), "github-deployment", "true or false"},
		{"bad commit-status", with("commit-status", "TRUE"), "commit-status", "true or false"},
		{"bad duration", with("verify-timeout", "3 minutes"), "verify-timeout", "Go duration"},
		{"negative duration", with("verify-timeout", "-1m"), "verify-timeout", "positive"},
		{"bare number duration", with("rollout-timeout", "600"), "rollout-timeout", "10m"},
		{"confirmations zero", with("confirmations", "0"), "confirmations", "auto or a whole number"},
		{"confirmations word", with("confirmations", "many"), "confirmations", "auto or a whole number"},
		{"relative health url", with("health-url", "/api/health"), "health-url", "absolute http or https URL"},
		{"ftp health url", with("health-url", "ftp://x/api"), "health-url", "absolute http or https URL"},
		{"credentials in url", with("base-url", "https://user:pw@x.example.com"), "base-url", "credentials"},
		{"bad dokploy url", inputs(append(append([]string{}, dok...), "dokploy-url", "dokploy.example.com")...), "dokploy-url", "absolute"},
		{"both targets", inputs(append(append([]string{}, dok...), "dokploy-compose-id", "c1")...), "dokploy-compose-id", "exactly one Dokploy target"},
		{"bad target id", inputs("dokploy-application-id", "a b", "dokploy-url", "https://d.example.com", "dokploy-api-key", "k"), "dokploy-application-id", "letters, digits"},
		{"deploy without key", inputs("mode", "deploy", "dokploy-url", "https://d.example.com", "dokploy-application-id", "a1"), "dokploy-api-key", "API key"},
		{"inject without url", inputs("mode", "inject", "dokploy-api-key", "k", "dokploy-application-id", "a1"), "dokploy-url", "instance URL"},
		{"deploy without target", inputs("mode", "deploy", "dokploy-url", "https://d.example.com", "dokploy-api-key", "k"), "dokploy-application-id", "dokploy-compose-id"},
		{"verify with target", with("mode", "verify", "dokploy-application-id", "a1"), "mode", "does not use a Dokploy target"},
		{"verify without url", inputs("mode", "verify"), "health-url", "needs the tenant"},
		{"json and file", with("identity-json", "{}", "identity-file", "x.json"), "identity-file", "not both"},
		{"launchplane record without id or lane", inputs("launchplane-url", "https://lp.example.com", "health-url", "https://x.example.com/h"), "product", "set deployment-record-id"},
		{"launchplane report without url", with("launchplane-report", "true"), "launchplane-report", "needs launchplane-url"},
		{"launchplane report in render", with("mode", "render", "launchplane-url", "https://lp.example.com", "launchplane-report", "true"), "launchplane-report", "never verifies"},
		{"require-identity in render", with("mode", "render", "require-identity", "true"), "require-identity", "never verifies"},
		{"api key with a line break", inputs(append(append([]string{}, dok...), "dokploy-api-key", "key\nmore")...), "dokploy-api-key", "line break"},
		{"github token with a space", with("github-token", "Bearer ghs_x"), "github-token", "without a scheme"},
		{"launchplane token with a control character", with("launchplane-token", "tok\x00en"), "launchplane-token", "control character"},
		{"github environment with a line break", with("github-environment", "shop/prod\n::error::x"), "github-environment", "one line"},
		{"github environment too long", with("github-environment", strings.Repeat("e", 256)), "github-environment", "at most 255"},
		{"record id that is a dot segment", with("launchplane-url", "https://lp.example.com", "deployment-record-id", ".."), "deployment-record-id", "not only dots"},
		{"record id with a slash", with("launchplane-url", "https://lp.example.com", "deployment-record-id", "a/../b"), "deployment-record-id", "cannot name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfig(tt.get)
			errs, ok := err.(ConfigErrors)
			if !ok || len(errs) == 0 {
				t.Fatalf("parseConfig() = %v, want ConfigErrors", err)
			}
			for _, e := range errs {
				if e.Input == tt.input && strings.Contains(e.Problem, tt.hint) {
					return
				}
			}
			t.Errorf("parseConfig() = %v, want an error for input %q mentioning %q", err, tt.input, tt.hint)
		})
	}
}

func TestSecretsNeverInConfigErrors(t *testing.T) {
	t.Parallel()
	const key = "sk-live-planted-secret-0001"
	_, err := parseConfig(inputs("mode", "deploy", "dokploy-api-key", key, "dokploy-url", "https://u:"+key+"@d.example.com/?token="+key))
	if err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("parseConfig() = %v; want an error that never shows the key", err)
	}
}

func TestAssemble(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 5, 0, time.UTC)
	pr := Workflow{EventName: "pull_request", PRNumber: 42, PRHeadSHA: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", SHA: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}
	push := Workflow{EventName: "push", SHA: "cccccccccccccccccccccccccccccccccccccccc"}
	tests := []struct {
		name   string
		get    func(string) string
		wf     Workflow
		check  map[string]string
		source map[string]string
	}{
		{
			name:   "pull request defaults",
			get:    inputs("mode", "render", "context", "shop", "artifact-id", "img@sha256:1"),
			wf:     pr,
			check:  map[string]string{"instance": "pr-42", "preview_id": "pr-42", "environment_kind": "preview", "source_git_ref": pr.PRHeadSHA, "deployment_record_id": "deployment-20261123T120005Z-shop-pr-42"},
			source: map[string]string{"instance": summary.SourceWorkflow, "source_git_ref": summary.SourceWorkflow, "deployment_record_id": summary.SourceDefault, "context": summary.SourceInput},
		},
		{
			name:   "push uses GITHUB_SHA and stable",
			get:    inputs("mode", "render", "context", "shop", "instance", "prod", "image-reference", "img@sha256:2"),
			wf:     push,
			check:  map[string]string{"environment_kind": "stable", "source_git_ref": push.SHA, "artifact_id": "img@sha256:2", "image_reference": "img@sha256:2"},
			source: map[string]string{"artifact_id": summary.SourceDefault, "environment_kind": summary.SourceDefault},
		},
		{
			name:   "inputs override identity-json",
			get:    inputs("mode", "render", "identity-json", `{"context":"c","instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s","deployed_at":"2026-01-01T00:00:00Z"}`, "instance", "prod"),
			wf:     pr,
			check:  map[string]string{"instance": "prod", "context": "c", "environment_kind": "stable", "source_git_ref": "s", "deployed_at": "2026-01-01T00:00:00Z"},
			source: map[string]string{"instance": summary.SourceInput, "context": summary.SourceIdentityJSON},
		},
		{
			name:  "deploy clears deployed_at",
			get:   inputs("mode", "deploy", "dokploy-url", "https://d.example.com", "dokploy-api-key", "k", "dokploy-application-id", "a1", "identity-json", `{"context":"c","instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s","deployed_at":"2026-01-01T00:00:00Z"}`),
			wf:    push,
			check: map[string]string{"deployed_at": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseConfig(tt.get)
			if err != nil {
				t.Fatal(err)
			}
			id, prov, err := assembleIdentity(c, tt.wf, now, readIdentityFile, nil, "")
			if err != nil {
				t.Fatalf("assembleIdentity() = %v", err)
			}
			got := map[string]string{}
			for f := range tt.check {
				field, _ := identity.FieldByName(f)
				got[f] = field.Get(&id)
			}
			if diff := cmp.Diff(tt.check, got); diff != "" {
				t.Errorf("assembleIdentity() fields (-want +got):\n%s", diff)
			}
			for f, kind := range tt.source {
				if prov[f].Kind != kind {
					t.Errorf("provenance of %s = %+v, want %s", f, prov[f], kind)
				}
			}
		})
	}
}

func TestAssembleErrorsNameInputs(t *testing.T) {
	t.Parallel()
	emptyFile := filepath.Join(t.TempDir(), "expected.json")
	if err := os.WriteFile(emptyFile, []byte(" \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		get   func(string) string
		wf    Workflow
		input string
		hint  string
	}{
		{"verify needs record id", inputs("context", "c", "instance", "i", "artifact-id", "a", "source-git-ref", "s", "health-url", "https://x.example.com"), Workflow{}, "deployment-record-id", "mode verify needs"},
		{"no artifact", inputs("mode", "render", "context", "c", "instance", "i", "source-git-ref", "s"), Workflow{}, "artifact-id", "image-reference"},
		{"no source ref outside actions", inputs("mode", "render", "context", "c", "instance", "i", "artifact-id", "a"), Workflow{}, "source-git-ref", "source-git-ref"},
		{"no instance on push", inputs("mode", "render", "context", "c", "artifact-id", "a"), Workflow{EventName: "push", SHA: "abc"}, "instance", "pr-<number>"},
		{"newline injection", inputs("mode", "render", "context", "c", "instance", "i", "artifact-id", "a\nDATABASE_URL=x", "source-git-ref", "s"), Workflow{}, "artifact-id", "line break"},
		{"dokploy reference", inputs("mode", "render", "context", "c", "instance", "i", "artifact-id", "a", "image-reference", "${{project.SECRET}}", "source-git-ref", "s"), Workflow{}, "image-reference", "$"},
		{"hash", inputs("mode", "render", "context", "c#x", "instance", "i", "artifact-id", "a", "source-git-ref", "s"), Workflow{}, "context", "#"},
		{"quote", inputs("mode", "render", "context", "c", "instance", "i'", "artifact-id", "a", "source-git-ref", "s"), Workflow{}, "instance", "quote"},
		{"bad kind", inputs("mode", "render", "context", "c", "instance", "i", "artifact-id", "a", "source-git-ref", "s", "environment-kind", "prod"), Workflow{}, "environment-kind", "stable"},
		{"too long", inputs("mode", "render", "context", "c", "instance", "i", "artifact-id", strings.Repeat("a", 300), "source-git-ref", "s"), Workflow{}, "artifact-id", "256"},
		{"bad identity json", inputs("mode", "render", "identity-json", `{"context":`), Workflow{}, "identity-json", "not a valid runtime identity"},
		{"identity json unknown key", inputs("mode", "render", "identity-json", `{"context":"c","instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s","extra":1}`), Workflow{}, "identity-json", "unknown keys"},
		{"identity file missing", inputs("mode", "render", "identity-file", "/nonexistent/expected.json"), Workflow{}, "identity-file", "cannot read"},
		{"identity file empty", inputs("mode", "render", "identity-file", emptyFile), Workflow{}, "identity-file", "is empty"},
		{"identity json duplicate key", inputs("mode", "render", "identity-json", `{"context":"c","instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s","context":"other"}`), Workflow{}, "identity-json", `"context" appears twice`},
		{"identity json duplicate nested key", inputs("mode", "render", "identity-json", `{"context":"c","x":{"a":1,"a":2}}`), Workflow{}, "identity-json", `"a" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseConfig(tt.get)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = assembleIdentity(c, tt.wf, time.Now(), readIdentityFile, nil, "")
			var errs ConfigErrors
			switch e := err.(type) {
			case ConfigErrors:
				errs = e
			case *ConfigError:
				errs = ConfigErrors{e}
			default:
				t.Fatalf("assembleIdentity() = %v (%T), want a configuration error", err, err)
			}
			for _, e := range errs {
				if e.Input == tt.input && strings.Contains(e.Error(), tt.hint) {
					return
				}
			}
			t.Errorf("assembleIdentity() = %v, want input %q mentioning %q", err, tt.input, tt.hint)
		})
	}
}

func TestAssembleRecordLayer(t *testing.T) {
	t.Parallel()
	rec := identity.Identity{SchemaVersion: 1, Product: "shop", Context: "shop", Instance: "prod", EnvironmentKind: "stable",
		DeploymentRecordID: "deployment-20260510T141500Z-shop-prod", ArtifactID: "img@sha256:1", SourceGitRef: "abcdef0", DeployedAt: "2026-05-10T14:20:00Z"}
	c, err := parseConfig(inputs("mode", "verify", "health-url", "https://x.example.com/h", "deployment-record-id", rec.DeploymentRecordID,
		"identity-json", `{"context":"other","instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s"}`, "instance", "canary"))
	if err != nil {
		t.Fatal(err)
	}
	id, prov, err := assembleIdentity(c, Workflow{EventName: "pull_request", PRNumber: 7, SHA: "fff"}, time.Now(), readIdentityFile, &rec, "https://lp.example.com/v1/deployments/x")
	if err != nil {
		t.Fatal(err)
	}
	want := rec
	want.Instance = "canary" // explicit inputs still win over the record
	if id != want {
		t.Errorf("assembleIdentity() = %+v, want %+v", id, want)
	}
	if prov["context"].Kind != summary.SourceRecord || prov["context"].Detail != "https://lp.example.com/v1/deployments/x" || prov["instance"].Kind != summary.SourceInput {
		t.Errorf("provenance = %+v", prov)
	}
}

func TestDuplicateKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		key      string
		dup      bool
	}{
		{"none", `{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`, "", false},
		{"top level", `{"a":1,"b":2,"a":3}`, "a", true},
		{"nested object", `{"a":{"x":1,"x":2}}`, "x", true},
		{"in an array", `{"a":[{"x":1,"x":2}]}`, "x", true},
		{"string value equal to a key", `{"a":"a","b":"a"}`, "", false},
		{"not json", `{"a":`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key, dup := duplicateKey([]byte(tt.in))
			if key != tt.key || dup != tt.dup {
				t.Errorf("duplicateKey(%s) = %q, %v; want %q, %v", tt.in, key, dup, tt.key, tt.dup)
			}
		})
	}
}

// Every URL input has an example of a valid value for its error message.
func TestURLExamples(t *testing.T) {
	t.Parallel()
	for _, in := range Inputs {
		if strings.HasSuffix(in.Name, "-url") && urlExamples[in.Name] == "" {
			t.Errorf("input %s has no example in urlExamples", in.Name)
		}
	}
}

func TestNamedTargets(t *testing.T) {
	t.Parallel()
	dok := []string{"dokploy-url", "https://d.example.com", "dokploy-api-key", "key"}
	ok := inputs(append(append([]string{}, dok...), "dokploy-application-name", "shop-pr-42")...)
	c, err := parseConfig(ok)
	if err != nil || c.Mode != ModeDeploy || c.ApplicationName != "shop-pr-42" {
		t.Errorf("parseConfig() with dokploy-application-name = %+v, %v; want mode deploy naming the target", c, err)
	}
	tests := []struct {
		name  string
		kv    []string
		input string
		hint  string
	}{
		{"id and name", []string{"dokploy-application-id", "app1", "dokploy-application-name", "shop"}, "dokploy-application-name", "exactly one Dokploy target"},
		{"two names", []string{"dokploy-application-name", "shop", "dokploy-compose-name", "shop"}, "dokploy-compose-name", "exactly one Dokploy target"},
		{"name with a space", []string{"dokploy-application-name", "shop web"}, "dokploy-application-name", "not a Dokploy appName"},
		{"name too long", []string{"dokploy-compose-name", strings.Repeat("a", 64)}, "dokploy-compose-name", "1 to 63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfig(inputs(append(append([]string{}, dok...), tt.kv...)...))
			errs, _ := err.(ConfigErrors)
			for _, e := range errs {
				if e.Input == tt.input && strings.Contains(e.Problem, tt.hint) {
					return
				}
			}
			t.Errorf("parseConfig() = %v, want input %s mentioning %q", err, tt.input, tt.hint)
		})
	}
}
