package summary

import (
	"strings"
	"testing"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// An unconfirmed match must read as such everywhere a person looks, not as a tenant that is down.
func TestUnconfirmedMatch(t *testing.T) {
	t.Parallel()
	want := identity.Identity{SchemaVersion: 1, Context: "shop", Instance: "prod", EnvironmentKind: "stable",
		DeploymentRecordID: "deployment-new", ArtifactID: "a", SourceGitRef: "0123456789"}
	r := Report{
		Mode: "verify", Expected: &want,
		Decision: Decision{Outcome: OutcomeWarning, Unconfirmed: true,
			Verdict: identity.Verdict{Status: identity.StatusUnverifiable, Detail: "A match was seen but not confirmed"}},
		Observed: want.Canonical(),
		Probe: &Probe{Surface: identity.SurfaceHealth, URL: "https://shop.example.com/api/health", Attempts: 9, Confirmations: 2, Required: 4, TimedOut: true,
			Answers: []Answer{{Surface: identity.SurfaceHealth, URL: "https://shop.example.com/api/health", StatusCode: 200, Status: identity.StatusMatch, Detail: "identity read"}}},
	}
	md := Markdown(r)
	if !strings.Contains(strings.SplitN(md, "\n", 2)[0], "match not confirmed: 2 of 4") || strings.Contains(md, "no usable answer") {
		t.Errorf("Markdown() heading = %q; want the unconfirmed match, never 'no usable answer'", strings.SplitN(md, "\n", 2)[0])
	}
	if d := Description(r); !strings.Contains(d, "match not confirmed (2 of 4 in a row)") || !strings.Contains(d, "deployment-new") {
		t.Errorf("Description() = %q", d)
	}
	level, msg := Annotation(r)
	if level != LevelWarning || !strings.Contains(msg, "old replicas still routed") || strings.Contains(msg, "no usable answer") {
		t.Errorf("Annotation() = %s %q", level, msg)
	}
}

// A failed run whose verdict says nothing (nothing was probed) names its own failure, not a
// side warning.
func TestAnnotationNamesTheFailure(t *testing.T) {
	t.Parallel()
	r := Report{Mode: "deploy", Decision: Decision{Outcome: OutcomeFailed, ExitCode: 1, Verdict: identity.Verdict{Status: identity.StatusUnchecked},
		Failure: "require-identity is true but there is no tenant URL to probe"}, Warnings: []string{"GitHub: 403 (the verdict and exit code are unaffected)"}}
	level, msg := Annotation(r)
	if level != LevelError || !strings.Contains(msg, "no tenant URL to probe") {
		t.Errorf("Annotation() = %s %q, want the failure", level, msg)
	}
}

func TestRedactJSON(t *testing.T) {
	t.Parallel()
	redact := strings.NewReplacer("s3cret-value", "***", "1234567", "***").Replace
	tests := []struct{ in, want string }{
		{`{"a":"x s3cret-value y","n":1234567,"k":12}`, `{"a":"x *** y","k":12,"n":"***"}`},
		{`{"escaped":"s3cret\u002dvalue","url":"http:\/\/h\/s3cret-value"}`, `{"escaped":"***","url":"http://h/***"}`},
		{`{"s3cret-value":[1,"s3cret-value",{"b":null}]}`, `{"***":[1,"***",{"b":null}]}`},
		{`not json s3cret-value`, `not json ***`},
		{`"s3cret-value"`, `"***"`},
	}
	for _, tt := range tests {
		if got := string(RedactJSON([]byte(tt.in), redact)); got != tt.want {
			t.Errorf("RedactJSON(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// A cancelled run says so, and at which stage, in the heading, the description and the evidence,
// while the verdict stays the last observation.
func TestCancelled(t *testing.T) {
	t.Parallel()
	want := identity.Identity{SchemaVersion: 1, Context: "shop", Instance: "prod", EnvironmentKind: "stable",
		DeploymentRecordID: "deployment-new", ArtifactID: "a", SourceGitRef: "0123456789"}
	r := Report{
		Mode: "verify", Expected: &want,
		Decision: Decision{Outcome: OutcomeError, ExitCode: 3, Cancelled: "verify", TrustState: TrustStale, GitHubState: "error",
			Verdict: identity.Verdict{Status: identity.StatusMismatch, Mismatched: []string{"deployment_record_id"}},
			Failure: "cancelled (SIGINT or SIGTERM) during the verify step; the verdict is the last of 3 observations"},
		Probe: &Probe{Surface: identity.SurfaceHealth, URL: "https://shop.example.com/api/health", Attempts: 3},
	}
	if h := strings.SplitN(Markdown(r), "\n", 2)[0]; !strings.Contains(h, "cancelled during the verify step") || !strings.Contains(h, "last observation: mismatch") {
		t.Errorf("Markdown() heading = %q, want the cancellation, its stage and the last observation", h)
	}
	if d := Description(r); !strings.HasPrefix(d, "mismatch: cancelled during verify") {
		t.Errorf("Description() = %q, want the last verdict and the cancellation", d)
	}
	b, err := Evidence(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"cancelled":"verify"`) || !strings.Contains(string(b), `"runtime_identity_status":"mismatch"`) {
		t.Errorf("Evidence() = %s, want cancelled verify and the last verdict", b)
	}
	if level, msg := Annotation(r); level != LevelError || !strings.Contains(msg, "cancelled") {
		t.Errorf("Annotation() = %s %q, want an error naming the cancellation", level, msg)
	}
}
