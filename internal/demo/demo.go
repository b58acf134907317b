package demo

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/action"
	"github.com/launchplane/runtime-identity/internal/contracttest"
	"github.com/launchplane/runtime-identity/internal/dokploy/dokploytest"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// Expected is the identity every scenario deploys.
func Expected() identity.Identity {
	return identity.Identity{
		SchemaVersion: 1, Product: "shop", Context: "shop", Instance: "prod", EnvironmentKind: identity.KindStable,
		DeploymentRecordID: "deployment-20261123T120000Z-shop-prod",
		ArtifactID:         "ghcr.io/acme/shop@sha256:" + strings.Repeat("2", 64),
		ImageReference:     "ghcr.io/acme/shop@sha256:" + strings.Repeat("2", 64),
		SourceGitRef:       "0123456789abcdef0123456789abcdef01234567",
	}
}

// previous is the identity the tenant serves before the run.
func previous() identity.Identity {
	id := Expected()
	id.DeploymentRecordID = "deployment-20261122T080000Z-shop-prod"
	id.ArtifactID = "ghcr.io/acme/shop@sha256:" + strings.Repeat("1", 64)
	id.ImageReference = id.ArtifactID
	id.SourceGitRef = "fedcba9876543210fedcba9876543210fedcba98"
	return id
}

// DefaultOptions are the fake's timings: short, but with every phase visible.
func DefaultOptions() dokploytest.Options {
	return dokploytest.Options{
		APIKey:      APIKey,
		RowDelay:    300 * time.Millisecond,
		RunDuration: 700 * time.Millisecond,
		StaleWindow: 2 * time.Second,
		MixedWindow: 3 * time.Second,
	}
}

// Fake is a started fake Dokploy holding one scenario's target, with the tenant serving the
// previous identity.
type Fake struct {
	Server   *dokploytest.Server
	Scenario Scenario
	// Inputs are the deploy inputs for the scenario (kebab-case names).
	Inputs map[string]string
}

// Start starts the fake for sc. opts carries the launcher, the spec and the test hook; the
// scenario's own timings are applied on top.
func Start(sc Scenario, opts dokploytest.Options) (*Fake, error) {
	if sc.Options != nil {
		sc.Options(&opts)
	}
	s := dokploytest.New(opts)
	env := initialEnv(string(previous().Canonical()))
	if sc.Compose {
		s.AddCompose(dokploytest.Compose{ID: ServiceID, Name: "shop", AppName: "shop-web", Env: env, ComposeFile: sc.ComposeFile, CreateEnvFile: true, Replicas: sc.Replicas})
	} else {
		s.AddApplication(dokploytest.App{
			ID: ServiceID, Name: "shop", AppName: "shop-web", Env: env,
			BuildArgs: "NPM_TOKEN=" + SecretNPMToken + "\nNODE_ENV=production", BuildSecrets: "SENTRY_AUTH=" + SecretBuildSecret,
			CreateEnvFile: false, RegistryPassword: SecretRegistry, Replicas: sc.Replicas, SourceType: "docker",
		})
	}
	if err := s.Start(); err != nil {
		s.Close()
		return nil, fmt.Errorf("demo: start the fake Dokploy: %w", err)
	}
	if sc.Arm != nil {
		sc.Arm(s)
	}
	want := Expected()
	in := map[string]string{
		"dokploy-url":          s.URL(),
		"dokploy-api-key":      s.APIKey(),
		"product":              want.Product,
		"context":              want.Context,
		"instance":             want.Instance,
		"deployment-record-id": want.DeploymentRecordID,
		"artifact-id":          want.ArtifactID,
		"image-reference":      want.ImageReference,
		"source-git-ref":       want.SourceGitRef,
		"health-url":           s.TenantURL(ServiceID) + "/api/health",
		"verify-timeout":       "30s",
		"rollout-timeout":      "60s",
	}
	if sc.Compose {
		in["dokploy-compose-id"] = ServiceID
	} else {
		in["dokploy-application-id"] = ServiceID
	}
	for k, v := range sc.Inputs {
		in[k] = v
	}
	return &Fake{Server: s, Scenario: sc, Inputs: in}, nil
}

// Close stops the fake and every tenant process.
func (f *Fake) Close() { f.Server.Close() }

// Main runs the demo: `runtime-identity demo [--scenario name] [--list]`. getenv is the
// process environment: the demo reads RUNTIME_IDENTITY_CONTRACTS (to validate the fake's
// requests when set) and TMPDIR, and hides everything else from the run, which is not a GitHub job.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("runtime-identity demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("scenario", "happy", "scenario to run (see --list)")
	list := fs.Bool("list", false, "list the scenarios")
	if err := fs.Parse(args); err != nil {
		return action.ExitConfig
	}
	if *list {
		for _, s := range Scenarios {
			fmt.Fprintf(stdout, "%-15s exit %d  %s\n", s.Name, s.Exit, s.Description)
		}
		return action.ExitOK
	}
	sc, ok := Lookup(*name)
	if !ok {
		var names []string
		for _, s := range Scenarios {
			names = append(names, s.Name)
		}
		sort.Strings(names)
		fmt.Fprintf(stderr, "demo: unknown scenario %q; use one of %s\n", *name, strings.Join(names, ", "))
		return action.ExitConfig
	}
	self, err := executable()
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return action.ExitUnknown
	}
	opts := DefaultOptions()
	opts.Launcher = dokploytest.ProcessLauncher{Path: self, Args: []string{TenantCommand}}
	if dir := getenv(contracttest.EnvDir); dir != "" {
		if spec, err := contracttest.Open(dir, contracttest.Dokploy); err == nil {
			opts.Spec = spec
		}
	}
	fake, err := Start(sc, opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return action.ExitUnknown
	}
	defer fake.Close()

	fmt.Fprintf(stderr, "demo %q: %s\n", sc.Name, sc.Description)
	fmt.Fprintf(stderr, "fake Dokploy at %s; the tenant (a real process) serves %s\n", fake.Server.URL(), fake.Inputs["health-url"])
	fmt.Fprintf(stderr, "before the run it serves %s\n\n", previous().Breadcrumb())
	argv := []string{"deploy"}
	keys := make([]string, 0, len(fake.Inputs))
	for k := range fake.Inputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		argv = append(argv, "--"+k+"="+fake.Inputs[k])
	}
	runEnv := func(k string) string {
		if k == "TMPDIR" {
			return getenv(k)
		}
		return ""
	}
	code := action.Main(ctx, action.Env{Args: argv, Getenv: runEnv, Stdout: stdout, Stderr: stderr})
	fmt.Fprintf(stderr, "\ndemo %q finished with exit code %d (designed: %d)\n", sc.Name, code, sc.Exit)
	fmt.Fprintf(stderr, "Dokploy API calls: %s\n", CallSummary(fake.Server))
	return code
}

// CallSummary counts the API requests the fake received, by operation, busiest first.
func CallSummary(s *dokploytest.Server) string {
	counts := map[string]int{}
	total := 0
	for _, r := range s.Requests() {
		counts[strings.TrimPrefix(r.Path, "/api/")]++
		total++
	}
	ops := make([]string, 0, len(counts))
	for op := range counts {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool {
		if counts[ops[i]] != counts[ops[j]] {
			return counts[ops[i]] > counts[ops[j]]
		}
		return ops[i] < ops[j]
	})
	parts := make([]string, len(ops))
	for i, op := range ops {
		parts[i] = fmt.Sprintf("%s %d", op, counts[op])
	}
	return fmt.Sprintf("%d in all (%s)", total, strings.Join(parts, ", "))
}

// executable is the running binary, which also serves the example tenant (TenantCommand).
var executable = os.Executable
