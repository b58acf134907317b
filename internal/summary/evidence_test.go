package summary

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// fill sets every field reachable from v to a non-zero value: strings to "planted-<path>",
// numbers to 7, pointers allocated, one map entry and one slice element. Nothing is left zero, so a
// field the evidence forgets or copies by mistake shows.
func fill(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("planted-" + path)
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeOf(time.Duration(0)) {
			v.SetInt(int64(7 * time.Second))
		} else {
			v.SetInt(7)
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), path)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(t0))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeOf(json.RawMessage(nil)) {
			v.SetBytes([]byte(`{"observed":"planted-` + path + `"}`))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0), path+"[]")
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, path+"{key}")
		fill(e, path+"{}")
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Func:
		// Redact stays nil.
	default:
		panic("fill: unhandled kind " + v.Kind().String() + " at " + path)
	}
}

// fullReport is a report with every field filled, made schema-valid where the schema has a
// vocabulary.
func fullReport() Report {
	var r Report
	fill(reflect.ValueOf(&r).Elem(), "Report")
	want := stable()
	r.Expected = &want
	r.Mode, r.Outcome, r.ExitCode = "deploy", OutcomeFailed, 1
	r.Verdict.Status = identity.StatusMismatch
	r.Verdict.Fields[0].Result = identity.ResultMismatch
	r.TrustState, r.GitHubState, r.RollbackStatus = TrustStale, "failure", RollbackDone
	r.Rollback.Verdict.Status = identity.StatusMatch
	r.Rollback.Restored = &want
	r.Provenance = map[string]Source{"product": {SourceInput, "planted-provenance-detail"}, "context": {SourceRecord, "planted-record-detail"}}
	r.FinishedAt = t0.Add(time.Minute)
	return r
}

// keyPaths lists every object key path in a JSON document; array elements are "[]" and the keys
// of free-form maps (provenance, first_seen_ms) and of the observed identity are "*".
func keyPaths(v any, path string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := path + "." + k
			if path == ".provenance" || path == ".timings.first_seen_ms" || path == ".observed_runtime_identity" {
				p = path + ".*"
			}
			out[p] = true
			keyPaths(e, p, out)
		}
	case []any:
		for _, e := range x {
			keyPaths(e, path+"[]", out)
		}
	}
}

// TestEvidenceKeySet marshals a report with every field filled and pins the evidence key set:
// a field added to Report without a place in the evidence, or a key added without the schema,
// fails here or in the schema check.
func TestEvidenceKeySet(t *testing.T) {
	t.Parallel()
	b, err := Evidence(fullReport())
	if err != nil {
		t.Fatal(err)
	}
	validateEvidence(t, evidenceSchema(t), b)
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	keyPaths(doc, "", got)
	want := map[string]bool{}
	for _, k := range strings.Fields(`
		.schema_version .tool .tool.name .tool.version .mode .outcome .exit_code .require_identity
		.runtime_identity_status .runtime_identity_detail .trust_state .expected_runtime_identity .expected_digest
		.observed_runtime_identity .observed_runtime_identity.* .mismatched_fields .fields
		.fields[].field .fields[].expected .fields[].observed .fields[].compared .fields[].result
		.surface .url .attempts .confirmations .confirmations_required .timed_out
		.timings .timings.started_at .timings.finished_at .timings.elapsed_ms .timings.probe_ms
		.timings.time_to_match_ms .timings.rollout_ms .timings.queued_ms .timings.first_seen_ms .timings.first_seen_ms.*
		.dokploy .dokploy.target_kind .dokploy.target_id .dokploy.deployment_id .dokploy.status .dokploy.title .dokploy.ending .dokploy.log_tail
		.dokploy.trigger .dokploy.env_changed .dokploy.error
		.github .github.deployment_id .github.state .github.environment .github.environment_url .github.log_url .github.error
		.provenance .provenance.* .provenance.*.kind .provenance.*.detail .provenance.*.link
		.links .links.run .links.record
		.surfaces .surfaces[].surface .surfaces[].url .surfaces[].status_code .surfaces[].status .surfaces[].key
		.surfaces[].detail .surfaces[].deployment_record_id .surfaces[].digest
		.notes .warnings .unavailable .unavailable[].field .unavailable[].reason .cancelled
		.rollback .rollback.status .rollback.reason .rollback.rollback_id .rollback.deployment_id .rollback.restored_runtime_identity
		.rollback.runtime_identity_status .rollback.runtime_identity_detail .rollback.env_restored .rollback.elapsed_ms
		.rollback.time_to_match_ms .rollback.notes`) {
		want[k] = true
	}
	for _, f := range identity.Fields {
		want[".expected_runtime_identity."+f.Name] = true
		want[".rollback.restored_runtime_identity."+f.Name] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("evidence key set (-want +got):\n%s", diff)
	}
}

// stringsIn collects every string reachable from v.
func stringsIn(v reflect.Value, out map[string]bool) {
	switch v.Kind() {
	case reflect.String:
		out[v.String()] = true
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stringsIn(v.Elem(), out)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				stringsIn(v.Field(i), out)
			}
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeOf(json.RawMessage(nil)) {
			return
		}
		for i := 0; i < v.Len(); i++ {
			stringsIn(v.Index(i), out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			stringsIn(k, out)
			stringsIn(v.MapIndex(k), out)
		}
	}
}

// TestEvidenceOnlyFromReport checks that every string in the evidence is a value of the report
// or one of the evidence's own words: nothing comes from the environment, the host or a file.
func TestEvidenceOnlyFromReport(t *testing.T) {
	t.Parallel()
	r := fullReport()
	r.Unavailable = nil
	b, err := Evidence(r)
	if err != nil {
		t.Fatal(err)
	}
	from := map[string]bool{}
	stringsIn(reflect.ValueOf(r), from)
	computed := map[string]bool{
		r.Expected.Digest(): true, TrustStale: true, "planted-Report.Observed": true,
		t0.Format(time.RFC3339Nano): true, t0.Add(time.Minute).Format(time.RFC3339Nano): true,
		"no confirmed match": true, "timings.time_to_match_ms": true,
	}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(e, path+"."+k)
			}
		case []any:
			for _, e := range x {
				walk(e, path+"[]")
			}
		case string:
			if !from[x] && !computed[x] {
				t.Errorf("evidence %s = %q, which is not from the report", path, x)
			}
		}
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	walk(doc, "")
	for _, planted := range []string{"RUNNER_", "GITHUB_TOKEN", "/home/", "/tmp/", "ghp_", "Bearer"} {
		if strings.Contains(string(b), planted) {
			t.Errorf("evidence contains %q", planted)
		}
	}
}

func TestEvidenceObserved(t *testing.T) {
	t.Parallel()
	big := `{"x":"` + strings.Repeat("a", MaxObservedBytes) + `"}`
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"absent", "", "null"},
		{"object as reported", `{"context": "c", "extra": [1, 2]}`, `{"context":"c","extra":[1,2]}`},
		{"string-encoded", `"{\"context\":\"c\"}"`, `"{\"context\":\"c\"}"`},
		{"html escaped", `{"a":"<script>"}`, `{"a":"\u003cscript\u003e"}`},
		{"too large", big, fmt.Sprintf(`{"_cut":true,"bytes":%d,"reason":"larger than 65536 bytes"}`, len(big))},
		{"not JSON", `{"a":`, `{"_cut":true,"bytes":5,"reason":"not valid JSON"}`},
		{"tenant _cut key kept", `{"_cut":1}`, `{"_cut":1}`},
	}
	schema := evidenceSchema(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := cases()[2].r
			r.Observed = json.RawMessage(tc.raw)
			b, err := Evidence(r)
			if err != nil {
				t.Fatalf("Evidence() error = %v", err)
			}
			validateEvidence(t, schema, b)
			var doc struct {
				Observed json.RawMessage `json:"observed_runtime_identity"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if string(doc.Observed) != tc.want {
				t.Errorf("observed_runtime_identity = %.200s, want %.200s", doc.Observed, tc.want)
			}
			if len(b) > MaxObservedBytes+16<<10 {
				t.Errorf("len(Evidence()) = %d, want the observed value capped", len(b))
			}
		})
	}
}

func TestTrustState(t *testing.T) {
	t.Parallel()
	want := stable()
	tests := []struct {
		name     string
		status   identity.Status
		expected *identity.Identity
		want     string
	}{
		{"match", identity.StatusMatch, &want, TrustVerified},
		{"mismatch", identity.StatusMismatch, &want, TrustStale},
		{"missing", identity.StatusMissing, &want, TrustMissing},
		{"malformed", identity.StatusMalformed, &want, TrustUnsupported},
		{"unverifiable", identity.StatusUnverifiable, &want, TrustUnsupported},
		{"unchecked with an expected identity", identity.StatusUnchecked, &want, TrustRecorded},
		{"empty status with an expected identity", "", &want, TrustRecorded},
		{"unchecked without an expected identity", identity.StatusUnchecked, nil, TrustMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := TrustStateOf(tc.status, tc.expected != nil); got != tc.want {
				t.Errorf("TrustStateOf(%q, %v) = %v, want %v", tc.status, tc.expected != nil, got, tc.want)
			}
		})
	}
}

// TestEvidenceUnavailable checks that evidence a run could not have is listed with a reason.
func TestEvidenceUnavailable(t *testing.T) {
	t.Parallel()
	byName := map[string]Report{}
	for _, tc := range cases() {
		byName[tc.name] = tc.r
	}
	inject := byName["unchecked"]
	inject.Mode = "inject"
	inject.Rollout = &Rollout{TargetKind: "compose", TargetID: "c1", EnvChanged: true}
	inject.Links.Run = ""
	record := byName["match"]
	record.Provenance = map[string]Source{"deployment_record_id": {SourceRecord, "launchplane-url"}}
	ghFailed := byName["match"]
	ghFailed.GitHub = &GitHub{Environment: "sellyouroutboard/prod", Error: "GitHub answered 403"}
	tests := []struct {
		name string
		r    Report
		want map[string]string
	}{
		{"match has everything", byName["match"], map[string]string{}},
		{"render", byName["unchecked"], map[string]string{
			"dokploy":                   "render mode does not deploy",
			"github":                    "no GitHub deployment was requested",
			"observed_runtime_identity": "render mode does not probe the tenant",
			"probe":                     "render mode does not probe the tenant",
		}},
		{"inject", inject, map[string]string{
			"dokploy.deployment_id":     "inject mode does not deploy (another step deploys)",
			"github":                    "no GitHub deployment was requested",
			"links.run":                 "the run URL is not known (not running in GitHub Actions)",
			"observed_runtime_identity": "inject mode does not probe the tenant",
			"probe":                     "inject mode does not probe the tenant",
		}},
		{"verify, report's own reason wins", byName["unverifiable"], map[string]string{
			"dokploy":                   "verify mode does not deploy",
			"observed_runtime_identity": "the tenant answered HTTP 503",
			"timings.time_to_match_ms":  "no confirmed match",
		}},
		{"missing", byName["missing"], map[string]string{
			"dokploy":                   "verify mode does not deploy",
			"observed_runtime_identity": "the tenant reported no identity",
			"timings.time_to_match_ms":  "no confirmed match",
		}},
		{"record link unknown", record, map[string]string{"links.record": "the Launchplane record URL is not known"}},
		{"GitHub failed", ghFailed, map[string]string{"github.deployment_id": "the GitHub deployment could not be created: GitHub answered 403"}},
		{"nothing at all", Report{Mode: "verify", Decision: Decision{Outcome: OutcomeError, ExitCode: 3, TrustState: TrustMissing}}, map[string]string{
			"dokploy":                   "verify mode does not deploy",
			"expected_runtime_identity": "no expected identity was given",
			"github":                    "no GitHub deployment was requested",
			"links.run":                 "the run URL is not known (not running in GitHub Actions)",
			"observed_runtime_identity": "the tenant was not probed",
			"probe":                     "the tenant was not probed",
		}},
	}
	schema := evidenceSchema(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := Evidence(tc.r)
			if err != nil {
				t.Fatalf("Evidence() error = %v", err)
			}
			validateEvidence(t, schema, b)
			var doc struct {
				Unavailable []struct{ Field, Reason string } `json:"unavailable"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			var order []string
			for _, u := range doc.Unavailable {
				got[u.Field] = u.Reason
				order = append(order, u.Field)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("unavailable (-want +got):\n%s", diff)
			}
			if !sort.StringsAreSorted(order) {
				t.Errorf("unavailable fields %v are not sorted", order)
			}
		})
	}
}

// TestEvidenceCompact checks the file is one compact JSON object.
func TestEvidenceCompact(t *testing.T) {
	t.Parallel()
	b, err := Evidence(cases()[1].r)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) || b[0] != '{' || strings.ContainsAny(string(b), "\n\t") || strings.Contains(string(b), `": `) {
		t.Errorf("Evidence() is not one compact object: %.200s", b)
	}
}

// TestEvidenceSchemaStrict checks the schema catches drift: an unknown key, a missing key or a
// value outside a vocabulary is rejected.
func TestEvidenceSchemaStrict(t *testing.T) {
	t.Parallel()
	b, err := Evidence(cases()[1].r)
	if err != nil {
		t.Fatal(err)
	}
	schema := evidenceSchema(t)
	tests := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"unknown top-level key", func(m map[string]any) { m["hostname"] = "runner-1" }},
		{"missing key", func(m map[string]any) { delete(m, "trust_state") }},
		{"unknown trust state", func(m map[string]any) { m["trust_state"] = "trusted" }},
		{"unknown status", func(m map[string]any) { m["runtime_identity_status"] = "ok" }},
		{"unknown dokploy key", func(m map[string]any) { m["dokploy"].(map[string]any)["api_key"] = "k" }},
		{"unknown timing", func(m map[string]any) { m["timings"].(map[string]any)["env"] = "x" }},
		{"bad expected identity", func(m map[string]any) { m["expected_runtime_identity"].(map[string]any)["token"] = "x" }},
		{"unknown provenance kind", func(m map[string]any) {
			m["provenance"].(map[string]any)["context"] = map[string]any{"kind": "env", "detail": ""}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			tc.mutate(m)
			doc, _ := json.Marshal(m)
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(doc)))
			if err != nil {
				t.Fatal(err)
			}
			if schema.Validate(inst) == nil {
				t.Errorf("schema accepts evidence with %s", tc.name)
			}
		})
	}
}
