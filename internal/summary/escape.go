package summary

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escaping, for every value that reaches the Markdown (see escapeMarkdown):
//
//   - Values are shown as plain text, never inside code spans: a code span cannot hold entities or
//     backslash escapes, so a backtick or a pipe in a value would end it or split a table cell.
//   - `\` `` ` `` `*` `_` `[` `]` `|` `~` `$` get a backslash, so no emphasis, link, table split,
//     strike-through or math starts inside a value. cmark-gfm splits table rows only on a `|`
//     without a backslash before it, and unescapes `\|` in the cell, so the pipe shows.
//   - `<` `>` `&` become `&lt;` `&gt;` `&amp;`: no HTML tag, autolink or entity can form.
//   - A leading `#` `-` `+` `=` and the `.`/`)` after leading digits get a backslash, and leading
//     spaces become `&#32;`, so a value at the start of a list item cannot become a heading, list,
//     setext underline or indented code block.
//   - Line breaks (LF, CR, U+0085, U+2028, U+2029) become the visible ␤; other C0 controls and DEL
//     become their Control Pictures (U+2400 block); other invisible format characters (bidi
//     overrides, zero-width ones) and C1 controls become ⟨U+XXXX⟩; invalid UTF-8 becomes U+FFFD.
//     A value therefore never breaks a line and never hides text.
//
// Bare http(s) URLs in a value may still be autolinked by GitHub; that is not an injection.

// Cut limits, in runes of the raw value.
const (
	cellRunes   = 200  // one table cell
	lineRunes   = 500  // one note, warning or detail line
	headRunes   = 100  // a value inside the heading
	rawRunes    = 1000 // the observed identity as reported
	maxListed   = 50   // list items per section
	maxAnswers  = 20   // answers listed in the summary
	cutEllipsis = "…"
)

// cut returns s when it has at most n runes; otherwise its first n runes and a marker giving the
// full size in bytes. It never splits a rune.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	return s[:i] + fmt.Sprintf("%s (cut, %d bytes)", cutEllipsis, len(s))
}

// escapeMarkdown makes s inert Markdown text that stays on one line and inside one table cell.
func escapeMarkdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	leading := true // still at the start of the value
	digits := false // the value so far is all digits
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(unicode.ReplacementChar)
			leading, digits = false, false
			continue
		}
		switch {
		case r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029:
			b.WriteRune('␤')
		case r < 0x20:
			b.WriteRune(0x2400 + r)
		case r == 0x7f:
			b.WriteRune('␡')
		case r >= 0x80 && r < 0xa0, unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, "⟨U+%04X⟩", r)
		case leading && r == ' ':
			// Leading spaces as entities: block structure is parsed before entities are decoded,
			// so they cannot indent a value into a code block or a nested block.
			b.WriteString("&#32;")
			continue
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case strings.ContainsRune("\\`*_[]|~$", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case leading && strings.ContainsRune("#-+=", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case digits && (r == '.' || r == ')'):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		digits = (leading || digits) && r >= '0' && r <= '9'
		leading = false
	}
	return b.String()
}

// text redacts, cuts to n runes and escapes one untrusted value. Empty stays empty.
func (r *Report) text(s string, n int) string {
	return escapeMarkdown(cut(r.redact(s), n))
}

// cell renders one table cell: the value, or an em dash when it is empty.
func (r *Report) cell(s string) string {
	if s == "" {
		return "—"
	}
	return r.text(s, cellRunes)
}

// link renders a Markdown link to u labelled label (already safe Markdown), or the URL as escaped
// text when it is not a plain http(s) URL that can sit inside a link destination.
func (r *Report) link(label, u string) string {
	u = r.redact(u)
	if u == "" {
		return ""
	}
	if safeURL(u) {
		return "[" + label + "](<" + u + ">)"
	}
	return label + " " + r.text(u, cellRunes)
}

// safeURL reports whether u is an absolute http(s) URL with nothing that could end a
// <...> link destination or a line.
func safeURL(u string) bool {
	if len(u) > 2048 {
		return false
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '\\' || c == '`' || c == '|' {
			return false
		}
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != ""
}
