package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// cli runs Main as the binary would, with files on disk.
type cli struct {
	stdout, stderr bytes.Buffer
	terminal       bool
	getenv         func(string) string
	launchplane    func(context.Context, string) (Launchplane, error)
}

func (c *cli) run(t *testing.T, args ...string) int {
	t.Helper()
	clk := clocktest.New()
	env := Env{
		Args: args, Stdout: &c.stdout, Stderr: &c.stderr, Getenv: c.getenv, Now: clk.Now, Sleep: clk.Sleep,
		IsTerminal:  func(io.Writer) bool { return c.terminal },
		Launchplane: c.launchplane,
	}
	return Main(context.Background(), env)
}

func TestMainMixedFleet(t *testing.T) {
	t.Parallel()
	f := startFleet(t, mixedFleet())
	lanes := writeTemp(t, "lanes.json", f.lanesFile(t))
	var c cli
	if code := c.run(t, "--lanes", lanes, "--concurrency", "4", "--timeout", "5s"); code != ExitFailed {
		t.Fatalf("exit %d, want %d (a required lane is down); stderr:\n%s", code, ExitFailed, c.stderr.String())
	}
	// Not a terminal: the JSON read model.
	rep, err := ReadReport("stdout", c.stdout.Bytes())
	if err != nil {
		t.Fatalf("stdout is not a report: %v\n%s", err, c.stdout.String())
	}
	if len(rep.Lanes) != 8 || rep.Counts.Mismatch != 2 || rep.RequiredNotMatching != 1 {
		t.Errorf("report = %d lanes, counts %+v, %d required not matching; want 8, 2 mismatches, 1", len(rep.Lanes), rep.Counts, rep.RequiredNotMatching)
	}
	if c.stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing (no terminal, no progress bar)", c.stderr.String())
	}
}

func TestMainExitsZeroWhenRequiredLanesMatch(t *testing.T) {
	t.Parallel()
	f := startFleet(t, []fleetLane{
		{product: "shop", context: "shop", instance: "prod", serve: serveMatch, require: true},
		{product: "shop", context: "shop", instance: "testing", serve: serveStale},
	})
	var c cli
	if code := c.run(t, "--lanes", writeTemp(t, "lanes.json", f.lanesFile(t)), "--format", "table"); code != ExitOK {
		t.Fatalf("exit %d, want 0: the only non-match is not required; stderr:\n%s", code, c.stderr.String())
	}
	if !strings.Contains(c.stdout.String(), "mismatch      shop/shop/testing") || strings.Contains(c.stdout.String(), "\x1b[") {
		t.Errorf("table =\n%s\nwant the stale lane on its line, without colour off a terminal", c.stdout.String())
	}
}

func TestMainTerminal(t *testing.T) {
	t.Parallel()
	f := startFleet(t, mixedFleet())
	lanes := writeTemp(t, "lanes.json", f.lanesFile(t))
	tests := []struct {
		name      string
		noColor   string
		wantColor bool
	}{
		{"colour", "", true},
		{"NO_COLOR", "1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cli{terminal: true, getenv: func(k string) string {
				if k == "NO_COLOR" {
					return tt.noColor
				}
				return ""
			}}
			c.run(t, "--lanes", lanes)
			out := c.stdout.String()
			if !strings.HasPrefix(out, "STATUS") {
				t.Errorf("stdout on a terminal =\n%s\nwant the table", out)
			}
			if got := strings.Contains(out, "\x1b[31mmismatch"); got != tt.wantColor {
				t.Errorf("coloured mismatch in the table = %v, want %v", got, tt.wantColor)
			}
			if !strings.Contains(c.stderr.String(), "] 8/8 lanes") {
				t.Errorf("stderr = %q, want a progress bar reaching 8/8", c.stderr.String())
			}
		})
	}
}

func TestMainBadLanesFile(t *testing.T) {
	t.Parallel()
	f := startFleet(t, mixedFleet())
	var doc map[string][]map[string]any
	if err := json.Unmarshal(f.lanesFile(t), &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc["lanes"][5], "context")
	doc["lanes"][6]["base_url"] = "https://crm.example.com"
	bad, _ := json.Marshal(doc)
	var c cli
	code := c.run(t, "--lanes", writeTemp(t, "lanes.json", bad))
	if code != ExitConfig {
		t.Fatalf("exit %d, want %d", code, ExitConfig)
	}
	for _, want := range []string{"lanes[5].context: is missing", "lanes[6]: has both health_url and base_url"} {
		if !strings.Contains(c.stderr.String(), want) {
			t.Errorf("stderr =\n%s\nwant it to contain %q", c.stderr.String(), want)
		}
	}
	if c.stdout.Len() != 0 || f.hits.Load() != 0 {
		t.Errorf("stdout %d bytes, tenants %d requests; want nothing written and nothing probed", c.stdout.Len(), f.hits.Load())
	}

	var missing cli
	if code := missing.run(t, "--lanes", filepath.Join(t.TempDir(), "nope.yml")); code != ExitConfig || !strings.Contains(missing.stderr.String(), "lanes: cannot be read: no such file or directory") {
		t.Errorf("a missing lanes file: exit %d, stderr %q; want exit 2 naming the flag", code, missing.stderr.String())
	}
}

func TestMainOutputFile(t *testing.T) {
	t.Parallel()
	f := startFleet(t, mixedFleet())
	lanes := writeTemp(t, "lanes.yml", f.lanesFile(t)) // JSON is YAML too; the name says nothing
	dir := t.TempDir()
	for _, tt := range []struct{ file, format, want string }{
		{"fleet.html", "", "<!DOCTYPE html>"},
		{"fleet.md", "", "## ❌ Runtime identity inventory"},
		{"fleet.out", "", `{"schema_version":1,`},
		{"fleet.txt", "", "STATUS"},
		{"forced.html", "json", `{"schema_version":1,`},
	} {
		var c cli
		args := []string{"--lanes", lanes, "--output", filepath.Join(dir, tt.file)}
		if tt.format != "" {
			args = append(args, "--format", tt.format)
		}
		if code := c.run(t, args...); code != ExitFailed {
			t.Fatalf("%s: exit %d, want %d; stderr:\n%s", tt.file, code, ExitFailed, c.stderr.String())
		}
		got, err := os.ReadFile(filepath.Join(dir, tt.file))
		if err != nil || !strings.HasPrefix(string(got), tt.want) {
			t.Errorf("%s starts %.40q (%v), want %q", tt.file, got, err, tt.want)
		}
		if c.stdout.Len() != 0 || !strings.Contains(c.stderr.String(), "8 lanes: 2 mismatch") {
			t.Errorf("%s: stdout %q, stderr %q; want the report in the file and its counts on stderr", tt.file, c.stdout.String(), c.stderr.String())
		}
	}
}

func TestMainShardsAndMerge(t *testing.T) {
	t.Parallel()
	f := startFleet(t, shardFleet(40))
	lanes := writeTemp(t, "lanes.json", f.lanesFile(t))
	dir := t.TempDir()
	var files []string
	for k := range 10 {
		var c cli
		out := filepath.Join(dir, fmt.Sprintf("shard-%d.json", k))
		c.run(t, "--lanes", lanes, "--shard", fmt.Sprintf("%d/10", k), "--output", out)
		if _, err := os.Stat(out); err != nil {
			t.Fatalf("shard %d wrote no report: %v; stderr:\n%s", k, err, c.stderr.String())
		}
		files = append(files, out)
	}
	var whole cli
	wholeCode := whole.run(t, "--lanes", lanes, "--format", "json")
	var merged cli
	code := merged.run(t, append([]string{"merge", "--format", "json"}, files...)...)
	if code != wholeCode {
		t.Errorf("merge exit %d, want the whole run's %d", code, wholeCode)
	}
	mr, err := ReadReport("merged", merged.stdout.Bytes())
	if err != nil {
		t.Fatalf("merge output: %v; stderr:\n%s", err, merged.stderr.String())
	}
	wr, _ := ReadReport("whole", whole.stdout.Bytes())
	if len(mr.Lanes) != 40 || mr.Counts != wr.Counts || mr.MergedShards != 10 {
		t.Errorf("merged %d lanes, counts %+v, merged_shards %d; want 40, %+v, 10", len(mr.Lanes), mr.Counts, mr.MergedShards, wr.Counts)
	}

	var html cli
	// Flags may follow the files; the format comes from --output.
	htmlOut := filepath.Join(dir, "fleet.html")
	html.run(t, append(append([]string{"merge"}, files...), "--output", htmlOut)...)
	if b, err := os.ReadFile(htmlOut); err != nil || !bytes.Contains(b, []byte("merged from 10 shards")) {
		t.Errorf("merge --output fleet.html: %v; want a page saying it was merged from 10 shards", err)
	}

	var overlap cli
	if code := overlap.run(t, append([]string{"merge"}, append(files, files[3])...)...); code != ExitConfig || !strings.Contains(overlap.stderr.String(), "overlaps") {
		t.Errorf("merge with a shard twice: exit %d, stderr %q; want 2 and an overlap", code, overlap.stderr.String())
	}
	var gap cli
	if code := gap.run(t, append([]string{"merge"}, files[1:]...)...); code != ExitConfig || !strings.Contains(gap.stderr.String(), "shard 0/10 missing") {
		t.Errorf("merge without shard 0: exit %d, stderr %q; want 2 and the gap named", code, gap.stderr.String())
	}
	var none cli
	if code := none.run(t, "merge"); code != ExitConfig {
		t.Errorf("merge without files: exit %d, want 2", code)
	}
}

func TestMainLaunchplane(t *testing.T) {
	t.Parallel()
	f := startFleet(t, []fleetLane{{product: "shop", context: "shop", instance: "prod", serve: serveMatch}})
	want := laneIdentity("shop", "shop", "prod")
	opened := ""
	lp := func(_ context.Context, url string) (Launchplane, error) {
		opened = url
		return Launchplane{
			Profile: func(context.Context, string) ([]ProfileLane, error) {
				return []ProfileLane{{Instance: "prod", Context: "shop", RequireIdentity: true}}, nil
			},
			Environment: func(context.Context, string, string) (ProductEnvironment, error) {
				return ProductEnvironment{Context: "shop", HealthURL: f.urls[0] + "/api/health", Expected: &want}, nil
			},
			Records: RecordFunc(func(context.Context, string) (*identity.Identity, error) {
				return nil, errors.New("not used")
			}),
		}, nil
	}
	c := cli{launchplane: lp}
	if code := c.run(t, "--launchplane-url", "https://launchplane.example.com", "--product", "shop"); code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, c.stderr.String())
	}
	if opened != "https://launchplane.example.com" || !strings.Contains(c.stdout.String(), `"source":"launchplane"`) {
		t.Errorf("opened %q, stdout %s; want Launchplane opened and the source recorded", opened, c.stdout.String())
	}

	down := cli{launchplane: func(context.Context, string) (Launchplane, error) {
		return Launchplane{
			Profile: func(context.Context, string) ([]ProfileLane, error) {
				return nil, errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
			},
			Environment: func(context.Context, string, string) (ProductEnvironment, error) { return ProductEnvironment{}, nil },
		}, nil
	}}
	if code := down.run(t, "--launchplane-url", "https://launchplane.example.com", "--product", "shop"); code != ExitUnknown || down.stdout.Len() != 0 {
		t.Errorf("Launchplane down: exit %d, stdout %q; want %d and nothing written", code, down.stdout.String(), ExitUnknown)
	}
	if !strings.Contains(down.stderr.String(), `read lanes of product "shop": dial tcp`) {
		t.Errorf("stderr = %q, want the failed read named", down.stderr.String())
	}

	var unbound cli
	if code := unbound.run(t, "--launchplane-url", "https://launchplane.example.com", "--product", "shop"); code != ExitConfig {
		t.Errorf("no Launchplane in this build: exit %d, want 2", code)
	}
	var noURL cli
	if code := noURL.run(t, "--product", "shop"); code != ExitConfig || !strings.Contains(noURL.stderr.String(), "--launchplane-url: is missing") {
		t.Errorf("--product alone: exit %d, stderr %q; want 2 asking for --launchplane-url", code, noURL.stderr.String())
	}
}

func TestMainFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, ExitOK, "Usage:"},
		{[]string{}, ExitConfig, "--lanes: is missing"},
		{[]string{"--lanes", "x", "--shard", "10/10"}, ExitConfig, "--shard: is shard 10 of 10; shards are numbered 0 to 9"},
		{[]string{"--lanes", "x", "--concurrency", "0"}, ExitConfig, "--concurrency: is \"0\"; want a whole number from 1 to 1024"},
		{[]string{"--lanes", "x", "--timeout", "10"}, ExitConfig, "--timeout: is \"10\"; want a Go duration"},
		{[]string{"--lanes", "x", "--confirmations", "-2"}, ExitConfig, "--confirmations: is \"-2\""},
		{[]string{"--lanes", "x", "--format", "yaml"}, ExitConfig, "--format: is \"yaml\"; valid formats are table, json, markdown and html"},
		{[]string{"--lanes", "x", "--product", "shop"}, ExitConfig, "--product: cannot be used with --lanes"},
		{[]string{"--lanes", "x", "extra"}, ExitConfig, "unexpected argument \"extra\""},
		{[]string{"--nope"}, ExitConfig, "flag provided but not defined: -nope"},
		{[]string{"--lanes", "x", "--launchplane-url", "ftp://lp"}, ExitConfig, "--launchplane-url: must start with http:// or https://"},
	}
	for _, tt := range tests {
		var c cli
		code := c.run(t, tt.args...)
		out := c.stdout.String() + c.stderr.String()
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("inventory %q: exit %d, output %q; want %d and %q", tt.args, code, out, tt.code, tt.want)
		}
	}
}

func TestConfigFromInputs(t *testing.T) {
	t.Parallel()
	inputs := map[string]string{
		InputLanesFile: "fleet/lanes.yml", InputFormat: "markdown", InputConcurrency: "64", InputShard: "2/10",
		InputLaneTimeout: "30s", InputConfirmations: "auto", InputOutput: "inventory.html",
	}
	cfg, err := ConfigFromInputs(func(k string) string { return inputs[k] })
	if err != nil {
		t.Fatalf("ConfigFromInputs() error = %v", err)
	}
	want := Config{LanesFile: "fleet/lanes.yml", Format: FormatMarkdown, Output: "inventory.html", Concurrency: 64, Timeout: 30e9, Confirmations: 1, Shard: Shard{2, 10}}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("ConfigFromInputs() (-want +got):\n%s", diff)
	}
	inputs[InputShard], inputs[InputLaneTimeout] = "ten", "soon"
	_, err = ConfigFromInputs(func(k string) string { return inputs[k] })
	if err == nil || !strings.Contains(err.Error(), "shard: is \"ten\"") || !strings.Contains(err.Error(), "lane-timeout: is \"soon\"") {
		t.Errorf("ConfigFromInputs() error = %v, want the shard and lane-timeout inputs named", err)
	}
	merge := map[string]string{InputMerge: "shards/*.json\n extra.json", InputOutput: "fleet.html"}
	cfg, err = ConfigFromInputs(func(k string) string { return merge[k] })
	if err != nil || !cmp.Equal(cfg.Merge, []string{"shards/*.json", "extra.json"}) {
		t.Errorf("ConfigFromInputs(merge) = %+v, %v; want the two patterns", cfg, err)
	}
	merge[InputLanesFile] = "lanes.yml"
	if _, err := ConfigFromInputs(func(k string) string { return merge[k] }); err == nil || !strings.Contains(err.Error(), "merge: cannot be used with lanes-file") {
		t.Errorf("ConfigFromInputs(merge and lanes-file) error = %v, want them refused together", err)
	}
}

func TestRunMergeGlob(t *testing.T) {
	t.Parallel()
	f := startFleet(t, shardFleet(12))
	lanes := writeTemp(t, "lanes.json", f.lanesFile(t))
	dir := t.TempDir()
	for k := range 3 {
		var c cli
		c.run(t, "--lanes", lanes, "--shard", fmt.Sprintf("%d/3", k), "--output", filepath.Join(dir, fmt.Sprintf("shard-%d.json", k)))
	}
	rep, err := Run(context.Background(), Config{Merge: []string{filepath.Join(dir, "shard-*.json")}}, Env{})
	if err != nil || rep.MergedShards != 3 || len(rep.Lanes) != 12 {
		t.Fatalf("Run(merge glob) = %+v, %v; want 12 lanes from 3 shards", rep, err)
	}
	if _, err := Run(context.Background(), Config{Merge: []string{filepath.Join(dir, "nope-*.json")}}, Env{}); ExitCode(nil, err) != ExitConfig || !strings.Contains(err.Error(), "matches no file") {
		t.Errorf("Run(merge of a pattern that matches nothing) error = %v, want exit 2", err)
	}
}
