package main

import (
	"fmt"
	"regexp"
	"strings"
)

// kind says how a YAML block is linted.
type kind string

// The markers a YAML block may carry, as <!-- snippet: KIND [FILE] --> on the line right before
// its opening fence.
const (
	// kindWorkflow: a whole workflow, linted as is.
	kindWorkflow kind = "workflow"
	// kindJob: the keys of one job (permissions:, steps:, ...), wrapped into a workflow.
	kindJob kind = "job"
	// kindSteps: a list of steps, wrapped into a job.
	kindSteps kind = "steps"
	// kindSkip: not a workflow at all (a compose file, a config file): not linted.
	kindSkip kind = "skip"
)

// snippet is one fenced YAML block of a Markdown file.
type snippet struct {
	file  string // the Markdown file, as given
	fence int    // 1-based line of the opening fence
	kind  kind
	// same names a file the block must equal byte for byte (workflow blocks only), so a README
	// can show an example workflow without the two drifting apart.
	same string
	body []string // the block's lines, without the fences and without the common indentation
}

// first is the 1-based line of the block's first body line.
func (s snippet) first() int { return s.fence + 1 }

// problem is a finding about a Markdown file, reported as file:line: message.
type problem struct {
	file string
	line int
	msg  string
}

func (p problem) String() string { return fmt.Sprintf("%s:%d: %s", p.file, p.line, p.msg) }

var (
	fenceOpen = regexp.MustCompile("^( {0,3})(`{3,}|~{3,})[ \t]*([^`\\s]*)[^`]*$")
	marker    = regexp.MustCompile(`^\s*<!--\s*snippet:\s*([a-z]+)(?:\s+(\S+))?\s*-->\s*$`)
)

// extract returns every fenced YAML block of a Markdown document (info string yaml or yml) with
// its marker, and a problem for each block without a valid marker. Fences nested in another
// fenced block (a longer fence, or the other fence character) are not blocks of their own.
// Fences inside list items may be indented; the indentation is removed from the body.
func extract(file string, src string) ([]snippet, []problem) {
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	var out []snippet
	var probs []problem
	for i := 0; i < len(lines); i++ {
		m := fenceOpen.FindStringSubmatch(stripListIndent(lines[i]))
		if m == nil {
			continue
		}
		fence, info := m[2], strings.ToLower(m[3])
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		end := closing(lines, i+1, fence)
		if info != "yaml" && info != "yml" {
			i = end
			continue
		}
		s := snippet{file: file, fence: i + 1}
		stop := end
		if stop > len(lines) {
			stop = len(lines)
		}
		s.body = dedent(lines[i+1:stop], indent)
		if end >= len(lines) {
			probs = append(probs, problem{file, i + 1, "YAML block has no closing fence"})
		}
		var mk []string
		if i > 0 {
			mk = marker.FindStringSubmatch(lines[i-1])
		}
		switch {
		case mk == nil:
			probs = append(probs, problem{file, i + 1, "YAML block without a marker: put <!-- snippet: workflow|job|steps|skip --> on the line before the fence"})
			i = end
			continue
		case !validKind(kind(mk[1])):
			probs = append(probs, problem{file, i, fmt.Sprintf("unknown snippet kind %q: use workflow, job, steps or skip", mk[1])})
			i = end
			continue
		case mk[2] != "" && kind(mk[1]) != kindWorkflow:
			probs = append(probs, problem{file, i, "only a workflow snippet may name a file it must equal"})
			i = end
			continue
		}
		s.kind, s.same = kind(mk[1]), mk[2]
		out = append(out, s)
		i = end
	}
	return out, probs
}

func validKind(k kind) bool {
	switch k {
	case kindWorkflow, kindJob, kindSteps, kindSkip:
		return true
	}
	return false
}

// stripListIndent lets a fence sit inside a list item ("   ```yaml" after "1. "): up to three
// spaces are allowed by CommonMark, and list items indent further; any run of spaces is accepted
// here, which only matters for documents that indent code blocks by four spaces (none do).
func stripListIndent(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return t
	}
	return line
}

// closing returns the index of the line closing a fence opened with fence, or len(lines) when
// the document ends first. A closing fence is the same character, at least as long, alone on its
// line.
func closing(lines []string, from int, fence string) int {
	for j := from; j < len(lines); j++ {
		t := strings.TrimSpace(lines[j])
		if len(t) >= len(fence) && strings.Trim(t, fence[:1]) == "" {
			return j
		}
	}
	return len(lines)
}

// dedent removes the fence's own indentation, then the indentation all non-blank lines share, so
// a fragment copied from the middle of a workflow reads as a document of its own.
func dedent(lines []string, fenceIndent int) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		n := 0
		for n < fenceIndent && n < len(l) && l[n] == ' ' {
			n++
		}
		out[i] = l[n:]
	}
	common := -1
	for _, l := range out {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if common < 0 || n < common {
			common = n
		}
	}
	if common <= 0 {
		return out
	}
	for i, l := range out {
		if len(l) >= common {
			out[i] = l[common:]
		} else {
			out[i] = ""
		}
	}
	return out
}
