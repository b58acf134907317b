package launchplanetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
)

func stable() identity.Identity {
	return identity.Identity{
		SchemaVersion: 1, Product: "shop", Context: "shop", Instance: "prod", EnvironmentKind: "stable",
		DeploymentRecordID: "deployment-20260510T141500Z-shop-prod",
		ArtifactID:         "ghcr.io/acme/shop@sha256:" + strings.Repeat("ab", 32),
		SourceGitRef:       strings.Repeat("c", 40),
		ImageReference:     "ghcr.io/acme/shop@sha256:" + strings.Repeat("ab", 32),
	}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (a answer) code() string {
	e, _ := a.body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func send(t *testing.T, s *Server, method, path, token string, header map[string]string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// passBody is a stable-verification body reporting pass with health as the tenant's body.
func passBody(t *testing.T, id identity.Identity, health string) []byte {
	t.Helper()
	return verificationBody(t, func(env, ver map[string]any) {
		env["product"] = id.Product
		ver["context"], ver["instance"], ver["deployment_record_id"] = id.Context, id.Instance, id.DeploymentRecordID
		if health != "" {
			var v any
			if err := json.Unmarshal([]byte(health), &v); err != nil {
				t.Fatal(err)
			}
			ver["health_payload"] = v
		}
	})
}

func healthOf(id identity.Identity) string {
	return `{"status":"ok","version":"1.4.2","runtime_identity":` + string(id.Injected().Canonical()) + `}`
}

// TestServerAuthentication pins the 401s: no header, a non-bearer scheme, and each token the
// verifier refuses, every one with WWW-Authenticate: Bearer realm="Launchplane API" and a
// trace_id (Launchplane's service tests pin the header and code).
func TestServerAuthentication(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	id := s.AddIdentity(stable())
	good := DefaultClaims()
	good.Audience = s.Audience()
	edit := func(f func(*Claims)) Claims { c := good; f(&c); return c }
	is := s.Issuer()
	tests := []struct {
		name    string
		header  string
		wantMsg string
	}{
		{"no header", "", "Authorization header is required."},
		{"basic scheme", "Basic dXNlcjpwYXNz", "Authorization header must use Bearer token format."},
		{"bearer without token", "Bearer  ", "Authorization header must use Bearer token format."},
		{"not a JWT", "Bearer not-a-jwt", "Not enough segments"},
		{"forged signature", "Bearer " + is.ForgedToken(good), "Signature verification failed"},
		{"HS256 header", "Bearer " + is.TokenWithHeader(good, "HS256", is.kid), "The specified alg value is not allowed"},
		{"unknown kid", "Bearer " + is.TokenWithHeader(good, "RS256", "other"), "Unable to find a signing key that matches the token's kid"},
		{"expired", "Bearer " + is.Token(edit(func(c *Claims) { c.IssuedAt = time.Now().Add(-time.Hour) })), "Signature has expired"},
		{"issued in the future", "Bearer " + is.Token(edit(func(c *Claims) { c.IssuedAt = time.Now().Add(time.Hour) })), "The token is not yet valid (iat)"},
		{"not before the future", "Bearer " + is.Token(edit(func(c *Claims) { c.NotBefore = time.Now().Add(time.Hour) })), "The token is not yet valid (nbf)"},
		{"wrong issuer", "Bearer " + is.Token(edit(func(c *Claims) { c.Issuer = "https://example.com" })), "Invalid issuer"},
		{"no issuer", "Bearer " + is.Token(edit(func(c *Claims) { c.Issuer = "" })), `Token is missing the "iss" claim`},
		{"wrong audience", "Bearer " + is.Token(edit(func(c *Claims) { c.Audience = "launchplane.example.com:443" })), "Audience doesn't match"},
		{"no audience", "Bearer " + is.Token(edit(func(c *Claims) { c.Audience = "" })), `Token is missing the "aud" claim`},
		// cbusillo/launchplane tests/test_service_auth.py @ 0e80b179a044068c77abe26db3241da6db74f968:
		// test_requires_repository_and_workflow_claims.
		{"launchplane: no repository", "Bearer " + is.Token(edit(func(c *Claims) { c.Repository = "" })), "OIDC token is missing repository claim."},
		{"launchplane: no workflow_ref", "Bearer " + is.Token(edit(func(c *Claims) { c.WorkflowRef = "" })), "OIDC token is missing workflow_ref claim."},
		{"no repository_owner", "Bearer " + is.Token(edit(func(c *Claims) { c.RepositoryOwner = "" })), "OIDC token is missing repository_owner claim."},
		{"non-numeric repository_id", "Bearer " + is.Token(edit(func(c *Claims) { c.RepositoryID = "R_1" })), "OIDC token is missing numeric repository_id claim."},
		{"no repository_owner_id", "Bearer " + is.Token(edit(func(c *Claims) { c.RepositoryOwnerID = "" })), "OIDC token is missing numeric repository_owner_id claim."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := send(t, s, http.MethodGet, "/v1/deployments/"+id, "", map[string]string{"Authorization": tt.header}, nil)
			if a.status != http.StatusUnauthorized || a.code() != "authentication_required" {
				t.Fatalf("status %d code %q, want 401 authentication_required: %s", a.status, a.code(), a.raw)
			}
			if got := a.header.Get("WWW-Authenticate"); got != `Bearer realm="Launchplane API"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if msg := a.body["error"].(map[string]any)["message"]; msg != tt.wantMsg {
				t.Errorf("message = %q, want %q", msg, tt.wantMsg)
			}
			if tr, _ := a.body["trace_id"].(string); !strings.HasPrefix(tr, "launchplane_req_") {
				t.Errorf("trace_id = %q", tr)
			}
		})
	}
	if a := send(t, s, http.MethodGet, "/v1/deployments/"+id, s.Token(), nil, nil); a.status != http.StatusOK {
		t.Errorf("a valid token: status %d, want 200: %s", a.status, a.raw)
	}
}

// TestServerDeploymentRead pins the record read: the record exactly as DeploymentRecord
// serialises it, runtime_identity an object, null, or absent in the older model; 404 before
// 403; 503 without a database.
func TestServerDeploymentRead(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithPolicy(Policy{Rules: []Rule{{Repository: "acme/shop", Contexts: []string{"shop"}, Actions: []string{"deployment.read"}}}}))
	want := stable()
	s.AddIdentity(want)
	null := NewRecord(want)
	null.RecordID, null.RuntimeIdentity = "deployment-20260101T000000Z-shop-prod", nil
	s.AddDeployment(null)
	legacy := NewRecord(want)
	legacy.RecordID, legacy.Legacy = "deployment-20250101T000000Z-shop-prod", true
	s.AddDeployment(legacy)
	other := NewRecord(want)
	other.RecordID, other.Context, other.RuntimeIdentity = "deployment-20260101T000000Z-blog-prod", "blog", nil
	s.AddDeployment(other)
	tok := s.Token()

	a := send(t, s, http.MethodGet, "/v1/deployments/"+want.DeploymentRecordID, tok, nil, nil)
	if a.status != http.StatusOK {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	wantKeys := `{"status":"ok","trace_id":"launchplane_req_00000000000000000000000000000001","record":{"schema_version":1,"record_id":"deployment-20260510T141500Z-shop-prod","artifact_identity":{"artifact_id":"` + want.ArtifactID + `","manifest_version":1},"context":"shop","instance":"prod","source_git_ref":"` + want.SourceGitRef + `","wait_for_completion":true,"verify_destination_health":true,"no_cache":false,"delegated_executor":"control-plane.dokploy","resolved_target":{"target_type":"application","target_id":"app-shop01","target_name":"shop-prod"},"deployed_target":{"provider_id":"dokploy","target_category":"application","target_id":"app-shop01","display_name":"shop-prod","provider_target_type":"application","provider_evidence":{}},"runtime_source":{},"runtime_identity":{"schema_version":1,"product":"shop","context":"shop","instance":"prod","environment_kind":"stable","deployment_record_id":"deployment-20260510T141500Z-shop-prod","artifact_id":"` + want.ArtifactID + `","source_git_ref":"` + want.SourceGitRef + `","image_reference":"` + want.ImageReference + `","release_tuple_id":"","preview_id":"","preview_generation_id":"","deployed_at":"2026-05-10T14:15:00Z"},"deploy":{"target_name":"shop-prod","target_type":"application","deploy_mode":"dokploy-application-api","provider_id":"dokploy","target_category":"application","provider_target_type":"application","provider_deploy_mode":"dokploy-application-api","deployment_id":"control-plane-dokploy","status":"pass","started_at":"2026-05-10T14:10:00Z","finished_at":"2026-05-10T14:15:00Z"},"bootstrap":{"attempted":false,"run_status":"skipped","readiness_status":"skipped","detail":""},"post_deploy_update":{"attempted":false,"status":"skipped","detail":"","evidence":{}},"destination_health":{"verified":false,"urls":[],"timeout_seconds":null,"status":"skipped","runtime_identity_status":"unchecked","runtime_identity_detail":"","observed_runtime_identity":null,"structured_health":{"status":"unchecked","reported_status":"","version":"","source_git_ref":"","image_reference":"","detail":"","components":[]}}}}`
	if diff := cmp.Diff(wantKeys, a.raw); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	rec := a.body["record"].(map[string]any)
	for _, absent := range []string{"deployment_record_id", "product", "environment_kind", "artifact_id", "expected_runtime_identity"} {
		if _, ok := rec[absent]; ok {
			t.Errorf("record has %q at its top level; the model has no such field", absent)
		}
	}

	if a := send(t, s, http.MethodGet, "/v1/deployments/"+null.RecordID, tok, nil, nil); a.status != 200 || a.body["record"].(map[string]any)["runtime_identity"] != nil {
		t.Errorf("null identity record: %d %s", a.status, a.raw)
	}
	a = send(t, s, http.MethodGet, "/v1/deployments/"+legacy.RecordID, tok, nil, nil)
	if _, has := a.body["record"].(map[string]any)["runtime_identity"]; a.status != 200 || has {
		t.Errorf("legacy record: %d, runtime_identity present %v", a.status, has)
	}
	for _, tt := range []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown record", "/v1/deployments/deployment-nope", 404, "not_found"},
		{"another context", "/v1/deployments/" + other.RecordID, 403, "authorization_denied"},
		{"whitespace id", "/v1/deployments/a%20b", 400, "invalid_request"},
	} {
		if a := send(t, s, http.MethodGet, tt.path, tok, nil, nil); a.status != tt.status || a.code() != tt.code {
			t.Errorf("%s: %d %q, want %d %s", tt.name, a.status, a.code(), tt.status, tt.code)
		}
	}
	nodb := NewServer(t, WithoutDatabase())
	if a := send(t, nodb, http.MethodGet, "/v1/deployments/x", nodb.Token(), nil, nil); a.status != 503 || a.code() != "database_storage_required" {
		t.Errorf("without database: %d %q", a.status, a.code())
	}
}

// TestServerDeploymentReadProduct pins that deployment.read is checked for product
// "launchplane" (operational_records.py), not the tenant's product.
func TestServerDeploymentReadProduct(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithPolicy(Policy{Rules: []Rule{{Repository: "acme/shop", Products: []string{"shop"}}}}))
	id := s.AddIdentity(stable())
	if a := send(t, s, http.MethodGet, "/v1/deployments/"+id, s.Token(), nil, nil); a.status != 403 {
		t.Errorf("products=[shop] rule: status %d, want 403 (the read is authorised for product launchplane)", a.status)
	}
}

// TestServerStableVerificationOrder pins the order of checks: 401, 400 validation, lane (404
// for an unknown product, 403 product_driver_mismatch), 403 authorization_denied, idempotency,
// 400 apply, 202.
func TestServerStableVerificationOrder(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithPolicy(Policy{Rules: []Rule{{Repository: "acme/shop", Instances: []string{"testing"}}}}))
	want := stable()
	s.AddIdentity(want)
	testingID := want
	testingID.Instance, testingID.DeploymentRecordID = "testing", "deployment-20260510T141500Z-shop-testing"
	s.AddIdentity(testingID)
	mismatchedRecord := NewRecord(testingID)
	mismatchedRecord.RecordID = "deployment-20260510T141500Z-shop-prod-copy"
	mismatchedRecord.Instance = "prod"
	mismatchedRecord.RuntimeIdentity.DeploymentRecordID = mismatchedRecord.RecordID
	s.AddDeployment(mismatchedRecord)
	s.AddProduct(Product{Product: "site", DisplayName: "Site", Repository: "acme/site", DriverID: "odoo", Lanes: []Lane{{Context: "shop", Instance: "testing"}}})
	tok := s.Token()
	bodyFor := func(edit func(env, ver map[string]any)) []byte {
		return verificationBody(t, func(env, ver map[string]any) {
			env["product"] = "shop"
			ver["instance"], ver["deployment_record_id"] = "testing", testingID.DeploymentRecordID
			if edit != nil {
				edit(env, ver)
			}
		})
	}
	tests := []struct {
		name   string
		token  string
		body   []byte
		status int
		code   string
	}{
		{"no token with a bad body is 401", "", []byte(`{"verdict":"match"}`), 401, "authentication_required"},
		{"bad body is 400", tok, []byte(`{"verdict":"match"}`), 400, "invalid_request"},
		{"verdict word is 400", tok, bodyFor(func(_, v map[string]any) { v["verification_status"] = "match" }), 400, "invalid_request"},
		{"unknown product is 404", tok, bodyFor(func(e, _ map[string]any) { e["product"] = "nope" }), 404, "not_found"},
		{"not generic-web is 403 product_driver_mismatch", tok, bodyFor(func(e, _ map[string]any) { e["product"] = "site" }), 403, "product_driver_mismatch"},
		{"no such lane is 403 product_driver_mismatch", tok, bodyFor(func(_, v map[string]any) { v["instance"] = "staging" }), 403, "product_driver_mismatch"},
		{"lane not granted is 403 authorization_denied", tok, bodyFor(func(_, v map[string]any) {
			v["instance"], v["deployment_record_id"] = "prod", want.DeploymentRecordID
		}), 403, "authorization_denied"},
		{"unknown record is 400", tok, bodyFor(func(_, v map[string]any) { v["deployment_record_id"] = "deployment-nope" }), 400, "invalid_request"},
		{"record of another instance is 400", tok, bodyFor(func(_, v map[string]any) { v["deployment_record_id"] = mismatchedRecord.RecordID }), 400, "invalid_request"},
		{"lane matched after strip, record compared exactly is 400", tok, bodyFor(func(_, v map[string]any) { v["instance"] = "testing " }), 400, "invalid_request"},
		{"non-matching healthy payload is 400", tok, bodyFor(func(_, v map[string]any) { v["health_payload"] = map[string]any{"status": "ok"} }), 400, "invalid_request"},
		{"unknown promotion is 400", tok, bodyFor(func(_, v map[string]any) { v["promotion_record_id"] = "promotion-nope" }), 400, "invalid_request"},
		{"pass with null payload is 202", tok, bodyFor(nil), 202, ""},
	}
	for i, tt := range tests {
		a := send(t, s, http.MethodPost, RouteStableVerification, tt.token, map[string]string{"Idempotency-Key": "k-" + tt.name}, tt.body)
		if a.status != tt.status || a.code() != tt.code {
			t.Errorf("%d %s: %d %q, want %d %q: %s", i, tt.name, a.status, a.code(), tt.status, tt.code, a.raw)
		}
	}
	// A pass with a null payload is accepted but recorded as fail (identity missing).
	vs := s.Verifications()
	if len(vs) != 1 || vs[0].DeploymentHealthStatus != "fail" || vs[0].RuntimeIdentityStatus != "missing" || vs[0].Stored {
		t.Errorf("verifications = %+v, want one fail/missing, not stored", vs)
	}
}

// TestServerStableVerificationPayloads pins the reclassification: a matching body records
// pass; a failing or malformed body is exempt from the identity check; a record without an
// identity accepts only null or exempt payloads.
func TestServerStableVerificationPayloads(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	want := stable()
	s.AddIdentity(want)
	bare := NewRecord(want)
	bare.RecordID, bare.RuntimeIdentity = "deployment-20260101T000000Z-shop-prod", nil
	s.AddDeployment(bare)
	stale := want
	stale.SourceGitRef = strings.Repeat("d", 40)
	tok := s.Token()
	tests := []struct {
		name       string
		record     string
		status     string
		payload    string
		code       int
		wantHealth string
		wantRID    string
	}{
		{"match pass", want.DeploymentRecordID, "pass", healthOf(want), 202, "pass", "match"},
		{"short sha refused", want.DeploymentRecordID, "pass", strings.Replace(healthOf(want), want.SourceGitRef, want.SourceGitRef[:7], 1), 400, "", ""},
		{"extra key refused", want.DeploymentRecordID, "pass", strings.Replace(healthOf(want), `"runtime_identity":{`, `"runtime_identity":{"build":"7",`, 1), 400, "", ""},
		{"stale body with fail status refused", want.DeploymentRecordID, "fail", healthOf(stale), 400, "", ""},
		{"stale body failing itself is exempt", want.DeploymentRecordID, "fail", strings.Replace(healthOf(stale), `"ok"`, `"unhealthy"`, 1), 202, "fail", "mismatch"},
		{"malformed status is exempt", want.DeploymentRecordID, "pass", `{"status":"purple"}`, 202, "fail", "missing"},
		{"non-object body is exempt", want.DeploymentRecordID, "fail", `["ok"]`, 202, "fail", "missing"},
		{"no identity: null payload", bare.RecordID, "fail", "", 202, "fail", "unchecked"},
		{"no identity: pass with null payload stays pass", bare.RecordID, "pass", "", 202, "pass", "unchecked"},
		{"no identity: healthy body refused", bare.RecordID, "fail", `{"status":"ok"}`, 400, "", ""},
		{"no identity: failing body accepted", bare.RecordID, "fail", `{"status":"down"}`, 202, "fail", "unchecked"},
	}
	for _, tt := range tests {
		body := verificationBody(t, func(_, ver map[string]any) {
			ver["deployment_record_id"], ver["verification_status"] = tt.record, tt.status
			if tt.payload != "" {
				var v any
				_ = json.Unmarshal([]byte(tt.payload), &v)
				ver["health_payload"] = v
			}
		})
		before := len(s.Verifications())
		a := send(t, s, http.MethodPost, RouteStableVerification, tok, map[string]string{"Idempotency-Key": "k-" + tt.name}, body)
		if a.status != tt.code {
			t.Errorf("%s: status %d, want %d: %s", tt.name, a.status, tt.code, a.raw)
			continue
		}
		if tt.code != 202 {
			continue
		}
		v := s.Verifications()[before]
		if v.DeploymentHealthStatus != tt.wantHealth || v.RuntimeIdentityStatus != tt.wantRID {
			t.Errorf("%s: recorded %s/%s, want %s/%s", tt.name, v.DeploymentHealthStatus, v.RuntimeIdentityStatus, tt.wantHealth, tt.wantRID)
		}
		if got := a.body["result"].(map[string]any)["deployment_health_status"]; got != tt.wantHealth {
			t.Errorf("%s: result.deployment_health_status = %v", tt.name, got)
		}
	}
	rec, _ := s.Deployment(want.DeploymentRecordID)
	if rec.Health.Status == "skipped" {
		t.Error("accepted verifications did not update the record's destination_health")
	}
}

// TestServerIdempotency pins the replay rules: the fingerprint is the whole body; after an
// accepted pass the same key and body replay (replayed, original_trace_id) and another body is
// 409 idempotency_key_reused; a result holding fail is not stored; keys are scoped per caller.
func TestServerIdempotency(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithPolicy(Policy{Rules: []Rule{AllowRepository("acme/shop"), AllowRepository("acme/other")}}))
	want := stable()
	s.AddIdentity(want)
	tok := s.Token()
	pass := passBody(t, want, healthOf(want))
	post := func(tok, key string, body []byte) answer {
		return send(t, s, http.MethodPost, RouteStableVerification, tok, map[string]string{"Idempotency-Key": key}, body)
	}
	first := post(tok, "key-1", pass)
	if first.status != 202 || first.body["replayed"] != nil {
		t.Fatalf("first: %d %s", first.status, first.raw)
	}
	again := post(tok, " key-1 ", pass) // Launchplane strips the key
	if again.status != 202 || again.body["replayed"] != true || again.body["original_trace_id"] != first.body["trace_id"] || again.body["trace_id"] == first.body["trace_id"] {
		t.Errorf("replay: %d %s", again.status, again.raw)
	}
	if diff := cmp.Diff(first.body["result"], again.body["result"]); diff != "" {
		t.Errorf("replayed result (-first +replay):\n%s", diff)
	}
	later := verificationBody(t, func(_, ver map[string]any) {
		ver["verified_at"] = "2026-05-10T14:21:00Z"
		var v any
		_ = json.Unmarshal([]byte(healthOf(want)), &v)
		ver["health_payload"] = v
	})
	if a := post(tok, "key-1", later); a.status != 409 || a.code() != "idempotency_key_reused" {
		t.Errorf("another verified_at under the key: %d %q, want 409", a.status, a.code())
	}
	// Same JSON, other key order and spacing: the same fingerprint.
	var v any
	_ = json.Unmarshal(pass, &v)
	pretty, _ := json.MarshalIndent(v, "", "  ")
	if a := post(tok, "key-1", pretty); a.status != 202 || a.body["replayed"] != true {
		t.Errorf("reformatted body: %d %s", a.status, a.raw)
	}
	// Another caller's identical key is another record.
	other := DefaultClaims()
	other.Repository, other.Audience = "acme/other", s.Audience()
	if a := post(s.Issuer().Token(other), "key-1", later); a.status != 202 || a.body["replayed"] != nil {
		t.Errorf("other caller, same key: %d %s", a.status, a.raw)
	}
	// A fail is not stored: the same key takes another body.
	fail := verificationBody(t, func(_, ver map[string]any) { ver["verification_status"] = "fail" })
	if a := post(tok, "key-2", fail); a.status != 202 {
		t.Fatalf("fail: %d %s", a.status, a.raw)
	}
	if a := post(tok, "key-2", pass); a.status != 202 || a.body["replayed"] != nil {
		t.Errorf("after a fail the key is free: %d %s", a.status, a.raw)
	}
	if n := len(s.Verifications()); n != 4 {
		t.Errorf("%d verifications applied, want 4 (replays add none)", n)
	}
}

// TestServerEnvironment pins the product environment read and its target.
func TestServerEnvironment(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithPolicy(Policy{Rules: []Rule{{Repository: "acme/shop", Actions: []string{"product_environment.read"}, Instances: []string{"prod"}}}}))
	want := stable()
	s.AddIdentity(want)
	tok := s.Token()
	a := send(t, s, http.MethodGet, "/v1/products/shop/environments/prod", tok, nil, nil)
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	env := a.body["environment"].(map[string]any)
	target := env["target"].(map[string]any)
	exp, _ := json.Marshal(target["expected_runtime_identity"])
	rid := want
	rid.DeployedAt = "2026-05-10T14:15:00Z"
	if string(exp) != string(rid.Canonical()) || env["health_url"] != "https://shop.example.com/api/health" || env["environment"] != "prod" {
		t.Errorf("environment = %s", a.raw)
	}
	s.AddProduct(Product{Product: "shop", DisplayName: "Shop", Repository: "acme/shop", DriverID: "generic-web", Lanes: []Lane{{Context: "shop", Instance: "prod"}, {Context: "shop", Instance: "testing"}}})
	for _, tt := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/products/nope/environments/prod", 404, "not_found"},
		{"/v1/products/shop/environments/staging", 404, "not_found"},
		{"/v1/products/shop/environments/testing", 403, "authorization_denied"},
		{"/v1/products/shop/environments/pr%2042", 400, "invalid_request"},
		{"/v1/products/sh%09op/environments/prod", 400, "invalid_request"},
	} {
		if a := send(t, s, http.MethodGet, tt.path, tok, nil, nil); a.status != tt.status || a.code() != tt.code {
			t.Errorf("%s: %d %q, want %d %s", tt.path, a.status, a.code(), tt.status, tt.code)
		}
	}
	nodb := NewServer(t, WithoutDatabase())
	if a := send(t, nodb, http.MethodGet, "/v1/products/shop/environments/prod", nodb.Token(), nil, nil); a.status != 503 || a.code() != "database_storage_required" {
		t.Errorf("without a record store: %d %q, want 503 database_storage_required", a.status, a.code())
	}
}

// TestServerStaticToken pins a configured bearer token's identity and scope.
func TestServerStaticToken(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithStaticToken("lp-local-operator-token", StaticRule{Subject: "ops", TokenLabel: "laptop", Contexts: []string{"shop"}}))
	id := s.AddIdentity(stable())
	if a := send(t, s, http.MethodGet, "/v1/deployments/"+id, "lp-local-operator-token", nil, nil); a.status != 200 {
		t.Errorf("static token: %d %s", a.status, a.raw)
	}
	if a := send(t, s, http.MethodGet, "/v1/deployments/"+id, "lp-other", nil, nil); a.status != 401 {
		t.Errorf("unknown static token: %d", a.status)
	}
}

// TestServerFaults pins FailNext and DropNext.
func TestServerFaults(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	want := stable()
	s.AddIdentity(want)
	s.FailNext(1, http.StatusTooManyRequests)
	a := send(t, s, http.MethodGet, "/v1/deployments/"+want.DeploymentRecordID, s.Token(), nil, nil)
	if a.status != 429 || a.header.Get("Retry-After") != "1" || a.code() != "injected_fault" {
		t.Errorf("FailNext: %d %q %q", a.status, a.header.Get("Retry-After"), a.code())
	}
	s.DropNext(1)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+RouteStableVerification, bytes.NewReader(passBody(t, want, healthOf(want))))
	req.Header.Set("Authorization", "Bearer "+s.Token())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "dropped")
	// A fresh transport: Go's transport resends a request carrying an Idempotency-Key by itself
	// when a reused connection drops.
	if resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("DropNext: got an answer %d, want a dropped connection", resp.StatusCode)
	}
	if vs := s.Verifications(); len(vs) != 1 || !vs[0].Stored {
		t.Errorf("DropNext: verifications %+v, want the write applied and stored", vs)
	}
	if reqs := s.Requests(); reqs[len(reqs)-1].Status != 0 {
		t.Errorf("dropped request recorded status %d, want 0", reqs[len(reqs)-1].Status)
	}
}

// TestServerEchoedToken checks that WithEchoedToken really echoes the header.
func TestServerEchoedToken(t *testing.T) {
	t.Parallel()
	s := NewServer(t, WithEchoedToken())
	a := send(t, s, http.MethodGet, "/v1/deployments/nope", "eyJhbGciOiJSUzI1NiJ9.eyJ4IjoxfQ.sig", nil, nil)
	if !strings.Contains(a.raw, "eyJhbGciOiJSUzI1NiJ9") {
		t.Errorf("echoed token missing from %s", a.raw)
	}
}

// recordingTB records Errorf calls instead of failing.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, format)
}

// TestServerUnknownRouteIsLoud checks that a route the fake does not serve fails the test.
func TestServerUnknownRouteIsLoud(t *testing.T) {
	t.Parallel()
	rec := &recordingTB{TB: t}
	s := NewServer(rec)
	if a := send(t, s, http.MethodGet, "/v1/inventory/shop/prod", s.Token(), nil, nil); a.status != 404 {
		t.Errorf("status %d, want 404", a.status)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errors) != 1 {
		t.Errorf("Errorf called %d times, want 1", len(rec.errors))
	}
}

// TestRunnerTokenURL checks the runner's OIDC endpoint stand-in mints a token the server
// accepts for the audience asked for.
func TestRunnerTokenURL(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	id := s.AddIdentity(stable())
	u := s.Issuer().RunnerTokenURL("request-token", DefaultClaims())
	req, _ := http.NewRequest(http.MethodGet, u+"&audience="+s.Audience(), nil)
	req.Header.Set("Authorization", "Bearer request-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Value string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if a := send(t, s, http.MethodGet, "/v1/deployments/"+id, got.Value, nil, nil); a.status != 200 {
		t.Errorf("minted token: %d %s", a.status, a.raw)
	}
	if diff := cmp.Diff([]string{s.Audience()}, s.Issuer().Audiences()); diff != "" {
		t.Errorf("audiences (-want +got):\n%s", diff)
	}
}

// TestServerContentType pins FastAPI's body reading: JSON without a Content-Type, or with a
// JSON one; raw bytes, which the model refuses, with any other.
func TestServerContentType(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	want := stable()
	s.AddIdentity(want)
	for _, tt := range []struct {
		contentType string
		status      int
	}{
		{"", 202}, {"application/json; charset=utf-8", 202}, {"application/vnd.launchplane+json", 202}, {"text/plain", 400},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+RouteStableVerification, bytes.NewReader(passBody(t, want, healthOf(want))))
		req.Header.Set("Authorization", "Bearer "+s.Token())
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("Content-Type %q: status %d, want %d", tt.contentType, resp.StatusCode, tt.status)
		}
	}
}
