package launchplane

import (
	"strings"
	"testing"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/launchplane/launchplanetest"
)

func strictExpected() identity.Identity {
	return identity.Identity{
		SchemaVersion: 1, Product: "sellyouroutboard", Context: "sellyouroutboard-testing", Instance: "testing",
		EnvironmentKind: "stable", DeploymentRecordID: "deployment-123",
		ArtifactID: "ghcr.io/cbusillo/sellyouroutboard@sha256:abc123", SourceGitRef: "abc123",
	}
}

// TestStructuredHealthVectors pins structuredHealth with Launchplane's own vectors
// (cbusillo/launchplane tests/test_structured_health.py @ 8a7e7736fa15abb50600dc2b0a416435f1a18343)
// and Python's casefold and truthiness.
func TestStructuredHealthVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		payload string
		want    healthState
	}{
		{`{"status":"ok","version":"2026.06.14","components":{"discord":{"status":"ok"}}}`, healthPass},
		{`{"status":"not_ready","summary":"last sync is stale"}`, healthFail},
		{`{"status":"purple"}`, healthMalformed},
		{`null`, healthUnchecked},
		{`{"state":"ready","build_version":"2026.06.14"}`, healthPass},
		{`["ok"]`, healthMalformed},
		{`{"status":" Healthy\u00a0"}`, healthPass},
		{`{"status":"pa\u00dfing"}`, healthPass},
		{`{"status":"\u212aO"}`, healthMalformed}, // "ko"
		{`{"status":"o\u212a"}`, healthPass},
		{`{"status":"FA\u0130L"}`, healthMalformed},
		{`{"status":"","state":"down"}`, healthFail},
		{`{"status":0,"state":0}`, healthMalformed},
		{`{"status":[]}`, healthUnchecked},
		{`{"status":{"a":1}}`, healthMalformed},
		{`{}`, healthUnchecked},
	}
	for _, tt := range tests {
		v, ok := decodePy([]byte(tt.payload))
		if !ok {
			t.Fatalf("decodePy(%s) failed", tt.payload)
		}
		if got := structuredHealth(v); got != tt.want {
			t.Errorf("structuredHealth(%s) = %v, want %v", tt.payload, got, tt.want)
		}
	}
}

// TestStrictClassifyVectors pins strictClassify with Launchplane's own vectors
// (cbusillo/launchplane tests/test_runtime_identity.py @ 4b42a529725ae3ad788de3f3b8df30e7ead25c85)
// and the strict differences from the verifier: extra keys, short SHAs, null.
func TestStrictClassifyVectors(t *testing.T) {
	t.Parallel()
	want := strictExpected()
	canon := string(want.Canonical())
	tests := []struct {
		name    string
		payload string
		status  identity.Status
	}{
		{"launchplane: nested", `{"runtime_identity":` + canon + `}`, identity.StatusMatch},
		{"launchplane: env json", `{"LAUNCHPLANE_RUNTIME_IDENTITY_JSON":` + quote(canon) + `}`, identity.StatusMatch},
		{"launchplane: mismatch", `{"runtime_identity":` + strings.Replace(canon, `"source_git_ref":"abc123"`, `"source_git_ref":"def456"`, 1) + `}`, identity.StatusMismatch},
		{"launchplane: invalid is malformed", `{"runtime_identity":{"deployment_record_id":"deployment-123"}}`, identity.StatusMalformed},
		{"extra key", `{"runtime_identity":` + strings.Replace(canon, "{", `{"x":"1",`, 1) + `}`, identity.StatusMalformed},
		{"short sha", `{"runtime_identity":` + strings.Replace(canon, `"abc123"}`, `"abc"}`, 1) + `}`, identity.StatusMismatch},
		{"null", `{"runtime_identity":null}`, identity.StatusMalformed},
		{"none", `{"status":"ok"}`, identity.StatusMissing},
		{"lax schema_version 1.0", `{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":1.0`, 1) + `}`, identity.StatusMatch},
		{"lax schema_version 01", `{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":"01"`, 1) + `}`, identity.StatusMatch},
		{"lax schema_version 1_0", `{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":"1_0"`, 1) + `}`, identity.StatusMatch},
		{"schema_version 1.5", `{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":1.5`, 1) + `}`, identity.StatusMalformed},
		{"lax schema_version 0__1", `{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":"0__1"`, 1) + `}`, identity.StatusMatch},
		{"lax schema_version 1e17", `{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":1e17`, 1) + `}`, identity.StatusMatch},
		{"schema_version after U+001C", `{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":"\u001c1"`, 1) + `}`, identity.StatusMalformed},
		{"schema_version -1", `{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":"-1"`, 1) + `}`, identity.StatusMalformed},
	}
	for _, tt := range tests {
		v, ok := decodePy([]byte(tt.payload))
		if !ok {
			t.Fatalf("decodePy(%s) failed", tt.payload)
		}
		if got, _ := strictClassify(&want, v); got != tt.status {
			t.Errorf("%s: strictClassify() = %s, want %s", tt.name, got, tt.status)
		}
	}
	if got, _ := strictClassify(nil, map[string]any{}); got != identity.StatusUnchecked {
		t.Errorf("strictClassify(nil) = %s, want unchecked", got)
	}
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`))
	b.WriteByte('"')
	return b.String()
}

// FuzzStrictAgreesWithFake checks the client's rendition of Launchplane's rules against the
// fake's, written apart: for every payload both can read, the structured-health status and the
// identity status agree.
func FuzzStrictAgreesWithFake(f *testing.F) {
	want := strictExpected()
	canon := string(want.Canonical())
	for _, s := range []string{
		`{"status":"ok","runtime_identity":` + canon + `}`,
		`{"state":"FAIL","runtime_identity":null}`,
		`{"status":false,"state":"pa\u017fs","launchplaneRuntimeIdentity":` + quote(canon) + `}`,
		`{"runtime_identity":` + strings.Replace(canon, `"schema_version":1`, `"schema_version":" 2 "`, 1) + `}`,
		`[1,2]`, `"ok"`, `{"status":1e400}`,
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, payload []byte, withIdentity bool) {
		v, ok := decodePy(payload)
		if !ok {
			return
		}
		exp := &want
		if !withIdentity {
			exp = nil
		}
		health, status, err := launchplanetest.Reclassify(exp, payload)
		if err != nil {
			t.Fatalf("the fake cannot read %q, which the client would forward: %v", payload, err)
		}
		if got := map[healthState]string{healthUnchecked: "unchecked", healthPass: "pass", healthFail: "fail", healthMalformed: "malformed"}[structuredHealth(v)]; got != health {
			t.Errorf("structuredHealth(%q) = %s, fake %s", payload, got, health)
		}
		if got, _ := strictClassify(exp, v); string(got) != status {
			t.Errorf("strictClassify(%q) = %s, fake %s", payload, got, status)
		}
	})
}
