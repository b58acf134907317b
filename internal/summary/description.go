package summary

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// MaxDescriptionRunes is GitHub's limit for a deployment status description.
const MaxDescriptionRunes = 140

// segment is one piece of the description. Fixed pieces are never cut; cuttable ones are cut
// lowest priority first, evenly within a priority, down to one rune (an ellipsis); the protected
// one (the expected deployment record id) is cut last.
type segment struct {
	text string
	kind segKind
	prio int // among cuttable segments: lower is cut first
}

type segKind int

const (
	segFixed segKind = iota
	segCut
	segProtected
)

func fixed(s string) segment { return segment{text: s, kind: segFixed} }
func cuttable(s string, prio int) segment {
	return segment{text: logtext.OneLine(s), kind: segCut, prio: prio}
}
func protected(s string) segment { return segment{text: logtext.OneLine(s), kind: segProtected} }

// Description renders the one-line GitHub deployment status description: "<verdict>: ..." in at
// most MaxDescriptionRunes runes, e.g. "mismatch: tenant serves deployment-OLD, expected
// deployment-NEW (deployment_record_id, artifact_id)". Whatever the lengths, the verdict prefix is
// kept whole and the expected deployment record id is cut last.
func Description(r Report) string {
	st := r.status()
	exp := r.redact(r.expectedRecordID())
	var segs []segment
	withExpected := func(lead ...segment) []segment {
		if exp == "" {
			return lead
		}
		return append(lead, fixed("; expected "), protected(exp))
	}
	switch {
	case r.Cancelled != "":
		segs = withExpected(fixed("cancelled during "), cuttable(r.redact(r.Cancelled), 1))
	case r.rolloutFailed():
		state := r.Rollout.ending()
		segs = withExpected(fixed("rollout "), cuttable(r.redact(state), 2), fixed(", Dokploy deployment "), cuttable(r.redact(orUnknown(r.Rollout.DeploymentID)), 1))
	case st == identity.StatusMatch:
		segs = []segment{fixed("tenant serves "), protected(exp)}
		if p := r.Probe; p != nil && p.TimeToMatch > 0 {
			segs = append(segs, fixed(fmt.Sprintf(" (%s, %d attempts)", dur(p.TimeToMatch), p.Attempts)))
		}
	case st == identity.StatusMismatch:
		fields := strings.Join(r.Verdict.Mismatched, ", ")
		if obs := r.redact(r.observedRecordID()); obs != "" && slices.Contains(r.Verdict.Mismatched, "deployment_record_id") {
			segs = []segment{fixed("tenant serves "), cuttable(obs, 2), fixed(", expected "), protected(exp), fixed(" ("), cuttable(fields, 1), fixed(")")}
		} else {
			segs = withExpected(fixed("differs in "), cuttable(fields, 1))
		}
	case st == identity.StatusMissing:
		segs = withExpected(fixed("tenant exposes no identity"))
	case r.unconfirmed():
		segs = withExpected(cuttable(fmt.Sprintf("match not confirmed (%d of %d in a row)", r.Probe.Confirmations, r.Probe.Required), 1))
	case st == identity.StatusMalformed, st == identity.StatusUnverifiable:
		segs = withExpected(cuttable(r.redact(r.problem()), 1))
	default:
		if exp == "" {
			segs = []segment{fixed("no expected identity")}
		} else {
			segs = []segment{fixed("not verified; expected "), protected(exp)}
		}
	}
	if r.RollbackStatus != "" {
		segs = append(segs, fixed("; rollback: "+r.RollbackStatus))
	}
	return fit(logtext.OneLine(string(st))+": ", segs, MaxDescriptionRunes)
}

// problem names what was wrong with the deciding answer, for malformed and unverifiable.
func (r *Report) problem() string {
	if a := r.answerFor(); a != nil {
		if a.StatusCode > 0 && (a.StatusCode < 200 || a.StatusCode > 299) {
			return fmt.Sprintf("HTTP %d from %s", a.StatusCode, a.Surface)
		}
		if a.Detail != "" {
			return a.Detail
		}
	}
	if r.Verdict.Detail != "" {
		return r.Verdict.Detail
	}
	return "no usable answer"
}

// fit joins prefix and segs within n runes. The overflow is taken from the cuttable segments,
// lowest priority first and evenly within a priority, each kept to at least one rune (an
// ellipsis); what is still over comes out of the protected segment. The prefix is never cut.
func fit(prefix string, segs []segment, n int) string {
	runes := utf8.RuneCountInString
	over := runes(prefix) - n
	prios := map[int]bool{}
	for _, s := range segs {
		over += runes(s.text)
		if s.kind == segCut {
			prios[s.prio] = true
		}
	}
	order := make([]int, 0, len(prios))
	for p := range prios {
		order = append(order, p)
	}
	slices.Sort(order)
	for _, p := range order {
		if over <= 0 {
			break
		}
		var idx []int
		cur, longest := 0, 0
		for i, s := range segs {
			if l := runes(s.text); s.kind == segCut && s.prio == p && l > 0 {
				idx = append(idx, i)
				cur += l
				longest = max(longest, l)
			}
		}
		target := max(cur-over, len(idx))
		// The largest per-segment cap whose cut segments fit target.
		limit := 1
		for lo, hi := 1, longest; lo <= hi; {
			mid := (lo + hi) / 2
			sum := 0
			for _, i := range idx {
				sum += min(runes(segs[i].text), mid)
			}
			if sum <= target {
				limit, lo = mid, mid+1
			} else {
				hi = mid - 1
			}
		}
		after := 0
		for _, i := range idx {
			segs[i].text = logtext.Truncate(segs[i].text, limit)
			after += runes(segs[i].text)
		}
		over -= cur - after
	}
	if over > 0 {
		for i := range segs {
			if segs[i].kind == segProtected {
				l := runes(segs[i].text)
				segs[i].text = logtext.Truncate(segs[i].text, max(l-over, 1))
				over -= l - runes(segs[i].text)
			}
		}
	}
	var b strings.Builder
	b.WriteString(prefix)
	for _, s := range segs {
		b.WriteString(s.text)
	}
	// A safety net: only reachable if the fixed text alone were too long.
	return logtext.Truncate(b.String(), n)
}
