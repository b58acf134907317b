package action

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
)

var update = flag.Bool("update", false, "rewrite generated files and golden files")

// TestGeneratedDocs keeps action.yml and the README's tables in step with the Inputs and Outputs
// tables, which hold every default.
func TestGeneratedDocs(t *testing.T) {
	root := filepath.Join("..", "..")
	check := func(path, want string) {
		t.Helper()
		got, err := os.ReadFile(path)
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, string(got)); diff != "" {
			t.Errorf("%s is stale (-generated +file); run: go test ./internal/action -run TestGeneratedDocs -update\n%s", path, diff)
		}
	}
	check(filepath.Join(root, "action.yml"), ActionYAML("Dockerfile"))

	readme := filepath.Join(root, "README.md")
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "<!-- inputs:start (generated) -->\n", "<!-- inputs:end -->"
	s := string(b)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", start, end)
	}
	check(readme, s[:i+len(start)]+markdownTables()+s[j:])
}

func TestInputsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, in := range Inputs {
		if seen[in.Name] || strings.ToLower(in.Name) != in.Name || strings.ContainsAny(in.Name, "_ ") || in.Description == "" {
			t.Errorf("input %q: names are unique kebab-case with a description", in.Name)
		}
		seen[in.Name] = true
	}
	// Every field input of the contract's table is an action input.
	for _, f := range identity.Fields {
		if f.Input != "" && !seen[f.Input] {
			t.Errorf("field input %q is not in Inputs", f.Input)
		}
	}
}

// markdownTables renders the README's inputs and outputs tables.
func markdownTables() string {
	var b strings.Builder
	b.WriteString("| input | default | description |\n|---|---|---|\n")
	for _, in := range Inputs {
		def := in.Default
		if in.ActionDefault != "" {
			def = in.ActionDefault
		}
		if def != "" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", in.Name, def, mdCell(in.Description))
	}
	b.WriteString("\n| output | description |\n|---|---|\n")
	for _, out := range Outputs {
		fmt.Fprintf(&b, "| `%s` | %s |\n", out.Name, mdCell(out.Description))
	}
	return b.String()
}

// mdCell escapes a description for a Markdown table cell: pipes, and angle brackets, which
// GitHub would read as HTML tags and drop (<context>/<instance>).
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}
