package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/inventory"
	"github.com/launchplane/runtime-identity/internal/launchplane"
	"github.com/launchplane/runtime-identity/internal/logtext"
	"github.com/sethvargo/go-githubactions"
)

// EnvLaunchplaneToken is the environment variable a workstation passes a Launchplane bearer token
// in (a local operator's token). Inside a GitHub Actions job, leave it unset: the job's OIDC
// token is used.
const EnvLaunchplaneToken = "LAUNCHPLANE_TOKEN"

// errNoInventoryToken is InventoryLaunchplane's error when no token can be had.
var errNoInventoryToken = errors.New("reading Launchplane needs a token: set " + EnvLaunchplaneToken +
	", or run inside a GitHub Actions job with permissions: id-token: write")

// maxOIDCErrorRunes bounds the runner's error text kept in an error.
const maxOIDCErrorRunes = 200

// jwtLike matches a JWT or the start of one: a runner's error body must not carry one on.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){0,2}`)

// InventoryLaunchplane returns inventory.Env.Launchplane for the CLI and the Action: it opens a
// Launchplane client for baseURL and binds the inventory's readers to it. The bearer token is
// LAUNCHPLANE_TOKEN from getenv when set; else a GitHub Actions OIDC token for
// launchplane.Audience(baseURL), fetched per request through ACTIONS_ID_TOKEN_REQUEST_URL and
// _TOKEN (the job needs id-token: write); else the opener fails saying what to set. opts are
// passed to launchplane.New (tests pass WithHTTPClient, WithSleep). No request is sent before an
// inventory reads; no error or output holds a token.
//
// The readers: Profile is Client.ProductProfile's lanes, Environment is
// Client.ProductEnvironment's URLs and expected identity, Records is Client.Deployment's
// expected identity (nil for a record made before the feature).
func InventoryLaunchplane(getenv func(string) string, opts ...launchplane.Option) func(ctx context.Context, baseURL string) (inventory.Launchplane, error) {
	return inventoryLaunchplane(getenv, nil, opts...)
}

// inventoryLaunchplane is InventoryLaunchplane with mask, when set, given every token before
// it is used: the Action registers them with the runner.
func inventoryLaunchplane(getenv func(string) string, mask func(...string), opts ...launchplane.Option) func(ctx context.Context, baseURL string) (inventory.Launchplane, error) {
	if mask == nil {
		mask = func(...string) {}
	}
	return func(_ context.Context, baseURL string) (inventory.Launchplane, error) {
		token, err := inventoryToken(getenv, baseURL, mask)
		if err != nil {
			return inventory.Launchplane{}, err
		}
		c, err := launchplane.New(baseURL, token, opts...)
		if err != nil {
			return inventory.Launchplane{}, err
		}
		return inventory.Launchplane{
			Profile:     profileLanes(c),
			Environment: productEnvironment(c),
			Records:     inventory.RecordFunc(recordIdentity(c)),
		}, nil
	}
}

// inventoryToken picks the token source: a static token, else the runner's OIDC endpoint.
func inventoryToken(getenv func(string) string, baseURL string, mask func(...string)) (func(context.Context) (string, error), error) {
	if tok := getenv(EnvLaunchplaneToken); tok != "" {
		return launchplane.StaticToken(tok), nil
	}
	requestToken := getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	if getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || requestToken == "" {
		return nil, errNoInventoryToken
	}
	audience, err := launchplane.Audience(baseURL)
	if err != nil {
		return nil, err
	}
	mask(requestToken)
	ga := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(io.Discard))
	return func(ctx context.Context) (string, error) {
		tok, err := ga.GetIDToken(ctx, audience)
		if err != nil {
			return "", fmt.Errorf("GitHub OIDC token for audience %s: %s", audience, oidcErrorText(err, requestToken))
		}
		mask(tok)
		return tok, nil
	}, nil
}

// oidcErrorText is the runner's error on one line, without the request token or anything
// JWT-shaped (its body is echoed in the error), cut short.
func oidcErrorText(err error, requestToken string) string {
	var red redactor
	red.add(requestToken)
	s := jwtLike.ReplaceAllString(red.String(err.Error()), "***")
	return logtext.Truncate(logtext.OneLine(s), maxOIDCErrorRunes)
}

func profileLanes(c *launchplane.Client) inventory.ProfileLanesFunc {
	return func(ctx context.Context, product string) ([]inventory.ProfileLane, error) {
		p, err := c.ProductProfile(ctx, product)
		if err != nil {
			return nil, err
		}
		lanes := make([]inventory.ProfileLane, len(p.Lanes))
		for i, l := range p.Lanes {
			lanes[i] = inventory.ProfileLane{
				Instance: l.Instance, Context: l.Context,
				BaseURL: l.BaseURL, HealthURL: l.HealthURL,
				RequireIdentity: l.RequireIdentity,
			}
		}
		return lanes, nil
	}
}

func productEnvironment(c *launchplane.Client) inventory.ProductEnvironmentFunc {
	return func(ctx context.Context, product, environment string) (inventory.ProductEnvironment, error) {
		e, err := c.ProductEnvironment(ctx, product, environment)
		if err != nil {
			return inventory.ProductEnvironment{}, err
		}
		return inventory.ProductEnvironment{Context: e.Context, BaseURL: e.BaseURL, HealthURL: e.HealthURL, Expected: e.Expected}, nil
	}
}

func recordIdentity(c *launchplane.Client) func(ctx context.Context, recordID string) (*identity.Identity, error) {
	return func(ctx context.Context, recordID string) (*identity.Identity, error) {
		d, err := c.Deployment(ctx, recordID)
		if err != nil {
			return nil, err
		}
		return d.Expected, nil
	}
}
