package summary

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// MaxMarkdownBytes is GitHub's step-summary limit: beyond 1 MiB the runner drops the upload.
const MaxMarkdownBytes = 1 << 20

// render lays the summary out. Every string it receives is already safe Markdown: values are
// escaped in Go (escapeMarkdown) because most lines mix fixed text with untrusted values. It is
// written by hand rather than with text/template: a reachable template engine makes the linker
// keep every exported method of every type (reflection), about 2 MB of the shipped binary.
func (v mdView) render() string {
	var b strings.Builder
	b.WriteString("## " + v.Heading + "\n\n" + v.Lead)
	if v.Detail != "" {
		b.WriteString("\n\n" + v.Detail)
	}
	if len(v.Rows) > 0 {
		b.WriteString("\n\n| field | expected | observed | result |\n|---|---|---|---|")
		for _, r := range v.Rows {
			b.WriteString("\n| " + r.Field + " | " + r.Expected + " | " + r.Observed + " | " + r.Result + " |")
		}
		b.WriteString("\n\n" + v.Legend)
	}
	if v.ObservedRaw != "" {
		b.WriteString("\n\n**Observed, as reported:** " + v.ObservedRaw)
	}
	for _, sec := range v.Sections {
		b.WriteString("\n\n### " + sec.Title + "\n")
		for _, it := range sec.Items {
			b.WriteString("\n- " + it)
		}
	}
	b.WriteString("\n")
	return b.String()
}

// mdView is the summary's content, every string safe Markdown.
type mdView struct {
	Heading     string
	Lead        string
	Detail      string
	Rows        []mdRow
	Legend      string
	ObservedRaw string
	Sections    []mdSection
}

type mdRow struct{ Field, Expected, Observed, Result string }

type mdSection struct {
	Title string
	Items []string
}

// Markdown renders the job summary: the verdict and breadcrumb first, then the field table,
// timings, the tenant surfaces, the Dokploy and GitHub deployments, sources, notes, warnings and
// the evidence that could not be had. It never exceeds MaxMarkdownBytes.
func Markdown(r Report) string {
	v := mdView{
		Heading: r.heading(),
		Lead:    r.lead(),
		Detail:  r.text(r.Verdict.Detail, lineRunes),
		Rows:    r.rows(),
		Legend:  "Compared fields decide the verdict, each only where an expected value is set; informational fields are shown, never compared.",
	}
	if raw := r.observedRaw(); raw != "" {
		v.ObservedRaw = raw
	}
	add := func(title string, items []string) {
		if len(items) > 0 {
			v.Sections = append(v.Sections, mdSection{title, items})
		}
	}
	add("Timings", r.timingItems())
	add("Tenant", r.tenantItems())
	add("Dokploy", r.dokployItems())
	add("Rollback", r.rollbackItems())
	add("GitHub deployment", r.githubItems())
	add("Sources", r.sourceItems())
	add("Notes", r.listItems(r.notes()))
	add("Warnings", r.listItems(r.Warnings))
	add("Unavailable evidence", r.unavailableItems())
	return capMarkdown(v.render())
}

// capMarkdown enforces MaxMarkdownBytes: it cuts at the last line break that leaves room for a
// closing line saying so.
func capMarkdown(md string) string {
	if len(md) <= MaxMarkdownBytes {
		return md
	}
	note := fmt.Sprintf("\n\n> **Summary cut at %d of %d bytes:** GitHub's step-summary limit is 1 MiB. The evidence file holds the full report.\n", MaxMarkdownBytes, len(md))
	keep := MaxMarkdownBytes - len(note)
	if i := strings.LastIndexByte(md[:keep], '\n'); i > 0 {
		keep = i
	}
	for keep > 0 && !utf8.RuneStart(md[keep]) {
		keep--
	}
	return md[:keep] + note
}

// statusMark is the glyph for a verdict after policy.
func (r *Report) statusMark() string {
	switch {
	case r.Outcome == OutcomeFailed || r.Outcome == OutcomeError || r.rolloutFailed():
		return "❌"
	case r.status() == identity.StatusMatch:
		return "✅"
	case r.status() == identity.StatusUnchecked:
		return "➖"
	default:
		return "⚠️"
	}
}

// heading is the first line: what happened, in words a tired operator reads at a glance.
func (r *Report) heading() string {
	mark, st := r.statusMark(), r.status()
	if r.Cancelled != "" {
		h := fmt.Sprintf("%s cancelled during the %s step", mark, r.text(r.Cancelled, headRunes))
		if r.Probe != nil {
			h += " — last observation: " + string(st)
		}
		return h
	}
	if r.rolloutFailed() {
		ro := r.Rollout
		state := ro.ending()
		h := fmt.Sprintf("%s rollout %s — Dokploy deployment %s", mark, r.text(state, headRunes), r.text(orUnknown(ro.DeploymentID), headRunes))
		if st != identity.StatusUnchecked {
			h += " · " + string(st)
		}
		return h
	}
	switch st {
	case identity.StatusMatch, identity.StatusUnchecked:
		if r.Expected == nil {
			return fmt.Sprintf("%s %s — no expected identity", mark, st)
		}
		return fmt.Sprintf("%s %s — %s", mark, st, r.text(r.Expected.Breadcrumb(), lineRunes))
	case identity.StatusMismatch:
		if obs := r.observedRecordID(); obs != "" && slices.Contains(r.Verdict.Mismatched, "deployment_record_id") {
			return fmt.Sprintf("%s mismatch — the tenant still serves %s", mark, r.text(obs, headRunes))
		}
		return fmt.Sprintf("%s mismatch — the tenant reports a different %s", mark, r.text(strings.Join(r.Verdict.Mismatched, ", "), headRunes))
	case identity.StatusMissing:
		return mark + " missing — the tenant exposes no identity"
	case identity.StatusMalformed:
		return mark + " malformed — the tenant's identity could not be read"
	case identity.StatusUnverifiable:
		if r.unconfirmed() {
			return mark + " unverifiable — " + r.unconfirmedText()
		}
		return mark + " unverifiable — the tenant gave no usable answer"
	default:
		return mark + " " + r.text(string(st), headRunes)
	}
}

// lead is the line under the heading: the expected breadcrumb and the run's policy and outcome.
func (r *Report) lead() string {
	var parts []string
	if r.Expected != nil {
		parts = append(parts, "Expected **"+r.text(r.Expected.Breadcrumb(), lineRunes)+"**")
	} else {
		parts = append(parts, "No expected identity")
	}
	if r.Mode != "" {
		parts = append(parts, "mode "+r.text(r.Mode, headRunes))
	}
	if r.RequireIdentity {
		parts = append(parts, "identity required")
	} else {
		parts = append(parts, "identity optional")
	}
	out := string(r.Outcome)
	if out == "" {
		out = "unknown"
	}
	parts = append(parts, fmt.Sprintf("%s (exit %d)", r.text(out, headRunes), r.ExitCode))
	if r.Tool.Name != "" {
		parts = append(parts, r.text(strings.TrimSpace(r.Tool.Name+" "+r.Tool.Version), headRunes))
	}
	return strings.Join(parts, " · ")
}

// rows is the field table: the verdict's fields, or the expected identity when nothing was compared.
func (r *Report) rows() []mdRow {
	if len(r.Verdict.Fields) > 0 {
		rows := make([]mdRow, 0, len(r.Verdict.Fields))
		for _, f := range r.Verdict.Fields {
			rows = append(rows, mdRow{r.text(f.Field, headRunes), r.cell(f.Expected), r.cell(f.Observed), resultMark(f)})
		}
		return rows
	}
	if r.Expected == nil {
		return nil
	}
	rows := make([]mdRow, 0, len(identity.Fields))
	for _, f := range identity.Fields {
		res := "➖ not checked"
		if !f.Compared {
			res = "ℹ️ informational"
		}
		rows = append(rows, mdRow{escapeMarkdown(f.Name), r.cell(f.Get(r.Expected)), "—", res})
	}
	return rows
}

// resultMark renders one field's result, marking compared and informational fields.
func resultMark(f identity.FieldResult) string {
	switch f.Result {
	case identity.ResultMatch:
		return "✅ match"
	case identity.ResultMismatch:
		return "❌ mismatch"
	case identity.ResultNotCompared:
		return "➖ not compared (no expected value)"
	case identity.ResultInformational:
		return "ℹ️ informational"
	case identity.ResultNotReported:
		if f.Compared {
			return "❔ not reported"
		}
		return "❔ not reported (not compared)"
	default:
		return escapeMarkdown(cut(f.Result, headRunes))
	}
}

// observedRaw shows the observed value as reported when the table cannot: it was not readable as
// an identity.
func (r *Report) observedRaw() string {
	if len(r.Observed) == 0 || r.status() != identity.StatusMalformed {
		return ""
	}
	return r.text(string(r.Observed), rawRunes)
}

func (r *Report) timingItems() []string {
	var items []string
	if ro := r.Rollout; ro != nil && (ro.Duration > 0 || ro.QueuedFor > 0) {
		s := "rollout: " + dur(ro.Duration)
		if ro.QueuedFor > 0 {
			s += " (queued " + dur(ro.QueuedFor) + ")"
		}
		items = append(items, s)
	}
	if p := r.Probe; p != nil {
		if r.status() == identity.StatusMatch && p.TimeToMatch > 0 {
			items = append(items, "time to match: "+dur(p.TimeToMatch))
		} else if r.status() != identity.StatusMatch {
			s := "no confirmed match after " + dur(p.Elapsed)
			if p.TimedOut {
				s += " (verify deadline reached)"
			}
			items = append(items, s)
		}
		items = append(items, fmt.Sprintf("attempts: %d · confirmations: %d of %d", p.Attempts, p.Confirmations, p.Required))
		if fs := firstSeen(p.FirstSeen); fs != "" {
			items = append(items, "first seen: "+fs)
		}
	}
	if !r.StartedAt.IsZero() {
		s := "started " + r.StartedAt.UTC().Format(time.RFC3339)
		if !r.FinishedAt.IsZero() {
			s += ", finished " + r.FinishedAt.UTC().Format(time.RFC3339) + " (" + dur(r.FinishedAt.Sub(r.StartedAt)) + ")"
		}
		items = append(items, s)
	}
	return items
}

// firstSeen lists when each status was first seen, earliest first.
func firstSeen(m map[identity.Status]time.Duration) string {
	type seen struct {
		st identity.Status
		d  time.Duration
	}
	all := make([]seen, 0, len(m))
	for st, d := range m {
		all = append(all, seen{st, d})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].d != all[j].d {
			return all[i].d < all[j].d
		}
		return all[i].st < all[j].st
	})
	parts := make([]string, 0, len(all))
	for _, s := range all {
		parts = append(parts, fmt.Sprintf("%s at %s", escapeMarkdown(cut(string(s.st), headRunes)), dur(s.d)))
	}
	return strings.Join(parts, ", ")
}

func (r *Report) tenantItems() []string {
	p := r.Probe
	if p == nil {
		return nil
	}
	items := []string{"decided by **" + r.text(string(p.Surface), headRunes) + "** " + r.urlText(p.URL)}
	for i, a := range p.Answers {
		if i == maxAnswers {
			items = append(items, fmt.Sprintf("and %d more answers in the evidence file", len(p.Answers)-maxAnswers))
			break
		}
		items = append(items, r.answerText(a))
	}
	return items
}

// answerText renders one surface's answer on one line.
func (r *Report) answerText(a Answer) string {
	s := r.text(string(a.Surface), headRunes) + " " + r.urlText(a.URL) + ": "
	if a.StatusCode > 0 {
		s += "HTTP " + strconv.Itoa(a.StatusCode) + ", "
	} else {
		s += "no HTTP answer, "
	}
	s += "**" + r.text(string(a.Status), headRunes) + "**"
	if a.Key != "" {
		s += " in key " + r.text(a.Key, headRunes)
	}
	if a.DeploymentRecordID != "" {
		s += ", deployment " + r.text(a.DeploymentRecordID, cellRunes)
	}
	if a.Digest != "" {
		s += ", digest " + r.text(a.Digest, cellRunes)
	}
	if a.Detail != "" {
		s += ": " + r.text(a.Detail, lineRunes)
	}
	return s
}

// urlText renders a checked URL: escaped plain text, never a link (it is where the tenant is, not
// something to click through from a summary).
func (r *Report) urlText(u string) string {
	if u == "" {
		return "(no URL)"
	}
	return "at " + r.text(u, cellRunes)
}

func (r *Report) dokployItems() []string {
	ro := r.Rollout
	if ro == nil {
		return nil
	}
	target := r.text(orUnknown(ro.TargetKind), headRunes) + " " + r.text(orUnknown(ro.TargetID), headRunes)
	var items []string
	if ro.DeploymentID != "" {
		s := target + ": deployment " + r.text(ro.DeploymentID, headRunes)
		if ro.Status != "" {
			s += " **" + r.text(ro.Status, headRunes) + "**"
		}
		if ro.Trigger != "" {
			s += " (" + r.text(ro.Trigger, headRunes) + ")"
		}
		if ro.Title != "" {
			s += ": " + r.text(ro.Title, cellRunes)
		}
		items = append(items, s)
	} else if ro.Trigger != "" {
		items = append(items, target+": "+r.text(ro.Trigger, headRunes)+" triggered, but its deployment row was never seen")
	} else {
		items = append(items, target+": no deployment started")
	}
	if ro.EnvChanged {
		items = append(items, "identity env written (the LAUNCHPLANE\\_\\* keys changed)")
	} else {
		items = append(items, "identity env unchanged (already up to date)")
	}
	if ro.Error != "" {
		items = append(items, "error: "+r.text(ro.Error, lineRunes))
	}
	if ro.LogTail != "" {
		items = append(items, "log tail (secrets redacted):\n\n"+r.codeBlock(ro.LogTail, maxLogTailLines))
	}
	return items
}

// maxLogTailLines bounds the log tail the summary shows; the evidence keeps the whole tail read.
const maxLogTailLines = 40

// codeBlock renders untrusted text as a fenced block, indented under a list item, its last
// lines only: a fence longer than any backtick run in the text keeps it from closing early.
func (r *Report) codeBlock(text string, maxLines int) string {
	lines := strings.Split(strings.TrimRight(strings.ToValidUTF8(r.redact(text), "\uFFFD"), "\n"), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	var b strings.Builder
	b.WriteString("  " + fence + "text\n")
	for _, l := range lines {
		b.WriteString("  " + strings.Map(func(c rune) rune {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return -1
			}
			return c
		}, logtext.Truncate(l, lineRunes)) + "\n")
	}
	b.WriteString("  " + fence)
	return b.String()
}

func (r *Report) githubItems() []string {
	g := r.GitHub
	if g == nil {
		return nil
	}
	var items []string
	if g.DeploymentID != 0 {
		s := "deployment " + strconv.FormatInt(g.DeploymentID, 10)
		if g.Environment != "" {
			s += " in environment " + r.text(g.Environment, cellRunes)
		}
		items = append(items, s)
	}
	if l := r.link("environment", g.EnvironmentURL); l != "" {
		items = append(items, l)
	}
	if l := r.link("log", g.LogURL); l != "" {
		items = append(items, l)
	}
	if g.Error != "" {
		items = append(items, "GitHub API: "+r.text(g.Error, lineRunes)+" (the verdict is unaffected)")
	}
	return items
}

// sourceItems says where the expected fields came from, grouped by kind, and links the sources.
func (r *Report) sourceItems() []string {
	var items []string
	byKind := map[string][]string{}
	for field, src := range r.Provenance {
		byKind[src.Kind] = append(byKind[src.Kind], field)
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fields := byKind[k]
		sort.Strings(fields)
		items = append(items, r.text(orUnknown(k), headRunes)+": "+r.text(strings.Join(fields, ", "), lineRunes))
	}
	if l := r.link("workflow run", r.Links.Run); l != "" {
		items = append(items, l)
	}
	if l := r.link("Launchplane record", r.Links.Record); l != "" {
		items = append(items, l)
	}
	return items
}

// listItems escapes and cuts free-text lines, at most maxListed of them.
func (r *Report) listItems(lines []string) []string {
	out := make([]string, 0, min(len(lines), maxListed+1))
	for i, l := range lines {
		if i == maxListed {
			out = append(out, fmt.Sprintf("and %d more in the evidence file", len(lines)-maxListed))
			break
		}
		out = append(out, r.text(l, lineRunes))
	}
	return out
}

func (r *Report) unavailableItems() []string {
	var items []string
	for i, u := range r.unavailable() {
		if i == maxListed {
			items = append(items, "and more in the evidence file")
			break
		}
		items = append(items, r.text(u.Field, headRunes)+": "+r.text(u.Reason, lineRunes))
	}
	return items
}

// dur renders a duration for people: milliseconds below a second, else tenths of a second.
func dur(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// rollbackItems says what the rollback did, if one was due.
func (r *Report) rollbackItems() []string {
	if r.RollbackStatus == "" {
		return nil
	}
	items := []string{"**" + r.text(r.RollbackStatus, headRunes) + "**"}
	rb := r.Rollback
	if rb == nil {
		return items
	}
	if rb.Reason != "" {
		items[0] += ": " + r.text(rb.Reason, lineRunes)
	}
	if rb.DeploymentID != "" && !rb.Performed {
		items = append(items, "the rollback target was Dokploy deployment "+r.text(rb.DeploymentID, headRunes)+" (rollback "+r.text(rb.RollbackID, headRunes)+"); nothing was changed")
	}
	if rb.Performed {
		items = append(items, "rolled back to Dokploy deployment "+r.text(rb.DeploymentID, headRunes)+" (rollback "+r.text(rb.RollbackID, headRunes)+")")
	}
	if rb.Restored != nil {
		items = append(items, "restored identity: "+r.text(rb.Restored.Breadcrumb(), lineRunes))
	}
	if rb.Performed {
		v := "after the rollback the tenant serves: **" + r.text(string(rb.Verdict.Status), headRunes) + "**"
		if rb.Verdict.Detail != "" {
			v += ": " + r.text(rb.Verdict.Detail, lineRunes)
		}
		items = append(items, v)
		if rb.EnvRestored {
			items = append(items, "stored env: the four identity keys restored to the rolled-back values, so a later redeploy does not bring the failed identity back")
		} else {
			items = append(items, "stored env: the identity keys were not restored; a later redeploy would bring the failed identity back")
		}
		t := "rollback took " + dur(rb.Elapsed)
		if rb.TimeToMatch > 0 {
			t += ", time to match " + dur(rb.TimeToMatch)
		}
		items = append(items, t)
	}
	return append(items, r.listItems(rb.Notes)...)
}
