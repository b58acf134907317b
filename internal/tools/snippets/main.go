// Command snippets lints every GitHub Actions workflow a user may copy from this repository: the
// example workflows and every fenced YAML block of the Markdown docs.
//
//	go run ./internal/tools/snippets            # from the repository root; .ci/run does this
//
// Each ```yaml block must carry a marker on the line right before its fence:
//
//	<!-- snippet: workflow -->        a whole workflow, linted as is
//	<!-- snippet: workflow FILE -->   the same, and it must equal FILE byte for byte
//	<!-- snippet: job -->             the keys of one job, wrapped into a workflow
//	<!-- snippet: steps -->           a list of steps, wrapped into a job
//	<!-- snippet: skip -->            not a workflow (a compose file, say): not linted
//
// A block without a marker fails the check, naming its file and line. References to
// launchplane/runtime-identity@<ref> are linted as the local action (uses: ./), so actionlint
// checks each input and each output read against this repository's action.yml. Fragments that
// read needs.<job>.outputs.<name> get a stub job declaring those outputs.
//
// The checker writes the workflows into a temporary project (with a copy of action.yml and the
// Dockerfile) and runs actionlint v1.7.12 there with shellcheck and pyflakes off, mapping every
// finding back to the Markdown or example file and line it came from.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

const defaultActionlint = "go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("snippets", flag.ContinueOnError)
	fset.SetOutput(stderr)
	root := fset.String("root", ".", "repository root")
	docs := fset.String("docs", "README.md,docs,examples", "comma-separated Markdown files and directories (searched for *.md)")
	flows := fset.String("workflows", "examples/workflows", "comma-separated directories of example workflows (*.yml, *.yaml)")
	linter := fset.String("actionlint", defaultActionlint, "the actionlint command (space-separated)")
	keep := fset.Bool("keep", false, "keep the temporary project and print its path")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	c := checker{root: *root, linter: strings.Fields(*linter)}
	probs, summary, err := c.check(split(*docs), split(*flows), *keep, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "snippets:", err)
		return 2
	}
	for _, p := range probs {
		fmt.Fprintln(stdout, p)
	}
	fmt.Fprintln(stdout, summary)
	if len(probs) > 0 {
		return 1
	}
	return 0
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

type checker struct {
	root   string
	linter []string
}

// check collects the workflows, lints them and returns the findings sorted by file and line.
func (c checker) check(docs, flows []string, keep bool, stderr io.Writer) ([]problem, string, error) {
	var flowsOut []workflow
	var probs []problem
	blocks, skipped := 0, 0

	mdFiles, err := c.files(docs, ".md")
	if err != nil {
		return nil, "", err
	}
	for _, f := range mdFiles {
		src, err := os.ReadFile(filepath.Join(c.root, f))
		if err != nil {
			return nil, "", err
		}
		snips, ps := extract(f, string(src))
		probs = append(probs, ps...)
		for _, s := range snips {
			blocks++
			if s.kind == kindSkip {
				skipped++
				continue
			}
			if s.same != "" {
				if p, ok := c.sameAs(s); !ok {
					probs = append(probs, p)
				}
			}
			flowsOut = append(flowsOut, wrap(s, fileName(f, s.fence)))
		}
	}
	ymlFiles, err := c.files(flows, ".yml", ".yaml")
	if err != nil {
		return nil, "", err
	}
	for _, f := range ymlFiles {
		src, err := os.ReadFile(filepath.Join(c.root, f))
		if err != nil {
			return nil, "", err
		}
		n := strings.Count(string(src), "\n")
		flowsOut = append(flowsOut, workflow{
			name: fileName(f, 0), text: localize(string(src)),
			src: f, srcFirst: 1, first: 1, count: n + 1,
		})
	}

	found, err := c.lint(flowsOut, keep, stderr)
	if err != nil {
		return nil, "", err
	}
	probs = append(probs, found...)
	sort.SliceStable(probs, func(i, j int) bool {
		if probs[i].file != probs[j].file {
			return probs[i].file < probs[j].file
		}
		return probs[i].line < probs[j].line
	})
	summary := fmt.Sprintf("snippets: %d example workflows and %d YAML blocks in %d Markdown files (%d marked skip); %d findings",
		len(ymlFiles), blocks, len(mdFiles), skipped, len(probs))
	return probs, summary, nil
}

// sameAs checks a workflow block against the file it names.
func (c checker) sameAs(s snippet) (problem, bool) {
	want, err := os.ReadFile(filepath.Join(c.root, s.same))
	if err != nil {
		return problem{s.file, s.fence - 1, fmt.Sprintf("snippet names %s, which cannot be read: %v", s.same, err)}, false
	}
	got := strings.Join(s.body, "\n") + "\n"
	if got == string(want) {
		return problem{}, true
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	i := 0
	for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
		i++
	}
	return problem{s.file, s.first() + i, fmt.Sprintf("block differs from %s at its line %d; copy the file verbatim", s.same, i+1)}, false
}

// files lists the files named by paths (files as given, directories walked), keeping those with
// one of the extensions, as slash-separated paths relative to the root, sorted. A path that does
// not exist is skipped: a repository without docs/ has nothing to check there.
func (c checker) files(paths []string, exts ...string) ([]string, error) {
	var out []string
	for _, p := range paths {
		full := filepath.Join(c.root, p)
		info, err := os.Stat(full)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			out = append(out, filepath.ToSlash(p))
			continue
		}
		err = filepath.WalkDir(full, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			for _, e := range exts {
				if !d.IsDir() && strings.HasSuffix(d.Name(), e) {
					rel, err := filepath.Rel(c.root, path)
					if err != nil {
						return err
					}
					out = append(out, filepath.ToSlash(rel))
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// fileName is the lint project's file name for a source file (and the line of a block in it).
func fileName(src string, line int) string {
	base := strings.NewReplacer("/", "-", ".", "-").Replace(src)
	if line > 0 {
		return fmt.Sprintf("%s-L%d.yml", base, line)
	}
	return base + ".yml"
}

// finding is one actionlint error in its JSON format (-format '{{json .}}').
type finding struct {
	Message  string `json:"message"`
	Filepath string `json:"filepath"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Kind     string `json:"kind"`
}

// lint writes the workflows into a temporary project beside copies of action.yml and the
// Dockerfile, runs actionlint on them and maps its findings back to their sources.
func (c checker) lint(flows []workflow, keep bool, stderr io.Writer) ([]problem, error) {
	if len(flows) == 0 {
		return nil, nil
	}
	dir, err := os.MkdirTemp("", "snippets-")
	if err != nil {
		return nil, err
	}
	if keep {
		fmt.Fprintln(stderr, "snippets: project kept at", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	// actionlint resolves uses: ./ only inside a project, which it recognises by .git.
	wfDir := filepath.Join(dir, ".github", "workflows")
	for _, d := range []string{filepath.Join(dir, ".git"), wfDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	for _, f := range []string{"action.yml", "Dockerfile"} {
		b, err := os.ReadFile(filepath.Join(c.root, f))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return nil, err
		}
	}
	byName := map[string]workflow{}
	args := append([]string(nil), c.linter[1:]...)
	args = append(args, "-shellcheck=", "-pyflakes=", "-format", "{{json .}}")
	for _, w := range flows {
		if _, dup := byName[w.name]; dup {
			return nil, fmt.Errorf("two workflows map to %s", w.name)
		}
		byName[w.name] = w
		if err := os.WriteFile(filepath.Join(wfDir, w.name), []byte(w.text), 0o644); err != nil {
			return nil, err
		}
		args = append(args, filepath.ToSlash(filepath.Join(".github", "workflows", w.name)))
	}
	cmd := exec.Command(c.linter[0], args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	runErr := cmd.Run()
	var exit *exec.ExitError
	if runErr != nil && !(errors.As(runErr, &exit) && exit.ExitCode() == 1) {
		return nil, fmt.Errorf("run %s: %w\n%s", strings.Join(c.linter, " "), runErr, errOut.String())
	}
	return mapFindings(out.Bytes(), byName)
}

// mapFindings decodes actionlint's JSON findings and maps each to its source file and line.
func mapFindings(raw []byte, byName map[string]workflow) ([]problem, error) {
	var found []finding
	if err := json.Unmarshal(bytes.TrimSpace(raw), &found); err != nil {
		return nil, fmt.Errorf("read actionlint output: %w", err)
	}
	var out []problem
	for _, f := range found {
		w, ok := byName[filepath.Base(f.Filepath)]
		if !ok {
			return nil, fmt.Errorf("actionlint reported %s, which the checker did not write", f.Filepath)
		}
		msg := fmt.Sprintf("%s [%s]", f.Message, f.Kind)
		if w.origin(f.Line) < w.srcFirst {
			msg = fmt.Sprintf("%s (in the wrapping, line %d of the wrapped workflow)", msg, f.Line)
		}
		out = append(out, problem{w.src, w.origin(f.Line), msg})
	}
	return out, nil
}
