package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// ownAction matches this repository's action as users reference it. The checker lints it as the
// local action (uses: ./), so actionlint checks every input name and every output a snippet reads
// against action.yml. The replacement keeps the line count, so line numbers still map.
var ownAction = regexp.MustCompile(`launchplane/runtime-identity@[A-Za-z0-9._/-]+`)

// needsRef finds the jobs and outputs a fragment reads through needs.<job>.outputs.<name>.
var needsRef = regexp.MustCompile(`needs\.([A-Za-z_][A-Za-z0-9_-]*)\.outputs\.([A-Za-z_][A-Za-z0-9_-]*)`)

// topKey matches a mapping key at the start of a line.
var topKey = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*):`)

// workflow is a file to lint: its text, and how its lines map back to a source file.
type workflow struct {
	name string // file name inside the lint directory
	text string
	// src is the file the text came from, first the 1-based line of text that holds src's line
	// srcFirst, and count how many lines of text come from src (the rest is wrapping).
	src      string
	srcFirst int
	first    int
	count    int
}

// origin maps a 1-based line of the workflow text back to the source: inside the copied lines it
// is the matching source line, on a wrapping line it is the line before the block (its fence or
// marker).
func (w workflow) origin(line int) int {
	if line >= w.first && line < w.first+w.count {
		return w.srcFirst + line - w.first
	}
	return w.srcFirst - 1
}

// localize points the repository's own action at the local copy, so its inputs and outputs are
// checked.
func localize(text string) string {
	return ownAction.ReplaceAllString(text, "./")
}

// wrap turns a snippet into a workflow actionlint accepts. Fragments get the least wrapping that
// makes them complete: a trigger, a job with runs-on, and one stub job per job they read outputs
// from, declaring exactly those outputs.
func wrap(s snippet, name string) workflow {
	body := localize(strings.Join(s.body, "\n"))
	w := workflow{name: name, src: s.file, srcFirst: s.first(), count: len(s.body)}
	if s.kind == kindWorkflow {
		w.text, w.first = body+"\n", 1
		return w
	}
	var b strings.Builder
	line := 0
	emit := func(format string, args ...any) {
		fmt.Fprintf(&b, format+"\n", args...)
		line++
	}
	emit("# Wrapped by internal/tools/snippets from %s line %d (%s).", s.file, s.fence, s.kind)
	emit("on: push")
	emit("jobs:")
	stubs := stubJobs(body)
	emit("  snippet:")
	if len(stubs) > 0 {
		names := make([]string, 0, len(stubs))
		for n := range stubs {
			names = append(names, n)
		}
		sort.Strings(names)
		emit("    needs: [%s]", strings.Join(names, ", "))
	}
	keys := map[string]bool{}
	for _, l := range s.body {
		if m := topKey.FindStringSubmatch(l); m != nil {
			keys[m[1]] = true
		}
	}
	switch s.kind {
	case kindSteps:
		emit("    runs-on: ubuntu-latest")
		emit("    steps:")
		w.first = line + 1
		writeIndented(&b, body, "      ")
		line += len(s.body)
	case kindJob:
		if !keys["runs-on"] && !keys["uses"] {
			emit("    runs-on: ubuntu-latest")
		}
		w.first = line + 1
		writeIndented(&b, body, "    ")
		line += len(s.body)
		if !keys["steps"] && !keys["uses"] {
			emit("    steps:")
			emit(`      - run: "true"`)
		}
	}
	for _, n := range sortedKeys(stubs) {
		emit("  %s:", n)
		emit("    runs-on: ubuntu-latest")
		emit("    outputs:")
		for _, o := range stubs[n] {
			emit("      %s: stub", o)
		}
		emit("    steps:")
		emit(`      - run: "true"`)
	}
	w.text = b.String()
	return w
}

// stubJobs returns, for each job a fragment reads outputs from, the sorted output names.
func stubJobs(body string) map[string][]string {
	seen := map[string]map[string]bool{}
	for _, m := range needsRef.FindAllStringSubmatch(body, -1) {
		if seen[m[1]] == nil {
			seen[m[1]] = map[string]bool{}
		}
		seen[m[1]][m[2]] = true
	}
	out := map[string][]string{}
	for job, outs := range seen {
		out[job] = sortedKeys(outs)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func writeIndented(b *strings.Builder, body, indent string) {
	for _, l := range strings.Split(body, "\n") {
		if strings.TrimSpace(l) == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(indent + l + "\n")
	}
}
