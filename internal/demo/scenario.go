// Package demo runs the whole deploy pipeline on an embedded fake Dokploy that "deploys" the
// generic-web example tenant as a real local process. The scenarios here also back the
// end-to-end tests, so what the demo shows is what the tests assert.
package demo

import (
	"crypto/rand"
	"net/url"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/dokploy/dokploytest"
)

// TenantCommand is the hidden command of the action binary that runs the example tenant.
const TenantCommand = "__tenant"

// ServiceID is the id of the demo's target service.
const ServiceID = "app-shop-1"

// SecretMarker is part of every planted secret value, so a test can scan the output of another
// process (which planted its own values) for any of them.
const SecretMarker = "Planted"

// Planted secrets: the target's env, build args, build secrets and registry password carry them,
// and no output of the program may ever show one. They are made at start-up from random parts,
// so the binary holds no secret-looking literal (no token prefix, no private key block, no URL
// with a password); each holds SecretMarker.
var (
	SecretDatabaseURL string // a URL with a password (dbPassword)
	SecretStripeKey   string
	SecretNPMToken    string
	SecretBuildSecret string
	SecretRegistry    string
	SecretMultiline   string // a private key block
	// APIKey is the demo's Dokploy API key.
	APIKey string

	// SecretRollbackRegistry is the rollback registry's password, planted only in scenarios
	// with Rollbacks (see SecretsFor).
	SecretRollbackRegistry string
	// SecretProjectToken and SecretEnvironmentToken are the project and environment env values
	// the target's env references in scenarios with References (see SecretsFor).
	SecretProjectToken, SecretEnvironmentToken string

	dbPassword string
)

func init() {
	p := plant()
	SecretDatabaseURL, SecretStripeKey, SecretNPMToken = p.databaseURL, p.stripeKey, p.npmToken
	SecretBuildSecret, SecretRegistry, SecretMultiline, APIKey = p.buildSecret, p.registry, p.multiline, p.apiKey
	SecretRollbackRegistry, SecretProjectToken, SecretEnvironmentToken = p.rollbackRegistry, p.projectToken, p.environmentToken
	dbPassword = p.dbPassword
}

// planted is one set of planted values.
type planted struct {
	databaseURL, dbPassword, stripeKey, npmToken, buildSecret, registry, multiline, apiKey string
	rollbackRegistry, projectToken, environmentToken                                       string
}

// plant makes a set of planted values from crypto/rand.
func plant() planted {
	r := func() string { return SecretMarker + rand.Text()[:16] }
	var p planted
	p.dbPassword = r()
	p.databaseURL = (&url.URL{
		Scheme: "postgres", User: url.UserPassword("shop", p.dbPassword), Host: "db.internal:5432", Path: "/shop",
	}).String()
	// Prefixes are joined at run time so they never appear whole in the binary.
	p.stripeKey = strings.Join([]string{"sk", "live", r()}, "_")
	p.npmToken = strings.Join([]string{"npm", r()}, "_")
	p.buildSecret = r()
	p.registry = r()
	dashes := strings.Repeat("-", 5)
	block := func(word string) string { return dashes + word + " PRIVATE KEY" + dashes }
	p.multiline = strings.Join([]string{block("BEGIN"), r(), r(), block("END")}, "\n")
	p.apiKey = "dokploy-" + r()
	p.rollbackRegistry = r()
	p.projectToken = r()
	p.environmentToken = r()
	return p
}

// Secrets lists every value planted in every scenario, multi-line ones split per line as well.
func Secrets() []string {
	out := []string{SecretDatabaseURL, SecretStripeKey, SecretNPMToken, SecretBuildSecret, SecretRegistry, APIKey, dbPassword}
	for _, l := range strings.Split(SecretMultiline, "\n") {
		if strings.Contains(l, SecretMarker) {
			out = append(out, l)
		}
	}
	return out
}

// SecretsFor lists the values planted in sc: Secrets plus those its switches add.
func SecretsFor(sc Scenario) []string {
	out := Secrets()
	if sc.Rollbacks && !sc.Compose {
		out = append(out, SecretRollbackRegistry)
	}
	if sc.References {
		out = append(out, SecretProjectToken, SecretEnvironmentToken)
	}
	return out
}

// initialEnv is the target's env before the run: comments, quoting, export, a multi-line value,
// a tenant-owned LAUNCHPLANE_* key and the previous deployment's identity; with references,
// also two values pulled in from the project's and the environment's env.
func initialEnv(oldIdentityJSON string, references bool) string {
	refs := ""
	if references {
		refs = "PAYMENTS_TOKEN=${{project.TOKEN}}\nSEARCH_TOKEN=${{environment.TOKEN}}\n"
	}
	return "# shop production\n" + refs +
		"DATABASE_URL=" + SecretDatabaseURL + "\n" +
		"export STRIPE_KEY='" + SecretStripeKey + "'\n" +
		"TLS_KEY=\"" + SecretMultiline + "\"\n" +
		"\n" +
		"LAUNCHPLANE_IMAGE_REFERENCE=ghcr.io/acme/shop:previous # read by the tenant\n" +
		"LAUNCHPLANE_RUNTIME_IDENTITY_JSON=" + oldIdentityJSON + "\n" +
		"LAUNCHPLANE_DEPLOYMENT_RECORD_ID=deployment-20261122T080000Z-shop-prod\n" +
		"FEATURE_FLAGS=search,checkout\n"
}

// Scenario is one run the demo can show and the tests assert.
type Scenario struct {
	Name        string
	Description string
	Compose     bool
	Replicas    int
	ComposeFile string
	// Rollbacks gives the application rollbacks (rollbackActive and a rollback registry whose
	// password is SecretRollbackRegistry) and one earlier done deployment, of the previous
	// identity, with a rollback record: what a verified rollback returns to.
	Rollbacks bool
	// References makes the target's env pull two values in by reference, ${{project.TOKEN}}
	// and ${{environment.TOKEN}}, which the project's and environment's env hold
	// (SecretProjectToken, SecretEnvironmentToken); Dokploy returns both in one's relations.
	References bool
	// Options adjusts the fake's timings.
	Options func(*dokploytest.Options)
	// Arm injects the scenario's fault once the fake is started.
	Arm func(s *dokploytest.Server)
	// Inputs are added to or override the deploy inputs.
	Inputs map[string]string
	// Exit and Status are the designed outcome; Message is a phrase the report must contain.
	Exit    int
	Status  string
	Message string
}

const composeWithEnvFile = "services:\n  web:\n    image: ghcr.io/acme/shop\n    env_file:\n      - .env\n"

const composeWithoutEnv = "services:\n  web:\n    image: ghcr.io/acme/shop\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n"

// Scenarios lists every scenario by name, the default first.
var Scenarios = []Scenario{
	{
		Name:        "happy",
		Description: "application deploy: patch, deploy, the old process serves for a moment after done, then the new identity matches",
		Exit:        0, Status: "match",
	},
	{
		Name:        "compose",
		Description: "compose service whose compose file loads .env: patch with compose.update, deploy, match",
		Compose:     true, ComposeFile: composeWithEnvFile,
		Exit: 0, Status: "match",
	},
	{
		Name:        "stale",
		Description: "done but stale: the old process keeps serving well after Dokploy says done; the probe waits through the mismatch",
		Options:     func(o *dokploytest.Options) { o.StaleWindow = 5 * time.Second },
		Exit:        0, Status: "match",
	},
	{
		Name:        "mixed",
		Description: "two replicas: old and new answer in turn for a while; the match is confirmed only after 4 consecutive new answers",
		Replicas:    2,
		Options:     func(o *dokploytest.Options) { o.MixedWindow = 4 * time.Second },
		Exit:        0, Status: "match",
	},
	{
		Name:        "error",
		Description: "the deployment ends in error: the masked log tail is shown and the step fails",
		Arm: func(s *dokploytest.Server) {
			s.FailNextDeployment("Step 7/9 : RUN npm ci\nnpm ERR! could not connect to " + SecretDatabaseURL + "\nnpm ERR! token " + SecretNPMToken + "\nerror: build failed with exit code 1")
		},
		Exit: 1, Status: "unchecked", Message: "ended with status error",
	},
	{
		Name:        "lost",
		Description: "Dokploy accepts the deploy but loses the job (its in-memory queue restarted): no row ever appears",
		Arm:         func(s *dokploytest.Server) { s.LoseNextJob() },
		Inputs:      map[string]string{"rollout-timeout": "60s"},
		Exit:        3, Status: "unchecked", Message: "lost job",
	},
	{
		Name:        "stuck",
		Description: "the new row stays running after Dokploy stopped working on it",
		Arm:         func(s *dokploytest.Server) { s.StickNextDeployment() },
		Inputs:      map[string]string{"rollout-timeout": "60s"},
		Exit:        3, Status: "unchecked", Message: "stays running",
	},
	{
		Name:        "unauthorized",
		Description: "the API key starts failing mid-run (expired, revoked or rate-limited)",
		Arm:         func(s *dokploytest.Server) { s.UnauthorizedFrom(s.RequestCount() + 7) },
		Exit:        3, Status: "unchecked", Message: "API key rejected",
	},
	{
		Name:        "5xx",
		Description: "a burst of 500s on the first reads, recovered by the client's retries",
		Arm:         func(s *dokploytest.Server) { s.FailNextRequests(2) },
		Exit:        0, Status: "match",
	},
	{
		Name:        "timeout",
		Description: "the deployment runs longer than rollout-timeout",
		Options:     func(o *dokploytest.Options) { o.RunDuration = 30 * time.Second },
		Inputs:      map[string]string{"rollout-timeout": "4s"},
		Exit:        3, Status: "unchecked", Message: "rollout timeout",
	},
	{
		Name:        "concurrent",
		Description: "someone edits the env between our write and our re-read: reported, and nothing is deployed",
		Arm: func(s *dokploytest.Server) {
			s.EditAfterNextWrite(ServiceID, func(env string) string { return env + "FEATURE_FLAGS=search\n" })
		},
		Exit: 3, Status: "unchecked", Message: "concurrent edit",
	},
	{
		Name:        "compose-no-env",
		Description: "compose file that neither loads .env nor forwards LAUNCHPLANE_*: warned, and the tenant reports no identity",
		Compose:     true, ComposeFile: composeWithoutEnv,
		Inputs: map[string]string{"verify-timeout": "6s"},
		Exit:   0, Status: "missing", Message: "neither loads .env",
	},
	{
		Name:        "rollback",
		Description: "the new build serves the wrong identity; on-failure: rollback puts the previous deployment back, restores its identity keys in the stored env and verifies it serves again; the step still fails",
		Rollbacks:   true,
		Arm:         ServeWrongIdentity,
		Inputs:      map[string]string{"on-failure": "rollback", "require-identity": "true", "verify-timeout": "6s"},
		Exit:        1, Status: "mismatch", Message: "rollback: rolled-back",
	},
}

// Lookup returns the scenario named name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}
