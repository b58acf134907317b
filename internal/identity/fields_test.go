package identity

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFieldsPinnedToContract pins the one field table against the contract
// (reference: Launchplane contract sections 1, 2 and 5; cbusillo/launchplane
// control_plane/contracts/runtime_identity.py).
func TestFieldsPinnedToContract(t *testing.T) {
	t.Parallel()
	type row struct {
		Name, Input       string
		Required, Compare bool
		EnvKey, Default   string
	}
	want := []row{
		{"product", "product", false, true, "", ""},
		{"context", "context", true, true, "", ""},
		{"instance", "instance", true, true, "", ""},
		{"environment_kind", "environment-kind", false, true, "", "stable"},
		{"deployment_record_id", "deployment-record-id", true, true, "LAUNCHPLANE_DEPLOYMENT_RECORD_ID", ""},
		{"artifact_id", "artifact-id", true, true, "LAUNCHPLANE_ARTIFACT_ID", ""},
		{"source_git_ref", "source-git-ref", true, true, "LAUNCHPLANE_SOURCE_GIT_REF", ""},
		{"preview_id", "preview-id", false, true, "", ""},
		{"preview_generation_id", "preview-generation-id", false, true, "", ""},
		{"image_reference", "image-reference", false, false, "", ""},
		{"release_tuple_id", "release-tuple-id", false, false, "", ""},
		{"deployed_at", "", false, false, "", ""},
		{"schema_version", "", false, false, "", "1"},
	}
	var got []row
	for _, f := range Fields {
		got = append(got, row{f.Name, f.Input, f.Required, f.Compared, f.EnvKey, f.Default})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Fields mismatch (-want +got):\n%s", diff)
	}

	// Launchplane's comparison order, exactly (contract section 5, rule 5).
	launchplane := []string{"product", "context", "instance", "environment_kind", "deployment_record_id", "artifact_id", "source_git_ref", "preview_id", "preview_generation_id"}
	var compared []string
	for _, f := range Fields {
		if f.Compared {
			compared = append(compared, f.Name)
		}
	}
	if diff := cmp.Diff(launchplane, compared); diff != "" {
		t.Errorf("compared fields mismatch (-launchplane +table):\n%s", diff)
	}

	// The canonical key order (contract section 3).
	canonical := []string{"artifact_id", "context", "deployed_at", "deployment_record_id", "environment_kind", "image_reference", "instance", "preview_generation_id", "preview_id", "product", "release_tuple_id", "schema_version", "source_git_ref"}
	var names []string
	for _, f := range canonicalFields {
		names = append(names, f.Name)
	}
	if diff := cmp.Diff(canonical, names); diff != "" {
		t.Errorf("canonical order mismatch (-contract +derived):\n%s", diff)
	}
	if diff := cmp.Diff([]string{EnvJSON, EnvDeploymentRecordID, EnvArtifactID, EnvSourceGitRef}, EnvKeys); diff != "" {
		t.Errorf("EnvKeys mismatch (-contract +derived):\n%s", diff)
	}
}

// Every accessor reaches the Identity field whose JSON name is the field's name, and only it.
func TestFieldAccessors(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[Identity]()
	if typ.NumField() != len(Fields) {
		t.Fatalf("Identity has %d fields, Fields %d", typ.NumField(), len(Fields))
	}
	for _, f := range Fields {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			sf, ok := fieldByTag(typ, f.Name)
			if !ok {
				t.Fatalf("Identity has no field tagged %q", f.Name)
			}
			var id Identity
			p := f.Ptr(&id)
			if sf.Type.Kind() == reflect.Int {
				if p != nil {
					t.Fatalf("Ptr() = %p for the integer field, want nil", p)
				}
				id.SchemaVersion = 7
				if got := f.Get(&id); got != "7" {
					t.Errorf("Get() = %q, want %q", got, "7")
				}
				return
			}
			*p = "marker"
			v := reflect.ValueOf(id)
			for i := range typ.NumField() {
				want := ""
				if typ.Field(i).Name == sf.Name {
					want = "marker"
				}
				if typ.Field(i).Type.Kind() == reflect.String && v.Field(i).String() != want {
					t.Errorf("after *Ptr() = marker, %s = %q, want %q", typ.Field(i).Name, v.Field(i).String(), want)
				}
			}
			if got := f.Get(&id); got != "marker" {
				t.Errorf("Get() = %q, want marker", got)
			}
		})
	}
}

func fieldByTag(typ reflect.Type, name string) (reflect.StructField, bool) {
	for i := range typ.NumField() {
		if tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); tag == name {
			return typ.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// Every Input is an input the action declares (action.yml is generated from the action's input
// table, so this also holds the two tables together).
func TestFieldInputsDeclared(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z0-9-]+):$`).FindAllStringSubmatch(string(b), -1) {
		declared[m[1]] = true
	}
	for _, f := range Fields {
		if f.Input != "" && !declared[f.Input] {
			t.Errorf("field %s: input %q is not declared in action.yml", f.Name, f.Input)
		}
		if got, ok := FieldByName(f.Name); !ok || got.Name != f.Name {
			t.Errorf("FieldByName(%q) = %s, %v", f.Name, got.Name, ok)
		}
	}
	if _, ok := FieldByName("deployment-record-id"); ok {
		t.Error("FieldByName found a field by its input name")
	}
}

func TestDiffFields(t *testing.T) {
	t.Parallel()
	a := stable(t)
	tests := []struct {
		name   string
		mutate func(*Identity)
		want   []string
	}{
		{"equal", func(*Identity) {}, nil},
		{"two fields, in table order", func(id *Identity) { id.SourceGitRef, id.Product = "x", "y" }, []string{"product", "source_git_ref"}},
		{"schema_version", func(id *Identity) { id.SchemaVersion = 2 }, []string{"schema_version"}},
		{"deployed_at", func(id *Identity) { id.DeployedAt = "2026-01-01T00:00:00Z" }, []string{"deployed_at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := a
			tt.mutate(&b)
			if diff := cmp.Diff(tt.want, DiffFields(a, b)); diff != "" {
				t.Errorf("DiffFields() mismatch (-want +got):\n%s", diff)
			}
			if got := DiffFields(a.Injected(), b.Injected()); slices.Contains(got, "deployed_at") {
				t.Errorf("DiffFields(Injected(), Injected()) = %v, want no deployed_at", got)
			}
		})
	}
}
