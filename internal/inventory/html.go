package inventory

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// The page is written by hand rather than by html/template: any reachable template package
// makes the linker keep every exported method of every reachable type (text/template calls
// reflect's MethodByName), about 2 MB of the shipped binary. The page has two contexts only,
// HTML text and double-quoted attribute values, and every value goes through escapeHTML; the
// style and the script are the fixed embedded files and no value is ever written into them.
var (
	//go:embed page/page.css
	pageCSS string
	//go:embed page/page.js
	pageJS string

	// pageCSP allows the page's own style and script, by hash, and nothing else: no request
	// leaves the page, and a script or style that escaping somehow let through would not run.
	pageCSP = "default-src 'none'; style-src '" + cspHash(pageCSS) + "'; script-src '" + cspHash(pageJS) + "'; base-uri 'none'; form-action 'none'"
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// HTML renders one self-contained page (inline CSS and script, no external asset, a Content
// Security Policy that allows nothing else) showing the fleet at a glance: the counts, then the
// lanes grouped by status, problems first, each a <details> element that opens to its field diff
// (expected against observed), notes and the observed identity as reported. The first lane of the
// first problem group starts open. Every value is escaped for the HTML text or quoted attribute it
// lands in (escapeHTML); tenant-reported text is also made one line. The page is written as it is
// built, so a fleet of any size is rendered without holding the whole page.
func HTML(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	p := pageWriter{bw}
	total := len(r.Lanes)
	verdict := "ok"
	switch {
	case r.RequiredNotMatching > 0:
		verdict = "fail"
	case total-r.Counts.Match-r.Counts.Unchecked > 0:
		verdict = "warn"
	}
	head := headline(r)
	p.printf(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="%s">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Runtime identity inventory: %s</title>
<style>%s</style>
</head>
<body data-total="%d" data-required-not-matching="%d">
<header>
<h1 class="v-%s">Runtime identity inventory: %s</h1>
<div class="meta">generated %s · source %s`, pageCSP, head, markup(pageCSS), total, r.RequiredNotMatching, verdict, head, r.GeneratedAt, r.Source)
	if s := scope(r); s != "" {
		p.printf(" · %s", s)
	}
	p.printf(` · lanes digest %s</div>
</header>
<main>
<div class="tiles">`, shortDigest(r.LanesDigest))
	for _, s := range statusOrder {
		n, zero := r.Counts.Of(s), markup("")
		if n == 0 {
			zero = " zero"
		}
		p.printf(`
<div class="tile t-%s%s" data-status="%s"><span class="n">%d</span><span class="s">%s</span></div>`, s, zero, s, n, s)
	}
	p.printf(`
<div class="tile t-total" data-status="total"><span class="n">%d</span><span class="s">lanes</span></div>
</div>`, total)
	switch {
	case r.RequiredNotMatching != 0:
		p.printf(`
<p class="banner" id="verdict">%d required %s not match: the run fails.</p>`, r.RequiredNotMatching, plural(r.RequiredNotMatching, "lane does", "lanes do"))
	case total != 0:
		p.printf(`
<p class="banner ok" id="verdict">Every required lane matches.</p>`)
	}
	p.printf(`
<div class="toolbar">
<input id="filter" type="search" placeholder="Filter lanes: name, URL, field, value…" aria-label="Filter lanes">
<button type="button" id="expand">Expand all</button>
<button type="button" id="collapse">Collapse all</button>
<span class="count"><span id="shown">%d</span> of %d shown</span>
</div>`, total, total)
	opened := false
	for _, s := range statusOrder {
		n := 0
		for _, l := range r.Lanes {
			if l.Status == s {
				n++
			}
		}
		if n == 0 {
			continue
		}
		p.printf(`
<section class="group" data-status="%s">
<h2><span class="badge s-%s">%s</span> %d %s</h2>`, s, s, s, n, plural(n, "lane", "lanes"))
		for _, l := range r.Lanes {
			if l.Status != s {
				continue
			}
			open := !opened && problem(s)
			opened = opened || open
			p.lane(l, open)
		}
		p.printf(`
</section>`)
	}
	p.printf(`
</main>
<script>%s</script>
</body>
</html>
`, markup(pageJS))
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("inventory: html: %w", err)
	}
	return nil
}

// lane writes one lane's <details> element.
func (p pageWriter) lane(l LaneResult, open bool) {
	openAttr, required := markup(""), markup("")
	if open {
		openAttr = " open"
	}
	if l.RequireIdentity {
		required = `<span class="req">required</span>`
	}
	var url any = markup(`<span class="empty">not probed</span>`)
	if l.URL != "" {
		url = l.URL
	}
	surface := l.Surface
	if surface == "" {
		surface = "—"
	}
	if l.HTTPStatus != 0 {
		surface += " · HTTP " + strconv.Itoa(l.HTTPStatus)
	}
	var from any = markup(`<span class="empty">nothing expected</span>`)
	if l.ExpectedFrom != "" {
		from = l.ExpectedFrom
	}
	record := ""
	if l.DeploymentRecordID != "" {
		record = " · record " + l.DeploymentRecordID
	}
	p.printf(`
<details class="lane" data-status="%s" data-key="%s"%s>
<summary><span class="badge s-%s">%s</span><span class="key">%s</span>%s<span class="brief">%s</span><span class="ms">%d ms</span></summary>
<div class="body">
<dl>
<dt>detail</dt><dd class="detail">%s</dd>
<dt>url</dt><dd>%s</dd>
<dt>surface</dt><dd>%s · %d %s</dd>
<dt>trust state</dt><dd>%s</dd>
<dt>expected from</dt><dd>%s%s</dd>
</dl>`,
		l.Status, l.Key(), openAttr,
		l.Status, l.Status, l.Key(), required, logtext.OneLine(brief(l, 60)), l.LatencyMS,
		logtext.OneLine(l.Detail),
		url,
		surface, l.Attempts, plural(l.Attempts, "round", "rounds"),
		l.TrustState,
		from, record)
	if len(l.Fields) > 0 {
		p.printf(`
<table class="diff">
<thead><tr><th>field</th><th>expected</th><th>observed</th><th>result</th></tr></thead>
<tbody>`)
		for _, f := range l.Fields {
			field := logtext.OneLine(f.Field)
			p.printf(`
<tr class="r-%s" data-field="%s"><td>%s</td><td class="v">%s</td><td class="v">%s</td><td class="res">%s</td></tr>`,
				strings.ReplaceAll(f.Result, " ", "-"), field, field, logtext.OneLine(f.Expected), logtext.OneLine(f.Observed), f.Result)
		}
		p.printf(`
</tbody>
</table>`)
	} else {
		none := markup("")
		if l.Expected == nil {
			none = " and none was expected"
		}
		p.printf(`
<p class="empty">No field to compare: the tenant reported no identity%s.</p>`, none)
	}
	if len(l.Notes) > 0 {
		p.printf(`
<ul class="notes">`)
		for _, n := range l.Notes {
			p.printf(`
<li>%s</li>`, logtext.OneLine(n))
		}
		p.printf(`
</ul>`)
	}
	if o := prettyObserved(l.Observed); o != "" {
		p.printf(`
<details class="raw"><summary>observed_runtime_identity, as the tenant reported it</summary>
<pre class="observed">%s</pre>
</details>`, o)
	}
	p.printf(`
</div>
</details>`)
}

// pageWriter writes the page. Its bufio.Writer keeps the first write error for Flush to return.
type pageWriter struct{ w *bufio.Writer }

// markup is the page's own fixed text: markup, the embedded style and script. printf writes it as
// it is.
type markup string

// printf writes format, a fixed part of the page, with its arguments escaped for HTML text and
// double-quoted attribute values: every argument but markup and integers goes through
// escapeHTML, so a value of a type printf does not know is escaped rather than trusted.
func (p pageWriter) printf(format string, args ...any) {
	for i, a := range args {
		switch v := a.(type) {
		case markup:
			args[i] = string(v)
		case int, int64:
		case string:
			args[i] = escapeHTML(v)
		case identity.Status:
			args[i] = escapeHTML(string(v))
		default:
			args[i] = escapeHTML(fmt.Sprint(v))
		}
	}
	fmt.Fprintf(p.w, format, args...)
}

// escapeHTML escapes s for HTML text (including <title> and <pre>) and double-quoted attribute
// values. It writes the five characters html.EscapeString does with the same references, and
// '+' as &#43;, as html/template did (a guard against UTF-7 sniffing), so the page reads as it
// did. What HTML's input stream does not allow, raw or as a reference, becomes U+FFFD: NUL,
// control characters other than ASCII whitespace, noncharacters and invalid UTF-8 (WHATWG HTML,
// 13.2.3.5 "Preprocessing the input stream"). U+2028 and U+2029 are inert in HTML; they are
// written as references so the page's bytes hold no line terminator that a script or a log
// would take for one.
func escapeHTML(s string) string {
	var b strings.Builder
	done := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var repl string
		switch {
		case r == '<':
			repl = "&lt;"
		case r == '>':
			repl = "&gt;"
		case r == '&':
			repl = "&amp;"
		case r == '"':
			repl = "&#34;"
		case r == '\'':
			repl = "&#39;"
		case r == '+':
			repl = "&#43;"
		case r == '\u2028':
			repl = "&#8232;"
		case r == '\u2029':
			repl = "&#8233;"
		case r == '\t' || r == '\n' || r == '\f' || r == '\r':
		case r == utf8.RuneError && size == 1, unicode.IsControl(r), noncharacter(r):
			repl = "\uFFFD"
		}
		if repl != "" {
			if b.Len() == 0 {
				b.Grow(len(s) + 16)
			}
			b.WriteString(s[done:i])
			b.WriteString(repl)
			done = i + size
		}
		i += size
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// noncharacter reports whether r is one of Unicode's 66 noncharacters.
func noncharacter(r rune) bool {
	return r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE
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
