package identity

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaPath = "../../schema/runtime-identity.v1.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("runtime-identity.v1.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("runtime-identity.v1.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

// schemaVectors returns named JSON documents covering every validation rule, valid and invalid.
func schemaVectors(t *testing.T) map[string]string {
	t.Helper()
	base := string(readFixture(t, "expected-identity.stable.json"))
	vec := map[string]string{
		"stable fixture":  base,
		"preview fixture": string(readFixture(t, "expected-identity.preview.json")),
		"minimal five":    `{"context":"c","instance":"i","deployment_record_id":"d","artifact_id":"a","source_git_ref":"s"}`,
		"unknown key":     strings.Replace(base, "{", `{"extra":"x",`, 1),
		"schema string":   strings.Replace(base, `"schema_version":1`, `"schema_version":"1"`, 1),
		"schema 2":        strings.Replace(base, `"schema_version":1`, `"schema_version":2`, 1),
		"null product":    strings.Replace(base, `"product":"sellyouroutboard"`, `"product":null`, 1),
		"number instance": strings.Replace(base, `"instance":"prod"`, `"instance":7`, 1),
		"missing context": strings.Replace(base, `"context":"sellyouroutboard",`, ``, 1),
		"array":           `[]`,
	}
	// Every case of TestValidate, rendered canonically.
	for name, mut := range map[string]func(*Identity){
		"empty context":     func(id *Identity) { id.Context = "" },
		"kind production":   func(id *Identity) { id.EnvironmentKind = "production" },
		"kind preview":      func(id *Identity) { id.EnvironmentKind = KindPreview },
		"256 chars":         func(id *Identity) { id.ArtifactID = strings.Repeat("a", 256) },
		"257 chars":         func(id *Identity) { id.ArtifactID = strings.Repeat("a", 257) },
		"newline":           func(id *Identity) { id.ArtifactID = "x\nY=1" },
		"reference":         func(id *Identity) { id.ImageReference = "${{project.SECRET}}" },
		"hash":              func(id *Identity) { id.PreviewID = "a#b" },
		"double quote":      func(id *Identity) { id.Product = `a"b` },
		"single quote":      func(id *Identity) { id.Product = "a'b" },
		"backtick":          func(id *Identity) { id.Product = "a`b" },
		"backslash":         func(id *Identity) { id.Context = `a\b` },
		"space":             func(id *Identity) { id.Instance = "a b" },
		"non-ascii":         func(id *Identity) { id.Product = "café" },
		"del":               func(id *Identity) { id.Product = "a\x7f" },
		"deployed_at ok":    func(id *Identity) { id.DeployedAt = "2026-05-10T15:02:11Z" },
		"deployed_at zone":  func(id *Identity) { id.DeployedAt = "2026-05-10T15:02:11+00:00" },
		"deployed_at 13":    func(id *Identity) { id.DeployedAt = "2026-13-10T15:02:11Z" },
		"all symbols legal": func(id *Identity) { id.ReleaseTupleID = "!%&()*+,-./:;<=>?@[]^_{|}~" },
	} {
		id := stable(t)
		mut(&id)
		vec[name] = string(id.Canonical())
	}
	return vec
}

// TestSchemaAgreesWithGo validates every vector with both the JSON Schema and ParseExpected.
func TestSchemaAgreesWithGo(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	valid := 0
	for name, doc := range schemaVectors(t) {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		schemaErr := s.Validate(inst)
		_, goErr := ParseExpected([]byte(doc))
		if (schemaErr == nil) != (goErr == nil) {
			t.Errorf("%s: schema says %v, ParseExpected says %v", name, schemaErr, goErr)
		}
		if goErr == nil {
			valid++
		}
	}
	if valid < 6 {
		t.Errorf("only %d valid vectors; the agreement test needs both kinds", valid)
	}
}

// TestSchemaKnownGap records the one place the schema is weaker than Go: a pattern cannot know
// that February has no 30th day.
func TestSchemaKnownGap(t *testing.T) {
	t.Parallel()
	id := stable(t)
	id.DeployedAt = "2026-02-30T00:00:00Z"
	inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(id.Canonical())))
	if err := compileSchema(t).Validate(inst); err != nil {
		t.Errorf("schema rejects February 30 (%v); if the schema learned dates, merge this case into the vectors", err)
	}
	if id.Validate() == nil {
		t.Errorf("Validate() accepts February 30")
	}
}

func TestSchemaIsValidJSON(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	props := m["properties"].(map[string]any)
	if len(props) != 13 {
		t.Errorf("schema has %d properties, want the 13 contract fields", len(props))
	}
}
