package action

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/dokploy"
)

// rollout is the rollout step: snapshot the target's deployments, trigger deploy (or
// redeploy), and follow the new deployment until it ends.
func (r *runner) rollout(ctx context.Context, cfg *Config, inj *Injection) *Rollout {
	ro := &Rollout{}
	target := inj.Target
	client, err := r.dokployClient(cfg)
	if err != nil { // checked by inject already
		ro.Fault = &Fault{Exit: ExitUnknown, Message: err.Error()}
		return ro
	}
	// rollout-timeout bounds the whole step, the snapshot and the trigger included; the wait
	// bounds each of its own requests by what is left, and says how the rollout stood.
	sctx, cancel, deadline := r.dokployDeadline(ctx, cfg)
	defer cancel()
	before, err := client.Snapshot(sctx, target)
	if err != nil {
		ro.Fault = r.dokployFault("list the deployments of "+target.String(), err, inj.Written && ro.Trigger == "", deadline)
		return ro
	}
	trigger := "deploy"
	if cfg.Redeploy {
		trigger = "redeploy"
	}
	if _, err := client.Deploy(sctx, target, cfg.Redeploy); err != nil {
		ro.Fault = r.dokployFault(trigger+" "+target.String()+" (not retried: a trigger must not run twice)", err, inj.Written && ro.Trigger == "", deadline)
		return ro
	}
	ro.Trigger = trigger // set once the trigger was accepted
	r.sink.infof("triggered %s of %s; waiting for the rollout (rollout-timeout %s)", trigger, target, cfg.RolloutTimeout)
	var queuedSince time.Duration = -1
	waitStart := r.env.Now()
	res, err := client.WaitRollout(ctx, target, before, dokploy.WaitOptions{
		Timeout:    deadline.Sub(waitStart),
		GraceLost:  patience(cfg.RolloutTimeout),
		StuckAfter: patience(cfg.RolloutTimeout),
		Redact:     r.red.String,
		OnProgress: func(p dokploy.Progress) {
			queued := p.Phase == dokploy.PhaseQueued || p.Phase == dokploy.PhasePending
			if queued && queuedSince < 0 {
				queuedSince = p.Elapsed
			}
			if !queued && queuedSince >= 0 && ro.QueuedFor == 0 {
				ro.QueuedFor = p.Elapsed - queuedSince
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
	ro.Elapsed = r.env.Now().Sub(waitStart)
	if res != nil {
		if res.Deployment != nil {
			ro.DeploymentID, ro.Status, ro.Title = res.Deployment.DeploymentID, res.Deployment.Status, res.Deployment.Title
		}
		if len(res.Others) > 0 {
			ro.Warnings = append(ro.Warnings, "other deployments of "+target.String()+" started meanwhile: "+safeList(res.Others))
		}
	}
	var (
		failed  *dokploy.RolloutFailedError
		waitErr *dokploy.WaitError
		foreign []string
	)
	switch {
	case res != nil:
		foreign = res.Foreign
	case errors.As(err, &failed):
		foreign = failed.Foreign
	case errors.As(err, &waitErr):
		foreign = waitErr.Foreign
	}
	if len(foreign) > 0 {
		w := fmt.Sprintf("Dokploy listed deployments of other services among %s's: %s; they were ignored, only the target's own rows count", target, safeList(foreign))
		ro.Warnings = append(ro.Warnings, w)
		r.sink.annotate("warning", w)
	}
	if err != nil {
		r.rolloutFault(ro, cfg, inj, err, deadline)
		return ro
	}
	r.sink.infof("Dokploy says deployment %s is done after %s; done is not serving, so the tenant is verified next", ro.DeploymentID, ro.Elapsed.Round(time.Second))
	return ro
}

// rolloutFault records a WaitRollout error on ro, each cause with its own message.
func (r *runner) rolloutFault(ro *Rollout, cfg *Config, inj *Injection, err error, deadline time.Time) {
	var failed *dokploy.RolloutFailedError
	var wait *dokploy.WaitError
	switch {
	case errors.As(err, &failed):
		ro.DeploymentID, ro.Status, ro.Failed, ro.Ending = failed.Deployment.DeploymentID, failed.Status, true, dokploy.SafeText(failed.Status)
		ro.Fault = &Fault{Exit: ExitFailed, Message: fmt.Sprintf("Dokploy deployment %s ended with status %s", dokploy.SafeText(failed.Deployment.DeploymentID), dokploy.SafeText(failed.Status))}
		if failed.LogTail != "" {
			ro.LogTail = r.red.String(failed.LogTail)
			r.sink.block("Dokploy deployment "+dokploy.SafeText(failed.Deployment.DeploymentID)+" log tail (secrets redacted)", r.red.String(failed.LogTail))
		} else {
			ro.Notes = append(ro.Notes, "the deployment log tail could not be read")
		}
	case errors.As(err, &wait):
		if wait.Deployment != nil {
			ro.DeploymentID, ro.Status = wait.Deployment.DeploymentID, wait.Deployment.Status
		}
		switch {
		case errors.Is(err, dokploy.ErrLostJob):
			ro.Ending = "lost"
			ro.Fault = &Fault{Exit: ExitUnknown, Message: fmt.Sprintf("lost job: Dokploy accepted the %s but no deployment row appeared and the queue no longer lists it (a Dokploy restart drops its in-memory queue); trigger it again", ro.Trigger)}
		case errors.Is(err, dokploy.ErrStuckRunning):
			ro.Ending = "stuck"
			ro.Fault = &Fault{Exit: ExitUnknown, Message: fmt.Sprintf("stuck: deployment %s stays running but Dokploy no longer works on it; check the Dokploy server and cancel the row", ro.DeploymentID)}
		default:
			ro.Ending = "timed out"
			ro.Fault = &Fault{Exit: ExitUnknown, Message: fmt.Sprintf("rollout timeout: the deployment did not finish within rollout-timeout %s (last status %q)", cfg.RolloutTimeout, wait.Status)}
		}
	default:
		ro.Fault = r.dokployFault("follow the rollout", err, inj.Written && ro.Trigger == "", deadline)
	}
}

// safeList joins ids Dokploy sent, each made one bounded line.
func safeList(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = dokploy.SafeText(id)
	}
	return strings.Join(out, ", ")
}
