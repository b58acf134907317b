package inventory

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// ANSI colours of the table, by status.
var statusColor = map[identity.Status]string{
	identity.StatusMatch:        "\x1b[32m", // green
	identity.StatusMismatch:     "\x1b[31m", // red
	identity.StatusMalformed:    "\x1b[35m", // magenta
	identity.StatusMissing:      "\x1b[33m", // yellow
	identity.StatusUnverifiable: "\x1b[33m", // yellow
	identity.StatusUnchecked:    "\x1b[2m",  // dim
}

const (
	colorReset   = "\x1b[0m"
	laneColWidth = 60
	tableDetail  = 160
)

// Table renders one line a lane, in key order, under a header, with a closing line of counts.
// Every value is made a plain line (control characters, escape sequences included, are removed),
// so a tenant's answer cannot move the cursor or colour the terminal. color adds ANSI colours to
// the status column.
func Table(r *Report, color bool) string {
	laneW := len("LANE")
	for _, l := range r.Lanes {
		laneW = max(laneW, min(utf8.RuneCountInString(l.Key()), laneColWidth))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-12s  %-*s  %-3s  %-10s  %6s  %s\n", "STATUS", laneW, "LANE", "REQ", "SURFACE", "MS", "DETAIL")
	for _, l := range r.Lanes {
		status := fmt.Sprintf("%-12s", l.Status)
		if color {
			status = statusColor[l.Status] + status + colorReset
		}
		req := ""
		if l.RequireIdentity {
			req = "yes"
		}
		fmt.Fprintf(&b, "%s  %-*s  %-3s  %-10s  %6d  %s\n", status, laneW, logtext.Truncate(l.Key(), laneColWidth), req,
			logtext.OneLine(l.Surface), l.LatencyMS, logtext.Truncate(logtext.OneLine(brief(l, 40)), tableDetail))
	}
	b.WriteString("\n")
	b.WriteString(countsLine(r))
	if s := scope(r); s != "" {
		b.WriteString(" (" + s + ")")
	}
	b.WriteString("\n")
	return b.String()
}

// countsLine is "40 lanes: 36 match, 2 mismatch, …; 1 required not matching".
func countsLine(r *Report) string {
	parts := []string{}
	for _, s := range statusOrder {
		if n := r.Counts.Of(s); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	line := fmt.Sprintf("%d %s", len(r.Lanes), plural(len(r.Lanes), "lane", "lanes"))
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	if r.RequiredNotMatching > 0 {
		line += fmt.Sprintf("; %d required not matching", r.RequiredNotMatching)
	}
	return line
}

// Progress draws a progress bar on a terminal line: call it with each lane done. It redraws at
// most every 1/100 of the lanes, and always for the last.
type Progress struct {
	last int
}

// Line returns the bar for done of total lanes, or "" when nothing needs redrawing. The bar
// starts with a carriage return; once done == total it is drawn and then cleared.
func (p *Progress) Line(done, total int) string {
	if total <= 0 || (done < total && done-p.last < max(total/100, 1)) {
		return ""
	}
	p.last = done
	const width = 30
	filled := done * width / total
	s := fmt.Sprintf("\r[%s%s] %d/%d lanes", strings.Repeat("#", filled), strings.Repeat("-", width-filled), done, total)
	if done == total {
		s += "\r\x1b[K"
	}
	return s
}
