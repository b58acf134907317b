package demo

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/action"
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

// Previous is the identity the tenant serves before the run.
func Previous() identity.Identity {
	id := Expected()
	id.DeploymentRecordID = "deployment-20261122T080000Z-shop-prod"
	id.ArtifactID = "ghcr.io/acme/shop@sha256:" + strings.Repeat("1", 64)
	id.ImageReference = id.ArtifactID
	id.SourceGitRef = "fedcba9876543210fedcba9876543210fedcba98"
	return id
}

// WrongIdentity is an identity no scenario expects: what the tenant serves after a deployment
// armed with ServeWrongIdentity.
func WrongIdentity() identity.Identity {
	id := Expected()
	id.ArtifactID = "ghcr.io/acme/shop@sha256:" + strings.Repeat("3", 64)
	id.ImageReference = id.ArtifactID
	return id
}

// ServeWrongIdentity arms s so that its next deployment ends done while the tenant serves
// WrongIdentity, as when a build bakes in another image: the failure a verified rollback
// repairs.
func ServeWrongIdentity(s *dokploytest.Server) {
	s.TamperNextDeployment(func(env map[string]string) {
		for _, kv := range WrongIdentity().EnvVars() {
			env[kv.Key] = kv.Value
		}
	})
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
	// PreviousDeploymentID is the earlier done deployment of a scenario with Rollbacks ("" in
	// others).
	PreviousDeploymentID string
}

// Start starts the fake for sc. opts carries the launcher, and in tests the contract
// validator; the scenario's own timings are applied on top.
func Start(sc Scenario, opts dokploytest.Options) (*Fake, error) {
	if sc.Options != nil {
		sc.Options(&opts)
	}
	s, err := dokploytest.New(opts)
	if err != nil {
		return nil, fmt.Errorf("demo: start the fake Dokploy: %w", err)
	}
	f, err := setUp(s, sc)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("demo: start the fake Dokploy: %w", err)
	}
	return f, nil
}

func setUp(s *dokploytest.Server, sc Scenario) (*Fake, error) {
	env := initialEnv(string(Previous().Canonical()), sc.References)
	var projectEnv, environmentEnv string
	if sc.References {
		projectEnv, environmentEnv = "TOKEN="+SecretProjectToken+"\n", "TOKEN="+SecretEnvironmentToken+"\n"
	}
	var err error
	if sc.Compose {
		err = s.AddCompose(dokploytest.Compose{
			ID: ServiceID, Name: "shop", AppName: "shop-web", Env: env, ComposeFile: sc.ComposeFile, CreateEnvFile: true, Replicas: sc.Replicas,
			ProjectEnv: projectEnv, EnvironmentEnv: environmentEnv,
		})
	} else {
		app := dokploytest.App{
			ID: ServiceID, Name: "shop", AppName: "shop-web", Env: env,
			BuildArgs: "NPM_TOKEN=" + SecretNPMToken + "\nNODE_ENV=production", BuildSecrets: "SENTRY_AUTH=" + SecretBuildSecret,
			CreateEnvFile: false, RegistryPassword: SecretRegistry, Replicas: sc.Replicas, SourceType: "docker",
			ProjectEnv: projectEnv, EnvironmentEnv: environmentEnv,
		}
		if sc.Rollbacks {
			app.RollbackActive, app.RollbackRegistryPassword = true, SecretRollbackRegistry
		}
		err = s.AddApplication(app)
	}
	if err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	f := &Fake{Server: s, Scenario: sc}
	if sc.Rollbacks && !sc.Compose {
		if f.PreviousDeploymentID, err = s.RecordDeployment(ServiceID, "done"); err != nil {
			return nil, err
		}
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
	f.Inputs = in
	return f, nil
}

// Close stops the fake and every tenant process.
func (f *Fake) Close() { f.Server.Close() }

// Env is what Run takes from its process.
type Env struct {
	Args   []string
	Getenv func(string) string
	// Stdin ends `demo serve` at end of file, unless it is the null device.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Main runs the demo with the process's stdin; see Run.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return Run(ctx, Env{Args: args, Getenv: getenv, Stdin: os.Stdin, Stdout: stdout, Stderr: stderr})
}

// Run runs the demo:
//
//	runtime-identity demo [--scenario name] [--list]
//	runtime-identity demo serve [--scenario name] [--addr 127.0.0.1:0] [--public-host host]
//
// The first runs the whole deploy pipeline against the fake and prints the summary. Getenv is
// the process environment: the run reads TMPDIR and hides everything else, since it is not a
// GitHub job. The demo never validates requests against the API contract (the tests do).
//
// The second starts the fake for a scenario and keeps it serving, so that a workflow can run
// the action (uses: ./) against it: it prints one JSON line (ServeInfo) on stdout and serves
// until ctx ends (SIGTERM, SIGINT) or stdin reaches its end (a null-device stdin, as a
// background job in a script has, is not watched). A container action does not share the
// runner's loopback: serve on an address its network reaches and name that in --public-host.
func Run(ctx context.Context, e Env) int {
	if len(e.Args) > 0 && e.Args[0] == "serve" {
		return serve(ctx, e)
	}
	fs := flag.NewFlagSet("runtime-identity demo", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	name := fs.String("scenario", "happy", "scenario to run (see --list)")
	list := fs.Bool("list", false, "list the scenarios")
	if err := fs.Parse(e.Args); err != nil {
		return action.ExitConfig
	}
	if *list {
		for _, s := range Scenarios {
			fmt.Fprintf(e.Stdout, "%-15s exit %d  %s\n", s.Name, s.Exit, s.Description)
		}
		return action.ExitOK
	}
	sc, ok := lookupOrSay(*name, e.Stderr)
	if !ok {
		return action.ExitConfig
	}
	fake, code := startForCommand(sc, "", "", e.Stderr)
	if fake == nil {
		return code
	}
	defer fake.Close()

	fmt.Fprintf(e.Stderr, "demo %q: %s\n", sc.Name, sc.Description)
	fmt.Fprintf(e.Stderr, "fake Dokploy at %s; the tenant (a real process) serves %s\n", fake.Server.URL(), fake.Inputs["health-url"])
	fmt.Fprintf(e.Stderr, "before the run it serves %s\n\n", Previous().Breadcrumb())
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
			return e.Getenv(k)
		}
		return ""
	}
	code = action.Main(ctx, action.Env{Args: argv, Getenv: runEnv, Stdout: e.Stdout, Stderr: e.Stderr})
	fmt.Fprintf(e.Stderr, "\ndemo %q finished with exit code %d (designed: %d)\n", sc.Name, code, sc.Exit)
	fmt.Fprintf(e.Stderr, "Dokploy API calls: %s\n", CallSummary(fake.Server))
	return code
}

// lookupOrSay finds scenario name or tells stderr which names exist.
func lookupOrSay(name string, stderr io.Writer) (Scenario, bool) {
	sc, ok := Lookup(name)
	if !ok {
		var names []string
		for _, s := range Scenarios {
			names = append(names, s.Name)
		}
		sort.Strings(names)
		fmt.Fprintf(stderr, "demo: unknown scenario %q; use one of %s\n", name, strings.Join(names, ", "))
	}
	return sc, ok
}

// startForCommand starts the fake for sc with this binary's example tenant; on failure it
// reports to stderr and returns the exit code.
func startForCommand(sc Scenario, addr, publicHost string, stderr io.Writer) (*Fake, int) {
	self, err := executable()
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return nil, action.ExitUnknown
	}
	opts := DefaultOptions()
	opts.Addr, opts.PublicHost = addr, publicHost
	opts.Launcher = dokploytest.ProcessLauncher{Path: self, Args: []string{TenantCommand}}
	fake, err := Start(sc, opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, action.ExitUnknown
	}
	return fake, action.ExitOK
}

// ServeInfo is the JSON line `demo serve` prints once the fake serves.
type ServeInfo struct {
	Scenario      string `json:"scenario"`
	DokployURL    string `json:"dokploy_url"`
	APIKey        string `json:"api_key"`
	ApplicationID string `json:"application_id,omitempty"`
	ComposeID     string `json:"compose_id,omitempty"`
	HealthURL     string `json:"health_url"`
	// Inputs are the scenario's deploy inputs (kebab-case), the expected identity included.
	Inputs map[string]string `json:"inputs"`
}

func serve(ctx context.Context, e Env) int {
	fs := flag.NewFlagSet("runtime-identity demo serve", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	name := fs.String("scenario", "happy", "scenario whose fake Dokploy to serve (see demo --list)")
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the fake Dokploy API; tenant URLs listen on the same host")
	publicHost := fs.String("public-host", "", "host the printed URLs name instead of the listen host (for a container reaching the fake through a gateway)")
	if err := fs.Parse(e.Args[1:]); err != nil {
		return action.ExitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.Stderr, "demo serve: unexpected argument %q\n", fs.Arg(0))
		return action.ExitConfig
	}
	loopback, err := isLoopback(*addr)
	if err != nil {
		fmt.Fprintf(e.Stderr, "demo serve: --addr: %v\n", err)
		return action.ExitConfig
	}
	if !loopback {
		fmt.Fprintf(e.Stderr, "demo serve: listening beyond loopback (%s): anyone who can reach it and holds the printed key can deploy to the fake\n", *addr)
	}
	sc, ok := lookupOrSay(*name, e.Stderr)
	if !ok {
		return action.ExitConfig
	}
	fake, code := startForCommand(sc, *addr, *publicHost, e.Stderr)
	if fake == nil {
		return code
	}
	defer fake.Close()
	info := ServeInfo{
		Scenario: sc.Name, DokployURL: fake.Server.URL(), APIKey: fake.Server.APIKey(),
		HealthURL: fake.Inputs["health-url"], Inputs: fake.Inputs,
	}
	if sc.Compose {
		info.ComposeID = ServiceID
	} else {
		info.ApplicationID = ServiceID
	}
	line, err := json.Marshal(info)
	if err != nil {
		fmt.Fprintln(e.Stderr, "demo serve:", err)
		return action.ExitUnknown
	}
	if _, err := fmt.Fprintf(e.Stdout, "%s\n", line); err != nil {
		return action.ExitUnknown
	}
	fmt.Fprintf(e.Stderr, "demo serve %q: fake Dokploy at %s until SIGTERM or the end of stdin\n", sc.Name, fake.Server.URL())
	select {
	case <-ctx.Done():
	case <-untilEOF(e.Stdin):
	}
	fmt.Fprintf(e.Stderr, "demo serve %q: stopping; Dokploy API calls: %s\n", sc.Name, CallSummary(fake.Server))
	return action.ExitOK
}

// isLoopback reports whether the host:port address addr listens on loopback only.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// untilEOF is closed once r reaches its end; it is nil (never ready) for a nil r or the null
// device, which a script's background job gets as stdin.
func untilEOF(r io.Reader) <-chan struct{} {
	if r == nil {
		return nil
	}
	if f, ok := r.(*os.File); ok && isNullDevice(f) {
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(io.Discard, r)
	}()
	return done
}

func isNullDevice(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(fi, null)
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
