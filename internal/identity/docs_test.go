package identity

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestContractDocPins keeps docs/contract.md honest: every deliberate difference from Launchplane
// names the tests that pin it, and those tests exist.
func TestContractDocPins(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/contract.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	_, section, ok := strings.Cut(doc, "## Deliberate differences from Launchplane\n")
	if !ok {
		t.Fatal(`docs/contract.md has no "## Deliberate differences from Launchplane" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	pkgRef := regexp.MustCompile("`(internal/[a-z]+)`")
	testRef := regexp.MustCompile("`(Test[A-Za-z]+)(?:/([^`]+))?`")
	rows := 0
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| case") {
			continue
		}
		rows++
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		pins := cells[len(cells)-1]
		pkg := pkgRef.FindStringSubmatch(pins)
		tests := testRef.FindAllStringSubmatch(pins, -1)
		if pkg == nil || len(tests) == 0 {
			t.Errorf("difference %q names no package and test", cells[0])
			continue
		}
		src := testSources(t, filepath.Join("../..", pkg[1]))
		for _, m := range tests {
			if !strings.Contains(src, "func "+m[1]+"(") {
				t.Errorf("difference %q: %s has no %s", cells[0], pkg[1], m[1])
			}
			if m[2] != "" && !strings.Contains(src, `"`+m[2]+`"`) {
				t.Errorf("difference %q: %s has no subtest %q", cells[0], pkg[1], m[2])
			}
		}
	}
	if rows < 9 {
		t.Errorf("the differences table has %d rows, want at least the 9 known differences", rows)
	}
}

func testSources(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no tests in %s", dir)
	}
	var b strings.Builder
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(src)
	}
	return b.String()
}
