package identity

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// Status is a verification verdict, in Launchplane's vocabulary.
type Status string

// The verdicts (DESIGN.md section 3).
const (
	StatusUnchecked    Status = "unchecked"    // no expected identity
	StatusMatch        Status = "match"        // every compared field equal
	StatusMismatch     Status = "mismatch"     // a compared field differs
	StatusMissing      Status = "missing"      // an answer without any identity (or with null)
	StatusMalformed    Status = "malformed"    // an identity that is not a valid identity object
	StatusUnverifiable Status = "unverifiable" // no usable answer
)

// Statuses lists every verdict.
var Statuses = []Status{StatusUnchecked, StatusMatch, StatusMismatch, StatusMissing, StatusMalformed, StatusUnverifiable}

// Surface names where an observed identity came from.
type Surface string

// The three tenant surfaces.
const (
	SurfaceHealth    Surface = "health"
	SurfaceWellKnown Surface = "well-known"
	SurfaceHeaders   Surface = "headers"
)

// HealthKeys are the top-level health JSON keys that may hold the identity, in the order they are
// tried. The first one whose value parses wins.
var HealthKeys = []string{"runtime_identity", "launchplane_runtime_identity", "launchplaneRuntimeIdentity", EnvJSON}

// Observation is what one tenant surface reported.
type Observation struct {
	Surface Surface
	// Found is true when the surface carried a readable identity.
	Found bool
	// Status is missing, malformed or unverifiable when Found is false.
	Status Status
	// Identity is the observed identity when Found. With Partial it holds DeploymentRecordID only.
	Identity Identity
	// Partial marks a header answer that carries no digest: only deployment_record_id is known.
	Partial bool
	// Digest is the X-Launchplane-Identity-Digest header on the headers surface.
	Digest string
	// Key is the health JSON key the identity was read from.
	Key string
	// UnknownKeys are identity keys this version does not know (tolerated).
	UnknownKeys []string
	// Detail says what was read or why nothing usable was.
	Detail string
	// Raw is the observed identity value as the tenant sent it (untrusted; may be large).
	Raw json.RawMessage
}

// ExtractHealth reads the identity from a health JSON body as Launchplane does
// (cbusillo/launchplane control_plane/contracts/runtime_identity.py at 4b42a52,
// runtime_identity_from_health_payload). Only the top level is searched, under HealthKeys; a
// value may be an object or a string holding JSON (unwrapped as often as it is encoded). The body
// is read as Python's json.loads reads it: a body of ASCII whitespace only is an empty answer,
// NaN and Infinity are numbers (see FromPythonJSON). A key set to null means the identity was not
// injected, so it reads as missing (Launchplane says malformed).
func ExtractHealth(body []byte) Observation {
	obs := Observation{Surface: SurfaceHealth}
	if bodyBlank(body) {
		obs.Status, obs.Detail = StatusMissing, "the health endpoint returned an empty body"
		return obs
	}
	doc, ok := readJSON(body)
	if !ok {
		obs.Status, obs.Detail = StatusUnverifiable, "the health endpoint did not return JSON"
		return obs
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(doc, &top) != nil || top == nil {
		obs.Status, obs.Detail = StatusMissing, "the health endpoint returned JSON that is not an object, so it carries no identity"
		return obs
	}
	var firstBad *Observation
	var nullKey string
	for _, key := range HealthKeys {
		val, ok := top[key]
		if !ok {
			continue
		}
		if isNull(val) {
			if nullKey == "" {
				nullKey = key
			}
			continue
		}
		o := decodeValue(SurfaceHealth, val)
		o.Key = key
		if o.Found {
			return o
		}
		if firstBad == nil {
			o.Detail = key + ": " + o.Detail
			firstBad = &o
		}
	}
	switch {
	case firstBad != nil:
		return *firstBad
	case nullKey != "":
		obs.Status, obs.Key = StatusMissing, nullKey
		obs.Detail = nullKey + " is null: the tenant runs without an injected identity"
		obs.Raw = json.RawMessage("null")
	default:
		obs.Status = StatusMissing
		obs.Detail = "the health JSON has no runtime_identity key"
	}
	return obs
}

// ExtractWellKnown reads the identity from the body of GET /.well-known/launchplane-runtime.json,
// which is the identity object itself. The body is read as ExtractHealth reads one.
func ExtractWellKnown(body []byte) Observation {
	if bodyBlank(body) {
		return Observation{Surface: SurfaceWellKnown, Status: StatusMissing, Detail: "the well-known document is empty"}
	}
	doc, ok := readJSON(body)
	switch {
	case !ok:
		return Observation{Surface: SurfaceWellKnown, Status: StatusUnverifiable, Detail: "the well-known document is not JSON"}
	case isNull(doc):
		return Observation{Surface: SurfaceWellKnown, Status: StatusMissing, Detail: "the well-known document is null: the tenant runs without an injected identity", Raw: json.RawMessage("null")}
	}
	return decodeValue(SurfaceWellKnown, doc)
}

func isNull(val json.RawMessage) bool { return string(bytes.TrimSpace(val)) == "null" }

// decodeValue reads an identity from valid JSON: an object, or a string holding JSON, as
// Launchplane's parse_runtime_identity_payload does. It needs no depth limit: every level of
// encoding at least doubles the quotes and backslashes, so a body of n bytes nests at most
// log2(n) deep.
func decodeValue(s Surface, val json.RawMessage) Observation {
	val = bytes.TrimSpace(val)
	obs := Observation{Surface: s, Status: StatusMalformed, Raw: val}
	switch {
	case len(val) > 0 && val[0] == '"':
		var str string
		if err := json.Unmarshal(val, &str); err != nil {
			obs.Detail = "the value is not a valid JSON string"
			return obs
		}
		str = PyStrip(str)
		if str == "" {
			obs.Detail = "the value is a blank string"
			return obs
		}
		inner, ok := readJSON([]byte(str))
		if !ok {
			obs.Detail = "the value is a string that does not hold JSON"
			return obs
		}
		o := decodeValue(s, inner)
		o.Raw = val
		return o
	case len(val) > 0 && val[0] == '{':
		id, unknown, err := Decode(val)
		if err != nil {
			obs.Detail = Reason(err)
			obs.UnknownKeys = unknown
			return obs
		}
		return Observation{Surface: s, Found: true, Identity: id, UnknownKeys: unknown, Raw: val, Detail: "identity read"}
	default:
		obs.Detail = "the value is " + jsonKind(val) + ", not an identity object"
		return obs
	}
}

var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// ExtractHeaders reads the X-Launchplane-Deployment and X-Launchplane-Identity-Digest headers. The
// digest stands for every field; a bare deployment header for deployment_record_id only.
func ExtractHeaders(h http.Header) Observation {
	obs := Observation{Surface: SurfaceHeaders}
	dep := strings.TrimSpace(h.Get(HeaderDeployment))
	dig := strings.TrimSpace(h.Get(HeaderDigest))
	if dep == "" && dig == "" {
		obs.Status, obs.Detail = StatusMissing, "the response has no "+HeaderDeployment+" or "+HeaderDigest+" header"
		return obs
	}
	if dig != "" && !digestPattern.MatchString(dig) {
		obs.Status, obs.Detail = StatusMalformed, HeaderDigest+" is not sha256:<64 lowercase hex>"
		return obs
	}
	obs.Found = true
	obs.Identity.DeploymentRecordID = dep
	obs.Digest = dig
	obs.Partial = dig == ""
	obs.Detail = "identity headers read"
	return obs
}
