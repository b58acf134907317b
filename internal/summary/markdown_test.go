package summary

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// hostile are observed values that try to break out of a table cell or inject Markdown or HTML.
var hostile = []string{
	"a|b||c",
	"`code` ``` fenced",
	"<script>alert(1)</script>",
	"<SCRIPT SRC=//x>",
	"line1\nline2\r\nline3\rline4\u2028line5\u2029line6\u0085line7",
	"[click](javascript:alert(1))",
	"](javascript:alert(1))",
	"![img](https://evil.example/x.png)",
	"# heading",
	"    # indented heading",
	"- item",
	"> quote",
	"===",
	"1. one",
	"**bold** _em_ ~~strike~~ $x^2$",
	`back\slash\|pipe\`,
	"&lt;script&gt; &amp;",
	"\u202eevil\u200b\x00\x1b[31m",
	"\xff\xfe invalid utf8",
	strings.Repeat("|", 10<<10),
	strings.Repeat("`<script>|\n", 1<<10),
	strings.Repeat("é", 10<<10),
}

// hostileReport puts every hostile value into every untrusted slot of a mismatch report.
func hostileReport() Report {
	want := stable()
	r := base()
	r.Verdict = identity.Compare(&want, identity.Observation{Surface: identity.SurfaceHealth, Found: true, Identity: old()})
	r.Outcome, r.ExitCode = OutcomeFailed, 1
	r.Probe = &Probe{Surface: identity.SurfaceHealth, URL: baseURL + "/api/health", Attempts: 3, Required: 1, Elapsed: time.Second}
	var raw []string
	for _, h := range hostile {
		r.Verdict.Fields = append(r.Verdict.Fields, identity.FieldResult{Field: "x" + h, Expected: h, Observed: h, Compared: true, Result: identity.ResultMismatch})
		r.Verdict.Mismatched = append(r.Verdict.Mismatched, h)
		r.Notes = append(r.Notes, h)
		r.Warnings = append(r.Warnings, h)
		r.Probe.Answers = append(r.Probe.Answers, Answer{Surface: identity.Surface(h), URL: h, StatusCode: 200, Status: identity.Status(h), Key: h, Detail: h, DeploymentRecordID: h, Digest: h})
		b, _ := json.Marshal(h)
		raw = append(raw, string(b))
	}
	r.Verdict.Detail = strings.Join(hostile, " ")
	r.Observed = json.RawMessage("[" + strings.Join(raw, ",") + "]")
	r.Rollout.Title, r.Rollout.Error = hostile[2], hostile[4]
	r.GitHub.Error, r.GitHub.Environment = hostile[0], hostile[5]
	r.GitHub.LogURL = "javascript:alert(1)"
	r.Links.Record = "https://x.example/<script>"
	r.Unavailable = map[string]string{hostile[2]: hostile[4]}
	r.Provenance["product"] = Source{hostile[5], hostile[2]}
	r.Tool.Version = hostile[1]
	return r
}

// unescapedPipes counts the pipes cmark-gfm splits a table row on: those without a backslash
// right before them.
func unescapedPipes(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		if line[i] == '|' && (i == 0 || line[i-1] != '\\') {
			n++
		}
	}
	return n
}

func TestMarkdownInjection(t *testing.T) {
	t.Parallel()
	r := hostileReport()
	md := Markdown(r)
	if !utf8.ValidString(md) {
		t.Errorf("Markdown() is not valid UTF-8")
	}
	if len(md) > 400<<10 {
		t.Errorf("len(Markdown()) = %d, want well under 1 MiB", len(md))
	}
	if strings.Contains(strings.ToLower(md), "<script") {
		t.Errorf("Markdown() contains a raw <script")
	}
	// Every link in the summary is ours: "](" only after a backslash, or opening "<https://".
	for i := strings.Index(md, "]("); i >= 0; {
		if md[i-1] != '\\' && !strings.HasPrefix(md[i:], "](<https://") {
			t.Errorf("Markdown() has a link a value made: %.80q", md[max(0, i-40):])
		}
		next := strings.Index(md[i+2:], "](")
		if next < 0 {
			break
		}
		i += 2 + next
	}
	if strings.Contains(md, "(<javascript:") {
		t.Errorf("Markdown() links a javascript: URL")
	}
	for _, c := range []string{"\x00", "\x1b", "\r", "\u2028", "\u2029", "\u0085", "\u202e", "\u200b"} {
		if strings.Contains(md, c) {
			t.Errorf("Markdown() contains the raw control %q", c)
		}
	}
	// The table: a header, a delimiter row and one row per field, each with exactly 5 pipes.
	lines := strings.Split(md, "\n")
	start := -1
	for i, l := range lines {
		if l == "| field | expected | observed | result |" {
			start = i
		}
	}
	if start < 0 {
		t.Fatalf("Markdown() has no table header:\n%s", md[:min(len(md), 2000)])
	}
	rows := 0
	for _, l := range lines[start:] {
		if l == "" {
			break
		}
		if got := unescapedPipes(l); got != 5 {
			t.Errorf("table line has %d unescaped pipes, want 5: %.200q", got, l)
		}
		rows++
	}
	if want := len(r.Verdict.Fields) + 2; rows != want {
		t.Errorf("table has %d lines, want %d (a value broke a row)", rows, want)
	}
	// Outside the table, no value may start a block: every non-table line starts with fixed text.
	for _, l := range lines {
		for _, bad := range []string{"# heading", "> quote", "===", "1. one", "- item"} {
			if strings.HasPrefix(l, bad) || strings.HasPrefix(l, "- "+bad) {
				t.Errorf("a value starts a Markdown block: %.100q", l)
			}
		}
	}
}

// TestMarkdownHugeObserved feeds a 5 MB observed value through every slot: the cuts keep the
// summary small, and they say so.
func TestMarkdownHugeObserved(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x|", 5<<20/2)
	want := stable()
	obs := old()
	obs.DeploymentRecordID = huge
	r := base()
	r.Verdict = identity.Compare(&want, identity.Observation{Surface: identity.SurfaceHealth, Found: true, Identity: obs})
	r.Outcome, r.ExitCode = OutcomeFailed, 1
	r.Observed = json.RawMessage(`"` + huge + `"`)
	r.Notes = []string{huge}
	md := Markdown(r)
	if len(md) >= MaxMarkdownBytes/10 {
		t.Errorf("len(Markdown()) = %d, want far below %d", len(md), MaxMarkdownBytes)
	}
	if !strings.Contains(md, "… (cut, 5242880 bytes)") {
		t.Errorf("Markdown() does not say the value was cut")
	}
}

// TestMarkdownCap builds a summary that would exceed 1 MiB (thousands of answers and invisible
// characters that escape to 11 bytes each) and checks the final cap.
func TestMarkdownCap(t *testing.T) {
	t.Parallel()
	wide := strings.Repeat("\u202e", lineRunes)
	r := hostileReport()
	r.Notes, r.Warnings = nil, nil
	r.Unavailable = map[string]string{}
	for i := 0; i < 200; i++ {
		r.Notes = append(r.Notes, wide)
		r.Warnings = append(r.Warnings, wide)
		r.Unavailable[strings.Repeat("u", i+1)] = wide
	}
	r.Verdict.Fields = nil
	for i := 0; i < 2000; i++ {
		r.Verdict.Fields = append(r.Verdict.Fields, identity.FieldResult{Field: "f", Expected: wide, Observed: wide, Result: identity.ResultMismatch})
	}
	md := Markdown(r)
	if len(md) > MaxMarkdownBytes {
		t.Errorf("len(Markdown()) = %d, want <= %d", len(md), MaxMarkdownBytes)
	}
	if !strings.Contains(md, "**Summary cut at 1048576 of ") {
		t.Errorf("Markdown() was capped without saying so")
	}
	if !utf8.ValidString(md) {
		t.Errorf("the cap split a rune")
	}
}

func TestCapMarkdown(t *testing.T) {
	t.Parallel()
	line := strings.Repeat("é", 99) + "\n"
	tests := []struct {
		name    string
		in      string
		wantCut bool
	}{
		{"small", "## ok\n", false},
		{"exactly the limit", strings.Repeat("a", MaxMarkdownBytes), false},
		{"one byte over", strings.Repeat("a", MaxMarkdownBytes+1), true},
		{"5 MB of lines", strings.Repeat(line, 5<<20/len(line)), true},
		{"5 MB without a line break", strings.Repeat("é", 5<<19), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := capMarkdown(tc.in)
			if len(got) > MaxMarkdownBytes {
				t.Errorf("len(capMarkdown()) = %d, want <= %d", len(got), MaxMarkdownBytes)
			}
			if cut := got != tc.in; cut != tc.wantCut {
				t.Errorf("capMarkdown() cut = %v, want %v", cut, tc.wantCut)
			}
			if tc.wantCut && !strings.HasSuffix(got, "The evidence file holds the full report.\n") {
				t.Errorf("capMarkdown() does not end with the note: %q", got[max(0, len(got)-200):])
			}
			if !utf8.ValidString(got) {
				t.Errorf("capMarkdown() split a rune")
			}
		})
	}
}

// TestMarkdownVerdictFirst checks that the first line carries the verdict and what an operator
// needs, for every golden case.
func TestMarkdownVerdictFirst(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"unchecked":     "## ➖ unchecked — sellyouroutboard/sellyouroutboard/prod deployment-20260510T141500Z-sellyouroutboard-prod @6b3c9d7",
		"match":         "## ✅ match — sellyouroutboard/sellyouroutboard/prod deployment-20260510T141500Z-sellyouroutboard-prod @6b3c9d7",
		"mismatch":      "## ❌ mismatch — the tenant still serves deployment-20260509T090000Z-sellyouroutboard-prod",
		"missing":       "## ⚠️ missing — the tenant exposes no identity",
		"malformed":     "## ❌ malformed — the tenant's identity could not be read",
		"unverifiable":  "## ❌ unverifiable — the tenant gave no usable answer",
		"rollout-error": "## ❌ rollout error — Dokploy deployment dpl-7Hq2",
		"soft-warning":  "## ⚠️ mismatch — the tenant reports a different artifact\\_id",
	}
	got := map[string]string{}
	for _, tc := range cases() {
		first, _, _ := strings.Cut(Markdown(tc.r), "\n")
		got[tc.name] = first
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Markdown() first lines (-want +got):\n%s", diff)
	}
}

func TestMarkdownRedacts(t *testing.T) {
	t.Parallel()
	const secret = "s3cr_t|tok`en"
	r := hostileReport()
	r.Notes = append(r.Notes, "leaked "+secret)
	r.Verdict.Fields[0].Observed = secret
	r.Probe.Answers[0].Detail = "body: " + secret
	r.Observed = json.RawMessage(`{"token":"` + secret + `"}`)
	r.Redact = func(s string) string { return strings.ReplaceAll(s, secret, "***") }
	md := Markdown(r)
	ev, err := Evidence(r)
	if err != nil {
		t.Fatal(err)
	}
	_, ann := Annotation(r)
	for name, out := range map[string]string{"Markdown": md, "Evidence": string(ev), "Annotation": ann, "Description": Description(r)} {
		for _, spelling := range []string{secret, escapeMarkdown(secret), "s3cr"} {
			if strings.Contains(out, spelling) {
				t.Errorf("%s() holds the secret spelled %q", name, spelling)
			}
		}
	}
	if !strings.Contains(md, "\\*\\*\\*") {
		t.Errorf("Markdown() shows no redaction mark")
	}
}
