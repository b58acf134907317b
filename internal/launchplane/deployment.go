package launchplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Record keys that may hold the expected identity, in the order they are tried.
const (
	KeyRuntimeIdentity         = "runtime_identity"
	KeyExpectedRuntimeIdentity = "expected_runtime_identity"
)

// Deployment is a deployment record read from Launchplane.
type Deployment struct {
	// RecordID is the record's id, e.g. deployment-20260510T141500Z-sellyouroutboard-prod.
	RecordID string
	// Identity is the expected runtime identity the record carries; it passes
	// identity.Validate, deployed_at included.
	Identity identity.Identity
	// IdentityKey names the record key the identity came from: KeyRuntimeIdentity or
	// KeyExpectedRuntimeIdentity (provenance for the evidence file).
	IdentityKey string
	// UnknownKeys lists keys of the identity object outside the contract, sorted. They are
	// tolerated for forward compatibility; callers may note them.
	UnknownKeys []string
	// Raw is the record object as received.
	Raw json.RawMessage
	// TraceID is the envelope's trace_id.
	TraceID string
	// URL is the record's API URL (no query), for evidence links.
	URL string
}

// Deployment reads one deployment record and the expected runtime identity inside it. The
// error matches ErrNotFound for an unknown record, ErrUnauthorized for a refused token,
// ErrNoIdentity for a record without an identity, ErrInvalidIdentity for one that breaks the
// contract (wrapping the *identity.ValidationError) and ErrRecordMismatch for an answer about
// another record.
//
// Launchplane API: GET /v1/deployments/{record_id} (deployment.read).
func (c *Client) Deployment(ctx context.Context, recordID string) (*Deployment, error) {
	if reason := checkKey(recordID); reason != "" {
		return nil, fmt.Errorf("launchplane: read deployment: the record id %s", reason)
	}
	op := "read deployment " + recordID
	u, err := c.endpoint("v1/deployments/" + url.PathEscape(recordID))
	if err != nil {
		return nil, fmt.Errorf("launchplane: %s: %w", op, err)
	}
	data, err := c.do(ctx, call{op: op, method: http.MethodGet, url: u})
	if err != nil {
		return nil, err
	}
	d, err := parseRead(data, recordID)
	if err != nil {
		return nil, fmt.Errorf("launchplane: %s: %w", op, err)
	}
	d.URL = u.String()
	return d, nil
}

// readEnvelope is {"status":"ok","trace_id":…,"record":{…}}.
type readEnvelope struct {
	Status  string          `json:"status"`
	TraceID json.RawMessage `json:"trace_id"`
	Record  json.RawMessage `json:"record"`
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
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(env.Record, &rec); err != nil || rec == nil {
		return nil, fmt.Errorf("%w: the envelope's record is not an object", ErrBadResponse)
	}
	d := &Deployment{RecordID: recordID, Raw: env.Record, TraceID: clean(logtext.JSONString(env.TraceID), "")}
	if raw, ok := rec["deployment_record_id"]; ok {
		var got string
		if json.Unmarshal(raw, &got) != nil || got != recordID {
			return nil, fmt.Errorf("%w: its deployment_record_id is %s", ErrRecordMismatch, describe(raw))
		}
	}
	key, val := KeyRuntimeIdentity, rec[KeyRuntimeIdentity]
	if absent(val) {
		key, val = KeyExpectedRuntimeIdentity, rec[KeyExpectedRuntimeIdentity]
	}
	if absent(val) {
		return nil, ErrNoIdentity
	}
	obj, err := unwrapString(val)
	if err != nil {
		return nil, fmt.Errorf("%w (record.%s): %w", ErrInvalidIdentity, key, err)
	}
	id, unknown, err := identity.Decode(obj)
	if err == nil {
		err = id.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("%w (record.%s): %w", ErrInvalidIdentity, key, err)
	}
	if id.DeploymentRecordID != recordID {
		return nil, fmt.Errorf("%w: record.%s names deployment_record_id %q", ErrRecordMismatch, key, clean(id.DeploymentRecordID, ""))
	}
	d.Identity, d.IdentityKey, d.UnknownKeys = id, key, unknown
	return d, nil
}

// absent reports a missing key, null or a blank string: no identity recorded.
func absent(val json.RawMessage) bool {
	v := bytes.TrimSpace(val)
	if len(v) == 0 || string(v) == "null" {
		return true
	}
	var s string
	return json.Unmarshal(v, &s) == nil && strings.TrimSpace(s) == ""
}

// maxEncodings bounds how many times an identity may be JSON-encoded into a string.
const maxEncodings = 3

// unwrapString returns val itself when it is an object, or the object a JSON-encoded string
// (possibly encoded more than once) holds.
func unwrapString(val json.RawMessage) ([]byte, error) {
	v := bytes.TrimSpace(val)
	for range maxEncodings {
		if len(v) == 0 || v[0] != '"' {
			break
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, errors.New("is not a valid JSON string")
		}
		v = bytes.TrimSpace([]byte(s))
	}
	if len(v) == 0 || v[0] != '{' {
		return nil, fmt.Errorf("is %s; want an object or a JSON-encoded object", describe(v))
	}
	return v, nil
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

// checkKey returns why s cannot be a record id or an Idempotency-Key, or "". Both travel in a
// URL path or a header, so they are held to printable ASCII without spaces.
func checkKey(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > maxKeyLen:
		return fmt.Sprintf("is longer than %d characters", maxKeyLen)
	case s == "." || s == "..":
		return "is a dot path segment"
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return "contains whitespace, a control character or non-ASCII"
		}
	}
	return ""
}
