package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/examples/generic-web/app"
	"github.com/launchplane/runtime-identity/internal/contracttest"
	"github.com/launchplane/runtime-identity/internal/dokploy/dokploytest"
)

// TestMain lets the test binary stand in for the action binary's hidden tenant command, which
// the demo's launcher runs.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == TenantCommand {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := app.Serve(ctx, os.Getenv, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestPlantedSecrets(t *testing.T) {
	t.Parallel()
	a, b := plant(), plant()
	if a == b {
		t.Fatal("plant() made the same values twice, want fresh random ones")
	}
	u, err := url.Parse(a.databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	if pw, ok := u.User.Password(); !ok || pw != a.dbPassword {
		t.Errorf("database URL %q carries password %q, want %q", a.databaseURL, pw, a.dbPassword)
	}
	checks := []struct {
		name, value, prefix string
	}{
		{"stripe key", a.stripeKey, "sk_live_"},
		{"npm token", a.npmToken, "npm_"},
		{"multi-line", a.multiline, "-----BEGIN PRIVATE KEY-----\n"},
		{"api key", a.apiKey, "dokploy-"},
	}
	for _, c := range checks {
		if !strings.HasPrefix(c.value, c.prefix) {
			t.Errorf("%s = %q, want the prefix %q", c.name, c.value, c.prefix)
		}
	}
	if !strings.HasSuffix(a.multiline, "\n-----END PRIVATE KEY-----") || strings.Count(a.multiline, "\n") != 3 {
		t.Errorf("multi-line = %q, want a four-line private key block", a.multiline)
	}
	for _, v := range []string{a.databaseURL, a.dbPassword, a.stripeKey, a.npmToken, a.buildSecret, a.registry, a.apiKey,
		a.rollbackRegistry, a.projectToken, a.environmentToken} {
		if !strings.Contains(v, SecretMarker) || len(v) < len(SecretMarker)+16 {
			t.Errorf("planted value %q lacks the marker or its random part", v)
		}
	}
	got := Secrets()
	for _, want := range []string{SecretDatabaseURL, dbPassword, SecretStripeKey, SecretNPMToken, SecretBuildSecret, SecretRegistry, APIKey} {
		if !contains(got, want) {
			t.Errorf("Secrets() lacks %q", want)
		}
	}
	for _, l := range strings.Split(SecretMultiline, "\n")[1:3] {
		if !contains(got, l) {
			t.Errorf("Secrets() lacks the multi-line secret's line %q", l)
		}
	}
	extra := SecretsFor(Scenario{Rollbacks: true, References: true})
	for _, want := range []string{SecretRollbackRegistry, SecretProjectToken, SecretEnvironmentToken} {
		if contains(got, want) || !contains(extra, want) {
			t.Errorf("%q: in Secrets() %v, in SecretsFor(rollbacks, references) %v; want only the latter", want, contains(got, want), contains(extra, want))
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// fastOptions keep the tests short and check every request against Dokploy's contract.
func fastOptions(t *testing.T) dokploytest.Options {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.RowDelay, o.RunDuration, o.StaleWindow, o.MixedWindow = 50*time.Millisecond, 50*time.Millisecond, 0, 0
	o.Launcher = dokploytest.ProcessLauncher{Path: self, Args: []string{TenantCommand}, StopTimeout: 3 * time.Second}
	o.Validator = contracttest.Load(t, contracttest.Dokploy)
	o.OnViolation = func(msg string) { t.Errorf("%s", msg) }
	return o
}

func get(t *testing.T, u, key string, out any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: decode: %v", u, err)
		}
	}
	return res.StatusCode
}

func post(t *testing.T, f *Fake, op string, body any) int {
	t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, f.Server.URL()+"/api/"+op, strings.NewReader(string(data)))
	req.Header.Set("x-api-key", f.Server.APIKey())
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", op, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// servedArtifact is the artifact id the tenant reports.
func servedArtifact(t *testing.T, healthURL string) string {
	t.Helper()
	var h struct {
		RuntimeIdentity struct {
			ArtifactID string `json:"artifact_id"`
		} `json:"runtime_identity"`
	}
	if code := get(t, healthURL, "", &h); code != http.StatusOK {
		t.Fatalf("health = %d, want 200", code)
	}
	return h.RuntimeIdentity.ArtifactID
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRollbackSwitches shows the switches a rollback scenario needs: an earlier done
// deployment with a snapshot, a deploy that serves the wrong identity, and rollback.rollback
// bringing the earlier identity back. With References the snapshot's env holds an environment
// reference, and Dokploy's rollback, which passes no environment env, fails.
func TestRollbackSwitches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		references   bool
		wantRollback int
	}{
		{name: "rollback", wantRollback: http.StatusOK},
		{name: "rollback with an environment reference", references: true, wantRollback: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Start(Scenario{Name: "rollback-test", Rollbacks: true, References: tt.references, Arm: ServeWrongIdentity}, fastOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(f.Close)
			health := f.Inputs["health-url"]
			if got := servedArtifact(t, health); got != Previous().ArtifactID {
				t.Fatalf("artifact before the deploy = %q, want the previous one", got)
			}
			if f.PreviousDeploymentID == "" {
				t.Fatal("PreviousDeploymentID is empty, want the recorded done deployment")
			}
			var one struct {
				RollbackActive bool   `json:"rollbackActive"`
				Env            string `json:"env"`
				Environment    struct {
					Env     string `json:"env"`
					Project struct {
						Env string `json:"env"`
					} `json:"project"`
				} `json:"environment"`
			}
			get(t, f.Server.URL()+"/api/application.one?applicationId="+ServiceID, f.Server.APIKey(), &one)
			refs := strings.Contains(one.Env, "${{project.TOKEN}}") && strings.Contains(one.Environment.Env, SecretEnvironmentToken) &&
				strings.Contains(one.Environment.Project.Env, SecretProjectToken)
			if !one.RollbackActive || refs != tt.references {
				t.Errorf("application.one = %+v, want rollbacks on and references %v", one, tt.references)
			}
			if code := post(t, f, "application.deploy", map[string]any{"applicationId": ServiceID}); code != http.StatusOK {
				t.Fatalf("deploy = %d", code)
			}
			eventually(t, "the wrong identity", func() bool { return servedArtifact(t, health) == WrongIdentity().ArtifactID })
			var rows []struct {
				DeploymentID string `json:"deploymentId"`
				Status       string `json:"status"`
				Rollback     *struct {
					RollbackID string `json:"rollbackId"`
				} `json:"rollback"`
			}
			get(t, f.Server.URL()+"/api/deployment.allByType?type=application&id="+ServiceID, f.Server.APIKey(), &rows)
			rollbackID := ""
			for _, r := range rows {
				if r.DeploymentID == f.PreviousDeploymentID && r.Status == "done" && r.Rollback != nil {
					rollbackID = r.Rollback.RollbackID
				}
			}
			if len(rows) != 2 || rollbackID == "" {
				t.Fatalf("allByType = %+v, want the new row and the previous done one with a rollback", rows)
			}
			if code := post(t, f, "rollback.rollback", map[string]any{"rollbackId": rollbackID}); code != tt.wantRollback {
				t.Fatalf("rollback.rollback = %d, want %d", code, tt.wantRollback)
			}
			if tt.wantRollback == http.StatusOK {
				eventually(t, "the previous identity back", func() bool { return servedArtifact(t, health) == Previous().ArtifactID })
			} else if got := servedArtifact(t, health); got != WrongIdentity().ArtifactID {
				t.Errorf("artifact after a failed rollback = %q, want the wrong one still", got)
			}
		})
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantPrefix string
		stop       func(cancel context.CancelFunc, stdin io.Closer)
	}{
		{name: "end of stdin", wantPrefix: "http://127.0.0.1:", stop: func(_ context.CancelFunc, stdin io.Closer) { stdin.Close() }},
		{name: "signal, public host", args: []string{"--public-host", "localhost"}, wantPrefix: "http://localhost:",
			stop: func(cancel context.CancelFunc, _ io.Closer) { cancel() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			stdinR, stdinW := io.Pipe()
			stdoutR, stdoutW := io.Pipe()
			var stderr strings.Builder
			codes := make(chan int, 1)
			go func() {
				code := Run(ctx, Env{Args: append([]string{"serve", "--scenario", "compose"}, tt.args...), Getenv: func(string) string { return "" },
					Stdin: stdinR, Stdout: stdoutW, Stderr: &stderr})
				stdoutW.Close()
				codes <- code
			}()
			line, err := bufio.NewReader(stdoutR).ReadString('\n')
			if err != nil {
				t.Fatalf("read the JSON line: %v", err)
			}
			go func() { _, _ = io.Copy(io.Discard, stdoutR) }()
			var info ServeInfo
			if err := json.Unmarshal([]byte(line), &info); err != nil {
				t.Fatalf("JSON line %q: %v", line, err)
			}
			if info.Scenario != "compose" || info.ComposeID != ServiceID || info.ApplicationID != "" || info.APIKey != APIKey ||
				!strings.HasPrefix(info.DokployURL, tt.wantPrefix) || !strings.HasPrefix(info.HealthURL, tt.wantPrefix) ||
				info.Inputs["dokploy-compose-id"] != ServiceID {
				t.Errorf("ServeInfo = %+v, want the compose scenario's fake", info)
			}
			var one map[string]any
			if code := get(t, info.DokployURL+"/api/compose.one?composeId="+info.ComposeID, info.APIKey, &one); code != http.StatusOK || one["composeId"] != ServiceID {
				t.Errorf("compose.one = %d %v, want the target", code, one["composeId"])
			}
			if got := servedArtifact(t, info.HealthURL); got != Previous().ArtifactID {
				t.Errorf("served artifact = %q, want the previous identity's", got)
			}
			tt.stop(cancel, stdinW)
			select {
			case code := <-codes:
				if code != 0 {
					t.Errorf("Run(serve) = %d, want 0; stderr:\n%s", code, stderr.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Run(serve) did not return after being told to stop")
			}
			if code := statusOf(info.DokployURL + "/api/deployment.queueList"); code != 0 {
				t.Errorf("the fake still answers (%d) after serve returned", code)
			}
		})
	}
}

// statusOf returns the status of a GET, or 0 when nothing answers.
func statusOf(u string) int {
	res, err := http.Get(u)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

func TestServeConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "address without port", args: []string{"serve", "--addr", "127.0.0.1"}, want: "--addr"},
		{name: "unknown scenario", args: []string{"serve", "--scenario", "nope"}, want: "unknown scenario"},
		{name: "extra argument", args: []string{"serve", "now"}, want: "unexpected argument"},
		{name: "unknown flag", args: []string{"serve", "--port", "1"}, want: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr strings.Builder
			code := Run(t.Context(), Env{Args: tt.args, Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr})
			if code != 2 || !strings.Contains(stderr.String(), tt.want) || stdout.Len() != 0 {
				t.Errorf("Run(%q) = %d, stderr %q, stdout %q; want 2, naming %q, nothing on stdout", tt.args, code, stderr.String(), stdout.String(), tt.want)
			}
		})
	}
}

func TestUntilEOFIgnoresTheNullDevice(t *testing.T) {
	t.Parallel()
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if ch := untilEOF(null); ch != nil {
		t.Errorf("untilEOF(%s) = %v, want nil (never ready)", os.DevNull, ch)
	}
	if ch := untilEOF(nil); ch != nil {
		t.Errorf("untilEOF(nil) = %v, want nil", ch)
	}
	ch := untilEOF(strings.NewReader("x"))
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("untilEOF(a short reader) never became ready")
	}
}
