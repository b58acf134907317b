package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestReliabilityDocNamesRealTests: every test docs/reliability.md names exists, so the
// catalogue cannot point at a test that was renamed or removed.
func TestReliabilityDocNamesRealTests(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/reliability.md")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", "../..", "grep", "-h", "-o", "-E", `^func (Test|Fuzz)[A-Za-z0-9_]+`, "--", "*_test.go").Output()
	if err != nil {
		t.Fatalf("git grep: %v", err)
	}
	defined := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		defined[strings.TrimPrefix(l, "func ")] = true
	}
	named := regexp.MustCompile("`((Test|Fuzz)[A-Za-z0-9_]+)").FindAllStringSubmatch(string(doc), -1)
	if len(named) < 20 {
		t.Fatalf("docs/reliability.md names %d tests; the catalogue should name one per fault", len(named))
	}
	for _, m := range named {
		if !defined[m[1]] {
			t.Errorf("docs/reliability.md names %s, which no test file defines", m[1])
		}
	}
}
