package action

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/dokploy"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/retry"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// maxWriteTries bounds how often the env is re-patched when it changes between our read and
// our write.
const maxWriteTries = 3

// dokployClient builds the Dokploy client from the inputs.
func (r *runner) dokployClient(cfg *Config) (*dokploy.Client, error) {
	opts := []dokploy.Option{dokploy.WithSleep(r.env.Sleep), dokploy.WithClock(r.env.Now)}
	if r.env.HTTPClient != nil {
		opts = append(opts, dokploy.WithHTTPClient(r.env.HTTPClient))
	}
	client, err := dokploy.New(cfg.DokployURL, cfg.DokployAPIKey, opts...)
	if err != nil {
		// The inputs were checked, so this is a URL the client still cannot use.
		return nil, &ConfigError{Input: "dokploy-url", Problem: err.Error()}
	}
	return client, nil
}

// resolveTarget returns the Dokploy target the inputs name: by id, or by exact appName through
// Dokploy's search. A name that matches no service or several is a configuration error listing
// what was found; nothing has been written.
func (r *runner) resolveTarget(ctx context.Context, cfg *Config, client *dokploy.Client) (dokploy.Target, error) {
	kind, name, input := dokploy.KindApplication, cfg.ApplicationName, "dokploy-application-name"
	switch {
	case cfg.ComposeID != "":
		return dokploy.ComposeTarget(cfg.ComposeID), nil
	case cfg.ApplicationID != "":
		return dokploy.ApplicationTarget(cfg.ApplicationID), nil
	case cfg.ComposeName != "":
		kind, name, input = dokploy.KindCompose, cfg.ComposeName, "dokploy-compose-name"
	}
	matches, candidates, err := client.FindByAppName(ctx, kind, name)
	if errors.Is(err, dokploy.ErrTooManyCandidates) {
		return dokploy.Target{}, &ConfigError{Input: input, Problem: fmt.Sprintf("%s matches more Dokploy %ss than can be listed; give the exact appName of one service, or its id", show(name), kind)}
	}
	if err != nil {
		return dokploy.Target{}, err
	}
	if len(matches) == 1 {
		r.sink.infof("%s %s is %s", input, name, matches[0].Target())
		return matches[0].Target(), nil
	}
	var found []string
	for _, c := range candidates {
		found = append(found, fmt.Sprintf("%s (name %s, appName %s)", dokploy.SafeText(c.ID), dokploy.SafeText(c.Name), dokploy.SafeText(c.AppName)))
	}
	if len(matches) == 0 {
		msg := fmt.Sprintf("no Dokploy %s has the appName %s (compared exactly, case-sensitive)", kind, show(name))
		if len(found) > 0 {
			msg += "; the search found " + strings.Join(found, ", ")
		}
		msg += "; use the appName shown in the service's Dokploy settings, or its id. An API key limited to some services sees only those, and Dokploy's search can miss services another member created (Dokploy issue #5361)"
		return dokploy.Target{}, &ConfigError{Input: input, Problem: msg}
	}
	return dokploy.Target{}, &ConfigError{Input: input, Problem: fmt.Sprintf("%d Dokploy %ss have the appName %s: %s; name the target by its id instead", len(matches), kind, show(name), strings.Join(found, ", "))}
}

// inject is the inject step: read the target, mask its secrets, patch the identity keys into
// its env (re-reading right before the write), write and confirm. A target that does not exist
// is a configuration error (nothing was written); any other failure is the Injection's Fault.
func (r *runner) inject(ctx context.Context, cfg *Config, want identity.Identity) (*Injection, error) {
	client, err := r.dokployClient(cfg)
	if err != nil {
		return nil, err
	}
	// No request to Dokploy outlives rollout-timeout, here or in any later step.
	ctx, cancel, deadline := r.dokployDeadline(ctx, cfg)
	defer cancel()
	inj := &Injection{}
	target, err := r.resolveTarget(ctx, cfg, client)
	if err != nil {
		var cerr *ConfigError
		if errors.As(err, &cerr) {
			return nil, err
		}
		inj.Fault = r.dokployFault("find the target", err, false, deadline)
		return inj, nil
	}
	inj.Target = target
	state, err := client.Get(ctx, target)
	if err != nil {
		if cerr := missingTarget(target, err); cerr != nil {
			return nil, cerr
		}
		inj.Fault = r.dokployFault("read "+target.String(), err, inj.Written, deadline)
		return inj, nil
	}
	// Mask before anything read from Dokploy can be printed.
	r.maskTarget(cfg, want, state)
	inj.State = state
	if target.Kind == dokploy.KindCompose {
		if w := composeWarning(state.ComposeFile); w != "" {
			inj.Warnings = append(inj.Warnings, w)
			r.sink.annotate("warning", w)
		}
	}
	inj.Before = state.Env
	w := r.writeIdentity(ctx, client, state, want.EnvVars(), func(st *dokploy.TargetState) { r.maskTarget(cfg, want, st) }, deadline)
	inj.State, inj.Written, inj.Retries, inj.Fault = w.state, w.written, w.retries, w.fault
	if inj.Fault != nil && cfg.Mode == ModeDeploy {
		inj.Fault.Message += "; the deployment was not triggered"
	}
	inj.Notes = append(inj.Notes, w.notes...)
	return inj, nil
}

// envWrite is what writeIdentity did.
type envWrite struct {
	state   *dokploy.TargetState // the target as last read
	written bool
	retries int
	notes   []string
	fault   *Fault
}

// writeIdentity puts vars (the four identity keys) into the env of the target read as state,
// changing nothing else: patch, read again right before the write and patch the newer text if
// it changed (bounded tries), write, then read back and confirm. mask registers the secrets of
// every read before anything of it can be printed.
func (r *runner) writeIdentity(ctx context.Context, client *dokploy.Client, state *dokploy.TargetState, vars []identity.EnvVar, mask func(*dokploy.TargetState), deadline time.Time) envWrite {
	target := state.Target
	w := envWrite{state: state}
	for try := 1; ; try++ {
		patched, changed := dokploy.PatchEnv(state.Env, vars)
		// PatchEnv returns the text unchanged when no edit would keep every other variable as
		// it parses today (an unterminated quote can swallow later lines); never deploy then.
		if !carries(dokploy.ParseEnv(patched), vars) {
			w.fault = &Fault{Exit: ExitUnknown, Message: "the env of " + target.String() + " cannot be patched without changing how its other variables parse (look for an unterminated quote); nothing was written"}
			return w
		}
		if !changed {
			r.sink.infof("the env of %s already carries these identity keys; nothing written", target)
			w.notes = append(w.notes, "the env already carried these identity keys, so nothing was written")
			return w
		}
		// Read again right before the write: an edit made since our first read is patched,
		// not overwritten. Dokploy has no compare-and-swap, so an edit landing between this
		// read and the write can still be lost; the re-read after the write reports that window
		// as far as it can.
		fresh, err := client.Get(ctx, target)
		if err != nil {
			w.fault = r.dokployFault("re-read "+target.String()+" before writing", err, false, deadline)
			return w
		}
		mask(fresh)
		if fresh.Env != state.Env {
			if try >= maxWriteTries {
				w.fault = &Fault{Exit: ExitUnknown, Message: fmt.Sprintf("concurrent edit: the env of %s changed on each of %d reads before our write; nothing was written, try again when it is quiet", target, try)}
				return w
			}
			w.retries++
			r.sink.infof("the env of %s changed since it was read; patching the newer text", target)
			state, w.state = fresh, fresh
			continue
		}
		state, w.state = fresh, fresh
		if err := client.WriteEnv(ctx, state, patched); err != nil {
			what := "write the env of " + target.String()
			var apiErr *dokploy.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode >= 500 {
				// A 5xx or a lost connection may come after the write landed.
				what += " (the write may or may not have landed: check the env before retrying)"
			}
			w.fault = r.dokployFault(what, err, false, deadline)
			return w
		}
		w.written = true
		r.sink.infof("wrote the identity keys into the env of %s", target)
		again, err := client.Get(ctx, target)
		if err != nil {
			w.fault = r.dokployFault("re-read "+target.String()+" after writing (the write landed)", err, false, deadline)
			return w
		}
		mask(again)
		w.state = again
		if problem := confirmWrite(patched, again.Env); problem != "" {
			w.fault = &Fault{Exit: ExitUnknown, Message: "concurrent edit: " + problem + "; check the env of " + target.String()}
			return w
		}
		r.sink.infof("confirmed: the identity keys persisted and every other env key reads back as written (an edit landing between our last read and our write would not show: Dokploy has no compare-and-swap)")
		if w.retries > 0 {
			w.notes = append(w.notes, "the env changed between our read and our write (someone edited it); the newer text was patched, so the edit was kept")
		}
		return w
	}
}

// missingTarget returns the configuration error for a target Dokploy says does not exist, or
// nil for any other error.
func missingTarget(t dokploy.Target, err error) error {
	var apiErr *dokploy.APIError
	if !errors.As(err, &apiErr) || !apiErr.ProcedureNotFound() {
		return nil
	}
	input := "dokploy-application-id"
	if t.Kind == dokploy.KindCompose {
		input = "dokploy-compose-id"
	}
	return &ConfigError{Input: input, Problem: fmt.Sprintf("Dokploy has no %s with id %s; copy the id from the service's URL in the Dokploy dashboard", t.Kind, show(t.ID))}
}

// dokployFault words a Dokploy API failure: exit 3, nothing half-written left unreported.
// written says the identity is in the env but nothing was deployed yet, which the message notes.
// deadline is when the step's rollout-timeout ends: a request it cut short says so.
func (r *runner) dokployFault(what string, err error, written bool, deadline time.Time) *Fault {
	msg := "Dokploy: could not " + what + ": " + r.red.String(err.Error())
	switch {
	case errors.Is(err, retry.ErrDeadline) || (errors.Is(err, context.DeadlineExceeded) && !r.env.Now().Before(deadline)):
		msg = "rollout timeout: Dokploy did not answer within rollout-timeout while trying to " + what
	case errors.Is(err, dokploy.ErrUnauthorized):
		msg = "Dokploy: API key rejected (expired, revoked or rate-limited) while trying to " + what
	case errors.Is(err, dokploy.ErrNotFound):
		// A 404 without Dokploy's own message: the URL does not lead to the Dokploy API.
		msg = "Dokploy: could not " + what + ": dokploy-url does not answer like the Dokploy API (give the instance's base URL, such as https://dokploy.example.com)"
	}
	if written {
		msg += "; note: the identity was already written into the env, but nothing was deployed"
	}
	return &Fault{Exit: ExitUnknown, Message: msg}
}

// confirmWrite compares what was read back with what was written.
func confirmWrite(written, readBack string) string {
	want, got := dokploy.ParseEnv(written), dokploy.ParseEnv(readBack)
	var lost, changed []string
	for _, k := range identity.EnvKeys {
		if got[k] != want[k] {
			lost = append(lost, k)
		}
	}
	for k, v := range want {
		if slices.Contains(identity.EnvKeys, k) {
			continue
		}
		if gv, ok := got[k]; !ok || gv != v {
			changed = append(changed, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed) // each key lands here once: changed, or added
	switch {
	case len(lost) > 0:
		return "the identity keys did not persist (" + strings.Join(lost, ", ") + ")"
	case len(changed) > 0:
		return "other keys changed while the identity was written (" + strings.Join(changed, ", ") + ")"
	}
	return ""
}

var (
	// A list item or a value naming exactly .env, as env_file: .env, - ./.env or path: .env.
	dotEnvRE = regexp.MustCompile(`^(env_file\s*:|-\s*path\s*:|-|path\s*:)\s*["']?(\./)?\.env["']?\s*$`)
	// The identity JSON forwarded into a container's environment from Dokploy's .env.
	forwardedRE = regexp.MustCompile(`\$\{LAUNCHPLANE_RUNTIME_IDENTITY_JSON(:?-[^}]*)?\}|\$LAUNCHPLANE_RUNTIME_IDENTITY_JSON\b|^-?\s*["']?LAUNCHPLANE_RUNTIME_IDENTITY_JSON["']?\s*$`)
)

// composeWarning says when a compose file visibly neither loads .env nor forwards the identity
// JSON: Dokploy's .env is for interpolation only, so the identity would never reach a container.
// It reads lines, not YAML, and ignores comments; when in doubt it warns.
func composeWarning(file string) string {
	if strings.TrimSpace(file) == "" {
		return ""
	}
	inEnvFile := false
	for _, line := range strings.Split(file, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if forwardedRE.MatchString(line) {
			return ""
		}
		if strings.HasPrefix(line, "env_file") {
			inEnvFile = true
		} else if !strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "path") {
			inEnvFile = false
		}
		if dotEnvRE.MatchString(line) && (inEnvFile || strings.HasPrefix(line, "env_file")) {
			return ""
		}
	}
	return "the compose file neither loads .env (env_file: .env) nor forwards LAUNCHPLANE_RUNTIME_IDENTITY_JSON (environment: LAUNCHPLANE_RUNTIME_IDENTITY_JSON: ${LAUNCHPLANE_RUNTIME_IDENTITY_JSON}), so the identity will not reach the containers; see " + summary.DocURL(Version, "docs/dokploy-service-deployments.md")
}

// patience is how long a job may be missing from both the rows and the queue, or a row may stay
// running with no active job, before it counts as lost or stuck: a tenth of rollout-timeout,
// between 5s and 60s, so a short rollout-timeout also detects these quickly.
func patience(rolloutTimeout time.Duration) time.Duration {
	return min(max(rolloutTimeout/10, 5*time.Second), 60*time.Second)
}

// carries reports whether the parsed env holds every var with its value.
func carries(env map[string]string, vars []identity.EnvVar) bool {
	for _, kv := range vars {
		if v, ok := env[kv.Key]; !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// domainURL is the base URL of the target's first Dokploy domain, or "".
func domainURL(s *dokploy.TargetState) string {
	var domains []dokploy.Domain
	switch {
	case s == nil:
	case s.Application != nil:
		domains = s.Application.Domains
	case s.Compose != nil:
		domains = s.Compose.Domains
	}
	for _, d := range domains {
		if d.Host == "" || strings.ContainsAny(d.Host, "/?#@ ") {
			continue
		}
		scheme := "http"
		if d.HTTPS {
			scheme = "https"
		}
		u := scheme + "://" + d.Host
		if d.Path != nil && *d.Path != "" && *d.Path != "/" {
			u += "/" + strings.Trim(*d.Path, "/")
		}
		return u
	}
	return ""
}

// maskTarget masks the target's env, build args, build secrets, registry password and the env
// values it references, except values that are part of what the run prints by design (an
// IMAGE=<artifact> key, an APP_URL=<the health-url's origin>): masking them would blank the
// report out.
func (r *runner) maskTarget(cfg *Config, want identity.Identity, s *dokploy.TargetState) {
	// Printed by design: the identity, the tenant URLs and the target's domains.
	r.mask(withoutPublic(s.Secrets(), []string{string(want.Canonical()), cfg.HealthURL, cfg.BaseURL, cfg.EnvironmentURL, domainURL(s)})...)
}

// withoutPublic drops the values that are part of what the run prints by design (public):
// masking them would blank the report out.
func withoutPublic(values, public []string) []string {
	all := strings.Join(public, " ")
	out := make([]string, 0, len(values))
	for _, v := range values {
		if t := strings.TrimSpace(v); t != "" && strings.Contains(all, t) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// dokployDeadline bounds a step's Dokploy requests by rollout-timeout and returns when that ends,
// by the run's clock.
func (r *runner) dokployDeadline(ctx context.Context, cfg *Config) (context.Context, context.CancelFunc, time.Time) {
	step, cancel := context.WithTimeout(ctx, cfg.RolloutTimeout)
	return step, cancel, r.env.Now().Add(cfg.RolloutTimeout)
}
