package tenant

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// secret marks env text that must never come back out of any surface or reason.
const secret = "SECRET-do-not-echo-7f3a"

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// testIdentity is a valid identity as a record holds it (deployed_at set).
func testIdentity() identity.Identity {
	return identity.Identity{
		SchemaVersion:      1,
		Product:            "sellyouroutboard",
		Context:            "sellyouroutboard",
		Instance:           "prod",
		EnvironmentKind:    "stable",
		DeploymentRecordID: "deployment-20260510T141500Z-sellyouroutboard-prod",
		ArtifactID:         "ghcr.io/cbusillo/sellyouroutboard@sha256:1111111111111111111111111111111111111111111111111111111111111111",
		SourceGitRef:       "6b3c9d7e8f901234567890abcdef1234567890ab",
		ImageReference:     "ghcr.io/cbusillo/sellyouroutboard@sha256:1111111111111111111111111111111111111111111111111111111111111111",
		DeployedAt:         "2026-05-10T14:20:00Z",
	}
}

// injectedEnv is the env a deployment of id gets: the four keys, as this project writes them.
func injectedEnv(id identity.Identity) map[string]string {
	env := map[string]string{"PATH": "/usr/bin"}
	for _, kv := range id.Injected().EnvVars() {
		env[kv.Key] = kv.Value
	}
	return env
}

func with(env map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(env)+len(kv)/2)
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

type envCase struct {
	name string
	env  map[string]string
	// want is the state and, for StateOK, the identity the tenant must serve.
	state      State
	want       identity.Identity
	reason     string // a substring of Reason()
	deployment bool   // X-Launchplane-Deployment expected (StateOK only)
}

func envCases() []envCase {
	id := testIdentity()
	inj := id.Injected()
	full := injectedEnv(id)
	spaced := inj
	spaced.DeploymentRecordID = "deployment 42"
	preview := inj
	preview.EnvironmentKind, preview.Instance, preview.PreviewID, preview.PreviewGenerationID = "preview", "pr-42", "preview-site-pr-42", "preview-site-pr-42-generation-0001"
	return []envCase{
		{name: "valid, four keys", env: full, state: StateOK, want: inj, reason: "identity read", deployment: true},
		{name: "valid, JSON key only", env: map[string]string{EnvJSON: string(inj.Canonical())}, state: StateOK, want: inj, deployment: true},
		{name: "valid preview", env: injectedEnv(preview), state: StateOK, want: preview, deployment: true},
		{name: "valid with surrounding whitespace", env: with(full, EnvJSON, "\n  "+string(inj.Canonical())+"  \n"), state: StateOK, want: inj, deployment: true},
		{
			name: "hand-written: spaces, other order, optional fields omitted, string schema_version",
			env: map[string]string{EnvJSON: `{ "source_git_ref": "6b3c9d7e8f901234567890abcdef1234567890ab", "schema_version": "1",
				"context": "sellyouroutboard", "instance": "prod", "product": "sellyouroutboard",
				"deployment_record_id": "deployment-20260510T141500Z-sellyouroutboard-prod",
				"artifact_id": "ghcr.io/cbusillo/sellyouroutboard@sha256:1111111111111111111111111111111111111111111111111111111111111111",
				"image_reference": "ghcr.io/cbusillo/sellyouroutboard@sha256:1111111111111111111111111111111111111111111111111111111111111111" }`},
			state: StateOK, want: inj, deployment: true,
		},
		{
			name:  "extra keys are dropped",
			env:   with(full, EnvJSON, strings.TrimSuffix(string(inj.Canonical()), "}")+`,"zz_future":"x","region":{"a":1}}`),
			state: StateOK, want: inj, reason: "2 key(s) this version does not know were dropped", deployment: true,
		},
		{name: "record id a header cannot carry", env: injectedEnv(spaced), state: StateOK, want: spaced, deployment: false},
		{name: "unset", env: map[string]string{"PATH": "/usr/bin"}, state: StateMissing, reason: EnvJSON + " is not set"},
		{name: "empty", env: map[string]string{EnvJSON: ""}, state: StateMissing, reason: "is not set"},
		{name: "blank", env: map[string]string{EnvJSON: " \t\n "}, state: StateMissing, reason: "is not set"},
		{name: "copies without the JSON", env: with(full, EnvJSON, ""), state: StateMissing, reason: EnvDeploymentRecordID + " is set without it"},
		{name: "bad JSON", env: map[string]string{EnvJSON: `{"context":"` + secret + `",`}, state: StateMalformed, reason: "not a JSON object"},
		{name: "not an object", env: map[string]string{EnvJSON: `["` + secret + `"]`}, state: StateMalformed, reason: "not a JSON object"},
		{name: "JSON null", env: map[string]string{EnvJSON: "null"}, state: StateMalformed, reason: "not a JSON object"},
		{name: "trailing data", env: map[string]string{EnvJSON: string(inj.Canonical()) + `{"x":"` + secret + `"}`}, state: StateMalformed, reason: "trailing data"},
		{name: "wrong type: number", env: with(full, EnvJSON, strings.Replace(string(inj.Canonical()), `"instance":"prod"`, `"instance":42`, 1)), state: StateMalformed, reason: "instance: is a number; want a string"},
		{name: "wrong type: null", env: with(full, EnvJSON, strings.Replace(string(inj.Canonical()), `"product":"sellyouroutboard"`, `"product":null`, 1)), state: StateMalformed, reason: "product: is null"},
		{name: "wrong type: object", env: with(full, EnvJSON, strings.Replace(string(inj.Canonical()), `"context":"sellyouroutboard"`, `"context":{"v":"`+secret+`"}`, 1)), state: StateMalformed, reason: "context: is an object"},
		{name: "required field blank", env: with(full, EnvJSON, strings.Replace(string(inj.Canonical()), `"instance":"prod"`, `"instance":"  "`, 1)), state: StateMalformed, reason: "instance: is required"},
		{
			name:  "lax forms as Launchplane's model reads them: schema_version 1.0, NaN elsewhere is a number",
			env:   with(full, EnvJSON, strings.Replace(strings.TrimSuffix(string(inj.Canonical()), "}")+`,"uptime":NaN}`, `"schema_version":1`, `"schema_version":1.0`, 1)),
			state: StateOK, want: inj, reason: "1 key(s) this version does not know were dropped", deployment: true,
		},
		{name: "schema_version true", env: with(full, EnvJSON, strings.Replace(string(inj.Canonical()), `"schema_version":1`, `"schema_version":true`, 1)), state: StateOK, want: inj, deployment: true},
		{name: "schema_version 1.5", env: with(full, EnvJSON, strings.Replace(string(inj.Canonical()), `"schema_version":1`, `"schema_version":1.5`, 1)), state: StateMalformed, reason: "schema_version: is a number with a fractional part"},
		{name: "unsupported schema_version", env: with(full, EnvJSON, strings.Replace(string(inj.Canonical()), `"schema_version":1`, `"schema_version":2`, 1)), state: StateMalformed, reason: "schema_version"},
		{name: "disagreeing record id copy", env: with(full, EnvDeploymentRecordID, "deployment-"+secret), state: StateMalformed, reason: EnvDeploymentRecordID + " disagrees"},
		{name: "disagreeing artifact copy", env: with(full, EnvArtifactID, secret), state: StateMalformed, reason: EnvArtifactID + " disagrees"},
		{name: "disagreeing source copy", env: with(full, EnvSourceGitRef, "0000000"), state: StateMalformed, reason: EnvSourceGitRef + " disagrees"},
	}
}

// findCase returns the case whose name starts with prefix.
func findCase(prefix string) envCase {
	for _, tc := range envCases() {
		if strings.HasPrefix(tc.name, prefix) {
			return tc
		}
	}
	panic("no env case " + prefix)
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	for _, tc := range envCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := FromEnv(envFunc(tc.env))
			if got := rt.State(); got != tc.state {
				t.Fatalf("State() = %v, want %v (reason %q)", got, tc.state, rt.Reason())
			}
			if !strings.Contains(rt.Reason(), tc.reason) {
				t.Errorf("Reason() = %q, want it to contain %q", rt.Reason(), tc.reason)
			}
			if strings.Contains(rt.Reason(), secret) {
				t.Errorf("Reason() = %q echoes env text", rt.Reason())
			}
			got, ok := rt.Identity()
			hv := rt.HealthValue()
			switch tc.state {
			case StateOK:
				if !ok {
					t.Fatal("Identity() ok = false, want true")
				}
				if diff := cmp.Diff(fromInternal(tc.want), got); diff != "" {
					t.Errorf("Identity() mismatch (-want +got):\n%s", diff)
				}
				if d := rt.Digest(); d != tc.want.Digest() {
					t.Errorf("Digest() = %s, want %s", d, tc.want.Digest())
				}
				if string(hv) != string(tc.want.Canonical()) {
					t.Errorf("HealthValue() = %s, want %s", hv, tc.want.Canonical())
				}
			case StateMissing:
				if ok || rt.Digest() != "" || hv != nil {
					t.Errorf("Identity() ok = %v, Digest() = %q, HealthValue() = %s; want false, empty, nil", ok, rt.Digest(), hv)
				}
			case StateMalformed:
				if ok || rt.Digest() != "" {
					t.Errorf("Identity() ok = %v, Digest() = %q; want false, empty", ok, rt.Digest())
				}
				var obj map[string]string
				if err := json.Unmarshal(hv, &obj); err != nil {
					t.Fatalf("HealthValue() = %s: %v", hv, err)
				}
				want := map[string]string{"status": "invalid", "error": "runtime identity malformed", "detail": rt.Reason()}
				if diff := cmp.Diff(want, obj); diff != "" {
					t.Errorf("HealthValue() mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// The zero Runtime and a nil getenv are a tenant without identity, not a crash.
func TestZeroRuntimeAndNilGetenv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		rt   *Runtime
	}{
		{"zero value", &Runtime{}},
		{"nil getenv", FromEnv(nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.rt.State(); got != StateMissing {
				t.Errorf("State() = %v, want %v", got, StateMissing)
			}
			if got := tc.rt.Reason(); got != EnvJSON+" is not set" {
				t.Errorf("Reason() = %q, want %q", got, EnvJSON+" is not set")
			}
			if hv := tc.rt.HealthValue(); hv != nil {
				t.Errorf("HealthValue() = %s, want nil", hv)
			}
			b, err := json.Marshal(map[string]any{"runtime_identity": tc.rt.HealthValue()})
			if err != nil || string(b) != `{"runtime_identity":null}` {
				t.Errorf("json.Marshal(health) = %s, %v; want {\"runtime_identity\":null}", b, err)
			}
		})
	}
}

// HealthValue hands out copies: a caller scribbling on one cannot change what is served.
func TestHealthValueIsACopy(t *testing.T) {
	t.Parallel()
	rt := FromEnv(envFunc(injectedEnv(testIdentity())))
	hv := rt.HealthValue()
	hv[1] = 'X'
	if got, want := string(rt.HealthValue()), string(testIdentity().Injected().Canonical()); got != want {
		t.Errorf("HealthValue() after caller edit = %s, want %s", got, want)
	}
}

// The public Identity mirrors the contract's JSON names exactly.
func TestIdentityJSONNames(t *testing.T) {
	t.Parallel()
	id := testIdentity()
	got, err := json.Marshal(fromInternal(id))
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(id.Canonical(), &b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, a); diff != "" {
		t.Errorf("json.Marshal(Identity) mismatch with the canonical form (-want +got):\n%s", diff)
	}
}

// Identity mirrors the internal identity type field for field (the conversion in fromInternal
// only compiles while names and types agree); this pins the JSON names too, against the
// contract's field table.
func TestIdentityMirrorsContract(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[Identity]()
	internal := reflect.TypeFor[identity.Identity]()
	if typ.NumField() != len(identity.Fields) {
		t.Fatalf("Identity has %d fields, the contract %d", typ.NumField(), len(identity.Fields))
	}
	for i := range typ.NumField() {
		f, g := typ.Field(i), internal.Field(i)
		if f.Tag.Get("json") != g.Tag.Get("json") {
			t.Errorf("Identity.%s is tagged %q, the internal type %q", f.Name, f.Tag.Get("json"), g.Tag.Get("json"))
		}
		if _, ok := identity.FieldByName(f.Tag.Get("json")); !ok {
			t.Errorf("Identity.%s is tagged %q, not a contract field", f.Name, f.Tag.Get("json"))
		}
	}
}
