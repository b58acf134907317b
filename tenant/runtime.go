package tenant

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// Env keys FromEnv reads. LAUNCHPLANE_RUNTIME_IDENTITY_JSON holds the identity; the three others
// are copies of its fields and must agree with it when set.
const (
	EnvJSON               = identity.EnvJSON
	EnvDeploymentRecordID = identity.EnvDeploymentRecordID
	EnvArtifactID         = identity.EnvArtifactID
	EnvSourceGitRef       = identity.EnvSourceGitRef
)

// The response headers and the well-known path the tenant serves.
const (
	HeaderDeployment = identity.HeaderDeployment
	HeaderDigest     = identity.HeaderDigest
	WellKnownPath    = identity.WellKnownPath
)

// State says whether the identity env was usable.
type State string

// The states of a Runtime.
const (
	// StateOK: the env held a readable identity, served on every surface.
	StateOK State = "ok"
	// StateMissing: LAUNCHPLANE_RUNTIME_IDENTITY_JSON is unset or blank (not injected).
	StateMissing State = "missing"
	// StateMalformed: the env is set but is not a readable identity, or a copy key disagrees.
	StateMalformed State = "malformed"
)

// Identity is the runtime identity as the tenant reads it (contract schema_version 1). The JSON
// names are the contract's.
type Identity struct {
	SchemaVersion       int    `json:"schema_version"`
	Product             string `json:"product"`
	Context             string `json:"context"`
	Instance            string `json:"instance"`
	EnvironmentKind     string `json:"environment_kind"`
	DeploymentRecordID  string `json:"deployment_record_id"`
	ArtifactID          string `json:"artifact_id"`
	SourceGitRef        string `json:"source_git_ref"`
	ImageReference      string `json:"image_reference"`
	ReleaseTupleID      string `json:"release_tuple_id"`
	PreviewID           string `json:"preview_id"`
	PreviewGenerationID string `json:"preview_generation_id"`
	DeployedAt          string `json:"deployed_at"`
}

func fromInternal(id identity.Identity) Identity {
	return Identity(id)
}

// Runtime is a tenant's runtime identity, read once from its env. It never changes afterwards and
// is safe for concurrent use. The zero value is a Runtime whose identity is missing.
type Runtime struct {
	state     State
	reason    string
	id        Identity
	canonical []byte // canonical JSON, the well-known body
	digest    string
	// deployment is the X-Launchplane-Deployment value, "" when the record id is not a safe
	// header value (the digest still stands for it).
	deployment string
	// health is the JSON to embed as runtime_identity: the canonical identity, null, or a bounded
	// error object.
	health json.RawMessage
}

// FromEnv reads the identity env through getenv (os.Getenv in a real tenant) once and returns the
// tenant's Runtime. It never fails: an unset or blank LAUNCHPLANE_RUNTIME_IDENTITY_JSON gives
// StateMissing, anything unreadable gives StateMalformed, and Reason says why. A nil getenv reads
// as an empty environment.
func FromEnv(getenv func(string) string) *Runtime {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	id, err := identity.FromEnv(getenv)
	switch {
	case errors.Is(err, identity.ErrNotInjected):
		r := &Runtime{state: StateMissing, reason: EnvJSON + " is not set"}
		if getenv(EnvDeploymentRecordID) != "" {
			r.reason += " (" + EnvDeploymentRecordID + " is set without it)"
		}
		return r
	case err != nil:
		// The identity package's reasons name fields and JSON types, never the env text.
		reason := identity.Reason(err)
		return &Runtime{state: StateMalformed, reason: reason, health: malformedHealth(reason)}
	}
	r := &Runtime{
		state:     StateOK,
		reason:    "identity read from " + EnvJSON,
		id:        fromInternal(id),
		canonical: id.Canonical(),
		digest:    id.Digest(),
	}
	if safeHeaderValue(id.DeploymentRecordID) {
		r.deployment = id.DeploymentRecordID
	}
	if _, unknown, err := identity.Decode([]byte(strings.TrimSpace(getenv(EnvJSON)))); err == nil && len(unknown) > 0 {
		r.reason += "; " + strconv.Itoa(len(unknown)) + " key(s) this version does not know were dropped"
	}
	r.health = r.canonical
	return r
}

// malformedHealth is the health value of a broken env: an object that is visibly not an identity
// (so a verifier says malformed, not missing), carrying the reason but never the env text.
func malformedHealth(reason string) json.RawMessage {
	b, err := json.Marshal(map[string]string{
		"status": "invalid",
		"error":  "runtime identity malformed",
		"detail": reason,
	})
	if err != nil {
		return json.RawMessage(`{"error":"runtime identity malformed","status":"invalid"}`)
	}
	return b
}

// safeHeaderValue reports whether v can be sent as a header value unchanged: visible ASCII only,
// so no client trims, folds or rejects it.
func safeHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return false
		}
	}
	return v != ""
}

// State reports whether the env held a usable identity.
func (r *Runtime) State() State {
	if r.state == "" {
		return StateMissing
	}
	return r.state
}

// Reason is a short, non-secret explanation of State, fit for a log line or a status page. It
// names env keys, fields and JSON types, never env values.
func (r *Runtime) Reason() string {
	if r.state == "" {
		return EnvJSON + " is not set"
	}
	return r.reason
}

// Identity returns the identity read from the env, and false unless State is StateOK.
func (r *Runtime) Identity() (Identity, bool) {
	return r.id, r.state == StateOK
}

// Digest returns the X-Launchplane-Identity-Digest value, "sha256:<hex>" of the canonical JSON,
// or "" unless State is StateOK.
func (r *Runtime) Digest() string {
	return r.digest
}

// HealthValue is the value to embed under the top-level "runtime_identity" key of the tenant's
// own health JSON:
//
//   - StateOK: the identity object, in canonical form;
//   - StateMissing: nil, which encodes as null (a verifier reads it as missing);
//   - StateMalformed: {"detail":<Reason>,"error":"runtime identity malformed","status":"invalid"},
//     which a verifier reads as malformed, without the env text.
//
// A nil json.RawMessage encodes as null; do not tag the field omitempty if the key should stay
// visible. The returned slice is a copy.
func (r *Runtime) HealthValue() json.RawMessage {
	if r.health == nil {
		return nil
	}
	return append(json.RawMessage(nil), r.health...)
}
