package launchplanetest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// verificationBody returns a valid stable-verification body with edit applied to its decoded
// form (delete a key by setting it to the deleteKey marker).
func verificationBody(t *testing.T, edit func(env, ver map[string]any)) []byte {
	t.Helper()
	env := map[string]any{
		"schema_version": 1,
		"product":        "shop",
		"verification": map[string]any{
			"schema_version":       1,
			"context":              "shop",
			"instance":             "prod",
			"deployment_record_id": "deployment-20260510T141500Z-shop-prod",
			"promotion_record_id":  "",
			"verification_status":  "pass",
			"verified_at":          "2026-05-10T14:20:00Z",
			"checked_urls":         []any{"https://shop.example.com/api/health"},
			"timeout_seconds":      60,
			"health_payload":       nil,
			"failure_summary":      "",
		},
	}
	if edit != nil {
		edit(env, env["verification"].(map[string]any))
	}
	for _, m := range []map[string]any{env, env["verification"].(map[string]any)} {
		for k, v := range m {
			if v == deleteKey {
				delete(m, k)
			}
		}
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type marker struct{}

var deleteKey = &marker{}

// TestValidateStableVerification pins GenericWebStableVerificationEnvelope's rules
// (cbusillo/launchplane control_plane/drivers/generic_web_dispatch.py @ 0e441a24836ecb8a624d47be6e36fb76382b1b6d,
// control_plane/drivers/dispatch.py @ 3dc1a10e9c2c5f41a118876427b356ab97caadba). The status
// words are dispatch.py's _normalize_release_status lists; the lax integers were checked with
// pydantic 2.13.
func TestValidateStableVerification(t *testing.T) {
	t.Parallel()
	set := func(key string, v any) func(env, ver map[string]any) {
		return func(_, ver map[string]any) { ver[key] = v }
	}
	tests := []struct {
		name       string
		edit       func(env, ver map[string]any)
		raw        string // used instead of edit when set
		wantStatus string // "" = refused
	}{
		{name: "valid pass", wantStatus: "pass"},
		{name: "success normalises to pass", edit: set("verification_status", "success"), wantStatus: "pass"},
		{name: "passed normalises to pass", edit: set("verification_status", " PASSED "), wantStatus: "pass"},
		{name: "failure normalises to fail", edit: set("verification_status", "failure"), wantStatus: "fail"},
		{name: "cancelled normalises to fail", edit: set("verification_status", "cancelled"), wantStatus: "fail"},
		{name: "canceled normalises to fail", edit: set("verification_status", "canceled"), wantStatus: "fail"},
		{name: "timed_out normalises to fail", edit: set("verification_status", "timed_out"), wantStatus: "fail"},
		{name: "kelvin sign lowers to k in a status word is not a word", edit: set("verification_status", "pass\u212a")},
		{name: "verdict word match refused", edit: set("verification_status", "match")},
		{name: "verdict word mismatch refused", edit: set("verification_status", "mismatch")},
		{name: "skipped normalises but is refused", edit: set("verification_status", "skipped")},
		{name: "not-run normalises but is refused", edit: set("verification_status", "not-run")},
		{name: "pending normalises but is refused", edit: set("verification_status", "pending")},
		{name: "in_progress normalises but is refused", edit: set("verification_status", "in_progress")},
		{name: "empty status refused", edit: set("verification_status", "")},
		{name: "null status refused", edit: set("verification_status", nil)},
		{name: "boolean status refused", edit: set("verification_status", true)},
		{name: "missing status refused", edit: set("verification_status", deleteKey)},
		{name: "unknown verification key refused", edit: set("verdict", "match")},
		{name: "unknown envelope key refused", edit: func(env, _ map[string]any) { env["extra"] = 1 }},
		{name: "product blank refused", edit: func(env, _ map[string]any) { env["product"] = " \u00a0" }},
		{name: "product missing refused", edit: func(env, _ map[string]any) { env["product"] = deleteKey }},
		{name: "product null refused", edit: func(env, _ map[string]any) { env["product"] = nil }},
		{name: "context number refused", edit: set("context", 7)},
		{name: "context blank refused", edit: set("context", "  ")},
		{name: "failure_summary null refused", edit: set("failure_summary", nil)},
		{name: "failure_summary absent accepted", edit: set("failure_summary", deleteKey), wantStatus: "pass"},
		{name: "promotion_record_id null refused", edit: set("promotion_record_id", nil)},
		{name: "verified_at blank refused", edit: set("verified_at", " ")},
		{name: "verified_at any text accepted", edit: set("verified_at", "yesterday"), wantStatus: "pass"},
		{name: "timeout zero refused", edit: set("timeout_seconds", 0)},
		{name: "timeout 1 accepted", edit: set("timeout_seconds", 1), wantStatus: "pass"},
		{name: "timeout fraction refused", edit: set("timeout_seconds", 0.5)},
		{name: "timeout string 5 accepted (lax)", edit: set("timeout_seconds", " 5 "), wantStatus: "pass"},
		{name: "timeout 5.0 accepted (lax)", edit: set("timeout_seconds", json.Number("5.0")), wantStatus: "pass"},
		{name: "timeout 1_0 accepted (lax)", edit: set("timeout_seconds", "1_0"), wantStatus: "pass"},
		{name: "timeout 1__0 refused", edit: set("timeout_seconds", "1__0")},
		{name: "timeout 0__1 accepted (lax)", edit: set("timeout_seconds", "0__1"), wantStatus: "pass"},
		{name: "timeout 1e17 accepted (lax)", edit: set("timeout_seconds", json.Number("1e17")), wantStatus: "pass"},
		{name: "timeout 9.3e18 refused", edit: set("timeout_seconds", json.Number("9.3e18"))},
		{name: "timeout U+001C before digits refused", edit: set("timeout_seconds", "\u001c5")},
		{name: "timeout U+2028 before digits accepted (lax)", edit: set("timeout_seconds", "\u20285"), wantStatus: "pass"},
		{name: "timeout 1.5 string refused", edit: set("timeout_seconds", "1.5")},
		{name: "timeout null with urls refused", edit: set("timeout_seconds", nil)},
		{name: "timeout absent with urls refused", edit: set("timeout_seconds", deleteKey)},
		{name: "timeout null without urls accepted", edit: func(_, ver map[string]any) {
			ver["timeout_seconds"], ver["checked_urls"] = nil, []any{}
		}, wantStatus: "pass"},
		{name: "checked_urls null is empty", edit: func(_, ver map[string]any) {
			ver["timeout_seconds"], ver["checked_urls"] = nil, nil
		}, wantStatus: "pass"},
		{name: "checked_urls a string refused", edit: set("checked_urls", "https://x")},
		{name: "checked_urls blank entry refused", edit: set("checked_urls", []any{" "})},
		{name: "checked_urls number entry refused", edit: set("checked_urls", []any{1})},
		{name: "schema_version 0 refused", edit: set("schema_version", 0)},
		{name: "schema_version 2 accepted", edit: set("schema_version", 2), wantStatus: "pass"},
		{name: "schema_version true accepted (lax)", edit: set("schema_version", true), wantStatus: "pass"},
		{name: "schema_version null refused", edit: set("schema_version", nil)},
		{name: "health_payload any JSON accepted", edit: set("health_payload", []any{"ok"}), wantStatus: "pass"},
		{name: "not an object", raw: `[]`},
		{name: "trailing data", raw: `{} {}`},
		{name: "invalid UTF-8", raw: "{\"product\":\"\xff\"}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := []byte(tt.raw)
			if tt.raw == "" {
				body = verificationBody(t, tt.edit)
			}
			got, err := ValidateStableVerification(body)
			if tt.wantStatus == "" {
				if err == nil || !errors.Is(err, errInvalid) {
					t.Errorf("ValidateStableVerification(%s) = %+v, %v; want refused", body, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ValidateStableVerification(%s) = %v, want accepted", body, err)
			}
			if got.VerificationStatus != tt.wantStatus {
				t.Errorf("VerificationStatus = %q, want %q", got.VerificationStatus, tt.wantStatus)
			}
		})
	}
}

// TestStructuredHealth pins structured_health_evidence_from_payload with Launchplane's own
// vectors (cbusillo/launchplane tests/test_structured_health.py @ 8a7e7736fa15abb50600dc2b0a416435f1a18343)
// and Python's truthiness and casefold.
func TestStructuredHealth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		payload string
		want    string
	}{
		{"launchplane: ok with components", `{"status":"ok","version":"2026.06.14","components":{"discord":{"status":"ok"}}}`, healthPass},
		{"launchplane: not_ready", `{"status":"not_ready","summary":"last sync is stale"}`, healthFail},
		{"launchplane: unknown word", `{"status":"purple"}`, healthMalformed},
		{"launchplane: null payload", `null`, healthUnchecked},
		{"launchplane: state alias", `{"state":"ready","build_version":"2026.06.14"}`, healthPass},
		{"launchplane: non-object", `["ok"]`, healthMalformed},
		{"no status", `{"runtime_identity":{}}`, healthUnchecked},
		{"blank status", `{"status":"  "}`, healthUnchecked},
		{"casefolded FAIL", `{"status":"FAIL"}`, healthFail},
		{"long s casefolds", `{"status":"pa\u017fs"}`, healthPass},
		{"sharp s casefolds to ss", `{"status":"pa\u00dfing"}`, healthPass},
		{"dotted capital I is not i", `{"status":"FA\u0130L"}`, healthMalformed},
		{"false status falls to state", `{"status":false,"state":"down"}`, healthFail},
		{"zero status without state", `{"status":0}`, healthUnchecked},
		{"zero state is a word", `{"state":0}`, healthMalformed},
		{"true status", `{"status":true}`, healthMalformed},
		{"number status", `{"status":1}`, healthMalformed},
		{"string payload", `"ok"`, healthMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := loadJSON([]byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if got := structuredHealth(v); got != tt.want {
				t.Errorf("structuredHealth(%s) = %s, want %s", tt.payload, got, tt.want)
			}
		})
	}
}

func expectedIdentity() identity.Identity {
	return identity.Identity{
		SchemaVersion: 1, Product: "sellyouroutboard", Context: "sellyouroutboard-testing", Instance: "testing",
		EnvironmentKind: "stable", DeploymentRecordID: "deployment-123",
		ArtifactID: "ghcr.io/cbusillo/sellyouroutboard@sha256:abc123", SourceGitRef: "abc123",
	}
}

// TestClassify pins health_payload_runtime_identity_status with Launchplane's own vectors
// (cbusillo/launchplane tests/test_runtime_identity.py @ 4b42a529725ae3ad788de3f3b8df30e7ead25c85)
// and the strict rules they imply: extra keys are malformed, values compare exactly.
func TestClassify(t *testing.T) {
	t.Parallel()
	want := expectedIdentity()
	canon := string(want.Canonical())
	quoted, _ := json.Marshal(canon)
	tests := []struct {
		name       string
		expected   *identity.Identity
		payload    string
		wantStatus string
		wantDetail string
	}{
		{"launchplane: nested identity", &want, `{"runtime_identity":` + canon + `}`, "match", "Runtime identity matches the expected deployment record."},
		{"launchplane: env json", &want, `{"LAUNCHPLANE_RUNTIME_IDENTITY_JSON":` + string(quoted) + `,"LAUNCHPLANE_DEPLOYMENT_RECORD_ID":"deployment-123"}`, "match", ""},
		{"launchplane: mismatched fields", &want, `{"runtime_identity":` + strings.Replace(strings.Replace(canon, "sha256:abc123", "sha256:artifact-b", 1), `"source_git_ref":"abc123"`, `"source_git_ref":"def456"`, 1) + `}`, "mismatch", "Runtime identity mismatched fields: artifact_id, source_git_ref"},
		{"launchplane: invalid identity", &want, `{"runtime_identity":{"deployment_record_id":"deployment-123"}}`, "malformed", "Health endpoint returned runtime identity evidence that could not be parsed."},
		{"no expected identity", nil, `{"runtime_identity":` + canon + `}`, "unchecked", "Runtime identity verification was not requested."},
		{"extra key is malformed", &want, `{"runtime_identity":` + strings.Replace(canon, "{", `{"build":"x",`, 1) + `}`, "malformed", ""},
		{"short sha is a mismatch", &want, `{"runtime_identity":` + strings.Replace(canon, `"source_git_ref":"abc123"`, `"source_git_ref":"abc"`, 1) + `}`, "mismatch", ""},
		{"null identity is malformed", &want, `{"status":"pass","runtime_identity":null}`, "malformed", ""},
		{"no alias is missing", &want, `{"status":"pass"}`, "missing", "Runtime identity was not reported by the health endpoint."},
		{"array payload is missing", &want, `[1]`, "missing", ""},
		{"malformed earlier alias does not hide a later one", &want, `{"runtime_identity":"{","launchplaneRuntimeIdentity":` + canon + `}`, "match", ""},
		{"doubly encoded string", &want, `{"runtime_identity":` + mustJSON(string(quoted)) + `}`, "match", ""},
		{"schema_version string 1 (lax)", &want, `{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":" 1 "`, 1) + `}`, "match", ""},
		{"schema_version 0 is malformed", &want, `{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":0`, 1) + `}`, "malformed", ""},
		{"required field nbsp is malformed", &want, `{"runtime_identity":` + strings.Replace(canon, `"instance":"testing"`, `"instance":"\u00a0"`, 1) + `}`, "malformed", ""},
		{"null optional field is malformed", &want, `{"runtime_identity":` + strings.Replace(canon, `"image_reference":""`, `"image_reference":null`, 1) + `}`, "malformed", ""},
		{"informational fields are not compared", &want, `{"runtime_identity":` + strings.Replace(canon, `"deployed_at":""`, `"deployed_at":"2026-05-10T14:15:00Z"`, 1) + `}`, "match", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := loadJSON([]byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			st, detail, _ := classify(tt.expected, v)
			if st != tt.wantStatus || (tt.wantDetail != "" && detail != tt.wantDetail) {
				t.Errorf("classify(%s) = %s, %q; want %s, %q", tt.payload, st, detail, tt.wantStatus, tt.wantDetail)
			}
		})
	}
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestFingerprint pins request_fingerprint against Python's json.dumps(sort_keys=True,
// separators=(",", ":")) and hashlib.sha256, computed with CPython 3 for these bodies.
func TestFingerprint(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, want string }{
		{`{"product":"shop","verification":{"context":"shop","instance":"prod","verified_at":"2026-05-10T14:20:00Z","health_payload":{"b":1.0,"a":[1e16,1e-5,0.0001,-0.0,100,"é\u2028<>&\ud83d\ude00\u007f"]}}}`,
			"342beb597927321cb09c879be8a7be5b7d61d833a6ad1d1e8f3683246a72e870"},
		{`{"z":1,"a":{"y":true,"x":null},"m":12345678901234567890,"f":1.5e300,"g":123456789012345680.0}`,
			"fe5d868ae7a0a3473666fb23e10ca8886a5c8fc2c575dd7515d66a6d269fd1fc"},
	}
	for _, tt := range tests {
		v, err := loadJSON([]byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if got := fingerprint(v); got != tt.want {
			var b strings.Builder
			pyDumps(&b, v)
			t.Errorf("fingerprint(%s) = %s, want %s (dumped %s)", tt.body, got, tt.want, b.String())
		}
	}
}

// TestFnmatchcase pins Python's fnmatch.fnmatchcase on the patterns Launchplane's allow-list
// tests use (cbusillo/launchplane tests/test_service_auth.py @ 0e80b179a044068c77abe26db3241da6db74f968).
func TestFnmatchcase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pattern string
		want          bool
	}{
		{"cbusillo/verireel/.github/workflows/preview.yml@refs/heads/main", "cbusillo/verireel/.github/workflows/preview.yml@refs/heads/*", true},
		{"cbusillo/verireel/.github/workflows/preview.yml@refs/tags/v1", "cbusillo/verireel/.github/workflows/preview.yml@refs/heads/*", false},
		{"cbusillo/launchplane/.github/workflows/reusable.yml@refs/heads/main", "cbusillo/launchplane/.github/workflows/*.yml@refs/heads/main", true},
		{"cbusillo/launchplane/.github/workflows/reusable.yml@refs/heads/dev", "cbusillo/launchplane/.github/workflows/*.yml@refs/heads/main", false},
		{"cbusillo/sellyouroutboard/.github/workflows/preview-control-plane.yml@refs/heads/replace-mike-photo-batch", "cbusillo/sellyouroutboard/.github/workflows/preview-control-plane.yml@*", true},
		{"verireel", "verireel", true},
		{"Verireel", "verireel", false},
		{"a/b", "a?b", true},
		{"shop-testing", "shop-[!p]*", true},
		{"shop-prod", "shop-[!p]*", false},
		{"x[", "x[", true},
	}
	for _, tt := range tests {
		if got := fnmatchcase(tt.name, tt.pattern); got != tt.want {
			t.Errorf("fnmatchcase(%q, %q) = %v, want %v", tt.name, tt.pattern, got, tt.want)
		}
	}
}

// TestPolicyRule pins GitHubActionsPolicyRule.allows with Launchplane's own vector
// (tests/test_service_auth.py @ 0e80b179a044068c77abe26db3241da6db74f968,
// test_actions_policy_fails_closed_by_claim_and_scope): the rule allows the identity and each
// single change of claim, product, context or action is denied.
func TestPolicyRule(t *testing.T) {
	t.Parallel()
	rule := Rule{
		Repository:      "cbusillo/verireel",
		WorkflowRefs:    []string{"cbusillo/verireel/.github/workflows/preview.yml@refs/heads/*"},
		JobWorkflowRefs: []string{"cbusillo/launchplane/.github/workflows/*.yml@refs/heads/main"},
		EventNames:      []string{"pull_request"},
		Refs:            []string{"refs/heads/main"},
		Environments:    []string{"preview"},
		Products:        []string{"verireel"},
		Contexts:        []string{"verireel-testing"},
		Actions:         []string{"verireel_preview_refresh.execute"},
	}
	base := actionsIdentity{
		Repository: "cbusillo/verireel", RepositoryOwner: "cbusillo",
		WorkflowRef:    "cbusillo/verireel/.github/workflows/preview.yml@refs/heads/main",
		JobWorkflowRef: "cbusillo/launchplane/.github/workflows/reusable.yml@refs/heads/main",
		Ref:            "refs/heads/main", RefType: "branch", EventName: "pull_request", Environment: "preview",
		Subject: "repo:cbusillo/verireel:pull_request",
	}
	const action, product, context = "verireel_preview_refresh.execute", "verireel", "verireel-testing"
	if !rule.allows(&base, action, product, context, nil, 1) {
		t.Fatal("rule.allows(launchplane's identity) = false, want true")
	}
	denied := []struct {
		name                     string
		edit                     func(*actionsIdentity)
		action, product, context string
	}{
		{"repository", func(i *actionsIdentity) { i.Repository = "cbusillo/other" }, action, product, context},
		{"workflow", func(i *actionsIdentity) {
			i.WorkflowRef = "cbusillo/verireel/.github/workflows/preview.yml@refs/tags/v1"
		}, action, product, context},
		{"job_workflow", func(i *actionsIdentity) {
			i.JobWorkflowRef = "cbusillo/launchplane/.github/workflows/reusable.yml@refs/heads/dev"
		}, action, product, context},
		{"event", func(i *actionsIdentity) { i.EventName = "push" }, action, product, context},
		{"ref", func(i *actionsIdentity) { i.Ref = "refs/heads/feature" }, action, product, context},
		{"environment", func(i *actionsIdentity) { i.Environment = "prod" }, action, product, context},
		{"product", func(*actionsIdentity) {}, action, "other-product", context},
		{"context", func(*actionsIdentity) {}, action, product, "other-context"},
		{"action", func(*actionsIdentity) {}, "verireel_preview_destroy.execute", product, context},
	}
	for _, d := range denied {
		id := base
		d.edit(&id)
		if rule.allows(&id, d.action, d.product, d.context, nil, 1) {
			t.Errorf("rule.allows with another %s = true, want false", d.name)
		}
	}
	// Instance selectors (_instances_allowed): schema 1 lets a rule without them cover an
	// instance-scoped action, schema 2 does not; "*" covers any instance.
	open := Rule{Repository: "cbusillo/verireel"}
	if !open.allows(&base, "deployment.write", "p", "c", []string{"prod"}, 1) || open.allows(&base, "deployment.write", "p", "c", []string{"prod"}, 2) {
		t.Error("instance selectors: schema 1 must allow and schema 2 refuse a rule without instances")
	}
	star := Rule{Repository: "cbusillo/verireel", Instances: []string{"*"}}
	only := Rule{Repository: "cbusillo/verireel", Instances: []string{"testing"}}
	if !star.allows(&base, "a", "p", "c", []string{"prod"}, 2) || only.allows(&base, "a", "p", "c", []string{"prod"}, 2) {
		t.Error("instance selectors: * must cover prod, testing must not")
	}
}
