package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/launchplane/runtime-identity/internal/inventory"
	"github.com/launchplane/runtime-identity/internal/launchplane"
)

// inventory runs mode inventory: every lane of a fleet probed once, the JSON read model written
// as the evidence file, the Markdown to the job summary, and, with output, the report in the
// format asked for. Exit 1 when a lane with require_identity does not match.
func (r *runner) inventory(ctx context.Context, get func(string) string) int {
	cfg, err := inventory.ConfigFromInputs(get)
	if err != nil {
		return r.inventoryInputError(err)
	}
	env := inventory.Env{
		Stdout: io.Discard, Stderr: r.stderr, Getenv: r.env.Getenv, Now: r.env.Now, Sleep: r.env.Sleep,
		HTTPClient: r.env.HTTPClient, UserAgent: "runtime-identity/" + Version,
	}
	// The launchplane-token input stands in for LAUNCHPLANE_TOKEN; without either, GitHub OIDC.
	getenv := r.env.Getenv
	if tok := get("launchplane-token"); tok != "" {
		getenv = func(k string) string {
			if k == EnvLaunchplaneToken {
				return tok
			}
			return r.env.Getenv(k)
		}
	}
	opts := []launchplane.Option{launchplane.WithSleep(r.env.Sleep), launchplane.WithNow(r.env.Now)}
	if r.env.HTTPClient != nil {
		opts = append(opts, launchplane.WithHTTPClient(r.env.HTTPClient))
	}
	env.Launchplane = inventoryLaunchplane(getenv, r.mask, opts...)
	rep, err := inventory.Run(ctx, cfg, env)
	code := inventory.ExitCode(rep, err)
	if code == ExitConfig {
		return r.inventoryInputError(err)
	}
	if rep == nil {
		r.sink.annotate("error", "inventory: "+r.red.String(err.Error()))
		return code
	}
	if err != nil {
		r.sink.annotate("error", "inventory: "+r.red.String(err.Error())+"; the report holds the lanes probed before")
	}
	if path, werr := r.writeInventory(rep); werr != nil {
		r.sink.annotate("warning", "inventory report: "+werr.Error())
	} else {
		r.sink.setOutput("evidence-path", path)
	}
	if cfg.Output != "" {
		if werr := inventory.WriteReport(env, cfg, rep); werr != nil {
			r.sink.annotate("warning", r.red.String(werr.Error()))
		}
	}
	r.sink.summary(r.red.String(inventory.Markdown(rep)))
	if code == ExitFailed {
		r.sink.annotate("error", "inventory: a lane that requires its runtime identity does not serve it; see the job summary")
	}
	if ts, ok := r.sink.(*termSink); ok {
		ts.flush()
	}
	return code
}

// inventoryInputError reports an inventory's bad input: exit 2, nothing probed.
func (r *runner) inventoryInputError(err error) int {
	var ie *inventory.InputError
	if !errors.As(err, &ie) {
		return r.configError(err)
	}
	var errs ConfigErrors
	for _, p := range ie.Problems {
		errs = append(errs, &ConfigError{Input: p.Path, Problem: p.Reason})
	}
	if len(errs) == 0 {
		errs = ConfigErrors{{Problem: ie.Error()}}
	}
	return r.configError(errs)
}

// writeInventory writes the fleet's JSON read model where the evidence file goes (see
// writeEvidence) and returns the evidence-path output.
func (r *runner) writeInventory(rep *inventory.Report) (string, error) {
	dir, rel := r.evidenceLocation()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "inventory-*.json")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := inventory.Render(f, rep, inventory.FormatJSON, false); err != nil {
		return "", fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return rel(f.Name())
}

// evidenceLocation is the folder evidence files go to and how evidence-path names a file in it:
// relative to GITHUB_WORKSPACE as an Action, absolute from the CLI.
func (r *runner) evidenceLocation() (string, func(string) (string, error)) {
	if ws := r.env.Getenv("GITHUB_WORKSPACE"); len(r.env.Args) == 0 && ws != "" {
		return filepath.Join(ws, evidenceDirName), func(p string) (string, error) { return filepath.Rel(ws, p) }
	}
	dir := r.env.Getenv("TMPDIR")
	if dir == "" {
		dir = os.TempDir()
	}
	return dir, filepath.Abs
}
