package launchplane

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Profile is a product profile as Launchplane's product profile read returns it, reduced to what
// a fleet inventory needs: the product's lanes, where they serve, and which of them must report
// their runtime identity.
type Profile struct {
	// Product is the profile's product key, checked to be the one requested.
	Product string
	// DriverID is the product's driver, such as generic-web or odoo.
	DriverID string
	// HealthPath is the profile's health path, such as /api/health; "" for a product without a
	// runtime port.
	HealthPath string
	// Lanes are the profile's lanes, in its order.
	Lanes []ProfileLane
	// TraceID is the envelope's trace_id.
	TraceID string
	// URL is the profile's API URL, for evidence links.
	URL string
}

// ProfileLane is one lane of a product profile (ProductLaneProfile). Its strings are as
// Launchplane stores them: callers check names and URLs before they use them.
type ProfileLane struct {
	// Instance and Context name the lane; Launchplane names its environment by the instance.
	Instance, Context string
	// BaseURL and HealthURL are the lane's public URLs; either may be empty.
	BaseURL, HealthURL string
	// RequireIdentity is true when Launchplane requires the lane to report its runtime
	// identity: an enabled health check with require_runtime_identity, or, for an Odoo product,
	// the lane's odoo_data_policy.requires_runtime_identity.
	RequireIdentity bool
	// RequiredBy names each rule that requires it, for messages: "health check NAME" or
	// "odoo_data_policy". Empty when RequireIdentity is false.
	RequiredBy []string
}

// ProductProfile reads a product's profile: its lanes with their URLs and whether each must
// report its runtime identity. The error matches ErrNotFound for an unknown product,
// ErrUnauthorized for a refused token, ErrStorageRequired for an instance without its database
// and ErrRecordMismatch for an answer about another product.
//
// Launchplane API: GET /v1/product-profiles/{product} (product_profile.read, checked for the
// profile's product and context "launchplane"), answered as ProductProfileResponse
// {"status":"ok","trace_id",…,"profile":LaunchplaneProductProfileRecord} (cbusillo/launchplane
// control_plane/http_routes/products.py @ 7d881dfc6e219de573749f78fe199d392e21e79f,
// read_product_profile; the record model is control_plane/contracts/product_profile_record.py,
// the revision with lanes[].health_monitoring, index file version 57369773672, whose commit the
// index did not report).
//
// Which lanes require their identity follows Launchplane's own readers of the profile: the
// public-ingress monitor skips disabled checks and carries each enabled check's
// require_runtime_identity (discover_public_ingress_monitor_targets in
// control_plane/workflows/public_ingress_monitor.py, index file version 57357228717), and the Odoo data policy applies only to products whose driver is odoo
// (_environment_driver_extensions in control_plane/contracts/product_environment_read_model.py,
// index file version 57440724459). A product whose driver merely declares odoo as its base
// driver is not recognised: the profile does not say so.
func (c *Client) ProductProfile(ctx context.Context, product string) (*Profile, error) {
	if reason := checkKey(product); reason != "" {
		return nil, fmt.Errorf("launchplane: read product profile: the product %s", reason)
	}
	op := "read product profile " + product
	p, u, err := read(ctx, c, op, "/v1/product-profiles/"+url.PathEscape(product), func(data []byte) (*Profile, error) { return parseProfile(data, product) })
	if err != nil {
		return nil, err
	}
	p.URL = u
	return p, nil
}

// profileEnvelope is the fields of ProductProfileResponse this client reads.
type profileEnvelope struct {
	Status  string          `json:"status"`
	TraceID json.RawMessage `json:"trace_id"`
	Profile json.RawMessage `json:"profile"`
}

// profileFields are the fields of ProductProfile this client reads; product is read apart, by
// its exact key (see exactString).
type profileFields struct {
	DriverID   string         `json:"driver_id"`
	HealthPath string         `json:"health_path"`
	Lanes      []*profileLane `json:"lanes"`
}

// profileLane is the fields of ProductLaneProfile this client reads. A missing policy object is
// a model without it, which requires nothing; a missing flag inside one takes the model's
// default.
type profileLane struct {
	Instance       *string `json:"instance"`
	Context        *string `json:"context"`
	BaseURL        string  `json:"base_url"`
	HealthURL      string  `json:"health_url"`
	OdooDataPolicy *struct {
		RequiresRuntimeIdentity *bool `json:"requires_runtime_identity"` // default true
	} `json:"odoo_data_policy"`
	HealthMonitoring *struct {
		Checks []*struct {
			Name                   string `json:"name"`
			Enabled                *bool  `json:"enabled"` // default true
			RequireRuntimeIdentity bool   `json:"require_runtime_identity"`
		} `json:"checks"`
	} `json:"health_monitoring"`
}

// parseProfile reads the envelope for product. Its input is untrusted; its errors never repeat
// the body.
func parseProfile(data []byte, product string) (*Profile, error) {
	var env profileEnvelope
	if v := bytes.TrimSpace(data); len(v) == 0 || v[0] != '{' || json.Unmarshal(v, &env) != nil {
		return nil, fmt.Errorf("%w: the body is not a product profile envelope", ErrBadResponse)
	}
	var got profileFields
	gotProduct, named := exactString(env.Profile, "product")
	if v := bytes.TrimSpace(env.Profile); env.Status != "ok" || !named || v[0] != '{' || json.Unmarshal(v, &got) != nil {
		return nil, fmt.Errorf("%w: the envelope has no product profile", ErrBadResponse)
	}
	if gotProduct != product {
		return nil, fmt.Errorf("%w: it describes product %q", ErrRecordMismatch, clean(gotProduct, ""))
	}
	p := &Profile{
		Product:    product,
		DriverID:   clean(got.DriverID, ""),
		HealthPath: got.HealthPath,
		Lanes:      make([]ProfileLane, 0, len(got.Lanes)),
		TraceID:    clean(logtext.JSONString(env.TraceID), ""),
	}
	for i, l := range got.Lanes {
		if l == nil || l.Instance == nil || l.Context == nil {
			return nil, fmt.Errorf("%w: lane %d has no instance or context", ErrBadResponse, i)
		}
		lane := ProfileLane{Instance: *l.Instance, Context: *l.Context, BaseURL: l.BaseURL, HealthURL: l.HealthURL}
		if l.HealthMonitoring != nil {
			for _, chk := range l.HealthMonitoring.Checks {
				if chk != nil && (chk.Enabled == nil || *chk.Enabled) && chk.RequireRuntimeIdentity {
					lane.RequiredBy = append(lane.RequiredBy, "health check "+clean(chk.Name, ""))
				}
			}
		}
		if got.DriverID == "odoo" && l.OdooDataPolicy != nil &&
			(l.OdooDataPolicy.RequiresRuntimeIdentity == nil || *l.OdooDataPolicy.RequiresRuntimeIdentity) {
			lane.RequiredBy = append(lane.RequiredBy, "odoo_data_policy")
		}
		lane.RequireIdentity = len(lane.RequiredBy) > 0
		p.Lanes = append(p.Lanes, lane)
	}
	return p, nil
}
