package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/launchplane/runtime-identity/internal/launchplane/launchplanetest"
)

// oidcServer stands in for the runner's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL).
func oidcServer(t *testing.T, requestToken, idToken string, audience *atomic.Value) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+requestToken {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		audience.Store(r.URL.Query().Get("audience"))
		fmt.Fprintf(w, `{"value":%q}`, idToken)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/token?api-version=2.0"
}

// TestVerifyFromLaunchplaneRecord is DESIGN's third use: a PR check reads the expected identity
// from a Launchplane record over GitHub OIDC, verifies the tenant and reports back.
func TestVerifyFromLaunchplaneRecord(t *testing.T) {
	t.Parallel()
	const requestToken = "ghs_PlantedOidcRequestToken0001"
	const idToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.PlantedSignature0001"
	want := prExpected()
	want.DeployedAt = "2026-11-23T12:05:00Z" // records carry the finish time
	lp := launchplanetest.NewServer(t, launchplanetest.WithToken(idToken))
	lp.AddIdentity(want)
	var audience atomic.Value
	tokenURL := oidcServer(t, requestToken, idToken, &audience)
	served := want
	served.DeployedAt = "" // the tenant runs with the injected env
	for _, tt := range []struct {
		name   string
		body   string
		status string
		runID  string // each run reports under its own idempotency key
	}{
		{"match", healthBody(string(served.Canonical())), "match", "4242"},
		{"stale", healthBody(string(stale(served).Canonical())), "mismatch", "4343"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := map[string]string{
				"mode":                 "verify",
				"launchplane-url":      lp.URL(),
				"deployment-record-id": want.DeploymentRecordID,
				"launchplane-report":   "true",
				"health-url":           tenant(t, serveJSON(200, tt.body)),
				"verify-timeout":       "2s",
				"github-deployment":    "false",
			}
			before := len(lp.Verifications())
			res := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent(), env: map[string]string{
				"ACTIONS_ID_TOKEN_REQUEST_URL": tokenURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": requestToken, "GITHUB_RUN_ID": tt.runID,
			}})
			if res.code != 0 || res.outputs["status"] != tt.status {
				t.Fatalf("exit %d status %q, want 0 %s\n%s\n%s", res.code, res.outputs["status"], tt.status, res.stdout, res.stderr)
			}
			if got := res.outputs["identity-json"]; got != string(want.Canonical()) {
				t.Errorf("identity-json = %s, want the record's %s", got, want.Canonical())
			}
			u := strings.TrimPrefix(lp.URL(), "http://")
			if got, _ := audience.Load().(string); got != u {
				t.Errorf("OIDC audience = %q, want the Launchplane host %q", got, u)
			}
			var ev struct {
				Provenance map[string]struct{ Kind, Link string } `json:"provenance"`
				Links      struct{ Record string }                `json:"links"`
			}
			if err := json.Unmarshal(res.evidence, &ev); err != nil {
				t.Fatal(err)
			}
			if p := ev.Provenance["artifact_id"]; p.Kind != "launchplane-record" || !strings.Contains(ev.Links.Record, "/v1/deployments/") {
				t.Errorf("provenance %+v, record link %q; want launchplane-record and the record URL", p, ev.Links.Record)
			}
			vs := lp.Verifications()
			if len(vs) != before+1 {
				t.Fatalf("%d verifications reported, want 1 more\n%s", len(vs)-before, res.stdout)
			}
			if v := vs[len(vs)-1]; string(v.RuntimeIdentityStatus) != tt.status || v.IdempotencyKey != "stable-verification:shop:pr-42:"+tt.runID+":1" {
				t.Errorf("reported verification = %+v; Launchplane should classify it %s", v, tt.status)
			}
			for name, text := range map[string]string{"stdout": withoutMaskLines(res.stdout), "stderr": res.stderr, "summary": res.summary, "evidence": string(res.evidence), "outputs": string(res.files["output"])} {
				for _, s := range []string{requestToken, idToken} {
					if strings.Contains(text, s) {
						t.Errorf("%s carries a token", name)
					}
				}
			}
			if !strings.Contains(res.stdout, "::add-mask::"+idToken) {
				t.Errorf("the OIDC token was not masked for the runner")
			}
		})
	}
}

// TestLaunchplaneRecordMissing: an unknown record id is bad input, exit 2, nothing written.
func TestLaunchplaneRecordMissing(t *testing.T) {
	t.Parallel()
	lp := launchplanetest.NewServer(t)
	res := runAsRunner(t, runnerOpts{inputs: map[string]string{
		"mode": "verify", "launchplane-url": lp.URL(), "launchplane-token": launchplaneToken,
		"deployment-record-id": "deployment-20261123T120000Z-nope-prod", "health-url": "https://x.example.com/api/health",
	}})
	if res.code != 2 || !strings.Contains(res.stdout, "input deployment-record-id: Launchplane has no deployment record") {
		t.Errorf("exit %d, want 2 naming deployment-record-id:\n%s", res.code, res.stdout)
	}
	if strings.Contains(withoutMaskLines(res.stdout)+res.stderr, launchplaneToken) {
		t.Error("the Launchplane token was printed")
	}
}
