package identity

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFixtureClassification checks every example in fixtures/launchplane/README.md.
func TestFixtureClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file       string
		expected   string // expected identity fixture
		want       Status
		mismatched []string
		key        string
	}{
		{"health.generic.match.json", "stable", StatusMatch, nil, "runtime_identity"},
		{"health.generic.stale.json", "stable", StatusMismatch, []string{"deployment_record_id", "artifact_id"}, "runtime_identity"},
		{"health.string-encoded.json", "stable", StatusMatch, nil, EnvJSON},
		{"health.odoo.web-health.json", "stable", StatusMissing, nil, ""},
		// Launchplane says malformed; null means "not injected", so this project says missing.
		{"health.odoo.launchplane-health.null.json", "stable", StatusMissing, nil, "runtime_identity"},
		{"health.service.malformed.json", "stable", StatusMalformed, nil, "runtime_identity"},
		{"health.verireel-style.json", "stable", StatusMissing, nil, ""},
		{"health.generic.match.json", "preview", StatusMismatch, []string{"context", "instance", "environment_kind", "deployment_record_id", "artifact_id", "source_git_ref", "preview_id", "preview_generation_id"}, "runtime_identity"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.expected, func(t *testing.T) {
			t.Parallel()
			want := stable(t)
			if tt.expected == "preview" {
				want = preview(t)
			}
			obs := ExtractHealth(readFixture(t, tt.file))
			v := Compare(&want, obs)
			if v.Status != tt.want {
				t.Fatalf("Compare() = %s (%s), want %s", v.Status, v.Detail, tt.want)
			}
			if diff := cmp.Diff(tt.mismatched, v.Mismatched); diff != "" {
				t.Errorf("Compare() mismatched fields (-want +got):\n%s", diff)
			}
			if obs.Key != tt.key {
				t.Errorf("ExtractHealth() key = %q, want %q", obs.Key, tt.key)
			}
		})
	}
}

func TestStaleDetailIsLaunchplanes(t *testing.T) {
	t.Parallel()
	want := stable(t)
	v := Compare(&want, ExtractHealth(readFixture(t, "health.generic.stale.json")))
	if got, exp := v.Detail, "Runtime identity mismatched fields: deployment_record_id, artifact_id"; got != exp {
		t.Errorf("Compare().Detail = %q, want %q", got, exp)
	}
	for _, f := range v.Fields {
		if f.Field == "artifact_id" && (f.Expected == f.Observed || f.Result != ResultMismatch || !f.Compared) {
			t.Errorf("artifact_id field = %+v, want a compared mismatch with both values", f)
		}
		if f.Field == "image_reference" && (f.Result != ResultInformational || f.Compared) {
			t.Errorf("image_reference field = %+v, want informational", f)
		}
	}
}

func TestExtractHealth(t *testing.T) {
	t.Parallel()
	id := `{"context":"c","instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s"}`
	quoted := strings.ReplaceAll(id, `"`, `\"`)
	tests := []struct {
		name   string
		body   string
		found  bool
		status Status
		key    string
	}{
		{name: "object", body: `{"runtime_identity":` + id + `}`, found: true, key: "runtime_identity"},
		{name: "alias snake", body: `{"launchplane_runtime_identity":` + id + `}`, found: true, key: "launchplane_runtime_identity"},
		{name: "alias camel", body: `{"launchplaneRuntimeIdentity":` + id + `}`, found: true, key: "launchplaneRuntimeIdentity"},
		{name: "alias env name as string", body: `{"LAUNCHPLANE_RUNTIME_IDENTITY_JSON":"` + quoted + `"}`, found: true, key: EnvJSON},
		{name: "string with whitespace", body: `{"runtime_identity":"  ` + quoted + `\n"}`, found: true, key: "runtime_identity"},
		{name: "doubly encoded", body: `{"runtime_identity":"\"` + strings.ReplaceAll(quoted, `\"`, `\\\"`) + `\""}`, found: true, key: "runtime_identity"},
		{name: "malformed first alias does not hide later", body: `{"runtime_identity":"{bad","launchplaneRuntimeIdentity":` + id + `}`, found: true, key: "launchplaneRuntimeIdentity"},
		{name: "null then valid", body: `{"runtime_identity":null,"launchplane_runtime_identity":` + id + `}`, found: true, key: "launchplane_runtime_identity"},
		{name: "null", body: `{"runtime_identity":null}`, status: StatusMissing, key: "runtime_identity"},
		{name: "no key", body: `{"status":"ok"}`, status: StatusMissing},
		{name: "nested only is not searched", body: `{"data":{"runtime_identity":` + id + `}}`, status: StatusMissing},
		{name: "empty body", body: ``, status: StatusMissing},
		{name: "array", body: `[` + id + `]`, status: StatusMissing},
		{name: "scalar", body: `42`, status: StatusMissing},
		{name: "html", body: `<html>ok</html>`, status: StatusUnverifiable},
		{name: "truncated JSON", body: `{"runtime_identity":{`, status: StatusUnverifiable},
		{name: "invalid UTF-8", body: "{\"a\":\"\xff\"}", status: StatusUnverifiable},
		{name: "blank string", body: `{"runtime_identity":"  "}`, status: StatusMalformed, key: "runtime_identity"},
		{name: "bad JSON string", body: `{"runtime_identity":"{nope"}`, status: StatusMalformed, key: "runtime_identity"},
		{name: "number", body: `{"runtime_identity":7}`, status: StatusMalformed, key: "runtime_identity"},
		{name: "array value", body: `{"runtime_identity":[]}`, status: StatusMalformed, key: "runtime_identity"},
		{name: "wrong types", body: `{"runtime_identity":{"context":1}}`, status: StatusMalformed, key: "runtime_identity"},
		{name: "unsupported schema_version", body: `{"runtime_identity":` + strings.Replace(id, "{", `{"schema_version":2,`, 1) + `}`, status: StatusMalformed, key: "runtime_identity"},
		// Launchplane unwraps any depth; every level doubles the escapes, so depth stays small.
		{name: "deeply encoded, as Launchplane", body: `{"runtime_identity":` + deepString(id, 8) + `}`, found: true, key: "runtime_identity"},
		{name: "NaN elsewhere in the body, as Python reads it", body: `{"uptime":NaN,"load":[Infinity,-Infinity],"runtime_identity":` + id + `}`, found: true, key: "runtime_identity"},
		{name: "NaN as the identity", body: `{"runtime_identity":NaN}`, status: StatusMalformed, key: "runtime_identity"},
		{name: "NaN glued to a digit is not JSON", body: `{"uptime":NaN1,"runtime_identity":` + id + `}`, status: StatusUnverifiable},
		{name: "string-encoded with Python whitespace", body: `{"runtime_identity":"\u001c` + quoted + `\u2028"}`, found: true, key: "runtime_identity"},
		{name: "blank by Python's rules", body: `{"runtime_identity":"\u001f \u00a0"}`, status: StatusMalformed, key: "runtime_identity"},
		{name: "vertical tab before JSON", body: "\v" + `{"runtime_identity":` + id + `}`, status: StatusUnverifiable},
		{name: "no-break space only", body: "\u00a0", status: StatusUnverifiable},
		{name: "ASCII whitespace only", body: " \t\r\n\v\f", status: StatusMissing},
		{name: "trailing bracket", body: `{"runtime_identity":` + id + `}]`, status: StatusUnverifiable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs := ExtractHealth([]byte(tt.body))
			if obs.Found != tt.found || (!tt.found && obs.Status != tt.status) {
				t.Fatalf("ExtractHealth() = found %v status %s (%s), want found %v status %s", obs.Found, obs.Status, obs.Detail, tt.found, tt.status)
			}
			if obs.Key != tt.key {
				t.Errorf("ExtractHealth() key = %q, want %q", obs.Key, tt.key)
			}
			if obs.Found && obs.Identity.Context != "c" {
				t.Errorf("ExtractHealth() identity = %+v", obs.Identity)
			}
			if obs.Detail == "" {
				t.Errorf("ExtractHealth() has no detail")
			}
		})
	}
}

func deepString(s string, depth int) string {
	for i := 0; i < depth; i++ {
		s = `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
	}
	return s
}

func TestExtractWellKnown(t *testing.T) {
	t.Parallel()
	want := stable(t)
	tests := []struct {
		name   string
		body   string
		status Status
	}{
		{"identity", string(want.Canonical()), StatusMatch},
		{"null", "null", StatusMissing},
		{"empty", "", StatusMissing},
		{"html", "<!doctype html>", StatusUnverifiable},
		{"not an identity", `{"status":"ok"}`, StatusMalformed},
		{"string-encoded", `"` + strings.ReplaceAll(string(want.Canonical()), `"`, `\"`) + `"`, StatusMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs := ExtractWellKnown([]byte(tt.body))
			if obs.Surface != SurfaceWellKnown {
				t.Errorf("surface = %s", obs.Surface)
			}
			if got := Compare(&want, obs).Status; got != tt.status {
				t.Errorf("Compare(ExtractWellKnown()) = %s (%s), want %s", got, obs.Detail, tt.status)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	want := preview(t)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name       string
		header     http.Header
		status     Status
		mismatched []string
		partial    bool
	}{
		{"injected digest", h(HeaderDigest, want.Injected().Digest(), HeaderDeployment, want.DeploymentRecordID), StatusMatch, nil, false},
		{"record digest", h(HeaderDigest, want.Digest()), StatusMatch, nil, false},
		{"other digest", h(HeaderDigest, stable(t).Digest(), HeaderDeployment, want.DeploymentRecordID), StatusMismatch, []string{"identity_digest"}, false},
		{"stale deployment only", h(HeaderDeployment, "deployment-old"), StatusMismatch, []string{"deployment_record_id"}, true},
		{"deployment only", h(HeaderDeployment, want.DeploymentRecordID), StatusMatch, nil, true},
		{"none", h(), StatusMissing, nil, false},
		{"bad digest", h(HeaderDigest, "md5:abc"), StatusMalformed, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			obs := ExtractHeaders(tt.header)
			v := Compare(&want, obs)
			if v.Status != tt.status {
				t.Fatalf("Compare() = %s (%s), want %s", v.Status, v.Detail, tt.status)
			}
			if diff := cmp.Diff(tt.mismatched, v.Mismatched); diff != "" {
				t.Errorf("mismatched (-want +got):\n%s", diff)
			}
			if obs.Partial != tt.partial {
				t.Errorf("Partial = %v, want %v", obs.Partial, tt.partial)
			}
			if tt.partial && (len(v.Notes) == 0 || !strings.Contains(v.Notes[0], "only deployment_record_id")) {
				t.Errorf("a bare deployment header must say only deployment_record_id was compared; notes %q", v.Notes)
			}
		})
	}
}

func TestCompareRules(t *testing.T) {
	t.Parallel()
	want := stable(t)
	observe := func(mut func(*Identity)) Observation {
		got := want
		mut(&got)
		return ExtractHealth([]byte(`{"runtime_identity":` + string(got.Canonical()) + `}`))
	}
	t.Run("unchecked without expectation", func(t *testing.T) {
		t.Parallel()
		if v := Compare(nil, observe(func(*Identity) {})); v.Status != StatusUnchecked {
			t.Errorf("Compare(nil) = %s, want unchecked", v.Status)
		}
	})
	t.Run("short sha prefix matches with a note", func(t *testing.T) {
		t.Parallel()
		v := Compare(&want, observe(func(id *Identity) { id.SourceGitRef = "6b3c9d7" }))
		if v.Status != StatusMatch || len(v.Notes) != 1 || !strings.Contains(v.Notes[0], "prefix") {
			t.Errorf("Compare() = %s notes %q, want match with a prefix note", v.Status, v.Notes)
		}
	})
	t.Run("six characters is not enough", func(t *testing.T) {
		t.Parallel()
		if v := Compare(&want, observe(func(id *Identity) { id.SourceGitRef = "6b3c9d" })); v.Status != StatusMismatch {
			t.Errorf("Compare() = %s, want mismatch", v.Status)
		}
	})
	t.Run("non-prefix short sha", func(t *testing.T) {
		t.Parallel()
		if v := Compare(&want, observe(func(id *Identity) { id.SourceGitRef = "abcdef1" })); v.Status != StatusMismatch {
			t.Errorf("Compare() = %s, want mismatch", v.Status)
		}
	})
	t.Run("case matters", func(t *testing.T) {
		t.Parallel()
		if v := Compare(&want, observe(func(id *Identity) { id.Context = "SellYourOutboard" })); v.Status != StatusMismatch {
			t.Errorf("Compare() = %s, want mismatch", v.Status)
		}
	})
	t.Run("informational differences do not count", func(t *testing.T) {
		t.Parallel()
		v := Compare(&want, observe(func(id *Identity) {
			id.ImageReference, id.ReleaseTupleID, id.DeployedAt = "other", "tuple", "2026-01-01T00:00:00Z"
		}))
		if v.Status != StatusMatch {
			t.Errorf("Compare() = %s, want match", v.Status)
		}
	})
	t.Run("empty expected not compared", func(t *testing.T) {
		t.Parallel()
		w := want
		w.Product = ""
		v := Compare(&w, observe(func(id *Identity) { id.Product = "anything" }))
		if v.Status != StatusMatch || v.Fields[0].Result != ResultNotCompared || v.Fields[0].Compared {
			t.Errorf("Compare() = %s, product %+v, want match and product not compared", v.Status, v.Fields[0])
		}
	})
	t.Run("unknown keys tolerated with a note", func(t *testing.T) {
		t.Parallel()
		body := strings.Replace(string(want.Canonical()), "{", `{"build_number":"17",`, 1)
		v := Compare(&want, ExtractHealth([]byte(`{"runtime_identity":`+body+`}`)))
		// Launchplane calls this malformed; this project tolerates it (forward compatibility).
		if v.Status != StatusMatch || len(v.Notes) != 1 || !strings.Contains(v.Notes[0], "build_number") {
			t.Errorf("Compare() = %s notes %q, want match with a note naming build_number", v.Status, v.Notes)
		}
	})
	t.Run("not found keeps expected values", func(t *testing.T) {
		t.Parallel()
		v := Compare(&want, ExtractHealth([]byte(`{"status":"ok"}`)))
		if v.Status != StatusMissing || len(v.Fields) == 0 || v.Fields[4].Expected != want.DeploymentRecordID || v.Fields[4].Result != ResultNotReported {
			t.Errorf("Compare() = %+v", v)
		}
	})
}

// TestDifferencesFromLaunchplane pins each way this package reads a tenant's answer differently
// from Launchplane on purpose (docs/contract.md, "Deliberate differences from Launchplane"). Each
// case names Launchplane's verdict for the record; the other cases of the same rule are read as
// Launchplane reads them (TestExtractAgainstLaunchplane).
func TestDifferencesFromLaunchplane(t *testing.T) {
	t.Parallel()
	want := stable(t)
	with := func(mut func(*Identity)) string {
		id := want
		mut(&id)
		return string(id.Canonical())
	}
	canonical := string(want.Canonical())
	tests := []struct {
		name        string
		body        string
		launchplane Status
		want        Status
		note        string // a substring of one of the verdict's notes
	}{
		{name: "null identity is missing", body: `{"runtime_identity":null}`, launchplane: StatusMalformed, want: StatusMissing},
		{name: "unknown keys are tolerated with a note", body: `{"runtime_identity":` + strings.Replace(canonical, "{", `{"build":"17",`, 1) + `}`, launchplane: StatusMalformed, want: StatusMatch, note: `"build"`},
		{name: "a 7+ character commit prefix matches with a note", body: `{"runtime_identity":` + with(func(id *Identity) { id.SourceGitRef = id.SourceGitRef[:7] }) + `}`, launchplane: StatusMismatch, want: StatusMatch, note: "short commit"},
		{name: "schema_version 2 is malformed", body: `{"runtime_identity":` + with(func(id *Identity) { id.SchemaVersion = 2 }) + `}`, launchplane: StatusMatch, want: StatusMalformed},
		{name: "schema_version 2 in lax form is malformed", body: `{"runtime_identity":` + strings.Replace(canonical, `"schema_version":1`, `"schema_version":" 2.0 "`, 1) + `}`, launchplane: StatusMatch, want: StatusMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := Compare(&want, ExtractHealth([]byte(tt.body)))
			if v.Status != tt.want || v.Status == tt.launchplane {
				t.Fatalf("Compare() = %s (%s), want %s (Launchplane says %s)", v.Status, v.Detail, tt.want, tt.launchplane)
			}
			if tt.note != "" && !strings.Contains(strings.Join(v.Notes, "\n"), tt.note) {
				t.Errorf("Compare() notes = %q, want one naming %s", v.Notes, tt.note)
			}
		})
	}
}
