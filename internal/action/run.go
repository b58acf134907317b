package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/probe"
	"github.com/launchplane/runtime-identity/internal/summary"
	"github.com/sethvargo/go-githubactions"
)

// finalStatusBound bounds the report's calls to GitHub and Launchplane after the steps: long
// enough for a rate limit's short wait, never so long that a stalled API holds the job.
// A cancelled run gets cancelledStatusBound: the runner kills the container soon after.
const (
	finalStatusBound     = 30 * time.Second
	cancelledStatusBound = 10 * time.Second
)

// runner holds what every step shares: the outside world and the places results go. It holds
// no step's result; run passes those from step to step.
type runner struct {
	env    Env
	red    *redactor
	stderr io.Writer
	sink   sink
}

// run assembles the expected identity, runs the mode's steps in order, decides, and reports.
func (r *runner) run(ctx context.Context, get func(string) string) int {
	started := r.env.Now()
	// Mask what is secret before anything else can print it.
	r.mask(get("dokploy-api-key"), get("github-token"), get("launchplane-token"))
	cfg, err := parseConfig(get)
	if err != nil {
		return r.configError(err)
	}
	if cfg.Mode == ModeInventory {
		return r.inventory(ctx, get)
	}
	ga := githubactions.New(githubactions.WithGetenv(r.env.Getenv), githubactions.WithWriter(io.Discard))
	wf, wfErr := readWorkflow(ga)
	var warnings []string
	if wfErr != nil {
		warnings = append(warnings, "workflow context: "+wfErr.Error())
	}

	var cancelled string
	// stop records the stage a cancellation interrupted and says whether to go on.
	stop := func(stage string) bool {
		if ctx.Err() != nil && cancelled == "" {
			cancelled = stage
		}
		return cancelled != ""
	}
	exp, code := r.assemble(ctx, cfg, wf, started)
	if code != ExitOK {
		return code
	}
	if exp.Fault != nil {
		stop(StageAssemble)
	}
	if exp.Missing == "" {
		r.sink.infof("expected identity: %s (%s)", exp.Identity.Breadcrumb(), exp.Identity.Digest())
	}

	gh := r.newGitHub(cfg, wf, exp.Identity)
	var (
		inj *Injection
		ro  *Rollout
		pr  *Probe
	)
	mode := cfg.Mode
	if exp.Fault != nil {
		mode = "" // the identity could not be read: nothing to do but report it
	}
	switch mode {
	case ModeVerify:
		gh.start(ctx)
		health, base, note := laneURLs(cfg, exp)
		pr = r.verify(ctx, cfg, exp, health, base, note, 0)
		stop(StageVerify)
	case ModeInject, ModeDeploy:
		var cerr error
		inj, cerr = r.inject(ctx, cfg, exp.Identity)
		if cerr != nil {
			// A bad target found on the first read: nothing was written anywhere.
			return r.configError(cerr)
		}
		if stop(StageInject) || inj.Fault != nil || cfg.Mode == ModeInject {
			break
		}
		// The GitHub deployment opens once the identity is safely in the env, right before the
		// trigger: a run that stopped earlier deployed nothing.
		gh.start(ctx)
		ro = r.rollout(ctx, cfg, inj)
		if stop(StageRollout) || ro.Fault != nil {
			break
		}
		health, base, note := tenantURLs(cfg, inj)
		pr = r.verify(ctx, cfg, exp, health, base, note, inj.State.Replicas)
		stop(StageVerify)
	}
	d := decide(cfg, &exp, inj, ro, pr, nil, cancelled)
	var rb *Rollback
	if rollbackDue(cfg, d, ro, pr) {
		rb = r.rollback(ctx, cfg, exp, inj, ro)
		stop(StageRollback)
		d = decide(cfg, &exp, inj, ro, pr, rb, cancelled)
		r.sink.infof("rollback: %s", d.RollbackStatus)
	}

	// The final status must land even when the run was cancelled (SIGTERM): a GitHub deployment
	// left in_progress forever misleads everyone who looks at it.
	bound := finalStatusBound
	if ctx.Err() != nil {
		bound = cancelledStatusBound
	}
	finish, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	in := reportInput{cfg: cfg, wf: wf, started: started, finished: r.env.Now(), exp: exp, inj: inj, ro: ro, pr: pr, rb: rb, d: d, gh: gh, warnings: warnings}
	in.lp = r.reportToLaunchplane(finish, cfg, wf, exp, pr, d)
	gh.finish(finish, d, r.red.String(summary.Description(r.buildReport(in))), envURL(cfg, pr))
	r.report(in)
	return d.ExitCode
}

// mask registers secrets with the runner and the program's own redactor.
func (r *runner) mask(values ...string) {
	if added := r.red.add(values...); len(added) > 0 {
		r.sink.mask(added)
	}
}

// confirmations resolves the confirmations input against the target's replica count.
func confirmations(cfg *Config, replicas int) int {
	if cfg.Confirmations > 0 {
		return cfg.Confirmations
	}
	if replicas > 1 {
		return 2 * replicas
	}
	return 1
}

// tenantURLs returns the URLs the tenant is probed at: the inputs, else the target's first
// Dokploy domain, with a note saying so.
func tenantURLs(cfg *Config, inj *Injection) (health, base, note string) {
	if cfg.HealthURL != "" || cfg.BaseURL != "" {
		return cfg.HealthURL, cfg.BaseURL, ""
	}
	if b := domainURL(inj.State); b != "" {
		return "", b, "no health-url or base-url was given: the tenant was probed at the target's first Dokploy domain, " + b
	}
	return "", "", ""
}

// laneURLs returns the URLs a verify run probes: the inputs, else the lane's from Launchplane.
func laneURLs(cfg *Config, exp Expected) (health, base, note string) {
	if cfg.HealthURL != "" || cfg.BaseURL != "" || exp.Record == nil {
		return cfg.HealthURL, cfg.BaseURL, ""
	}
	health, base = exp.Record.HealthURL, exp.Record.BaseURL
	if health != "" || base != "" {
		note = "the tenant was probed at the lane's URLs from Launchplane"
	}
	return health, base, note
}

// verify is the verify step: it probes the tenant until a confirmed match or verify-timeout.
// replicas is the Dokploy target's replica count (0 when unknown). Without an expected
// identity it probes once, to record what the tenant serves.
func (r *runner) verify(ctx context.Context, cfg *Config, exp Expected, health, base, note string, replicas int) *Probe {
	p := &Probe{HealthURL: health, BaseURL: base}
	if note != "" {
		p.Notes = append(p.Notes, note)
	}
	if health == "" && base == "" {
		p.Skipped = "no health-url or base-url was given, so the tenant was not probed"
		p.Notes = append(p.Notes, "the tenant was not probed: set health-url to verify what it serves")
		return p
	}
	type roundLine struct {
		status  identity.Status
		detail  string
		failure probe.Failure
	}
	var (
		last    roundLine
		dnsSaid bool
	)
	var want *identity.Identity
	if exp.Missing == "" {
		want = &exp.Identity
	}
	res, err := probe.Poll(ctx, probe.Options{
		HealthURL:     health,
		BaseURL:       base,
		Expected:      want,
		Timeout:       cfg.VerifyTimeout,
		Confirmations: confirmations(cfg, replicas),
		Client:        r.env.HTTPClient,
		UserAgent:     "runtime-identity/" + Version,
		Now:           r.env.Now,
		Sleep:         r.env.Sleep,
		OnRound: func(rd probe.Round) {
			// Rounds come up to ten a second: log the first, then only what changed.
			dec, _ := rd.Decided()
			line := roundLine{rd.Verdict.Status, rd.Verdict.Detail, dec.Failure}
			if rd.N > 1 && line == last {
				return
			}
			last = line
			r.sink.infof("probe %d: %s (%s)", rd.N, rd.Verdict.Status, rd.Verdict.Detail)
			if dec.Failure == probe.FailureDNSNotFound && !dnsSaid {
				dnsSaid = true
				r.sink.infof("the host %s does not resolve (yet); retrying until verify-timeout %s", probeHost(health, base), cfg.VerifyTimeout)
			}
		},
	})
	p.Result = &res
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// Cancelled: the rounds completed before it stand; decide reports the cancellation.
		p.Fault = &Fault{Exit: ExitUnknown, Message: "the probe was cancelled"}
	default:
		p.Fault = &Fault{Exit: ExitUnknown, Message: fmt.Sprintf("the tenant could not be probed: %v", err)}
	}
	return p
}

// envURL is the link shown on the GitHub deployment: environment-url, else what was probed.
func envURL(cfg *Config, pr *Probe) string {
	if cfg.EnvironmentURL != "" {
		return cfg.EnvironmentURL
	}
	if pr != nil {
		return pr.BaseURL
	}
	return cfg.BaseURL
}

// probeHost is the host a probe asks for, for messages.
func probeHost(health, base string) string {
	for _, raw := range []string{health, base} {
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			return u.Hostname()
		}
	}
	return "of the tenant"
}
