package inventory

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Exit codes are part of the interface: workflows branch on them. They are the same numbers the
// other modes use.
const (
	// ExitOK: every lane that requires its identity matches (others may not).
	ExitOK = 0
	// ExitFailed: a lane with require_identity is not a match.
	ExitFailed = 1
	// ExitConfig: bad input (flags, a lanes file, shard outputs that do not merge); nothing was
	// probed and nothing written.
	ExitConfig = 2
	// ExitUnknown: Launchplane (lanes or deployment records) could not be read, or the run was
	// cancelled.
	ExitUnknown = 3
)

// maxProblemsShown bounds the problems an InputError lists.
const maxProblemsShown = 50

// Problem is one thing wrong with the input.
type Problem struct {
	// Path names what is wrong, e.g. "lanes[13].context" (0-based), "--shard" or
	// "shard 3 (b.json)". Empty for the input as a whole.
	Path string
	// Line is the 1-based line in a lanes file; 0 when not known.
	Line int
	// Reason says what is wrong and what would be valid.
	Reason string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Reason)
	if p.Line > 0 {
		b.WriteString(" (line " + strconv.Itoa(p.Line) + ")")
	}
	return b.String()
}

// InputError is bad input: exit code ExitConfig. Nothing was probed.
type InputError struct {
	// What names the input, e.g. "lanes file" or "merge".
	What     string
	Problems []Problem
}

func (e *InputError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "inventory: invalid %s", e.What)
	for i, p := range e.Problems {
		if i == maxProblemsShown {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Problems)-maxProblemsShown)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(logtext.OneLine(p.String()))
	}
	return b.String()
}

func inputError(what string, probs ...Problem) *InputError {
	return &InputError{What: what, Problems: probs}
}

// SourceError means Launchplane (or another lane or record source) could not be read: exit code
// ExitUnknown. Nothing was probed.
type SourceError struct {
	// What names what was being read, e.g. "lanes of product shop" or
	// "deployment record deployment-1 (lanes[3])".
	What string
	Err  error
}

func (e *SourceError) Error() string {
	return "inventory: read " + logtext.OneLine(e.What) + ": " + logtext.OneLine(e.Err.Error())
}

func (e *SourceError) Unwrap() error { return e.Err }
