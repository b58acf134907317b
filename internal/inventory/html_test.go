package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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
	wantCSP := "default-src 'none'; style-src '" + cspHash(pageCSS) + "'; script-src '" + cspHash(pageJS) + "'; base-uri 'none'; form-action 'none'"
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
