package launchplane

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Accepted is Launchplane's answer to an accepted stable verification (AcceptedEvidenceResponse,
// cbusillo/launchplane control_plane/http_routes/mutation_support.py @ 0d96165c2fb73aed7390efebcf22f2b8dfcd3dfe).
type Accepted struct {
	// TraceID is this answer's trace_id.
	TraceID string
	// Replayed is true when Launchplane answered from an earlier accepted pass under the same
	// Idempotency-Key and body; OriginalTraceID is that answer's trace_id.
	Replayed        bool
	OriginalTraceID string
	// DeploymentHealthStatus is result.deployment_health_status: the health Launchplane recorded
	// on the deployment (pass or fail), after its own reclassification.
	DeploymentHealthStatus string
	// Records are the envelope's records (deployment_record_id, inventory_record_id, …), cleaned.
	Records map[string]string
}

// acceptedEnvelope is the part of AcceptedEvidenceResponse this client reads.
type acceptedEnvelope struct {
	Status          string                     `json:"status"`
	TraceID         json.RawMessage            `json:"trace_id"`
	Records         map[string]json.RawMessage `json:"records"`
	Result          map[string]json.RawMessage `json:"result"`
	Replayed        *bool                      `json:"replayed"`
	OriginalTraceID json.RawMessage            `json:"original_trace_id"`
}

// PostStableVerification sends req, built by NewStableVerification. The body and the
// Idempotency-Key are exactly req's on every attempt, so sending the same req again after an
// error matching ErrOutcomeUnknown is safe: Launchplane replays an accepted pass, and a fail it
// did not store is simply recorded again. The request is never retried after a transport error
// or a 5xx; a 429 asking for at most MaxRetryAfter is retried once. The error carries the
// service's code, trace_id and status (*APIError): ErrInvalidRequest for a body the service
// refused, ErrProductDriverMismatch for a product without this generic-web lane, ErrUnauthorized
// for a token it did not accept or allow, ErrConflict for a key reused with another body.
//
// Launchplane API: POST /v1/drivers/generic-web/stable-verification (deployment.write on the
// lane), answered 202 (cbusillo/launchplane control_plane/http_routes/generic_web.py
// @ 059f83d92bdd702642fedcc7e0e5c0ae13a0dc18).
func (c *Client) PostStableVerification(ctx context.Context, req Request) (*Accepted, error) {
	op := "report stable verification of " + req.RecordID
	if len(req.Body) == 0 || !json.Valid(req.Body) {
		return nil, fmt.Errorf("launchplane: %s: the request body is not JSON; build it with NewStableVerification", op)
	}
	if reason := checkHeaderValue(req.IdempotencyKey); reason != "" {
		return nil, fmt.Errorf("launchplane: %s: the idempotency key %s", op, reason)
	}
	u, err := c.endpoint("/v1/drivers/generic-web/stable-verification")
	if err != nil {
		return nil, fmt.Errorf("launchplane: %s: %w", op, err)
	}
	data, err := c.do(ctx, call{
		op: op, method: http.MethodPost, url: u, body: req.Body,
		headers: map[string]string{"Idempotency-Key": req.IdempotencyKey},
	})
	if err != nil {
		return nil, err
	}
	a, err := parseAccepted(data)
	if err != nil {
		return nil, fmt.Errorf("launchplane: %s: %w", op, err)
	}
	return a, nil
}

// parseAccepted reads an accepted envelope. Its input is untrusted.
func parseAccepted(data []byte) (*Accepted, error) {
	var env acceptedEnvelope
	if json.Unmarshal(data, &env) != nil || env.Status != "accepted" {
		return nil, fmt.Errorf("%w: not an accepted envelope", ErrBadResponse)
	}
	a := &Accepted{
		TraceID:         clean(logtext.JSONString(env.TraceID), ""),
		Replayed:        env.Replayed != nil && *env.Replayed,
		OriginalTraceID: clean(logtext.JSONString(env.OriginalTraceID), ""),
		Records:         map[string]string{},
	}
	if raw, ok := env.Result["deployment_health_status"]; ok {
		a.DeploymentHealthStatus = clean(logtext.JSONString(raw), "")
	}
	keys := make([]string, 0, len(env.Records))
	for k := range env.Records {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := logtext.JSONString(env.Records[k]); v != "" {
			a.Records[clean(k, "")] = clean(v, "")
		}
	}
	return a, nil
}
