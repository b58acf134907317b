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
	"github.com/launchplane/runtime-identity/internal/summary"
)

// dokploy runs the inject and deploy modes: read the target, mask its secrets, patch the
// identity keys into its env, write and confirm; then (deploy) trigger, wait and verify.
func (r *run) dokploy(ctx context.Context) {
	target := dokploy.ApplicationTarget(r.cfg.ApplicationID)
	if r.cfg.ComposeID != "" {
		target = dokploy.ComposeTarget(r.cfg.ComposeID)
	}
	rep := &summary.Rollout{TargetKind: string(target.Kind), TargetID: target.ID}
	r.rollout = rep
	opts := []dokploy.Option{dokploy.WithSleep(r.env.Sleep), dokploy.WithClock(r.env.Now)}
	if r.env.HTTPClient != nil {
		opts = append(opts, dokploy.WithHTTPClient(r.env.HTTPClient))
	}
	client, err := dokploy.New(r.cfg.DokployURL, r.cfg.DokployAPIKey, opts...)
	if err != nil {
		r.exit = r.configError(&ConfigError{Input: "dokploy-url", Problem: err.Error()})
		r.outcome = OutcomeError
		return
	}
	state, err := client.Get(ctx, target)
	if err != nil {
		var apiErr *dokploy.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.StatusCode == 404 && strings.Contains(strings.ToLower(apiErr.Message), string(target.Kind)+" not found"):
			input := "dokploy-application-id"
			if target.Kind == dokploy.KindCompose {
				input = "dokploy-compose-id"
			}
			r.exit = r.configError(&ConfigError{Input: input, Problem: fmt.Sprintf("Dokploy has no %s with id %s; copy the id from the service's URL in the Dokploy dashboard", target.Kind, show(target.ID))})
			r.outcome = OutcomeError
		case errors.Is(err, dokploy.ErrNotFound):
			// A 404 without Dokploy's own message: the URL does not lead to the Dokploy API.
			r.dokployFault("read "+target.String()+": dokploy-url does not answer like the Dokploy API (give the instance's base URL, such as https://dokploy.example.com)", err)
		default:
			r.dokployFault("read "+target.String(), err)
		}
		return
	}
	// Mask before anything read from Dokploy can be printed.
	r.maskTarget(state.Secrets(), state)
	if target.Kind == dokploy.KindCompose {
		if w := composeWarning(state.ComposeFile); w != "" {
			r.warnings = append(r.warnings, w)
			r.sink.annotate("warning", w)
		}
	}

	patched, changed := dokploy.PatchEnv(state.Env, r.expected.EnvVars())
	// PatchEnv returns the text unchanged when no edit would keep every other variable as it
	// parses today (an unterminated quote can swallow later lines); never deploy then.
	if got := dokploy.ParseEnv(patched); !carries(got, r.expected.EnvVars()) {
		r.fail(ExitUnknown, OutcomeError, "the env of "+target.String()+" cannot be patched without changing how its other variables parse (look for an unterminated quote); nothing was written")
		rep.Error = r.failure
		return
	}
	if changed {
		if err := client.WriteEnv(ctx, state, patched); err != nil {
			what := "write the env of " + target.String()
			var apiErr *dokploy.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode >= 500 {
				// A 5xx or a lost connection may come after the write landed.
				what += " (the write may or may not have landed: check the env before retrying)"
			}
			r.dokployFault(what, err)
			return
		}
		rep.EnvChanged = true
		r.sink.infof("wrote the identity into the env of %s", target)
		again, err := client.Get(ctx, target)
		if err != nil {
			r.dokployFault("re-read "+target.String()+" after writing (the write may have landed)", err)
			return
		}
		r.maskTarget(again.Secrets(), again)
		if problem := confirmWrite(patched, again.Env); problem != "" {
			r.fail(ExitUnknown, OutcomeError, "concurrent edit: "+problem+"; the deployment was not triggered, check the env of "+target.String())
			rep.Error = r.failure
			return
		}
		r.sink.infof("confirmed: the identity keys persisted and no other key changed")
	} else {
		r.sink.infof("the env of %s already carries this identity; nothing written", target)
		r.notes = append(r.notes, "the env already carried this identity, so nothing was written")
	}
	if r.cfg.Mode == ModeInject {
		r.verdict.Detail = "Inject mode writes the identity only; another step deploys, and nothing was verified."
		r.unavailable["observed_runtime_identity"] = "inject mode does not deploy or probe; another step deploys"
		return
	}

	// The GitHub deployment opens once the identity is safely in the env, right before the
	// trigger: a run that stopped earlier deployed nothing.
	r.startGitHub(ctx)
	before, err := client.Snapshot(ctx, target)
	if err != nil {
		r.dokployFault("list the deployments of "+target.String(), err)
		return
	}
	trigger := "deploy"
	if r.cfg.Redeploy {
		trigger = "redeploy"
	}
	if _, err := client.Deploy(ctx, target, r.cfg.Redeploy); err != nil {
		r.dokployFault(trigger+" "+target.String()+" (not retried: a trigger must not run twice)", err)
		return
	}
	rep.Trigger = trigger // set once the trigger was accepted
	r.sink.infof("triggered %s of %s; waiting for the rollout (rollout-timeout %s)", rep.Trigger, target, r.cfg.RolloutTimeout)
	var queuedSince time.Duration = -1
	ro, err := client.WaitRollout(ctx, target, before, dokploy.WaitOptions{
		Timeout:    r.cfg.RolloutTimeout,
		GraceLost:  patience(r.cfg.RolloutTimeout),
		StuckAfter: patience(r.cfg.RolloutTimeout),
		Redact:     r.red.String,
		OnProgress: func(p dokploy.Progress) {
			if (p.Phase == dokploy.PhaseQueued || p.Phase == dokploy.PhasePending) && queuedSince < 0 {
				queuedSince = p.Elapsed
			}
			if p.Phase != dokploy.PhaseQueued && p.Phase != dokploy.PhasePending && queuedSince >= 0 && rep.QueuedFor == 0 {
				rep.QueuedFor = p.Elapsed - queuedSince
			}
			msg := fmt.Sprintf("rollout: %s after %s", p.Phase, p.Elapsed.Round(time.Second))
			if p.DeploymentID != "" {
				msg += " (deployment " + p.DeploymentID + ", status " + p.Status + ")"
			} else if p.Status != "" {
				msg += " (" + p.Status + ")"
			}
			r.sink.infof("%s", msg)
		},
	})
	if ro != nil {
		rep.Duration = ro.Elapsed
		if ro.Deployment != nil {
			rep.DeploymentID, rep.Status, rep.Title = ro.Deployment.DeploymentID, ro.Deployment.Status, ro.Deployment.Title
		}
		if len(ro.Others) > 0 {
			r.warnings = append(r.warnings, "other deployments of "+target.String()+" started meanwhile: "+strings.Join(ro.Others, ", "))
		}
	}
	if err != nil {
		r.rolloutFault(err)
		return
	}
	r.sink.infof("Dokploy says deployment %s is done after %s; done is not serving, so the tenant is verified next", rep.DeploymentID, rep.Duration.Round(time.Second))
	if r.cfg.HealthURL == "" && r.cfg.BaseURL == "" {
		if base := domainURL(state); base != "" {
			r.cfg.BaseURL = base
			r.notes = append(r.notes, "no health-url or base-url was given: the tenant was probed at the target's first Dokploy domain, "+base)
		}
	}
	r.verify(ctx, state.Replicas)
}

// rolloutFault turns a WaitRollout error into the run's outcome, each cause with its own message.
func (r *run) rolloutFault(err error) {
	rep := r.rollout
	var failed *dokploy.RolloutFailedError
	var wait *dokploy.WaitError
	switch {
	case errors.As(err, &failed):
		rep.DeploymentID, rep.Status = failed.Deployment.DeploymentID, failed.Status
		r.fail(ExitFailed, OutcomeFailed, fmt.Sprintf("Dokploy deployment %s ended with status %s", failed.Deployment.DeploymentID, failed.Status))
		if failed.LogTail != "" {
			r.sink.block("Dokploy deployment "+failed.Deployment.DeploymentID+" log tail (secrets redacted)", r.red.String(failed.LogTail))
		} else {
			r.notes = append(r.notes, "the deployment log tail could not be read")
		}
	case errors.As(err, &wait):
		if wait.Deployment != nil {
			rep.DeploymentID, rep.Status = wait.Deployment.DeploymentID, wait.Deployment.Status
		}
		rep.Duration = wait.Elapsed
		switch {
		case errors.Is(err, dokploy.ErrLostJob):
			r.fail(ExitUnknown, OutcomeError, fmt.Sprintf("lost job: Dokploy accepted the %s but no deployment row appeared and the queue no longer lists it (a Dokploy restart drops its in-memory queue); trigger it again", rep.Trigger))
		case errors.Is(err, dokploy.ErrStuckRunning):
			r.fail(ExitUnknown, OutcomeError, fmt.Sprintf("stuck: deployment %s stays running but Dokploy no longer works on it; check the Dokploy server and cancel the row", rep.DeploymentID))
		default:
			r.fail(ExitUnknown, OutcomeError, fmt.Sprintf("rollout timeout: the deployment did not finish within rollout-timeout %s (last status %q)", r.cfg.RolloutTimeout, wait.Status))
		}
	default:
		r.dokployFault("follow the rollout", err)
		return
	}
	rep.Error = r.failure
}

// dokployFault reports a Dokploy API failure: exit 3, nothing half-written left unreported.
func (r *run) dokployFault(what string, err error) {
	msg := "Dokploy: could not " + what + ": " + r.red.String(err.Error())
	if errors.Is(err, dokploy.ErrUnauthorized) {
		msg = "Dokploy: API key rejected (expired, revoked or rate-limited) while trying to " + what
	}
	if r.rollout != nil && r.rollout.EnvChanged && r.rollout.Trigger == "" {
		msg += "; note: the identity was already written into the env"
	}
	r.fail(ExitUnknown, OutcomeError, msg)
	if r.rollout != nil {
		r.rollout.Error = msg
	}
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
	return "the compose file neither loads .env (env_file: .env) nor forwards LAUNCHPLANE_RUNTIME_IDENTITY_JSON (environment: LAUNCHPLANE_RUNTIME_IDENTITY_JSON: ${LAUNCHPLANE_RUNTIME_IDENTITY_JSON}), so the identity will not reach the containers; see docs/dokploy-service-deployments.md"
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

// maskTarget masks the target's env, build args, build secrets and registry password, except
// values that are part of what the run prints by design (an IMAGE=<artifact> key, an
// APP_URL=<the health-url's origin>): masking them would blank the report out.
func (r *run) maskTarget(values []string, s *dokploy.TargetState) {
	// Printed by design: the identity, the tenant URLs and the target's domains.
	public := strings.Join([]string{string(r.expected.Canonical()), r.cfg.HealthURL, r.cfg.BaseURL, r.cfg.EnvironmentURL, domainURL(s)}, " ")
	secrets := make([]string, 0, len(values))
	for _, v := range values {
		if t := strings.TrimSpace(v); t != "" && strings.Contains(public, t) {
			continue
		}
		secrets = append(secrets, v)
	}
	r.mask(secrets...)
}
