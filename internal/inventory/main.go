package inventory

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/clock"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Env is everything an inventory takes from the outside world. Only cmd/action and the Action
// build one from the real process; tests build their own.
type Env struct {
	// Args are the arguments after "inventory".
	Args           []string
	Stdout, Stderr io.Writer
	// Getenv is read for NO_COLOR only. Default: nothing is set.
	Getenv func(string) string
	// Now and Sleep are the clock. Defaults: time.Now and clock.Sleep.
	Now   func() time.Time
	Sleep func(context.Context, time.Duration) error
	// HTTPClient sends the probes; nil: the probe's default.
	HTTPClient *http.Client
	// UserAgent is sent with every probe; empty: the probe's default.
	UserAgent string
	// ReadFile and Create reach the file system. Defaults: os.ReadFile and os.Create.
	ReadFile func(string) ([]byte, error)
	Create   func(string) (io.WriteCloser, error)
	// IsTerminal reports whether w is a terminal: colour and the progress bar only go to one.
	// Default: w is an *os.File whose mode is a character device.
	IsTerminal func(w io.Writer) bool
	// Launchplane opens the Launchplane instance at baseURL (no request is sent yet). nil: this
	// build cannot read Launchplane, and --launchplane-url is refused.
	Launchplane func(ctx context.Context, baseURL string) (Launchplane, error)
}

// Launchplane is what an inventory reads from Launchplane, each part bound by the caller to its
// Launchplane client.
type Launchplane struct {
	// Profile lists a product's lanes (GET /v1/product-profiles/{product}).
	Profile ProfileLanesFunc
	// Environment reads one environment of a product (GET
	// /v1/products/{product}/environments/{environment}).
	Environment ProductEnvironmentFunc
	// Records reads deployment records (GET /v1/deployments/{record_id}).
	Records RecordReader
}

func (e *Env) fill() {
	if e.Stdout == nil {
		e.Stdout = io.Discard
	}
	if e.Stderr == nil {
		e.Stderr = io.Discard
	}
	if e.Getenv == nil {
		e.Getenv = func(string) string { return "" }
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Sleep == nil {
		e.Sleep = clock.Sleep
	}
	if e.ReadFile == nil {
		e.ReadFile = os.ReadFile
	}
	if e.Create == nil {
		e.Create = func(name string) (io.WriteCloser, error) { return os.Create(name) }
	}
	if e.IsTerminal == nil {
		e.IsTerminal = isTerminal
	}
}

// isTerminal reports whether w is a character device, such as a terminal: no dependency needed.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const usage = `runtime-identity inventory probes every lane of a fleet and reports expected against observed runtime identity.

Usage:
  runtime-identity inventory --lanes FILE [flags]
  runtime-identity inventory --launchplane-url URL --product NAME [flags]
  runtime-identity inventory merge [--format F] [--output FILE] SHARD.json...

A lanes file (JSON or YAML):
  {"lanes": [{"product": "shop", "context": "shop", "instance": "prod",
              "health_url": "https://shop.example.com/api/health",    (or "base_url")
              "expected": {identity} or "deployment_record_id": "deployment-...",
              "require_identity": true}]}

Flags:
  --lanes FILE             the lanes file
  --launchplane-url URL    Launchplane: the product's environments (with --product), and the
                           deployment records lanes name (token from LAUNCHPLANE_TOKEN)
  --product NAME           the product whose environments to probe
  --format F               table, json, markdown or html (default: from --output's extension,
                           else table on a terminal and json otherwise)
  --output FILE            write the report there instead of standard output
  --concurrency N          lanes probed at once (default 32)
  --timeout D              per lane, confirmations included, a Go duration (default 10s)
  --confirmations N        consecutive matching answers that confirm a match (default 1)
  --shard i/n              probe only shard i of n (0-based), a stable slice of the lanes

Exit codes: 0 every required lane matches, 1 a lane with require_identity does not match,
2 bad input (nothing probed), 3 Launchplane could not be read or the run was cancelled.
`

// Main runs "runtime-identity inventory" with env.Args and returns the exit code.
func Main(ctx context.Context, env Env) int {
	env.fill()
	if len(env.Args) > 0 && env.Args[0] == "merge" {
		return mergeMain(ctx, env)
	}
	cfg, err := parseFlags(env.Args)
	return finish(ctx, env, cfg, err)
}

// finish runs a checked configuration, writes its report and returns the exit code.
func finish(ctx context.Context, env Env, cfg Config, err error) int {
	if err != nil {
		return fail(env, err)
	}
	rep, err := Run(ctx, cfg, env)
	if rep == nil {
		return fail(env, err)
	}
	if werr := WriteReport(env, cfg, rep); werr != nil {
		return fail(env, werr)
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, err.Error())
	}
	return ExitCode(rep, err)
}

// ExitCode is the exit code of a run: from err when there is one (ExitConfig for an *InputError,
// ExitUnknown otherwise), else the report's (ExitFailed when a required lane does not match).
func ExitCode(rep *Report, err error) int {
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		return ExitConfig
	case err != nil:
		return ExitUnknown
	case rep == nil:
		return ExitUnknown
	}
	return rep.ExitCode()
}

func fail(env Env, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		io.WriteString(env.Stdout, usage)
		return ExitOK
	}
	fmt.Fprintln(env.Stderr, err.Error())
	return ExitCode(nil, err)
}

// Run runs one inventory as cfg says: the entry point of the CLI and of the Action's inventory
// mode. It reads the lanes file through env.ReadFile or opens Launchplane through
// env.Launchplane, probes the shard's lanes and returns the report; with cfg.Merge it reads and
// merges shard reports instead. Progress goes to env.Stderr when it is a terminal. The error is an
// *InputError (ExitConfig: nothing probed), a *SourceError (ExitUnknown: nothing probed) or, with
// a partial report, the cancellation; see ExitCode. WriteReport writes the report where cfg says.
func Run(ctx context.Context, cfg Config, env Env) (*Report, error) {
	env.fill()
	if len(cfg.Merge) > 0 {
		return mergeFiles(env, cfg.Merge)
	}
	inv := Inventory{
		Shard: cfg.Shard,
		Prober: Prober{
			Concurrency:   cfg.Concurrency,
			Timeout:       cfg.Timeout,
			Confirmations: cfg.Confirmations,
			Client:        env.HTTPClient,
			UserAgent:     env.UserAgent,
			Now:           env.Now,
			Sleep:         env.Sleep,
		},
	}
	var lp Launchplane
	if cfg.LaunchplaneURL != "" {
		if env.Launchplane == nil {
			return nil, inputError("flags", Problem{Path: "launchplane-url", Reason: "cannot be used: this build reads no Launchplane"})
		}
		var err error
		if lp, err = env.Launchplane(ctx, cfg.LaunchplaneURL); err != nil {
			return nil, inputError("flags", Problem{Path: "launchplane-url", Reason: logtext.OneLine(err.Error())})
		}
		inv.Records = lp.Records
	}
	switch {
	case cfg.Product != "":
		inv.Source = LaunchplaneSource{Product: cfg.Product, Profile: lp.Profile, Environment: lp.Environment}
		inv.SourceKind = SourceLaunchplane
	default:
		data, err := env.ReadFile(cfg.LanesFile)
		if err != nil {
			return nil, inputError("flags", Problem{Path: "lanes", Reason: "cannot be read: " + logtext.OneLine(unwrapPathError(err).Error())})
		}
		inv.Source = FileSource{Data: data}
		inv.SourceKind = SourceLanesFile
	}
	if env.IsTerminal(env.Stderr) {
		var bar Progress
		inv.Prober.OnResult = func(done, total int, _ LaneResult) {
			if s := bar.Line(done, total); s != "" {
				io.WriteString(env.Stderr, s)
			}
		}
	}
	return inv.Run(ctx)
}

// unwrapPathError drops the path an *os.PathError repeats: the caller names the flag.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// WriteReport renders the report in cfg.Format to cfg.Output (standard output when empty),
// streaming it, and, when the report goes to a file, tells env.Stderr how the fleet stands. The
// format defaults to the output file's extension, else table on a terminal and json otherwise.
// A file that cannot be written is an *InputError naming the output.
func WriteReport(env Env, cfg Config, rep *Report) error {
	env.fill()
	f, output := cfg.Format, cfg.Output
	if f == "" {
		f = FormatForFile(output)
	}
	if f == "" {
		f = FormatJSON
		if output == "" && env.IsTerminal(env.Stdout) {
			f = FormatTable
		}
	}
	if output == "" {
		color := f == FormatTable && env.IsTerminal(env.Stdout) && env.Getenv("NO_COLOR") == ""
		return Render(env.Stdout, rep, f, color)
	}
	outputErr := func(err error) error {
		return inputError("flags", Problem{Path: "output", Reason: "cannot be written: " + logtext.OneLine(unwrapPathError(err).Error())})
	}
	w, err := env.Create(output)
	if err != nil {
		return outputErr(err)
	}
	err = Render(w, rep, f, false)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return outputErr(err)
	}
	fmt.Fprintf(env.Stderr, "inventory: %s; %s report written to %s\n", countsLine(rep), f, logtext.OneLine(output))
	return nil
}

// parseFlags reads the flags of a run.
func parseFlags(args []string) (Config, error) {
	fs := flag.NewFlagSet("inventory", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var raw rawConfig
	fs.StringVar(&raw.lanes, "lanes", "", "")
	fs.StringVar(&raw.lanes, InputLanesFile, "", "")
	fs.StringVar(&raw.launchplane, InputLaunchplaneURL, "", "")
	fs.StringVar(&raw.product, InputProduct, "", "")
	fs.StringVar(&raw.format, InputFormat, "", "")
	fs.StringVar(&raw.output, InputOutput, "", "")
	fs.StringVar(&raw.concurrency, InputConcurrency, "", "")
	fs.StringVar(&raw.timeout, "timeout", "", "")
	fs.StringVar(&raw.timeout, InputLaneTimeout, "", "")
	fs.StringVar(&raw.confirmations, InputConfirmations, "", "")
	fs.StringVar(&raw.shard, InputShard, "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, err
		}
		return Config{}, inputError("flags", Problem{Reason: err.Error() + "; see runtime-identity inventory --help"})
	}
	if fs.NArg() > 0 {
		return Config{}, inputError("flags", Problem{Reason: fmt.Sprintf("unexpected argument %s; see runtime-identity inventory --help", quote(fs.Arg(0)))})
	}
	return raw.check(func(name string) string {
		if name == InputLanesFile {
			return "--lanes"
		}
		return "--" + name
	}, "flags")
}

// mergeMain runs "inventory merge": flags may come before or after the files.
func mergeMain(ctx context.Context, env Env) int {
	fs := flag.NewFlagSet("inventory merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var raw rawConfig
	fs.StringVar(&raw.format, InputFormat, "", "")
	fs.StringVar(&raw.output, InputOutput, "", "")
	var files []string
	args := env.Args[1:]
	for {
		if err := fs.Parse(args); err != nil {
			return fail(env, flagError(err))
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) == 0 {
		return fail(env, inputError("flags", Problem{Reason: "no shard report given; usage: runtime-identity inventory merge [--format F] [--output FILE] SHARD.json..."}))
	}
	raw.merge = files
	cfg, err := raw.check(func(name string) string { return "--" + name }, "flags")
	return finish(ctx, env, cfg, err)
}

// mergeFiles reads the shard reports the paths and glob patterns name, in order, and merges them.
func mergeFiles(env Env, patterns []string) (*Report, error) {
	var files []string
	for _, p := range patterns {
		if !strings.ContainsAny(p, "*?[") {
			files = append(files, p)
			continue
		}
		matches, err := filepath.Glob(p)
		if err != nil || len(matches) == 0 {
			return nil, inputError("shard reports", Problem{Path: p, Reason: "matches no file"})
		}
		files = append(files, matches...)
	}
	reports := make([]*Report, 0, len(files))
	for _, name := range files {
		data, err := env.ReadFile(name)
		if err != nil {
			return nil, inputError("shard reports", Problem{Path: name, Reason: "cannot be read: " + logtext.OneLine(unwrapPathError(err).Error())})
		}
		r, err := ReadReport(name, data)
		if err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}
	return Merge(reports, files)
}

func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return inputError("flags", Problem{Reason: err.Error() + "; see runtime-identity inventory --help"})
}
