package probe

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
)

func TestOnce(t *testing.T) {
	t.Parallel()
	exact := healthOf(newID)
	padded := exact + strings.Repeat(" ", MaxBodyBytes-len(exact))
	tests := []struct {
		name       string
		health     *reply // nil: 404
		wellKnown  *reply // nil: 404
		healthPath string // default healthPath; "-" leaves HealthURL unset
		noBase     bool
		tls        bool
		unchecked  bool
		reqTimeout time.Duration

		wantStatus     identity.Status
		wantDeciding   identity.Surface
		wantDetail     string // substring of Verdict.Detail
		wantAnswers    []string
		wantMismatched []string
		wantNotes      []string // substrings, one note each
		wantDisagree   int
		wantFinalURL   string // suffix of the deciding answer's FinalURL
	}{
		{
			name:         "match",
			health:       ptr(healthReply(newID)),
			wellKnown:    ptr(wellKnownReply(newID)),
			wantStatus:   identity.StatusMatch,
			wantDeciding: identity.SurfaceHealth,
			wantAnswers:  []string{"health 200 found", "well-known 200 found", "headers 200 found", "headers 200 found"},
		},
		{
			name:           "stale mismatch",
			health:         ptr(healthReply(oldID)),
			wellKnown:      ptr(wellKnownReply(oldID)),
			wantStatus:     identity.StatusMismatch,
			wantDeciding:   identity.SurfaceHealth,
			wantDetail:     "mismatched fields: deployment_record_id, artifact_id, source_git_ref",
			wantMismatched: []string{"deployment_record_id", "artifact_id", "source_git_ref"},
			wantAnswers:    []string{"health 200 found", "well-known 200 found", "headers 200 found", "headers 200 found"},
		},
		{
			name:         "missing",
			health:       &reply{body: `{"status":"ok"}`},
			wantStatus:   identity.StatusMissing,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "no runtime_identity key",
			wantAnswers:  []string{"health 200 missing", "well-known 404 not-served", "headers 200 missing"},
		},
		{
			name:         "null",
			health:       &reply{body: `{"status":"ok","runtime_identity":null}`},
			wantStatus:   identity.StatusMissing,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "runtime_identity is null",
			wantAnswers:  []string{"health 200 missing", "well-known 404 not-served", "headers 200 missing"},
		},
		{
			name:         "malformed",
			health:       &reply{body: `{"status":"ok","runtime_identity":{"status":"invalid","error":"malformed_json"}}`},
			wellKnown:    ptr(wellKnownReply(newID)),
			wantStatus:   identity.StatusMalformed,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "could not be parsed",
			wantAnswers:  []string{"health 200 malformed", "well-known 200 found", "headers 200 missing", "headers 200 found"},
		},
		{
			name:         "non-JSON",
			health:       &reply{body: "<html><body>OK</body></html>"},
			noBase:       true,
			wantStatus:   identity.StatusUnverifiable,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "did not return JSON",
			wantAnswers:  []string{"health 200 unverifiable", "headers 200 missing"},
		},
		{
			name:         "503 with an identity in the body is not classified",
			health:       &reply{status: http.StatusServiceUnavailable, body: healthOf(newID), header: headersOf(newID)},
			wellKnown:    ptr(wellKnownReply(newID)),
			wantStatus:   identity.StatusUnverifiable,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "HTTP 503",
			wantAnswers:  []string{"health 503 unverifiable", "well-known 200 found", "headers 200 found"},
			wantNotes:    []string{"the well-known document reports an identity, but the health JSON gave no usable answer (HTTP 503)"},
		},
		{
			name:         "timeout",
			health:       &reply{block: true},
			noBase:       true,
			reqTimeout:   50 * time.Millisecond,
			wantStatus:   identity.StatusUnverifiable,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "timed out after 50ms",
			wantAnswers:  []string{"health 0 unverifiable"},
		},
		{
			name:         "3 redirects are followed",
			health:       ptr(healthReply(newID)),
			healthPath:   "/hop/3",
			noBase:       true,
			wantStatus:   identity.StatusMatch,
			wantDeciding: identity.SurfaceHealth,
			wantAnswers:  []string{"health 200 found", "headers 200 found"},
			wantFinalURL: "/hop/0",
		},
		{
			name:         "a 4th redirect is unverifiable",
			health:       ptr(healthReply(newID)),
			healthPath:   "/hop/4",
			noBase:       true,
			wantStatus:   identity.StatusUnverifiable,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "more than 3 redirects",
			wantAnswers:  []string{"health 0 unverifiable"},
		},
		{
			name:         "body of exactly 1 MiB",
			health:       &reply{body: padded},
			noBase:       true,
			wantStatus:   identity.StatusMatch,
			wantDeciding: identity.SurfaceHealth,
			wantAnswers:  []string{"health 200 found", "headers 200 missing"},
		},
		{
			name:         "body over 1 MiB",
			health:       &reply{body: padded + " "},
			noBase:       true,
			wantStatus:   identity.StatusUnverifiable,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "body over 1 MiB",
			wantAnswers:  []string{"health 200 unverifiable", "headers 200 missing"},
		},
		{
			name:         "a deciding 404 stays unverifiable",
			wellKnown:    ptr(wellKnownReply(newID)),
			wantStatus:   identity.StatusUnverifiable,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "HTTP 404",
			wantAnswers:  []string{"health 404 unverifiable", "well-known 200 found", "headers 200 found"},
			wantNotes:    []string{"the well-known document reports an identity, but the health JSON gave no usable answer (HTTP 404)"},
		},
		{
			name:         "nothing served",
			wantStatus:   identity.StatusUnverifiable,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "HTTP 404",
			wantAnswers:  []string{"health 404 unverifiable", "well-known 404 not-served"},
		},
		{
			name:         "well-known only, not served, decides",
			healthPath:   "-",
			wantStatus:   identity.StatusUnverifiable,
			wantDeciding: identity.SurfaceWellKnown,
			wantDetail:   "HTTP 404",
			wantAnswers:  []string{"well-known 404 unverifiable"},
		},
		{
			name:         "well-known only",
			wellKnown:    ptr(wellKnownReply(newID)),
			healthPath:   "-",
			wantStatus:   identity.StatusMatch,
			wantDeciding: identity.SurfaceWellKnown,
			wantAnswers:  []string{"well-known 200 found", "headers 200 found"},
		},
		{
			name:         "health without identity, the well-known document has it",
			health:       &reply{body: `{"status":"ok"}`},
			wellKnown:    ptr(wellKnownReply(newID)),
			wantStatus:   identity.StatusMatch,
			wantDeciding: identity.SurfaceWellKnown,
			wantAnswers:  []string{"health 200 missing", "well-known 200 found", "headers 200 missing", "headers 200 found"},
			wantNotes:    []string{"the health JSON carries no identity (missing), so the well-known document decided"},
		},
		{
			name:           "non-JSON health, the well-known document has it",
			health:         &reply{body: "OK"},
			wellKnown:      ptr(wellKnownReply(oldID)),
			wantStatus:     identity.StatusMismatch,
			wantDeciding:   identity.SurfaceWellKnown,
			wantAnswers:    []string{"health 200 unverifiable", "well-known 200 found", "headers 200 missing", "headers 200 found"},
			wantNotes:      []string{"the health JSON carries no identity (unverifiable), so the well-known document decided"},
			wantMismatched: []string{"deployment_record_id", "artifact_id", "source_git_ref"},
		},
		{
			name:         "headers only",
			health:       &reply{body: `{"status":"ok"}`, header: headersOf(newID)},
			wantStatus:   identity.StatusMatch,
			wantDeciding: identity.SurfaceHeaders,
			wantAnswers:  []string{"health 200 missing", "well-known 404 not-served", "headers 200 found"},
			wantNotes:    []string{"the identity digest stands for every field", "so the headers of"},
		},
		{
			name:           "stale headers only",
			health:         &reply{body: `{"status":"ok"}`, header: headersOf(oldID)},
			noBase:         true,
			wantStatus:     identity.StatusMismatch,
			wantDeciding:   identity.SurfaceHeaders,
			wantAnswers:    []string{"health 200 missing", "headers 200 found"},
			wantMismatched: []string{"deployment_record_id", "identity_digest"},
			wantNotes:      []string{"the identity digest stands for every field", "so the headers of"},
		},
		{
			name:         "bare deployment header",
			health:       &reply{body: `{"status":"ok"}`, header: map[string]string{identity.HeaderDeployment: newID.DeploymentRecordID}},
			noBase:       true,
			wantStatus:   identity.StatusMatch,
			wantDeciding: identity.SurfaceHeaders,
			wantAnswers:  []string{"health 200 missing", "headers 200 found"},
			wantNotes:    []string{"only deployment_record_id was compared", "so the headers of"},
		},
		{
			name:         "health and well-known disagree",
			health:       ptr(healthReply(newID)),
			wellKnown:    ptr(wellKnownReply(oldID)),
			wantStatus:   identity.StatusMatch,
			wantDeciding: identity.SurfaceHealth,
			wantAnswers:  []string{"health 200 found", "well-known 200 found", "headers 200 found", "headers 200 found"},
			wantDisagree: 2,
			wantNotes: []string{
				"the health JSON and the well-known document disagree on deployment_record_id, artifact_id, source_git_ref, image_reference",
				"the health JSON and the headers of " + "",
			},
		},
		{
			name:         "headers disagree with the body",
			health:       &reply{body: healthOf(newID), header: headersOf(oldID)},
			noBase:       true,
			wantStatus:   identity.StatusMatch,
			wantDeciding: identity.SurfaceHealth,
			wantAnswers:  []string{"health 200 found", "headers 200 found"},
			wantDisagree: 1,
			wantNotes:    []string{"disagree on deployment_record_id, identity_digest"},
		},
		{
			name:         "an injected digest agrees with a body that carries deployed_at",
			health:       &reply{body: healthOf(withDeployedAt(newID)), header: map[string]string{identity.HeaderDigest: newID.Digest()}},
			noBase:       true,
			wantStatus:   identity.StatusMatch,
			wantDeciding: identity.SurfaceHealth,
			wantAnswers:  []string{"health 200 found", "headers 200 found"},
		},
		{
			name:         "TLS error",
			health:       ptr(healthReply(newID)),
			noBase:       true,
			tls:          true,
			wantStatus:   identity.StatusUnverifiable,
			wantDeciding: identity.SurfaceHealth,
			wantDetail:   "TLS certificate not accepted",
			wantAnswers:  []string{"health 0 unverifiable"},
		},
		{
			name:         "unchecked still reports what was observed",
			health:       ptr(healthReply(oldID)),
			wellKnown:    ptr(wellKnownReply(oldID)),
			unchecked:    true,
			wantStatus:   identity.StatusUnchecked,
			wantDeciding: identity.SurfaceHealth,
			wantAnswers:  []string{"health 200 found", "well-known 200 found", "headers 200 found", "headers 200 found"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			routes := map[string]func(int) reply{}
			if tt.health != nil {
				routes[healthPath] = always(*tt.health)
			}
			if tt.wellKnown != nil {
				routes[identity.WellKnownPath] = always(*tt.wellKnown)
			}
			tn := newTenant(t, tt.tls, routes)
			opts := Options{Expected: &newID, RequestTimeout: tt.reqTimeout}
			if tt.unchecked {
				opts.Expected = nil
			}
			switch tt.healthPath {
			case "":
				opts.HealthURL = tn.URL + healthPath
			case "-":
			default:
				opts.HealthURL = tn.URL + tt.healthPath
			}
			if !tt.noBase {
				opts.BaseURL = tn.URL
			}
			r, err := Once(context.Background(), opts)
			if err != nil {
				t.Fatalf("Once() error = %v", err)
			}
			if r.Verdict.Status != tt.wantStatus {
				t.Errorf("Once() status = %s (%s), want %s", r.Verdict.Status, r.Verdict.Detail, tt.wantStatus)
			}
			if r.Deciding != tt.wantDeciding {
				t.Errorf("Once() deciding = %s, want %s", r.Deciding, tt.wantDeciding)
			}
			if !strings.Contains(r.Verdict.Detail, tt.wantDetail) {
				t.Errorf("Once() detail = %q, want it to contain %q", r.Verdict.Detail, tt.wantDetail)
			}
			if diff := cmp.Diff(tt.wantAnswers, summarize(r.Answers)); diff != "" {
				t.Errorf("Once() answers mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMismatched, r.Verdict.Mismatched); diff != "" {
				t.Errorf("Once() mismatched fields (-want +got):\n%s", diff)
			}
			for _, want := range tt.wantNotes {
				if !containsOne(r.Verdict.Notes, want) {
					t.Errorf("Once() notes = %q, want one containing %q", r.Verdict.Notes, want)
				}
			}
			if len(r.Disagreements) != tt.wantDisagree {
				t.Errorf("Once() disagreements = %q, want %d", r.Disagreements, tt.wantDisagree)
			}
			for _, d := range r.Disagreements {
				if !containsOne(r.Verdict.Notes, d) {
					t.Errorf("Once() notes = %q, want the disagreement %q among them", r.Verdict.Notes, d)
				}
			}
			dec, ok := r.Decided()
			if !ok {
				t.Fatalf("Decided() found no answer for %s %s", r.Deciding, r.DecidingURL)
			}
			if dec.Surface != tt.wantDeciding {
				t.Errorf("Decided().Surface = %s, want %s", dec.Surface, tt.wantDeciding)
			}
			if tt.wantFinalURL != "" && !strings.HasSuffix(dec.FinalURL, tt.wantFinalURL) {
				t.Errorf("Decided().FinalURL = %q, want suffix %q", dec.FinalURL, tt.wantFinalURL)
			}
			for _, a := range r.Answers {
				checkAnswer(t, a, tt.health)
				if strings.Contains(a.URL, "?") || strings.Contains(a.FinalURL, "?") {
					t.Errorf("answer URL %q / %q carries a query", a.URL, a.FinalURL)
				}
				if !a.Observation.Found && a.Observation.Detail == "" {
					t.Errorf("answer %s %s has no detail", a.Surface, a.URL)
				}
			}
		})
	}
}

// checkAnswer checks what every answer promises: a typed failure exactly with an error, the
// not-served reading, and the health body as served (nil on other surfaces).
func checkAnswer(t *testing.T, a Answer, health *reply) {
	t.Helper()
	if (a.Error == "") != (a.Failure == "") {
		t.Errorf("%s %s: error %q with failure %q, want both or neither", a.Surface, a.URL, a.Error, a.Failure)
	}
	if a.NotServed != (a.StatusCode == http.StatusNotFound && a.Error == "") {
		t.Errorf("%s %s: HTTP %d, error %q, not served %v", a.Surface, a.URL, a.StatusCode, a.Error, a.NotServed)
	}
	if a.NotServed && (a.Observation.Status != identity.StatusMissing || a.Observation.Detail != "not served (404)") {
		t.Errorf("%s %s: not served reads %s %q, want missing %q", a.Surface, a.URL, a.Observation.Status, a.Observation.Detail, "not served (404)")
	}
	var want []byte
	switch {
	case a.Surface != identity.SurfaceHealth || a.StatusCode == 0:
	case health == nil:
		want = []byte("404 page not found\n")
	case len(health.body) <= MaxBodyBytes:
		want = []byte(health.body)
	}
	if !bytes.Equal(a.Body, want) || (want != nil) != (a.Body != nil) {
		t.Errorf("%s %s: body of %d bytes, want %d bytes", a.Surface, a.URL, len(a.Body), len(want))
	}
}

func ptr[T any](v T) *T { return &v }

func withDeployedAt(id identity.Identity) identity.Identity {
	id.DeployedAt = "2026-03-01T12:00:05Z"
	return id
}

func containsOne(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestOnceRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r, err := Once(context.Background(), Options{
		HealthURL: "http://probe:s3cret@" + addr + "/api/health?token=s3cret",
		Expected:  &newID,
	})
	if err != nil {
		t.Fatalf("Once() error = %v", err)
	}
	if r.Verdict.Status != identity.StatusUnverifiable {
		t.Errorf("Once() status = %s, want %s", r.Verdict.Status, identity.StatusUnverifiable)
	}
	if got, want := r.Answers[0].Error, "connection refused"; got != want {
		t.Errorf("Once() answer error = %q, want %q", got, want)
	}
	if got, want := r.DecidingURL, "http://"+addr+"/api/health"; got != want {
		t.Errorf("Once() deciding URL = %q, want %q", got, want)
	}
	for _, s := range []string{r.Verdict.Detail, r.Answers[0].URL, r.Answers[0].Error} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("Once() leaks a credential: %q", s)
		}
	}
}

func TestOnceCancelled(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false, map[string]func(int) reply{healthPath: always(healthReply(newID))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Once(ctx, Options{HealthURL: tn.URL + healthPath, Expected: &newID})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("Once() error = %v, want context canceled", err)
	}
	if got := len(tn.received()); got != 0 {
		t.Errorf("tenant received %d requests, want 0", got)
	}
}

// Each answer carries its own comparison: a stale route on one surface shows on that surface
// only, and a surface the tenant does not serve reads "not served".
func TestAnswerStatus(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false, map[string]func(int) reply{
		healthPath:             always(healthReply(newID)),
		identity.WellKnownPath: always(wellKnownReply(oldID)),
	})
	want := newID
	r, err := Once(context.Background(), Options{HealthURL: tn.URL + healthPath, BaseURL: tn.URL, Expected: &want})
	if err != nil {
		t.Fatal(err)
	}
	got := map[identity.Surface][]identity.Status{}
	for _, a := range r.Answers {
		got[a.Surface] = append(got[a.Surface], a.Status)
	}
	wantStatus := map[identity.Surface][]identity.Status{
		identity.SurfaceHealth:    {identity.StatusMatch},
		identity.SurfaceWellKnown: {identity.StatusMismatch},
		identity.SurfaceHeaders:   {identity.StatusMatch, identity.StatusMismatch},
	}
	if diff := cmp.Diff(wantStatus, got); diff != "" {
		t.Errorf("Once() answer statuses (-want +got):\n%s", diff)
	}
	notServed := newTenant(t, false, map[string]func(int) reply{healthPath: always(healthReply(newID))})
	r, err = Once(context.Background(), Options{HealthURL: notServed.URL + healthPath, BaseURL: notServed.URL, Expected: &want})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range r.Answers {
		if a.Surface == identity.SurfaceWellKnown && (!a.NotServed || a.Status != identity.StatusMissing) {
			t.Errorf("well-known answer = not served %v, status %s; want not served, missing", a.NotServed, a.Status)
		}
	}
}
