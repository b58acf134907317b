package action

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/launchplane/runtime-identity/internal/clock"
	"github.com/sethvargo/go-githubactions"
)

// Version is the tool version, set at build time with -ldflags "-X ...action.Version=v1.2.3".
var Version = "dev"

// Env is everything a run takes from the outside world. Only cmd/action builds one from the real
// process; tests and the demo build their own.
type Env struct {
	Args   []string // command-line arguments after the program name
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	// Optional; zero values mean the real clock and sleep.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
	// HTTPClient, when set, replaces each client's own (tests only). Left nil, every client
	// keeps its safe default: the Dokploy client refuses redirects, which would carry the API
	// key and the env to another host, and every client has a timeout.
	HTTPClient *http.Client
	ReadFile   func(string) ([]byte, error)
}

func (e *Env) fill() {
	if e.Getenv == nil {
		e.Getenv = func(string) string { return "" }
	}
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Sleep == nil {
		e.Sleep = clock.Sleep
	}
	if e.ReadFile == nil {
		e.ReadFile = readIdentityFile
	}
}

const usage = `runtime-identity gives a Launchplane deployment a runtime identity and proves the tenant reports it.

Usage:
  runtime-identity <mode> [--input value ...]
  runtime-identity demo [--scenario name] | demo serve [--scenario name]
  runtime-identity version

  runtime-identity inventory --lanes FILE | --launchplane-url URL --product NAME   (see inventory --help)

Modes: deploy, inject, verify, render; 'runtime-identity <mode> --help' lists a mode's flags.
Every action input is a flag of the same name, for example
  runtime-identity render --context shop --instance prod --artifact-id ghcr.io/acme/shop@sha256:... \
    --source-git-ref "$(git rev-parse HEAD)" --identity-out expected.json
  runtime-identity verify --health-url https://app.example.com/api/health --identity-file expected.json
Boolean inputs may be given bare (--require-identity). --expect-file is another name for --identity-file.
Secrets may come from DOKPLOY_API_KEY, GITHUB_TOKEN and LAUNCHPLANE_TOKEN instead of flags.
Without arguments the program runs as the GitHub Action and reads INPUT_* variables.

Exit codes: 0 success or soft non-match, 1 rollout failed or required identity not matched,
2 bad input (nothing written), 3 could not find out (Dokploy, GitHub or Launchplane unreachable,
lost job, stuck or timed-out rollout).
`

// Main runs the program and returns its exit code.
func Main(ctx context.Context, env Env) int {
	env.fill()
	red := &redactor{}
	stderr := red.writer(env.Stderr)
	get, mode, code, done := parseArgs(env, stderr)
	if done {
		return code
	}
	r := &runner{env: env, red: red, stderr: stderr}
	r.sink = r.newSink()
	if mode != "" {
		inner := get
		get = func(name string) string {
			if name == "mode" {
				return mode
			}
			return inner(name)
		}
	}
	return r.run(ctx, get)
}

// parseArgs reads the command line. Without arguments the inputs come from INPUT_* variables, as
// the runner passes them to a container action.
func parseArgs(env Env, stderr io.Writer) (get func(string) string, mode string, code int, done bool) {
	if len(env.Args) == 0 {
		ga := githubactions.New(githubactions.WithGetenv(env.Getenv), githubactions.WithWriter(io.Discard))
		return ga.GetInput, "", 0, false
	}
	cmd := env.Args[0]
	switch cmd {
	case "version", "--version":
		fmt.Fprintf(env.Stdout, "runtime-identity %s\n", Version)
		return nil, "", ExitOK, true
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return nil, "", ExitOK, true
	case string(ModeDeploy), string(ModeInject), string(ModeVerify), string(ModeRender):
	default:
		fmt.Fprintf(stderr, "error: unknown command %q; use deploy, inject, verify, render, demo or version\n\n%s", cmd, usage)
		return nil, "", ExitConfig, true
	}
	fs := flag.NewFlagSet("runtime-identity "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	values := map[string]*inputFlag{}
	for _, in := range Inputs {
		if in.Name == "mode" {
			continue
		}
		f := &inputFlag{boolean: in.Default == "true" || in.Default == "false"}
		values[in.Name] = f
		fs.Var(f, in.Name, in.Description)
	}
	fs.Var(values["identity-file"], "expect-file", "another name for --identity-file")
	if err := fs.Parse(env.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(env.Stdout, modeHelp(Mode(cmd)))
			return nil, "", ExitOK, true
		}
		fmt.Fprintf(stderr, "error: %v\nRun 'runtime-identity %s --help' for its flags.\n", err, cmd)
		return nil, "", ExitConfig, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "error: unexpected argument %q; every input is a --flag\n", fs.Arg(0))
		return nil, "", ExitConfig, true
	}
	return func(name string) string {
		if f, ok := values[name]; ok && f.value != "" {
			return f.value
		}
		// Secrets may come from the environment, so they stay out of the process list.
		if v, ok := secretEnv[name]; ok {
			return env.Getenv(v)
		}
		return ""
	}, cmd, 0, false
}

// secretEnv names the environment variables the CLI reads a secret input from when its flag is
// not given.
var secretEnv = map[string]string{
	"dokploy-api-key":   "DOKPLOY_API_KEY",
	"github-token":      "GITHUB_TOKEN",
	"launchplane-token": "LAUNCHPLANE_TOKEN",
}

// inputFlag is a flag.Value for one input; boolean inputs may be given bare.
type inputFlag struct {
	value   string
	boolean bool
}

func (f *inputFlag) String() string     { return f.value }
func (f *inputFlag) Set(v string) error { f.value = v; return nil }
func (f *inputFlag) IsBoolFlag() bool   { return f.boolean }

// newSink picks the runner's file commands when the runner set them up, else the terminal.
func (r *runner) newSink() sink {
	out, sum := r.env.Getenv("GITHUB_OUTPUT"), r.env.Getenv("GITHUB_STEP_SUMMARY")
	if out != "" && sum != "" {
		ga := githubactions.New(githubactions.WithGetenv(r.env.Getenv), githubactions.WithWriter(r.red.writer(r.env.Stdout)))
		return &actionSink{ga: ga, raw: r.env.Stdout, red: r.red}
	}
	return &termSink{stdout: r.red.writer(r.env.Stdout), stderr: r.stderr}
}

// configError prints every bad input and returns exit code 2.
func (r *runner) configError(err error) int {
	var errs ConfigErrors
	var one *ConfigError
	switch {
	case errors.As(err, &errs):
	case errors.As(err, &one):
		errs = ConfigErrors{one}
	default:
		errs = ConfigErrors{{Problem: err.Error()}}
	}
	sort.SliceStable(errs, func(i, j int) bool { return inputIndex(errs[i].Input) < inputIndex(errs[j].Input) })
	for _, e := range errs {
		r.sink.annotate("error", "configuration: "+e.Error())
	}
	fmt.Fprintf(r.stderr, "runtime-identity: %d configuration error(s); nothing was written anywhere\n", len(errs))
	return ExitConfig
}

func inputIndex(name string) int {
	for i, in := range Inputs {
		if in.Name == name {
			return i
		}
	}
	return len(Inputs)
}

// evidenceDirName is the folder under GITHUB_WORKSPACE that holds an Action's evidence files.
const evidenceDirName = ".runtime-identity"

// cliEvidenceName is the CLI's evidence file in the temp dir; each run replaces it.
const cliEvidenceName = "runtime-identity-evidence.json"
