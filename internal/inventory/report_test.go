package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// mixedReport runs the mixed fleet with a fake clock, then gives every lane a stable example URL
// in place of its loopback port, so renderings can be compared with golden files.
func mixedReport(t *testing.T) *Report {
	t.Helper()
	f := startFleet(t, mixedFleet())
	clk := clocktest.New()
	inv := Inventory{Source: FileSource{Data: f.lanesFile(t)}, SourceKind: SourceLanesFile, Prober: Prober{Now: clk.Now, Sleep: clk.Sleep}}
	rep, err := inv.Run(context.Background())
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	for i, u := range f.urls {
		host := fmt.Sprintf("https://%s-%s.example.com", f.lanes[i].context, f.lanes[i].instance)
		for j := range rep.Lanes {
			l := &rep.Lanes[j]
			l.URL = strings.Replace(l.URL, u, host, 1)
			for k := range l.Notes {
				l.Notes[k] = strings.ReplaceAll(l.Notes[k], u, host)
			}
		}
	}
	rep.LanesDigest = "sha256:" + strings.Repeat("ab", 32)
	return rep
}

func compileInventorySchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range []string{"inventory.v1.schema.json", "runtime-identity.v1.schema.json"} {
		r, err := os.Open("../../schema/" + f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(r)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.AddResource("https://github.com/launchplane/runtime-identity/schema/"+f, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("https://github.com/launchplane/runtime-identity/schema/inventory.v1.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	return s.Validate(doc)
}

func TestReportSchema(t *testing.T) {
	t.Parallel()
	s := compileInventorySchema(t)
	rep := mixedReport(t)
	if err := validate(t, s, rep.JSON()); err != nil {
		t.Errorf("the mixed fleet's report breaks schema/inventory.v1.schema.json: %v", err)
	}
	cut := *rep
	cut.Lanes = append([]LaneResult(nil), rep.Lanes...)
	cut.Lanes[0].Observed = cutObserved(json.RawMessage(`"` + strings.Repeat("x", MaxObservedBytes+1) + `"`))
	cut.Shard, cut.MergedShards = Shard{Index: 3, Count: 10}, 0
	if err := validate(t, s, cut.JSON()); err != nil {
		t.Errorf("a shard report with a cut observed identity breaks the schema: %v", err)
	}
	for name, mutate := range map[string]func(m map[string]any){
		"an unknown status":   func(m map[string]any) { lane0(m)["runtime_identity_status"] = "ok" },
		"an unknown key":      func(m map[string]any) { m["extra"] = 1 },
		"a lane without url":  func(m map[string]any) { delete(lane0(m), "url") },
		"a URL with a query":  func(m map[string]any) { lane0(m)["url"] = "https://a.example/h?token=x" },
		"a count missing":     func(m map[string]any) { delete(m["counts"].(map[string]any), "match") },
		"schema_version 2":    func(m map[string]any) { m["schema_version"] = 2 },
		"a bad trust state":   func(m map[string]any) { lane0(m)["trust_state"] = "trusted" },
		"a shard count of 0":  func(m map[string]any) { m["shard"] = map[string]any{"index": 0, "count": 0} },
		"a bad expected":      func(m map[string]any) { lane0(m)["expected_runtime_identity"] = map[string]any{"context": "x"} },
		"a time with offsets": func(m map[string]any) { m["generated_at"] = "2026-03-01T12:00:00+01:00" },
	} {
		var m map[string]any
		if err := json.Unmarshal(rep.JSON(), &m); err != nil {
			t.Fatal(err)
		}
		mutate(m)
		b, _ := json.Marshal(m)
		if err := validate(t, s, b); err == nil {
			t.Errorf("the schema accepts a report with %s", name)
		}
	}
}

// lane0 returns the first lane with an expected identity of a decoded report.
func lane0(m map[string]any) map[string]any {
	for _, l := range m["lanes"].([]any) {
		if lm := l.(map[string]any); lm["expected_runtime_identity"] != nil {
			return lm
		}
	}
	panic("no lane with an expected identity")
}

func TestWriteJSONIsEncodingJSON(t *testing.T) {
	t.Parallel()
	rep := mixedReport(t)
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := rep.WriteJSON(&got); err != nil {
		t.Fatalf("WriteJSON() error = %v", err)
	}
	if diff := cmp.Diff(want.String(), got.String()); diff != "" {
		t.Errorf("WriteJSON() differs from encoding/json (-want +got):\n%s", diff)
	}
	empty := &Report{SchemaVersion: 1, Lanes: []LaneResult{}}
	if got := string(empty.JSON()); !strings.Contains(got, `"lanes":[],"counts"`) {
		t.Errorf("JSON() of no lanes = %s, want an empty lanes list", got)
	}
}

func TestReadReport(t *testing.T) {
	t.Parallel()
	rep := mixedReport(t)
	got, err := ReadReport("mixed.json", rep.JSON())
	if err != nil {
		t.Fatalf("ReadReport() error = %v", err)
	}
	if diff := cmp.Diff(rep, got); diff != "" {
		t.Errorf("ReadReport(JSON()) (-want +got):\n%s", diff)
	}
	tests := []struct {
		name   string
		mutate func(r *Report) []byte
		want   string
	}{
		{"unknown key", func(r *Report) []byte {
			return bytes.Replace(r.JSON(), []byte(`"schema_version":1`), []byte(`"schema_version":1,"x":1`), 1)
		}, `unknown field "x"`},
		{"another schema version", func(r *Report) []byte { r.SchemaVersion = 2; return r.JSON() }, "schema_version: is 2"},
		{"unknown status", func(r *Report) []byte { r.Lanes[1].Status = "fine"; return r.JSON() }, "lanes[1].runtime_identity_status"},
		{"wrong trust state", func(r *Report) []byte { r.Lanes[0].TrustState = "verified"; return r.JSON() }, "lanes[0].trust_state"},
		{"unsorted lanes", func(r *Report) []byte { r.Lanes[0], r.Lanes[1] = r.Lanes[1], r.Lanes[0]; return r.JSON() }, "lanes[1]: \"blog/blog/prod\" is out of order"},
		{"counts off", func(r *Report) []byte { r.Counts.Match++; return r.JSON() }, "counts: do not add up"},
		{"bad shard", func(r *Report) []byte { r.Shard = Shard{Index: 2, Count: 2}; return r.JSON() }, "shard: is 2/2"},
		{"bad name", func(r *Report) []byte { r.Lanes[0].Product = "a b"; return r.JSON() }, "lanes[0]: product, context or instance is"},
		{"two objects", func(r *Report) []byte { return append(r.JSON(), r.JSON()...) }, "has more after the report object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := mixedReportCopy(rep)
			_, err := ReadReport("mixed.json", tt.mutate(r))
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "mixed.json") {
				t.Errorf("ReadReport() error = %v, want an *InputError naming mixed.json and containing %q", err, tt.want)
			}
		})
	}
}

func mixedReportCopy(r *Report) *Report {
	c := *r
	c.Lanes = append([]LaneResult(nil), r.Lanes...)
	return &c
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	rep := mixedReport(t)
	for _, tt := range []struct {
		format Format
		color  bool
		file   string
	}{
		{FormatJSON, false, "mixed.json"},
		{FormatMarkdown, false, "mixed.md"},
		{FormatTable, false, "mixed.txt"},
		{FormatTable, true, "mixed.color.txt"},
	} {
		var b bytes.Buffer
		if err := Render(&b, rep, tt.format, tt.color); err != nil {
			t.Fatalf("Render(%s) error = %v", tt.format, err)
		}
		golden(t, tt.file, b.Bytes())
	}
}

// hostileFragments are pieces of the hostile tenant's answer that must never reach a rendering
// as they were sent, by format: markup and Markdown structure where they would be read, control
// characters everywhere.
var hostileFragments = map[Format][]string{
	FormatMarkdown: {"<img src=x", "<script>document", "</td></tr><script>", "](javascript:", "| injected |", "\n## heading", "\x1b"},
	FormatHTML:     {"<img src=x", "<script>document", "</td></tr><script>", "\x1b"},
	FormatTable:    {"\x1b", "\n## heading"},
}

func TestRenderingsKeepTenantTextInert(t *testing.T) {
	t.Parallel()
	rep := mixedReport(t)
	for f, frags := range hostileFragments {
		var b bytes.Buffer
		if err := Render(&b, rep, f, false); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, frag := range frags {
			if strings.Contains(out, frag) {
				t.Errorf("%s rendering holds the tenant's %q unescaped", f, frag)
			}
		}
		if !strings.Contains(out, "crm/crm-us/prod") {
			t.Errorf("%s rendering lacks the hostile lane", f)
		}
	}
	var md bytes.Buffer
	_ = Render(&md, rep, FormatMarkdown, false)
	// Every lane row has exactly the table's seven unescaped pipes.
	pipe := regexp.MustCompile(`(^|[^\\])\|`)
	for _, line := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(line, "| ✅") || strings.HasPrefix(line, "| ⚠️") || strings.HasPrefix(line, "| ❌") || strings.HasPrefix(line, "| ➖") {
			if n := len(pipe.FindAllString(line, -1)); n != 7 {
				t.Errorf("markdown row has %d cell separators, want 7: %s", n, line)
			}
		}
	}
}

func TestMarkdownBoundsAHugeFleet(t *testing.T) {
	t.Parallel()
	rep := &Report{SchemaVersion: 1, GeneratedAt: "2026-03-01T12:00:00Z", Source: SourceLanesFile, Shard: Shard{0, 1}}
	long := strings.Repeat("x", 2000)
	for i := range 5000 {
		st := identity.StatusMatch
		if i%10 == 0 {
			st = identity.StatusMismatch
		}
		rep.Lanes = append(rep.Lanes, LaneResult{Product: "p", Context: fmt.Sprintf("c%05d", i), Instance: "prod", Status: st, Detail: long, URL: "https://x.example/" + long})
	}
	rep.LanesTotal = len(rep.Lanes)
	rep.finish()
	md := Markdown(rep)
	if len(md) > 1<<20 {
		t.Errorf("Markdown() is %d bytes, want under GitHub's 1 MiB summary limit", len(md))
	}
	rows := strings.Count(md, "\n| ")
	if rows > MaxMarkdownRows+10 {
		t.Errorf("Markdown() has %d rows, want at most %d lanes listed", rows, MaxMarkdownRows)
	}
	if !strings.Contains(md, "more lanes (the first") {
		t.Errorf("Markdown() does not say how many lanes it left out")
	}
	// Problems come first: all 500 mismatches are listed before any match.
	if i, j := strings.LastIndex(md, "| ⚠️ | mismatch |"), strings.Index(md, "| ✅ | match |"); i < 0 || j >= 0 && i > j {
		t.Errorf("mismatches are not all listed before the first match (last mismatch at %d, first match at %d)", i, j)
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	var p Progress
	var drawn int
	var last string
	for done := 1; done <= 1000; done++ {
		if s := p.Line(done, 1000); s != "" {
			drawn++
			last = s
		}
	}
	if drawn != 100 {
		t.Errorf("Progress drew %d times for 1000 lanes, want 100 (every 1%%)", drawn)
	}
	if !strings.Contains(last, "1000/1000") || !strings.HasSuffix(last, "\r\x1b[K") {
		t.Errorf("last bar = %q, want 1000/1000 and the line cleared", last)
	}
}
