package inventory

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/summary"
)

func TestRunMixedFleet(t *testing.T) {
	t.Parallel()
	f := startFleet(t, mixedFleet())
	inv := Inventory{Source: FileSource{Data: f.lanesFile(t)}, SourceKind: SourceLanesFile, Prober: Prober{Concurrency: 3}}
	rep, err := inv.Run(context.Background())
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	want := map[string]identity.Status{
		"shop/shop/prod":    identity.StatusMatch,
		"shop/shop/testing": identity.StatusMismatch,
		"shop/shop/pr-42":   identity.StatusMatch,
		"blog/blog/prod":    identity.StatusMissing,
		"blog/blog/testing": identity.StatusMalformed,
		"crm/crm-eu/prod":   identity.StatusUnverifiable,
		"crm/crm-us/prod":   identity.StatusMismatch,
		"docs/docs/prod":    identity.StatusUnchecked,
	}
	if diff := cmp.Diff(want, statuses(rep)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	wantCounts := Counts{Unchecked: 1, Match: 2, Mismatch: 2, Missing: 1, Malformed: 1, Unverifiable: 1}
	if rep.Counts != wantCounts {
		t.Errorf("Counts = %+v, want %+v", rep.Counts, wantCounts)
	}
	if rep.RequiredNotMatching != 1 || rep.ExitCode() != ExitFailed {
		t.Errorf("RequiredNotMatching = %d, ExitCode() = %d; want 1 and %d (crm-eu is required and down)", rep.RequiredNotMatching, rep.ExitCode(), ExitFailed)
	}
	var keys []string
	for _, l := range rep.Lanes {
		keys = append(keys, l.Key())
	}
	wantKeys := []string{"blog/blog/prod", "blog/blog/testing", "crm/crm-eu/prod", "crm/crm-us/prod", "docs/docs/prod", "shop/shop/pr-42", "shop/shop/prod", "shop/shop/testing"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("lane order (-want +got):\n%s", diff)
	}
	byKey := map[string]LaneResult{}
	for _, l := range rep.Lanes {
		byKey[l.Key()] = l
		if got, want := l.TrustState, summary.TrustStateOf(l.Status, l.Expected != nil); got != want {
			t.Errorf("%s trust_state = %q, want %q", l.Key(), got, want)
		}
	}
	stale := byKey["shop/shop/testing"]
	if diff := cmp.Diff([]string{"deployment_record_id", "source_git_ref"}, stale.Mismatched); diff != "" {
		t.Errorf("stale lane mismatched_fields (-want +got):\n%s", diff)
	}
	if stale.TrustState != summary.TrustStale || stale.Surface != "health" || stale.HTTPStatus != 200 || !strings.HasSuffix(stale.URL, "/api/health") {
		t.Errorf("stale lane = trust %q surface %q status %d url %q; want stale, health, 200, …/api/health", stale.TrustState, stale.Surface, stale.HTTPStatus, stale.URL)
	}
	if strings.Contains(stale.URL, QueryParamForTest()) {
		t.Errorf("lane url %q keeps the probe's cache-busting query", stale.URL)
	}
	if base := byKey["shop/shop/pr-42"]; base.Surface != "well-known" {
		t.Errorf("base_url lane surface = %q, want well-known", base.Surface)
	}
	hostile := byKey["crm/crm-us/prod"]
	if !strings.Contains(string(hostile.Observed), "onerror") {
		t.Errorf("hostile lane observed_runtime_identity = %s; want it kept as reported", hostile.Observed)
	}
	if len(hostile.Notes) == 0 || !strings.Contains(strings.Join(hostile.Notes, " "), "keys this version does not know") {
		t.Errorf("hostile lane notes = %q; want the unknown key noted", hostile.Notes)
	}
	unchecked := byKey["docs/docs/prod"]
	if unchecked.TrustState != summary.TrustMissing || len(unchecked.Fields) == 0 {
		t.Errorf("unchecked lane trust %q with %d fields; want missing and what it serves listed", unchecked.TrustState, len(unchecked.Fields))
	}
	if rep.LanesTotal != 8 || rep.Shard != (Shard{0, 1}) || !strings.HasPrefix(rep.LanesDigest, "sha256:") {
		t.Errorf("report header = total %d shard %v digest %q", rep.LanesTotal, rep.Shard, rep.LanesDigest)
	}
}

// QueryParamForTest is the probe's cache-busting parameter name.
func QueryParamForTest() string { return "_launchplane_probe" }

func TestRunConfirmations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		serve         string
		confirmations int
		timeout       time.Duration
		wantStatus    identity.Status
		wantAttempts  int
		wantText      string
	}{
		{"one answer confirms", serveMatch, 1, 10 * time.Second, identity.StatusMatch, 1, ""},
		{"three answers confirm", serveMatch, 3, 10 * time.Second, identity.StatusMatch, 3, ""},
		{"a mismatch ends the lane at once", serveStale, 3, 10 * time.Second, identity.StatusMismatch, 1, ""},
		{"a flapping lane is the non-match it ends on", serveFlap, 2, 10 * time.Second, identity.StatusMismatch, 2, "1 answer(s) in a row matched"},
		{"not confirmed by the lane timeout", serveMatch, 5, time.Second, identity.StatusUnverifiable, 3, "3 of 5 consecutive answers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := startFleet(t, []fleetLane{{product: "shop", context: "shop", instance: "prod", serve: tt.serve}})
			clk := clocktest.New()
			inv := Inventory{
				Source: FileSource{Data: f.lanesFile(t)}, SourceKind: SourceLanesFile,
				Prober: Prober{Confirmations: tt.confirmations, Timeout: tt.timeout, Interval: 400 * time.Millisecond, Now: clk.Now, Sleep: clk.Sleep},
			}
			rep, err := inv.Run(context.Background())
			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}
			l := rep.Lanes[0]
			if l.Status != tt.wantStatus || l.Attempts != tt.wantAttempts {
				t.Errorf("status %s after %d rounds, want %s after %d (detail %q)", l.Status, l.Attempts, tt.wantStatus, tt.wantAttempts, l.Detail)
			}
			if text := l.Detail + " " + strings.Join(l.Notes, " "); !strings.Contains(text, tt.wantText) {
				t.Errorf("detail and notes %q, want them to mention %q", text, tt.wantText)
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	f := startFleet(t, mixedFleet())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	inv := Inventory{Source: FileSource{Data: f.lanesFile(t)}, SourceKind: SourceLanesFile}
	rep, err := inv.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() error = %v, want context.Canceled", err)
	}
	if rep == nil || rep.Counts.Unverifiable != len(mixedFleet()) {
		t.Fatalf("Run() report = %+v, want every lane unverifiable", rep)
	}
	if !strings.Contains(rep.Lanes[0].Detail, "cancelled") {
		t.Errorf("detail = %q, want it to say cancelled", rep.Lanes[0].Detail)
	}
	if n := f.hits.Load(); n != 0 {
		t.Errorf("tenants got %d requests after cancellation, want 0", n)
	}
}

// records is a RecordReader over a map that fails loudly on a record it does not know.
type records struct {
	byID map[string]*identity.Identity
	err  error
	t    *testing.T
}

func (r records) ExpectedIdentity(_ context.Context, id string) (*identity.Identity, error) {
	if r.err != nil {
		return nil, r.err
	}
	got, ok := r.byID[id]
	if !ok {
		r.t.Errorf("record %q read, but the test has no such record", id)
		return nil, errors.New("no such record")
	}
	return got, nil
}

func TestRunDeploymentRecords(t *testing.T) {
	t.Parallel()
	want := laneIdentity("shop", "shop", "prod")
	f := startFleet(t, []fleetLane{
		{product: "shop", context: "shop", instance: "prod", serve: serveMatch},
		{product: "shop", context: "shop", instance: "testing", serve: serveMatch},
	})
	srvProd, srvTesting := f.urls[0], f.urls[1]
	file := []byte(`lanes:
  - {product: shop, context: shop, instance: prod, health_url: "` + srvProd + `/api/health", deployment_record_id: ` + want.DeploymentRecordID + `, require_identity: true}
  - {product: shop, context: shop, instance: testing, health_url: "` + srvTesting + `/api/health", deployment_record_id: deployment-old}
`)
	tests := []struct {
		name       string
		records    RecordReader
		wantErr    any
		wantStatus map[string]identity.Status
	}{
		{
			name:       "records read",
			records:    records{byID: map[string]*identity.Identity{want.DeploymentRecordID: &want, "deployment-old": nil}},
			wantStatus: map[string]identity.Status{"shop/shop/prod": identity.StatusMatch, "shop/shop/testing": identity.StatusUnchecked},
		},
		{name: "Launchplane unreachable", records: records{err: errors.New("dial tcp: connection refused")}, wantErr: new(*SourceError)},
		{name: "no Launchplane configured", records: nil, wantErr: new(*InputError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, ok := tt.records.(records); ok {
				r.t = t
				tt.records = r
			}
			before := f.hits.Load()
			inv := Inventory{Source: FileSource{Data: file}, SourceKind: SourceLanesFile, Records: tt.records}
			rep, err := inv.Run(context.Background())
			if tt.wantErr != nil {
				if !errors.As(err, tt.wantErr) {
					t.Fatalf("Run() error = %v, want %T", err, tt.wantErr)
				}
				if n := f.hits.Load() - before; n != 0 {
					t.Errorf("tenants got %d requests, want none: nothing is probed when the expected identities cannot be read", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}
			if diff := cmp.Diff(tt.wantStatus, statuses(rep)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			prod := rep.Lanes[0]
			if prod.ExpectedFrom != ExpectedFromRecord || prod.DeploymentRecordID != want.DeploymentRecordID {
				t.Errorf("prod expected_from %q record %q, want %q and %q", prod.ExpectedFrom, prod.DeploymentRecordID, ExpectedFromRecord, want.DeploymentRecordID)
			}
			if n := strings.Join(rep.Lanes[1].Notes, " "); !strings.Contains(n, "carries no runtime identity") {
				t.Errorf("testing lane notes %q, want the empty record noted", n)
			}
		})
	}
}

func TestLaunchplaneSource(t *testing.T) {
	t.Parallel()
	f := startFleet(t, []fleetLane{
		{product: "shop", context: "shop", instance: "prod", serve: serveMatch},
		{product: "shop", context: "shop", instance: "testing", serve: serveStale},
	})
	expProd, expTesting := laneIdentity("shop", "shop", "prod"), laneIdentity("shop", "shop", "testing")
	profile := []ProfileLane{
		{Instance: "prod", Context: "shop", RequireIdentity: true},
		{Instance: "testing", Context: "shop"},
		{Instance: "staging", Context: "shop"},
	}
	envs := map[string]ProductEnvironment{
		"prod":    {Context: "shop", HealthURL: f.urls[0] + "/api/health", BaseURL: f.urls[0], Expected: &expProd},
		"testing": {Context: "shop", BaseURL: f.urls[1], Expected: &expTesting},
		"staging": {Context: "shop"},
	}
	good := LaunchplaneSource{
		Product: "shop",
		Profile: func(_ context.Context, product string) ([]ProfileLane, error) {
			if product != "shop" {
				t.Errorf("profile of %q read, want shop", product)
			}
			return profile, nil
		},
		Environment: func(_ context.Context, product, env string) (ProductEnvironment, error) {
			e, ok := envs[env]
			if !ok || product != "shop" {
				t.Errorf("environment %q of %q read, the test has no such environment", env, product)
			}
			return e, nil
		},
	}
	rep, err := Inventory{Source: good, SourceKind: SourceLaunchplane}.Run(context.Background())
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	want := map[string]identity.Status{"shop/shop/prod": identity.StatusMatch, "shop/shop/testing": identity.StatusMismatch, "shop/shop/staging": identity.StatusUnverifiable}
	if diff := cmp.Diff(want, statuses(rep)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	for _, l := range rep.Lanes {
		if l.Key() == "shop/shop/staging" && !strings.Contains(l.Detail, "no base_url or health_url") {
			t.Errorf("staging detail %q, want it to say Launchplane has no URL", l.Detail)
		}
		if l.Key() == "shop/shop/prod" && (l.ExpectedFrom != ExpectedFromLaunchplane || !l.RequireIdentity) {
			t.Errorf("prod expected_from %q require %v, want launchplane and true", l.ExpectedFrom, l.RequireIdentity)
		}
	}

	failing := []struct {
		name string
		src  LaunchplaneSource
	}{
		{"profile unreadable", LaunchplaneSource{Product: "shop", Environment: good.Environment, Profile: func(context.Context, string) ([]ProfileLane, error) {
			return nil, errors.New("401 authentication_required")
		}}},
		{"environment unreadable", LaunchplaneSource{Product: "shop", Profile: good.Profile, Environment: func(context.Context, string, string) (ProductEnvironment, error) {
			return ProductEnvironment{}, errors.New("503 database_storage_required")
		}}},
		{"invalid expected identity", LaunchplaneSource{Product: "shop", Profile: good.Profile, Environment: func(context.Context, string, string) (ProductEnvironment, error) {
			bad := expProd
			bad.SourceGitRef = ""
			return ProductEnvironment{HealthURL: f.urls[0] + "/api/health", Expected: &bad}, nil
		}}},
		{"a lane twice", LaunchplaneSource{Product: "shop", Environment: good.Environment, Profile: func(context.Context, string) ([]ProfileLane, error) {
			return []ProfileLane{profile[0], profile[0]}, nil
		}}},
		{"no reader bound", LaunchplaneSource{Product: "shop"}},
	}
	for _, tt := range failing {
		t.Run(tt.name, func(t *testing.T) {
			before := f.hits.Load()
			_, err := Inventory{Source: tt.src, SourceKind: SourceLaunchplane}.Run(context.Background())
			var se *SourceError
			if !errors.As(err, &se) || ExitCode(nil, err) != ExitUnknown {
				t.Fatalf("Run() error = %v (exit %d), want a *SourceError and exit %d", err, ExitCode(nil, err), ExitUnknown)
			}
			if n := f.hits.Load() - before; n != 0 {
				t.Errorf("tenants got %d requests, want none", n)
			}
		})
	}
}
