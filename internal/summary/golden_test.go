package summary

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/summary/ -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); if the change is intended, run go test ./internal/summary/ -update:\n%s", path, diff)
	}
}

// TestGolden renders every golden report: the summary, the evidence (indented for review; the
// file itself is compact) and the description and annotation lines.
func TestGolden(t *testing.T) {
	t.Parallel()
	schema := evidenceSchema(t)
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			golden(t, tc.name+".md", []byte(Markdown(tc.r)))

			ev, err := Evidence(tc.r)
			if err != nil {
				t.Fatalf("Evidence() error = %v", err)
			}
			validateEvidence(t, schema, ev)
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, ev, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden(t, tc.name+".evidence.json", pretty.Bytes())

			level, msg := Annotation(tc.r)
			lines := "description: " + Description(tc.r) + "\nannotation: " + level + ": " + msg + "\n"
			golden(t, tc.name+".lines.txt", []byte(lines))
		})
	}
}

// TestGoldenCoversEveryVerdict keeps the golden set complete as verdicts are added.
func TestGoldenCoversEveryVerdict(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tc := range cases() {
		seen[string(tc.r.status())] = true
	}
	for _, st := range []string{"unchecked", "match", "mismatch", "missing", "malformed", "unverifiable"} {
		if !seen[st] {
			t.Errorf("no golden case has verdict %s", st)
		}
	}
}
