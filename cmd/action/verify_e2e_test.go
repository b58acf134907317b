package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/launchplane/runtime-identity/internal/identity"
)

const headSHA = "0123456789abcdef0123456789abcdef01234567"

// prEvent is a pull_request event payload for PR 42.
func prEvent() map[string]any {
	return map[string]any{
		"action": "synchronize",
		"number": 42,
		"pull_request": map[string]any{
			"number": 42,
			"head":   map[string]any{"sha": headSHA, "ref": "feature"},
		},
	}
}

// prExpected is the identity the PR inputs below assemble: the event supplies instance,
// environment_kind, preview_id and source_git_ref.
func prExpected() identity.Identity {
	return identity.Identity{
		SchemaVersion: 1, Product: "shop", Context: "shop-preview", Instance: "pr-42",
		EnvironmentKind: "preview", DeploymentRecordID: "deployment-20261123T120000Z-shop-preview-pr-42",
		ArtifactID: "ghcr.io/acme/shop@sha256:" + strings.Repeat("2", 64), SourceGitRef: headSHA,
		PreviewID: "pr-42",
	}
}

func prInputs(healthURL string) map[string]string {
	want := prExpected()
	return map[string]string{
		"product":              want.Product,
		"context":              want.Context,
		"deployment-record-id": want.DeploymentRecordID,
		"artifact-id":          want.ArtifactID,
		"health-url":           healthURL,
		"verify-timeout":       "2s",
	}
}

func stale(id identity.Identity) identity.Identity {
	id.DeploymentRecordID = "deployment-20261122T080000Z-shop-preview-pr-42"
	id.ArtifactID = "ghcr.io/acme/shop@sha256:" + strings.Repeat("1", 64)
	return id
}

func healthBody(identityJSON string) string {
	return `{"status":"ok","version":"1.2.3","runtime_identity":` + identityJSON + `}`
}

// tenant is a real loopback HTTP server answering /api/health with fn.
func tenant(t *testing.T, fn http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(fn)
	t.Cleanup(srv.Close)
	return srv.URL + "/api/health"
}

func serveJSON(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/health" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// TestVerifyAsRunner covers every tenant behaviour through the built binary, with the soft and
// the required policy.
func TestVerifyAsRunner(t *testing.T) {
	t.Parallel()
	want := prExpected()
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		status     identity.Status
		mismatched string
		observed   bool // observed-json is set
	}{
		{"match", serveJSON(200, healthBody(string(want.Canonical()))), identity.StatusMatch, "", true},
		{"stale mismatch", serveJSON(200, healthBody(string(stale(want).Canonical()))), identity.StatusMismatch, "deployment_record_id,artifact_id", true},
		{"missing", serveJSON(200, `{"status":"ok"}`), identity.StatusMissing, "", false},
		{"null", serveJSON(200, `{"status":"pass","runtime_identity":null}`), identity.StatusMissing, "", false},
		{"malformed", serveJSON(200, `{"runtime_identity":{"schema_version":1,"status":"invalid","error":"malformed_json"}}`), identity.StatusMalformed, "", true},
		{"non-JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>it works</body></html>")
		}, identity.StatusUnverifiable, "", false},
		{"503 with identity", serveJSON(503, healthBody(string(want.Canonical()))), identity.StatusUnverifiable, "", false},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, identity.StatusUnverifiable, "", false},
	}
	for _, tt := range tests {
		for _, required := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/require=%v", tt.name, required), func(t *testing.T) {
				t.Parallel()
				in := prInputs(tenant(t, tt.handler))
				in["require-identity"] = fmt.Sprint(required)
				in["github-deployment"] = "false"
				res := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent()})
				wantCode := 0
				if required && tt.status != identity.StatusMatch {
					wantCode = 1
				}
				if res.code != wantCode {
					t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, wantCode, res.stdout, res.stderr)
				}
				if got := res.outputs["status"]; got != string(tt.status) {
					t.Errorf("status output = %q, want %q", got, tt.status)
				}
				if got := res.outputs["mismatched-fields"]; got != tt.mismatched {
					t.Errorf("mismatched-fields = %q, want %q", got, tt.mismatched)
				}
				if got := res.outputs["identity-json"]; got != string(want.Canonical()) {
					t.Errorf("identity-json = %s, want %s", got, want.Canonical())
				}
				if got := res.outputs["digest"]; got != want.Digest() {
					t.Errorf("digest = %s, want %s", got, want.Digest())
				}
				if (res.outputs["observed-json"] != "") != tt.observed {
					t.Errorf("observed-json = %q, want set %v", res.outputs["observed-json"], tt.observed)
				}
				ttm := res.outputs["time-to-match-ms"]
				if (ttm != "") != (tt.status == identity.StatusMatch) {
					t.Errorf("time-to-match-ms = %q for %s", ttm, tt.status)
				}
				if tt.status != identity.StatusMatch {
					level := "warning"
					if required {
						level = "error"
					}
					if len(annotations(res.stdout, level)) == 0 {
						t.Errorf("no ::%s:: annotation for %s:\n%s", level, tt.status, res.stdout)
					}
				}
				if !strings.Contains(res.summary, string(tt.status)) {
					t.Errorf("summary does not state the verdict %s:\n%s", tt.status, res.summary)
				}
				if !required {
					checkGolden(t, "verify-"+strings.ReplaceAll(tt.name, " ", "-"), res)
				}
				if len(res.evidence) == 0 || !json.Valid(res.evidence) {
					t.Errorf("evidence file missing or not JSON: %q", res.evidence)
				}
			})
		}
	}
}

// TestVerifyRolloutAlternating: old and new replicas alternate behind one URL for a while; the
// match is confirmed only once answers are consistently new.
func TestVerifyRolloutAlternating(t *testing.T) {
	t.Parallel()
	want := prExpected()
	var n atomic.Int64
	const mixed = 7 // the first 7 answers alternate old, new, old, new...
	url := tenant(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/health" {
			http.NotFound(w, r)
			return
		}
		i := n.Add(1)
		id := want
		if i <= mixed && i%2 == 1 {
			id = stale(want)
		}
		serveJSON(200, healthBody(string(id.Canonical())))(w, r)
	})
	in := prInputs(url)
	in["confirmations"] = "3"
	in["require-identity"] = "true"
	in["verify-timeout"] = "30s"
	in["github-deployment"] = "false"
	res := runAsRunner(t, runnerOpts{inputs: in, eventName: "pull_request", event: prEvent()})
	if res.code != 0 || res.outputs["status"] != "match" {
		t.Fatalf("exit %d status %q, want 0 match\n%s\n%s", res.code, res.outputs["status"], res.stdout, res.stderr)
	}
	var ev map[string]any
	if err := json.Unmarshal(res.evidence, &ev); err != nil {
		t.Fatal(err)
	}
	// Answers 1-7 alternate, so the first run of 3 new answers is 8, 9, 10 (each round reads the
	// health URL once): the confirmation cannot come before the 10th round.
	attempts, _ := ev["attempts"].(float64)
	if attempts < 10 {
		t.Errorf("confirmed after %v attempts; answers were consistently new only from the 8th on (need 3 in a row)", attempts)
	}
}
