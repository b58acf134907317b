package action

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/identity"
)

func outputsOf(stdout string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(stdout, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.ContainsAny(k, " #|") {
			out[k] = v
		}
	}
	return out
}

// TestUnconfirmedMatchIsNotAMatch: when the deadline comes in the middle of a streak, the last
// answer matched but the rollout was never seen consistently new.
func TestUnconfirmedMatchIsNotAMatch(t *testing.T) {
	t.Parallel()
	want := identity.Identity{SchemaVersion: 1, Context: "shop", Instance: "prod", EnvironmentKind: "stable",
		DeploymentRecordID: "deployment-new", ArtifactID: "img@sha256:2", SourceGitRef: "0123456789abcdef"}
	old := want
	old.DeploymentRecordID = "deployment-old"
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/health" {
			http.NotFound(w, r)
			return
		}
		id := want
		if n.Add(1)%3 == 0 { // every third answer comes from the old replica
			id = old
		}
		fmt.Fprintf(w, `{"runtime_identity":%s}`, id.Canonical())
	}))
	defer srv.Close()
	for _, required := range []bool{false, true} {
		n.Store(0)
		clock := clocktest.New()
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), Env{
			Args: []string{"verify", "--identity-json", string(want.Canonical()), "--health-url", srv.URL + "/api/health",
				"--confirmations", "3", "--verify-timeout", "10s", fmt.Sprintf("--require-identity=%v", required)},
			Stdout: &stdout, Stderr: &stderr, Now: clock.Now, Sleep: clock.Sleep,
		})
		out := outputsOf(stdout.String())
		wantCode := map[bool]int{false: ExitOK, true: ExitFailed}[required]
		if code != wantCode || out["status"] != "unverifiable" {
			t.Errorf("require=%v: exit %d status %q, want %d unverifiable\n%s\n%s", required, code, out["status"], wantCode, stdout.String(), stderr.String())
		}
		if first := strings.SplitN(stdout.String(), "\n", 2)[0]; !strings.Contains(first, "match not confirmed") {
			t.Errorf("require=%v: the summary heading %q does not say the match was not confirmed", required, first)
		}
		level := map[bool]string{false: "warning: ", true: "error: "}[required]
		if !strings.Contains(stderr.String(), level+"match not confirmed") || strings.Contains(stderr.String(), "no usable answer") {
			t.Errorf("require=%v: the annotation must name the unconfirmed match:\n%s", required, stderr.String())
		}
		if out["time-to-match-ms"] != "" {
			t.Errorf("require=%v: time-to-match-ms = %q for an unconfirmed match", required, out["time-to-match-ms"])
		}
	}
}

// TestModeHelp: each mode's --help lists its flags with defaults, and only its own.
func TestModeHelp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode    Mode
		want    []string
		notWant []string
	}{
		{ModeVerify, []string{"--health-url", "--verify-timeout (default 3m)", "--identity-file"}, []string{"--dokploy-url", "--lanes-file"}},
		{ModeDeploy, []string{"--dokploy-url", "--on-failure (default none)", "--rollout-timeout (default 10m)", "--health-url"}, []string{"--lanes-file"}},
		{ModeInject, []string{"--dokploy-api-key", "--identity-out"}, []string{"--on-failure", "--health-url"}},
		{ModeRender, []string{"--context", "--identity-out"}, []string{"--dokploy-url", "--health-url"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			t.Parallel()
			var stdout bytes.Buffer
			code := Main(context.Background(), Env{Args: []string{string(tt.mode), "--help"}, Stdout: &stdout})
			out := stdout.String()
			if code != ExitOK {
				t.Errorf("%s --help exit %d, want 0", tt.mode, code)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s --help lacks %q:\n%s", tt.mode, w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w+"\n") || strings.Contains(out, w+" (") {
					t.Errorf("%s --help lists %q, which the mode does not read", tt.mode, w)
				}
			}
		})
	}
}

// TestIdentityOutRoundTrip: what render writes with --identity-out is what verify reads back.
func TestIdentityOutRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "expected.json")
	code := Main(context.Background(), Env{Args: []string{"render", "--context", "shop", "--instance", "prod",
		"--deployment-record-id", "deployment-20261201T000000Z-shop-prod", "--artifact-id", "img@sha256:1",
		"--source-git-ref", "0123456789abcdef", "--identity-out", path}})
	if code != ExitOK {
		t.Fatalf("render exit %d", code)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.ParseExpected(b)
	if err != nil || id.DeploymentRecordID != "deployment-20261201T000000Z-shop-prod" || string(b) != string(id.Canonical())+"\n" {
		t.Errorf("identity-out wrote %q (%v), want the canonical JSON and a newline", b, err)
	}
}
