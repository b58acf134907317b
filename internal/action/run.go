package action

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/probe"
	"github.com/launchplane/runtime-identity/internal/summary"
	"github.com/sethvargo/go-githubactions"
)

// Outcomes of a run, as the report states them.
const (
	OutcomePassed  = summary.OutcomePassed
	OutcomeWarning = summary.OutcomeWarning
	OutcomeFailed  = summary.OutcomeFailed
	OutcomeError   = summary.OutcomeError
)

// run holds one run's state as the pipeline fills it in, in order.
type run struct {
	env    Env
	red    *redactor
	stderr io.Writer
	sink   sink

	cfg      *Config
	wf       Workflow
	started  time.Time
	expected identity.Identity
	prov     map[string]summary.Source

	verdict     identity.Verdict
	probe       *probe.Result
	rollout     *summary.Rollout // nil without Dokploy
	github      *githubReport
	record      *recordReport
	notes       []string
	warnings    []string
	unavailable map[string]string

	outcome summary.Outcome
	exit    int
	failure string // the one-line reason for failed or error outcomes
}

func (r *run) main(ctx context.Context, get func(string) string, mode string) int {
	r.started = r.env.Now()
	r.unavailable = map[string]string{}
	if mode != "" {
		inner := get
		get = func(name string) string {
			if name == "mode" {
				return mode
			}
			return inner(name)
		}
	}
	// Mask what is secret before anything else can print it.
	r.mask(get("dokploy-api-key"), get("github-token"), get("launchplane-token"))
	cfg, err := parseConfig(get)
	if err != nil {
		return r.configError(err)
	}
	r.cfg = cfg
	ga := githubactions.New(githubactions.WithGetenv(r.env.Getenv), githubactions.WithWriter(io.Discard))
	wf, err := readWorkflow(ga)
	if err != nil {
		r.warnings = append(r.warnings, "workflow context: "+err.Error())
	}
	r.wf = wf
	var record *identity.Identity
	recordURL := ""
	if cfg.LaunchplaneURL != "" {
		var code int
		if record, code = r.readRecord(ctx); code != ExitOK {
			return code
		}
		recordURL = r.record.URL
	}
	r.expected, r.prov, err = assemble(cfg, wf, r.started, r.env.ReadFile, record, recordURL)
	if err != nil {
		return r.configError(err)
	}
	r.sink.infof("expected identity: %s (%s)", r.expected.Breadcrumb(), r.expected.Digest())
	r.verdict = identity.Compare(nil, identity.Observation{})
	r.outcome = OutcomePassed

	switch cfg.Mode {
	case ModeRender:
		r.verdict.Detail = "Render mode assembles the identity only; nothing was verified."
		r.unavailable["observed_runtime_identity"] = "render mode does not probe the tenant"
		r.unavailable["dokploy"] = "render mode does not deploy"
	case ModeVerify:
		r.unavailable["dokploy"] = "verify mode does not deploy"
		r.startGitHub(ctx)
		r.verify(ctx, 0)
	case ModeInject, ModeDeploy:
		r.dokploy(ctx)
		if r.exit == ExitConfig {
			// A bad target found on the first read: nothing was written anywhere.
			return r.exit
		}
	}
	// The final status must land even when the run was cancelled (SIGTERM): a GitHub deployment
	// left in_progress forever misleads everyone who looks at it.
	finish, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	r.reportToLaunchplane(finish)
	r.finishGitHub(finish)
	r.report()
	return r.exit
}

// mask registers secrets with the runner and the program's own redactor.
func (r *run) mask(values ...string) {
	if added := r.red.add(values...); len(added) > 0 {
		r.sink.mask(added)
	}
}

// confirmations resolves the confirmations input against the target's replica count.
func (r *run) confirmations(replicas int) int {
	if r.cfg.Confirmations > 0 {
		return r.cfg.Confirmations
	}
	if replicas > 1 {
		return 2 * replicas
	}
	return 1
}

// verify probes the tenant until a confirmed match or verify-timeout, and sets the verdict and
// the outcome. replicas is the Dokploy target's replica count (0 when unknown).
func (r *run) verify(ctx context.Context, replicas int) {
	if r.cfg.HealthURL == "" && r.cfg.BaseURL == "" {
		r.unavailable["observed_runtime_identity"] = "no health-url or base-url was given, so the tenant was not probed"
		r.notes = append(r.notes, "the tenant was not probed: set health-url to verify what it serves")
		if r.cfg.RequireIdentity {
			r.fail(ExitFailed, OutcomeFailed, "require-identity is true but there is no tenant URL to probe: set health-url or base-url (the target has no Dokploy domain either)")
		}
		return
	}
	want := r.expected
	res, err := probe.Poll(ctx, probe.Options{
		HealthURL:     r.cfg.HealthURL,
		BaseURL:       r.cfg.BaseURL,
		Expected:      &want,
		Timeout:       r.cfg.VerifyTimeout,
		Confirmations: r.confirmations(replicas),
		Client:        r.env.HTTPClient,
		UserAgent:     "runtime-identity/" + Version,
		Now:           r.env.Now,
		Sleep:         r.env.Sleep,
		OnRound: func(rd probe.Round) {
			r.sink.infof("probe %d: %s (%s)", rd.N, rd.Verdict.Status, rd.Verdict.Detail)
		},
	})
	if err != nil {
		r.fail(ExitUnknown, OutcomeError, "the tenant could not be probed: "+strings.TrimPrefix(err.Error(), "probe: "))
		return
	}
	r.probe = &res
	r.verdict = res.Verdict
	if res.Verdict.Status == identity.StatusMatch && !res.Confirmed {
		// The last answer matched, but not enough in a row: old and new may both still serve.
		// Calling that a match is exactly the mistake the confirmation rule exists to prevent.
		r.verdict.Status = identity.StatusUnverifiable
		r.verdict.Detail = fmt.Sprintf("A match was seen but not confirmed: %d of %d consecutive answers matched before verify-timeout %s; old and new replicas may both still be serving.",
			res.Confirmations, res.Required, r.cfg.VerifyTimeout)
	}
	if s := r.verdict.Status; s != identity.StatusMatch && s != identity.StatusMismatch && r.observedRaw() == nil {
		r.unavailable["observed_runtime_identity"] = r.verdict.Detail
	}
	switch {
	case r.verdict.Status == identity.StatusMatch:
	case r.cfg.RequireIdentity:
		r.fail(ExitFailed, OutcomeFailed, "require-identity is true and the verdict is "+string(r.verdict.Status))
	default:
		r.outcome = OutcomeWarning
	}
}

// fail records a failure; the first one decides the exit code. Before the tenant was probed,
// the verdict says why it was not.
func (r *run) fail(code int, outcome summary.Outcome, reason string) {
	if r.exit != ExitOK {
		return
	}
	r.exit, r.outcome, r.failure = code, outcome, reason
	if r.probe == nil {
		r.verdict.Detail = "The tenant was not verified: " + reason
	}
}
