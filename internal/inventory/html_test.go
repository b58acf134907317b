package inventory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
)

func renderHTML(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatalf("HTML() error = %v", err)
	}
	return b.String()
}

func TestHTMLPage(t *testing.T) {
	t.Parallel()
	rep := mixedReport(t)
	page := renderHTML(t, rep)
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	// The hashes are of the inline blocks as the page holds them (CSP Level 3, "hash-source"):
	// base64 of their SHA-256, computed here from the rendered page, not with the page's code.
	inline := func(tag string) string {
		m := regexp.MustCompile(`(?s)<` + tag + `>(.*?)</` + tag + `>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("page has no <%s> block", tag)
		}
		sum := sha256.Sum256([]byte(m[1]))
		return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	}
	wantCSP := "default-src 'none'; style-src '" + inline("style") + "'; script-src '" + inline("script") + "'; base-uri 'none'; form-action 'none'"
	if csp == nil || html.UnescapeString(csp[1]) != wantCSP {
		t.Errorf("Content-Security-Policy = %q, want %q", csp, wantCSP)
	}
	for _, want := range []string{
		"<style>" + pageCSS + "</style>",
		"<script>" + pageJS + "</script>",
		`data-total="8" data-required-not-matching="1"`,
		`1 required lane does not match: the run fails.`,
		`&lt;img src=x onerror=&#34;document.body.dataset.pwned=1&#34;&gt;`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Self-contained: no element loads anything, and nothing links out but plain text.
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<(img|link|iframe|object|embed|audio|video|source)\b`),
		regexp.MustCompile(`<[a-z]+[^>]*\ssrc=`),
		regexp.MustCompile(`<[a-z]+[^>]*\shref=`),
		regexp.MustCompile(`url\(`),
		regexp.MustCompile(`@import`),
	} {
		if loc := bad.FindStringIndex(page); loc != nil {
			t.Errorf("page is not self-contained: %q at %d", page[loc[0]:min(loc[1]+40, len(page))], loc[0])
		}
	}
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("page has %d script elements, want exactly the one inline script", n)
	}
	// Problems first, and the first problem lane open.
	order := regexp.MustCompile(`<section class="group" data-status="([a-z]+)"`).FindAllStringSubmatch(page, -1)
	var groups []string
	for _, m := range order {
		groups = append(groups, m[1])
	}
	if got, want := strings.Join(groups, ","), "mismatch,malformed,unverifiable,missing,unchecked,match"; got != want {
		t.Errorf("groups in order %s, want %s", got, want)
	}
	open := regexp.MustCompile(`<details class="lane" data-status="[a-z]+" data-key="([^"]+)" open>`).FindAllStringSubmatch(page, -1)
	if len(open) != 1 || open[0][1] != "crm/crm-us/prod" {
		t.Errorf("open lanes = %q, want only the first mismatch, crm/crm-us/prod", open)
	}
	if n := strings.Count(page, `<details class="lane"`); n != len(rep.Lanes) {
		t.Errorf("page has %d lanes, want %d", n, len(rep.Lanes))
	}
	if !strings.Contains(page, `<tr class="r-mismatch" data-field="source_git_ref"><td>source_git_ref</td><td class="v">6b3c9d7e8f901234567890abcdef1234567890ab</td><td class="v">0000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</td><td class="res">mismatch</td></tr>`) {
		t.Errorf("page lacks the stale lane's source_git_ref diff row")
	}
}

// chromiumPath is Debian's chromium; .ci/run installs it and sets requireChromiumEnv.
const (
	chromiumPath       = "/usr/bin/chromium"
	requireChromiumEnv = "RUNTIME_IDENTITY_REQUIRE_CHROMIUM"
)

// chromium runs headless Chromium on a file, without network, sync, updates or a profile of its
// own, and returns its standard output.
func chromium(t *testing.T, page string, args ...string) []byte {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv(requireChromiumEnv) != "" {
			t.Fatalf("%s is not installed but %s is set: install Debian's chromium (apt-get install chromium)", chromiumPath, requireChromiumEnv)
		}
		t.Skipf("%s is not installed: the page is not checked in a browser (apt-get install chromium; CI sets %s)", chromiumPath, requireChromiumEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(),
	}
	cmd := exec.CommandContext(ctx, chromiumPath, append(append(base, args...), "file://"+page)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

func TestHTMLInChromium(t *testing.T) {
	rep := mixedReport(t)
	page := writeTemp(t, "inventory.html", []byte(renderHTML(t, rep)))
	dom := string(chromium(t, page, "--dump-dom"))

	body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
	// The inline script ran under the page's Content Security Policy: its hash is right.
	for _, want := range []string{`data-ready="1"`, `data-shown="8"`, `data-total="8"`} {
		if !strings.Contains(body, want) {
			t.Errorf("body element %s lacks %s: the page's script did not run as expected", body, want)
		}
	}
	if strings.Contains(body, "pwned") || strings.Contains(dom, "<title>pwned") {
		t.Errorf("the hostile tenant's markup ran in the page: %s", body)
	}
	if n := strings.Count(dom, "<img"); n != 0 {
		t.Errorf("the DOM holds %d <img> elements, want none (a tenant's value became markup)", n)
	}
	if !strings.Contains(dom, `&lt;img src=x onerror="document.body.dataset.pwned=1"&gt;`) {
		t.Errorf("the hostile value is not shown as text")
	}
	// Each group counts its visible lanes, and the counts add up to the report's.
	visible := regexp.MustCompile(`<section class="group" data-status="([a-z]+)" data-visible="(\d+)"`).FindAllStringSubmatch(dom, -1)
	got := map[string]string{}
	for _, m := range visible {
		got[m[1]] = m[2]
	}
	want := map[string]string{"mismatch": "2", "malformed": "1", "unverifiable": "1", "missing": "1", "unchecked": "1", "match": "2"}
	for s, n := range want {
		if got[s] != n {
			t.Errorf("group %s shows %q lanes in Chromium, want %s", s, got[s], n)
		}
	}
	rows := regexp.MustCompile(`<details class="lane" data-status="([a-z]+)" data-key="([^"]+)"`).FindAllStringSubmatch(dom, -1)
	if len(rows) != 8 || rows[0][2] != "crm/crm-us/prod" || rows[len(rows)-1][1] != "match" {
		t.Errorf("Chromium shows %d lanes starting with %v; want 8, problems first", len(rows), rows[:min(1, len(rows))])
	}
}

// docsFleet is the fleet of the screenshot in docs/inventory.md.
func docsFleet() []fleetLane {
	var lanes []fleetLane
	for _, p := range []string{"shop", "blog", "crm", "docs", "billing"} {
		for _, inst := range []string{"prod", "testing"} {
			lanes = append(lanes, fleetLane{product: p, context: p, instance: inst, serve: serveMatch, require: inst == "prod"})
		}
	}
	lanes[1].serve = serveStale   // shop/testing serves an old build
	lanes[2].serve = serveMissing // blog/prod was never given an identity
	lanes[5].serve = serveDown    // crm/testing is down
	lanes[7].unchecked = true     // docs/testing has no expected identity
	lanes[8].serve = serveStale   // billing/prod serves an old build, and it is required
	return lanes
}

func TestHTMLScreenshot(t *testing.T) {
	f := startFleet(t, docsFleet())
	rep, err := Inventory{Source: FileSource{Data: f.lanesFile(t)}, SourceKind: SourceLanesFile}.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range f.urls {
		host := "https://" + f.lanes[i].context + "-" + f.lanes[i].instance + ".example.com"
		for j := range rep.Lanes {
			rep.Lanes[j].URL = strings.Replace(rep.Lanes[j].URL, u, host, 1)
		}
	}
	page := writeTemp(t, "inventory.html", []byte(renderHTML(t, rep)))
	png := filepath.Join(t.TempDir(), "inventory.png")
	chromium(t, page, "--screenshot="+png, "--window-size=1280,1180")
	img, err := os.ReadFile(png)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if !bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) || len(img) < 20_000 {
		t.Fatalf("screenshot is %d bytes starting %q, want a PNG of a rendered page", len(img), img[:min(8, len(img))])
	}
	if *update {
		if err := os.WriteFile("../../docs/inventory.png", img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// hostileValues are lane values meant to break out of the page's markup: a script element, an
// attribute, an entity that must stay literal, line and paragraph separators, controls, invalid
// UTF-8 and the characters html/template also escapes.
var hostileValues = []string{
	"</script><script>alert(1)</script>",
	`"><img src=x onerror=alert(1)>`,
	"&lt;",
	"a\u2028b\u2029c",
	"nul\x00bel\x07esc\x1b[31mdel\x7fc1\u0085tab\tnl\ncr\r",
	"bad\xffutf8\xc3",
	"' onmouseover='alert(1)' x='+1",
	"<!-- </pre></details></textarea></title><style>",
}

// edgeReport is a hand-made shard report that takes every branch of the page: every status, a
// scope, two required lanes failing, a lane without fields that expected an identity, HTTP
// statuses, round counts, records and notes, with hostile text in every field a lane carries.
func edgeReport() *Report {
	h := func(i int) string { return hostileValues[i%len(hostileValues)] }
	want := laneIdentity("shop", "shop", "prod")
	r := &Report{
		SchemaVersion: 1, GeneratedAt: "2026-03-01T12:00:00Z" + h(0), Source: SourceLaunchplane + h(1),
		LanesDigest: "sha256:" + strings.Repeat("cd", 32), LanesTotal: 30, Shard: Shard{Index: 1, Count: 3},
	}
	for i, s := range statusOrder {
		l := LaneResult{
			Product: h(i), Context: h(i + 1), Instance: h(i + 2), Status: s, Detail: h(i + 3), TrustState: h(i + 4),
			RequireIdentity: i < 2, Attempts: i, LatencyMS: int64(i * 7), HTTPStatus: []int{0, 200, 503}[i%3],
		}
		if i%2 == 0 {
			l.URL, l.Surface, l.ExpectedFrom, l.DeploymentRecordID = "https://x.example/"+h(i+5), h(i+6), h(i+7), h(i+1)
			l.Expected = &want
			l.Notes = []string{h(i), h(i + 3)}
			l.Observed = json.RawMessage(`{"k":` + strconv.Quote(h(i)) + `,"raw":"</pre><script>alert(1)</script>\u2028"}`)
		}
		if s == identity.StatusMismatch || s == identity.StatusMatch {
			l.Fields = []FieldDiff{
				{Field: "source_git_ref", Expected: h(i), Observed: h(i + 1), Result: "mismatch"},
				{Field: h(i + 2), Expected: "", Observed: h(i + 3), Result: "not compared"},
			}
			l.Mismatched = []string{"source_git_ref"}
		}
		r.Lanes = append(r.Lanes, l)
	}
	// A second lane of one status, so a group counts "lanes".
	r.Lanes = append(r.Lanes, LaneResult{Product: "shop", Context: "shop", Instance: "prod", Status: identity.StatusMatch, Attempts: 1, TrustState: "verified"})
	r.finish()
	return r
}

func TestHTMLGolden(t *testing.T) {
	t.Parallel()
	allMatch := &Report{SchemaVersion: 1, GeneratedAt: "2026-03-01T12:00:00Z", Source: SourceLanesFile, Shard: Shard{0, 1}, MergedShards: 2,
		Lanes: []LaneResult{{Product: "shop", Context: "shop", Instance: "prod", Status: identity.StatusMatch, RequireIdentity: true, Attempts: 2}}}
	allMatch.finish()
	empty := &Report{SchemaVersion: 1, GeneratedAt: "2026-03-01T12:00:00Z", Source: SourceLanesFile, Shard: Shard{0, 1}}
	empty.finish()
	for _, tt := range []struct {
		name string
		rep  *Report
	}{
		{"mixed", mixedReport(t)},
		{"edges", edgeReport()},
		{"all-match", allMatch},
		{"empty", empty},
	} {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name+".html", []byte(renderHTML(t, tt.rep)))
		})
	}
}

// everyField is a report of one lane per status with v in every text field a lane or report
// carries, the observed identity included (as a key and a value, HTML characters unescaped).
func everyField(v string) *Report {
	var obs bytes.Buffer
	enc := json.NewEncoder(&obs)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"k": v, v: "v"})
	want := laneIdentity("shop", "shop", "prod")
	r := &Report{SchemaVersion: 1, GeneratedAt: v, Source: v, LanesDigest: v, Shard: Shard{0, 1}}
	for i, s := range statusOrder {
		r.Lanes = append(r.Lanes, LaneResult{
			Product: v, Context: v, Instance: v + strconv.Itoa(i), URL: v, Surface: v, HTTPStatus: 200, ExpectedFrom: v,
			DeploymentRecordID: v, Expected: &want, Observed: json.RawMessage(bytes.TrimSpace(obs.Bytes())), Status: s,
			Detail: v, TrustState: v, Mismatched: []string{v}, Notes: []string{v, v},
			Fields:   []FieldDiff{{Field: v, Expected: v, Observed: v, Result: "mismatch"}, {Field: "artifact_id", Expected: v, Observed: v, Result: "not compared"}},
			Attempts: 1, RequireIdentity: true,
		})
	}
	r.finish()
	return r
}

var (
	pageTag       = regexp.MustCompile(`<[^<>]*>`)
	pageAttrValue = regexp.MustCompile(`="[^"]*"`)
	pageDataKey   = regexp.MustCompile(`data-key="([^"]*)"`)
)

// tagShapes lists the page's tags with their attribute values left out: the markup a value could
// break by closing an attribute or opening a tag.
func tagShapes(page string) []string {
	tags := pageTag.FindAllString(page, -1)
	for i, tag := range tags {
		tags[i] = pageAttrValue.ReplaceAllString(tag, `=""`)
	}
	return tags
}

// htmlSafe is what s reads as on the page: the characters HTML does not allow (NUL, controls
// other than ASCII whitespace, noncharacters, invalid UTF-8) replaced by U+FFFD.
func htmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\f' || r == '\r' {
			return r
		}
		if unicode.IsControl(r) || noncharacter(r) {
			return utf8.RuneError
		}
		return r
	}, s)
}

// checkInert fails unless the page rendered from everyField(v) holds v only as text: the same
// tags and attributes as the page of a harmless value, the page's own script and no other,
// nothing HTML forbids or that would end a line in a script, and each lane's key readable back
// from its attribute.
func checkInert(t *testing.T, v string) {
	t.Helper()
	harmless := ""
	if v != "" {
		harmless = "x"
	}
	var b bytes.Buffer
	if err := HTML(&b, everyField(v)); err != nil {
		t.Fatalf("HTML() error = %v", err)
	}
	page := b.String()
	if diff := cmp.Diff(tagShapes(renderHTML(t, everyField(harmless))), tagShapes(page)); diff != "" {
		t.Fatalf("value %q changes the page's markup (-harmless +got):\n%s", v, diff)
	}
	if n := strings.Count(strings.ToLower(page), "<script"); n != 1 || !strings.Contains(page, "<script>"+pageJS+"</script>") {
		t.Errorf("value %q: page has %d <script, want only the page's own script", v, n)
	}
	if !utf8.ValidString(page) {
		t.Errorf("value %q: page is not valid UTF-8", v)
	}
	for i, r := range page {
		if r != '\t' && r != '\n' && r != '\f' && r != '\r' && unicode.IsControl(r) || noncharacter(r) || r == '\u2028' || r == '\u2029' {
			t.Errorf("value %q: page holds %U at %d", v, r, i)
			break
		}
	}
	keys := pageDataKey.FindAllStringSubmatch(page, -1)
	if len(keys) != len(statusOrder) {
		t.Fatalf("value %q: page has %d data-key attributes, want %d", v, len(keys), len(statusOrder))
	}
	for _, k := range keys {
		got := html.UnescapeString(k[1])
		if !strings.HasPrefix(got, htmlSafe(v+"/"+v+"/"+v)) {
			t.Errorf("value %q: data-key reads %q, want the lane's key %q", v, got, htmlSafe(v+"/"+v+"/"+v))
		}
	}
}

func TestHTMLKeepsHostileValuesInert(t *testing.T) {
	t.Parallel()
	for _, v := range hostileValues {
		t.Run(strconv.QuoteToASCII(v), func(t *testing.T) {
			t.Parallel()
			checkInert(t, v)
		})
	}
}

func FuzzHTML(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v)
	}
	f.Add("")
	f.Add("\ufdd0\U0010fffe\ufffd&#34;&amp")
	f.Fuzz(checkInert)
}

func TestEscapeHTML(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in, want string
	}{
		{"plain", "crm/crm-us/prod", "crm/crm-us/prod"},
		{"markup", `</script><script>alert(1)</script>`, `&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;`},
		{"attribute", `"><img src=x onerror=alert(1)>`, `&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`},
		{"reference stays literal", "&lt;", "&amp;lt;"},
		{"single quote and plus", "' x='+1", "&#39; x=&#39;&#43;1"},
		{"line separators", "a\u2028b\u2029c", "a&#8232;b&#8233;c"},
		{"controls", "\x00\x07\x1b\x7f\u0085", "\ufffd\ufffd\ufffd\ufffd\ufffd"},
		{"ASCII whitespace kept", "\t\n\f\r ", "\t\n\f\r "},
		{"invalid UTF-8", "a\xffb\xc3", "a\ufffdb\ufffd"},
		{"noncharacters", "\ufdd0\ufffe\U0001ffff", "\ufffd\ufffd\ufffd"},
		{"replacement character kept", "\ufffd", "\ufffd"},
		{"other text kept", "— · é 日本 🙂", "— · é 日本 🙂"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := escapeHTML(tt.in); got != tt.want {
				t.Errorf("escapeHTML(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzEscapeHTML(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := escapeHTML(s)
		if strings.ContainsAny(got, `<>"'`) {
			t.Errorf("escapeHTML(%q) = %q, holds a raw markup character", s, got)
		}
		if back := html.UnescapeString(got); back != htmlSafe(s) {
			t.Errorf("html.UnescapeString(escapeHTML(%q)) = %q, want %q", s, back, htmlSafe(s))
		}
		// Where there is nothing but text HTML allows, it is html.EscapeString's escaping (and
		// html/template's '+').
		if !strings.ContainsAny(s, "+\u2028\u2029") && htmlSafe(s) == s {
			if want := html.EscapeString(s); got != want {
				t.Errorf("escapeHTML(%q) = %q, want html.EscapeString's %q", s, got, want)
			}
		}
	})
}

// TestHostilePageInChromium loads the page of hostile values in a browser: the page's own script
// runs (the markup around it held), no value became an element.
func TestHostilePageInChromium(t *testing.T) {
	page := writeTemp(t, "hostile.html", []byte(renderHTML(t, edgeReport())))
	dom := string(chromium(t, page, "--dump-dom"))
	body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
	for _, want := range []string{`data-ready="1"`, `data-shown="7"`} {
		if !strings.Contains(body, want) {
			t.Errorf("body element %s lacks %s: the page's script did not run as expected", body, want)
		}
	}
	for tag, want := range map[string]int{"<script": 1, "<img": 0, "<style": 1, `<details class="lane"`: 7, "<section": 6} {
		if n := strings.Count(dom, tag); n != want {
			t.Errorf("the DOM holds %d %s, want %d", n, tag, want)
		}
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestHTMLWriteError(t *testing.T) {
	t.Parallel()
	errFull := errors.New("disk full")
	if err := HTML(failingWriter{errFull}, edgeReport()); !errors.Is(err, errFull) {
		t.Errorf("HTML() error = %v, want one wrapping %v", err, errFull)
	}
}
