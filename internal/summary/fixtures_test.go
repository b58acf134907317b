package summary

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	t0      = time.Date(2026, 5, 10, 15, 2, 11, 0, time.UTC)
	runURL  = "https://github.com/acme/syo/actions/runs/42/job/7"
	baseURL = "https://syo.example.com"
)

// stable is the stable fixture identity (internal/identity/testdata/launchplane).
func stable() identity.Identity {
	return identity.Identity{
		SchemaVersion:      1,
		Product:            "sellyouroutboard",
		Context:            "sellyouroutboard",
		Instance:           "prod",
		EnvironmentKind:    "stable",
		DeploymentRecordID: "deployment-20260510T141500Z-sellyouroutboard-prod",
		ArtifactID:         "ghcr.io/cbusillo/sellyouroutboard@sha256:1111111111111111111111111111111111111111111111111111111111111111",
		SourceGitRef:       "6b3c9d7e8f901234567890abcdef1234567890ab",
		ImageReference:     "ghcr.io/cbusillo/sellyouroutboard@sha256:1111111111111111111111111111111111111111111111111111111111111111",
	}
}

// old is what a tenant still serving the previous deployment reports.
func old() identity.Identity {
	id := stable()
	id.DeploymentRecordID = "deployment-20260509T090000Z-sellyouroutboard-prod"
	id.ArtifactID = "ghcr.io/cbusillo/sellyouroutboard@sha256:0000000000000000000000000000000000000000000000000000000000000000"
	id.ImageReference = id.ArtifactID
	id.SourceGitRef = "0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"
	id.DeployedAt = "2026-05-09T09:04:40Z"
	return id
}

func provenance() map[string]Source {
	return map[string]Source{
		"product":              {SourceInput, "product"},
		"context":              {SourceInput, "context"},
		"instance":             {SourceInput, "instance"},
		"artifact_id":          {SourceInput, "artifact-id"},
		"image_reference":      {SourceDefault, "artifact-id"},
		"environment_kind":     {SourceDefault, "stable outside pull_request events"},
		"source_git_ref":       {SourceWorkflow, "GITHUB_SHA"},
		"deployment_record_id": {SourceDefault, "generated in Launchplane's format"},
	}
}

// base is a deploy-mode report up to the probe.
func base() Report {
	want := stable()
	return Report{
		Tool:            Tool{"runtime-identity", "v1.0.0"},
		Mode:            "deploy",
		Expected:        &want,
		Provenance:      provenance(),
		RequireIdentity: true,
		Rollout: &Rollout{
			TargetKind: "application", TargetID: "8f3kqz0a", DeploymentID: "dpl-7Hq2", Status: "done",
			Title: "runtime-identity deploy-20260510", Duration: 42300 * time.Millisecond, QueuedFor: 2100 * time.Millisecond,
			Trigger: "deploy", EnvChanged: true,
		},
		GitHub: &GitHub{
			DeploymentID: 1234567, Environment: "sellyouroutboard/prod",
			EnvironmentURL: baseURL, LogURL: runURL,
		},
		Links:      Links{Run: runURL},
		StartedAt:  t0,
		FinishedAt: t0.Add(71 * time.Second),
	}
}

// observed returns the raw identity JSON a health body carries.
func observedJSON(id identity.Identity) json.RawMessage { return json.RawMessage(id.Canonical()) }

// answers builds the final answers of the three surfaces.
func answers(st identity.Status, code int, dep, detail string) []Answer {
	return []Answer{
		{Surface: identity.SurfaceHealth, URL: baseURL + "/api/health", StatusCode: code, Status: st, Key: "runtime_identity", Detail: detail, DeploymentRecordID: dep},
		{Surface: identity.SurfaceHeaders, URL: baseURL + "/api/health", StatusCode: code, Status: st, DeploymentRecordID: dep},
	}
}

// cases are the golden reports: every verdict, a rollout error and a soft warning.
func cases() []struct {
	name string
	r    Report
} {
	want := stable()

	unchecked := base()
	unchecked.Mode = "render"
	unchecked.Rollout, unchecked.GitHub = nil, nil
	unchecked.RequireIdentity = false
	unchecked.Verdict = identity.Compare(nil, identity.Observation{})
	unchecked.Outcome, unchecked.ExitCode = OutcomePassed, 0

	match := base()
	match.Verdict = identity.Compare(&want, identity.Observation{Surface: identity.SurfaceHealth, Found: true, Identity: want.Injected(), Key: "runtime_identity"})
	match.Outcome, match.ExitCode = OutcomePassed, 0
	match.Observed = observedJSON(want.Injected())
	match.Probe = &Probe{
		Surface: identity.SurfaceHealth, URL: baseURL + "/api/health", Attempts: 9, Confirmations: 2, Required: 2,
		TimeToMatch: 12400 * time.Millisecond, Elapsed: 12400 * time.Millisecond,
		FirstSeen: map[identity.Status]time.Duration{identity.StatusMismatch: 0, identity.StatusMatch: 10200 * time.Millisecond},
		Answers:   answers(identity.StatusMatch, 200, want.DeploymentRecordID, "identity read"),
	}

	mismatch := base()
	mismatch.Verdict = identity.Compare(&want, identity.Observation{Surface: identity.SurfaceHealth, Found: true, Identity: old(), Key: "runtime_identity"})
	mismatch.Outcome, mismatch.ExitCode = OutcomeFailed, 1
	mismatch.Observed = observedJSON(old())
	mismatch.Probe = &Probe{
		Surface: identity.SurfaceHealth, URL: baseURL + "/api/health", Attempts: 181, Required: 2,
		Elapsed: 3 * time.Minute, TimedOut: true,
		FirstSeen: map[identity.Status]time.Duration{identity.StatusMismatch: 0},
		Answers:   answers(identity.StatusMismatch, 200, old().DeploymentRecordID, "identity read"),
	}

	missingObs := identity.ExtractHealth([]byte(`{"status":"ok"}`))
	missing := base()
	missing.Mode = "verify"
	missing.Rollout = nil
	missing.RequireIdentity = false
	missing.Verdict = identity.Compare(&want, missingObs)
	missing.Outcome, missing.ExitCode = OutcomeWarning, 0
	missing.Probe = &Probe{
		Surface: identity.SurfaceHealth, URL: baseURL + "/api/health", Attempts: 61, Required: 1, Elapsed: time.Minute, TimedOut: true,
		FirstSeen: map[identity.Status]time.Duration{identity.StatusMissing: 0},
		Answers:   answers(identity.StatusMissing, 200, "", missingObs.Detail),
	}

	malformedBody := []byte(`{"status":"ok","runtime_identity":{"schema_version":1,"context":7,"instance":"prod"}}`)
	malformedObs := identity.ExtractHealth(malformedBody)
	malformed := base()
	malformed.Mode = "verify"
	malformed.Rollout = nil
	malformed.Verdict = identity.Compare(&want, malformedObs)
	malformed.Outcome, malformed.ExitCode = OutcomeFailed, 1
	malformed.Observed = malformedObs.Raw
	malformed.Probe = &Probe{
		Surface: identity.SurfaceHealth, URL: baseURL + "/api/health", Attempts: 61, Required: 1, Elapsed: time.Minute, TimedOut: true,
		FirstSeen: map[identity.Status]time.Duration{identity.StatusMalformed: 0},
		Answers:   []Answer{{Surface: identity.SurfaceHealth, URL: baseURL + "/api/health", StatusCode: 200, Status: identity.StatusMalformed, Key: malformedObs.Key, Detail: malformedObs.Detail}},
	}

	unverifiable := base()
	unverifiable.Mode = "verify"
	unverifiable.Rollout = nil
	unverifiable.Verdict = identity.Compare(&want, identity.Observation{Surface: identity.SurfaceHealth, Status: identity.StatusUnverifiable, Detail: "HTTP 503 Service Unavailable"})
	unverifiable.Outcome, unverifiable.ExitCode = OutcomeFailed, 1
	unverifiable.Probe = &Probe{
		Surface: identity.SurfaceHealth, URL: baseURL + "/api/health", Attempts: 61, Required: 1, Elapsed: time.Minute, TimedOut: true,
		FirstSeen: map[identity.Status]time.Duration{identity.StatusUnverifiable: 0},
		Answers:   []Answer{{Surface: identity.SurfaceHealth, URL: baseURL + "/api/health", StatusCode: 503, Status: identity.StatusUnverifiable, Detail: "HTTP 503 Service Unavailable"}},
	}
	unverifiable.Unavailable = map[string]string{"observed_runtime_identity": "the tenant answered HTTP 503"}

	rollout := base()
	rollout.Rollout.Status = "error"
	rollout.Rollout.Error = "the deployment ended in error"
	rollout.Rollout.Ending = "error"
	rollout.Rollout.LogTail = "Step 7/9 : RUN npm ci\nnpm ERR! network timeout\n```\nerror: build failed"
	rollout.Rollout.Duration = 18 * time.Second
	rollout.Verdict = identity.Verdict{Status: identity.StatusUnchecked, Detail: "Runtime identity was not verified: the rollout did not end in done."}
	rollout.Outcome, rollout.ExitCode = OutcomeFailed, 1
	rollout.Notes = []string{"Dokploy log tail printed in the \"Dokploy deployment log\" group"}

	soft := base()
	softObs := want.Injected()
	softObs.ArtifactID = "ghcr.io/cbusillo/sellyouroutboard@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	softObs.SourceGitRef = "6b3c9d7"
	soft.RequireIdentity = false
	soft.Verdict = identity.Compare(&want, identity.Observation{Surface: identity.SurfaceHealth, Found: true, Identity: softObs, Key: "runtime_identity", UnknownKeys: []string{"region"}})
	soft.Outcome, soft.ExitCode = OutcomeWarning, 0
	soft.Observed = observedJSON(softObs)
	soft.Probe = &Probe{
		Surface: identity.SurfaceHealth, URL: baseURL + "/api/health", Attempts: 181, Required: 1, Elapsed: 3 * time.Minute, TimedOut: true,
		FirstSeen: map[identity.Status]time.Duration{identity.StatusMismatch: 0},
		Answers:   answers(identity.StatusMismatch, 200, want.DeploymentRecordID, "identity read"),
	}
	soft.GitHub.Error = "create deployment status: GitHub answered 502"
	soft.Warnings = []string{"the GitHub deployment status could not be written: GitHub answered 502 (the verdict is unaffected)"}

	rollout.RolloutFailed = true
	out := []struct {
		name string
		r    Report
	}{
		{"unchecked", unchecked},
		{"match", match},
		{"mismatch", mismatch},
		{"missing", missing},
		{"malformed", malformed},
		{"unverifiable", unverifiable},
		{"rollout-error", rollout},
		{"soft-warning", soft},
	}
	// The GitHub state each run decided (internal/action's decide).
	states := map[string]string{"match": "success", "mismatch": "failure", "missing": "success", "malformed": "failure",
		"unverifiable": "failure", "rollout-error": "failure", "soft-warning": "failure"}
	for i := range out {
		r := &out[i].r
		r.TrustState = TrustStateOf(r.Verdict.Status, r.Expected != nil)
		r.GitHubState = states[out[i].name]
	}
	return out
}

// evidenceSchema compiles schema/evidence.v1.schema.json with the identity schema it refers to.
func evidenceSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range []string{"runtime-identity.v1.schema.json", "evidence.v1.schema.json"} {
		fh, err := os.Open("../../schema/" + f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.AddResource("https://github.com/launchplane/runtime-identity/schema/"+f, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("https://github.com/launchplane/runtime-identity/schema/evidence.v1.schema.json")
	if err != nil {
		t.Fatalf("compile evidence schema: %v", err)
	}
	return s
}

// validateEvidence checks one evidence document against the schema.
func validateEvidence(t testing.TB, s *jsonschema.Schema, b []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("evidence is not JSON: %v", err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("evidence does not follow schema/evidence.v1.schema.json: %v", err)
	}
}
