package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrNotInjected reports that the identity env was not set at all.
var ErrNotInjected = errors.New("identity: " + EnvJSON + " is not set")

// Decode reads one identity object from untrusted JSON, the way a verifier must: every known field
// has the right JSON type (a null or a number in a string field is an error), the five required
// fields are non-blank, omitted optional fields take their defaults, and schema_version, when
// present, is 1. Unknown keys are tolerated and returned sorted, for forward compatibility.
// Values are not held to the character rule: an odd observed value is a mismatch, not a parse error.
func Decode(raw []byte) (Identity, []string, error) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return Identity{}, nil, errors.New("identity: not a JSON object")
	}
	if dec.More() {
		return Identity{}, nil, errors.New("identity: trailing data after the JSON object")
	}
	id := Identity{SchemaVersion: SchemaVersion, EnvironmentKind: KindStable}
	var probs []FieldError
	var unknown []string
	for key, val := range obj {
		if key == "schema_version" {
			if reason := decodeSchemaVersion(val); reason != "" {
				probs = append(probs, FieldError{key, reason})
			}
			continue
		}
		f, ok := lookupField(key)
		if !ok {
			unknown = append(unknown, key)
			continue
		}
		var s string
		if err := json.Unmarshal(val, &s); err != nil || bytes.Equal(bytes.TrimSpace(val), []byte("null")) {
			probs = append(probs, FieldError{key, "is " + jsonKind(val) + "; want a string"})
			continue
		}
		*f.get(&id) = s
	}
	for _, f := range stringFields {
		if f.required && strings.TrimSpace(*f.get(&id)) == "" {
			probs = append(probs, FieldError{f.name, "is required and must not be empty"})
		}
	}
	sort.Strings(unknown)
	if len(probs) > 0 {
		sort.Slice(probs, func(i, j int) bool { return probs[i].Field < probs[j].Field })
		return Identity{}, unknown, &ValidationError{Problems: dedupe(probs)}
	}
	return id, unknown, nil
}

func dedupe(probs []FieldError) []FieldError {
	out := probs[:0]
	for i, p := range probs {
		if i > 0 && p.Field == probs[i-1].Field {
			continue
		}
		out = append(out, p)
	}
	return out
}

func decodeSchemaVersion(val json.RawMessage) string {
	var n json.Number
	if err := json.Unmarshal(val, &n); err != nil {
		// Launchplane's model (pydantic, lax mode) also accepts the string "1"; so do we.
		var s string
		if json.Unmarshal(val, &s) != nil || s != "1" {
			return "is " + jsonKind(val) + "; want the integer 1"
		}
		return ""
	}
	if n.String() != "1" {
		return fmt.Sprintf("is %s; only schema_version 1 is supported", truncate(n.String(), 20))
	}
	return ""
}

// jsonKind names the JSON type of a raw value for error messages, never echoing the value.
func jsonKind(val json.RawMessage) string {
	v := bytes.TrimSpace(val)
	if len(v) == 0 {
		return "empty"
	}
	switch v[0] {
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	default:
		return "a number"
	}
}

// ParseExpected reads a whole expected identity (an identity-json input, an identity file, a
// Launchplane record) strictly: unknown keys are an error and every value must pass Validate.
func ParseExpected(raw []byte) (Identity, error) {
	id, unknown, err := Decode(raw)
	if err != nil {
		return Identity{}, err
	}
	var top struct {
		SchemaVersion json.RawMessage `json:"schema_version"`
	}
	if json.Unmarshal(raw, &top) == nil && len(top.SchemaVersion) > 0 && string(top.SchemaVersion) != "1" {
		return Identity{}, &ValidationError{Problems: []FieldError{{"schema_version", "is " + jsonKind(top.SchemaVersion) + "; want the integer 1"}}}
	}
	if len(unknown) > 0 {
		return Identity{}, fmt.Errorf("identity: unknown keys %s; the contract has exactly the 13 fields of schema_version 1", strings.Join(quoteAll(unknown), ", "))
	}
	if err := id.Validate(); err != nil {
		return Identity{}, err
	}
	return id, nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", truncate(s, 64))
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// FromEnv reads the identity a tenant was deployed with from its environment. It returns an error
// wrapping ErrNotInjected when LAUNCHPLANE_RUNTIME_IDENTITY_JSON is unset or blank, and another
// error when the value cannot be read or disagrees with the three discrete keys.
func FromEnv(getenv func(string) string) (Identity, error) {
	raw := strings.TrimSpace(getenv(EnvJSON))
	if raw == "" {
		return Identity{}, ErrNotInjected
	}
	id, _, err := Decode([]byte(raw))
	if err != nil {
		return Identity{}, fmt.Errorf("identity: read %s: %w", EnvJSON, err)
	}
	for _, kv := range []EnvVar{
		{EnvDeploymentRecordID, id.DeploymentRecordID},
		{EnvArtifactID, id.ArtifactID},
		{EnvSourceGitRef, id.SourceGitRef},
	} {
		if v := getenv(kv.Key); v != "" && v != kv.Value {
			return Identity{}, fmt.Errorf("identity: %s disagrees with %s", kv.Key, EnvJSON)
		}
	}
	return id, nil
}
