package action

import (
	"encoding/json"
	"maps"
	"os"
	"strconv"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// summaryReport gathers the run into the summary package's input.
func (r *run) summaryReport() summary.Report {
	want := r.expected
	rep := summary.Report{
		Mode:            string(r.cfg.Mode),
		Expected:        &want,
		Verdict:         r.verdict,
		RequireIdentity: r.cfg.RequireIdentity,
		Outcome:         r.outcome,
		ExitCode:        r.exit,
		Notes:           append(append([]string{}, r.notes...), r.verdict.Notes...),
		Warnings:        append([]string{}, r.warnings...),
		Unavailable:     maps.Clone(r.unavailable),
		StartedAt:       r.started,
		FinishedAt:      r.env.Now(),
		Provenance:      r.prov,
	}
	rep.Tool.Name, rep.Tool.Version = "runtime-identity", Version
	rep.Links.Run = r.wf.RunURL()
	if r.record != nil {
		rep.Links.Record = r.record.URL
	}
	rep.Redact = r.red.String
	rep.Failure = r.failure
	if p := r.probe; p != nil {
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
			ans := summary.Answer{Surface: a.Surface, URL: a.URL, StatusCode: a.StatusCode, Detail: a.Observation.Detail}
			if a.Error != "" {
				ans.Detail = a.Error
			}
			ans.Key = a.Observation.Key
			if a.Observation.Found {
				ans.Status = identity.Compare(&want, a.Observation).Status
				ans.DeploymentRecordID = a.Observation.Identity.DeploymentRecordID
				ans.Digest = a.Observation.Digest
			} else {
				ans.Status = a.Observation.Status
			}
			sp.Answers = append(sp.Answers, ans)
		}
		rep.Probe = sp
		rep.Observed = r.observedRaw()
	}
	rep.Rollout = r.rollout
	if g := r.github; g != nil {
		gh := g.GitHub
		rep.GitHub = &gh
	}
	return rep
}

// observedRaw returns the identity the deciding answer reported, as sent.
func (r *run) observedRaw() json.RawMessage {
	if r.probe == nil {
		return nil
	}
	for _, a := range r.probe.Last.Answers {
		if a.Surface == r.probe.Surface && len(a.Observation.Raw) > 0 && string(a.Observation.Raw) != "null" {
			return a.Observation.Raw
		}
	}
	return nil
}

// description is the one-line description for the GitHub deployment status.
func (r *run) description() string {
	return r.red.String(summary.Description(r.summaryReport()))
}

// report writes the summary, the outputs, the evidence file and the final annotation.
func (r *run) report() {
	rep := r.summaryReport()
	// Outputs built from validated inputs are written as they are; anything a tenant or Dokploy
	// reported is cleaned of line breaks, capped and redacted.
	set := r.sink.setOutput
	untrusted := func(name, v string) { set(name, cleanOutput(r.red.String(v))) }
	set("status", string(r.verdict.Status))
	set("identity-json", string(r.expected.Canonical()))
	set("digest", r.expected.Digest())
	set("breadcrumb", r.expected.Breadcrumb())
	set("deployment-record-id", r.expected.DeploymentRecordID)
	set("mismatched-fields", strings.Join(r.verdict.Mismatched, ","))
	observed := compactJSON(r.observedRaw(), r.red.String)
	if len(observed) > maxOutputLen {
		observed = "" // cut JSON is no JSON; the evidence file marks it as cut
	}
	set("observed-json", observed)
	if r.rollout != nil {
		untrusted("dokploy-deployment-id", r.rollout.DeploymentID)
	}
	if r.github != nil && r.github.DeploymentID != 0 {
		set("github-deployment-id", strconv.FormatInt(r.github.DeploymentID, 10))
	}
	if r.probe != nil && r.probe.Confirmed && r.verdict.Status == identity.StatusMatch {
		set("time-to-match-ms", strconv.FormatInt(r.probe.TimeToMatch.Milliseconds(), 10))
	}
	if r.cfg.Mode == ModeRender {
		var lines []string
		for _, kv := range r.expected.EnvVars() {
			lines = append(lines, kv.Key+"="+kv.Value)
		}
		set("env-lines", strings.Join(lines, "\n"))
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

// writeEvidence writes the evidence JSON under RUNNER_TEMP (else the temp dir) and returns its
// absolute path.
func (r *run) writeEvidence(rep summary.Report) (string, error) {
	b, err := summary.Evidence(rep)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(r.evidenceDir(), "runtime-identity-evidence-*.json")
	if err != nil {
		return "", err
	}
	defer f.Close()
	// summary.Evidence redacted every value before marshalling; redacting the JSON text again
	// could corrupt it (a numeric secret inside a number).
	if _, err := f.Write(b); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// compactJSON renders an untrusted JSON value on one line with every secret redacted, or "" when
// there is none or it is not JSON.
func compactJSON(raw json.RawMessage, redact func(string) string) string {
	if len(raw) == 0 || !json.Valid(raw) {
		return ""
	}
	return string(summary.RedactJSON(raw, redact))
}
