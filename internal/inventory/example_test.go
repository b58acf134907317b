package inventory

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestFleetWorkflowExample keeps examples/workflows/fleet.yml honest: ten shards that name
// themselves i/10, a merge job that runs after failed shards, inputs this package reads, and
// every third-party action pinned by commit.
func TestFleetWorkflowExample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../examples/workflows/fleet.yml")
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		Uses string            `yaml:"uses"`
		If   string            `yaml:"if"`
		With map[string]string `yaml:"with"`
	}
	var wf struct {
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			Needs    string `yaml:"needs"`
			If       string `yaml:"if"`
			Strategy struct {
				FailFast *bool `yaml:"fail-fast"`
				Matrix   struct {
					Shard []int `yaml:"shard"`
				} `yaml:"matrix"`
			} `yaml:"strategy"`
			Steps []step `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("fleet.yml: %v", err)
	}
	if len(wf.Permissions) != 0 {
		t.Errorf("fleet.yml grants %v at the top; want permissions: {} and grants per job", wf.Permissions)
	}
	shard, merge := wf.Jobs["shard"], wf.Jobs["merge"]
	if got := shard.Strategy.Matrix.Shard; len(got) != 10 || got[0] != 0 || got[9] != 9 {
		t.Errorf("shard matrix = %v, want 0 to 9", got)
	}
	if shard.Strategy.FailFast == nil || *shard.Strategy.FailFast {
		t.Errorf("shard jobs must not fail fast: every shard reports")
	}
	if merge.Needs != "shard" || !strings.Contains(merge.If, "!cancelled()") {
		t.Errorf("merge job needs %q if %q; want it after the shards, also when one failed", merge.Needs, merge.If)
	}
	known := map[string]bool{"mode": true}
	for _, in := range []string{InputLanesFile, InputLaunchplaneURL, InputProduct, InputFormat, InputOutput, InputConcurrency, InputLaneTimeout, InputConfirmations, InputShard, InputMerge} {
		known[in] = true
	}
	pinned := regexp.MustCompile(`^[a-z0-9-]+/[a-z0-9-]+@[0-9a-f]{40}$`)
	var inventorySteps int
	for name, job := range wf.Jobs {
		for _, s := range job.Steps {
			switch {
			case strings.HasPrefix(s.Uses, "launchplane/runtime-identity@"):
				inventorySteps++
				if s.With["mode"] != "inventory" {
					t.Errorf("%s: runtime-identity step has mode %q, want inventory", name, s.With["mode"])
				}
				for k := range s.With {
					if !known[k] {
						t.Errorf("%s: input %q is not an inventory input", name, k)
					}
				}
				if name == "shard" {
					if _, err := ParseShard(strings.ReplaceAll(s.With[InputShard], "${{ matrix.shard }}", "9")); err != nil {
						t.Errorf("shard input %q: %v", s.With[InputShard], err)
					}
					if s.With[InputLanesFile] == "" || FormatForFile(s.With[InputOutput]) != FormatJSON {
						t.Errorf("shard step with %v; want a lanes file and a JSON report to merge", s.With)
					}
				} else if s.With[InputMerge] == "" {
					t.Errorf("merge step with %v; want the merge input", s.With)
				}
			case s.Uses != "":
				if !pinned.MatchString(s.Uses) {
					t.Errorf("%s: %s is not pinned by commit", name, s.Uses)
				}
			}
		}
	}
	if inventorySteps != 2 {
		t.Errorf("fleet.yml has %d runtime-identity steps, want the shard's and the merge's", inventorySteps)
	}
}
