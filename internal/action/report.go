package action

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// reportInput is everything a run's report is built from: the steps' results and the decision.
type reportInput struct {
	cfg      *Config
	wf       Workflow
	started  time.Time
	finished time.Time
	exp      Expected
	inj      *Injection
	ro       *Rollout
	pr       *Probe
	rb       *Rollback
	d        summary.Decision
	gh       *githubReporter
	lp       lpReport
	warnings []string
}

// buildReport gathers the run into the summary package's input. It copies what the steps found
// and the decision; it decides nothing.
func (r *runner) buildReport(in reportInput) summary.Report {
	want := in.exp.Identity
	rep := summary.Report{
		Mode:            string(in.cfg.Mode),
		Expected:        &want,
		Decision:        in.d,
		RequireIdentity: in.cfg.RequireIdentity,
		Unavailable:     map[string]string{},
		StartedAt:       in.started,
		FinishedAt:      in.finished,
		Provenance:      in.exp.Provenance,
		Redact:          r.red.String,
	}
	rep.Tool.Name, rep.Tool.Version = "runtime-identity", Version
	rep.Links.Run = in.wf.RunURL()
	if in.exp.Record != nil {
		rep.Links.Record = in.exp.Record.URL
	}
	if in.exp.Missing != "" {
		rep.Expected = nil
		rep.Unavailable["expected_runtime_identity"] = in.exp.Missing
	}
	rep.Notes = append(rep.Notes, in.exp.Notes...)
	rep.Warnings = append(rep.Warnings, in.warnings...)
	switch in.cfg.Mode {
	case ModeRender:
		rep.Unavailable["observed_runtime_identity"] = "render mode does not probe the tenant"
		rep.Unavailable["dokploy"] = "render mode does not deploy"
	case ModeVerify:
		rep.Unavailable["dokploy"] = "verify mode does not deploy"
	case ModeInject:
		rep.Unavailable["observed_runtime_identity"] = "inject mode does not deploy or probe; another step deploys"
	}
	if inj := in.inj; inj != nil {
		ro := &summary.Rollout{TargetKind: string(inj.Target.Kind), TargetID: inj.Target.ID, EnvChanged: inj.Written}
		if f := inj.Fault; f != nil {
			ro.Error = f.Message
		}
		if x := in.ro; x != nil {
			ro.Trigger, ro.DeploymentID, ro.Status, ro.Title = x.Trigger, x.DeploymentID, x.Status, x.Title
			ro.Ending, ro.LogTail = x.Ending, x.LogTail
			ro.Duration, ro.QueuedFor = x.Elapsed, x.QueuedFor
			if f := x.Fault; f != nil {
				ro.Error = f.Message
			}
			rep.Notes = append(rep.Notes, x.Notes...)
			rep.Warnings = append(rep.Warnings, x.Warnings...)
		}
		rep.Rollout = ro
		rep.Notes = append(rep.Notes, inj.Notes...)
		rep.Warnings = append(rep.Warnings, inj.Warnings...)
	}
	if pr := in.pr; pr != nil {
		rep.Notes = append(rep.Notes, pr.Notes...)
		if pr.Skipped != "" {
			rep.Unavailable["observed_runtime_identity"] = pr.Skipped
		}
		if res := pr.Result; res != nil && res.Attempts > 0 {
			rep.Probe = probeReport(pr)
			rep.Observed = pr.observedRaw()
			if s := in.d.Verdict.Status; s != identity.StatusMatch && s != identity.StatusMismatch && rep.Observed == nil {
				rep.Unavailable["observed_runtime_identity"] = in.d.Verdict.Detail
			}
		}
	}
	if rb := in.rb; rb != nil {
		sr := &summary.Rollback{RollbackID: rb.RollbackID, DeploymentID: rb.DeploymentID, Performed: rb.Performed, Restored: rb.Restored,
			EnvRestored: rb.EnvRestored, Elapsed: rb.Elapsed, Notes: rb.Notes}
		sr.Verdict = identity.Compare(nil, identity.Observation{})
		switch {
		case rb.NotPossible != "":
			sr.Reason = rb.NotPossible
		case rb.CallFailed != "":
			sr.Reason = rb.CallFailed
		}
		if p := rb.Probe; p != nil && p.Result != nil && p.Result.Attempts > 0 {
			sr.Verdict = p.Result.Verdict
			if p.Result.Confirmed {
				sr.TimeToMatch = p.Result.TimeToMatch
			}
		}
		rep.Rollback = sr
		rep.Warnings = append(rep.Warnings, rb.Warnings...)
	}
	if g := in.gh; g != nil {
		if g.report != nil {
			gh := *g.report
			rep.GitHub = &gh
		} else if g.off != "" {
			rep.Unavailable["github"] = g.off
		}
		if g.client != nil && !in.cfg.GitHubDeployment {
			rep.Unavailable["github_deployment"] = "github-deployment is false"
		}
		rep.Warnings = append(rep.Warnings, g.warnings...)
	}
	rep.Notes = append(rep.Notes, in.lp.notes...)
	rep.Warnings = append(rep.Warnings, in.lp.warnings...)
	return rep
}

// probeReport copies the probe's result into the summary's terms.
func probeReport(pr *Probe) *summary.Probe {
	p := pr.Result
	sp := &summary.Probe{
		Surface:       p.Surface,
		URL:           p.URL,
		Attempts:      p.Attempts,
		Confirmations: p.Confirmations,
		Required:      p.Required,
		TimeToMatch:   p.TimeToMatch,
		Elapsed:       p.Elapsed,
		FirstSeen:     p.FirstSeen,
		TimedOut:      p.TimedOut,
	}
	for _, a := range p.Last.Answers {
		ans := summary.Answer{Surface: a.Surface, URL: a.URL, StatusCode: a.StatusCode, Status: a.Status, Detail: a.Observation.Detail, Key: a.Observation.Key}
		switch {
		case a.NotServed:
			ans.Status, ans.Detail = summary.StatusNotServed, ""
		case a.Error != "":
			ans.Detail = a.Error
		}
		if a.Observation.Found {
			ans.DeploymentRecordID = a.Observation.Identity.DeploymentRecordID
			ans.Digest = a.Observation.Digest
		}
		sp.Answers = append(sp.Answers, ans)
	}
	return sp
}

// report writes the summary, the outputs, the evidence file and the final annotation.
func (r *runner) report(in reportInput) {
	rep := r.buildReport(in)
	want := in.exp.Identity
	// Outputs built from validated inputs are written as they are; anything a tenant or Dokploy
	// reported is cleaned of line breaks, capped and redacted.
	set := r.sink.setOutput
	untrusted := func(name, v string) { set(name, cleanOutput(r.red.String(v))) }
	set("status", string(in.d.Verdict.Status))
	if in.exp.Missing == "" {
		set("identity-json", string(want.Canonical()))
		set("digest", want.Digest())
		set("breadcrumb", want.Breadcrumb())
	}
	set("deployment-record-id", want.DeploymentRecordID)
	if in.lp.status != "" {
		set("launchplane-report-status", in.lp.status)
	}
	if in.d.RollbackStatus != "" {
		set("rollback-status", in.d.RollbackStatus)
		if in.rb != nil && in.rb.DeploymentID != "" {
			untrusted("rollback-deployment-id", in.rb.DeploymentID)
		}
	}
	set("mismatched-fields", strings.Join(in.d.Verdict.Mismatched, ","))
	observed := compactJSON(rep.Observed, r.red.String)
	if len(observed) > maxOutputLen {
		observed = "" // cut JSON is no JSON; the evidence file marks it as cut
	}
	set("observed-json", observed)
	if rep.Rollout != nil {
		untrusted("dokploy-deployment-id", rep.Rollout.DeploymentID)
	}
	if rep.GitHub != nil && rep.GitHub.DeploymentID != 0 {
		set("github-deployment-id", strconv.FormatInt(rep.GitHub.DeploymentID, 10))
	}
	if in.d.Verdict.Status == identity.StatusMatch && rep.Probe != nil {
		set("time-to-match-ms", strconv.FormatInt(rep.Probe.TimeToMatch.Milliseconds(), 10))
	}
	if in.cfg.Mode == ModeRender {
		var lines []string
		for _, kv := range want.EnvVars() {
			lines = append(lines, kv.Key+"="+kv.Value)
		}
		set("env-lines", strings.Join(lines, "\n"))
	}
	if in.cfg.IdentityOut != "" && in.exp.Missing == "" {
		// One line, as render prints it: a file identity-file and --expect-file read back.
		if err := os.WriteFile(in.cfg.IdentityOut, append(want.Canonical(), '\n'), 0o644); err != nil {
			r.sink.annotate("warning", "identity-out: "+err.Error())
		} else {
			r.sink.infof("wrote the expected identity to %s", in.cfg.IdentityOut)
		}
	}
	if path, err := r.writeEvidence(rep); err != nil {
		r.sink.annotate("warning", "evidence file: "+err.Error())
	} else {
		set("evidence-path", path)
	}
	r.sink.summary(summary.Markdown(rep))
	if level, msg := summary.Annotation(rep); level != "" {
		r.sink.annotate(level, msg)
	}
	if ts, ok := r.sink.(*termSink); ok {
		ts.flush()
	}
}

// writeEvidence writes the evidence JSON and returns the evidence-path output.
//
// As an Action the file lives under GITHUB_WORKSPACE and the path is relative to it: the runner
// mounts the workspace at another path inside the container (/github/workspace), so an absolute
// path printed here would not open on the host, while a later step, host or container, runs
// in the workspace. From the CLI the path is absolute, in the temp dir, and each run replaces
// the previous file so evidence does not pile up.
func (r *runner) writeEvidence(rep summary.Report) (string, error) {
	b, err := summary.Evidence(rep)
	if err != nil {
		return "", err
	}
	// summary.Evidence redacted every value before marshalling; redacting the JSON text again
	// could corrupt it (a numeric secret inside a number).
	dir, rel := r.evidenceLocation()
	if len(r.env.Args) == 0 && r.env.Getenv("GITHUB_WORKSPACE") != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		f, err := os.CreateTemp(dir, "evidence-*.json")
		if err != nil {
			return "", err
		}
		defer f.Close()
		if _, err := f.Write(b); err != nil {
			return "", err
		}
		return rel(f.Name())
	}
	// The CLI keeps one file: write beside it and rename, so a reader never sees half a file.
	f, err := os.CreateTemp(dir, cliEvidenceName+".*")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	path := filepath.Join(dir, cliEvidenceName)
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return rel(path)
}

// compactJSON renders an untrusted JSON value on one line with every secret redacted, or "" when
// there is none or it is not JSON.
func compactJSON(raw json.RawMessage, redact func(string) string) string {
	if len(raw) == 0 || !json.Valid(raw) {
		return ""
	}
	return string(summary.RedactJSON(raw, redact))
}
