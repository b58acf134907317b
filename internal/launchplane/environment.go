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

// Environment is one lane of a product as Launchplane's product read model describes it: where
// it serves and which runtime identity it should report. A pull-request check can verify a lane
// from it alone, without a deployment record id.
type Environment struct {
	// Product is the product key, checked to be the one requested.
	Product string
	// Environment is the lane's instance (the environment name asked for), e.g. testing.
	Environment string
	// Context is the lane's context.
	Context string
	// BaseURL and HealthURL are the lane's public URLs from the product profile; either may be
	// empty when the profile does not set it.
	BaseURL, HealthURL string
	// Expected is target.expected_runtime_identity: the identity of the lane's current
	// deployment record; nil when Launchplane has none for the lane.
	Expected *identity.Identity
	// UnknownKeys lists keys of the expected identity outside the contract, sorted.
	UnknownKeys []string
	// ObservedStatus and ObservedDetail are Launchplane's own last verdict on the lane
	// (target.runtime_identity_status and runtime_identity_detail), for notes only.
	ObservedStatus, ObservedDetail string
	// TrustState is target.trust_state: verified, recorded, stale, missing or unsupported.
	TrustState string
	// Warnings are the read model's warnings, cleaned to single lines.
	Warnings []string
	// TraceID is the envelope's trace_id.
	TraceID string
	// URL is the environment's API URL, for evidence links.
	URL string
}

// ProductEnvironment reads one lane of a product: its base and health URLs and the runtime
// identity it should report. The error matches ErrNotFound for an unknown product or
// environment, ErrUnauthorized for a refused token, ErrInvalidIdentity for an expected identity
// that breaks the contract and ErrRecordMismatch for an answer about another product or
// environment.
//
// Launchplane API: GET /v1/products/{product}/environments/{environment}
// (product_environment.read), answered as ProductEnvironmentResponse
// {"status":"ok","trace_id",…,"environment":ProductEnvironmentDetail} (cbusillo/launchplane
// control_plane/http_routes/products.py @ 00086a04be7571bd0de73ca06ca1993d4560cb78,
// control_plane/contracts/product_environment_read_model.py @ 0d856d23c153b513e556a74dfe9315005d2ce7ee).
func (c *Client) ProductEnvironment(ctx context.Context, product, environment string) (*Environment, error) {
	for _, f := range []struct{ name, val string }{{"product", product}, {"environment", environment}} {
		if reason := checkKey(f.val); reason != "" {
			return nil, fmt.Errorf("launchplane: read product environment: the %s %s", f.name, reason)
		}
	}
	op := "read environment " + environment + " of product " + product
	e, u, err := read(ctx, c, op, "/v1/products/"+url.PathEscape(product)+"/environments/"+url.PathEscape(environment), func(data []byte) (*Environment, error) { return parseEnvironment(data, product, environment) })
	if err != nil {
		return nil, err
	}
	e.URL = u
	return e, nil
}

// environmentEnvelope is the fields of ProductEnvironmentResponse this client reads.
type environmentEnvelope struct {
	Status      string          `json:"status"`
	TraceID     json.RawMessage `json:"trace_id"`
	Environment json.RawMessage `json:"environment"`
}

// environmentFields are the fields of ProductEnvironmentReadModel this client reads; product and
// environment are read apart, by their exact keys (see exactString).
type environmentFields struct {
	Context   string   `json:"context"`
	BaseURL   string   `json:"base_url"`
	HealthURL string   `json:"health_url"`
	Warnings  []string `json:"warnings"`
	Target    *struct {
		Expected       json.RawMessage `json:"expected_runtime_identity"`
		ObservedStatus string          `json:"runtime_identity_status"`
		ObservedDetail string          `json:"runtime_identity_detail"`
		TrustState     string          `json:"trust_state"`
	} `json:"target"`
}

// parseEnvironment reads the envelope for product and environment. Its input is untrusted; its
// errors never repeat the body.
func parseEnvironment(data []byte, product, environment string) (*Environment, error) {
	var env environmentEnvelope
	if v := bytes.TrimSpace(data); len(v) == 0 || v[0] != '{' || json.Unmarshal(v, &env) != nil {
		return nil, fmt.Errorf("%w: the body is not a product environment envelope", ErrBadResponse)
	}
	var got environmentFields
	gotProduct, hasProduct := exactString(env.Environment, "product")
	gotEnvironment, hasEnvironment := exactString(env.Environment, "environment")
	if env.Status != "ok" || !hasProduct || !hasEnvironment || json.Unmarshal(env.Environment, &got) != nil || got.Target == nil {
		return nil, fmt.Errorf("%w: the envelope has no environment with a target", ErrBadResponse)
	}
	if gotProduct != product || gotEnvironment != environment {
		return nil, fmt.Errorf("%w: it describes environment %q of product %q", ErrRecordMismatch, clean(gotEnvironment, ""), clean(gotProduct, ""))
	}
	id, unknown, err := expectedIdentity(got.Target.Expected, "target.expected_runtime_identity")
	if err != nil {
		return nil, err
	}
	e := &Environment{
		Product:        product,
		Environment:    environment,
		Context:        got.Context,
		BaseURL:        got.BaseURL,
		HealthURL:      got.HealthURL,
		Expected:       id,
		UnknownKeys:    unknown,
		ObservedStatus: clean(got.Target.ObservedStatus, ""),
		ObservedDetail: clean(got.Target.ObservedDetail, ""),
		TrustState:     clean(got.Target.TrustState, ""),
		TraceID:        clean(logtext.JSONString(env.TraceID), ""),
	}
	for _, w := range got.Warnings {
		e.Warnings = append(e.Warnings, clean(w, ""))
	}
	return e, nil
}
