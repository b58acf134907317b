package action

import (
	"fmt"

	"github.com/launchplane/runtime-identity/internal/ghdeploy"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// Outcomes of a run, as the report states them.
const (
	OutcomePassed  = summary.OutcomePassed
	OutcomeWarning = summary.OutcomeWarning
	OutcomeFailed  = summary.OutcomeFailed
	OutcomeError   = summary.OutcomeError
)

// decide turns the steps' results into the run's Decision: the final verdict, the outcome, the
// exit code, the GitHub state and the trust state. It is the only place that applies policy;
// it is pure, and a nil step result means the step did not run. cancelled names the stage a
// cancelled run stopped in, "" when it was not cancelled.
//
// A rollback (rb, nil when none was due) never changes the forward decision: the deploy failed
// either way. It adds the rollback status; a cancellation during it is recorded, not counted
// against the forward outcome.
func decide(cfg *Config, exp *Expected, inj *Injection, ro *Rollout, pr *Probe, rb *Rollback, cancelled string) summary.Decision {
	if cancelled == StageRollback {
		d := decide(cfg, exp, inj, ro, pr, rb, "")
		d.Cancelled = cancelled
		return d
	}
	d := summary.Decision{Verdict: identity.Compare(nil, identity.Observation{}), Outcome: OutcomePassed, ExitCode: ExitOK}
	// The verdict is the last observation, whatever ended the run.
	if pr != nil && pr.Result != nil && pr.Result.Attempts > 0 {
		res := pr.Result
		d.Verdict = res.Verdict
		if res.HostNotFound {
			d.Verdict.Detail = fmt.Sprintf("The host %s does not resolve: no DNS record was found within verify-timeout %s (%d attempts).",
				probeHost(pr.HealthURL, pr.BaseURL), cfg.VerifyTimeout, res.Attempts)
		}
		if res.Verdict.Status == identity.StatusMatch && !res.Confirmed {
			// The last answer matched, but not enough in a row: old and new may both still
			// serve. Calling that a match is the mistake the confirmation rule exists to prevent.
			d.Verdict.Status = identity.StatusUnverifiable
			d.Verdict.Detail = fmt.Sprintf("A match was seen but not confirmed: %d of %d consecutive answers matched before verify-timeout %s; old and new replicas may both still be serving.",
				res.Confirmations, res.Required, cfg.VerifyTimeout)
			d.Unconfirmed = true
		}
	}
	var fault *Fault
	for _, f := range []*Fault{exp.Fault, inj.fault(), ro.fault(), pr.fault()} {
		if f != nil {
			fault = f
			break
		}
	}
	matched := d.Verdict.Status == identity.StatusMatch
	switch {
	case cancelled != "":
		d.Outcome, d.ExitCode = OutcomeError, ExitUnknown
		d.Cancelled = cancelled
		d.Failure = "cancelled (SIGINT or SIGTERM) during the " + cancelled + " step"
		if pr != nil && pr.Result != nil && pr.Result.Attempts > 0 {
			d.Failure += fmt.Sprintf("; the last of %d observations was %s", pr.Result.Attempts, d.Verdict.Status)
		}
	case fault != nil:
		d.ExitCode, d.Failure = fault.Exit, fault.Message
		d.Outcome = OutcomeError
		if fault.Exit == ExitFailed {
			d.Outcome = OutcomeFailed
		}
		// A Dokploy fault (the env write, the trigger, the wait) is the rollout failing, for the report.
		d.RolloutFailed = fault == inj.fault() || fault == ro.fault()
	case pr == nil:
		// render and inject modes verify nothing; deploy and verify always reach here with pr set.
	case exp.Missing != "":
		if cfg.RequireIdentity {
			d.Outcome, d.ExitCode = OutcomeFailed, ExitFailed
			d.Failure = "require-identity is true, but " + exp.Missing
		} else {
			d.Outcome = OutcomeWarning
		}
	case pr.Skipped != "":
		if cfg.RequireIdentity {
			d.Outcome, d.ExitCode = OutcomeFailed, ExitFailed
			d.Failure = "require-identity is true but there is no tenant URL to probe: set health-url or base-url (the target has no Dokploy domain either)"
		}
	case matched:
	case cfg.RequireIdentity:
		d.Outcome, d.ExitCode = OutcomeFailed, ExitFailed
		d.Failure = "require-identity is true and the verdict is " + string(d.Verdict.Status)
	default:
		d.Outcome = OutcomeWarning
	}
	switch {
	case exp.Missing != "" && cancelled == "" && fault == nil:
		d.Verdict.Detail = "Nothing was compared: " + exp.Missing + "."
	case pr == nil || pr.Result == nil || pr.Result.Attempts == 0:
		d.Verdict.Detail = notVerified(cfg.Mode, d.Failure, pr)
	}
	d.GitHubState = githubState(d)
	d.TrustState = summary.TrustStateOf(d.Verdict.Status, exp.Missing == "")
	d.RollbackStatus = rollbackStatus(rb)
	return d
}

// fault returns the step's fault; nil when the step did not run or ended well.
func (i *Injection) fault() *Fault {
	if i == nil {
		return nil
	}
	return i.Fault
}

func (r *Rollout) fault() *Fault {
	if r == nil {
		return nil
	}
	return r.Fault
}

func (p *Probe) fault() *Fault {
	if p == nil {
		return nil
	}
	return p.Fault
}

// notVerified says why nothing was compared.
func notVerified(m Mode, failure string, pr *Probe) string {
	switch {
	case failure != "":
		return "The tenant was not verified: " + failure
	case m == ModeRender:
		return "Render mode assembles the identity only; nothing was verified."
	case m == ModeInject:
		return "Inject mode writes the identity only; another step deploys, and nothing was verified."
	case pr != nil && pr.Skipped != "":
		return "The tenant was not verified: " + pr.Skipped
	}
	return "Runtime identity verification was not requested."
}

// githubState maps a decision to a deployment status state: success for a match (or nothing
// to verify, or an identity not yet exposed while not required), failure when the tenant serves
// something else or the rollout failed, error when the outcome could not be found out.
func githubState(d summary.Decision) string {
	switch {
	case d.Outcome == OutcomeError:
		return ghdeploy.StateError
	case d.Outcome == OutcomeFailed:
		return ghdeploy.StateFailure
	}
	switch d.Verdict.Status {
	case identity.StatusMismatch, identity.StatusMalformed:
		return ghdeploy.StateFailure
	case identity.StatusUnverifiable:
		return ghdeploy.StateError
	}
	return ghdeploy.StateSuccess
}
