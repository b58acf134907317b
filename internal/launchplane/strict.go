package launchplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// This file holds Launchplane's own rules for a stable verification's health_payload, as the
// service applies them when it reclassifies the payload against the deployment record. They are
// stricter than the verifier's (internal/identity): an extra key makes an identity malformed and
// a short SHA is a mismatch. The report builder uses them to send only what the service accepts.
//
// Sources (cbusillo/launchplane):
//   - control_plane/contracts/runtime_identity.py @ 4b42a529725ae3ad788de3f3b8df30e7ead25c85:
//     RuntimeIdentity (extra="forbid", schema_version int ≥ 1, five required non-blank strings),
//     parse_runtime_identity_payload, runtime_identity_from_health_payload (four alias keys, first
//     parsable wins, strings decoded recursively), health_payload_has_runtime_identity_key,
//     compare_runtime_identity (only non-empty expected values, exact), and
//     health_payload_runtime_identity_status. That commit compares seven fields; the later
//     revision the contract describes adds preview_id and preview_generation_id, compared here.
//   - control_plane/contracts/structured_health.py @ f2d25bc0a43362faf18847ba71566fe24762f411:
//     structured_health_evidence_from_payload (status, else state; casefolded word lists).
//   - control_plane/drivers/generic_web_dispatch.py @ 0e441a24836ecb8a624d47be6e36fb76382b1b6d:
//     _validate_stable_verification_health_payload_identity (a non-null payload whose structured
//     status is not fail or malformed must match the record's identity, and a record without an
//     identity accepts only such exempt payloads).
//
// schema_version is read with identity.LaxInt, the one reading of pydantic's lax int, which
// TestLaxIntAgainstPydantic checks against pydantic itself.

// maxForwardDepth bounds the nesting of a health body the builder forwards. Python's json
// module gives up near 1000 levels of recursion; far below that is safe.
const maxForwardDepth = 200

// maxAliasDepth bounds how many times an alias value may be a JSON string holding JSON.
const maxAliasDepth = 16

// healthState is Launchplane's structured-health status of a payload.
type healthState int

const (
	healthUnchecked healthState = iota // null payload, or an object without a status word
	healthPass
	healthFail
	healthMalformed
)

// exempt reports whether Launchplane skips the identity check for a payload in this state.
func (s healthState) exempt() bool { return s == healthFail || s == healthMalformed }

var (
	passWords = []string{"ok", "pass", "passing", "ready", "healthy", "serving", "up"}
	failWords = []string{"fail", "failed", "error", "errored", "not_ready", "unhealthy", "down"}
)

// decodePy decodes b as Launchplane's json.loads reads it, keeping numbers as json.Number and
// letting a later duplicate key win. It refuses what Python refuses (invalid UTF-8, trailing
// data) and also what Go cannot represent although Python reads it (NaN, Infinity) and nesting
// deeper than maxForwardDepth: such bodies are never forwarded.
func decodePy(b []byte) (any, bool) {
	if !utf8.Valid(b) || nestingDepth(b) > maxForwardDepth {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return v, true
}

// nestingDepth returns the deepest nesting of objects and arrays in b, skipping strings.
func nestingDepth(b []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// pyTruthy is Python's truth value of a decoded JSON value.
func pyTruthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case json.Number:
		f, err := t.Float64()
		return err != nil || f != 0 // an overflowing literal is a non-zero float or int
	case map[string]any:
		return len(t) > 0
	case []any:
		return len(t) > 0
	}
	return true
}

// casefoldASCII returns Python's str.casefold() of s when the result is plain ASCII, and ok
// false otherwise. Only ASCII results can equal the status words; the non-ASCII runes whose
// casefold is ASCII were listed with Python 3 (U+00DF, U+017F, U+1E9E, U+212A, U+FB00..U+FB06).
func casefoldASCII(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r == 0xdf || r == 0x1e9e:
			b.WriteString("ss")
		case r == 0x17f:
			b.WriteByte('s')
		case r == 0x212a:
			b.WriteByte('k')
		case r == 0xfb00:
			b.WriteString("ff")
		case r == 0xfb01:
			b.WriteString("fi")
		case r == 0xfb02:
			b.WriteString("fl")
		case r == 0xfb03:
			b.WriteString("ffi")
		case r == 0xfb04:
			b.WriteString("ffl")
		case r == 0xfb05 || r == 0xfb06:
			b.WriteString("st")
		default:
			return "", false
		}
	}
	return b.String(), true
}

// structuredHealth is structured_health_evidence_from_payload's status for a decoded payload.
func structuredHealth(payload any) healthState {
	if payload == nil {
		return healthUnchecked
	}
	obj, ok := payload.(map[string]any)
	if !ok {
		return healthMalformed
	}
	v := obj["status"]
	if !pyTruthy(v) {
		v = obj["state"]
	}
	if v == nil {
		return healthUnchecked
	}
	s, isString := v.(string)
	if !isString {
		return healthMalformed // str() of any other value is a non-empty word outside both lists
	}
	s = identity.PyStrip(s)
	if s == "" {
		return healthUnchecked
	}
	if folded, ok := casefoldASCII(s); ok {
		for _, w := range passWords {
			if folded == w {
				return healthPass
			}
		}
		for _, w := range failWords {
			if folded == w {
				return healthFail
			}
		}
	}
	return healthMalformed
}

// strictFields are RuntimeIdentity's string fields; the first five are required.
var strictFields = []string{
	"context", "instance", "deployment_record_id", "artifact_id", "source_git_ref",
	"product", "environment_kind", "image_reference", "release_tuple_id", "preview_id",
	"preview_generation_id", "deployed_at",
}

const strictRequired = 5

// schemaVersion reads RuntimeIdentity's schema_version, pydantic's lax int ≥ 1, with the rules
// identity.LaxInt shares with pydantic. A version beyond int32 is kept as math.MaxInt32: it is
// informational only, never compared.
func schemaVersion(v any) (int, bool) {
	raw, err := json.Marshal(v)
	if err != nil {
		return 0, false
	}
	n, ok := identity.LaxInt(raw)
	if !ok || n == "0" || strings.HasPrefix(n, "-") {
		return 0, false
	}
	if i, err := strconv.Atoi(n); err == nil && i <= math.MaxInt32 {
		return i, true
	}
	return math.MaxInt32, true
}

// strictIdentity is RuntimeIdentity.model_validate of a decoded value: an object with only
// contract keys, strings where strings belong, schema_version an integer ≥ 1 in pydantic's lax
// sense, and the five required fields non-blank after Python's strip.
func strictIdentity(v any) (identity.Identity, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		return identity.Identity{}, false
	}
	id := identity.Identity{SchemaVersion: identity.SchemaVersion, EnvironmentKind: identity.KindStable}
	vals := map[string]*string{
		"product": &id.Product, "context": &id.Context, "instance": &id.Instance,
		"environment_kind": &id.EnvironmentKind, "deployment_record_id": &id.DeploymentRecordID,
		"artifact_id": &id.ArtifactID, "source_git_ref": &id.SourceGitRef,
		"image_reference": &id.ImageReference, "release_tuple_id": &id.ReleaseTupleID,
		"preview_id": &id.PreviewID, "preview_generation_id": &id.PreviewGenerationID,
		"deployed_at": &id.DeployedAt,
	}
	for key, val := range obj {
		if key == "schema_version" {
			if id.SchemaVersion, ok = schemaVersion(val); !ok {
				return identity.Identity{}, false
			}
			continue
		}
		dst, known := vals[key]
		if !known {
			return identity.Identity{}, false
		}
		s, isString := val.(string)
		if !isString {
			return identity.Identity{}, false
		}
		*dst = s
	}
	for _, name := range strictFields[:strictRequired] {
		if _, present := obj[name]; !present || identity.PyStrip(*vals[name]) == "" {
			return identity.Identity{}, false
		}
	}
	return id, true
}

// parseAlias is parse_runtime_identity_payload: an object, or a string holding JSON that parses
// (recursively) to one.
func parseAlias(v any, depth int) (identity.Identity, bool) {
	if s, ok := v.(string); ok {
		s = identity.PyStrip(s)
		if s == "" || depth >= maxAliasDepth {
			return identity.Identity{}, false
		}
		inner, ok := decodePy([]byte(s))
		if !ok {
			return identity.Identity{}, false
		}
		return parseAlias(inner, depth+1)
	}
	return strictIdentity(v)
}

// strictMismatches lists the compared fields in which got differs from a non-empty expected
// value, in compare_runtime_identity's order (with the later preview fields).
func strictMismatches(want, got identity.Identity) []string {
	pairs := []struct {
		name      string
		want, got string
	}{
		{"product", want.Product, got.Product},
		{"context", want.Context, got.Context},
		{"instance", want.Instance, got.Instance},
		{"environment_kind", want.EnvironmentKind, got.EnvironmentKind},
		{"deployment_record_id", want.DeploymentRecordID, got.DeploymentRecordID},
		{"artifact_id", want.ArtifactID, got.ArtifactID},
		{"source_git_ref", want.SourceGitRef, got.SourceGitRef},
		{"preview_id", want.PreviewID, got.PreviewID},
		{"preview_generation_id", want.PreviewGenerationID, got.PreviewGenerationID},
	}
	var out []string
	for _, p := range pairs {
		if p.want != "" && p.got != p.want {
			out = append(out, p.name)
		}
	}
	return out
}

// strictClassify is health_payload_runtime_identity_status for a decoded payload: the status
// and detail Launchplane records when it reclassifies the payload against want.
func strictClassify(want *identity.Identity, payload any) (identity.Status, string) {
	if want == nil {
		return identity.StatusUnchecked, "Runtime identity verification was not requested."
	}
	obj, isObject := payload.(map[string]any)
	present := false
	if isObject {
		for _, key := range identity.HealthKeys {
			if _, ok := obj[key]; !ok {
				continue
			}
			present = true
			if got, ok := parseAlias(obj[key], 0); ok {
				if bad := strictMismatches(*want, got); len(bad) > 0 {
					return identity.StatusMismatch, "Runtime identity mismatched fields: " + strings.Join(bad, ", ")
				}
				return identity.StatusMatch, "Runtime identity matches the expected deployment record."
			}
		}
	}
	if present {
		return identity.StatusMalformed, "Health endpoint returned runtime identity evidence that could not be parsed."
	}
	return identity.StatusMissing, "Runtime identity was not reported by the health endpoint."
}
