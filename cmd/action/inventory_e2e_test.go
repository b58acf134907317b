package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// TestInventoryMode runs mode inventory as the runner runs the Action: a lanes file in the
// workspace, mixed lanes, the JSON read model at evidence-path, the Markdown in the job summary,
// and exit 1 because a lane that requires its identity does not serve it.
func TestInventoryMode(t *testing.T) {
	t.Parallel()
	lane := func(instance string) identity.Identity {
		id := prExpected()
		id.Context, id.Instance, id.PreviewID, id.EnvironmentKind = "shop", instance, "", identity.KindStable
		return id
	}
	serving := func(id identity.Identity) string {
		return tenant(t, serveJSON(200, healthBody(string(id.Canonical()))))
	}
	lanes := fmt.Sprintf(`{"lanes": [
  {"product": "shop", "context": "shop", "instance": "prod", "health_url": %q, "expected": %s, "require_identity": true},
  {"product": "shop", "context": "shop", "instance": "testing", "health_url": %q, "expected": %s, "require_identity": true},
  {"product": "shop", "context": "shop", "instance": "pr-7", "health_url": %q, "expected": %s}
]}`, serving(lane("prod")), lane("prod").Canonical(),
		serving(stale(lane("testing"))), lane("testing").Canonical(),
		serving(stale(lane("pr-7"))), lane("pr-7").Canonical())
	in := map[string]string{"mode": "inventory", "lanes-file": "fleet.json", "github-deployment": "false"}
	res := runAsRunner(t, runnerOpts{inputs: in, files: map[string]string{"fleet.json": lanes}, schema: "inventory"})
	if res.code != 1 {
		t.Fatalf("exit %d, want 1: a required lane is stale\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	var rep struct {
		Lanes []struct {
			Instance string `json:"instance"`
			Status   string `json:"runtime_identity_status"`
		} `json:"lanes"`
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal(res.evidence, &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range rep.Lanes {
		got[l.Instance] = l.Status
	}
	if got["prod"] != "match" || got["testing"] != "mismatch" || got["pr-7"] != "mismatch" || rep.Counts["mismatch"] != 2 {
		t.Errorf("lanes = %v counts = %v, want prod match and two mismatches", got, rep.Counts)
	}
	if !strings.Contains(res.summary, "testing") || !strings.Contains(res.summary, "mismatch") {
		t.Errorf("the job summary does not show the fleet:\n%s", res.summary)
	}
	bad := runAsRunner(t, runnerOpts{inputs: in, files: map[string]string{"fleet.json": `{"lanes": [{"product": "shop", "instance": "prod"}]}`}})
	if bad.code != 2 || !strings.Contains(bad.stdout, "lanes[0].context") {
		t.Errorf("a bad lanes file: exit %d, want 2 naming lanes[0].context\n%s", bad.code, bad.stdout)
	}
}
