package inventory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// LaneSource lists the lanes of one inventory. An error means the source could not be read
// (exit code ExitUnknown) unless it is an *InputError (ExitConfig).
type LaneSource interface {
	Lanes(ctx context.Context) ([]Lane, error)
}

// RecordReader reads the expected runtime identity a Launchplane deployment record holds. A nil
// identity with a nil error means the record carries none (a record made before the feature):
// the lane is then unchecked. An error means the record could not be read (ExitUnknown).
type RecordReader interface {
	ExpectedIdentity(ctx context.Context, recordID string) (*identity.Identity, error)
}

// RecordFunc adapts a function to RecordReader. Bind it to the Launchplane client's deployment
// read (GET /v1/deployments/{record_id}), returning the record's runtime_identity.
type RecordFunc func(ctx context.Context, recordID string) (*identity.Identity, error)

// ExpectedIdentity calls f.
func (f RecordFunc) ExpectedIdentity(ctx context.Context, recordID string) (*identity.Identity, error) {
	return f(ctx, recordID)
}

// FileSource is a lanes file already read into memory.
type FileSource struct {
	Data []byte
}

// Lanes parses the file (see ParseLanes).
func (s FileSource) Lanes(context.Context) ([]Lane, error) { return ParseLanes(s.Data) }

// ProfileLane is one lane of a Launchplane product profile (GET /v1/product-profiles/{product},
// profile.lanes[]; model ProductLaneProfile in cbusillo/launchplane
// control_plane/contracts/product_profile_record.py at 4efc705f7e98277e6fd3e48acf89fdbca5a3817b).
type ProfileLane struct {
	Instance, Context  string
	BaseURL, HealthURL string
	// RequireIdentity is true when the lane asks for its runtime identity: a health check with
	// require_runtime_identity, or an Odoo lane's odoo_data_policy.requires_runtime_identity.
	RequireIdentity bool
}

// ProductEnvironment is what Launchplane says about one environment of a product
// (GET /v1/products/{product}/environments/{environment}; ProductEnvironmentDetail in
// cbusillo/launchplane control_plane/contracts/product_environment_read_model.py at
// 937fb260a393a06b9c9b88c9c503b35fb7e4985a).
type ProductEnvironment struct {
	Context            string
	BaseURL, HealthURL string
	// Expected is target.expected_runtime_identity; nil when Launchplane records none.
	Expected *identity.Identity
}

// ProfileLanesFunc lists a product's lanes: bind it to the Launchplane client's product profile
// read.
type ProfileLanesFunc func(ctx context.Context, product string) ([]ProfileLane, error)

// ProductEnvironmentFunc reads one environment of a product: bind it to the Launchplane client's
// ProductEnvironment. Launchplane names an environment by its lane's instance.
type ProductEnvironmentFunc func(ctx context.Context, product, environment string) (ProductEnvironment, error)

// LaunchplaneSource lists a product's environments from Launchplane: the lanes of its profile,
// each completed with its environment's URLs and expected identity.
type LaunchplaneSource struct {
	Product     string
	Profile     ProfileLanesFunc
	Environment ProductEnvironmentFunc
	// Concurrency bounds the environment reads in flight. Default 8.
	Concurrency int
}

var (
	_ LaneSource   = LaunchplaneSource{}
	_ LaneSource   = FileSource{}
	_ RecordReader = RecordFunc(nil)
)

// errBadLane marks a lane Launchplane described in a way no lane can be.
var errBadLane = errors.New("unusable lane")

// Lanes reads the profile, then every environment. Any read that fails, and a profile with a
// lane no inventory can hold (a bad name, a repeated lane, an expected identity that breaks the
// contract), is a *SourceError. An environment without a usable URL becomes a lane that is
// reported unverifiable, so the rest of the fleet is still probed.
func (s LaunchplaneSource) Lanes(ctx context.Context) ([]Lane, error) {
	what := "lanes of product " + quote(s.Product)
	if s.Profile == nil || s.Environment == nil {
		return nil, &SourceError{What: what, Err: errors.New("no Launchplane reader is configured")}
	}
	profile, err := s.Profile(ctx, s.Product)
	if err != nil {
		return nil, &SourceError{What: what, Err: err}
	}
	if len(profile) == 0 {
		return nil, &SourceError{What: what, Err: errors.New("the product profile has no lanes")}
	}
	seen := map[string]bool{}
	for _, pl := range profile {
		for _, v := range []string{pl.Context, pl.Instance} {
			if reason := checkKey(v); reason != "" {
				return nil, &SourceError{What: what, Err: fmt.Errorf("%w: a lane's context or instance %s", errBadLane, reason)}
			}
		}
		k := pl.Context + "/" + pl.Instance
		if seen[k] {
			return nil, &SourceError{What: what, Err: fmt.Errorf("%w: lane %s is listed twice", errBadLane, quote(k))}
		}
		seen[k] = true
	}
	lanes := make([]Lane, len(profile))
	errs := make([]error, len(profile))
	n := s.Concurrency
	if n <= 0 {
		n = 8
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, pl := range profile {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			lanes[i], errs[i] = s.lane(ctx, pl)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, &SourceError{What: fmt.Sprintf("environment %s of product %s", quote(profile[i].Instance), quote(s.Product)), Err: err}
		}
	}
	return lanes, nil
}

func (s LaunchplaneSource) lane(ctx context.Context, pl ProfileLane) (Lane, error) {
	env, err := s.Environment(ctx, s.Product, pl.Instance)
	if err != nil {
		return Lane{}, err
	}
	l := Lane{
		Product:         s.Product,
		Context:         pl.Context,
		Instance:        pl.Instance,
		RequireIdentity: pl.RequireIdentity,
		Origin:          fmt.Sprintf("environment %s of product %s", pl.Instance, s.Product),
		spec:            "launchplane",
	}
	l.HealthURL, l.BaseURL = firstOf(env.HealthURL, pl.HealthURL), firstOf(env.BaseURL, pl.BaseURL)
	if env.Expected != nil {
		if err := env.Expected.Validate(); err != nil {
			return Lane{}, fmt.Errorf("%w: its expected runtime identity: %w", errBadLane, err)
		}
		id := *env.Expected
		l.Expected, l.ExpectedFrom = &id, ExpectedFromLaunchplane
	}
	for _, u := range []struct{ name, v string }{{"health_url", l.HealthURL}, {"base_url", l.BaseURL}} {
		if u.v == "" {
			continue
		}
		if reason := checkTargetURL(u.v); reason != "" {
			l.NotProbed = "Launchplane's " + u.name + " for this environment " + reason
			l.HealthURL, l.BaseURL = "", ""
			return l, nil
		}
	}
	if l.HealthURL == "" && l.BaseURL == "" {
		l.NotProbed = "Launchplane records no base_url or health_url for this environment, so it could not be probed"
	}
	return l, nil
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
