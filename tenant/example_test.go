package tenant_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/launchplane/runtime-identity/tenant"
)

// exampleEnv stands in for os.Getenv: the env a deployment gets from runtime-identity or
// Launchplane.
var exampleEnv = map[string]string{
	tenant.EnvJSON:               `{"artifact_id":"ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111","context":"shop","deployed_at":"","deployment_record_id":"deployment-20260510T141500Z-shop-prod","environment_kind":"stable","image_reference":"","instance":"prod","preview_generation_id":"","preview_id":"","product":"shop","release_tuple_id":"","schema_version":1,"source_git_ref":"6b3c9d7e8f901234567890abcdef1234567890ab"}`,
	tenant.EnvDeploymentRecordID: "deployment-20260510T141500Z-shop-prod",
	tenant.EnvArtifactID:         "ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111",
	tenant.EnvSourceGitRef:       "6b3c9d7e8f901234567890abcdef1234567890ab",
}

func getenv(k string) string { return exampleEnv[k] }

// A tenant embeds HealthValue under "runtime_identity" in its own health JSON.
func ExampleRuntime_HealthValue() {
	rt := tenant.FromEnv(getenv) // tenant.FromEnv(os.Getenv) in a real tenant
	body, _ := json.Marshal(struct {
		Status          string          `json:"status"`
		RuntimeIdentity json.RawMessage `json:"runtime_identity"`
	}{"ok", rt.HealthValue()})
	fmt.Println(string(body))

	// Without the env the tenant still starts; the key is null and State says why.
	bare := tenant.FromEnv(func(string) string { return "" })
	body, _ = json.Marshal(map[string]any{"status": "ok", "runtime_identity": bare.HealthValue()})
	fmt.Println(string(body))
	fmt.Println(bare.State(), "-", bare.Reason())
	// Output:
	// {"status":"ok","runtime_identity":{"artifact_id":"ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111","context":"shop","deployed_at":"","deployment_record_id":"deployment-20260510T141500Z-shop-prod","environment_kind":"stable","image_reference":"","instance":"prod","preview_generation_id":"","preview_id":"","product":"shop","release_tuple_id":"","schema_version":1,"source_git_ref":"6b3c9d7e8f901234567890abcdef1234567890ab"}}
	// {"runtime_identity":null,"status":"ok"}
	// missing - LAUNCHPLANE_RUNTIME_IDENTITY_JSON is not set
}

// The middleware puts the identity headers on every response.
func ExampleRuntime_Middleware() {
	rt := tenant.FromEnv(getenv)
	app := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello\n")
	})
	h := rt.Middleware(app) // http.ListenAndServe(addr, rt.Middleware(mux)) in a real tenant

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Print(rec.Body.String())
	fmt.Println(tenant.HeaderDeployment+":", rec.Header().Get(tenant.HeaderDeployment))
	fmt.Println(tenant.HeaderDigest+":", rec.Header().Get(tenant.HeaderDigest))
	fmt.Println(rec.Header().Get(tenant.HeaderDigest) == rt.Digest())
	// Output:
	// hello
	// X-Launchplane-Deployment: deployment-20260510T141500Z-shop-prod
	// X-Launchplane-Identity-Digest: sha256:99149e6df63ee87556f82b9266955a9dd5e167288b46b3fb7debd13df8a4dc85
	// true
}

// The well-known document is the identity object itself; without an identity it is a 404.
func ExampleRuntime_WellKnownHandler() {
	for _, rt := range []*tenant.Runtime{
		tenant.FromEnv(getenv),
		tenant.FromEnv(func(string) string { return "" }),
		tenant.FromEnv(func(k string) string {
			if k == tenant.EnvJSON {
				return `{"context": oops`
			}
			return ""
		}),
	} {
		rec := httptest.NewRecorder()
		rt.WellKnownHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tenant.WellKnownPath, nil))
		fmt.Println(rt.State(), rec.Code, rec.Header().Get("Cache-Control"), rec.Body.String())
	}
	// Output:
	// ok 200 no-store {"artifact_id":"ghcr.io/acme/shop@sha256:1111111111111111111111111111111111111111111111111111111111111111","context":"shop","deployed_at":"","deployment_record_id":"deployment-20260510T141500Z-shop-prod","environment_kind":"stable","image_reference":"","instance":"prod","preview_generation_id":"","preview_id":"","product":"shop","release_tuple_id":"","schema_version":1,"source_git_ref":"6b3c9d7e8f901234567890abcdef1234567890ab"}
	// missing 404 no-store {"error":"runtime identity not injected"}
	// malformed 500 no-store {"error":"runtime identity malformed"}
}

// OdooHealthHandler answers in the shape of the Odoo addon's /launchplane/health.
func ExampleRuntime_OdooHealthHandler() {
	rt := tenant.FromEnv(func(string) string { return "" })
	rec := httptest.NewRecorder()
	rt.OdooHealthHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/launchplane/health", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 200 {"runtime_identity":null,"status":"pass"}
}

// A malformed env is reported, never echoed.
func ExampleFromEnv() {
	rt := tenant.FromEnv(func(k string) string {
		switch k {
		case tenant.EnvJSON:
			return exampleEnv[tenant.EnvJSON]
		case tenant.EnvArtifactID:
			return "ghcr.io/acme/shop:latest"
		}
		return ""
	})
	fmt.Println(rt.State())
	fmt.Println(rt.Reason())
	fmt.Println(string(rt.HealthValue()))
	// Output:
	// malformed
	// LAUNCHPLANE_ARTIFACT_ID disagrees with LAUNCHPLANE_RUNTIME_IDENTITY_JSON
	// {"detail":"LAUNCHPLANE_ARTIFACT_ID disagrees with LAUNCHPLANE_RUNTIME_IDENTITY_JSON","error":"runtime identity malformed","status":"invalid"}
}
