package launchplanetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// This file rebuilds, in Go, the models Launchplane validates a stable verification with. It is
// written apart from the client's own rules (internal/launchplane strict.go) so that each checks
// the other. Sources (cbusillo/launchplane):
//
//   - control_plane/drivers/generic_web_dispatch.py @ 0e441a24836ecb8a624d47be6e36fb76382b1b6d:
//     GenericWebStableVerificationRequest and ...Envelope (extra="forbid"), the health-payload
//     identity check, the health evidence and the record agreement checks.
//   - control_plane/drivers/dispatch.py @ 3dc1a10e9c2c5f41a118876427b356ab97caadba:
//     _ProductRouteEnvelope, _normalize_release_status, _normalize_preview_verification_checked_urls.
//   - control_plane/contracts/runtime_identity.py @ 4b42a529725ae3ad788de3f3b8df30e7ead25c85 and
//     control_plane/contracts/structured_health.py @ f2d25bc0a43362faf18847ba71566fe24762f411.
//   - control_plane/http_routes/mutation_support.py @ 0d96165c2fb73aed7390efebcf22f2b8dfcd3dfe:
//     request_fingerprint (sha256 of json.dumps(sort_keys=True, separators=(",", ":"))).
//   - control_plane/generic_web_verification_http.py @ 610ea1013bf1800ba84e0d6af6d74ed3a1291b39:
//     should_store_generic_web_verification_idempotency and the response records.
//
// One rule is shared rather than rebuilt: pydantic's lax int, which the fake and the client both
// read with identity.LaxInt because that function is checked against pydantic itself
// (TestLaxIntAgainstPydantic), not against either of them.
//
// Known gap: Python's json module reads NaN and Infinity; this fake refuses a body holding them
// (Go cannot represent them). The client never sends them.

// errInvalid is a validation failure: Launchplane answers 400 invalid_request without naming
// the field. The wrapped text is for the test log only.
var errInvalid = errors.New("request failed validation")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalid, fmt.Sprintf(format, args...))
}

// loadJSON decodes a request body as Starlette's request.json() (json.loads) does, numbers kept
// exact, a later duplicate key winning.
func loadJSON(b []byte) (any, error) {
	if !utf8.Valid(b) {
		return nil, invalid("body is not UTF-8")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, invalid("body is not JSON: %v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, invalid("trailing data after the JSON value")
	}
	return v, nil
}

// isPySpace is Python's str.isspace.
func isPySpace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0d, r >= 0x1c && r <= 0x20, r == 0x85, r == 0xa0, r == 0x1680,
		r >= 0x2000 && r <= 0x200a, r == 0x2028, r == 0x2029, r == 0x202f, r == 0x205f, r == 0x3000:
		return true
	}
	return false
}

func strip(s string) string { return strings.TrimFunc(s, isPySpace) }

// truthy is Python's bool() of a JSON value.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return len(t) > 0
	case json.Number:
		r, ok := new(big.Rat).SetString(t.String())
		return !ok || r.Sign() != 0
	case map[string]any:
		return len(t) > 0
	case []any:
		return len(t) > 0
	}
	return true
}

// pyLower is str.lower() as far as it can produce ASCII: A-Z and U+212A (KELVIN SIGN), the only
// non-ASCII rune whose lowercase is ASCII (checked with Python 3).
func pyLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r == 0x212a {
			return 'k'
		}
		if r >= 'A' && r <= 'Z' {
			return r + 32
		}
		return r
	}, s)
}

// pyCasefold is str.casefold() for the runes whose casefold is ASCII (checked with Python 3);
// other runes are kept, which cannot make a status word.
func pyCasefold(s string) string {
	repl := strings.NewReplacer("ß", "ss", "ẞ", "ss", "ſ", "s", "K", "k", "ﬀ", "ff", "ﬁ", "fi",
		"ﬂ", "fl", "ﬃ", "ffi", "ﬄ", "ffl", "ﬅ", "st", "ﬆ", "st")
	return pyLower(repl.Replace(s)) // only ASCII results matter; ToLower would map U+0130 to "i"
}

// pyStr is str(v).strip() for the values a status can hold; only emptiness and the word
// matter, and str() of a number, bool, list or dict is never empty nor a status word.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return strip(s)
	}
	return fmt.Sprint("<", v, ">")
}

// laxInt is pydantic's lax int for a JSON value. It reads with identity.LaxInt, which
// TestLaxIntAgainstPydantic checks against pydantic itself (int strings are trimmed of Unicode
// White_Space only, so U+001C..U+001F, which Python's str.strip drops, make no integer).
func laxInt(v any) (*big.Int, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, invalid("not an integer")
	}
	s, ok := identity.LaxInt(raw)
	if !ok {
		return nil, invalid("not an integer")
	}
	n, _ := new(big.Int).SetString(s, 10)
	return n, nil
}

// intAtLeast1 is `int = Field(ge=1)`.
func intAtLeast1(v any, name string) error {
	n, err := laxInt(v)
	if err != nil {
		return invalid("%s: %v", name, err)
	}
	if n.Sign() <= 0 {
		return invalid("%s must be ≥ 1", name)
	}
	return nil
}

// onlyKeys refuses keys outside allowed (extra="forbid").
func onlyKeys(obj map[string]any, where string, allowed ...string) error {
	for k := range obj {
		found := false
		for _, a := range allowed {
			found = found || k == a
		}
		if !found {
			return invalid("%s: extra key %q", where, k)
		}
	}
	return nil
}

// str is a `str` field: present when required, a JSON string (never null or a number).
func str(obj map[string]any, key string, required bool) (string, error) {
	v, ok := obj[key]
	if !ok {
		if required {
			return "", invalid("%s is required", key)
		}
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", invalid("%s must be a string", key)
	}
	return s, nil
}

// StableVerification is a stable-verification request as Launchplane's model leaves it after
// validation and normalisation.
type StableVerification struct {
	Product            string
	Context            string
	Instance           string
	DeploymentRecordID string
	PromotionRecordID  string
	// VerificationStatus is the normalised status: pass or fail.
	VerificationStatus string
	VerifiedAt         string
	CheckedURLs        []string
	// TimeoutSeconds is nil for null or absent.
	TimeoutSeconds *big.Int
	// HealthPayload is the decoded health_payload (nil for null or absent); HealthPayloadRaw is
	// its JSON.
	HealthPayload    any
	HealthPayloadRaw json.RawMessage
	FailureSummary   string
}

var verificationKeys = []string{
	"schema_version", "context", "instance", "deployment_record_id", "promotion_record_id",
	"verification_status", "verified_at", "checked_urls", "timeout_seconds", "health_payload",
	"failure_summary",
}

// ValidateStableVerification applies GenericWebStableVerificationEnvelope to a request body and
// returns the normalised request, or an error matching what Launchplane answers with 400
// invalid_request. Tests use it to prove a body is one the service accepts.
func ValidateStableVerification(body []byte) (*StableVerification, error) {
	v, err := loadJSON(body)
	if err != nil {
		return nil, err
	}
	env, ok := v.(map[string]any)
	if !ok {
		return nil, invalid("body is not an object")
	}
	if err := onlyKeys(env, "envelope", "schema_version", "product", "verification"); err != nil {
		return nil, err
	}
	if sv, ok := env["schema_version"]; ok {
		if err := intAtLeast1(sv, "schema_version"); err != nil {
			return nil, err
		}
	}
	out := &StableVerification{}
	if out.Product, err = str(env, "product", true); err != nil {
		return nil, err
	}
	ver, ok := env["verification"].(map[string]any)
	if !ok {
		return nil, invalid("verification must be an object")
	}
	if err := onlyKeys(ver, "verification", verificationKeys...); err != nil {
		return nil, err
	}
	if sv, ok := ver["schema_version"]; ok {
		if err := intAtLeast1(sv, "verification.schema_version"); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		key      string
		dst      *string
		required bool
	}{
		{"context", &out.Context, true}, {"instance", &out.Instance, true},
		{"deployment_record_id", &out.DeploymentRecordID, true}, {"verified_at", &out.VerifiedAt, true},
		{"promotion_record_id", &out.PromotionRecordID, false}, {"failure_summary", &out.FailureSummary, false},
	} {
		if *f.dst, err = str(ver, f.key, f.required); err != nil {
			return nil, err
		}
	}
	rawStatus, ok := ver["verification_status"]
	if !ok {
		return nil, invalid("verification_status is required")
	}
	if out.VerificationStatus, err = normalizeStatus(rawStatus); err != nil {
		return nil, err
	}
	if out.CheckedURLs, err = normalizeURLs(ver["checked_urls"]); err != nil {
		return nil, err
	}
	if t, ok := ver["timeout_seconds"]; ok && t != nil {
		if err := intAtLeast1(t, "timeout_seconds"); err != nil {
			return nil, err
		}
		out.TimeoutSeconds, _ = laxInt(t)
	}
	out.HealthPayload = ver["health_payload"]
	out.HealthPayloadRaw, _ = json.Marshal(out.HealthPayload)
	// _validate_stable_verification_request, then the envelope's product check.
	switch {
	case strip(out.Context) == "":
		return nil, invalid("requires context")
	case strip(out.Instance) == "":
		return nil, invalid("requires instance")
	case strip(out.DeploymentRecordID) == "":
		return nil, invalid("requires deployment_record_id")
	case out.VerificationStatus != "pass" && out.VerificationStatus != "fail":
		return nil, invalid("status must be pass or fail, not %s", out.VerificationStatus)
	case strip(out.VerifiedAt) == "":
		return nil, invalid("requires verified_at")
	case len(out.CheckedURLs) > 0 && out.TimeoutSeconds == nil:
		return nil, invalid("checked_urls require timeout_seconds")
	case strip(out.Product) == "":
		return nil, invalid("requires product")
	}
	return out, nil
}

// normalizeStatus is _normalize_release_status: str(value or "").strip().lower() mapped onto
// pass, fail, skipped or pending; anything else is refused.
func normalizeStatus(v any) (string, error) {
	s := ""
	if truthy(v) {
		s = pyLower(pyStr(v))
	}
	switch s {
	case "success", "passed", "pass":
		return "pass", nil
	case "failure", "failed", "fail", "cancelled", "canceled", "timed_out":
		return "fail", nil
	case "skipped", "not-run", "not_run", "":
		return "skipped", nil
	case "pending", "in_progress", "in-progress":
		return "pending", nil
	}
	return "", invalid("verification_status %q is not a status word", s)
}

// normalizeURLs is _normalize_preview_verification_checked_urls.
func normalizeURLs(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, invalid("checked_urls must be a list")
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, invalid("checked_urls must be strings")
		}
		if s = strip(s); s == "" {
			return nil, invalid("checked_urls cannot contain blanks")
		}
		out = append(out, s)
	}
	return out, nil
}

// Structured health statuses (StructuredHealthStatus).
const (
	healthUnchecked = "unchecked"
	healthPass      = "pass"
	healthFail      = "fail"
	healthMalformed = "malformed"
)

// structuredHealth is structured_health_evidence_from_payload(...).status.
func structuredHealth(payload any) string {
	if payload == nil {
		return healthUnchecked
	}
	obj, ok := payload.(map[string]any)
	if !ok {
		return healthMalformed
	}
	v := obj["status"]
	if !truthy(v) {
		v = obj["state"]
	}
	reported := ""
	if v != nil {
		reported = pyStr(v)
	}
	switch pyCasefold(reported) {
	case "ok", "pass", "passing", "ready", "healthy", "serving", "up":
		return healthPass
	case "fail", "failed", "error", "errored", "not_ready", "unhealthy", "down":
		return healthFail
	case "":
		return healthUnchecked
	}
	return healthMalformed
}

// identityKeys are RuntimeIdentity's fields; the first five are required.
var identityKeys = []string{
	"context", "instance", "deployment_record_id", "artifact_id", "source_git_ref",
	"schema_version", "product", "environment_kind", "image_reference", "release_tuple_id",
	"preview_id", "preview_generation_id", "deployed_at",
}

// runtimeIdentity is RuntimeIdentity.model_validate of a JSON value.
func runtimeIdentity(v any) (map[string]string, bool) {
	obj, ok := v.(map[string]any)
	if !ok || onlyKeys(obj, "runtime identity", identityKeys...) != nil {
		return nil, false
	}
	out := map[string]string{"environment_kind": "stable"}
	for i, k := range identityKeys {
		val, present := obj[k]
		switch {
		case k == "schema_version":
			if present && intAtLeast1(val, k) != nil {
				return nil, false
			}
		case !present && i < 5:
			return nil, false
		case present:
			s, isStr := val.(string)
			if !isStr || (i < 5 && strip(s) == "") {
				return nil, false
			}
			out[k] = s
		}
	}
	return out, true
}

// parseIdentityPayload is parse_runtime_identity_payload.
func parseIdentityPayload(v any, depth int) (map[string]string, bool) {
	if s, ok := v.(string); ok {
		s = strip(s)
		if s == "" || depth > 32 {
			return nil, false
		}
		inner, err := loadJSON([]byte(s))
		if err != nil {
			return nil, false
		}
		return parseIdentityPayload(inner, depth+1)
	}
	return runtimeIdentity(v)
}

var healthAliases = []string{"runtime_identity", "launchplane_runtime_identity", "launchplaneRuntimeIdentity", "LAUNCHPLANE_RUNTIME_IDENTITY_JSON"}

// comparedKeys are compare_runtime_identity's fields, with the later revision's preview fields.
var comparedKeys = []string{
	"product", "context", "instance", "environment_kind", "deployment_record_id", "artifact_id",
	"source_git_ref", "preview_id", "preview_generation_id",
}

// classify is health_payload_runtime_identity_status(expected, payload).
func classify(expected *identity.Identity, payload any) (status, detail string, observed map[string]string) {
	if expected == nil {
		return "unchecked", "Runtime identity verification was not requested.", nil
	}
	obj, _ := payload.(map[string]any)
	for _, k := range healthAliases {
		if got, ok := parseIdentityPayload(obj[k], 0); ok {
			observed = got
			break
		}
	}
	if observed == nil {
		for _, k := range healthAliases {
			if _, present := obj[k]; present {
				return "malformed", "Health endpoint returned runtime identity evidence that could not be parsed.", nil
			}
		}
		return "missing", "Runtime identity was not reported by the health endpoint.", nil
	}
	want := map[string]string{
		"product": expected.Product, "context": expected.Context, "instance": expected.Instance,
		"environment_kind": expected.EnvironmentKind, "deployment_record_id": expected.DeploymentRecordID,
		"artifact_id": expected.ArtifactID, "source_git_ref": expected.SourceGitRef,
		"preview_id": expected.PreviewID, "preview_generation_id": expected.PreviewGenerationID,
	}
	var bad []string
	for _, k := range comparedKeys {
		if want[k] != "" && observed[k] != want[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		return "mismatch", "Runtime identity mismatched fields: " + strings.Join(bad, ", "), observed
	}
	return "match", "Runtime identity matches the expected deployment record.", observed
}

// fingerprint is request_fingerprint: sha256 of json.dumps(payload, sort_keys=True,
// separators=(",", ":")) with Python's default ensure_ascii.
func fingerprint(v any) string {
	var b strings.Builder
	pyDumps(&b, v)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

func pyDumps(b *strings.Builder, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(map[bool]string{true: "true", false: "false"}[t])
	case string:
		pyString(b, t)
	case json.Number:
		b.WriteString(pyNumber(t.String()))
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			pyDumps(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys) // UTF-8 byte order is code point order
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			pyString(b, k)
			b.WriteByte(':')
			pyDumps(b, t[k])
		}
		b.WriteByte('}')
	}
}

// pyNumber renders a JSON number as json.dumps does after json.loads: an int exactly, a float
// as repr() (shortest digits; exponent form below 1e-4 and from 1e16).
func pyNumber(s string) string {
	if !strings.ContainsAny(s, ".eE") {
		n, _ := new(big.Int).SetString(s, 10)
		return n.String()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s // out of range: Python would write Infinity; the body is refused before this
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp >= 16 || exp < -4 {
		return e
	}
	out := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(out, ".") {
		out += ".0"
	}
	return out
}

// pyString writes s as json.dumps does with ensure_ascii: short escapes for \" \\ \n \r \t \b
// \f, \u00XX for other controls, and \uXXXX (surrogate pairs above U+FFFF) for everything
// outside printable ASCII.
func pyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}

// containsStatus is _result_contains_status.
func containsStatus(v any, status string) bool {
	switch t := v.(type) {
	case string:
		return t == status
	case map[string]any:
		for _, e := range t {
			if containsStatus(e, status) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if containsStatus(e, status) {
				return true
			}
		}
	}
	return false
}

// pathSegmentOK is FastAPI's Path(min_length=1, pattern=r"^\S+$"): Python's \S is any rune that
// is not whitespace.
func pathSegmentOK(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return isPySpace(r) || unicode.IsSpace(r) })
}

// Reclassify returns what Launchplane makes of a health payload against the record's identity:
// its structured-health status (unchecked, pass, fail, malformed) and the runtime identity
// status. The error reports a payload the fake cannot read as JSON.
func Reclassify(expected *identity.Identity, payload []byte) (health, status string, err error) {
	v, err := loadJSON(payload)
	if err != nil {
		return "", "", err
	}
	status, _, _ = classify(expected, v)
	return structuredHealth(v), status, nil
}

// Accepts reports whether Launchplane would accept body as a stable verification of rec (the
// product's lane and the caller's grant aside): the request model, the record agreement, and
// the health-payload identity rule. The error says why not.
func Accepts(body []byte, rec DeploymentRecord) error {
	req, err := ValidateStableVerification(body)
	if err != nil {
		return err
	}
	switch {
	case req.DeploymentRecordID != rec.RecordID:
		return invalid("no deployment record %s", req.DeploymentRecordID)
	case req.Context != rec.Context || req.Instance != rec.Instance:
		return invalid("context or instance does not match the deployment record")
	case strings.TrimSpace(req.PromotionRecordID) != "":
		return invalid("no promotion record %s", req.PromotionRecordID)
	}
	return payloadAccepted(req, rec.RuntimeIdentity)
}

// payloadAccepted is _validate_stable_verification_health_payload_identity: a non-null payload
// whose structured status is not fail or malformed must match the record's identity, and a
// record without one accepts no such payload.
func payloadAccepted(req *StableVerification, expected *identity.Identity) error {
	health := structuredHealth(req.HealthPayload)
	if req.HealthPayload == nil || health == healthFail || health == healthMalformed {
		return nil
	}
	if expected == nil {
		return invalid("health payload cannot be verified: the record has no runtime identity")
	}
	if st, detail, _ := classify(expected, req.HealthPayload); st != "match" {
		return invalid("health payload did not match the expected runtime identity: %s", detail)
	}
	return nil
}
