package launchplane_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/launchplane"
	"github.com/launchplane/runtime-identity/internal/launchplane/launchplanetest"
)

// fleetProducts are a generic-web and an Odoo product whose lanes cover each way a lane can ask
// for its runtime identity, or not.
func fleetProducts() []launchplanetest.Product {
	return []launchplanetest.Product{
		{
			Product: "shop", DisplayName: "Shop", Repository: "acme/shop", DriverID: "generic-web",
			Lanes: []launchplanetest.Lane{
				{
					Instance: "prod", Context: "shop", BaseURL: "https://shop.example.com", MonitoringIntent: "public",
					Checks: []launchplanetest.HealthCheck{
						{Name: "public-ingress", RequireRuntimeIdentity: true},
						{Name: "status page", URL: "https://status.shop.example.com/h"},
					},
				},
				{
					Instance: "testing", Context: "shop", BaseURL: "https://testing.shop.example.com",
					HealthURL: "https://testing.shop.example.com/api/health",
					Checks:    []launchplanetest.HealthCheck{{Name: "public-ingress", RequireRuntimeIdentity: true, Disabled: true}},
				},
				// The Odoo policy defaults to required, but applies to Odoo products only.
				{Instance: "pr-42", Context: "shop-preview"},
			},
		},
		{
			Product: "cm", DisplayName: "CM Odoo", Repository: "acme/cm", DriverID: "odoo",
			Lanes: []launchplanetest.Lane{
				{Instance: "testing", Context: "cm", BaseURL: "https://cm-testing.example.com", HealthURL: "https://cm-testing.example.com/web/health"},
				{Instance: "prod", Context: "cm", BaseURL: "https://cm.example.com", OdooIdentityOptional: true},
				{
					Instance: "staging", Context: "cm", BaseURL: "https://cm-staging.example.com",
					MonitoringIntent: "private",
					Checks: []launchplanetest.HealthCheck{
						{Name: "inner", Kind: "private_http", PrivateEndpointKey: "cm-staging", RequireRuntimeIdentity: true},
					},
				},
			},
		},
	}
}

func TestProductProfile(t *testing.T) {
	t.Parallel()
	srv, c, _ := fakeWith(t)
	for _, p := range fleetProducts() {
		srv.AddProduct(p)
	}
	tests := []struct {
		product string
		want    launchplane.Profile
	}{
		{"shop", launchplane.Profile{
			Product: "shop", DriverID: "generic-web", HealthPath: "/api/health",
			Lanes: []launchplane.ProfileLane{
				{Instance: "prod", Context: "shop", BaseURL: "https://shop.example.com", RequireIdentity: true, RequiredBy: []string{"health check public-ingress"}},
				{Instance: "testing", Context: "shop", BaseURL: "https://testing.shop.example.com", HealthURL: "https://testing.shop.example.com/api/health"},
				{Instance: "pr-42", Context: "shop-preview"},
			},
		}},
		{"cm", launchplane.Profile{
			Product: "cm", DriverID: "odoo", HealthPath: "/web/health",
			Lanes: []launchplane.ProfileLane{
				{Instance: "testing", Context: "cm", BaseURL: "https://cm-testing.example.com", HealthURL: "https://cm-testing.example.com/web/health", RequireIdentity: true, RequiredBy: []string{"odoo_data_policy"}},
				{Instance: "prod", Context: "cm", BaseURL: "https://cm.example.com"},
				{Instance: "staging", Context: "cm", BaseURL: "https://cm-staging.example.com", RequireIdentity: true, RequiredBy: []string{"health check inner", "odoo_data_policy"}},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.product, func(t *testing.T) {
			got, err := c.ProductProfile(context.Background(), tt.product)
			if err != nil {
				t.Fatalf("ProductProfile() = %v", err)
			}
			if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreFields(launchplane.Profile{}, "TraceID", "URL")); diff != "" {
				t.Errorf("ProductProfile() (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(got.TraceID, "launchplane_req_") || got.URL != srv.URL()+"/v1/product-profiles/"+tt.product {
				t.Errorf("ProductProfile() TraceID %q, URL %q", got.TraceID, got.URL)
			}
		})
	}
	var paths []string
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer eyJ") {
			t.Errorf("request = %s %s %v", r.Method, r.Path, r.Header)
		}
		paths = append(paths, r.Path)
	}
	if diff := cmp.Diff([]string{"/v1/product-profiles/shop", "/v1/product-profiles/cm"}, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

// TestProductProfileRefusals checks each refusal's typed error: status, code and trace_id as
// fields, matched by sentinel, and no retry.
func TestProductProfileRefusals(t *testing.T) {
	t.Parallel()
	readEnvironmentsOnly := launchplanetest.WithPolicy(launchplanetest.Policy{Rules: []launchplanetest.Rule{{
		Repository: launchplanetest.DefaultClaims().Repository, Actions: []string{"product_environment.read", "deployment.read"},
	}}})
	tests := []struct {
		name     string
		opts     []launchplanetest.Option
		product  string
		token    string // "" = a valid token
		sentinel error
		status   int
		code     string
	}{
		{"unknown product", nil, "nope", "", launchplane.ErrNotFound, 404, launchplane.CodeNotFound},
		{"not granted product_profile.read", []launchplanetest.Option{readEnvironmentsOnly}, "sellyouroutboard", "", launchplane.ErrUnauthorized, 403, launchplane.CodeAuthorizationDenied},
		{"unknown product before authorization", []launchplanetest.Option{readEnvironmentsOnly}, "nope", "", launchplane.ErrNotFound, 404, launchplane.CodeNotFound},
		{"bad token", nil, "sellyouroutboard", "not-a-jwt", launchplane.ErrUnauthorized, 401, launchplane.CodeAuthenticationRequired},
		{"no database", []launchplanetest.Option{launchplanetest.WithoutDatabase()}, "sellyouroutboard", "", launchplane.ErrStorageRequired, 503, launchplane.CodeDatabaseStorageRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := fakeWith(t, tt.opts...)
			if tt.token != "" {
				var err error
				if c, err = launchplane.New(srv.URL(), launchplane.StaticToken(tt.token)); err != nil {
					t.Fatal(err)
				}
			}
			_, err := c.ProductProfile(context.Background(), tt.product)
			var ae *launchplane.APIError
			if !errors.Is(err, tt.sentinel) || !errors.As(err, &ae) {
				t.Fatalf("ProductProfile() = %v, want %v as *APIError", err, tt.sentinel)
			}
			if ae.StatusCode != tt.status || ae.Code != tt.code || !strings.HasPrefix(ae.TraceID, "launchplane_req_") {
				t.Errorf("APIError = %+v, want %d %s with a trace_id", ae, tt.status, tt.code)
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("requests = %d, want 1 (refusals are not retried)", n)
			}
		})
	}
}

// TestProductProfileRetries checks the read goes through the same retry policy as the others.
func TestProductProfileRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     func(*launchplanetest.Server)
		wantErr   bool
		wantSleep []time.Duration
		wantReqs  int
	}{
		{"two 503 then ok", func(s *launchplanetest.Server) { s.FailNext(2, 503) }, false, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}, 3},
		{"three 502 give up", func(s *launchplanetest.Server) { s.FailNext(3, 502) }, true, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}, 3},
		{"dropped connection", func(s *launchplanetest.Server) { s.DropNext(1) }, false, []time.Duration{250 * time.Millisecond}, 2},
		{"429 waits its Retry-After", func(s *launchplanetest.Server) { s.FailNextRetryAfter(1, 429, "3") }, false, []time.Duration{3 * time.Second}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c, clk := fakeWith(t)
			tt.fault(srv)
			p, err := c.ProductProfile(context.Background(), "sellyouroutboard")
			if (err != nil) != tt.wantErr {
				t.Errorf("ProductProfile() = %+v, %v; want error %v", p, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantSleep, clk.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if n := len(srv.Requests()); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
		})
	}
}

// TestProductProfileRefusesBadProduct checks a product that cannot be a path segment is refused
// before any request.
func TestProductProfileRefusesBadProduct(t *testing.T) {
	t.Parallel()
	for _, product := range []string{"", "a b", "..", "shop\n", strings.Repeat("p", 300)} {
		srv, c, _ := fakeWith(t)
		if _, err := c.ProductProfile(context.Background(), product); err == nil {
			t.Errorf("ProductProfile(%q) = nil error, want a refusal", product)
		}
		if n := len(srv.Requests()); n != 0 {
			t.Errorf("ProductProfile(%q) sent %d requests, want 0", product, n)
		}
	}
}

// TestProductProfileTokenNeverInErrors plants a token the fake echoes into its refusal.
func TestProductProfileTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	const tok = "lp-static-s3cr3t-token-value"
	srv := launchplanetest.NewServer(t, launchplanetest.WithEchoedToken(), launchplanetest.WithStaticToken(tok, launchplanetest.StaticRule{}))
	c, err := launchplane.New(srv.URL(), launchplane.StaticToken(tok), launchplane.WithSleep(clocktest.New().Sleep))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ProductProfile(context.Background(), "nope")
	if !errors.Is(err, launchplane.ErrNotFound) {
		t.Fatalf("ProductProfile() = %v, want ErrNotFound", err)
	}
	if strings.Contains(err.Error(), tok[:10]) {
		t.Errorf("error %q holds the token", err)
	}
	if reqs := srv.Requests(); reqs[0].Header.Get("Authorization") != "Bearer "+tok {
		t.Fatal("the fake did not receive the planted token")
	}
}
