package action

import (
	"encoding/json"
	"time"

	"github.com/launchplane/runtime-identity/internal/dokploy"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/probe"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// A run is told as steps (DESIGN.md section 7): assemble -> inject -> rollout -> verify, each
// taking what it needs and returning a value, never editing the Config or another step's
// result. decide turns the values into the one Decision every report renders.

// Stage names, as a cancelled run reports them.
const (
	StageAssemble = "assemble"
	StageInject   = "inject"
	StageRollout  = "rollout"
	StageVerify   = "verify"
)

// Expected is what the assemble step returns: the expected identity and where each field came from.
type Expected struct {
	Identity   identity.Identity
	Provenance map[string]summary.Source
	// Missing says why there is no expected identity although Launchplane was asked for one (a
	// record made before the feature, a lane without a current deployment). Identity then
	// holds only what the record names, nothing is compared, and the verdict is unchecked.
	Missing string
	// Record is where in Launchplane the identity was read from; nil otherwise.
	Record *Record
	Notes  []string
	// Fault is why the identity could not be read (Launchplane unreachable or refusing the
	// token); the run then reports it and does nothing else.
	Fault *Fault
}

// Fault is why a step ended the run before its end.
type Fault struct {
	// Exit is ExitFailed (the rollout failed) or ExitUnknown (the outcome could not be found out).
	Exit int
	// Message is the one-line reason, for people. It holds no secret.
	Message string
}

// Injection is what the inject step returns.
type Injection struct {
	Target dokploy.Target
	// State is the target as last read; nil when it could not be read.
	State *dokploy.TargetState
	// Before is the env text as first read, before this run changed it.
	Before string
	// Written: the identity was written into the env by this run.
	Written bool
	// Retries counts the times the env changed between our read and our write, so the newer
	// text was patched instead.
	Retries  int
	Notes    []string
	Warnings []string
	Fault    *Fault
}

// Rollout is what the rollout step returns.
type Rollout struct {
	// Trigger is "deploy" or "redeploy" once Dokploy accepted it; empty before.
	Trigger      string
	DeploymentID string
	Status       string // Dokploy's status of the followed row
	Title        string
	Elapsed      time.Duration
	QueuedFor    time.Duration
	// Failed: the deployment ended error or cancelled (exit 1); any other Fault is exit 3.
	Failed bool
	// Ending says how a rollout that did not end in done ended ("timed out", "lost", "stuck",
	// "error", "cancelled"); empty otherwise.
	Ending string
	// LogTail is the end of a failed deployment's log, secrets redacted.
	LogTail  string
	Warnings []string
	Notes    []string
	Fault    *Fault
}

// Probe is what the verify step returns.
type Probe struct {
	// Result is nil when the tenant was not probed; after a cancellation it holds the rounds
	// completed before it.
	Result *probe.Result
	// HealthURL and BaseURL are what was probed (or would have been).
	HealthURL, BaseURL string
	// Skipped says why the tenant was not probed; empty when it was.
	Skipped string
	Notes   []string
	Fault   *Fault
}

// observedRaw returns the identity the deciding answer reported, as sent.
func (p *Probe) observedRaw() json.RawMessage {
	if p == nil || p.Result == nil {
		return nil
	}
	for _, a := range p.Result.Last.Answers {
		if a.Surface == p.Result.Surface && len(a.Observation.Raw) > 0 && string(a.Observation.Raw) != "null" {
			return a.Observation.Raw
		}
	}
	return nil
}
