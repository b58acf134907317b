package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/summary"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the golden summaries in testdata/summary")

// normalizers turn what varies between runs (ports, times, durations, attempt counts, Dokploy's
// random ids) into fixed words, so the rest of a summary can be compared byte for byte.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`http://127\.0\.0\.1:\d+`), "http://127.0.0.1:PORT"},
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z`), "TIME"},
	{regexp.MustCompile(`\b(\d+h)?(\d+m)?\d+(\.\d+)?(ms|s|µs)\b`), "DUR"},
	{regexp.MustCompile(`attempts: \d+ ·`), "attempts: N ·"},
	{regexp.MustCompile(`after \d+ attempts`), "after N attempts"},
	{regexp.MustCompile(`(?m)^- first seen: .*$`), "- first seen: ..."},
	// Whether a poll caught the job in the queue depends on timing.
	{regexp.MustCompile(` \(queued DUR\)`), ""},
}

func normalize(s string, ids ...string) string {
	for _, id := range ids {
		if id == "" {
			continue
		}
		s = strings.ReplaceAll(s, summary.EscapeMarkdown(id), "DEPLOYMENT-ID")
		s = strings.ReplaceAll(s, id, "DEPLOYMENT-ID")
	}
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return s
}

// checkGolden compares the step summary with testdata/summary/<name>.md after normalizing.
func checkGolden(t *testing.T, name string, res result) {
	t.Helper()
	got := normalize(res.summary, res.outputs["dokploy-deployment-id"])
	path := filepath.Join("testdata", "summary", name+".md")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./cmd/action -run %s -update)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("summary differs from %s (-want +got); if the change is intended, run: go test ./cmd/action -update\n%s", path, diff)
	}
}

var (
	schemaOnce sync.Once
	schemas    map[string]*jsonschema.Schema
	schemaErr  error
)

// validateAgainst checks a document against schema/<name>.v1.schema.json.
func validateAgainst(t *testing.T, name string, b []byte) {
	t.Helper()
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		for _, f := range []string{"runtime-identity.v1.schema.json", "evidence.v1.schema.json", "inventory.v1.schema.json"} {
			fh, err := os.Open(filepath.Join("..", "..", "schema", f))
			if err != nil {
				schemaErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(fh)
			fh.Close()
			if err != nil {
				schemaErr = err
				return
			}
			if err := c.AddResource("https://github.com/launchplane/runtime-identity/schema/"+f, doc); err != nil {
				schemaErr = err
				return
			}
		}
		schemas = map[string]*jsonschema.Schema{}
		for _, n := range []string{"evidence", "inventory"} {
			if schemas[n], schemaErr = c.Compile("https://github.com/launchplane/runtime-identity/schema/" + n + ".v1.schema.json"); schemaErr != nil {
				return
			}
		}
	})
	if schemaErr != nil {
		t.Fatalf("schemas: %v", schemaErr)
	}
	schema := schemas[name]
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("evidence is not JSON: %v", err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Errorf("evidence does not follow schema/%s.v1.schema.json: %v", name, err)
	}
}
