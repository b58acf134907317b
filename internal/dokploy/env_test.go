package dokploy

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// The package's -update flag (golden files). Registered here unless another
// test file of the package already did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func envUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// envTestVars are realistic identity env vars; the JSON value carries double
// quotes, as the real one does.
var envTestVars = []identity.EnvVar{
	{Key: identity.EnvJSON, Value: `{"artifact_id":"art-2","context":"shop","deployment_record_id":"dep-2","schema_version":1,"source_git_ref":"main@abc123"}`},
	{Key: identity.EnvDeploymentRecordID, Value: "dep-2"},
	{Key: identity.EnvArtifactID, Value: "art-2"},
	{Key: identity.EnvSourceGitRef, Value: "main@abc123"},
}

// envOverlay is ParseEnv(text) overlaid with vars: what a patch must produce.
func envOverlay(base map[string]string, vars []identity.EnvVar) map[string]string {
	want := maps.Clone(base)
	for _, v := range vars {
		want[v.Key] = v.Value
	}
	return want
}

// envOurSpans returns the byte ranges of text that hold definitions of keys,
// each with its whole lines, as PatchEnv removes a duplicate.
func envOurSpans(text string, keys map[string]bool) []patchEdit {
	doc := envAnalyze(text)
	var spans []patchEdit
	for _, def := range doc.defs {
		if keys[def.key] {
			spans = append(spans, patchRemove(doc, def))
		}
	}
	return spans
}

// envCheckBytes checks that patched keeps every line of text outside our
// keys' definitions, whole and in order, and adds nothing but our keys'
// definitions and line ends. (A line "export" alone stays, but may prefix one of our lines after
// the patch, so it is matched as text that may now lie inside our spans.)
func envCheckBytes(text, patched string, keys map[string]bool) error {
	inSpan := make([]bool, len(patched))
	for _, sp := range envOurSpans(patched, keys) {
		for i := sp.start; i < sp.end; i++ {
			inSpan[i] = true
		}
	}
	ours := func(i int) bool { return inSpan[i] || patched[i] == '\n' || patched[i] == '\r' }
	// The kept text, line by line: our lines may come between any two.
	var segs []string
	keep := func(s string) {
		for s != "" {
			n := envLineAfter(s, 0)
			segs = append(segs, s[:n])
			s = s[n:]
		}
	}
	done := 0
	for _, sp := range envOurSpans(text, keys) {
		keep(text[done:sp.start])
		done = sp.end
	}
	keep(text[done:])
	segs = slices.DeleteFunc(segs, func(s string) bool { return s == "" })
	// Align the kept lines with patched, in order; what lies between them
	// must be ours. Backtrack, since a kept line ("export", a blank line) may
	// also occur inside one of our definitions.
	fits := func(i int, seg string) bool {
		if !envLineStart(patched, i) || !strings.HasPrefix(patched[i:], seg) {
			return false
		}
		end := i + len(seg)
		return strings.HasSuffix(seg, "\n") || strings.HasSuffix(seg, "\r") || strings.HasSuffix(seg, "\u2028") ||
			strings.HasSuffix(seg, "\u2029") || envLineEnd(patched, end)
	}
	failed := map[[2]int]bool{}
	var align func(k, pos int) bool
	align = func(k, pos int) bool {
		if failed[[2]int{k, pos}] {
			return false
		}
		for i := pos; ; i++ {
			if k == len(segs) {
				if i == len(patched) {
					return true
				}
			} else if i+len(segs[k]) <= len(patched) && fits(i, segs[k]) && align(k+1, i+len(segs[k])) {
				return true
			}
			if i >= len(patched) || !ours(i) {
				break
			}
		}
		failed[[2]int{k, pos}] = true
		return false
	}
	if !align(0, 0) {
		return fmt.Errorf("the lines outside our keys' definitions are not all kept, in order, with only our definitions and line ends added")
	}
	return nil
}

// envCheckPatch checks a PatchEnv result against its input with ParseEnv: the
// parse invariant, that nothing but our keys' lines changed (up to the line
// ends added before appended keys), that changed tells the truth, and, for an
// exact patch, that each key is defined once.
func envCheckPatch(text string, vars []identity.EnvVar, patched string, changed bool, mode patchMode) error {
	if changed != (patched != text) {
		return fmt.Errorf("changed = %v, but patched != text is %v", changed, patched != text)
	}
	if mode == patchImpossible {
		return fmt.Errorf("no patch preserves the parse")
	}
	want := envOverlay(ParseEnv(text), vars)
	if diff := cmp.Diff(want, ParseEnv(patched)); diff != "" {
		return fmt.Errorf("ParseEnv(patched) differs from ParseEnv(text) overlaid with vars (-want +got):\n%s", diff)
	}
	keys := map[string]bool{}
	for _, v := range vars {
		keys[v.Key] = true
	}
	if err := envCheckBytes(text, patched, keys); err != nil {
		return err
	}
	if mode == patchExact {
		n := map[string]int{}
		for _, def := range envAnalyze(patched).defs {
			n[def.key]++
		}
		for k := range keys {
			if n[k] != 1 {
				return fmt.Errorf("%s defined %d times, want once", k, n[k])
			}
		}
	}
	return nil
}

func TestParseEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want map[string]string
	}{
		{"empty", "", map[string]string{}},
		{"basic", "A=1\nB = two words \n", map[string]string{"A": "1", "B": "two words"}},
		{"export and colon", "export A=1\nB: 2\nC:3\n", map[string]string{"A": "1", "B": "2"}},
		{"inline hash ends unquoted value", "A=abc#def\nB=x # y\n", map[string]string{"A": "abc", "B": "x"}},
		{"quoted hash kept", `A="a#b" # c` + "\nB='x#y'\n", map[string]string{"A": "a#b", "B": "x#y"}},
		{"crlf and lone cr", "A=1\r\nB=2\rC=3", map[string]string{"A": "1", "B": "2", "C": "3"}},
		{"last duplicate wins", "A=1\nA=2\n", map[string]string{"A": "2"}},
		{"only double quotes expand", "A=\"x\\ny\"\nB='x\\ny'\nC=`x\\ny`\n", map[string]string{"A": "x\ny", "B": `x\ny`, "C": "x\\ny"}},
		{"multi-line quoted value hides key lines", "A=\"one\nLAUNCHPLANE_ARTIFACT_ID=x\n\"\nB=2\n", map[string]string{"A": "one\nLAUNCHPLANE_ARTIFACT_ID=x\n", "B": "2"}},
		{"unterminated quote is an unquoted value", "A=\"abc\nB=2\n", map[string]string{"A": `"abc`, "B": "2"}},
		{"quote after blank value on next line", "A=\n'x'\nB=2\n", map[string]string{"A": "x", "B": "2"}},
		{"colon at line end takes the next line", "A:\nB=2\n", map[string]string{"A": "B=2"}},
		{"colon at end of text is no definition", "B=2\nA:", map[string]string{"B": "2"}},
		{"proto is dropped", "__proto__=1\nconstructor=2\n", map[string]string{"constructor": "2"}},
		{"keys with dots and dashes", "a.b-c=1\n.=2\n", map[string]string{"a.b-c": "1", ".": "2"}},
		{"unicode value trimmed with js spaces", "A=\u00a0héllo\u3000\n", map[string]string{"A": "héllo"}},
		{"line separator ends a comment", "A=1 #c\u2028B=2\n", map[string]string{"A": "1", "B": "2"}},
		{"line separator inside unquoted value", "A=1\u2028B=2\n", map[string]string{"A": "1\u2028B=2"}},
		{"quote stripped from unquoted value", "A='a'b'\n", map[string]string{"A": "a'b"}},
		{"escaped quote", `A='a\'b'` + "\n", map[string]string{"A": `a\'b`}},
		{"bare words ignored", "just words\nexport\nB=1\n", map[string]string{"B": "1"}},
		{"separator on the next line", "KEY\n=x\n", map[string]string{"KEY": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, ParseEnv(tt.text)); diff != "" {
				t.Errorf("ParseEnv(%q) mismatch (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

// envPatchCases are the tricky cases; their expected output is a golden file
// testdata/dotenv/golden/<name>.env.
var envPatchCases = []struct {
	name string
	text string
	vars []identity.EnvVar // nil means envTestVars
	mode patchMode
}{
	{name: "empty", text: "", mode: patchExact},
	{name: "append-no-trailing-newline", text: "APP=1\n# comment\nDB_URL=postgres://x", mode: patchExact},
	{name: "append-crlf", text: "APP=1\r\n\r\nOTHER=2\r\n", mode: patchExact},
	{name: "rewrite-in-place-keeps-everything-else", text: "# head\nexport LAUNCHPLANE_ARTIFACT_ID='art-1' # old\nLAUNCHPLANE_IMAGE_REFERENCE=img:1\n\n" +
		"LAUNCHPLANE_DEPLOYMENT_RECORD_ID : dep-1\nLAUNCHPLANE_SOURCE_GIT_REF=\nLAUNCHPLANE_RUNTIME_IDENTITY_JSON={\"old\":1}\nAPP=1\n", mode: patchExact},
	{name: "duplicates-removed-blank-lines-kept", text: "LAUNCHPLANE_ARTIFACT_ID=a\n\n\nLAUNCHPLANE_ARTIFACT_ID=b\n\nexport\n\nLAUNCHPLANE_ARTIFACT_ID=c\n\nAPP=1\n", vars: envTestVars[2:3], mode: patchExact},
	{name: "duplicates-removed", text: "LAUNCHPLANE_ARTIFACT_ID=a\nAPP=1\nLAUNCHPLANE_ARTIFACT_ID=\"b\nstill b\" # c\nAPP=2\nexport LAUNCHPLANE_ARTIFACT_ID=c", vars: envTestVars[2:3], mode: patchExact},
	{name: "key-lines-inside-quoted-values", text: "CERT=\"-----BEGIN-----\nLAUNCHPLANE_ARTIFACT_ID=inside\n-----END-----\"\nSCRIPT='\nexport LAUNCHPLANE_SOURCE_GIT_REF=inside\n'\nTPL=`\nLAUNCHPLANE_DEPLOYMENT_RECORD_ID=inside\n`\n", mode: patchExact},
	{name: "mixed-line-endings", text: "A=1\r\nLAUNCHPLANE_ARTIFACT_ID=x\rB=2\nC=3\r\n", mode: patchExact},
	{name: "commented-out-key-untouched", text: "#LAUNCHPLANE_ARTIFACT_ID=old\n# LAUNCHPLANE_SOURCE_GIT_REF=old\n", mode: patchExact},
	{name: "colon-last-line", text: "APP=1\nWEIRD:\n", mode: patchExact},
	{name: "colon-at-end-of-text", text: "APP=1\nWEIRD:", mode: patchExact},
	{name: "blank-value-then-quoted-line", text: "LAUNCHPLANE_ARTIFACT_ID=old\n'orphan'\n", vars: []identity.EnvVar{{Key: identity.EnvArtifactID, Value: ""}}, mode: patchAdjusted},
	{name: "unterminated-quote-before-quoted-key", text: "A=\"open\nLAUNCHPLANE_ARTIFACT_ID=\"art-1\"\nB=x\"\n", vars: envTestVars[2:3], mode: patchAdjusted},
	{name: "line-separator-after-value", text: "LAUNCHPLANE_ARTIFACT_ID=\"art-1\"\u2028B=2\n", vars: envTestVars[2:3], mode: patchAdjusted},
}

func TestPatchEnvGolden(t *testing.T) {
	t.Parallel()
	for _, tt := range envPatchCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vars := tt.vars
			if vars == nil {
				vars = envTestVars
			}
			got, mode := patchEnv(tt.text, vars)
			if mode != tt.mode {
				t.Errorf("patchEnv(%q) mode = %v, want %v", tt.text, mode, tt.mode)
			}
			patched, changed := PatchEnv(tt.text, vars)
			if patched != got {
				t.Errorf("PatchEnv(%q) = %q, patchEnv gave %q", tt.text, patched, got)
			}
			if err := envCheckPatch(tt.text, vars, patched, changed, mode); err != nil {
				t.Errorf("PatchEnv(%q) = %q: %v", tt.text, patched, err)
			}
			golden := filepath.Join("testdata", "dotenv", "golden", tt.name+".env")
			if envUpdating() {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file: %v (run go test -run TestPatchEnvGolden -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("PatchEnv(%q) mismatch with %s (-want +got; run with -update to accept):\n%s", tt.text, golden, diff)
			}
		})
	}
}

func TestPatchEnvNoop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		vars []identity.EnvVar
	}{
		{"no vars", "A=1\n", nil},
		{"already set unquoted", "A=1\nLAUNCHPLANE_ARTIFACT_ID=art-2\n", envTestVars[2:3]},
		{"already set quoted with export and comment", "export LAUNCHPLANE_ARTIFACT_ID = 'art-2' # keep\r\n", envTestVars[2:3]},
		{"all four set", "LAUNCHPLANE_RUNTIME_IDENTITY_JSON=" + envTestVars[0].Value + "\nLAUNCHPLANE_DEPLOYMENT_RECORD_ID=dep-2\nLAUNCHPLANE_ARTIFACT_ID=\"art-2\"\nLAUNCHPLANE_SOURCE_GIT_REF=main@abc123", envTestVars},
		{"repeated var, last value set", "LAUNCHPLANE_ARTIFACT_ID=b\n", []identity.EnvVar{{Key: identity.EnvArtifactID, Value: "a"}, {Key: identity.EnvArtifactID, Value: "b"}}},
		// Vars the contract rules out cannot be written so that dotenv reads
		// them back; PatchEnv then changes nothing rather than break the env.
		{"unsafe value", "A=1\n", []identity.EnvVar{{Key: identity.EnvArtifactID, Value: "a b#c"}}},
		{"key dotenv cannot read", "A=1\n", []identity.EnvVar{{Key: "BAD KEY", Value: "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, changed := PatchEnv(tt.text, tt.vars)
			if changed || got != tt.text {
				t.Errorf("PatchEnv(%q) = %q, %v, want the text unchanged, false", tt.text, got, changed)
			}
		})
	}
}

func TestPatchEnvChanged(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		vars []identity.EnvVar
		want string
	}{
		{"new value", "LAUNCHPLANE_ARTIFACT_ID=art-1\n", envTestVars[2:3], "LAUNCHPLANE_ARTIFACT_ID=art-2\n"},
		{"same value but duplicated", "LAUNCHPLANE_ARTIFACT_ID=art-2\nLAUNCHPLANE_ARTIFACT_ID=art-2\n", envTestVars[2:3], "LAUNCHPLANE_ARTIFACT_ID=art-2\n"},
		{"first right, later wrong", "LAUNCHPLANE_ARTIFACT_ID=art-2\nA=1\nLAUNCHPLANE_ARTIFACT_ID=art-1\n", envTestVars[2:3], "LAUNCHPLANE_ARTIFACT_ID=art-2\nA=1\n"},
		{"missing", "A=1", envTestVars[2:3], "A=1\nLAUNCHPLANE_ARTIFACT_ID=art-2\n"},
		{"other launchplane keys untouched", "LAUNCHPLANE_IMAGE_REFERENCE=x\nLAUNCHPLANE_ARTIFACT_ID_OLD=y\n", envTestVars[2:3], "LAUNCHPLANE_IMAGE_REFERENCE=x\nLAUNCHPLANE_ARTIFACT_ID_OLD=y\nLAUNCHPLANE_ARTIFACT_ID=art-2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, changed := PatchEnv(tt.text, tt.vars)
			if !changed || got != tt.want {
				t.Errorf("PatchEnv(%q) = %q, %v, want %q, true", tt.text, got, changed, tt.want)
			}
		})
	}
}

func TestPatchEOL(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text, want string }{
		{"none", "A=1", "\n"},
		{"lf", "A=1\nB=2\n", "\n"},
		{"crlf", "A=1\r\nB=2\r\n", "\r\n"},
		{"cr", "A=1\rB=2\r", "\r"},
		{"mostly crlf", "A=1\r\nB=2\r\nC=3\n", "\r\n"},
		{"tie takes the later", "A=1\nB=2\r\n", "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := patchEOL(tt.text); got != tt.want {
				t.Errorf("patchEOL(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestPatchEnvLargeInputs checks the patch on large texts whose naive
// parse is quadratic (each line start re-scans a long blank run, a long
// unterminated quote, or many quoted duplicates that force the careful path).
// It asserts correctness only; a regression to quadratic time shows up as a
// test that runs for minutes.
func TestPatchEnvLargeInputs(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text string }{
		{"blank lines", strings.Repeat(" \n", 20000)},
		{"key then blank lines", "KEY" + strings.Repeat(" \n", 20000) + "B=1"},
		{"export then blank lines", "export" + strings.Repeat(" \n", 20000) + "=1"},
		{"export lines", strings.Repeat("export\n \n", 5000)},
		{"many duplicates", strings.Repeat("LAUNCHPLANE_ARTIFACT_ID=\"x\n", 3000)},
		{"quoted duplicates after an open quote", "A=\"open\n" + strings.Repeat("LAUNCHPLANE_ARTIFACT_ID=\"a\"\n", 600) + "B=x\"\n"},
		{"line starts with quotes in one value", "A=\"" + strings.Repeat("'a\n", 3000) + "\""},
		{"line separators", strings.Repeat("A=1 #c\u2028\u2028 ", 5000)},
		{"long value", "A=" + strings.Repeat("x", 100000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			patched, changed := PatchEnv(tt.text, envTestVars)
			_, mode := patchEnv(tt.text, envTestVars)
			if err := envCheckPatch(tt.text, envTestVars, patched, changed, mode); err != nil {
				t.Errorf("PatchEnv(%d bytes): %v", len(tt.text), err)
			}
		})
	}
}

// BenchmarkPatchEnv patches a realistic 60-line env that already holds an
// older identity.
func BenchmarkPatchEnv(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("# Shop production\r\n")
	for i := 0; i < 50; i++ {
		switch i % 10 {
		case 0:
			fmt.Fprintf(&sb, "\r\n# section %d\r\n", i/10)
		case 3:
			fmt.Fprintf(&sb, "export SERVICE_%d_URL=\"https://svc-%d.internal:8080/path?x=%d\" # upstream\r\n", i, i, i)
		case 7:
			fmt.Fprintf(&sb, "SECRET_%d='s3cr3t-%d-#-not-a-comment'\r\n", i, i)
		default:
			fmt.Fprintf(&sb, "SETTING_%d=value-%d\r\n", i, i)
		}
	}
	sb.WriteString("LAUNCHPLANE_IMAGE_REFERENCE=ghcr.io/acme/shop:1.2.3\r\n")
	sb.WriteString("LAUNCHPLANE_RUNTIME_IDENTITY_JSON={\"artifact_id\":\"art-1\",\"context\":\"shop\"}\r\n")
	sb.WriteString("LAUNCHPLANE_DEPLOYMENT_RECORD_ID=dep-1\r\nLAUNCHPLANE_ARTIFACT_ID=art-1\r\nLAUNCHPLANE_SOURCE_GIT_REF=main@000000\r\n")
	text := sb.String()
	if n := strings.Count(text, "\n"); n < 60 {
		b.Fatalf("benchmark env has %d lines, want 60 or more", n)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, changed := PatchEnv(text, envTestVars); !changed {
			b.Fatal("PatchEnv() changed = false, want true")
		}
	}
}

func (m patchMode) String() string {
	switch m {
	case patchNoop:
		return "noop"
	case patchExact:
		return "exact"
	case patchAdjusted:
		return "adjusted"
	case patchImpossible:
		return "impossible"
	}
	return fmt.Sprintf("patchMode(%d)", int(m))
}
