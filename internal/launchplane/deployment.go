package launchplane

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Deployment is a deployment record read from Launchplane.
type Deployment struct {
	// RecordID is the record's record_id, checked to be the one requested, e.g.
	// deployment-20260510T141500Z-sellyouroutboard-prod.
	RecordID string
	// Context and Instance name the lane the record deployed to.
	Context, Instance string
	// SourceGitRef is the record's source_git_ref.
	SourceGitRef string
	// ArtifactID is artifact_identity.artifact_id, "" when the record has none.
	ArtifactID string
	// Expected is the runtime identity the record expects (record.runtime_identity); its
	// deployed_at is the deployment's finish time. Nil when the record has none: records made
	// before the feature, or by the older record model without the field. Such a record cannot
	// be verified: report unchecked, never a configuration error.
	Expected *identity.Identity
	// UnknownKeys lists keys of the identity object outside the contract, sorted. Launchplane's
	// model forbids them, so a real record has none; they are tolerated for forward
	// compatibility and callers may note them.
	UnknownKeys []string
	// Raw is the record object as received.
	Raw json.RawMessage
	// TraceID is the envelope's trace_id.
	TraceID string
	// URL is the record's API URL (no query), for evidence links.
	URL string
}

// Deployment reads one deployment record and the expected runtime identity inside it. A record
// without an identity is not an error: Expected is nil. The error matches ErrNotFound for an
// unknown record, ErrUnauthorized for a refused token, ErrStorageRequired for an instance
// without its database, ErrInvalidIdentity for an identity that breaks the contract (wrapping
// the *identity.ValidationError) and ErrRecordMismatch for an answer about another record.
//
// Launchplane API: GET /v1/deployments/{record_id} (deployment.read), answered as
// DeploymentRecordResponse (cbusillo/launchplane control_plane/http_routes/operational_records.py
// @ 0b45f92d68a8b5c758a4fa2f812f1b87de40c717).
func (c *Client) Deployment(ctx context.Context, recordID string) (*Deployment, error) {
	if reason := checkKey(recordID); reason != "" {
		return nil, fmt.Errorf("launchplane: read deployment: the record id %s", reason)
	}
	op := "read deployment " + recordID
	d, u, err := read(ctx, c, op, "/v1/deployments/"+url.PathEscape(recordID), func(data []byte) (*Deployment, error) { return parseRead(data, recordID) })
	if err != nil {
		return nil, err
	}
	d.URL = u
	return d, nil
}

// readEnvelope is {"status":"ok","trace_id":…,"record":{…}}.
type readEnvelope struct {
	Status  string          `json:"status"`
	TraceID json.RawMessage `json:"trace_id"`
	Record  json.RawMessage `json:"record"`
}

// recordFields are the fields of DeploymentRecord this client reads; the rest is kept in Raw.
// record_id is read apart, by its exact key (see exactString).
type recordFields struct {
	Context          string `json:"context"`
	Instance         string `json:"instance"`
	SourceGitRef     string `json:"source_git_ref"`
	ArtifactIdentity *struct {
		ArtifactID string `json:"artifact_id"`
	} `json:"artifact_identity"`
	RuntimeIdentity json.RawMessage `json:"runtime_identity"`
}

// exactString returns the string under key in the JSON object obj, matched exactly. The name
// an answer gives itself (a record_id, a product) is read so: encoding/json matches struct keys
// without regard to case and lets the last match win, so {"record_id":"other","RECORD_ID":
// "wanted"} would pass for the wanted record, where Launchplane's keys are exact.
func exactString(obj json.RawMessage, key string) (string, bool) {
	var keys map[string]json.RawMessage
	var s string
	if json.Unmarshal(obj, &keys) != nil {
		return "", false
	}
	raw := keys[key]
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// parseRead reads a read envelope holding the deployment record recordID. Its input is
// untrusted; its errors never repeat the body.
func parseRead(data []byte, recordID string) (*Deployment, error) {
	var env readEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("%w: the body is not a JSON object", ErrBadResponse)
	}
	if env.Status != "ok" {
		return nil, fmt.Errorf("%w: envelope status is not \"ok\"", ErrBadResponse)
	}
	var rec recordFields
	if v := bytes.TrimSpace(env.Record); len(v) == 0 || v[0] != '{' || json.Unmarshal(v, &rec) != nil {
		return nil, fmt.Errorf("%w: the envelope's record is not a deployment record", ErrBadResponse)
	}
	gotID, ok := exactString(env.Record, "record_id")
	if !ok {
		return nil, fmt.Errorf("%w: the record has no record_id string", ErrBadResponse)
	}
	if gotID != recordID {
		return nil, fmt.Errorf("%w: its record_id is %q", ErrRecordMismatch, clean(gotID, ""))
	}
	d := &Deployment{
		RecordID:     recordID,
		Context:      rec.Context,
		Instance:     rec.Instance,
		SourceGitRef: rec.SourceGitRef,
		Raw:          env.Record,
		TraceID:      clean(logtext.JSONString(env.TraceID), ""),
	}
	if rec.ArtifactIdentity != nil {
		d.ArtifactID = rec.ArtifactIdentity.ArtifactID
	}
	id, unknown, err := expectedIdentity(rec.RuntimeIdentity, "record.runtime_identity")
	if err != nil {
		return nil, err
	}
	if id != nil && id.DeploymentRecordID != recordID {
		return nil, fmt.Errorf("%w: record.runtime_identity names deployment_record_id %q", ErrRecordMismatch, clean(id.DeploymentRecordID, ""))
	}
	d.Expected, d.UnknownKeys = id, unknown
	return d, nil
}

// expectedIdentity reads an expected identity object: nil for an absent key or null, else an
// identity that passes identity.Validate (deployed_at aside: it is informational, and a record
// may format its finish time its own way).
func expectedIdentity(raw json.RawMessage, where string) (*identity.Identity, []string, error) {
	v := bytes.TrimSpace(raw)
	if len(v) == 0 || string(v) == "null" {
		return nil, nil, nil
	}
	if v[0] != '{' {
		return nil, nil, fmt.Errorf("%w (%s): is %s; want an object or null", ErrInvalidIdentity, where, describe(v))
	}
	id, unknown, err := identity.Decode(v)
	if err == nil {
		check := id
		check.DeployedAt = ""
		err = check.Validate()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s): %w", ErrInvalidIdentity, where, err)
	}
	return &id, unknown, nil
}

// describe names the JSON type of an untrusted value, quoting it only when it is a short
// string.
func describe(raw json.RawMessage) string {
	v := bytes.TrimSpace(raw)
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil && len(s) <= 80 {
			return fmt.Sprintf("%q", clean(s, ""))
		}
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "a number"
}

// checkKey returns why s cannot be a record id or path segment, or "". It travels in a URL
// path or a header, so it is held to printable ASCII without spaces; Launchplane's route
// pattern (^\S+$) refuses whitespace too.
func checkKey(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > maxKeyLen:
		return fmt.Sprintf("is longer than %d characters", maxKeyLen)
	case s == "." || s == "..":
		return "is a dot path segment"
	}
	return checkPrintable(s)
}

// checkHeaderValue returns why s cannot be an Idempotency-Key, or "".
func checkHeaderValue(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > maxHeaderLen:
		return fmt.Sprintf("is longer than %d characters", maxHeaderLen)
	}
	return checkPrintable(s)
}

func checkPrintable(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return "contains whitespace, a control character or non-ASCII"
		}
	}
	return ""
}
