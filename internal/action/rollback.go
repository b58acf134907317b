package action

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/launchplane/runtime-identity/internal/dokploy"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// StageRollback names the rollback step, as a cancelled run reports it.
const StageRollback = "rollback"

// Rollback is what the rollback step returns. decide turns it into the rollback status.
type Rollback struct {
	// NotPossible says why no rollback could be made (rollbacks off, no earlier done
	// deployment with a snapshot); nothing was changed.
	NotPossible string
	// CallFailed says why Dokploy's rollback call failed; nothing was changed by this step.
	CallFailed string
	// Performed: Dokploy accepted the rollback, so the snapshot's image and env now run.
	Performed    bool
	RollbackID   string
	DeploymentID string // the deployment rolled back to
	// Restored is the snapshot's identity, what should serve again; nil when it holds none.
	Restored *identity.Identity
	// EnvRestored: the stored env's identity keys hold the snapshot's values.
	EnvRestored bool
	// Probe verifies the restored identity; nil when it was not verified.
	Probe    *Probe
	Elapsed  time.Duration
	Notes    []string
	Warnings []string
}

// rollbackDue reports whether a forward decision calls for a rollback: the rollout failed, or
// a required identity was not matched. Never after bad input (exit 2), a cancellation, or an
// outcome that could not be found out (exit 3).
func rollbackDue(cfg *Config, d summary.Decision, ro *Rollout, pr *Probe) bool {
	if !cfg.Rollback || d.ExitCode != ExitFailed || d.Cancelled != "" {
		return false
	}
	if ro != nil && ro.Failed {
		return true
	}
	nonMatch := []identity.Status{identity.StatusMismatch, identity.StatusMissing, identity.StatusMalformed, identity.StatusUnverifiable}
	return cfg.RequireIdentity && pr != nil && pr.Result != nil && pr.Result.Attempts > 0 && slices.Contains(nonMatch, d.Verdict.Status)
}

// rollback is the rollback step: roll the application back with Dokploy's rollback.rollback to
// the newest earlier done deployment, restore the four identity keys of the stored env to that
// deployment's snapshot (what now serves), and verify the snapshot's identity serves again.
// When it cannot, it says why and leaves the env as the forward deploy left it.
func (r *runner) rollback(ctx context.Context, cfg *Config, exp Expected, inj *Injection, ro *Rollout) *Rollback {
	rb := &Rollback{}
	app := inj.State.Application
	switch {
	case app == nil:
		rb.NotPossible = "Dokploy has no rollbacks for compose services"
		return rb
	case !app.RollbackActive || app.RollbackRegistryID == nil || *app.RollbackRegistryID == "":
		rb.NotPossible = "rollbacks are off for " + inj.Target.String() + ": Dokploy keeps a snapshot per build only with the application's rollback option on and a rollback registry"
		return rb
	}
	client, err := r.dokployClient(cfg)
	if err != nil {
		rb.CallFailed = err.Error()
		return rb
	}
	// The Dokploy requests are bounded by rollout-timeout; the verification by verify-timeout.
	dctx, cancel, deadline := r.dokployDeadline(ctx, cfg)
	defer cancel()
	rows, err := client.DeploymentsByType(dctx, inj.Target)
	if err != nil {
		rb.CallFailed = "could not list the deployments and their rollback records: " + r.red.String(err.Error())
		return rb
	}
	pick, err := dokploy.RollbackTarget(rows, ro.DeploymentID)
	if err != nil || pick.Rollback.FullContext == nil {
		rb.NotPossible = "no earlier deployment of " + inj.Target.String() + " ended done with a rollback snapshot (Dokploy keeps them for the newest 10 deployments)"
		return rb
	}
	snap := pick.Rollback.FullContext
	// Every value of a snapshot is a secret (its env, shared envs, registry passwords), but
	// what the run prints by design: the identities and the tenant's URLs.
	vars, restored, note := snapshotIdentity(snap.Env)
	public := []string{string(exp.Identity.Canonical()), cfg.HealthURL, cfg.BaseURL, cfg.EnvironmentURL, domainURL(inj.State)}
	if restored != nil {
		public = append(public, string(restored.Canonical()))
	}
	r.mask(withoutPublic(snap.Secrets(), public)...)
	rb.RollbackID, rb.DeploymentID = pick.Rollback.RollbackID, pick.DeploymentID
	r.sink.infof("rolling %s back to deployment %s (rollback %s)", inj.Target, dokploy.SafeText(rb.DeploymentID), dokploy.SafeText(rb.RollbackID))
	start := r.env.Now()
	defer func() { rb.Elapsed = r.env.Now().Sub(start) }()
	if err := client.Rollback(dctx, rb.RollbackID); err != nil {
		rb.CallFailed = "Dokploy refused the rollback: " + r.red.String(dokploy.SafeText(err.Error()))
		if !errors.Is(err, dokploy.ErrRollbackRefused) {
			rb.CallFailed = "the rollback call failed, so whether it ran is not known (check the application in Dokploy): " + r.red.String(dokploy.SafeText(err.Error()))
		}
		return rb
	}
	rb.Performed, rb.Restored = true, restored
	if note != "" {
		rb.Notes = append(rb.Notes, note)
	}
	if before := envIdentity(inj.Before); restored != nil && before != nil && before.Digest() != restored.Digest() {
		rb.Notes = append(rb.Notes, "the restored identity differs from the one the env held before this run: an earlier failed run had left its identity keys")
	}
	// Dokploy swapped the image and env, but not the stored env: restore its identity keys,
	// so that what is stored matches what serves and a later redeploy does not bring the
	// failed identity back.
	if len(vars) > 0 {
		state, err := client.Get(dctx, inj.Target)
		if err != nil {
			rb.Warnings = append(rb.Warnings, "the stored env was not restored: "+r.red.String(err.Error()))
		} else {
			mask := func(st *dokploy.TargetState) { r.maskTarget(cfg, exp.Identity, st) }
			mask(state)
			w := r.writeIdentity(dctx, client, state, vars, mask, deadline)
			rb.EnvRestored = w.fault == nil
			rb.Notes = append(rb.Notes, w.notes...)
			if w.fault != nil {
				rb.Warnings = append(rb.Warnings, "the stored env was not restored: "+w.fault.Message)
			}
		}
	}
	if restored == nil {
		return rb
	}
	health, base, note := tenantURLs(cfg, inj)
	rb.Probe = r.verify(ctx, cfg, Expected{Identity: *restored}, health, base, note, inj.State.Replicas)
	return rb
}

// snapshotIdentity reads the identity of a snapshot's env: the four key values to restore, and
// the identity they carry (nil, with a note, when there is none or it does not parse). The
// keys are those of the identity, the JSON as the snapshot holds it: an older deployment may
// lack the three single-field keys, and the stored env must still say one identity throughout.
func snapshotIdentity(env string) ([]identity.EnvVar, *identity.Identity, string) {
	parsed := dokploy.ParseEnv(env)
	raw := parsed[identity.EnvJSON]
	if raw == "" {
		return nil, nil, "the deployment rolled back to carried no runtime identity, so what serves now cannot be verified, and the stored env keeps the failed deploy's identity keys"
	}
	id, err := identity.ParseExpected([]byte(raw))
	if err != nil {
		return nil, nil, fmt.Sprintf("the identity of the deployment rolled back to does not parse (%v), so what serves now cannot be verified, and the stored env keeps the failed deploy's identity keys", err)
	}
	vars := id.EnvVars()
	for i := range vars {
		if vars[i].Key == identity.EnvJSON {
			vars[i].Value = raw
		}
	}
	return vars, &id, ""
}

// envIdentity returns the identity an env text holds, nil when none parses.
func envIdentity(env string) *identity.Identity {
	id, err := identity.ParseExpected([]byte(dokploy.ParseEnv(env)[identity.EnvJSON]))
	if err != nil {
		return nil
	}
	return &id
}

// rollbackStatus is the rollback-status output for what the step did.
func rollbackStatus(rb *Rollback) string {
	switch {
	case rb == nil:
		return ""
	case rb.NotPossible != "":
		return summary.RollbackNotPossible
	case !rb.Performed:
		return summary.RollbackFailed
	case rb.Probe != nil && rb.Probe.Result != nil && rb.Probe.Result.Confirmed && rb.Probe.Result.Verdict.Status == identity.StatusMatch:
		return summary.RollbackDone
	}
	return summary.RollbackUnverified
}
