package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	type block struct {
		Fence int
		Kind  kind
		Same  string
		Body  string
	}
	tests := []struct {
		name      string
		src       string
		want      []block
		wantProbs []string
	}{
		{
			name: "marked blocks of each kind",
			src: "# t\n\n<!-- snippet: workflow -->\n```yaml\non: push\n```\n\n<!-- snippet: steps -->\n```yml\n- run: x\n```\n" +
				"<!--snippet:job-->\n```yaml\npermissions: {}\n```\n<!-- snippet: skip -->\n```yaml\nservices: {}\n```\n",
			want: []block{
				{Fence: 4, Kind: kindWorkflow, Body: "on: push"},
				{Fence: 9, Kind: kindSteps, Body: "- run: x"},
				{Fence: 13, Kind: kindJob, Body: "permissions: {}"},
				{Fence: 17, Kind: kindSkip, Body: "services: {}"},
			},
		},
		{
			name:      "unmarked block names its line",
			src:       "text\n\n```yaml\na: 1\n```\n",
			wantProbs: []string{"f.md:3: YAML block without a marker: put <!-- snippet: workflow|job|steps|skip --> on the line before the fence"},
		},
		{
			name:      "a marker separated by a blank line does not count",
			src:       "<!-- snippet: steps -->\n\n```yaml\na: 1\n```\n",
			wantProbs: []string{"f.md:3: YAML block without a marker: put <!-- snippet: workflow|job|steps|skip --> on the line before the fence"},
		},
		{
			name:      "unknown kind",
			src:       "<!-- snippet: jobs -->\n```yaml\na: 1\n```\n",
			wantProbs: []string{`f.md:1: unknown snippet kind "jobs": use workflow, job, steps or skip`},
		},
		{
			name:      "only workflows name a file",
			src:       "<!-- snippet: steps a.yml -->\n```yaml\na: 1\n```\n",
			wantProbs: []string{"f.md:1: only a workflow snippet may name a file it must equal"},
		},
		{
			name: "workflow naming a file",
			src:  "<!-- snippet: workflow examples/workflows/a.yml -->\n```yaml\non: push\n```\n",
			want: []block{{Fence: 2, Kind: kindWorkflow, Same: "examples/workflows/a.yml", Body: "on: push"}},
		},
		{
			name: "other languages and nested fences are not blocks",
			src:  "```sh\necho\n```\n````markdown\n```yaml\nnot: a block\n```\n````\n~~~\n```yaml\nno\n```\n~~~\n",
		},
		{
			name: "indented fragment is dedented",
			src:  "<!-- snippet: steps -->\n```yaml\n      - uses: x\n        with:\n\n          a: 1\n```\n",
			want: []block{{Fence: 2, Kind: kindSteps, Body: "- uses: x\n  with:\n\n    a: 1"}},
		},
		{
			name: "fence inside a list item",
			src:  "1. Add:\n\n   <!-- snippet: steps -->\n   ```yaml\n   - run: a\n   ```\n",
			want: []block{{Fence: 4, Kind: kindSteps, Body: "- run: a"}},
		},
		{
			name: "longer closing fence and tilde fences",
			src:  "<!-- snippet: skip -->\n~~~yaml\na: 1\n```\nb: 2\n~~~~\n",
			want: []block{{Fence: 2, Kind: kindSkip, Body: "a: 1\n```\nb: 2"}},
		},
		{
			name:      "unclosed block",
			src:       "<!-- snippet: skip -->\n```yaml\na: 1\n",
			want:      []block{{Fence: 2, Kind: kindSkip, Body: "a: 1\n"}},
			wantProbs: []string{"f.md:2: YAML block has no closing fence"},
		},
		{
			name: "CRLF line endings",
			src:  "<!-- snippet: steps -->\r\n```yaml\r\n- run: a\r\n```\r\n",
			want: []block{{Fence: 2, Kind: kindSteps, Body: "- run: a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			snips, probs := extract("f.md", tt.src)
			var got []block
			for _, s := range snips {
				got = append(got, block{s.fence, s.kind, s.same, strings.Join(s.body, "\n")})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("extract() blocks (-want +got):\n%s", diff)
			}
			var gotProbs []string
			for _, p := range probs {
				gotProbs = append(gotProbs, p.String())
			}
			if diff := cmp.Diff(tt.wantProbs, gotProbs); diff != "" {
				t.Errorf("extract() problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		snip      snippet
		want      string
		wantFirst int
	}{
		{
			name:      "workflow as is, own action localized",
			snip:      snippet{file: "R.md", fence: 10, kind: kindWorkflow, body: []string{"on: push", "jobs:", "  a:", "    steps:", "      - uses: launchplane/runtime-identity@v1"}},
			want:      "on: push\njobs:\n  a:\n    steps:\n      - uses: ./\n",
			wantFirst: 1,
		},
		{
			name: "steps with a needs reference get a stub job",
			snip: snippet{file: "R.md", fence: 3, kind: kindSteps, body: []string{"- uses: launchplane/runtime-identity@v1.2.3", "  with:", "    identity-json: ${{ needs.deploy.outputs.identity-json }}", "    x: ${{ needs.build.outputs.digest }} ${{ needs.deploy.outputs.digest }}"}},
			want: "# Wrapped by internal/tools/snippets from R.md line 3 (steps).\non: push\njobs:\n  snippet:\n    needs: [build, deploy]\n    runs-on: ubuntu-latest\n    steps:\n" +
				"      - uses: ./\n        with:\n          identity-json: ${{ needs.deploy.outputs.identity-json }}\n          x: ${{ needs.build.outputs.digest }} ${{ needs.deploy.outputs.digest }}\n" +
				"  build:\n    runs-on: ubuntu-latest\n    outputs:\n      digest: stub\n    steps:\n      - run: \"true\"\n" +
				"  deploy:\n    runs-on: ubuntu-latest\n    outputs:\n      digest: stub\n      identity-json: stub\n    steps:\n      - run: \"true\"\n",
			wantFirst: 8,
		},
		{
			name:      "job keys get runs-on and a step",
			snip:      snippet{file: "R.md", fence: 3, kind: kindJob, body: []string{"permissions:", "  contents: read", "", "  statuses: write"}},
			want:      "# Wrapped by internal/tools/snippets from R.md line 3 (job).\non: push\njobs:\n  snippet:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n\n      statuses: write\n    steps:\n      - run: \"true\"\n",
			wantFirst: 6,
		},
		{
			name:      "a job with its own runs-on and steps is not completed",
			snip:      snippet{file: "R.md", fence: 3, kind: kindJob, body: []string{"runs-on: self-hosted", "steps:", "  - run: a"}},
			want:      "# Wrapped by internal/tools/snippets from R.md line 3 (job).\non: push\njobs:\n  snippet:\n    runs-on: self-hosted\n    steps:\n      - run: a\n",
			wantFirst: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := wrap(tt.snip, "x.yml")
			if diff := cmp.Diff(tt.want, w.text); diff != "" {
				t.Errorf("wrap() text (-want +got):\n%s", diff)
			}
			if w.first != tt.wantFirst {
				t.Errorf("wrap() first = %d, want %d", w.first, tt.wantFirst)
			}
			// Every body line must sit at the line origin maps back from.
			lines := strings.Split(w.text, "\n")
			for i, b := range tt.snip.body {
				l := w.first + i
				if got := w.origin(l); got != tt.snip.first()+i {
					t.Errorf("origin(%d) = %d, want %d", l, got, tt.snip.first()+i)
				}
				if strings.TrimSpace(b) != "" && !strings.HasSuffix(lines[l-1], localize(b)) {
					t.Errorf("line %d = %q, want it to end in %q", l, lines[l-1], b)
				}
			}
			if got := w.origin(1); tt.snip.kind != kindWorkflow && got != tt.snip.fence {
				t.Errorf("origin(1) = %d, want the fence line %d", got, tt.snip.fence)
			}
		})
	}
}

func TestMapFindings(t *testing.T) {
	t.Parallel()
	byName := map[string]workflow{
		"R-L3.yml":  {name: "R-L3.yml", src: "README.md", srcFirst: 4, first: 8, count: 3},
		"ex-a.yml":  {name: "ex-a.yml", src: "examples/workflows/a.yml", srcFirst: 1, first: 1, count: 20},
		"unused.ym": {},
	}
	raw := `[
 {"message":"input \"x\" is not defined","filepath":".github/workflows/R-L3.yml","line":9,"column":11,"kind":"action"},
 {"message":"wrapper","filepath":".github/workflows/R-L3.yml","line":2,"column":1,"kind":"syntax-check"},
 {"message":"bad","filepath":".github/workflows/ex-a.yml","line":7,"column":3,"kind":"expression"}
]`
	got, err := mapFindings([]byte(raw), byName)
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	want := []string{
		`README.md:5: input "x" is not defined [action]`,
		`README.md:3: wrapper [syntax-check] (in the wrapping, line 2 of the wrapped workflow)`,
		`examples/workflows/a.yml:7: bad [expression]`,
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("mapFindings() (-want +got):\n%s", diff)
	}
	if _, err := mapFindings([]byte(`[{"filepath":".github/workflows/other.yml","line":1}]`), byName); err == nil {
		t.Error("mapFindings() of an unknown file = nil error, want one")
	}
	if _, err := mapFindings([]byte(`not json`), byName); err == nil {
		t.Error("mapFindings() of non-JSON = nil error, want one")
	}
}

func TestSameAs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "ex"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "ex", "a.yml"), []byte("on: push\njobs: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := checker{root: root}
	tests := []struct {
		name string
		body []string
		same string
		want string // "" when equal
	}{
		{name: "equal", body: []string{"on: push", "jobs: {}"}, same: "ex/a.yml"},
		{name: "a changed line", body: []string{"on: pull_request", "jobs: {}"}, same: "ex/a.yml", want: "R.md:11: block differs from ex/a.yml at its line 1; copy the file verbatim"},
		{name: "a missing line", body: []string{"on: push"}, same: "ex/a.yml", want: "R.md:12: block differs from ex/a.yml at its line 2; copy the file verbatim"},
		{name: "an extra line", body: []string{"on: push", "jobs: {}", "x: 1"}, same: "ex/a.yml", want: "R.md:13: block differs from ex/a.yml at its line 3; copy the file verbatim"},
		{name: "no such file", body: []string{"on: push"}, same: "ex/b.yml", want: "R.md:9: snippet names ex/b.yml, which cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, ok := c.sameAs(snippet{file: "R.md", fence: 10, kind: kindWorkflow, same: tt.same, body: tt.body})
			if ok != (tt.want == "") {
				t.Fatalf("sameAs() ok = %v, want %v (%v)", ok, tt.want == "", p)
			}
			if tt.want != "" && !strings.HasPrefix(p.String(), tt.want) {
				t.Errorf("sameAs() = %q, want prefix %q", p.String(), tt.want)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		line int
		want string
	}{
		{name: "markdown block", src: "docs/drivers/odoo.md", line: 39, want: "docs-drivers-odoo-md-L39.yml"},
		{name: "example workflow", src: "examples/workflows/preview.yml", want: "examples-workflows-preview-yml.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := fileName(tt.src, tt.line); got != tt.want {
				t.Errorf("fileName(%q, %d) = %q, want %q", tt.src, tt.line, got, tt.want)
			}
		})
	}
}

// TestCheckPlumbing runs the whole check with a stand-in linter (a shell script), so the temporary
// project's layout, the arguments and the mapping back are tested without fetching actionlint.
func TestCheckPlumbing(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("action.yml", "name: x\n")
	write("README.md", "# r\n\n<!-- snippet: steps -->\n```yaml\n- uses: launchplane/runtime-identity@v1\n```\n")
	write("docs/a.md", "<!-- snippet: skip -->\n```yaml\na: 1\n```\n\n```yaml\nb: 1\n```\n")
	write("examples/workflows/w.yml", "on: push\njobs: {}\n")
	// The stand-in checks what the real linter relies on (.git, action.yml, the files given, the
	// format flag), then reports one finding on the README block's only line.
	write("lint.sh", `#!/bin/sh
test -d .git && test -f action.yml || { echo "no project" >&2; exit 3; }
for a in "$@"; do case "$a" in .github/*) test -f "$a" || exit 4;; esac; done
grep -q 'uses: ./' .github/workflows/README-md-L4.yml || exit 5
case "$*" in *"-format {{json .}}"*) ;; *) exit 6;; esac
echo '[{"message":"m","filepath":".github/workflows/README-md-L4.yml","line":7,"column":1,"kind":"k"}]'
exit 1
`)
	var out, errOut strings.Builder
	code := run([]string{"-root", root, "-actionlint", "sh " + filepath.Join(root, "lint.sh")}, &out, &errOut)
	if code != 1 {
		t.Fatalf("run() = %d, want 1; stdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	want := "README.md:5: m [k]\n" +
		"docs/a.md:6: YAML block without a marker: put <!-- snippet: workflow|job|steps|skip --> on the line before the fence\n" +
		"snippets: 1 example workflows and 2 YAML blocks in 2 Markdown files (1 marked skip); 2 findings\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("run() stdout (-want +got):\n%s", diff)
	}
}
