package inventory

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

var (
	//go:embed page/page.html.tmpl
	pageTemplate string
	//go:embed page/page.css
	pageCSS string
	//go:embed page/page.js
	pageJS string

	page = template.Must(template.New("page").Parse(pageTemplate))
	// pageCSP allows the page's own style and script, by hash, and nothing else: no request
	// leaves the page, and a script or style that escaping somehow let through would not run.
	pageCSP = "default-src 'none'; style-src '" + cspHash(pageCSS) + "'; script-src '" + cspHash(pageJS) + "'; base-uri 'none'; form-action 'none'"
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

type htmlPage struct {
	CSP                 string
	CSS                 template.CSS
	JS                  template.JS
	Verdict, Headline   string
	GeneratedAt, Source string
	Scope, Digest       string
	Total               int
	RequiredNotMatching int
	Counts              []htmlCount
	Groups              []htmlGroup
}

type htmlCount struct {
	Status identity.Status
	N      int
}

type htmlGroup struct {
	Status identity.Status
	Lanes  []htmlLane
}

type htmlLane struct {
	LaneResult
	Brief        string
	Open         bool
	Diff         []htmlField
	ObservedText string
}

type htmlField struct {
	FieldDiff
	Class string
}

// HTML renders one self-contained page (inline CSS and script, no external asset, a Content
// Security Policy that allows nothing else) showing the fleet at a glance: the counts, then the
// lanes grouped by status, problems first, each a <details> element that opens to its field diff
// (expected against observed), notes and the observed identity as reported. The first lane of the
// first problem group starts open. html/template escapes every value; tenant-reported text is
// also made one line.
func HTML(w io.Writer, r *Report) error {
	p := htmlPage{
		CSP:                 pageCSP,
		CSS:                 template.CSS(pageCSS),
		JS:                  template.JS(pageJS),
		Verdict:             "ok",
		Headline:            headline(r),
		GeneratedAt:         r.GeneratedAt,
		Source:              r.Source,
		Scope:               scope(r),
		Digest:              shortDigest(r.LanesDigest),
		Total:               len(r.Lanes),
		RequiredNotMatching: r.RequiredNotMatching,
	}
	switch {
	case r.RequiredNotMatching > 0:
		p.Verdict = "fail"
	case len(r.Lanes)-r.Counts.Match-r.Counts.Unchecked > 0:
		p.Verdict = "warn"
	}
	for _, s := range statusOrder {
		p.Counts = append(p.Counts, htmlCount{s, r.Counts.Of(s)})
	}
	opened := false
	for _, s := range statusOrder {
		g := htmlGroup{Status: s}
		for _, l := range r.Lanes {
			if l.Status != s {
				continue
			}
			hl := htmlLane{LaneResult: l, Brief: logtext.OneLine(brief(l, 60))}
			hl.Detail = logtext.OneLine(l.Detail)
			hl.Notes = make([]string, len(l.Notes))
			for i, n := range l.Notes {
				hl.Notes[i] = logtext.OneLine(n)
			}
			if !opened && problem(s) {
				hl.Open, opened = true, true
			}
			for _, f := range l.Fields {
				hl.Diff = append(hl.Diff, htmlField{FieldDiff: FieldDiff{
					Field: logtext.OneLine(f.Field), Expected: logtext.OneLine(f.Expected), Observed: logtext.OneLine(f.Observed), Result: f.Result,
				}, Class: strings.ReplaceAll(f.Result, " ", "-")})
			}
			hl.ObservedText = prettyObserved(l.Observed)
			g.Lanes = append(g.Lanes, hl)
		}
		if len(g.Lanes) > 0 {
			p.Groups = append(p.Groups, g)
		}
	}
	if err := page.Execute(w, p); err != nil {
		return fmt.Errorf("inventory: html: %w", err)
	}
	return nil
}

// prettyObserved indents the observed identity for display.
func prettyObserved(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// shortDigest shows the first 12 hex digits of a digest: enough to tell inputs apart on a page.
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12] + "…"
	}
	return d
}
