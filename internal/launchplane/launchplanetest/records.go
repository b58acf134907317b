package launchplanetest

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// The record shapes below are Launchplane's pydantic models as the service serialises them
// (FastAPI's response_model: every field, in declaration order, nulls kept, compact JSON). A
// test can only build what the models allow: there is no way to add a key.
//
// Sources (cbusillo/launchplane):
//   - control_plane/contracts/deployment_record.py, the revision with runtime_identity (stored
//     in the search index as file version 57507308583; the index did not report its commit):
//     DeploymentRecord, ResolvedTargetEvidence. The older revision @ 1122a78cc5ddb60b90268880e400cb42cdf0c3b6
//     has no runtime_identity, deployed_target, runtime_source or bootstrap, but branch_sync.
//   - control_plane/contracts/promotion_record.py @ 0e96ce1fb162067c6dd66ff69b74359ec7f01404:
//     ArtifactIdentityReference, DeploymentEvidence, PostDeployUpdateEvidence, BootstrapEvidence,
//     HealthcheckEvidence (with structured_health, which the dispatch code of 0e441a24 fills).
//   - control_plane/contracts/deploy_target.py @ 0e96ce1fb162067c6dd66ff69b74359ec7f01404:
//     DeployedTargetReference.
//   - control_plane/contracts/structured_health.py @ f2d25bc0a43362faf18847ba71566fe24762f411.

// DeploymentRecord is a deployment record. Build one with NewRecord and edit it.
type DeploymentRecord struct {
	RecordID     string
	ArtifactID   string // artifact_identity.artifact_id; "" serialises artifact_identity as null
	Context      string
	Instance     string
	SourceGitRef string
	TargetName   string // the Dokploy target's name
	TargetID     string
	StartedAt    string
	FinishedAt   string
	// RuntimeIdentity is the expected identity; nil serialises runtime_identity as null.
	RuntimeIdentity *identity.Identity
	// Legacy serialises the older record model, which has no runtime_identity field at all.
	Legacy bool
	// Health is destination_health; NewRecord leaves it unverified.
	Health HealthcheckEvidence
}

// HealthcheckEvidence is HealthcheckEvidence.
type HealthcheckEvidence struct {
	Verified              bool                `json:"verified"`
	URLs                  []string            `json:"urls"`
	TimeoutSeconds        *int64              `json:"timeout_seconds"`
	Status                string              `json:"status"`
	RuntimeIdentityStatus string              `json:"runtime_identity_status"`
	RuntimeIdentityDetail string              `json:"runtime_identity_detail"`
	ObservedIdentity      map[string]any      `json:"observed_runtime_identity"`
	StructuredHealth      StructuredHealthRow `json:"structured_health"`
}

// StructuredHealthRow is StructuredHealthEvidence.
type StructuredHealthRow struct {
	Status         string   `json:"status"`
	ReportedStatus string   `json:"reported_status"`
	Version        string   `json:"version"`
	SourceGitRef   string   `json:"source_git_ref"`
	ImageReference string   `json:"image_reference"`
	Detail         string   `json:"detail"`
	Components     []string `json:"components"`
}

func unverifiedHealth() HealthcheckEvidence {
	return HealthcheckEvidence{
		URLs: []string{}, Status: "skipped", RuntimeIdentityStatus: "unchecked",
		StructuredHealth: StructuredHealthRow{Status: "unchecked", Components: []string{}},
	}
}

// NewRecord returns the record a generic-web stable deploy writes for id: the record id and
// lane from id, the artifact and source ref, an application target, a passed deploy, and id as
// runtime_identity with deployed_at set to the finish time.
func NewRecord(id identity.Identity) DeploymentRecord {
	finished := id.DeployedAt
	if finished == "" {
		finished = "2026-05-10T14:15:00Z"
	}
	rid := id
	rid.DeployedAt = finished
	return DeploymentRecord{
		RecordID:        id.DeploymentRecordID,
		ArtifactID:      id.ArtifactID,
		Context:         id.Context,
		Instance:        id.Instance,
		SourceGitRef:    id.SourceGitRef,
		TargetName:      id.Context + "-" + id.Instance,
		TargetID:        "app-" + strings.ToLower(strings.ReplaceAll(id.Context, "-", "")) + "01",
		StartedAt:       "2026-05-10T14:10:00Z",
		FinishedAt:      finished,
		RuntimeIdentity: &rid,
		Health:          unverifiedHealth(),
	}
}

// field is one serialised key, in declaration order.
type field struct {
	key string
	val any
}

// orderedObject serialises its fields in order.
type orderedObject []field

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		b.Write(k)
		b.WriteByte(':')
		v, err := marshal(f.val)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshal is compact JSON without HTML escaping, as FastAPI writes it.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// object returns the record as DeploymentRecord.model_dump(mode="json") orders it.
func (r DeploymentRecord) object() orderedObject {
	var artifact any
	if r.ArtifactID != "" {
		artifact = orderedObject{{"artifact_id", r.ArtifactID}, {"manifest_version", 1}}
	}
	target := orderedObject{{"target_type", "application"}, {"target_id", r.TargetID}, {"target_name", r.TargetName}}
	deployed := orderedObject{
		{"provider_id", "dokploy"}, {"target_category", "application"}, {"target_id", r.TargetID},
		{"display_name", r.TargetName}, {"provider_target_type", "application"},
		{"provider_evidence", map[string]string{}},
	}
	deploy := orderedObject{
		{"target_name", r.TargetName}, {"target_type", "application"}, {"deploy_mode", "dokploy-application-api"},
		{"provider_id", "dokploy"}, {"target_category", "application"}, {"provider_target_type", "application"},
		{"provider_deploy_mode", "dokploy-application-api"}, {"deployment_id", "control-plane-dokploy"},
		{"status", "pass"}, {"started_at", r.StartedAt}, {"finished_at", r.FinishedAt},
	}
	post := orderedObject{{"attempted", false}, {"status", "skipped"}, {"detail", ""}, {"evidence", map[string]string{}}}
	out := orderedObject{
		{"schema_version", 1}, {"record_id", r.RecordID}, {"artifact_identity", artifact},
		{"context", r.Context}, {"instance", r.Instance}, {"source_git_ref", r.SourceGitRef},
		{"wait_for_completion", true}, {"verify_destination_health", true}, {"no_cache", false},
		{"delegated_executor", "control-plane.dokploy"},
	}
	if r.Legacy {
		return append(out,
			field{"branch_sync", nil}, field{"resolved_target", target}, field{"deploy", deploy},
			field{"post_deploy_update", post}, field{"destination_health", r.Health})
	}
	var rid any
	if r.RuntimeIdentity != nil {
		rid = *r.RuntimeIdentity // identity.Identity's fields are declared in the model's order
	}
	return append(out,
		field{"resolved_target", target}, field{"deployed_target", deployed},
		field{"runtime_source", map[string]string{}}, field{"runtime_identity", rid},
		field{"deploy", deploy},
		field{"bootstrap", orderedObject{{"attempted", false}, {"run_status", "skipped"}, {"readiness_status", "skipped"}, {"detail", ""}}},
		field{"post_deploy_update", post}, field{"destination_health", r.Health})
}

// Product is a product profile (LaunchplaneProductProfileRecord). The fields a test does not set
// serialise as the model's defaults; see profile.go for the rest of the record and its rules.
type Product struct {
	Product     string
	DisplayName string
	// Repository is the GitHub repository, owner/name; the image repository is ghcr.io/ plus it.
	Repository string
	// DriverID is the profile's driver; the stable-verification route serves generic-web
	// products (product_profile_uses_generic_web_base).
	DriverID string
	// RuntimePort and HealthPath: 0 and "" serialise the driver's usual values, as Launchplane's
	// own test profiles have them: 8069 and /web/health for odoo, else 3000 and /api/health.
	RuntimePort int
	HealthPath  string
	// PreviewContext, when set, enables previews in that context.
	PreviewContext string
	// UpdatedAt is updated_at; "" serialises 2026-04-30T21:30:00Z.
	UpdatedAt string
	Lanes     []Lane
}

// Lane is one ProductLaneProfile.
type Lane struct {
	Context, Instance  string
	BaseURL, HealthURL string
	// MonitoringIntent is health_monitoring.monitoring_intent: prelaunch (the default, for ""),
	// public or private.
	MonitoringIntent string
	// Checks are health_monitoring.checks.
	Checks []HealthCheck
	// OdooIdentityOptional sets odoo_data_policy.requires_runtime_identity to false; the model's
	// default is true.
	OdooIdentityOptional bool
}

// HealthCheck is one ProductLaneHealthCheck.
type HealthCheck struct {
	Name string
	// Kind is public_http (the default, for ""), private_http or provider.
	Kind string
	// Disabled sets enabled to false.
	Disabled bool
	// URL overrides the lane's health URL for a public check.
	URL string
	// PrivateEndpointKey names a private check's endpoint record.
	PrivateEndpointKey string
	// RequireRuntimeIdentity makes a missing or unverifiable identity fail the check.
	RequireRuntimeIdentity bool
	// Provider and ProviderCheck name a provider check.
	Provider, ProviderCheck string
}

// GenericWebProduct returns a generic-web product with one lane.
func GenericWebProduct(product, context, instance, baseURL string) Product {
	return Product{
		Product: product, DisplayName: product, Repository: "acme/" + product, DriverID: "generic-web",
		Lanes: []Lane{{Context: context, Instance: instance, BaseURL: baseURL, HealthURL: strings.TrimRight(baseURL, "/") + "/api/health"}},
	}
}

// Promotion is a PromotionRecord, reduced to what the verification route checks.
type Promotion struct {
	RecordID           string
	Context            string
	ToInstance         string
	DeploymentRecordID string
}
