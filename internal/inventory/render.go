package inventory

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Format is an output format.
type Format string

// Output formats.
const (
	FormatTable    Format = "table"
	FormatJSON     Format = "json"
	FormatMarkdown Format = "markdown"
	FormatHTML     Format = "html"
)

// Formats lists the output formats.
var Formats = []Format{FormatTable, FormatJSON, FormatMarkdown, FormatHTML}

// ParseFormat reads a format name; "md" is markdown. An empty name is "", for the caller's default.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "":
		return "", nil
	case "md":
		return FormatMarkdown, nil
	case FormatTable, FormatJSON, FormatMarkdown, FormatHTML:
		return f, nil
	}
	return "", fmt.Errorf("is %s; valid formats are table, json, markdown and html", quote(s))
}

// FormatForFile guesses the format from an output file's extension: .json, .md or .markdown,
// .html or .htm, .txt; "" when it says nothing.
func FormatForFile(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return FormatJSON
	case ".md", ".markdown":
		return FormatMarkdown
	case ".html", ".htm":
		return FormatHTML
	case ".txt":
		return FormatTable
	}
	return ""
}

// Render writes the report in format f. color applies to the table only.
func Render(w io.Writer, r *Report, f Format, color bool) error {
	var err error
	switch f {
	case FormatJSON:
		return r.WriteJSON(w)
	case FormatTable:
		_, err = io.WriteString(w, Table(r, color))
	case FormatMarkdown:
		_, err = io.WriteString(w, Markdown(r))
	case FormatHTML:
		bw := bufio.NewWriterSize(w, 64<<10)
		if err = HTML(bw, r); err == nil {
			err = bw.Flush()
		}
	default:
		return fmt.Errorf("inventory: unknown format %s", quote(string(f)))
	}
	if err != nil {
		return fmt.Errorf("inventory: write %s: %w", f, err)
	}
	return nil
}

// mark is a lane's status at a glance: a required lane that does not match fails the run.
func mark(l LaneResult) string {
	switch {
	case l.Status == identity.StatusMatch:
		return "✅"
	case l.Status == identity.StatusUnchecked && !l.RequireIdentity:
		return "➖"
	case l.RequireIdentity:
		return "❌"
	default:
		return "⚠️"
	}
}

// ordered returns the lanes problems first (statusOrder), sorted by key within a status.
func ordered(r *Report) []LaneResult {
	out := make([]LaneResult, 0, len(r.Lanes))
	for _, s := range statusOrder {
		for _, l := range r.Lanes {
			if l.Status == s {
				out = append(out, l)
			}
		}
	}
	return out
}

// headline says in one line how the fleet stands.
func headline(r *Report) string {
	total := len(r.Lanes)
	need := total - r.Counts.Match - r.Counts.Unchecked
	switch {
	case r.RequiredNotMatching > 0:
		return fmt.Sprintf("%d required %s not matching, %d of %d %s need attention", r.RequiredNotMatching, plural(r.RequiredNotMatching, "lane", "lanes"), need, total, plural(total, "lane", "lanes"))
	case need > 0:
		return fmt.Sprintf("%d of %d %s need attention", need, total, plural(total, "lane", "lanes"))
	case total == 0:
		return "no lanes"
	case r.Counts.Unchecked > 0:
		return fmt.Sprintf("%d of %d %s match, %d unchecked", r.Counts.Match, total, plural(total, "lane", "lanes"), r.Counts.Unchecked)
	default:
		return fmt.Sprintf("all %d %s match", total, plural(total, "lane", "lanes"))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// brief is a lane's result in a few words: the mismatched fields with both values, or the detail.
func brief(l LaneResult, valueLen int) string {
	if l.Status == identity.StatusMismatch && len(l.Mismatched) > 0 {
		parts := make([]string, 0, len(l.Mismatched))
		for _, m := range l.Mismatched {
			p := m
			for _, f := range l.Fields {
				if f.Field == m {
					p = fmt.Sprintf("%s: expected %s, observed %s", m, logtext.Truncate(f.Expected, valueLen), logtext.Truncate(orDash(f.Observed), valueLen))
					break
				}
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, "; ")
	}
	return l.Detail
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// scope describes which part of the input the report covers.
func scope(r *Report) string {
	switch {
	case r.MergedShards > 0:
		return fmt.Sprintf("merged from %d shards", r.MergedShards)
	case r.Shard.count() > 1:
		return fmt.Sprintf("shard %s: %d of %d lanes", r.Shard, len(r.Lanes), r.LanesTotal)
	}
	return ""
}
