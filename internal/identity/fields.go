package identity

import (
	"fmt"
	"slices"
	"strconv"
)

// Field is one field of the contract: its names, its rules and how to reach it in an Identity.
// Fields lists all thirteen; everything that walks the contract (validation, decoding, canonical
// rendering, env keys, comparison, and the packages that show or set fields) derives from it.
type Field struct {
	// Name is the contract's JSON name, e.g. "deployment_record_id".
	Name string
	// Input is the action input (and CLI flag) that sets the field, e.g. "deployment-record-id";
	// "" when no input does (schema_version, deployed_at).
	Input string
	// Required fields must be present and not blank.
	Required bool
	// Compared fields are compared with the expected identity, where it is non-empty: Launchplane's
	// nine. The others are informational: shown, never compared.
	Compared bool
	// EnvKey is the env key holding a copy of the field next to LAUNCHPLANE_RUNTIME_IDENTITY_JSON,
	// "" for fields carried only inside the JSON.
	EnvKey string
	// Default is the value an omitted field takes when an identity is decoded.
	Default string

	// str reaches a string field; nil for schema_version, the one integer field.
	str func(*Identity) *string
	// rule is a field's own value rule beyond the shared character rule: why v breaks it, or "".
	rule func(v string) string
}

// Fields lists the contract's fields in the order a verdict shows them: Launchplane's comparison
// order (cbusillo/launchplane control_plane/contracts/runtime_identity.py, compare_runtime_identity,
// which compares the first seven at commit 4b42a52 and the two preview fields in a later revision),
// then the informational ones, schema_version last. Treat it as read-only.
var Fields = []Field{
	{Name: "product", Input: "product", Compared: true,
		str: func(id *Identity) *string { return &id.Product }},
	{Name: "context", Input: "context", Required: true, Compared: true,
		str: func(id *Identity) *string { return &id.Context }},
	{Name: "instance", Input: "instance", Required: true, Compared: true,
		str: func(id *Identity) *string { return &id.Instance }},
	{Name: "environment_kind", Input: "environment-kind", Compared: true, Default: KindStable,
		str: func(id *Identity) *string { return &id.EnvironmentKind }, rule: kindRule},
	{Name: "deployment_record_id", Input: "deployment-record-id", Required: true, Compared: true, EnvKey: EnvDeploymentRecordID,
		str: func(id *Identity) *string { return &id.DeploymentRecordID }},
	{Name: "artifact_id", Input: "artifact-id", Required: true, Compared: true, EnvKey: EnvArtifactID,
		str: func(id *Identity) *string { return &id.ArtifactID }},
	{Name: "source_git_ref", Input: "source-git-ref", Required: true, Compared: true, EnvKey: EnvSourceGitRef,
		str: func(id *Identity) *string { return &id.SourceGitRef }},
	{Name: "preview_id", Input: "preview-id", Compared: true,
		str: func(id *Identity) *string { return &id.PreviewID }},
	{Name: "preview_generation_id", Input: "preview-generation-id", Compared: true,
		str: func(id *Identity) *string { return &id.PreviewGenerationID }},
	{Name: "image_reference", Input: "image-reference",
		str: func(id *Identity) *string { return &id.ImageReference }},
	{Name: "release_tuple_id", Input: "release-tuple-id",
		str: func(id *Identity) *string { return &id.ReleaseTupleID }},
	{Name: "deployed_at",
		str: func(id *Identity) *string { return &id.DeployedAt }, rule: deployedAtRule},
	{Name: "schema_version", Default: strconv.Itoa(SchemaVersion)},
}

// Get returns the field's value in id; schema_version in decimal.
func (f Field) Get(id *Identity) string {
	if f.str == nil {
		return strconv.Itoa(id.SchemaVersion)
	}
	return *f.str(id)
}

// Ptr returns where the field lives in id, to read or set it; nil for schema_version, the one
// field that is not a string.
func (f Field) Ptr(id *Identity) *string {
	if f.str == nil {
		return nil
	}
	return f.str(id)
}

// FieldByName returns the field with the contract name name.
func FieldByName(name string) (Field, bool) {
	i, ok := fieldIndex[name]
	if !ok {
		return Field{}, false
	}
	return Fields[i], true
}

// DiffFields names the fields whose values differ between a and b, in Fields order. To leave
// deployed_at out (it is not part of the injected identity), compare a.Injected() with
// b.Injected().
func DiffFields(a, b Identity) []string {
	var out []string
	for _, f := range Fields {
		if f.Get(&a) != f.Get(&b) {
			out = append(out, f.Name)
		}
	}
	return out
}

// fieldIndex finds a field's position in Fields by name.
var fieldIndex = func() map[string]int {
	m := make(map[string]int, len(Fields))
	for i, f := range Fields {
		m[f.Name] = i
	}
	return m
}()

// canonicalFields is Fields in canonical order: sorted by name, as Python's sort_keys sorts them
// (code point order, which for these ASCII names is byte order).
var canonicalFields = func() []Field {
	out := slices.Clone(Fields)
	slices.SortFunc(out, func(a, b Field) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}()

// EnvKeys lists the four identity env keys in the order they are written: the JSON, then the
// copies of single fields in Fields order.
var EnvKeys = func() []string {
	keys := []string{EnvJSON}
	for _, f := range Fields {
		if f.EnvKey != "" {
			keys = append(keys, f.EnvKey)
		}
	}
	return keys
}()

func kindRule(v string) string {
	if v == KindStable || v == KindPreview {
		return ""
	}
	return fmt.Sprintf("is %q; valid values are %q and %q", v, KindStable, KindPreview)
}

func deployedAtRule(v string) string {
	if v == "" || validDeployedAt(v) {
		return ""
	}
	return fmt.Sprintf("is %q; want empty or RFC 3339 UTC to the second, like 2026-05-09T22:10:00Z", v)
}
