package summary

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// Annotation levels.
const (
	LevelError   = "error"
	LevelWarning = "warning"
)

// Annotation limits, in runes.
const (
	annotationValueRunes = 120
	maxAnnotationRunes   = 1000
)

// Annotation returns the one annotation a run emits and what it says to do next, at the level
// the decision's outcome calls for: LevelError when the step fails (outcome failed or error),
// LevelWarning for a soft non-match (outcome warning), and "" (with no message) when it passed.
// The message is a single line.
func Annotation(r Report) (level, message string) {
	switch r.Outcome {
	case OutcomeFailed, OutcomeError:
		level = LevelError
	case OutcomeWarning:
		level = LevelWarning
	default:
		return "", ""
	}
	msg := r.nextStep()
	if r.RollbackStatus != "" {
		msg += "; rollback: " + r.RollbackStatus
		if rb := r.Rollback; rb != nil && rb.Reason != "" {
			msg += " (" + r.val(rb.Reason) + ")"
		} else if rb != nil && rb.DeploymentID != "" {
			msg += " to Dokploy deployment " + r.val(rb.DeploymentID)
		}
	}
	if level == LevelWarning {
		msg += " (require-identity is false, so this is a warning)"
	}
	return level, logtext.Truncate(logtext.OneLine(msg), maxAnnotationRunes)
}

// val makes one value safe and short for an annotation.
func (r *Report) val(s string) string {
	return logtext.Truncate(logtext.OneLine(r.redact(s)), annotationValueRunes)
}

// nextStep says what happened and what to check.
func (r *Report) nextStep() string {
	dokployRef := "the deployment"
	if ro := r.Rollout; ro != nil && ro.DeploymentID != "" {
		dokployRef = "the Dokploy deployment " + r.val(ro.DeploymentID)
	}
	if r.Cancelled != "" {
		return logtext.Truncate(logtext.OneLine(r.redact(r.Failure)), maxAnnotationRunes)
	}
	if r.rolloutFailed() {
		ro := r.Rollout
		if ro.DeploymentID == "" && ro.Error != "" {
			// Nothing was deployed (a rejected key, a lost job, a concurrent edit): the error is
			// already the sentence to show.
			return logtext.Truncate(logtext.OneLine(r.redact(ro.Error)), maxAnnotationRunes)
		}
		id := r.val(orUnknown(ro.DeploymentID))
		if ro.Status == "error" || ro.Status == "cancelled" {
			s := fmt.Sprintf("Dokploy deployment %s ended in %s: see the log tail above", id, r.val(ro.Status))
			if ro.Error != "" {
				s += " (" + r.val(ro.Error) + ")"
			}
			return s
		}
		return fmt.Sprintf("Dokploy deployment %s did not finish: %s", id, logtext.Truncate(logtext.OneLine(r.redact(orUnknown(ro.Error))), maxAnnotationRunes))
	}
	where := ""
	if p := r.Probe; p != nil && p.URL != "" {
		where = " at " + r.val(p.URL)
	}
	switch r.status() {
	case identity.StatusMismatch:
		exp := r.val(r.expectedRecordID())
		if obs := r.observedRecordID(); obs != "" && slices.Contains(r.Verdict.Mismatched, "deployment_record_id") {
			return fmt.Sprintf("the tenant still serves deployment %s, expected %s: the old replica is still routed or the rollout did not replace it; check %s and the load balancer", r.val(obs), exp, dokployRef)
		}
		var diffs []string
		for _, f := range r.Verdict.Fields {
			if f.Result == identity.ResultMismatch {
				diffs = append(diffs, fmt.Sprintf("%s expected %s, observed %s", r.val(f.Field), r.val(f.Expected), r.val(f.Observed)))
			}
		}
		return fmt.Sprintf("the tenant serves deployment %s but reports a different %s (%s): the running image or env is not the recorded one; check the build and the injected LAUNCHPLANE_* env of %s",
			exp, r.val(strings.Join(r.Verdict.Mismatched, ", ")), strings.Join(diffs, "; "), dokployRef)
	case identity.StatusMissing:
		return "the tenant exposes no identity" + where + ": see " + DocURL(r.Tool.Version, "docs/drivers/generic-web.md")
	case identity.StatusMalformed:
		s := "the tenant's identity could not be read"
		if a := r.answerFor(); a != nil {
			s += " on the " + r.val(string(a.Surface)) + " surface"
			if a.Key != "" {
				s += " (key " + r.val(a.Key) + ")"
			}
			s += where
			if a.Detail != "" {
				return s + ": " + r.val(a.Detail) + "; fix what the tenant serves, see " + DocURL(r.Tool.Version, "docs/contract.md")
			}
		}
		return s + ": " + r.val(orUnknown(r.Verdict.Detail)) + "; fix what the tenant serves, see " + DocURL(r.Tool.Version, "docs/contract.md")
	case identity.StatusUnverifiable:
		if r.unconfirmed() {
			return r.unconfirmedText() + where + ": check for old replicas still routed by the load balancer, or raise verify-timeout if the rollout is slow"
		}
		if a := r.answerFor(); a != nil && a.StatusCode > 0 && (a.StatusCode < 200 || a.StatusCode > 299) {
			return fmt.Sprintf("the tenant gave no usable answer (HTTP %d from %s): check that it is up and routed", a.StatusCode, r.val(orUnknown(a.URL)))
		}
		return fmt.Sprintf("the tenant gave no usable answer%s (%s): check that it is up and routed", where, r.val(r.problem()))
	}
	if r.Failure != "" && r.ExitCode != 0 {
		return logtext.Truncate(logtext.OneLine(r.redact(r.Failure)), maxAnnotationRunes)
	}
	if len(r.Warnings) > 0 {
		return "the outcome could not be found out: " + r.val(r.Warnings[0])
	}
	if r.Verdict.Detail != "" && r.status() != identity.StatusUnchecked {
		return r.val(r.Verdict.Detail)
	}
	return "the outcome could not be found out: see the job summary"
}

// releaseVersion matches a released version, vX.Y.Z.
var releaseVersion = regexp.MustCompile(`^v\d+\.\d+\.\d+$`)

// DocURL links a document of the project at the version that wrote the report, so the text
// matches what ran: the release's tag, or main for a development build.
func DocURL(version, path string) string {
	ref := "main"
	if releaseVersion.MatchString(version) {
		ref = version
	}
	return "https://github.com/launchplane/runtime-identity/blob/" + ref + "/" + path
}
