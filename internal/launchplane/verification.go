package launchplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Verification is the evidence of one stable verification of a generic-web lane.
type Verification struct {
	// Product is the Launchplane product, e.g. sellyouroutboard. Required.
	Product string
	// Context and Instance name the lane. Required.
	Context, Instance string
	// DeploymentRecordID is the deployment verified. Required.
	DeploymentRecordID string
	// PromotionRecordID is the promotion that led to it, when there is one.
	PromotionRecordID string
	// Status is the verification_status Launchplane records. Required.
	Status string
	// VerifiedAt is when the verification ended; sent in UTC to the second. Required.
	VerifiedAt time.Time
	// CheckedURLs lists the URLs probed.
	CheckedURLs []string
	// TimeoutSeconds is the verification deadline.
	TimeoutSeconds int
	// HealthPayload is the raw JSON object the tenant's health endpoint returned, which
	// Launchplane reclassifies against the recorded identity; nil sends null.
	HealthPayload json.RawMessage
	// FailureSummary says what failed; empty on success.
	FailureSummary string
}

// verificationBody is the wire form: {product, verification:{…}}.
type verificationBody struct {
	Product      string           `json:"product"`
	Verification verificationWire `json:"verification"`
}

type verificationWire struct {
	Context            string          `json:"context"`
	Instance           string          `json:"instance"`
	DeploymentRecordID string          `json:"deployment_record_id"`
	PromotionRecordID  string          `json:"promotion_record_id,omitempty"`
	VerificationStatus string          `json:"verification_status"`
	VerifiedAt         string          `json:"verified_at"`
	CheckedURLs        []string        `json:"checked_urls"`
	TimeoutSeconds     int             `json:"timeout_seconds"`
	HealthPayload      json.RawMessage `json:"health_payload"`
	FailureSummary     string          `json:"failure_summary"`
}

// writeEnvelope is {"status":"accepted","trace_id":…,"records":{…},"result":{…}}.
type writeEnvelope struct {
	Status  string          `json:"status"`
	TraceID json.RawMessage `json:"trace_id"`
}

// ReportVerification submits v and returns Launchplane's trace_id. idempotencyKey is sent as
// the Idempotency-Key header; use a deterministic key such as
// stable-verification:<product>:<instance>:<run_id>:<run_attempt>, so that replaying an unsure
// report is safe. The request is never retried after a transport error or a 5xx (the error
// matches ErrOutcomeUnknown); a 429 asking for at most MaxRetryAfter is retried once. A replay
// of the key with another payload matches ErrConflict.
//
// Launchplane API: POST /v1/drivers/generic-web/stable-verification.
func (c *Client) ReportVerification(ctx context.Context, v Verification, idempotencyKey string) (traceID string, err error) {
	const op = "report stable verification"
	if err := v.check(); err != nil {
		return "", fmt.Errorf("launchplane: %s: %w", op, err)
	}
	if reason := checkKey(idempotencyKey); reason != "" {
		return "", fmt.Errorf("launchplane: %s: the idempotency key %s", op, reason)
	}
	payload := v.HealthPayload
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	urls := v.CheckedURLs
	if urls == nil {
		urls = []string{}
	}
	body, err := json.Marshal(verificationBody{
		Product: v.Product,
		Verification: verificationWire{
			Context:            v.Context,
			Instance:           v.Instance,
			DeploymentRecordID: v.DeploymentRecordID,
			PromotionRecordID:  v.PromotionRecordID,
			VerificationStatus: v.Status,
			VerifiedAt:         identity.FormatTime(v.VerifiedAt),
			CheckedURLs:        urls,
			TimeoutSeconds:     v.TimeoutSeconds,
			HealthPayload:      payload,
			FailureSummary:     v.FailureSummary,
		},
	})
	if err != nil {
		return "", fmt.Errorf("launchplane: %s: encode request: %w", op, err)
	}
	u, err := c.endpoint("v1/drivers/generic-web/stable-verification")
	if err != nil {
		return "", fmt.Errorf("launchplane: %s: %w", op, err)
	}
	data, err := c.do(ctx, call{
		op: op, method: http.MethodPost, url: u, body: body,
		headers: map[string]string{"Idempotency-Key": idempotencyKey},
	})
	if err != nil {
		return "", err
	}
	var env writeEnvelope
	if json.Unmarshal(data, &env) != nil || env.Status != "accepted" {
		return "", fmt.Errorf("launchplane: %s: %w: not an accepted envelope", op, ErrBadResponse)
	}
	return clean(logtext.JSONString(env.TraceID), ""), nil
}

// check returns an error naming the first missing or unusable field.
func (v Verification) check() error {
	for _, f := range []struct{ name, val string }{
		{"product", v.Product},
		{"context", v.Context},
		{"instance", v.Instance},
		{"deployment_record_id", v.DeploymentRecordID},
		{"verification_status", v.Status},
	} {
		if strings.TrimSpace(f.val) == "" {
			return fmt.Errorf("%s is empty", f.name)
		}
	}
	if v.VerifiedAt.IsZero() {
		return errors.New("verified_at is not set")
	}
	if v.TimeoutSeconds < 0 {
		return errors.New("timeout_seconds is negative")
	}
	if len(v.HealthPayload) > 0 && !json.Valid(v.HealthPayload) {
		return errors.New("health_payload is not valid JSON")
	}
	return nil
}
