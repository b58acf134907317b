package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "launchplane", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func stable(t testing.TB) Identity {
	t.Helper()
	id, err := ParseExpected(readFixture(t, "expected-identity.stable.json"))
	if err != nil {
		t.Fatalf("ParseExpected(stable fixture) = %v", err)
	}
	return id
}

func preview(t testing.TB) Identity {
	t.Helper()
	id, err := ParseExpected(readFixture(t, "expected-identity.preview.json"))
	if err != nil {
		t.Fatalf("ParseExpected(preview fixture) = %v", err)
	}
	return id
}

// The fixtures are Launchplane's canonical renderings plus one newline.
func TestCanonicalMatchesLaunchplaneFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"expected-identity.stable.json", "expected-identity.preview.json"} {
		raw := readFixture(t, name)
		id, err := ParseExpected(raw)
		if err != nil {
			t.Fatalf("%s: ParseExpected() = %v", name, err)
		}
		want := strings.TrimSuffix(string(raw), "\n")
		if got := string(id.Canonical()); got != want {
			t.Errorf("%s: Canonical() mismatch (-want +got):\n%s", name, cmp.Diff(want, got))
		}
	}
}

type canonicalCase struct {
	Name     string          `json:"name"`
	Identity json.RawMessage `json:"identity"`
}

func canonicalCases(t *testing.T) []canonicalCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "canonical", "inputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []canonicalCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// renderLoose decodes an input without validation: Canonical must render any value exactly as
// Launchplane would, even ones Validate rejects.
func renderLoose(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var id Identity
	if err := json.Unmarshal(raw, &id); err != nil {
		t.Fatal(err)
	}
	return string(id.Canonical())
}

// TestCanonicalGolden pins the bytes against files produced by Python's json.dumps (gen.py).
func TestCanonicalGolden(t *testing.T) {
	t.Parallel()
	for _, c := range canonicalCases(t) {
		want, err := os.ReadFile(filepath.Join("testdata", "canonical", c.Name+".golden"))
		if err != nil {
			t.Fatalf("%s: %v (regenerate with: python3 internal/identity/testdata/canonical/gen.py)", c.Name, err)
		}
		if got := renderLoose(t, c.Identity); got != string(want) {
			t.Errorf("%s: Canonical() differs from Python's rendering (-python +go):\n%s", c.Name, cmp.Diff(string(want), got))
		}
	}
}

// TestCanonicalAgainstLivePython re-runs the generator, proving the two renderings equal on this
// machine and that the golden files are current.
func TestCanonicalAgainstLivePython(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH; TestCanonicalGolden still checks the committed Python renderings")
	}
	out, err := exec.Command(py, filepath.Join("testdata", "canonical", "gen.py"), "--stdout").Output()
	if err != nil {
		t.Fatalf("gen.py: %v", err)
	}
	var rendered map[string]string
	if err := json.Unmarshal(out, &rendered); err != nil {
		t.Fatal(err)
	}
	cases := canonicalCases(t)
	if len(rendered) != len(cases) {
		t.Fatalf("python rendered %d cases, want %d", len(rendered), len(cases))
	}
	for _, c := range cases {
		if got := renderLoose(t, c.Identity); got != rendered[c.Name] {
			t.Errorf("%s: Canonical() differs from live Python (-python +go):\n%s", c.Name, cmp.Diff(rendered[c.Name], got))
		}
	}
}

func TestCanonicalRoundTrip(t *testing.T) {
	t.Parallel()
	for _, id := range []Identity{stable(t), preview(t)} {
		c := id.Canonical()
		if !json.Valid(c) || bytes.ContainsAny(c, " \n") {
			t.Fatalf("Canonical() = %s, want compact valid JSON", c)
		}
		got, unknown, err := Decode(c)
		if err != nil || len(unknown) > 0 {
			t.Fatalf("Decode(Canonical()) = %v, %v", unknown, err)
		}
		if diff := cmp.Diff(id, got); diff != "" {
			t.Errorf("Decode(Canonical()) mismatch (-want +got):\n%s", diff)
		}
		var m map[string]any
		if err := json.Unmarshal(c, &m); err != nil || len(m) != 13 {
			t.Errorf("Canonical() has %d keys, want all 13", len(m))
		}
	}
}

func TestDigestBreadcrumbEnv(t *testing.T) {
	t.Parallel()
	id := stable(t)
	// sha256 of the fixture without its newline, computed independently with sha256sum.
	out, err := exec.Command("sh", "-c", "printf %s \"$(cat testdata/launchplane/expected-identity.stable.json)\" | sha256sum").Output()
	if err != nil {
		t.Skipf("sha256sum unavailable: %v", err)
	}
	if want := "sha256:" + strings.Fields(string(out))[0]; id.Digest() != want {
		t.Errorf("Digest() = %s, want %s", id.Digest(), want)
	}
	if got, want := id.Breadcrumb(), "sellyouroutboard/sellyouroutboard/prod deployment-20260510T141500Z-sellyouroutboard-prod @6b3c9d7"; got != want {
		t.Errorf("Breadcrumb() = %q, want %q", got, want)
	}
	noProduct := id
	noProduct.Product = ""
	if got, want := noProduct.Breadcrumb(), "sellyouroutboard/prod deployment-20260510T141500Z-sellyouroutboard-prod @6b3c9d7"; got != want {
		t.Errorf("Breadcrumb() without product = %q, want %q", got, want)
	}
	want := []EnvVar{
		{EnvJSON, string(id.Canonical())},
		{EnvDeploymentRecordID, "deployment-20260510T141500Z-sellyouroutboard-prod"},
		{EnvArtifactID, "ghcr.io/cbusillo/sellyouroutboard@sha256:1111111111111111111111111111111111111111111111111111111111111111"},
		{EnvSourceGitRef, "6b3c9d7e8f901234567890abcdef1234567890ab"},
	}
	if diff := cmp.Diff(want, id.EnvVars()); diff != "" {
		t.Errorf("EnvVars() mismatch (-want +got):\n%s", diff)
	}
	for i, kv := range id.EnvVars() {
		if kv.Key != EnvKeys[i] {
			t.Errorf("EnvVars()[%d].Key = %s, want %s", i, kv.Key, EnvKeys[i])
		}
	}
	rec := preview(t)
	if rec.Injected().DeployedAt != "" || rec.Injected().Digest() == rec.Digest() {
		t.Errorf("Injected() must clear deployed_at and so change the digest")
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	base := func(t *testing.T) Identity { return stable(t) }
	tests := []struct {
		name   string
		mutate func(*Identity)
		fields []string // fields named in the error, in order; nil means valid
	}{
		{"valid stable", func(*Identity) {}, nil},
		{"valid preview record with deployed_at", func(id *Identity) {
			id.EnvironmentKind, id.DeployedAt = KindPreview, "2026-05-10T15:02:11Z"
		}, nil},
		{"valid 256 characters", func(id *Identity) { id.ArtifactID = strings.Repeat("a", 256) }, nil},
		{"schema_version 2", func(id *Identity) { id.SchemaVersion = 2 }, []string{"schema_version"}},
		{"missing context", func(id *Identity) { id.Context = "" }, []string{"context"}},
		{"blank instance", func(id *Identity) { id.Instance = "   " }, []string{"instance"}},
		{"missing record id", func(id *Identity) { id.DeploymentRecordID = "" }, []string{"deployment_record_id"}},
		{"missing artifact", func(id *Identity) { id.ArtifactID = "" }, []string{"artifact_id"}},
		{"missing ref", func(id *Identity) { id.SourceGitRef = "" }, []string{"source_git_ref"}},
		{"bad kind", func(id *Identity) { id.EnvironmentKind = "production" }, []string{"environment_kind"}},
		{"empty kind", func(id *Identity) { id.EnvironmentKind = "" }, []string{"environment_kind"}},
		{"257 characters", func(id *Identity) { id.ArtifactID = strings.Repeat("a", 257) }, []string{"artifact_id"}},
		{"newline injection", func(id *Identity) { id.ArtifactID = "x\nDATABASE_URL=postgres://evil" }, []string{"artifact_id"}},
		{"CR", func(id *Identity) { id.Product = "a\rb" }, []string{"product"}},
		{"dokploy reference", func(id *Identity) { id.ImageReference = "${{project.SECRET}}" }, []string{"image_reference"}},
		{"dollar", func(id *Identity) { id.ReleaseTupleID = "$HOME" }, []string{"release_tuple_id"}},
		{"hash", func(id *Identity) { id.PreviewID = "pr-42#x" }, []string{"preview_id"}},
		{"double quote", func(id *Identity) { id.PreviewGenerationID = `a"b` }, []string{"preview_generation_id"}},
		{"single quote", func(id *Identity) { id.Product = "it's" }, []string{"product"}},
		{"backtick", func(id *Identity) { id.Product = "a`b" }, []string{"product"}},
		{"backslash", func(id *Identity) { id.Context = `a\b` }, []string{"context"}},
		{"space", func(id *Identity) { id.Instance = "pr 42" }, []string{"instance"}},
		{"tab", func(id *Identity) { id.Instance = "pr\t42" }, []string{"instance"}},
		{"non-ASCII", func(id *Identity) { id.Product = "café" }, []string{"product"}},
		{"DEL", func(id *Identity) { id.Product = "a\x7f" }, []string{"product"}},
		{"NUL", func(id *Identity) { id.Product = "a\x00" }, []string{"product"}},
		{"deployed_at with offset", func(id *Identity) { id.DeployedAt = "2026-05-10T15:02:11+02:00" }, []string{"deployed_at"}},
		{"deployed_at with fraction", func(id *Identity) { id.DeployedAt = "2026-05-10T15:02:11.5Z" }, []string{"deployed_at"}},
		{"deployed_at date only", func(id *Identity) { id.DeployedAt = "2026-05-10" }, []string{"deployed_at"}},
		{"deployed_at February 30", func(id *Identity) { id.DeployedAt = "2026-02-30T00:00:00Z" }, []string{"deployed_at"}},
		{"several at once", func(id *Identity) { id.Context, id.SourceGitRef, id.EnvironmentKind = "", "", "x" }, []string{"context", "environment_kind", "source_git_ref"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := base(t)
			tt.mutate(&id)
			err := id.Validate()
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			ve, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("Validate() = %v, want *ValidationError", err)
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.Field)
				if p.Reason == "" {
					t.Errorf("problem for %s has no reason", p.Field)
				}
			}
			if diff := cmp.Diff(tt.fields, got); diff != "" {
				t.Errorf("Validate() fields mismatch (-want +got):\n%s", diff)
			}
			// An injection attempt must never be echoed raw into the message.
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Validate() message contains a raw newline: %q", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	min := `{"context":"c","instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s"}`
	tests := []struct {
		name    string
		raw     string
		want    Identity
		unknown []string
		errs    []string // fields named in the error
		wantErr bool
	}{
		{name: "minimal takes defaults", raw: min, want: Identity{SchemaVersion: 1, EnvironmentKind: "stable", Context: "c", Instance: "i", DeploymentRecordID: "d", ArtifactID: "a", SourceGitRef: "s"}},
		{name: "unknown keys tolerated", raw: strings.Replace(min, "{", `{"zeta":1,"alpha":null,`, 1), want: Identity{SchemaVersion: 1, EnvironmentKind: "stable", Context: "c", Instance: "i", DeploymentRecordID: "d", ArtifactID: "a", SourceGitRef: "s"}, unknown: []string{"alpha", "zeta"}},
		{name: "schema_version string 1 like pydantic", raw: strings.Replace(min, "{", `{"schema_version":"1",`, 1), want: Identity{SchemaVersion: 1, EnvironmentKind: "stable", Context: "c", Instance: "i", DeploymentRecordID: "d", ArtifactID: "a", SourceGitRef: "s"}},
		{name: "schema_version 1.0 like pydantic", raw: strings.Replace(min, "{", `{"schema_version":1.0,`, 1), want: Identity{SchemaVersion: 1, EnvironmentKind: "stable", Context: "c", Instance: "i", DeploymentRecordID: "d", ArtifactID: "a", SourceGitRef: "s"}},
		{name: "schema_version true like pydantic", raw: strings.Replace(min, "{", `{"schema_version":true,`, 1), want: Identity{SchemaVersion: 1, EnvironmentKind: "stable", Context: "c", Instance: "i", DeploymentRecordID: "d", ArtifactID: "a", SourceGitRef: "s"}},
		{name: "schema_version padded string like pydantic", raw: strings.Replace(min, "{", `{"schema_version":" 1 ",`, 1), want: Identity{SchemaVersion: 1, EnvironmentKind: "stable", Context: "c", Instance: "i", DeploymentRecordID: "d", ArtifactID: "a", SourceGitRef: "s"}},
		{name: "schema_version 2", raw: strings.Replace(min, "{", `{"schema_version":2,`, 1), errs: []string{"schema_version"}},
		{name: "schema_version false", raw: strings.Replace(min, "{", `{"schema_version":false,`, 1), errs: []string{"schema_version"}},
		{name: "schema_version NaN", raw: strings.Replace(min, "{", `{"schema_version":NaN,`, 1), errs: []string{"schema_version"}},
		{name: "schema_version null", raw: strings.Replace(min, "{", `{"schema_version":null,`, 1), errs: []string{"schema_version"}},
		{name: "NaN in a string field", raw: strings.Replace(min, "{", `{"product":NaN,`, 1), errs: []string{"product"}},
		{name: "required field blank by Python's rules", raw: strings.Replace(min, `"i"`, `"\u001c\u3000"`, 1), errs: []string{"instance"}},
		{name: "trailing bracket", raw: min + `]`, wantErr: true},
		{name: "schema_version 1.5", raw: strings.Replace(min, "{", `{"schema_version":1.5,`, 1), errs: []string{"schema_version"}},
		{name: "null string field", raw: strings.Replace(min, `"c"`, `null`, 1), errs: []string{"context"}},
		{name: "number in string field", raw: strings.Replace(min, "{", `{"product":7,`, 1), errs: []string{"product"}},
		{name: "missing required", raw: `{"context":"c"}`, errs: []string{"artifact_id", "deployment_record_id", "instance", "source_git_ref"}},
		{name: "blank required", raw: strings.Replace(min, `"i"`, `" "`, 1), errs: []string{"instance"}},
		{name: "array", raw: `[1]`, wantErr: true},
		{name: "null", raw: `null`, wantErr: true},
		{name: "trailing data", raw: min + `{}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, unknown, err := Decode([]byte(tt.raw))
			if tt.wantErr || tt.errs != nil {
				if err == nil {
					t.Fatalf("Decode() = %+v, want an error", got)
				}
				if tt.errs != nil {
					ve, ok := err.(*ValidationError)
					if !ok {
						t.Fatalf("Decode() error = %T, want *ValidationError", err)
					}
					var fields []string
					for _, p := range ve.Problems {
						fields = append(fields, p.Field)
					}
					if diff := cmp.Diff(tt.errs, fields); diff != "" {
						t.Errorf("Decode() error fields (-want +got):\n%s", diff)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode() = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.unknown, unknown); diff != "" {
				t.Errorf("Decode() unknown keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseExpectedRejectsUnknownKeys(t *testing.T) {
	t.Parallel()
	raw := strings.Replace(string(readFixture(t, "expected-identity.stable.json")), "{", `{"extra":"x",`, 1)
	if _, err := ParseExpected([]byte(raw)); err == nil || !strings.Contains(err.Error(), `"extra"`) {
		t.Errorf("ParseExpected() = %v, want an error naming the unknown key", err)
	}
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	id := stable(t)
	full := map[string]string{}
	for _, kv := range id.EnvVars() {
		full[kv.Key] = kv.Value
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range full {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name        string
		env         map[string]string
		notInjected bool
		wantErr     bool
		key         string // the key an *EnvError names
	}{
		{name: "all four keys", env: full},
		{name: "json only", env: map[string]string{EnvJSON: full[EnvJSON]}},
		{name: "unset", env: map[string]string{}, notInjected: true, wantErr: true},
		{name: "blank", env: map[string]string{EnvJSON: "  "}, notInjected: true, wantErr: true},
		{name: "not JSON", env: with(EnvJSON, "{oops"), wantErr: true, key: EnvJSON},
		{name: "disagreeing copy", env: with(EnvArtifactID, "other"), wantErr: true, key: EnvArtifactID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := FromEnv(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("FromEnv() error = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.notInjected != (err == ErrNotInjected) {
				t.Errorf("FromEnv() error = %v, want ErrNotInjected %v", err, tt.notInjected)
			}
			var envErr *EnvError
			if tt.wantErr && !tt.notInjected && (!errors.As(err, &envErr) || envErr.Key != tt.key) {
				t.Errorf("FromEnv() error = %#v, want an *EnvError for %s", err, tt.key)
			}
			if err == nil && got != id {
				t.Errorf("FromEnv() = %+v, want %+v", got, id)
			}
		})
	}
}

// Reason gives each error's text without the package's context, from the error's type.
func TestReason(t *testing.T) {
	t.Parallel()
	_, notObject := FromEnv(func(k string) string {
		if k == EnvJSON {
			return "[1]"
		}
		return ""
	})
	_, disagree := FromEnv(func(k string) string {
		switch k {
		case EnvJSON:
			return string(stable(t).Canonical())
		case EnvArtifactID:
			return "x"
		}
		return ""
	})
	_, _, invalid := Decode([]byte(`{"context":7}`))
	_, unknown := ParseExpected([]byte(strings.Replace(string(stable(t).Canonical()), "{", `{"extra":1,`, 1)))
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"not injected", ErrNotInjected, EnvJSON + " is not set"},
		{"env not an object", notObject, "read " + EnvJSON + ": not a JSON object"},
		{"env copy disagrees", disagree, EnvArtifactID + " disagrees with " + EnvJSON},
		{"validation", invalid, "invalid runtime identity: artifact_id: is required and must not be empty; context: is a number; want a string; deployment_record_id: is required and must not be empty; instance: is required and must not be empty; source_git_ref: is required and must not be empty"},
		{"unknown keys", unknown, `unknown keys "extra"; the contract has exactly the 13 fields of schema_version 1`},
		{"wrapped", fmt.Errorf("context: %w", notObject), "read " + EnvJSON + ": not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Reason(tt.err); got != tt.want {
				t.Errorf("Reason() = %q, want %q", got, tt.want)
			}
			if tt.err != nil && !strings.HasSuffix(tt.err.Error(), tt.want) {
				t.Errorf("Error() = %q, want it to end with Reason() %q", tt.err.Error(), tt.want)
			}
		})
	}
	var de *DecodeError
	if !errors.As(unknown, &de) || len(de.UnknownKeys) != 1 || de.UnknownKeys[0] != "extra" {
		t.Errorf("ParseExpected() error = %#v, want a *DecodeError naming the key", unknown)
	}
}
