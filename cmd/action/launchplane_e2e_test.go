package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/launchplane/runtime-identity/internal/launchplane/launchplanetest"
)

// jwtRE matches a JSON Web Token: no output may hold one.
var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

const requestToken = "ghs_PlantedOidcRequestToken0001"

// oidcEnv is what the runner gives a job with id-token: write, pointing at the fake issuer.
func oidcEnv(lp *launchplanetest.Server, runID string) map[string]string {
	return map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   lp.Issuer().RunnerTokenURL(requestToken, launchplanetest.DefaultClaims()),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": requestToken,
		"GITHUB_RUN_ID":                  runID,
	}
}

// assertNoToken checks that no token reached what the step wrote.
func assertNoToken(t *testing.T, res result) {
	t.Helper()
	for name, text := range map[string]string{"stdout": withoutMaskLines(res.stdout), "stderr": res.stderr, "summary": res.summary, "evidence": string(res.evidence), "outputs": string(res.files["output"])} {
		if strings.Contains(text, requestToken) || strings.Contains(text, launchplaneToken) || jwtRE.MatchString(text) {
			t.Errorf("%s carries a token", name)
		}
	}
}

// recordInputs verifies the tenant at healthURL against record id, reporting back.
func recordInputs(lp *launchplanetest.Server, id, healthURL string) map[string]string {
	return map[string]string{
		"mode":                 "verify",
		"launchplane-url":      lp.URL(),
		"deployment-record-id": id,
		"launchplane-report":   "true",
		"health-url":           healthURL,
		"verify-timeout":       "2s",
		"github-deployment":    "false",
	}
}

// TestVerifyFromLaunchplaneRecord is DESIGN's third use: a PR check reads the expected identity
// from a Launchplane record over GitHub OIDC, verifies the tenant and reports back in
// Launchplane's own terms, which the fake, rebuilt from Launchplane's models, accepts.
func TestVerifyFromLaunchplaneRecord(t *testing.T) {
	t.Parallel()
	want := prExpected()
	want.DeployedAt = "2026-11-23T12:05:00Z" // records carry the finish time
	lp := launchplanetest.NewServer(t)
	lp.AddIdentity(want)
	served := want
	served.DeployedAt = "" // the tenant runs with the injected env
	for _, tt := range []struct {
		name, body, status      string
		runID                   string // each run reports under its own idempotency key
		sent, healthRecorded    string // verification_status sent, deployment health recorded
		runtimeIdentityRecorded string // Launchplane's own reclassification of the body sent
	}{
		{"match", healthBody(string(served.Canonical())), "match", "4242", "pass", "pass", "match"},
		{"stale", healthBody(string(stale(served).Canonical())), "mismatch", "4343", "fail", "fail", "missing"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := len(lp.Verifications())
			res := runAsRunner(t, runnerOpts{inputs: recordInputs(lp, want.DeploymentRecordID, tenant(t, serveJSON(200, tt.body))),
				eventName: "pull_request", event: prEvent(), env: oidcEnv(lp, tt.runID)})
			if res.code != 0 || res.outputs["status"] != tt.status || res.outputs["launchplane-report-status"] != "accepted" {
				t.Fatalf("exit %d status %q report %q, want 0 %s accepted\n%s\n%s", res.code, res.outputs["status"], res.outputs["launchplane-report-status"], tt.status, res.stdout, res.stderr)
			}
			if got := res.outputs["identity-json"]; got != string(want.Canonical()) {
				t.Errorf("identity-json = %s, want the record's %s", got, want.Canonical())
			}
			host := strings.TrimPrefix(lp.URL(), "http://")
			if auds := lp.Issuer().Audiences(); len(auds) == 0 || auds[len(auds)-1] != host {
				t.Errorf("OIDC audiences asked = %q, want the Launchplane host %q", auds, host)
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
				t.Fatalf("%d verifications recorded, want 1 more\n%s", len(vs)-before, res.stdout)
			}
			v := vs[len(vs)-1]
			wantKey := fmt.Sprintf("generic-web-stable-verification:shop:shop-preview:pr-42:%s:%s:1", want.DeploymentRecordID, tt.runID)
			if v.Request.VerificationStatus != tt.sent || v.DeploymentHealthStatus != tt.healthRecorded || v.IdempotencyKey != wantKey {
				t.Errorf("recorded verification = status %q health %q key %q; want %s %s %s", v.Request.VerificationStatus, v.DeploymentHealthStatus, v.IdempotencyKey, tt.sent, tt.healthRecorded, wantKey)
			}
			if v.RuntimeIdentityStatus != tt.runtimeIdentityRecorded {
				t.Errorf("Launchplane reclassified the body sent as %q, want %q", v.RuntimeIdentityStatus, tt.runtimeIdentityRecorded)
			}
			assertNoToken(t, res)
			if !strings.Contains(res.stdout, "::add-mask::eyJ") {
				t.Errorf("the OIDC token was not masked for the runner")
			}
		})
	}
}

// TestLaunchplaneRecordWithoutIdentity: a record made before Launchplane recorded identities is
// not bad input: the tenant is probed, the verdict is unchecked with a clear note, and
// require-identity fails the step as for any non-match.
func TestLaunchplaneRecordWithoutIdentity(t *testing.T) {
	t.Parallel()
	want := prExpected()
	lp := launchplanetest.NewServer(t)
	rec := launchplanetest.NewRecord(want)
	rec.RuntimeIdentity = nil
	lp.AddDeployment(rec)
	health := tenant(t, serveJSON(200, healthBody(string(want.Canonical()))))
	for _, required := range []bool{false, true} {
		in := recordInputs(lp, want.DeploymentRecordID, health)
		in["launchplane-report"] = "false"
		in["require-identity"] = fmt.Sprint(required)
		res := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent(), env: oidcEnv(lp, "4444")})
		wantCode := map[bool]int{false: 0, true: 1}[required]
		if res.code != wantCode || res.outputs["status"] != "unchecked" || !strings.Contains(res.summary, "carries no runtime identity") {
			t.Errorf("require=%v: exit %d status %q, want %d unchecked with a note\n%s", required, res.code, res.outputs["status"], wantCode, res.summary)
		}
		if res.outputs["identity-json"] != "" {
			t.Errorf("require=%v: identity-json = %q, want none: there is no expected identity", required, res.outputs["identity-json"])
		}
	}
	// A deploy has nothing to inject from such a record: bad input, nothing written.
	in := recordInputs(lp, want.DeploymentRecordID, health)
	in["mode"], in["launchplane-report"] = "inject", "false"
	in["dokploy-url"], in["dokploy-api-key"], in["dokploy-application-id"] = "https://dokploy.example.com", "dokploy-key-1", "app1"
	res := runAsRunner(t, runnerOpts{inputs: in, eventName: "push", env: oidcEnv(lp, "4445")})
	if res.code != 2 || !strings.Contains(res.stdout, "input deployment-record-id: the Launchplane record carries no runtime identity") {
		t.Errorf("inject from a record without an identity: exit %d, want 2\n%s", res.code, res.stdout)
	}
}

// TestLaunchplaneRefusals: Launchplane's answers that are not the tenant's fault.
func TestLaunchplaneRefusals(t *testing.T) {
	t.Parallel()
	want := prExpected()
	t.Run("unknown record exits 2", func(t *testing.T) {
		t.Parallel()
		lp := launchplanetest.NewServer(t, launchplanetest.WithStaticToken(launchplaneToken, launchplanetest.StaticRule{}))
		in := recordInputs(lp, "deployment-20261123T120000Z-nope-prod", "https://x.example.com/api/health")
		in["launchplane-token"] = launchplaneToken
		res := runAsRunner(t, runnerOpts{inputs: in})
		if res.code != 2 || !strings.Contains(res.stdout, "input deployment-record-id: Launchplane has no deployment record") {
			t.Errorf("exit %d, want 2 naming deployment-record-id:\n%s", res.code, res.stdout)
		}
		assertNoToken(t, res)
	})
	t.Run("policy refusal exits 3 with the code and trace id", func(t *testing.T) {
		t.Parallel()
		// The allow-list names another repository: Launchplane refuses the read.
		lp := launchplanetest.NewServer(t, launchplanetest.WithPolicy(launchplanetest.Policy{Rules: []launchplanetest.Rule{launchplanetest.AllowRepository("acme/other")}}))
		lp.AddIdentity(want)
		res := runAsRunner(t, runnerOpts{inputs: recordInputs(lp, want.DeploymentRecordID, "https://x.example.com/api/health"),
			eventName: "pull_request", event: prEvent(), env: oidcEnv(lp, "4545")})
		if res.code != 3 || !strings.Contains(res.stdout, "authorization_denied") || !strings.Contains(res.stdout, "trace_id") {
			t.Errorf("exit %d, want 3 quoting authorization_denied and the trace id:\n%s", res.code, res.stdout)
		}
		assertNoToken(t, res)
	})
	t.Run("a dropped post is replayed, a changed one under the same key refused", func(t *testing.T) {
		t.Parallel()
		lp := launchplanetest.NewServer(t)
		lp.AddIdentity(want)
		// The tenant is probed after the record was read: from then on, the next Launchplane
		// request (the post) lands, but its answer is lost.
		var armed, second atomic.Bool
		health := tenant(t, func(w http.ResponseWriter, r *http.Request) {
			if armed.CompareAndSwap(false, true) {
				lp.DropNext(1)
			}
			body := healthBody(string(want.Canonical()))
			if second.Load() {
				// Another build of the same identity: the body, and so the report, differ.
				body = strings.Replace(body, `"1.2.3"`, `"1.2.4"`, 1)
			}
			serveJSON(200, body)(w, r)
		})
		in := recordInputs(lp, want.DeploymentRecordID, health)
		res := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent(), env: oidcEnv(lp, "4646")})
		if res.code != 0 || res.outputs["launchplane-report-status"] != "accepted" || !strings.Contains(res.summary, "a replay of") {
			t.Fatalf("exit %d report %q, want 0 accepted as a replay\n%s", res.code, res.outputs["launchplane-report-status"], res.stdout)
		}
		var posts []launchplanetest.Request
		for _, r := range lp.Requests() {
			if r.Method == http.MethodPost {
				posts = append(posts, r)
			}
		}
		if len(posts) != 2 || posts[0].Header.Get("Idempotency-Key") != posts[1].Header.Get("Idempotency-Key") || string(posts[0].Body) != string(posts[1].Body) {
			t.Fatalf("%d posts; want the lost one sent again with the same key and the same bytes", len(posts))
		}
		if n := len(lp.Verifications()); n != 1 {
			t.Errorf("%d verifications recorded, want 1: the replay adds none", n)
		}
		// A second run under the same run id and attempt sends another body under the same
		// key: Launchplane refuses it, which is a warning only.
		second.Store(true)
		again := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent(), env: oidcEnv(lp, "4646")})
		if again.code != 0 || again.outputs["status"] != "match" || again.outputs["launchplane-report-status"] != "rejected" {
			t.Fatalf("second run: exit %d status %q report %q, want 0 match rejected\n%s", again.code, again.outputs["status"], again.outputs["launchplane-report-status"], again.stdout)
		}
		if w := strings.Join(annotations(again.stdout, "warning"), "\n"); !strings.Contains(w, "idempotency_key_reused") || !strings.Contains(w, "trace_id") {
			t.Errorf("the refusal must be a warning naming Launchplane's code and trace id:\n%s", again.stdout)
		}
		assertNoToken(t, again)
	})
}

// TestPRCheckFromLane: with launchplane-url, product and instance and no record id, the lane's
// health URL and expected identity come from Launchplane, so a PR check needs no wiring.
func TestPRCheckFromLane(t *testing.T) {
	t.Parallel()
	want := prExpected()
	lp := launchplanetest.NewServer(t)
	lp.AddIdentity(want)
	health := tenant(t, serveJSON(200, healthBody(string(want.Canonical()))))
	lp.AddProduct(launchplanetest.GenericWebProduct(want.Product, want.Context, want.Instance, strings.TrimSuffix(health, "/api/health")))
	in := map[string]string{
		"mode": "verify", "launchplane-url": lp.URL(), "product": want.Product, "context": want.Context,
		"require-identity": "true", "verify-timeout": "2s", "github-deployment": "false",
	}
	res := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent(), env: oidcEnv(lp, "4747")})
	if res.code != 0 || res.outputs["status"] != "match" || res.outputs["deployment-record-id"] != want.DeploymentRecordID {
		t.Fatalf("exit %d status %q record %q, want 0 match %s\n%s\n%s", res.code, res.outputs["status"], res.outputs["deployment-record-id"], want.DeploymentRecordID, res.stdout, res.stderr)
	}
	if !strings.Contains(res.summary, "lane's URLs from Launchplane") {
		t.Errorf("the summary does not say where the URL came from:\n%s", res.summary)
	}
	assertNoToken(t, res)
}
