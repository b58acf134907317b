package inventory

import (
	"fmt"
	"strings"

	"github.com/launchplane/runtime-identity/internal/logtext"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// Markdown limits: GitHub refuses a step summary over 1 MiB.
const (
	// MaxMarkdownRows bounds the lanes listed; problems come first, so they are listed before
	// matches are dropped.
	MaxMarkdownRows = 1000
	// MaxMarkdownBytes is the size after which no more rows are added.
	MaxMarkdownBytes = 900 << 10
	mdCellRunes      = 200
	mdValueRunes     = 60
)

// Markdown renders the job summary: a headline, the counts, then one table row a lane, problems
// first. It is built by hand, never with html/template (whose entities GitHub would show
// literally): every value it did not write is cut and escaped with summary.EscapeMarkdown, so a
// tenant's answer cannot add rows, links, images or HTML. A fleet too large for one summary lists
// its first MaxMarkdownRows lanes and says how many more the JSON report holds.
func Markdown(r *Report) string {
	var b strings.Builder
	markAll := "✅"
	switch {
	case r.RequiredNotMatching > 0:
		markAll = "❌"
	case len(r.Lanes)-r.Counts.Match-r.Counts.Unchecked > 0:
		markAll = "⚠️"
	}
	fmt.Fprintf(&b, "## %s Runtime identity inventory: %s\n\n", markAll, headline(r))
	meta := []string{fmt.Sprintf("generated %s", md(r.GeneratedAt)), "source " + md(r.Source)}
	if s := scope(r); s != "" {
		meta = append(meta, md(s))
	}
	b.WriteString(strings.Join(meta, " · ") + "\n\n")

	b.WriteString("| status | lanes |\n|---|---:|\n")
	for _, s := range statusOrder {
		fmt.Fprintf(&b, "| %s | %d |\n", s, r.Counts.Of(s))
	}
	fmt.Fprintf(&b, "| **total** | **%d** |\n", len(r.Lanes))
	if r.RequiredNotMatching > 0 {
		fmt.Fprintf(&b, "| required, not matching | %d |\n", r.RequiredNotMatching)
	}
	b.WriteString("\n")
	if len(r.Lanes) == 0 {
		return b.String()
	}

	b.WriteString("| | status | lane | required | url | detail |\n|---|---|---|---|---|---|\n")
	lanes := ordered(r)
	shown := 0
	for _, l := range lanes {
		if shown == MaxMarkdownRows || b.Len() > MaxMarkdownBytes {
			break
		}
		req := "no"
		if l.RequireIdentity {
			req = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mark(l), l.Status, cell(l.Key()), req, cell(l.URL), cell(brief(l, mdValueRunes)))
		shown++
	}
	if rest := len(lanes) - shown; rest > 0 {
		fmt.Fprintf(&b, "\n… and %d more %s (the first %d are listed, problems first): the JSON report holds every lane.\n", rest, plural(rest, "lane", "lanes"), shown)
	}
	return b.String()
}

// md escapes a value for Markdown text.
func md(s string) string { return summary.EscapeMarkdown(logtext.Truncate(s, mdCellRunes)) }

// cell renders one table cell: the value cut and escaped, or an em dash when it is empty.
func cell(s string) string {
	if s == "" {
		return "—"
	}
	return md(s)
}
