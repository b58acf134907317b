package launchplane

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseProfile pins what the client makes of answers the fake never gives: another
// product, a body of the wrong shape, a model without the policy objects, and flags left to
// the model's defaults.
func TestParseProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantErr error
		want    []ProfileLane
	}{
		{"another product", `{"status":"ok","profile":{"product":"other","lanes":[]}}`, ErrRecordMismatch, nil},
		{"another product, then the product in another case", `{"status":"ok","profile":{"product":"other","PRODUCT":"p","lanes":[]}}`, ErrRecordMismatch, nil},
		{"the product in another case only", `{"status":"ok","profile":{"Product":"p","lanes":[]}}`, ErrBadResponse, nil},
		{"product null", `{"status":"ok","profile":{"product":null,"lanes":[]}}`, ErrBadResponse, nil},
		{"not an envelope", `{"status":"ok","record":{}}`, ErrBadResponse, nil},
		{"rejected", `{"status":"rejected","trace_id":"t","error":{"code":"x"}}`, ErrBadResponse, nil},
		{"lane without context", `{"status":"ok","profile":{"product":"p","lanes":[{"instance":"prod"}]}}`, ErrBadResponse, nil},
		{"lane of the wrong type", `{"status":"ok","profile":{"product":"p","lanes":["prod"]}}`, ErrBadResponse, nil},
		{"url of the wrong type", `{"status":"ok","profile":{"product":"p","lanes":[{"instance":"prod","context":"p","base_url":7}]}}`, ErrBadResponse, nil},
		{"older model without policies", `{"status":"ok","profile":{"product":"p","driver_id":"odoo","lanes":[{"instance":"prod","context":"p"}]}}`, nil,
			[]ProfileLane{{Instance: "prod", Context: "p"}}},
		{"odoo policy flag left to its default", `{"status":"ok","profile":{"product":"p","driver_id":"odoo","lanes":[{"instance":"prod","context":"p","odoo_data_policy":{}}]}}`, nil,
			[]ProfileLane{{Instance: "prod", Context: "p", RequireIdentity: true, RequiredBy: []string{"odoo_data_policy"}}}},
		{"odoo policy on a generic-web product", `{"status":"ok","profile":{"product":"p","driver_id":"generic-web","lanes":[{"instance":"prod","context":"p","odoo_data_policy":{"requires_runtime_identity":true}}]}}`, nil,
			[]ProfileLane{{Instance: "prod", Context: "p"}}},
		{"check enabled by default", `{"status":"ok","profile":{"product":"p","lanes":[{"instance":"prod","context":"p","health_monitoring":{"checks":[{"name":"up","require_runtime_identity":true}]}}]}}`, nil,
			[]ProfileLane{{Instance: "prod", Context: "p", RequireIdentity: true, RequiredBy: []string{"health check up"}}}},
		{"check name cleaned", `{"status":"ok","profile":{"product":"p","lanes":[{"instance":"prod","context":"p","health_monitoring":{"checks":[{"name":"up\nnow","require_runtime_identity":true}]}}]}}`, nil,
			[]ProfileLane{{Instance: "prod", Context: "p", RequireIdentity: true, RequiredBy: []string{"health check up now"}}}},
		{"no lanes", `{"status":"ok","profile":{"product":"p"}}`, nil, []ProfileLane{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := parseProfile([]byte(tt.body), "p")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("parseProfile() = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseProfile() = %v", err)
			}
			if diff := cmp.Diff(tt.want, p.Lanes); diff != "" {
				t.Errorf("parseProfile() lanes (-want +got):\n%s", diff)
			}
		})
	}
}
