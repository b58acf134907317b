package dokploy

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// Dokploy stores a service's env as one dotenv text and parses it with the npm
// package dotenv 16.4.5 (motdotla/dotenv lib/main.js). That parser runs one
// global, multiline JavaScript regular expression over the whole text:
//
//	/(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/mg
//
// envLineRE is the same expression in RE2 syntax. Go's regexp picks the match a
// backtracking engine would pick (leftmost-first), so only JavaScript's
// character classes need spelling out: \s also covers U+00A0, U+FEFF, U+2028,
// U+2029 and the other Unicode spaces; "." and the multiline ^ and $ also treat
// U+2028 and U+2029 as line ends. The expression is anchored; envScan tries it
// at each line start the way RegExp.prototype.exec does. The trailing $ is a
// lookahead in JavaScript, so here it consumes the line end in group 3 and
// envScan ends the match before it.
const (
	envJSSpace = `[\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}]`
	envJSDot   = `[^\n\r\x{2028}\x{2029}]`
)

var envLineRE = regexp.MustCompile(`^` + envJSSpace + `*(?:export` + envJSSpace + `+)?([\w.-]+)` +
	`(?:` + envJSSpace + `*=` + envJSSpace + `*?|:` + envJSSpace + `+?)` +
	`(` + envJSSpace + `*'(?:\\'|[^'])*'` +
	`|` + envJSSpace + `*"(?:\\"|[^"])*"` +
	`|` + envJSSpace + "*`(?:\\\\`|[^`])*`" +
	`|[^#\r\n]+)?` +
	envJSSpace + `*(?:#` + envJSDot + `*)?` +
	`(?:\z|([\n\r\x{2028}\x{2029}]))`)

// envDef is one match of the dotenv expression: a key definition. Offsets are
// byte offsets into the normalized text (CR LF and lone CR turned into LF).
type envDef struct {
	start, end       int // the whole match; end excludes the line end $ looked at
	tok              int // first byte of "export" or of the key
	keyStart, keyEnd int
	sepEnd           int // just after the '=' or ':'
	valStart, valEnd int // the value group; valStart < 0 when it did not take part
	key, value       string
}

// contentEnd is where the definition's own bytes end: after the value, or
// after the separator character when there is no value. Whatever follows on
// that line is blanks or a comment.
func (d envDef) contentEnd() int {
	if d.valStart >= 0 {
		return d.valEnd
	}
	return d.sepEnd
}

// envDoc is one env text, normalized the way dotenv does it, with its key
// definitions.
type envDoc struct {
	text string
	norm string
	orig []int // orig[i] is the offset in text of norm byte i; nil when text == norm
	defs []envDef
}

func envAnalyze(text string) *envDoc {
	d := &envDoc{text: text, norm: text}
	if strings.IndexByte(text, '\r') >= 0 {
		var b strings.Builder
		b.Grow(len(text))
		d.orig = make([]int, 0, len(text)+1)
		for i := 0; i < len(text); i++ {
			d.orig = append(d.orig, i)
			if text[i] == '\r' {
				b.WriteByte('\n')
				if i+1 < len(text) && text[i+1] == '\n' {
					i++
				}
				continue
			}
			b.WriteByte(text[i])
		}
		d.orig = append(d.orig, len(text))
		d.norm = b.String()
	}
	d.defs = envScan(d.norm)
	return d
}

// o maps a boundary in the normalized text to the same boundary in the text.
func (d *envDoc) o(i int) int {
	if d.orig == nil {
		return i
	}
	return d.orig[i]
}

// vars is dotenv's parse result: the last definition of a key wins.
func (d *envDoc) vars() map[string]string {
	m := make(map[string]string, len(d.defs))
	for _, def := range d.defs {
		// obj["__proto__"] = "…" hits Object.prototype's setter and stores nothing.
		if def.key == "__proto__" {
			continue
		}
		m[def.key] = def.value
	}
	return m
}

// envScan runs the dotenv expression over normalized text the way
// `while ((match = LINE.exec(lines)) != null)` does.
func envScan(norm string) []envDef {
	var defs []envDef
	last := 0
	for {
		var loc []int
		p := envNextLineStart(norm, last)
		for p >= 0 {
			if loc = envLineRE.FindStringSubmatchIndex(norm[p:]); loc != nil {
				break
			}
			p = envNextLineStart(norm, envSkipFailed(norm, p)+1)
		}
		if loc == nil {
			return defs
		}
		def := envDef{
			start:    p,
			end:      p + loc[1],
			keyStart: p + loc[2],
			keyEnd:   p + loc[3],
			valStart: -1,
			valEnd:   -1,
		}
		if loc[6] >= 0 {
			def.end = p + loc[6]
		}
		def.tok = p
		for def.tok < def.keyStart && envIsSpaceAt(norm, def.tok) >= 0 {
			def.tok += envIsSpaceAt(norm, def.tok)
		}
		def.sepEnd = def.keyEnd + strings.IndexAny(norm[def.keyEnd:], "=:") + 1
		raw := ""
		if loc[4] >= 0 {
			def.valStart, def.valEnd = p+loc[4], p+loc[5]
			raw = norm[def.valStart:def.valEnd]
		}
		def.key = norm[def.keyStart:def.keyEnd]
		def.value = envValue(raw)
		defs = append(defs, def)
		last = def.end
	}
}

// envSkipFailed returns how far an attempt that failed at line start p rules
// out later line starts. The attempt's leading \s* can only end at the first
// non-blank w, so an attempt at any line start up to w continues exactly as
// the failed one did and fails too. Skipping them keeps a long run of blank
// lines linear, not quadratic. (Nothing past w is ruled out: a later attempt
// may take a word at w as its "export" prefix where this one took it as the
// key, or the other way round.)
func envSkipFailed(norm string, p int) int {
	return envSkipSpace(norm, p)
}

// envSkipSpace returns the first offset at or after i that is not a
// JavaScript space.
func envSkipSpace(s string, i int) int {
	for i < len(s) {
		n := envIsSpaceAt(s, i)
		if n < 0 {
			break
		}
		i += n
	}
	return i
}

// envValue turns a raw value group into the value, as parse() does.
func envValue(raw string) string {
	v := strings.TrimFunc(raw, envIsJSSpace)
	doubleQuoted := strings.HasPrefix(v, `"`)
	v = envStripQuotes(v)
	if doubleQuoted {
		v = strings.ReplaceAll(v, `\n`, "\n")
		v = strings.ReplaceAll(v, `\r`, "\r")
	}
	return v
}

// envStripQuotes is value.replace(/^(['"`])([\s\S]*)\1$/mg, '$2'): a multiline,
// global replace, so it can also unwrap quotes on a later line of the value.
func envStripQuotes(v string) string {
	// The greedy [\s\S]* makes each match end at the last quote of its kind
	// that ends a line, so a match for a quote can only happen once.
	var closing [3]int
	for k, q := range []byte{'\'', '"', '`'} {
		closing[k] = -1
		for j := len(v) - 1; j >= 0; j-- {
			if v[j] == q && envLineEnd(v, j+1) {
				closing[k] = j
				break
			}
		}
	}
	var b strings.Builder
	done := 0
	for i := 0; i < len(v); i++ {
		k := strings.IndexByte("'\"`", v[i])
		if k < 0 || closing[k] <= i || !envLineStart(v, i) {
			continue
		}
		j := closing[k]
		b.WriteString(v[done:i])
		b.WriteString(v[i+1 : j])
		done = j + 1
		i = j
	}
	if done == 0 {
		return v
	}
	b.WriteString(v[done:])
	return b.String()
}

// envIsJSSpace reports whether r is in JavaScript's \s (and what trim() removes).
func envIsJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// envIsSpaceAt returns the byte length of the JavaScript space at s[i], or -1.
func envIsSpaceAt(s string, i int) int {
	r, n := utf8.DecodeRuneInString(s[i:])
	if envIsJSSpace(r) {
		return n
	}
	return -1
}

// envLineStart reports whether a multiline ^ matches at s[i].
func envLineStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	switch s[i-1] {
	case '\n', '\r':
		return true
	case 0xa8, 0xa9:
		return i >= 3 && s[i-3] == 0xe2 && s[i-2] == 0x80
	}
	return false
}

// envTermLen returns the byte length of the JavaScript line terminator at
// s[i], or 0.
func envTermLen(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	switch s[i] {
	case '\n', '\r':
		return 1
	case 0xe2:
		if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9) {
			return 3
		}
	}
	return 0
}

// envLineEnd reports whether a multiline $ matches at s[i].
func envLineEnd(s string, i int) bool {
	return i == len(s) || envTermLen(s, i) > 0
}

// envNextLineStart returns the first line start at or after i, or -1.
func envNextLineStart(s string, i int) int {
	for ; i <= len(s); i++ {
		if envLineStart(s, i) {
			return i
		}
	}
	return -1
}

// envLineOf returns the start of the line holding s[i].
func envLineOf(s string, i int) int {
	for i > 0 && !envLineStart(s, i) {
		i--
	}
	return i
}

// envLineAfter returns the offset just past the first line end at or after i,
// or len(s).
func envLineAfter(s string, i int) int {
	for ; i < len(s); i++ {
		if n := envTermLen(s, i); n > 0 {
			return i + n
		}
	}
	return len(s)
}

// ParseEnv parses env text exactly as dotenv 16.4.5's parse() does (the version
// Dokploy uses): CR LF and lone CR become LF; a key matches [A-Za-z0-9_.-]+
// after an optional "export "; the separator is "=" or ":" plus a blank; an
// unquoted value ends at the first '#' and is trimmed; a value quoted with ',
// " or ` runs to the matching quote, across lines; only double-quoted values
// expand \n and \r; lines that do not parse are skipped; the last definition
// of a key wins.
func ParseEnv(text string) map[string]string {
	return envAnalyze(text).vars()
}

// patchMode says how PatchEnv reached its result; tests use it.
type patchMode int

const (
	patchNoop       patchMode = iota // nothing to change
	patchExact                       // edited in place, our keys exactly once
	patchAdjusted                    // an edit had to be varied or skipped; the parse still holds
	patchImpossible                  // no patch preserves the parse; text returned unchanged
)

// patchEdit replaces text[start:end] with repl (offsets into the original text).
type patchEdit struct {
	start, end int
	repl       string
}

// PatchEnv sets each var in text, editing only the lines of those keys and
// keeping every other byte: comments, blank lines, line endings, order,
// quoting, "export" prefixes, other keys (LAUNCHPLANE_* ones included) and
// lines inside another key's multi-line quoted value.
//
// Each key ends up defined once: its first definition is rewritten in place as
// KEY=value (an "export " prefix and a trailing comment stay), later
// definitions are removed whole, and missing keys are appended in order with
// the text's line ending. A definition whose value already matches is left
// byte for byte. Values are written unquoted, so they must be safe (printable
// ASCII without blanks, quotes, '#', '\' or '$'), as identity values are, and
// keys must match [A-Za-z0-9_.-]+.
//
// The result always satisfies ParseEnv(patched) == ParseEnv(text) overlaid
// with vars. A few pathological texts (an earlier unterminated quote that
// would run into a rewritten line, a line "KEY:" that would swallow the next
// line) make PatchEnv vary an edit: it keeps a duplicate it would remove,
// quotes a value, or adds a blank line. If no variation preserves the parse,
// it returns text unchanged and changed=false; callers confirm the result with
// ParseEnv. changed is false exactly when patched == text.
func PatchEnv(text string, vars []identity.EnvVar) (patched string, changed bool) {
	patched, _ = patchEnv(text, vars)
	return patched, patched != text
}

func patchEnv(text string, vars []identity.EnvVar) (string, patchMode) {
	vars = patchDedupe(vars)
	if len(vars) == 0 {
		return text, patchNoop
	}
	doc := envAnalyze(text)
	want := doc.vars()
	wantVal := make(map[string]string, len(vars))
	for _, v := range vars {
		want[v.Key] = v.Value
		wantVal[v.Key] = v.Value
	}
	eol := patchEOL(text)

	// The plan: rewrite each key's first definition, remove the others,
	// append the missing keys.
	first := map[string]int{}
	var edits []patchEdit
	for i, def := range doc.defs {
		v, ours := wantVal[def.key]
		if !ours {
			continue
		}
		if _, seen := first[def.key]; !seen {
			first[def.key] = i
			if def.value != v {
				edits = append(edits, patchRewrite(doc, def, v, 0))
			}
			continue
		}
		edits = append(edits, patchRemove(doc, def))
	}
	var missing []identity.EnvVar
	for _, v := range vars {
		if _, ok := first[v.Key]; !ok {
			missing = append(missing, v)
		}
	}
	if len(edits) == 0 && len(missing) == 0 {
		return text, patchNoop
	}
	edited := patchApply(text, edits)
	fresh := make(map[string]bool, len(missing))
	for _, v := range missing {
		fresh[v.Key] = true
	}
	for _, out := range patchPlacements(edited, eol, missing) {
		if patchHolds(out, want, wantVal, fresh) {
			return out, patchExact
		}
	}
	if out, ok := patchCarefully(doc, vars, wantVal, want, eol); ok {
		return out, patchAdjusted
	}
	return text, patchImpossible
}

// patchCarefully is the slow path for texts where the plain plan changes how
// something else parses. It walks our definitions in order and, for each,
// keeps the first variant that leaves every other definition as it was: for a
// duplicate, removal; then rewriting it unquoted, then quoted with each quote
// character; else it leaves the definition alone. Keys whose value is still
// wrong are then added with patchPlacements; as a last resort the text is left
// whole and all vars are added to it.
func patchCarefully(doc *envDoc, vars []identity.EnvVar, wantVal, want map[string]string, eol string) (string, bool) {
	type item struct {
		key, value string
		drop       bool
	}
	expected := make([]item, len(doc.defs))
	for i, def := range doc.defs {
		expected[i] = item{key: def.key, value: def.value}
	}
	sameSeq := func(text string) bool {
		defs := envAnalyze(text).defs
		n := 0
		for _, it := range expected {
			if it.drop {
				continue
			}
			if n >= len(defs) || defs[n].key != it.key || defs[n].value != it.value {
				return false
			}
			n++
		}
		return n == len(defs)
	}

	var edits []patchEdit
	seen := map[string]bool{}
	defs := doc.defs
	if len(defs) > patchCarefulMax {
		// Each try parses the whole text; past this many definitions only
		// the untouched-text placements below are tried.
		defs = nil
	}
	for i, def := range defs {
		v, ours := wantVal[def.key]
		if !ours {
			continue
		}
		firstDef := !seen[def.key]
		seen[def.key] = true
		if firstDef && def.value == v {
			continue
		}
		type option struct {
			edit patchEdit
			it   item
		}
		var opts []option
		if !firstDef {
			opts = append(opts, option{patchRemove(doc, def), item{drop: true}})
		}
		if def.value != v {
			for q := 0; q < 4; q++ {
				opts = append(opts, option{patchRewrite(doc, def, v, q), item{key: def.key, value: v}})
			}
		}
		for _, opt := range opts {
			saved := expected[i]
			expected[i] = opt.it
			try := append(slices.Clone(edits), opt.edit)
			if sameSeq(patchApply(doc.text, try)) {
				edits = try
				break
			}
			expected[i] = saved
		}
	}
	edited := patchApply(doc.text, edits)
	got := ParseEnv(edited)
	var late []identity.EnvVar
	for _, v := range vars {
		if val, ok := got[v.Key]; !ok || val != v.Value {
			late = append(late, v)
		}
	}
	candidates := append(patchPlacements(edited, eol, late), patchPlacements(doc.text, eol, vars)...)
	for _, once := range []map[string]bool{{}, nil} {
		for _, out := range candidates {
			if patchHolds(out, want, wantVal, once) {
				return out, true
			}
		}
	}
	return "", false
}

// patchPlacements returns text with vars added, in order of preference: at
// the end; at the end after a blank line (a last line "KEY:" would take the
// next line as its value); before the last line when text does not end with a
// line end (a last line "KEY:" would change with anything after it); before
// the trailing lines that hold only "export" and blanks (which would prefix
// our first key); at the start.
func patchPlacements(text, eol string, vars []identity.EnvVar) []string {
	if len(vars) == 0 {
		return []string{text}
	}
	out := []string{
		text + patchAppendix(text, eol, vars, false),
		text + patchAppendix(text, eol, vars, true),
	}
	if last := envLineOf(text, len(text)); last > 0 && last < len(text) {
		out = append(out, text[:last]+patchPrefix(vars, eol)+text[last:])
	}
	if i := strings.LastIndex(text, "export"); i > 0 && strings.TrimFunc(text[i+len("export"):], envIsJSSpace) == "" {
		if start := envLineOf(text, i); start > 0 && strings.TrimFunc(text[start:i], envIsJSSpace) == "" {
			out = append(out, text[:start]+patchPrefix(vars, eol)+text[start:])
		}
	}
	return append(out, patchPrefix(vars, eol)+text)
}

// patchCarefulMax bounds the definitions patchCarefully varies one by one.
const patchCarefulMax = 64

// patchHolds checks the patch invariant on out. With a non-nil fresh it also
// checks that each of our keys is defined exactly once, and that the keys in
// fresh (the ones added as new lines) did not pick up a prefix from the line
// before ("export" alone on the last line prefixes whatever follows).
func patchHolds(out string, want, ours map[string]string, fresh map[string]bool) bool {
	d := envAnalyze(out)
	if !maps.Equal(d.vars(), want) {
		return false
	}
	if fresh == nil {
		return true
	}
	n := map[string]int{}
	for _, def := range d.defs {
		if _, ok := ours[def.key]; ok {
			n[def.key]++
		}
		if fresh[def.key] && def.tok != def.keyStart {
			return false
		}
	}
	for k := range ours {
		if n[k] != 1 {
			return false
		}
	}
	return true
}

// patchRewrite replaces a definition's separator and value with "=" and v:
// unquoted for style 0, else quoted with the definition's own quote (1) or
// with ", ' or ` (2, 3 and 4 minus the own one).
func patchRewrite(doc *envDoc, def envDef, v string, style int) patchEdit {
	repl := "=" + v
	if style > 0 {
		quotes := []byte{'"', '\'', '`'}
		if def.valStart >= 0 {
			raw := strings.TrimLeftFunc(doc.norm[def.valStart:def.valEnd], envIsJSSpace)
			if raw != "" && strings.IndexByte("'\"`", raw[0]) >= 0 {
				i := slices.Index(quotes, raw[0])
				quotes = append([]byte{raw[0]}, slices.Delete(quotes, i, i+1)...)
			}
		}
		q := string(quotes[(style-1)%len(quotes)])
		repl = "=" + q + v + q
	}
	return patchEdit{doc.o(def.keyEnd), doc.o(def.contentEnd()), repl}
}

// patchRemove removes a definition with its whole lines: from the start of the
// line holding "export" or the key to the end of the line holding the end of
// its value, line end included.
func patchRemove(doc *envDoc, def envDef) patchEdit {
	return patchEdit{doc.o(envLineOf(doc.norm, def.tok)), doc.o(envLineAfter(doc.norm, def.contentEnd())), ""}
}

func patchApply(text string, edits []patchEdit) string {
	if len(edits) == 0 {
		return text
	}
	edits = slices.Clone(edits)
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var b strings.Builder
	b.Grow(len(text))
	done := 0
	for _, e := range edits {
		b.WriteString(text[done:e.start])
		b.WriteString(e.repl)
		done = e.end
	}
	b.WriteString(text[done:])
	return b.String()
}

// patchAppendix is what goes after text to add vars: a line end if text lacks
// one (and, with guard, a blank line, so that a last line "KEY:" cannot take
// the next line as its value), then one KEY=value line per var.
func patchAppendix(text, eol string, vars []identity.EnvVar, guard bool) string {
	if len(vars) == 0 {
		return ""
	}
	var b strings.Builder
	if text != "" && !strings.HasSuffix(text, "\n") && !strings.HasSuffix(text, "\r") {
		b.WriteString(eol)
	}
	if guard && text != "" {
		b.WriteString(eol)
	}
	for _, v := range vars {
		b.WriteString(v.Key + "=" + v.Value + eol)
	}
	return b.String()
}

// patchPrefix puts vars before everything else, for keys the text does not
// define: the last resort when nothing can follow the text's last line.
func patchPrefix(vars []identity.EnvVar, eol string) string {
	var b strings.Builder
	for _, v := range vars {
		b.WriteString(v.Key + "=" + v.Value + eol)
	}
	return b.String()
}

// patchEOL returns the text's most common line ending (the later one on a
// tie), LF for a text without one.
func patchEOL(text string) string {
	var crlf, lf, cr int
	last := "\n"
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\n':
			lf++
			last = "\n"
		case '\r':
			if i+1 < len(text) && text[i+1] == '\n' {
				crlf++
				last = "\r\n"
				i++
			} else {
				cr++
				last = "\r"
			}
		}
	}
	switch {
	case crlf > lf && crlf > cr:
		return "\r\n"
	case lf > crlf && lf > cr:
		return "\n"
	case cr > crlf && cr > lf:
		return "\r"
	}
	return last
}

// patchDedupe keeps each key once, at its first position, with its last value.
func patchDedupe(vars []identity.EnvVar) []identity.EnvVar {
	at := make(map[string]int, len(vars))
	out := make([]identity.EnvVar, 0, len(vars))
	for _, v := range vars {
		if i, ok := at[v.Key]; ok {
			out[i].Value = v.Value
			continue
		}
		at[v.Key] = len(out)
		out = append(out, v)
	}
	return out
}
