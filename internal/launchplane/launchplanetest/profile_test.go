package launchplanetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// syoProduct is Launchplane's own test profile (tests/support/profiles.py @
// 7834051ac2656f083ae4c948f8e5b87fc033cda4, product_profile_payload("sellyouroutboard")).
func syoProduct() Product {
	return Product{
		Product: "sellyouroutboard", DisplayName: "Sell Your Outboard", Repository: "cbusillo/sellyouroutboard",
		DriverID: "generic-web", RuntimePort: 3000, HealthPath: "/api/health", PreviewContext: "sellyouroutboard-testing",
		Lanes: []Lane{{
			Instance: "testing", Context: "sellyouroutboard-testing",
			BaseURL: "https://testing.sellyouroutboard.com", HealthURL: "https://testing.sellyouroutboard.com/api/health",
		}},
	}
}

// serviceTestClaims is the identity of Launchplane's service tests (tests/test_service.py,
// index file version 52443442814, _identity), with the numeric ids the verifier requires.
func serviceTestClaims(aud string) Claims {
	c := DefaultClaims()
	c.Audience, c.Repository, c.RepositoryOwner = aud, "every/verireel", "every"
	c.WorkflowRef = "every/verireel/.github/workflows/preview-control-plane.yml@refs/heads/main"
	c.JobWorkflowRef, c.Ref, c.EventName, c.Subject = "", "refs/heads/main", "pull_request", "repo:every/verireel:pull_request"
	return c
}

// TestServerProfileAuthorization pins product_profile.read with Launchplane's own vectors
// (tests/test_service.py, index file version 52443442814:
// test_product_profile_endpoints_round_trip_authorized_record, whose rule lists products
// launchplane and sellyouroutboard, and the context-cutover audit tests, whose rule lists only
// sellyouroutboard; both grant context launchplane) and the rules that follow from the route:
// the context checked is "launchplane", never the lane's, and a rule naming instances does not
// cover a read without an instance target.
func TestServerProfileAuthorization(t *testing.T) {
	t.Parallel()
	const workflow = "every/verireel/.github/workflows/preview-control-plane.yml@refs/heads/main"
	rule := func(edit func(*Rule)) Rule {
		r := Rule{
			Repository: "every/verireel", WorkflowRefs: []string{workflow}, EventNames: []string{"pull_request"},
			Products: []string{"launchplane", "sellyouroutboard"}, Contexts: []string{"launchplane"},
			Actions: []string{"product_profile.write", "product_profile.read"},
		}
		if edit != nil {
			edit(&r)
		}
		return r
	}
	tests := []struct {
		name   string
		rule   Rule
		status int
	}{
		{"launchplane's round-trip rule", rule(nil), 200},
		{"launchplane's cutover audit rule", rule(func(r *Rule) { r.Products, r.Actions = []string{"sellyouroutboard"}, []string{"product_profile.read"} }), 200},
		{"the lane's context is not the one checked", rule(func(r *Rule) { r.Contexts = []string{"sellyouroutboard-testing"} }), 403},
		{"another product", rule(func(r *Rule) { r.Products = []string{"launchplane"} }), 403},
		{"write only", rule(func(r *Rule) { r.Actions = []string{"product_profile.write"} }), 403},
		{"environment reads only", rule(func(r *Rule) { r.Actions = []string{"product_environment.read"} }), 403},
		{"a rule naming instances", rule(func(r *Rule) { r.Instances = []string{"testing"} }), 403},
		{"another event", rule(func(r *Rule) { r.EventNames = []string{"push"} }), 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, WithPolicy(Policy{Rules: []Rule{tt.rule}}))
			s.AddProduct(syoProduct())
			tok := s.Issuer().Token(serviceTestClaims(s.Audience()))
			a := send(t, s, http.MethodGet, "/v1/product-profiles/sellyouroutboard", tok, nil, nil)
			if a.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", a.status, tt.status, a.raw)
			}
			if tt.status != 200 {
				if a.code() != "authorization_denied" || !strings.HasPrefix(fmt.Sprint(a.body["trace_id"]), "launchplane_req_") {
					t.Errorf("refusal = %s, want authorization_denied with a trace_id", a.raw)
				}
				return
			}
			// The assertions of Launchplane's round-trip test.
			profile := a.body["profile"].(map[string]any)
			preview := profile["preview"].(map[string]any)
			if a.body["status"] != "ok" || profile["driver_id"] != "generic-web" || preview["slug_template"] != "pr-{number}" {
				t.Errorf("profile = %s", a.raw)
			}
		})
	}
}

// TestServerProfileOrder pins the handler's order: 401 before anything, 503 without a database
// and 404 for an unknown product before authorization, then 403.
func TestServerProfileOrder(t *testing.T) {
	t.Parallel()
	deny := WithPolicy(Policy{})
	tests := []struct {
		name   string
		opts   []Option
		path   string
		token  bool
		status int
		code   string
	}{
		{"no token", nil, "/v1/product-profiles/sellyouroutboard", false, 401, "authentication_required"},
		{"no token, unknown product", nil, "/v1/product-profiles/nope", false, 401, "authentication_required"},
		{"unknown product before authorization", []Option{deny}, "/v1/product-profiles/nope", true, 404, "not_found"},
		{"no database before authorization", []Option{deny, WithoutDatabase()}, "/v1/product-profiles/sellyouroutboard", true, 503, "database_storage_required"},
		{"denied", []Option{deny}, "/v1/product-profiles/sellyouroutboard", true, 403, "authorization_denied"},
		{"whitespace in the product", nil, "/v1/product-profiles/sell%20your", true, 400, "invalid_request"},
		{"allowed", nil, "/v1/product-profiles/sellyouroutboard", true, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, tt.opts...)
			s.AddProduct(syoProduct())
			tok := ""
			if tt.token {
				tok = s.Token()
			}
			a := send(t, s, http.MethodGet, tt.path, tok, nil, nil)
			if a.status != tt.status || a.code() != tt.code {
				t.Errorf("GET %s = %d %q, want %d %q", tt.path, a.status, a.code(), tt.status, tt.code)
			}
			if !strings.HasPrefix(fmt.Sprint(a.body["trace_id"]), "launchplane_req_") {
				t.Errorf("answer %s has no trace_id", a.raw)
			}
		})
	}
}

// profileModel lists, for each object of ProductProfileResponse, the fields of its pydantic
// model in declaration order, as read from product_profile_record.py (index file version
// 57369773672) and products.py @ 7d881dfc6e219de573749f78fe199d392e21e79f. It is written apart
// from the serialiser so that each checks the other.
var profileModel = map[string][]string{
	"": {"status", "trace_id", "profile"},
	"profile": {"schema_version", "lifecycle_state", "product", "display_name", "repository", "repository_id",
		"repository_owner_id", "default_branch", "driver_id", "image", "runtime_port", "health_path", "lanes",
		"historical_contexts", "preview", "promotion_workflow", "expected_config", "updated_at", "source"},
	"profile.image": {"repository"},
	"profile.lanes[]": {"instance", "context", "base_url", "health_url", "odoo_stable_bootstrap",
		"odoo_prelaunch_rebuild", "odoo_data_policy", "health_monitoring"},
	"profile.lanes[].odoo_stable_bootstrap": {"enabled", "approval_issue_url", "data_source_mode", "confirmation",
		"expected_target_name", "expected_domains", "require_health_verification", "require_canonical_verification",
		"require_logo_verification"},
	"profile.lanes[].odoo_prelaunch_rebuild": {"enabled", "approval_issue_url", "data_source_mode", "confirmation",
		"expected_target_name", "expected_domains"},
	"profile.lanes[].odoo_data_policy": {"data_authority", "allowed_rebuild_sources", "upstream_source",
		"requires_backup_before_destroy", "requires_restore_proof", "requires_runtime_identity"},
	"profile.lanes[].health_monitoring":          {"monitoring_intent", "checks"},
	"profile.lanes[].health_monitoring.checks[]": {"name", "kind", "enabled", "url", "private_endpoint_key", "require_runtime_identity", "recovery_observation_threshold", "provider", "provider_check"},
	"profile.preview": {"enabled", "context", "enable_label", "slug_template", "app_name_prefix", "template_instance",
		"required_template_env_keys", "copied_env_keys", "omitted_env_keys", "override_env", "preview_url_env_keys",
		"preview_domain_env_keys", "domain_certificate_type", "required_provider_fields", "data_transport_mode",
		"migration_command", "seed_command"},
	"profile.preview.override_env": {},
	"profile.promotion_workflow": {"workflow_id", "ref", "dry_run_input", "bump_input", "artifact_id_input",
		"deploy_reference_input", "source_git_ref_input", "promotion_intent_input", "default_bump"},
	"profile.expected_config": {"runtime_environment_keys", "managed_secret_bindings"},
}

// objectKeys walks a JSON document and returns the keys of every object, in order, by path.
func objectKeys(t *testing.T, raw []byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	var walk func(dec *json.Decoder, path string)
	walk = func(dec *json.Decoder, path string) {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch tok {
		case json.Delim('{'):
			keys := []string{}
			for dec.More() {
				k, _ := dec.Token()
				keys = append(keys, k.(string))
				walk(dec, strings.TrimPrefix(path+"."+k.(string), "."))
			}
			dec.Token()
			out[path] = keys
		case json.Delim('['):
			for dec.More() {
				walk(dec, path+"[]")
			}
			dec.Token()
		}
	}
	walk(json.NewDecoder(bytes.NewReader(raw)), "")
	return out
}

// TestServerProfileModel checks the profile is serialised as the service's models: every field,
// in declaration order, no other key, and values of the model's types and defaults.
func TestServerProfileModel(t *testing.T) {
	t.Parallel()
	s := NewServer(t)
	p := syoProduct()
	p.Lanes = append(p.Lanes, Lane{
		Instance: "prod", Context: "sellyouroutboard", BaseURL: "https://www.sellyouroutboard.com",
		MonitoringIntent: "public",
		Checks: []HealthCheck{
			{Name: "public-ingress", RequireRuntimeIdentity: true},
			{Name: "dokploy app", Kind: "provider", Provider: "dokploy", ProviderCheck: "application_status", Disabled: true},
		},
	})
	s.AddProduct(p)
	a := send(t, s, http.MethodGet, "/v1/product-profiles/sellyouroutboard", s.Token(), nil, nil)
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.raw)
	}
	if diff := cmp.Diff(profileModel, objectKeys(t, []byte(a.raw))); diff != "" {
		t.Errorf("object keys (-model +served):\n%s", diff)
	}
	profile := a.body["profile"].(map[string]any)
	lanes := profile["lanes"].([]any)
	prod := lanes[1].(map[string]any)
	hm := prod["health_monitoring"].(map[string]any)
	checks := hm["checks"].([]any)
	first, second := checks[0].(map[string]any), checks[1].(map[string]any)
	got := []any{
		profile["schema_version"], profile["lifecycle_state"], profile["runtime_port"], profile["image"].(map[string]any)["repository"],
		profile["preview"].(map[string]any)["enabled"], hm["monitoring_intent"],
		first["kind"], first["enabled"], first["require_runtime_identity"], first["recovery_observation_threshold"],
		second["kind"], second["enabled"], prod["odoo_data_policy"].(map[string]any)["requires_runtime_identity"],
		lanes[0].(map[string]any)["health_monitoring"].(map[string]any)["monitoring_intent"],
	}
	want := []any{
		1.0, "active", 3000.0, "ghcr.io/cbusillo/sellyouroutboard",
		true, "public",
		"public_http", true, true, 1.0,
		"provider", false, true,
		"prelaunch",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profile values (-want +got):\n%s\n%s", diff, a.raw)
	}
}

// TestCheckProfile pins the model's validators the fake applies to a stored profile.
func TestCheckProfile(t *testing.T) {
	t.Parallel()
	lane := func(edit func(*Lane)) Product {
		p := syoProduct()
		edit(&p.Lanes[0])
		return p
	}
	tests := []struct {
		name string
		p    Product
		ok   bool
	}{
		{"launchplane's test profile", syoProduct(), true},
		{"no display name", func() Product { p := syoProduct(); p.DisplayName = " "; return p }(), false},
		{"no repository", func() Product { p := syoProduct(); p.Repository = ""; return p }(), false},
		{"health path without a slash", func() Product { p := syoProduct(); p.HealthPath = "api/health"; return p }(), false},
		{"port out of range", func() Product { p := syoProduct(); p.RuntimePort = 70000; return p }(), false},
		{"lane without context", lane(func(l *Lane) { l.Context = "" }), false},
		{"instances unique ignoring case", func() Product {
			p := syoProduct()
			p.Lanes = append(p.Lanes, Lane{Instance: "Testing", Context: "x"})
			return p
		}(), false},
		{"public intent with a public check", lane(func(l *Lane) { l.MonitoringIntent, l.Checks = "public", []HealthCheck{{Name: "public-ingress"}} }), true},
		{"public intent without one", lane(func(l *Lane) { l.MonitoringIntent = "public" }), false},
		{"public intent with it disabled", lane(func(l *Lane) {
			l.MonitoringIntent, l.Checks = "public", []HealthCheck{{Name: "public-ingress", Disabled: true}}
		}), false},
		{"unknown intent", lane(func(l *Lane) { l.MonitoringIntent = "loud" }), false},
		{"unknown kind", lane(func(l *Lane) { l.Checks = []HealthCheck{{Name: "x", Kind: "tls"}} }), false},
		{"name without a letter or digit", lane(func(l *Lane) { l.Checks = []HealthCheck{{Name: "--"}} }), false},
		{"names unique by token", lane(func(l *Lane) { l.Checks = []HealthCheck{{Name: "Site Up"}, {Name: "site-up"}} }), false},
		{"reserved name on a provider check", lane(func(l *Lane) {
			l.Checks = []HealthCheck{{Name: "Public Ingress", Kind: "provider", Provider: "p", ProviderCheck: "c"}}
		}), false},
		{"provider check complete", lane(func(l *Lane) {
			l.Checks = []HealthCheck{{Name: "app", Kind: "provider", Provider: "p", ProviderCheck: "c"}}
		}), true},
		{"provider check without provider_check", lane(func(l *Lane) { l.Checks = []HealthCheck{{Name: "app", Kind: "provider", Provider: "p"}} }), false},
		{"http check with provider fields", lane(func(l *Lane) { l.Checks = []HealthCheck{{Name: "app", Provider: "p"}} }), false},
		{"private check with a url", lane(func(l *Lane) {
			l.Checks = []HealthCheck{{Name: "inner", Kind: "private_http", URL: "http://10.0.0.1/h", PrivateEndpointKey: "k"}}
		}), false},
		{"enabled private check without a key", lane(func(l *Lane) { l.Checks = []HealthCheck{{Name: "inner", Kind: "private_http"}} }), false},
		{"disabled private check without a key", lane(func(l *Lane) { l.Checks = []HealthCheck{{Name: "inner", Kind: "private_http", Disabled: true}} }), true},
		{"public check without any URL", lane(func(l *Lane) { l.BaseURL, l.HealthURL, l.Checks = "", "", []HealthCheck{{Name: "up"}} }), false},
		{"public check with its own URL", lane(func(l *Lane) {
			l.BaseURL, l.HealthURL, l.Checks = "", "", []HealthCheck{{Name: "up", URL: "https://x.example/h"}}
		}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := checkProfile(tt.p); (err == nil) != tt.ok {
				t.Errorf("checkProfile() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// fatalTB records Fatalf calls instead of stopping the test.
type fatalTB struct {
	testing.TB
	fatals []string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
}

// TestAddProductRefusesWhatTheModelRefuses checks AddProduct fails the test loudly.
func TestAddProductRefusesWhatTheModelRefuses(t *testing.T) {
	t.Parallel()
	rec := &fatalTB{TB: t}
	s := NewServer(rec)
	s.AddProduct(Product{Product: "shop", DriverID: "generic-web"})
	if len(rec.fatals) != 1 || !strings.Contains(rec.fatals[0], "display_name") {
		t.Errorf("Fatalf calls = %q, want one naming display_name", rec.fatals)
	}
}
