package launchplanetest

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// This file serves the product profile read as Launchplane does. Sources (cbusillo/launchplane):
//
//   - control_plane/http_routes/products.py @ 7d881dfc6e219de573749f78fe199d392e21e79f:
//     read_product_profile and ProductProfileResponse (status "ok", trace_id, profile): the
//     identity dependency (401), then the store read (503 database_storage_required when the
//     store cannot read profiles, 404 not_found for an unknown product), then authorization of
//     product_profile.read for the profile's product and context "launchplane"
//     (LAUNCHPLANE_SERVICE_CONTEXT) without an instance target (403 authorization_denied).
//   - control_plane/contracts/product_profile_record.py, the revision with lanes[].health_monitoring
//     and lifecycle_state (index file version 57369773672; the index did not report its
//     commit): LaunchplaneProductProfileRecord and the models inside it, every one
//     extra="forbid", serialised in declaration order with every field.
//   - control_plane/contracts/product_health_monitoring_migration.py @
//     bcb37691c477c131226aa6dbf12b37668d1f4546: health_check_record_token and the reserved
//     public-ingress check name.
//   - control_plane/service_auth.py @ 02594f465f887a5effd4c0aa1b350e7c513d7ffc: _instances_allowed
//     without a target (a rule listing instances does not cover a read without one).
//
// Not confirmed: the 404 message (the store's FileNotFoundError text). updated_at and source
// are this fake's own values.

// LaunchplaneServiceContext is the context product profile reads are authorised for.
const LaunchplaneServiceContext = "launchplane"

// ProfileUpdatedAt is the updated_at a Product without one serialises.
const ProfileUpdatedAt = "2026-04-30T21:30:00Z"

// runtime returns the product's runtime port and health path, defaults applied.
func (p Product) runtime() (int, string) {
	port, path := p.RuntimePort, p.HealthPath
	if port == 0 {
		port = 3000
		if p.DriverID == "odoo" {
			port = 8069
		}
	}
	if path == "" {
		path = "/api/health"
		if p.DriverID == "odoo" {
			path = "/web/health"
		}
	}
	return port, path
}

// checkProfile applies the record model's validators and validate_write_contract to p: the
// real service holds no profile that fails them. The error says which rule.
func checkProfile(p Product) error {
	for _, f := range []struct{ name, v string }{
		{"product", p.Product}, {"display_name", p.DisplayName}, {"repository", p.Repository}, {"driver_id", p.DriverID},
	} {
		if strip(f.v) == "" {
			return fmt.Errorf("product profile requires %s", f.name)
		}
	}
	port, path := p.runtime()
	if port < 1 || port > 65535 {
		return fmt.Errorf("runtime_port %d is outside 1..65535", port)
	}
	if !strings.HasPrefix(strip(path), "/") {
		return fmt.Errorf("health_path %q must start with /", path)
	}
	seen := map[string]bool{}
	for _, l := range p.Lanes {
		if strip(l.Instance) == "" || strip(l.Context) == "" {
			return fmt.Errorf("product lane profile requires instance and context")
		}
		key := strings.ToLower(strip(l.Instance))
		if seen[key] {
			return fmt.Errorf("product profile lane instances must be unique: %q", l.Instance)
		}
		seen[key] = true
		if err := checkMonitoring(l, path); err != nil {
			return fmt.Errorf("lane %s: %w", l.Instance, err)
		}
	}
	return nil
}

// checkMonitoring is ProductLaneHealthMonitoringPolicy's and ProductLaneHealthCheck's
// validators, and validate_write_contract for the lane's enabled checks.
func checkMonitoring(l Lane, healthPath string) error {
	intent := l.MonitoringIntent
	if intent == "" {
		intent = "prelaunch"
	}
	if intent != "prelaunch" && intent != "public" && intent != "private" {
		return fmt.Errorf("monitoring_intent %q is not prelaunch, public or private", intent)
	}
	tokens := map[string]bool{}
	enabled := map[string]bool{}
	for _, c := range l.Checks {
		kind := c.Kind
		if kind == "" {
			kind = "public_http"
		}
		name, url, key := strip(c.Name), strip(c.URL), strip(c.PrivateEndpointKey)
		provider, providerCheck := strip(c.Provider), strip(c.ProviderCheck)
		token := checkToken(name)
		switch {
		case name == "":
			return fmt.Errorf("product lane health check requires name")
		case kind != "public_http" && kind != "private_http" && kind != "provider":
			return fmt.Errorf("check %s: kind %q is not public_http, private_http or provider", name, kind)
		case kind == "private_http" && url != "":
			return fmt.Errorf("check %s: private HTTP health checks must use private_endpoint_key", name)
		case token == "":
			return fmt.Errorf("check %s: the name must contain at least one alphanumeric character", name)
		case kind != "public_http" && canonicalToken(name) == "":
			return fmt.Errorf("check %s: non-public health checks cannot use the reserved public-ingress name", name)
		case kind != "provider" && (provider != "" || providerCheck != ""):
			return fmt.Errorf("check %s: HTTP health checks cannot set provider fields", name)
		case kind == "public_http" && key != "":
			return fmt.Errorf("check %s: only private HTTP health checks can set private_endpoint_key", name)
		case kind == "provider" && (url != "" || key != "" || provider == "" || providerCheck == ""):
			return fmt.Errorf("check %s: a provider check needs provider and provider_check and no url or private_endpoint_key", name)
		}
		if tokens[canonicalToken(name)] {
			return fmt.Errorf("product lane health check names must be unique: %q", name)
		}
		tokens[canonicalToken(name)] = true
		if c.Disabled {
			continue
		}
		enabled[kind] = true
		switch {
		case kind == "private_http" && key == "":
			return fmt.Errorf("check %s: private HTTP health check requires private_endpoint_key", name)
		case kind == "public_http" && url == "" && strip(l.HealthURL) == "" && strip(l.BaseURL) == "":
			return fmt.Errorf("check %s: public HTTP health check requires base_url or explicit health_url", name)
		case kind == "public_http" && url == "" && strip(l.HealthURL) == "" && healthPath == "":
			return fmt.Errorf("check %s: public HTTP health check with base_url requires health_path", name)
		}
	}
	switch {
	case intent == "public" && !enabled["public_http"]:
		return fmt.Errorf("public monitoring intent requires an enabled public HTTP health check")
	case intent == "private" && !enabled["private_http"]:
		return fmt.Errorf("private monitoring intent requires an enabled private HTTP health check")
	}
	return nil
}

// checkToken is health_check_record_token: the name stripped and lowercased, every rune that is
// not a letter or digit turned into "-", and dashes trimmed.
func checkToken(name string) string {
	mapped := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return '-'
	}, strings.ToLower(strip(name)))
	return strings.Trim(mapped, "-")
}

// canonicalToken is canonical_health_check_record_token: "" for the reserved public-ingress
// name.
func canonicalToken(name string) string {
	if t := checkToken(name); t != "public-ingress" {
		return t
	}
	return ""
}

// profileObject is LaunchplaneProductProfileRecord.model_dump(mode="json") of p.
func (p Product) profileObject() orderedObject {
	port, path := p.runtime()
	updated := p.UpdatedAt
	if updated == "" {
		updated = ProfileUpdatedAt
	}
	lanes := make([]any, 0, len(p.Lanes))
	for _, l := range p.Lanes {
		lanes = append(lanes, l.object())
	}
	return orderedObject{
		{"schema_version", 1}, {"lifecycle_state", "active"},
		{"product", p.Product}, {"display_name", p.DisplayName}, {"repository", p.Repository},
		{"repository_id", ""}, {"repository_owner_id", ""}, {"default_branch", "main"},
		{"driver_id", p.DriverID},
		{"image", orderedObject{{"repository", "ghcr.io/" + p.Repository}}},
		{"runtime_port", port}, {"health_path", path},
		{"lanes", lanes}, {"historical_contexts", []string{}},
		{"preview", previewObject(p.PreviewContext)},
		{"promotion_workflow", orderedObject{
			{"workflow_id", "promote-prod.yml"}, {"ref", "main"}, {"dry_run_input", "dry_run"},
			{"bump_input", "bump"}, {"artifact_id_input", "artifact_id"},
			{"deploy_reference_input", "deploy_reference"}, {"source_git_ref_input", "source_git_ref"},
			{"promotion_intent_input", "promotion_intent_id"}, {"default_bump", "patch"},
		}},
		{"expected_config", orderedObject{{"runtime_environment_keys", []any{}}, {"managed_secret_bindings", []any{}}}},
		{"updated_at", updated}, {"source", "launchplanetest"},
	}
}

// previewObject is ProductPreviewProfile: disabled without a context.
func previewObject(context string) orderedObject {
	return orderedObject{
		{"enabled", context != ""}, {"context", context}, {"enable_label", "launchplane-preview"},
		{"slug_template", "pr-{number}"}, {"app_name_prefix", ""}, {"template_instance", "testing"},
		{"required_template_env_keys", []string{}}, {"copied_env_keys", []string{}}, {"omitted_env_keys", []string{}},
		{"override_env", map[string]string{}}, {"preview_url_env_keys", []string{}}, {"preview_domain_env_keys", []string{}},
		{"domain_certificate_type", "none"}, {"required_provider_fields", []string{}},
		{"data_transport_mode", "none"}, {"migration_command", ""}, {"seed_command", ""},
	}
}

// object is ProductLaneProfile.model_dump(mode="json") of l.
func (l Lane) object() orderedObject {
	intent := l.MonitoringIntent
	if intent == "" {
		intent = "prelaunch"
	}
	checks := make([]any, 0, len(l.Checks))
	for _, c := range l.Checks {
		kind := c.Kind
		if kind == "" {
			kind = "public_http"
		}
		checks = append(checks, orderedObject{
			{"name", strip(c.Name)}, {"kind", kind}, {"enabled", !c.Disabled}, {"url", strip(c.URL)},
			{"private_endpoint_key", strip(c.PrivateEndpointKey)}, {"require_runtime_identity", c.RequireRuntimeIdentity},
			{"recovery_observation_threshold", 1}, {"provider", strip(c.Provider)}, {"provider_check", strip(c.ProviderCheck)},
		})
	}
	return orderedObject{
		{"instance", l.Instance}, {"context", l.Context}, {"base_url", l.BaseURL}, {"health_url", l.HealthURL},
		{"odoo_stable_bootstrap", orderedObject{
			{"enabled", false}, {"approval_issue_url", ""}, {"data_source_mode", "empty"}, {"confirmation", ""},
			{"expected_target_name", ""}, {"expected_domains", []string{}}, {"require_health_verification", true},
			{"require_canonical_verification", true}, {"require_logo_verification", true},
		}},
		{"odoo_prelaunch_rebuild", orderedObject{
			{"enabled", false}, {"approval_issue_url", ""}, {"data_source_mode", "empty"}, {"confirmation", ""},
			{"expected_target_name", ""}, {"expected_domains", []string{}},
		}},
		{"odoo_data_policy", orderedObject{
			{"data_authority", "unknown"}, {"allowed_rebuild_sources", []string{}}, {"upstream_source", ""},
			{"requires_backup_before_destroy", true}, {"requires_restore_proof", true},
			{"requires_runtime_identity", !l.OdooIdentityOptional},
		}},
		{"health_monitoring", orderedObject{{"monitoring_intent", intent}, {"checks", checks}}},
	}
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) {
	c, vals, ok := s.startRead(w, r, "Launchplane record store does not support product profile reads: read_product_profile_record", "product")
	if !ok {
		return
	}
	product := vals[0]
	s.mu.Lock()
	p, found := s.products[product]
	s.mu.Unlock()
	if !found {
		s.reject(w, r, http.StatusNotFound, "not_found", "Product profile not found: "+product)
		return
	}
	if !s.allows(c, "product_profile.read", p.Product, LaunchplaneServiceContext) {
		s.reject(w, r, http.StatusForbidden, "authorization_denied", "Workflow cannot read the requested product profile.")
		return
	}
	writeJSON(w, http.StatusOK, orderedObject{{"status", "ok"}, {"trace_id", s.nextTrace()}, {"profile", p.profileObject()}})
}
