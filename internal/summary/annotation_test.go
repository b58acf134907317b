package summary

import (
	"strings"
	"testing"

	"github.com/launchplane/runtime-identity/internal/identity"
)

func TestAnnotation(t *testing.T) {
	t.Parallel()
	byName := map[string]Report{}
	for _, tc := range cases() {
		byName[tc.name] = tc.r
	}
	softMissing := byName["missing"]
	requiredMissing := byName["missing"]
	requiredMissing.RequireIdentity, requiredMissing.Outcome, requiredMissing.ExitCode = true, OutcomeFailed, 1
	softMismatch := byName["mismatch"]
	softMismatch.RequireIdentity, softMismatch.Outcome, softMismatch.ExitCode = false, OutcomeWarning, 0
	noDokploy := byName["mismatch"]
	noDokploy.Rollout = nil
	stuck := byName["rollout-error"]
	stuck.Rollout = &Rollout{TargetKind: "application", TargetID: "a1", DeploymentID: "dpl-9", Status: "running", Error: "the deployment is still running after 10m0s"}
	stuck.Outcome, stuck.ExitCode = OutcomeError, 3
	unreachable := Report{Mode: "verify", Decision: Decision{Outcome: OutcomeError, ExitCode: 3}, Warnings: []string{"Launchplane unreachable: dial tcp: connection refused"}}
	injected := byName["unverifiable"]
	probe := *injected.Probe
	probe.Answers = []Answer{probe.Answers[0]}
	probe.Answers[0].URL = "https://x.example/\n::error::forged"
	injected.Probe = &probe
	tests := []struct {
		name      string
		r         Report
		wantLevel string
		want      []string // substrings, in order
	}{
		{"match", byName["match"], "", nil},
		{"unchecked", byName["unchecked"], "", nil},
		{"mismatch required", byName["mismatch"], LevelError, []string{
			"the tenant still serves deployment deployment-20260509T090000Z-sellyouroutboard-prod, expected deployment-20260510T141500Z-sellyouroutboard-prod",
			"the old replica is still routed or the rollout did not replace it", "check the Dokploy deployment dpl-7Hq2 and the load balancer"}},
		{"mismatch soft", softMismatch, LevelWarning, []string{"the tenant still serves deployment", "(require-identity is false, so this is a warning)"}},
		{"mismatch without Dokploy", noDokploy, LevelError, []string{"check the deployment and the load balancer"}},
		{"other fields differ", byName["soft-warning"], LevelWarning, []string{"reports a different artifact_id", "observed ghcr.io/cbusillo/sellyouroutboard@sha256:2222"}},
		{"missing soft", softMissing, LevelWarning, []string{"the tenant exposes no identity at https://syo.example.com/api/health: see https://github.com/launchplane/runtime-identity/blob/v1.0.0/docs/drivers/generic-web.md"}},
		{"missing required", requiredMissing, LevelError, []string{"the tenant exposes no identity"}},
		{"malformed", byName["malformed"], LevelError, []string{"on the health surface (key runtime_identity)", "context: is a number"}},
		{"unverifiable", byName["unverifiable"], LevelError, []string{"the tenant gave no usable answer (HTTP 503 from https://syo.example.com/api/health)"}},
		{"rollout failed", byName["rollout-error"], LevelError, []string{"Dokploy deployment dpl-7Hq2 ended in error: see the log tail above"}},
		{"rollout stuck", stuck, LevelError, []string{"Dokploy deployment dpl-9 did not finish: the deployment is still running after 10m0s"}},
		{"could not find out", unreachable, LevelError, []string{"the outcome could not be found out: Launchplane unreachable"}},
		{"newline in a value", injected, LevelError, []string{"HTTP 503 from https://x.example/ ::error::forged"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			level, msg := Annotation(tc.r)
			if level != tc.wantLevel {
				t.Errorf("Annotation() level = %q, want %q (message %q)", level, tc.wantLevel, msg)
			}
			if tc.wantLevel == "" && msg != "" {
				t.Errorf("Annotation() message = %q, want none", msg)
			}
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("Annotation() = %q, want it to contain %q (in order)", msg, w)
					break
				}
				rest = rest[i+len(w):]
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("Annotation() = %q spans lines", msg)
			}
		})
	}
}

func TestAnnotationLongValues(t *testing.T) {
	t.Parallel()
	want := stable()
	obs := old()
	obs.DeploymentRecordID = strings.Repeat("o\n", 1<<20)
	r := base()
	r.Verdict = identity.Compare(&want, identity.Observation{Surface: identity.SurfaceHealth, Found: true, Identity: obs})
	r.Outcome, r.ExitCode = OutcomeFailed, 1
	_, msg := Annotation(r)
	if n := len([]rune(msg)); n > maxAnnotationRunes {
		t.Errorf("Annotation() has %d runes, want <= %d", n, maxAnnotationRunes)
	}
	if !strings.Contains(msg, "expected "+want.DeploymentRecordID) {
		t.Errorf("Annotation() = %.300q lost the expected deployment", msg)
	}
}
