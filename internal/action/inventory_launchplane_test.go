package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/inventory"
	"github.com/launchplane/runtime-identity/internal/launchplane"
	"github.com/launchplane/runtime-identity/internal/launchplane/launchplanetest"
	"github.com/launchplane/runtime-identity/tenant"
)

// operatorToken is the static token the fake accepts for a local operator.
const operatorToken = "lp-local-operator-s3cr3t"

// shopIdentity is the identity the shop lane's current deployment record holds.
func shopIdentity(instance string) identity.Identity {
	return identity.Identity{
		SchemaVersion: 1, Product: "shop", Context: "shop", Instance: instance, EnvironmentKind: identity.KindStable,
		DeploymentRecordID: "deployment-20260510T141500Z-shop-" + instance,
		ArtifactID:         "ghcr.io/acme/shop@sha256:" + strings.Repeat("1", 64),
		SourceGitRef:       "6b3c9d7e8f901234567890abcdef1234567890ab",
	}
}

// staleShopIdentity is an older deployment of the same lane.
func staleShopIdentity(instance string) identity.Identity {
	id := shopIdentity(instance)
	id.DeploymentRecordID = "deployment-20260401T090000Z-shop-" + instance
	id.SourceGitRef = "0000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	return id
}

// startTenant runs a loopback tenant serving id through the tenant package, as a real one does.
func startTenant(t *testing.T, id identity.Identity) string {
	t.Helper()
	env := map[string]string{}
	for _, kv := range id.EnvVars() {
		env[kv.Key] = kv.Value
	}
	rt := tenant.FromEnv(func(k string) string { return env[k] })
	body, _ := json.Marshal(map[string]any{"status": "ok", "runtime_identity": rt.HealthValue()})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	srv := httptest.NewServer(rt.Middleware(mux))
	t.Cleanup(srv.Close)
	return srv.URL
}

// shopFleet is a Launchplane holding product shop with two lanes, prod served by a tenant that
// matches its record and testing by one still serving an older deployment. requireTesting makes
// the testing lane's health check require its identity; prod's always does.
func shopFleet(t *testing.T, requireTesting bool, opts ...launchplanetest.Option) *launchplanetest.Server {
	t.Helper()
	lp := launchplanetest.NewServer(t, opts...)
	prodURL, testingURL := startTenant(t, shopIdentity("prod")), startTenant(t, staleShopIdentity("testing"))
	lp.AddProduct(launchplanetest.Product{
		Product: "shop", DisplayName: "Shop", Repository: "acme/shop", DriverID: "generic-web",
		Lanes: []launchplanetest.Lane{
			{
				Instance: "prod", Context: "shop", BaseURL: prodURL, HealthURL: prodURL + "/api/health", MonitoringIntent: "public",
				Checks: []launchplanetest.HealthCheck{{Name: "public-ingress", RequireRuntimeIdentity: true}},
			},
			{
				Instance: "testing", Context: "shop", BaseURL: testingURL, HealthURL: testingURL + "/api/health",
				Checks: []launchplanetest.HealthCheck{{Name: "public-ingress", RequireRuntimeIdentity: requireTesting}},
			},
		},
	})
	lp.AddDeployment(launchplanetest.NewRecord(shopIdentity("prod")))
	lp.AddDeployment(launchplanetest.NewRecord(shopIdentity("testing")))
	return lp
}

// inventoryCLI runs "runtime-identity inventory" as cmd/action does, with env as the process
// environment and Env.Launchplane bound by InventoryLaunchplane.
type inventoryCLI struct {
	env            map[string]string
	files          map[string][]byte
	stdout, stderr bytes.Buffer
}

func (c *inventoryCLI) getenv(k string) string { return c.env[k] }

func (c *inventoryCLI) run(t *testing.T, args ...string) int {
	t.Helper()
	clk := clocktest.New()
	return inventory.Main(context.Background(), inventory.Env{
		Args: args, Stdout: &c.stdout, Stderr: &c.stderr, Getenv: c.getenv, Now: clk.Now, Sleep: clk.Sleep,
		ReadFile: func(name string) ([]byte, error) {
			if b, ok := c.files[name]; ok {
				return b, nil
			}
			return nil, errors.New("no such file")
		},
		Launchplane: InventoryLaunchplane(c.getenv, launchplane.WithSleep(clk.Sleep), launchplane.WithNow(clk.Now)),
	})
}

// laneStatuses returns each lane's status and requirement, by key.
func laneStatuses(t *testing.T, stdout []byte) (map[string]string, *inventory.Report) {
	t.Helper()
	rep, err := inventory.ReadReport("stdout", stdout)
	if err != nil {
		t.Fatalf("stdout is not a report: %v\n%s", err, stdout)
	}
	got := map[string]string{}
	for _, l := range rep.Lanes {
		got[l.Key()] = string(l.Status) + map[bool]string{true: ", required", false: ""}[l.RequireIdentity] + ", from " + l.ExpectedFrom
	}
	return got, rep
}

// TestInventoryFromLaunchplane probes a product's lanes as Launchplane lists them: the profile
// says which lanes require their identity, the environments where they serve and what they
// should serve.
func TestInventoryFromLaunchplane(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		requireTesting bool
		wantCode       int
		wantStatuses   map[string]string
	}{
		{"the stale lane is not required", false, inventory.ExitOK, map[string]string{
			"shop/shop/prod":    "match, required, from launchplane",
			"shop/shop/testing": "mismatch, from launchplane",
		}},
		{"the stale lane is required", true, inventory.ExitFailed, map[string]string{
			"shop/shop/prod":    "match, required, from launchplane",
			"shop/shop/testing": "mismatch, required, from launchplane",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lp := shopFleet(t, tt.requireTesting, launchplanetest.WithStaticToken(operatorToken, launchplanetest.StaticRule{Subject: "ops", TokenLabel: "laptop"}))
			c := inventoryCLI{env: map[string]string{EnvLaunchplaneToken: operatorToken}}
			code := c.run(t, "--launchplane-url", lp.URL(), "--product", "shop", "--format", "json")
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, c.stderr.String())
			}
			got, rep := laneStatuses(t, c.stdout.Bytes())
			if diff := cmp.Diff(tt.wantStatuses, got); diff != "" {
				t.Errorf("lanes (-want +got):\n%s", diff)
			}
			if rep.Source != inventory.SourceLaunchplane || rep.LanesTotal != 2 {
				t.Errorf("report source %q, %d lanes; want launchplane, 2", rep.Source, rep.LanesTotal)
			}
			var paths []string
			for _, r := range lp.Requests() {
				if r.Header.Get("Authorization") != "Bearer "+operatorToken {
					t.Errorf("%s sent without the operator token", r.Path)
				}
				paths = append(paths, r.Path)
			}
			want := []string{"/v1/product-profiles/shop", "/v1/products/shop/environments/prod", "/v1/products/shop/environments/testing"}
			if diff := cmp.Diff(want, paths, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("Launchplane requests (-want +got):\n%s", diff)
			}
			if strings.Contains(c.stdout.String()+c.stderr.String(), operatorToken) {
				t.Error("the token reached the output")
			}
		})
	}
}

// TestInventoryLaunchplaneRefused checks the token failures: a token Launchplane refuses is exit
// 3 (Launchplane could not be read), no token at all is exit 2 naming what to set; neither
// prints the token or a report.
func TestInventoryLaunchplaneRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        map[string]string
		wantCode   int
		wantStderr string
	}{
		{"refused token", map[string]string{EnvLaunchplaneToken: "lp-revoked-s3cr3t-token"}, inventory.ExitUnknown, "401 authentication_required"},
		{"no token", map[string]string{}, inventory.ExitConfig, EnvLaunchplaneToken},
		{"an OIDC request URL without its token", map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:1/token"}, inventory.ExitConfig, "id-token: write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lp := shopFleet(t, false, launchplanetest.WithEchoedToken())
			c := inventoryCLI{env: tt.env}
			code := c.run(t, "--launchplane-url", lp.URL(), "--product", "shop", "--format", "json")
			if code != tt.wantCode || !strings.Contains(c.stderr.String(), tt.wantStderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, c.stderr.String(), tt.wantCode, tt.wantStderr)
			}
			if c.stdout.Len() != 0 {
				t.Errorf("stdout = %q, want no report", c.stdout.String())
			}
			if tok := tt.env[EnvLaunchplaneToken]; tok != "" && strings.Contains(c.stderr.String(), tok[:10]) {
				t.Errorf("stderr %q holds the token", c.stderr.String())
			}
		})
	}
}

// TestInventoryLaunchplaneOIDC checks the workflow path: without LAUNCHPLANE_TOKEN the token is
// a GitHub Actions OIDC token requested for Launchplane's audience through the runner's
// endpoint, and Launchplane's allow-list decides.
func TestInventoryLaunchplaneOIDC(t *testing.T) {
	t.Parallel()
	lp := shopFleet(t, false)
	const requestToken = "runner-request-token-s3cr3t"
	c := inventoryCLI{env: map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   lp.Issuer().RunnerTokenURL(requestToken, launchplanetest.DefaultClaims()),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": requestToken,
	}}
	if code := c.run(t, "--launchplane-url", lp.URL(), "--product", "shop", "--format", "json"); code != inventory.ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, c.stderr.String())
	}
	got, _ := laneStatuses(t, c.stdout.Bytes())
	if got["shop/shop/prod"] != "match, required, from launchplane" {
		t.Errorf("lanes = %v", got)
	}
	audiences := lp.Issuer().Audiences()
	if len(audiences) == 0 {
		t.Fatal("no OIDC token was requested")
	}
	for _, a := range audiences {
		if a != lp.Audience() {
			t.Errorf("OIDC audience %q, want %q", a, lp.Audience())
		}
	}
	for _, r := range lp.Requests() {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer eyJ") {
			t.Errorf("%s sent without an OIDC token", r.Path)
		}
	}
}

// TestInventoryLaunchplaneRecords checks the record reader: a lanes file naming deployment
// records reads each record's identity through Launchplane, and a record made before the
// feature leaves its lane unchecked.
func TestInventoryLaunchplaneRecords(t *testing.T) {
	t.Parallel()
	lp := shopFleet(t, false, launchplanetest.WithStaticToken(operatorToken, launchplanetest.StaticRule{Subject: "ops", TokenLabel: "laptop"}))
	old := launchplanetest.NewRecord(shopIdentity("testing"))
	old.RecordID, old.RuntimeIdentity, old.FinishedAt = "deployment-20250101T000000Z-shop-testing", nil, "2025-01-01T00:00:00Z"
	lp.AddDeployment(old)
	prodURL := startTenant(t, shopIdentity("prod"))
	testingURL := startTenant(t, staleShopIdentity("testing"))
	lanes := `{"lanes": [
		{"product": "shop", "context": "shop", "instance": "prod", "health_url": "` + prodURL + `/api/health",
		 "deployment_record_id": "deployment-20260510T141500Z-shop-prod", "require_identity": true},
		{"product": "shop", "context": "shop", "instance": "testing", "health_url": "` + testingURL + `/api/health",
		 "deployment_record_id": "` + old.RecordID + `"}]}`
	c := inventoryCLI{env: map[string]string{EnvLaunchplaneToken: operatorToken}, files: map[string][]byte{"lanes.json": []byte(lanes)}}
	if code := c.run(t, "--lanes", "lanes.json", "--launchplane-url", lp.URL(), "--format", "json"); code != inventory.ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, c.stderr.String())
	}
	got, _ := laneStatuses(t, c.stdout.Bytes())
	want := map[string]string{
		"shop/shop/prod":    "match, required, from deployment-record",
		"shop/shop/testing": "unchecked, from ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lanes (-want +got):\n%s", diff)
	}
}

// TestOIDCErrorText checks the runner's error never carries the request token or a JWT on.
func TestOIDCErrorText(t *testing.T) {
	t.Parallel()
	const requestToken = "runner-request-token-s3cr3t"
	err := errors.New("non-successful response from minting OIDC token: {\"message\":\"bad token runner-request-token-s3cr3t\",\"value\":\"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\"}\n" + strings.Repeat("x", 400))
	got := oidcErrorText(err, requestToken)
	if strings.Contains(got, requestToken) || strings.Contains(got, "eyJ") || strings.Contains(got, "\n") || len([]rune(got)) > maxOIDCErrorRunes {
		t.Errorf("oidcErrorText() = %q", got)
	}
	if !strings.Contains(got, "non-successful response") {
		t.Errorf("oidcErrorText() = %q, want the runner's reason kept", got)
	}
}
