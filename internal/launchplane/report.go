package launchplane

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Report statuses: the only two verification_status words the stable-verification route keeps
// (cbusillo/launchplane control_plane/drivers/dispatch.py @ 3dc1a10e9c2c5f41a118876427b356ab97caadba
// normalises others; generic_web_dispatch.py @ 0e441a24836ecb8a624d47be6e36fb76382b1b6d refuses
// all but these two).
const (
	StatusPass = "pass"
	StatusFail = "fail"
)

// IdempotencyKeyPrefix starts the Idempotency-Key of every stable-verification report, as
// Launchplane's own workflow writes it (cbusillo/launchplane
// .github/workflows/reusable-generic-web-stable-verification.yml @ 2b703d3dca2705af08855f5b91a7810dcc9fc8fe).
const IdempotencyKeyPrefix = "generic-web-stable-verification"

// MaxForwardBytes bounds the health body forwarded as health_payload: Launchplane reads at most
// 256 KiB of a health body itself, so a larger one is not forwarded.
const MaxForwardBytes = 256 << 10

// maxSummaryRunes bounds failure_summary.
const maxSummaryRunes = 500

// ReportInput is everything a stable-verification report says. The verdict and its detail are
// the verifier's; HealthBody is the tenant's health answer, which the builder forwards only when
// Launchplane's own, stricter rules accept it.
type ReportInput struct {
	// Product, Context, Instance and RecordID name the lane and the deployment record. Required:
	// they also build the Idempotency-Key.
	Product, Context, Instance, RecordID string
	// Expected is the record's runtime identity (Deployment.Expected); nil when the record has
	// none, in which case Launchplane accepts only a null or failing health_payload.
	Expected *identity.Identity
	// Verdict is the verifier's status: match, mismatch, missing, malformed, unverifiable or
	// unchecked.
	Verdict identity.Status
	// Detail is the verdict's one-line explanation, already free of secrets.
	Detail string
	// HealthBody is the body of the tenant's health endpoint as it answered (the health surface's
	// answer, not well-known or headers); nil when there was none. It may be large or not JSON.
	HealthBody []byte
	// Withhold, when set, reports whether the body holds a secret value; such a body is never
	// forwarded.
	Withhold func(body []byte) bool
	// CheckedURL is the health URL probed, if any. Credentials, query and fragment are dropped.
	CheckedURL string
	// Timeout is the verification deadline (verify-timeout); sent rounded up to whole seconds,
	// at least 1.
	Timeout time.Duration
	// VerifiedAt is when the verification ended. Required.
	VerifiedAt time.Time
	// RunID and RunAttempt are GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT; with RunID 0 (outside
	// Actions) a random nonce takes their place in the Idempotency-Key, so two CLI runs never
	// share a key.
	RunID      int64
	RunAttempt int
	// Rand is the nonce source; nil means crypto/rand.
	Rand io.Reader
}

// Request is one stable-verification report, fixed once built: every attempt and every replay
// sends exactly Body under IdempotencyKey, so a report retried after a dropped connection is
// recognised by Launchplane as the same one.
type Request struct {
	// Body is the JSON request body, byte for byte.
	Body []byte
	// IdempotencyKey is the Idempotency-Key header.
	IdempotencyKey string
	// Status is the verification_status sent: StatusPass or StatusFail.
	Status string
	// RecordID is the deployment record reported on.
	RecordID string
	// HealthPayloadSent reports whether the tenant's body went as health_payload (else null).
	HealthPayloadSent bool
	// FailureSummary is the failure_summary sent; empty for a pass.
	FailureSummary string
}

// stableVerificationBody is the wire form of GenericWebStableVerificationEnvelope
// (cbusillo/launchplane control_plane/drivers/generic_web_dispatch.py @ 0e441a24836ecb8a624d47be6e36fb76382b1b6d):
// every key the model defines, no other.
type stableVerificationBody struct {
	SchemaVersion int                    `json:"schema_version"`
	Product       string                 `json:"product"`
	Verification  stableVerificationWire `json:"verification"`
}

type stableVerificationWire struct {
	SchemaVersion      int             `json:"schema_version"`
	Context            string          `json:"context"`
	Instance           string          `json:"instance"`
	DeploymentRecordID string          `json:"deployment_record_id"`
	PromotionRecordID  string          `json:"promotion_record_id"`
	VerificationStatus string          `json:"verification_status"`
	VerifiedAt         string          `json:"verified_at"`
	CheckedURLs        []string        `json:"checked_urls"`
	TimeoutSeconds     int64           `json:"timeout_seconds"`
	HealthPayload      json.RawMessage `json:"health_payload"`
	FailureSummary     string          `json:"failure_summary"`
}

// NewStableVerification builds the report in Launchplane's terms and returns it with notes
// saying where it differs from the verdict (a match reported as fail, a body not forwarded).
//
//   - A match is reported as pass with the tenant's whole health body, but only when
//     Launchplane's strict rules also see a match in that body (no short SHA, no extra keys, the
//     identity in the health body rather than only in well-known or headers); otherwise fail,
//     with a summary and a note.
//   - Every other verdict is fail with a one-line failure_summary; the body goes along only when
//     Launchplane accepts it (its own status is failing or malformed, or it strictly matches),
//     else health_payload is null.
//
// The error reports input that cannot make a request Launchplane accepts (a blank name, a
// zero time); nothing is sent then.
func NewStableVerification(in ReportInput) (Request, []string, error) {
	for _, f := range []struct{ name, val string }{
		{"product", in.Product}, {"context", in.Context}, {"instance", in.Instance}, {"deployment record id", in.RecordID},
	} {
		if reason := checkKey(f.val); reason != "" {
			return Request{}, nil, fmt.Errorf("launchplane: stable verification: the %s %s", f.name, reason)
		}
	}
	if in.VerifiedAt.IsZero() {
		return Request{}, nil, errors.New("launchplane: stable verification: the verification time is not set")
	}
	key, err := idempotencyKey(in)
	if err != nil {
		return Request{}, nil, err
	}

	var notes []string
	payload, fwd, why := forwardable(in)
	status, summary := StatusFail, ""
	switch {
	case in.Verdict == identity.StatusMatch && fwd.strict == identity.StatusMatch:
		status = StatusPass
	case in.Verdict == identity.StatusMatch:
		summary = "runtime identity matched by this verifier's rules, but " + why
		notes = append(notes, "reported to Launchplane as fail: "+why)
	default:
		summary = "runtime identity " + string(in.Verdict)
		if d := logtext.OneLine(in.Detail); d != "" {
			summary += ": " + d
		}
	}
	// The body goes only where Launchplane accepts it: exempt by its own status, or a strict
	// match (which also requires a recorded identity).
	send := payload != nil && (fwd.health.exempt() || (in.Expected != nil && fwd.strict == identity.StatusMatch))
	if payload != nil && !send && status == StatusFail && in.Verdict != identity.StatusMatch {
		notes = append(notes, "the tenant's health body was not sent to Launchplane: "+why)
	}
	raw := json.RawMessage("null")
	if send {
		raw = payload
	}
	urls := []string{}
	if u := checkedURL(in.CheckedURL); u != "" {
		urls = append(urls, u)
	}
	summary = logtext.Truncate(logtext.OneLine(summary), maxSummaryRunes)
	body, err := marshalNoEscape(stableVerificationBody{
		SchemaVersion: 1,
		Product:       in.Product,
		Verification: stableVerificationWire{
			SchemaVersion:      1,
			Context:            in.Context,
			Instance:           in.Instance,
			DeploymentRecordID: in.RecordID,
			VerificationStatus: status,
			VerifiedAt:         identity.FormatTime(in.VerifiedAt),
			CheckedURLs:        urls,
			TimeoutSeconds:     timeoutSeconds(in.Timeout),
			HealthPayload:      raw,
			FailureSummary:     summary,
		},
	})
	if err != nil {
		return Request{}, nil, fmt.Errorf("launchplane: stable verification: encode: %w", err)
	}
	return Request{
		Body:              body,
		IdempotencyKey:    key,
		Status:            status,
		RecordID:          in.RecordID,
		HealthPayloadSent: send,
		FailureSummary:    summary,
	}, notes, nil
}

// forwarded is what Launchplane would make of a forwardable body.
type forwarded struct {
	health healthState
	strict identity.Status
}

// forwardable returns the compacted body when it can be forwarded at all, what Launchplane
// would make of it, and, when it is not a strict match, why (for summaries and notes).
func forwardable(in ReportInput) (json.RawMessage, forwarded, string) {
	body := in.HealthBody
	none := forwarded{strict: identity.StatusMissing}
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		return nil, none, "the tenant's health endpoint returned no body for Launchplane to check"
	case len(body) > MaxForwardBytes:
		return nil, none, fmt.Sprintf("the tenant's health body is larger than the %d KiB Launchplane reads", MaxForwardBytes>>10)
	case in.Withhold != nil && in.Withhold(body):
		return nil, none, "the tenant's health body holds a secret value, so it is not forwarded"
	}
	v, ok := decodePy(body)
	if !ok {
		return nil, none, "the tenant's health body is not JSON Launchplane can read"
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return nil, none, "the tenant's health body is not JSON Launchplane can read"
	}
	fwd := forwarded{health: structuredHealth(v)}
	var detail string
	fwd.strict, detail = strictClassify(in.Expected, v)
	why := ""
	switch {
	case in.Expected == nil:
		why = "the deployment record has no runtime identity to check it against"
	case fwd.strict != identity.StatusMatch:
		why = "Launchplane's stricter rules read the health body as " + string(fwd.strict) + " (" + detail + ")"
	}
	return compact.Bytes(), fwd, why
}

// idempotencyKey is Launchplane's own key: prefix:product:context:instance:record:run:attempt,
// with a nonce in place of run and attempt outside Actions.
func idempotencyKey(in ReportInput) (string, error) {
	run := strconv.FormatInt(in.RunID, 10) + ":" + strconv.Itoa(max(in.RunAttempt, 1))
	if in.RunID <= 0 {
		r := in.Rand
		if r == nil {
			r = rand.Reader
		}
		var nonce [12]byte
		if _, err := io.ReadFull(r, nonce[:]); err != nil {
			return "", fmt.Errorf("launchplane: stable verification: idempotency nonce: %w", err)
		}
		run = "local-" + hex.EncodeToString(nonce[:])
	}
	key := strings.Join([]string{IdempotencyKeyPrefix, in.Product, in.Context, in.Instance, in.RecordID, run}, ":")
	if reason := checkHeaderValue(key); reason != "" {
		return "", fmt.Errorf("launchplane: stable verification: the idempotency key %s", reason)
	}
	return key, nil
}

// timeoutSeconds rounds d up to whole seconds, at least 1 (Launchplane requires ≥ 1).
func timeoutSeconds(d time.Duration) int64 {
	s := int64(math.Ceil(d.Seconds()))
	return max(s, 1)
}

// checkedURL drops credentials, query and fragment from the probed URL, and returns "" for
// anything that is not an absolute http(s) URL.
func checkedURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// marshalNoEscape encodes v as compact JSON without HTML escaping and without a newline.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
