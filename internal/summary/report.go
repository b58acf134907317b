// Package summary renders one run's report for the places people and tools look: the Markdown
// job summary, the one-line GitHub deployment status description, the next-step annotation and
// the evidence JSON (Launchplane's read model).
//
// It is pure: it takes a Report, which internal/action fills, and returns text. It knows nothing
// of the probe, Dokploy or GitHub clients. Every value a tenant reported is untrusted and is
// escaped, cut and capped before it reaches any output.
package summary

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// Outcome is how the run ended, after policy.
type Outcome string

// Outcomes.
const (
	OutcomePassed  Outcome = "passed"  // match, or nothing to verify
	OutcomeWarning Outcome = "warning" // a soft non-match (require-identity false)
	OutcomeFailed  Outcome = "failed"  // the rollout failed or a required identity was not matched
	OutcomeError   Outcome = "error"   // the outcome could not be found out
)

// Source kinds: where one expected field's value came from.
const (
	SourceInput        = "input"
	SourceRecord       = "launchplane-record"
	SourceIdentityJSON = "identity-json"
	SourceWorkflow     = "workflow-context"
	SourceDefault      = "default"
)

// Source says where one expected field came from: Kind is one of the Source* constants, Detail
// names the input, event or rule (e.g. "health-url", "pull_request event").
type Source struct {
	Kind   string
	Detail string
}

// Tool names the program that wrote the report.
type Tool struct {
	Name    string
	Version string
}

// Links point at the sources of the expected identity.
type Links struct {
	Run    string // the workflow run (log) URL
	Record string // the Launchplane deployment record URL, when the identity came from one
}

// StatusNotServed is an Answer's status when the tenant does not offer that surface (404) and
// another surface decided.
const StatusNotServed identity.Status = "not served"

// Answer is what one tenant surface answered on the final probe.
type Answer struct {
	Surface            identity.Surface
	URL                string
	StatusCode         int // HTTP status; 0 when there was no HTTP answer
	Status             identity.Status
	Key                string // the health JSON key the identity was read from, if any
	Detail             string
	DeploymentRecordID string // the deployment record id it reported, if any
	Digest             string // the identity digest it reported (header), if any
}

// Probe is how the tenant was probed.
type Probe struct {
	Surface       identity.Surface // the surface whose answer decided the verdict
	URL           string           // the URL of that surface
	Attempts      int
	Confirmations int // consecutive matching answers seen at the end
	Required      int // consecutive matching answers required
	TimeToMatch   time.Duration
	Elapsed       time.Duration
	FirstSeen     map[identity.Status]time.Duration // since the first probe
	TimedOut      bool
	Answers       []Answer
}

// Rollout is the Dokploy side of the run.
type Rollout struct {
	TargetKind   string // "application" or "compose"
	TargetID     string
	DeploymentID string // empty when no deployment was started (inject mode)
	Status       string // Dokploy's status: done, error, cancelled, running, ...
	Title        string
	Duration     time.Duration
	QueuedFor    time.Duration
	Trigger      string // "deploy" or "redeploy"
	EnvChanged   bool
	Error        string // why the rollout did not end in done, if it did not
	// Ending says how a rollout that did not end in done ended, in a word or two for headings:
	// "timed out", "lost", "stuck", "error", "cancelled"; empty for done or when it was not
	// followed.
	Ending string
	// LogTail is the end of a failed deployment's log, secrets redacted; empty when there is none.
	LogTail string
}

// ending is how the rollout ended, for headings and descriptions.
func (ro *Rollout) ending() string {
	switch {
	case ro.Ending != "":
		return ro.Ending
	case ro.Status != "" && ro.Status != "done":
		return ro.Status
	}
	return "not followed"
}

// GitHub is the GitHub deployment of the run.
type GitHub struct {
	DeploymentID   int64 // 0 when none was created
	Environment    string
	EnvironmentURL string
	LogURL         string
	Error          string // a GitHub API failure (a warning: it never changes the verdict)
}

// Decision is what a run concluded. internal/action decides it once, in one pure function; the
// renderers here render it and never re-derive policy from the steps' results.
type Decision struct {
	// Verdict is the final verdict: the last observation, with a match that was seen but not
	// confirmed turned into unverifiable. Status unchecked when nothing was verified.
	Verdict  identity.Verdict
	Outcome  Outcome
	ExitCode int
	// GitHubState is the final GitHub deployment (and commit) status state: success, failure
	// or error.
	GitHubState string
	// TrustState is Launchplane's trust_state for the verdict: verified, recorded, stale,
	// missing or unsupported.
	TrustState string
	// Failure is the one-line reason a failed or errored run gives (exit 1 or 3), when the
	// verdict alone does not explain it. Empty otherwise.
	Failure string
	// Unconfirmed: the verdict is unverifiable because a match was seen but not confirmed by
	// enough consecutive answers before the deadline.
	Unconfirmed bool
	// RolloutFailed: the Dokploy rollout did not end in done (it failed, or could not be
	// followed), and that decided the outcome.
	RolloutFailed bool
	// Cancelled names the stage a cancelled run stopped in (SIGINT or SIGTERM); empty when the
	// run was not cancelled.
	Cancelled string
	// RollbackStatus is the rollback-status output: rolled-back, rolled-back-unverified,
	// not-possible or failed; empty when no rollback was due.
	RollbackStatus string
}

// Rollback statuses.
const (
	RollbackDone        = "rolled-back"
	RollbackUnverified  = "rolled-back-unverified"
	RollbackNotPossible = "not-possible"
	RollbackFailed      = "failed"
)

// Rollback is what a rollback after a failed deploy did.
type Rollback struct {
	RollbackID   string // Dokploy's rollback record
	DeploymentID string // the deployment rolled back to (or that would have been)
	// Performed: Dokploy accepted the rollback; what follows in the report happened.
	Performed bool
	// Restored is the identity the rollback put back (the snapshot's); nil when it held none.
	Restored *identity.Identity
	// Verdict is what the tenant served after the rollback; Status unchecked when it was not
	// verified.
	Verdict identity.Verdict
	// Reason says why the rollback was not possible or failed; empty otherwise.
	Reason string
	// EnvRestored: the four identity keys in the stored env now hold the restored values.
	EnvRestored bool
	// Elapsed runs from the rollback call to the end of its verification; TimeToMatch is the
	// verification's time to a confirmed match.
	Elapsed, TimeToMatch time.Duration
	Notes                []string
}

// Report is everything one run found out. Zero values mean "not known"; nil pointers mean the
// step did not happen.
type Report struct {
	Tool Tool
	Mode string // deploy, inject, verify or render

	Expected   *identity.Identity // nil when no expected identity was given
	Provenance map[string]Source  // per expected field (contract field names)

	Decision
	RequireIdentity bool

	Probe   *Probe   // nil when the tenant was not probed
	Rollout *Rollout // nil without Dokploy
	// Rollback is nil when no rollback was due (see Decision.RollbackStatus).
	Rollback *Rollback
	GitHub   *GitHub // nil when no GitHub deployment was requested

	Links    Links
	Notes    []string
	Warnings []string
	// Unavailable maps evidence that could not be had (an evidence field name such as
	// "observed_runtime_identity" or "dokploy") to the reason. Missing steps are added
	// automatically; an entry here overrides the automatic reason for the same field.
	Unavailable map[string]string

	StartedAt  time.Time
	FinishedAt time.Time

	// Observed is the observed identity value as the tenant reported it (untrusted, possibly
	// huge); nil when nothing was reported.
	Observed json.RawMessage

	// Redact, when set, is applied to every text value before it is escaped or written, so a
	// secret a tenant echoes is masked even though escaping would change its spelling.
	Redact func(string) string
}

// unconfirmed reports a match that was seen but not confirmed by enough consecutive answers
// before the deadline: old and new replicas may both still serve.
func (r *Report) unconfirmed() bool { return r.Unconfirmed && r.Probe != nil }

// unconfirmedText says what an unconfirmed match means, for the heading, description and
// annotation.
func (r *Report) unconfirmedText() string {
	return fmt.Sprintf("match not confirmed: %d of %d consecutive answers matched; old and new replicas may both still serve", r.Probe.Confirmations, r.Probe.Required)
}

// status returns the verdict status, unchecked when unset.
func (r *Report) status() identity.Status {
	if r.Verdict.Status == "" {
		return identity.StatusUnchecked
	}
	return r.Verdict.Status
}

// redact applies r.Redact.
func (r *Report) redact(s string) string {
	if r.Redact == nil || s == "" {
		return s
	}
	return r.Redact(s)
}

// rolloutFailed reports whether the Dokploy deployment ended badly or could not be followed.
func (r *Report) rolloutFailed() bool { return r.RolloutFailed && r.Rollout != nil }

// notes returns the verdict's notes followed by the run's.
func (r *Report) notes() []string {
	out := make([]string, 0, len(r.Verdict.Notes)+len(r.Notes))
	out = append(out, r.Verdict.Notes...)
	return append(out, r.Notes...)
}

// answerFor returns the answer of the deciding surface, if any.
func (r *Report) answerFor() *Answer {
	if r.Probe == nil {
		return nil
	}
	for i := range r.Probe.Answers {
		if a := &r.Probe.Answers[i]; a.Surface == r.Probe.Surface {
			return a
		}
	}
	return nil
}

// observedRecordID returns the deployment record id the tenant reported, if the verdict knows it.
func (r *Report) observedRecordID() string {
	for _, f := range r.Verdict.Fields {
		if f.Field == "deployment_record_id" {
			return f.Observed
		}
	}
	return ""
}

// expectedRecordID returns the expected deployment record id.
func (r *Report) expectedRecordID() string {
	if r.Expected != nil {
		return r.Expected.DeploymentRecordID
	}
	return ""
}
