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

// DecodeError says why text is not one identity object: not JSON, not an object, trailing data,
// or (ParseExpected only) keys the contract does not know. It names keys and JSON types, never
// values.
type DecodeError struct {
	// Problem is what is wrong, without context, e.g. "not a JSON object".
	Problem string
	// UnknownKeys are the keys outside the contract, sorted, when they are the problem.
	UnknownKeys []string
}

func (e *DecodeError) Error() string { return "identity: " + e.Problem }

// EnvError says why a tenant's identity env is set but unusable.
type EnvError struct {
	// Key is the env key at fault.
	Key string
	// Err is why LAUNCHPLANE_RUNTIME_IDENTITY_JSON is not an identity (a *DecodeError or a
	// *ValidationError); nil when Key is a copy that disagrees with it.
	Err error
}

func (e *EnvError) Error() string { return "identity: " + e.reason() }

// Unwrap returns Err.
func (e *EnvError) Unwrap() error { return e.Err }

func (e *EnvError) reason() string {
	if e.Err == nil {
		return e.Key + " disagrees with " + EnvJSON
	}
	return "read " + e.Key + ": " + Reason(e.Err)
}

// Reason returns what an error of this package says is wrong, without the package's own
// "identity: " context: the text to show after a caller's context. It names env keys, fields,
// keys and JSON types, never values.
func Reason(err error) string {
	var env *EnvError
	var dec *DecodeError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &env):
		return env.reason()
	case errors.As(err, &dec):
		return dec.Problem
	case errors.Is(err, ErrNotInjected):
		return EnvJSON + " is not set"
	}
	return err.Error()
}

// Decode reads one identity object from untrusted JSON the way Launchplane's model does (see
// lax.go): every known field has the right JSON type (a null or a number in a string field is an
// error), the five required fields are not blank, omitted optional fields take their defaults,
// and schema_version is read as pydantic's lax int reads it ("1", 1.0 and true are 1). Unlike
// Launchplane, schema_version must then be 1, and unknown keys are tolerated and returned sorted,
// for forward compatibility. Values are not held to the character rule: an odd observed value is
// a mismatch, not a parse error.
func Decode(raw []byte) (Identity, []string, error) {
	raw = FromPythonJSON(raw)
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return Identity{}, nil, &DecodeError{Problem: "not a JSON object"}
	}
	if len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) > 0 {
		return Identity{}, nil, &DecodeError{Problem: "trailing data after the JSON object"}
	}
	var id Identity
	var probs []FieldError
	var unknown []string
	for _, f := range Fields {
		val, ok := obj[f.Name]
		switch {
		case f.str == nil:
			id.SchemaVersion = SchemaVersion
			if ok {
				if reason := decodeSchemaVersion(val); reason != "" {
					probs = append(probs, FieldError{f.Name, reason})
				}
			}
		case !ok:
			*f.str(&id) = f.Default
		default:
			var s string
			if v := bytes.TrimSpace(val); len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
				probs = append(probs, FieldError{f.Name, "is " + jsonKind(val) + "; want a string"})
				continue
			}
			*f.str(&id) = s
		}
		if f.Required && blank(*f.str(&id)) {
			probs = append(probs, FieldError{f.Name, "is required and must not be empty"})
		}
	}
	for key := range obj {
		if _, ok := fieldIndex[key]; !ok {
			unknown = append(unknown, key)
		}
	}
	sort.Strings(unknown)
	if len(probs) > 0 {
		sort.Slice(probs, func(i, j int) bool { return probs[i].Field < probs[j].Field })
		return Identity{}, unknown, &ValidationError{Problems: probs}
	}
	return id, unknown, nil
}

// decodeSchemaVersion reads schema_version with pydantic's lax int rules and returns why it is not
// the supported 1, or "".
func decodeSchemaVersion(val json.RawMessage) string {
	n, reason := laxInt(val)
	switch {
	case reason != "":
		return reason
	case n == "1":
		return ""
	case n == "0" || strings.HasPrefix(n, "-"):
		return fmt.Sprintf("is %s; want the integer 1", truncate(n, 20))
	}
	return fmt.Sprintf("is %s; only schema_version 1 is supported", truncate(n, 20))
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

// ParseExpected reads a whole expected identity (an identity-json input, an identity file)
// strictly: schema_version, when present, is the JSON integer 1, unknown keys are an error, and
// every value must pass Validate.
func ParseExpected(raw []byte) (Identity, error) {
	id, unknown, err := Decode(raw)
	if err != nil {
		return Identity{}, err
	}
	if len(unknown) > 0 {
		return Identity{}, &DecodeError{
			Problem:     fmt.Sprintf("unknown keys %s; the contract has exactly the %d fields of schema_version 1", strings.Join(quoteAll(unknown), ", "), len(Fields)),
			UnknownKeys: unknown,
		}
	}
	var top struct {
		SchemaVersion json.RawMessage `json:"schema_version"`
	}
	if json.Unmarshal(raw, &top) == nil && len(top.SchemaVersion) > 0 && string(top.SchemaVersion) != "1" {
		return Identity{}, &ValidationError{Problems: []FieldError{{"schema_version", "is " + jsonKind(top.SchemaVersion) + "; want the integer 1"}}}
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

// FromEnv reads the identity a tenant was deployed with from its environment. It returns
// ErrNotInjected when LAUNCHPLANE_RUNTIME_IDENTITY_JSON is unset or blank, and an *EnvError when
// the value cannot be read or one of the copy keys disagrees with it.
func FromEnv(getenv func(string) string) (Identity, error) {
	raw := strings.TrimSpace(getenv(EnvJSON))
	if raw == "" {
		return Identity{}, ErrNotInjected
	}
	id, _, err := Decode([]byte(raw))
	if err != nil {
		return Identity{}, &EnvError{Key: EnvJSON, Err: err}
	}
	for _, f := range Fields {
		if f.EnvKey == "" {
			continue
		}
		if v := getenv(f.EnvKey); v != "" && v != f.Get(&id) {
			return Identity{}, &EnvError{Key: f.EnvKey}
		}
	}
	return id, nil
}
