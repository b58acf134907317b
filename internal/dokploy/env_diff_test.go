package dokploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// envDotenvDir returns the dotenv 16.4.5 package directory named by
// RUNTIME_IDENTITY_DOTENV: unset skips the test, a wrong directory fails it.
func envDotenvDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RUNTIME_IDENTITY_DOTENV")
	if dir == "" {
		t.Skip("RUNTIME_IDENTITY_DOTENV is not set; set it to the dotenv 16.4.5 package directory " +
			"(npm install --prefix .cache/node dotenv@16.4.5, then RUNTIME_IDENTITY_DOTENV=$PWD/.cache/node/node_modules/dotenv)")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		t.Fatalf("RUNTIME_IDENTITY_DOTENV=%s: %v", dir, err)
	}
	var pkg struct{ Name, Version string }
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatalf("RUNTIME_IDENTITY_DOTENV=%s: package.json: %v", dir, err)
	}
	if pkg.Name != "dotenv" || pkg.Version != "16.4.5" {
		t.Fatalf("RUNTIME_IDENTITY_DOTENV=%s holds %s %s, want dotenv 16.4.5", dir, pkg.Name, pkg.Version)
	}
	return dir
}

// envNodeParse runs dotenv's parse() over texts in one node process.
func envNodeParse(t *testing.T, dir string, texts []string) []map[string]string {
	t.Helper()
	in, err := json.Marshal(texts)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("testdata", "dotenv", "parse.js"), dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node parse.js: %v\n%s", err, stderr.String())
	}
	var got []map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node parse.js output: %v", err)
	}
	if len(got) != len(texts) {
		t.Fatalf("node parse.js returned %d results for %d texts", len(got), len(texts))
	}
	return got
}

// envDiffCase is one text to patch and the vars to patch it with.
type envDiffCase struct {
	source string // where the case comes from, for failure messages
	text   string
	vars   []identity.EnvVar
}

// TestPatchEnvDifferential patches generated texts, the unit-test texts and
// the fuzz corpus, and checks every original and patched text against the
// real dotenv: ParseEnv must agree with it, and dotenv's parse of the patched
// text must be its parse of the original overlaid with the vars.
func TestPatchEnvDifferential(t *testing.T) {
	t.Parallel()
	dir := envDotenvDir(t)

	const generated = 12000
	r := rand.New(rand.NewPCG(20240917, 16))
	var cases []envDiffCase
	for i := range generated {
		text, vars := envGenerate(r)
		cases = append(cases, envDiffCase{"generated #" + strconv.Itoa(i), text, vars})
	}
	for _, tt := range envPatchCases {
		vars := tt.vars
		if vars == nil {
			vars = envTestVars
		}
		cases = append(cases, envDiffCase{"golden " + tt.name, tt.text, vars})
	}
	corpus := envFuzzCorpus(t)
	cases = append(cases, corpus...)

	texts := make([]string, 0, 3*len(cases))
	type result struct {
		patched string
		changed bool
		mode    patchMode
		again   string
	}
	results := make([]result, len(cases))
	modes := map[patchMode]int{}
	skipped := 0
	for i, c := range cases {
		p, changed := PatchEnv(c.text, c.vars)
		_, mode := patchEnv(c.text, c.vars)
		again, _ := PatchEnv(p, c.vars)
		results[i] = result{p, changed, mode, again}
		modes[mode]++
		texts = append(texts, c.text, p, again)
	}
	texts = append(texts, envParseCases()...)
	for i, s := range texts {
		if !utf8.ValidString(s) {
			// JSON cannot carry invalid UTF-8 to node unchanged.
			texts[i] = ""
			skipped++
		}
	}
	parsed := envNodeParse(t, dir, texts)

	failures := 0
	fail := func(format string, args ...any) {
		t.Helper()
		failures++
		if failures <= 20 {
			t.Errorf(format, args...)
		}
	}
	for i, s := range texts {
		if s == "" && len(parsed[i]) == 0 {
			continue
		}
		if diff := cmp.Diff(parsed[i], ParseEnv(s)); diff != "" {
			fail("ParseEnv(%q) differs from dotenv 16.4.5 (-dotenv +ParseEnv):\n%s", s, diff)
		}
	}
	for i, c := range cases {
		res := results[i]
		orig, patched, again := parsed[3*i], parsed[3*i+1], parsed[3*i+2]
		if !utf8.ValidString(c.text) {
			continue
		}
		if res.mode == patchImpossible {
			fail("%s: PatchEnv(%q) found no patch that preserves the parse", c.source, c.text)
			continue
		}
		want := envOverlay(orig, c.vars)
		if diff := cmp.Diff(want, patched); diff != "" {
			fail("%s: dotenv parse of PatchEnv(%q) = %q is not the original parse overlaid with %v (-want +got):\n%s", c.source, c.text, res.patched, c.vars, diff)
		}
		if diff := cmp.Diff(want, again); diff != "" {
			fail("%s: dotenv parse of a second PatchEnv(%q) = %q changed (-want +got):\n%s", c.source, res.patched, res.again, diff)
		}
		if err := envCheckPatch(c.text, c.vars, res.patched, res.changed, res.mode); err != nil {
			fail("%s: PatchEnv(%q) = %q: %v", c.source, c.text, res.patched, err)
		}
		if res.mode == patchExact && res.again != res.patched {
			fail("%s: PatchEnv is not idempotent: PatchEnv(%q) = %q, then %q", c.source, c.text, res.patched, res.again)
		}
	}
	if failures > 20 {
		t.Errorf("%d failures in all, the first 20 shown", failures)
	}
	t.Logf("checked %d texts against dotenv 16.4.5 (%d generated, %d golden, %d fuzz corpus cases; %d not valid UTF-8, skipped): patch modes %v",
		len(texts)-skipped, generated, len(envPatchCases), len(corpus), skipped, modes)
}

// envParseCases are the ParseEnv unit-test texts, checked against dotenv too.
func envParseCases() []string {
	return []string{
		"", "A=1\nB = two words \n", "export A=1\nB: 2\nC:3\n", "A=abc#def\nB=x # y\n",
		`A="a#b" # c` + "\nB='x#y'\n", "A=1\r\nB=2\rC=3", "A=1\nA=2\n",
		"A=\"x\\ny\"\nB='x\\ny'\nC=`x\\ny`\n", "A=\"one\nLAUNCHPLANE_ARTIFACT_ID=x\n\"\nB=2\n",
		"A=\"abc\nB=2\n", "A=\n'x'\nB=2\n", "A:\nB=2\n", "B=2\nA:", "__proto__=1\nconstructor=2\n",
		"a.b-c=1\n.=2\n", "A=\u00a0héllo\u3000\n", "A=1 #c\u2028B=2\n", "A=1\u2028B=2\n", "A='a'b'\n",
		`A='a\'b'` + "\n", "just words\nexport\nB=1\n", "KEY\n=x\n",
	}
}

// envFuzzCorpus reads the committed corpus of FuzzPatchEnv and FuzzParseEnv.
func envFuzzCorpus(t *testing.T) []envDiffCase {
	t.Helper()
	var cases []envDiffCase
	for _, fuzz := range []string{"FuzzPatchEnv", "FuzzParseEnv"} {
		files, err := filepath.Glob(filepath.Join("testdata", "fuzz", fuzz, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			args := envReadCorpusFile(t, f)
			c := envDiffCase{source: f}
			switch {
			case fuzz == "FuzzPatchEnv" && len(args) == 3:
				n, err := strconv.ParseUint(args[1], 0, 8)
				if err != nil {
					t.Fatalf("%s: keys argument: %v", f, err)
				}
				c.text, c.vars = args[0], envFuzzVars(uint8(n), args[2])
			case fuzz == "FuzzParseEnv" && len(args) == 1:
				c.text, c.vars = args[0], envTestVars
			default:
				t.Fatalf("%s: %d arguments, want the %s signature", f, len(args), fuzz)
			}
			cases = append(cases, c)
		}
	}
	return cases
}

// envReadCorpusFile decodes a "go test fuzz v1" file of string, byte and
// integer arguments, each returned as text (numbers in decimal).
func envReadCorpusFile(t *testing.T, name string) []string {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) == 0 || lines[0] != "go test fuzz v1" {
		t.Fatalf("%s: not a go test fuzz v1 file", name)
	}
	var args []string
	for _, l := range lines[1:] {
		open, close := strings.IndexByte(l, '('), strings.LastIndexByte(l, ')')
		if open < 0 || close < open {
			t.Fatalf("%s: bad line %q", name, l)
		}
		kind, lit := l[:open], l[open+1:close]
		switch kind {
		case "string", "[]byte":
			s, err := strconv.Unquote(lit)
			if err != nil {
				t.Fatalf("%s: %q: %v", name, l, err)
			}
			args = append(args, s)
		case "byte":
			s, err := strconv.Unquote(lit)
			r, _ := utf8.DecodeRuneInString(s)
			if err != nil || r > 0xff {
				t.Fatalf("%s: %q: not a byte literal", name, l)
			}
			args = append(args, strconv.Itoa(int(r)))
		default:
			args = append(args, lit)
		}
	}
	return args
}

// The generator. Every piece of a text comes from the lists below, with the
// cases the patcher must get right: comments, inline '#', blank and
// blank-looking lines, CRLF, lone CR and mixed endings, export, the ':'
// separator, duplicates, our keys inside other keys' multi-line values,
// unterminated quotes, quoted/exported/commented/empty definitions of our
// keys, keys with dots and dashes, Unicode, and other LAUNCHPLANE_* keys.

var (
	envGenOtherKeys = []string{
		"APP_NAME", "DATABASE_URL", "PORT", "a.b-c", "my-key", "x", "_", "1A", "LAUNCHPLANE_IMAGE_REFERENCE",
		"LAUNCHPLANE_PREVIEW_ID", "LAUNCHPLANE_ARTIFACT_ID_OLD", "LAUNCHPLANE_ARTIFACT", "XLAUNCHPLANE_ARTIFACT_ID",
		"launchplane_artifact_id", "NODE_ENV", "export", "__proto__", ".",
	}
	envGenWords = []string{
		"", "1", "hello", "two words", "  padded  ", "a#b", "a #b", "x=y", "post://u:p@h:5/db?s=1", "héllo wörld",
		"😀", "日本語", "tab\there", "\\n", "back\\slash", "${{project.KEY}}", "{\"json\":true}", "LAUNCHPLANE_ARTIFACT_ID=x",
		"it's", `say "hi"`, "tick`", "\u00a0nbsp\u00a0", "q'", `\'`, `\"`,
	}
	envGenBlank = []string{"", "", "", " ", "\t", "  \t ", "\v", "\f", "\u00a0", "\ufeff", "\u3000"}
	envGenSeps  = []string{"=", "=", "=", " = ", "= ", " =", "=\t", ": ", ":\t", ":  ", ":"}
	envGenPre   = []string{"", "", "", "", "export ", "export  ", "export\t", "  ", "\t"}
)

func envPick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// envGenSafe returns an identity-safe value: printable ASCII without blanks,
// quotes, '#', '\' or '$'.
func envGenSafe(r *rand.Rand) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@=+,;!%&()*<>?[]^{}|~"
	n := 1 + r.IntN(24)
	if r.IntN(20) == 0 {
		n = 0
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

// envGenJSON returns a canonical-JSON-like identity value.
func envGenJSON(r *rand.Rand) string {
	return fmt.Sprintf(`{"artifact_id":"%s","context":"ctx","deployment_record_id":"%s","preview_id":"","schema_version":1,"source_git_ref":"%s"}`,
		envGenSafe(r), envGenSafe(r), envGenSafe(r))
}

func envGenValueFor(r *rand.Rand, key string) string {
	if key == identity.EnvJSON && r.IntN(3) > 0 {
		return envGenJSON(r)
	}
	return envGenSafe(r)
}

// envGenQuoted wraps s in quote q, sometimes with an inline comment after it.
func envGenQuoted(r *rand.Rand, q, s string) string {
	out := q + s + q
	switch r.IntN(4) {
	case 0:
		out += " # trailing"
	case 1:
		out += "  "
	}
	return out
}

// envGenValue returns the right-hand side of a definition.
func envGenValue(r *rand.Rand, eol func() string) string {
	w := envPick(r, envGenWords)
	switch r.IntN(10) {
	case 0, 1, 2, 3:
		return w
	case 4:
		return w + " # comment"
	case 5:
		return w + "#tight"
	case 6:
		return envGenQuoted(r, envPick(r, []string{`"`, "'", "`"}), w)
	case 7:
		// Multi-line quoted value whose inner lines look like definitions.
		q := envPick(r, []string{`"`, "'", "`"})
		var b strings.Builder
		b.WriteString(q)
		for range 1 + r.IntN(4) {
			b.WriteString(envGenInner(r, q))
			b.WriteString(eol())
		}
		b.WriteString(envGenInner(r, q))
		return envGenQuoted(r, q, b.String()[1:])
	case 8:
		// Unterminated quote.
		return envPick(r, []string{`"`, "'", "`"}) + w
	default:
		return ""
	}
}

// envGenInner returns a line for inside a value quoted with q (without q).
func envGenInner(r *rand.Rand, q string) string {
	var s string
	switch r.IntN(6) {
	case 0:
		s = envPick(r, identity.EnvKeys) + "=" + envGenSafe(r)
	case 1:
		s = "export " + envPick(r, identity.EnvKeys) + "=inside"
	case 2:
		s = "# not a comment here"
	case 3:
		s = ""
	case 4:
		s = envPick(r, envGenOtherKeys) + ": " + envPick(r, envGenWords)
	default:
		s = envPick(r, envGenWords)
	}
	return strings.ReplaceAll(s, q, "")
}

// envGenerate returns one env text and the vars to patch it with.
func envGenerate(r *rand.Rand) (string, []identity.EnvVar) {
	var eol func() string
	switch r.IntN(20) {
	case 0, 1, 2, 3:
		eol = func() string { return "\r\n" }
	case 4, 5:
		eol = func() string { return envPick(r, []string{"\n", "\r\n", "\r"}) }
	case 6:
		eol = func() string { return "\r" }
	default:
		eol = func() string { return "\n" }
	}
	// Values the text holds for our keys; vars sometimes reuse them so that
	// some patches are partial or no-ops.
	held := map[string]string{}
	var lines []string
	n := r.IntN(26)
	for range n {
		var line string
		switch k := r.IntN(100); {
		case k < 25:
			line = envPick(r, envGenPre) + envPick(r, envGenOtherKeys) + envPick(r, envGenSeps) + envGenValue(r, eol)
		case k < 50:
			key := envPick(r, identity.EnvKeys)
			v := envGenValueFor(r, key)
			if old, ok := held[key]; ok && r.IntN(2) == 0 {
				v = old
			}
			held[key] = v
			var rhs string
			switch r.IntN(9) {
			case 0:
				rhs = envGenQuoted(r, `"`, v)
			case 1:
				rhs = envGenQuoted(r, "'", v)
			case 2:
				rhs = envGenQuoted(r, "`", v)
			case 3:
				rhs = v + " # set by hand"
			case 4:
				rhs = ""
			case 5:
				rhs = envGenValue(r, eol)
			default:
				rhs = v
			}
			line = envPick(r, envGenPre) + key + envPick(r, envGenSeps) + rhs
		case k < 60:
			line = envPick(r, []string{"# ", "#", "  # ", "#export "}) + envPick(r, append(envCloneStrings(identity.EnvKeys), envGenOtherKeys...)) + "=" + envPick(r, envGenWords)
		case k < 72:
			line = envPick(r, envGenBlank)
		case k < 80:
			// A key with an empty value, then a quoted line it may take.
			line = envPick(r, append(envCloneStrings(identity.EnvKeys), envGenOtherKeys...)) + "=" + eol() + envGenQuoted(r, envPick(r, []string{`"`, "'", "`"}), envPick(r, envGenWords))
		case k < 88:
			line = envPick(r, []string{"not a definition", "=value", "KEY", "export", "WEIRD:", "A:b", "A=b=c", "export export=1",
				"'orphan quoted'", `"orphan`, "`", "CLÉ=1", "日本=x", "K=a\u2028B=b", "K=v #c\u2028" + envPick(r, identity.EnvKeys) + "=x",
				"LAUNCHPLANE_ARTIFACT_ID : spaced", "export LAUNCHPLANE_SOURCE_GIT_REF", envPick(r, identity.EnvKeys) + ":",
				"\\", "A=\\", `A="x\"`, "A='x\\'", " " + envPick(r, envGenOtherKeys) + "=" + envPick(r, envGenWords) + " "})
		default:
			// An unterminated quote that later lines may close.
			line = envPick(r, envGenOtherKeys) + "=" + envPick(r, []string{`"`, "'", "`"}) + envPick(r, envGenWords)
		}
		lines = append(lines, line)
	}
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l)
		if i < len(lines)-1 || r.IntN(5) > 0 {
			b.WriteString(eol())
		}
	}

	keys := envCloneStrings(identity.EnvKeys)
	if r.IntN(6) == 0 {
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		keys = keys[:1+r.IntN(len(keys))]
	}
	vars := make([]identity.EnvVar, len(keys))
	for i, k := range keys {
		v := envGenValueFor(r, k)
		if old, ok := held[k]; ok && r.IntN(3) == 0 {
			v = old
		}
		vars[i] = identity.EnvVar{Key: k, Value: v}
	}
	return b.String(), vars
}

func envCloneStrings(s []string) []string { return append([]string(nil), s...) }
