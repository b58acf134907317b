package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/examples/generic-web/app"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// serveEnvKey makes the test binary run the example tenant instead of the tests, so a test can
// start it as a real process.
const serveEnvKey = "GENERIC_WEB_APP_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnvKey) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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

// hangGuard only turns a hung process or server into a failure instead of a stuck test run.
const hangGuard = 15 * time.Second

func deployed() identity.Identity {
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

// identityEnv is the env a deployment of id gets, plus extra key=value pairs.
func identityEnv(id identity.Identity, extra ...string) map[string]string {
	env := map[string]string{"PORT": "0"}
	for _, kv := range id.EnvVars() {
		env[kv.Key] = kv.Value
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	return env
}

// start runs app.Serve in-process with env, reads its listening line and returns the base URL.
// Cleanup cancels it and checks that it returned nil and printed nothing else.
func start(t *testing.T, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := app.Serve(ctx, func(k string) string { return env[k] }, pw)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	lines := bufio.NewReader(pr)
	line, err := lines.ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("reading the listening line: %v (Serve: %v)", err, <-done)
	}
	base := strings.TrimSuffix(strings.TrimPrefix(line, "listening on "), "\n")
	if !strings.HasPrefix(line, "listening on http://127.0.0.1:") || strings.ContainsAny(base, " \t") {
		t.Fatalf("listening line = %q, want \"listening on http://127.0.0.1:<port>\\n\"", line)
	}
	t.Cleanup(func() {
		cancel()
		rest, _ := io.ReadAll(lines)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve() = %v, want nil after cancel", err)
			}
		case <-time.After(hangGuard):
			t.Errorf("Serve() did not return after cancel")
		}
		if len(rest) > 0 {
			t.Errorf("Serve wrote more to stdout: %q", rest)
		}
	})
	return base
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

func get(t *testing.T, url string) answer {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	want := deployed()
	base := start(t, identityEnv(want, "DOCKER_IMAGE_REFERENCE", "ghcr.io/cbusillo/sellyouroutboard:prod"))

	health := get(t, base+"/api/health")
	if health.code != 200 || health.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /api/health = %d %s, want 200 application/json", health.code, health.header.Get("Content-Type"))
	}
	var body map[string]any
	if err := json.Unmarshal(health.body, &body); err != nil {
		t.Fatalf("GET /api/health body %q: %v", health.body, err)
	}
	var idObj map[string]any
	if err := json.Unmarshal(want.Canonical(), &idObj); err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]any{
		"status":           "ok",
		"version":          want.ArtifactID,
		"source_git_ref":   want.SourceGitRef,
		"image_reference":  "ghcr.io/cbusillo/sellyouroutboard:prod",
		"runtime_identity": idObj,
	}
	if diff := cmp.Diff(wantBody, body); diff != "" {
		t.Errorf("GET /api/health body mismatch (-want +got):\n%s", diff)
	}

	wk := get(t, base+identity.WellKnownPath)
	if wk.code != 200 || string(wk.body) != string(want.Canonical()) || wk.header.Get("Cache-Control") != "no-store" {
		t.Errorf("GET well-known = %d %s (Cache-Control %q), want 200 %s no-store", wk.code, wk.body, wk.header.Get("Cache-Control"), want.Canonical())
	}
	odoo := get(t, base+"/launchplane/health")
	if wantOdoo := `{"runtime_identity":` + string(want.Canonical()) + `,"status":"pass"}`; odoo.code != 200 || string(odoo.body) != wantOdoo {
		t.Errorf("GET /launchplane/health = %d %s, want 200 %s", odoo.code, odoo.body, wantOdoo)
	}
	index := get(t, base+"/")
	if index.code != 200 || !strings.Contains(string(index.body), "runtime identity: ok") || !strings.Contains(string(index.body), want.DeploymentRecordID) {
		t.Errorf("GET / = %d %q, want 200 naming the state and deployment", index.code, index.body)
	}
	if nf := get(t, base+"/nowhere"); nf.code != 404 {
		t.Errorf("GET /nowhere = %d, want 404", nf.code)
	}

	for name, a := range map[string]answer{"/": index, "/api/health": health, "well-known": wk, "/launchplane/health": odoo} {
		if got := a.header.Get(identity.HeaderDeployment); got != want.DeploymentRecordID {
			t.Errorf("GET %s %s = %q, want %q", name, identity.HeaderDeployment, got, want.DeploymentRecordID)
		}
		if got := a.header.Get(identity.HeaderDigest); got != want.Injected().Digest() {
			t.Errorf("GET %s %s = %q, want %q", name, identity.HeaderDigest, got, want.Injected().Digest())
		}
	}
	for _, obs := range []identity.Observation{
		identity.ExtractHealth(health.body),
		identity.ExtractWellKnown(wk.body),
		identity.ExtractHeaders(health.header),
		identity.ExtractHealth(odoo.body),
	} {
		if v := identity.Compare(&want, obs); v.Status != identity.StatusMatch {
			t.Errorf("%s: Compare() = %v (%s), want match", obs.Surface, v.Status, v.Detail)
		}
	}
}

// Each knob, and each env state, reproduces one tenant the verifier must classify.
func TestKnobs(t *testing.T) {
	t.Parallel()
	want := deployed()
	stale := want
	stale.DeploymentRecordID = "deployment-20260401T000000Z-sellyouroutboard-prod"
	for _, tc := range []struct {
		name        string
		env         map[string]string
		code        int
		contentType string
		health      identity.Status // Compare on the health JSON
		wellKnown   int             // well-known status code
		headers     identity.Status // Compare on the health response's headers
	}{
		{"normal", identityEnv(want), 200, "application/json", identity.StatusMatch, 200, identity.StatusMatch},
		{"stale deployment", identityEnv(stale), 200, "application/json", identity.StatusMismatch, 200, identity.StatusMismatch},
		{"no identity env", map[string]string{"PORT": "0"}, 200, "application/json", identity.StatusMissing, 404, identity.StatusMissing},
		{"malformed identity env", map[string]string{"PORT": "0", identity.EnvJSON: `{"context":`}, 200, "application/json", identity.StatusMalformed, 500, identity.StatusMissing},
		{"status 503", identityEnv(want, app.EnvHealthStatus, "503"), 503, "application/json", identity.StatusMatch, 200, identity.StatusMatch},
		{"html", identityEnv(want, app.EnvHealthMode, "html"), 200, "text/html; charset=utf-8", identity.StatusUnverifiable, 200, identity.StatusMatch},
		{"null", identityEnv(want, app.EnvHealthMode, "null"), 200, "application/json", identity.StatusMissing, 200, identity.StatusMatch},
		{"null, health only", identityEnv(want, app.EnvHealthMode, "null", app.EnvSurfaces, "health"), 200, "application/json", identity.StatusMissing, 404, identity.StatusMissing},
		{"malformed", identityEnv(want, app.EnvHealthMode, "malformed"), 200, "application/json", identity.StatusMalformed, 200, identity.StatusMatch},
		{"string alias", identityEnv(want, app.EnvHealthMode, "string"), 200, "application/json", identity.StatusMatch, 200, identity.StatusMatch},
		{"slow", identityEnv(want, app.EnvHealthMode, "slow", app.EnvHealthDelay, "10ms"), 200, "application/json", identity.StatusMatch, 200, identity.StatusMatch},
		{"headers only", identityEnv(want, app.EnvSurfaces, "headers"), 200, "application/json", identity.StatusMissing, 404, identity.StatusMatch},
		{"well-known only", identityEnv(want, app.EnvSurfaces, "well-known"), 200, "application/json", identity.StatusMissing, 200, identity.StatusMissing},
		{"health and well-known", identityEnv(want, app.EnvSurfaces, "health, well-known"), 200, "application/json", identity.StatusMatch, 200, identity.StatusMissing},
		{"no surfaces", identityEnv(want, app.EnvSurfaces, "none"), 200, "application/json", identity.StatusMissing, 404, identity.StatusMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := start(t, tc.env)
			health := get(t, base+"/api/health")
			if health.code != tc.code || health.header.Get("Content-Type") != tc.contentType {
				t.Errorf("GET /api/health = %d %s, want %d %s", health.code, health.header.Get("Content-Type"), tc.code, tc.contentType)
			}
			if v := identity.Compare(&want, identity.ExtractHealth(health.body)); v.Status != tc.health {
				t.Errorf("health: Compare() = %v (%s), want %v", v.Status, v.Detail, tc.health)
			}
			if v := identity.Compare(&want, identity.ExtractHeaders(health.header)); v.Status != tc.headers {
				t.Errorf("headers: Compare() = %v (%s), want %v", v.Status, v.Detail, tc.headers)
			}
			if wk := get(t, base+identity.WellKnownPath); wk.code != tc.wellKnown {
				t.Errorf("GET well-known = %d, want %d", wk.code, tc.wellKnown)
			}
			if tc.code != 200 && !strings.Contains(string(health.body), `"status":"unhealthy"`) {
				t.Errorf("GET /api/health body = %s, want status unhealthy", health.body)
			}
		})
	}
}

// A slow health answer gives way to shutdown: Serve returns nil while the request is pending.
func TestShutdownDuringSlowRequest(t *testing.T) {
	t.Parallel()
	env := identityEnv(deployed(), app.EnvHealthMode, "slow", app.EnvHealthDelay, "1h")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, func(k string) string { return env[k] }, pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	answered := make(chan int, 1)
	wrote := make(chan struct{})
	go func() {
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, base+"/api/health", nil)
		if err != nil {
			answered <- -1
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case <-wrote:
	case code := <-answered:
		t.Fatalf("slow GET /api/health ended before shutdown with %d", code)
	}
	// Connections are accepted in order: once a later one is answered, the slow one has been
	// accepted too, and shutdown must wait for its handler.
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve() = %v, want nil", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("Serve() did not return while a slow request was pending")
	}
	if code := <-answered; code != http.StatusServiceUnavailable {
		t.Errorf("slow GET /api/health during shutdown = %d, want 503", code)
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // a substring of the error
	}{
		{"PORT not a number", map[string]string{"PORT": "http-bogus"}, "PORT must be a port number"},
		{"PORT out of range", map[string]string{"PORT": "70000"}, "PORT must be a port number"},
		{"status not a number", map[string]string{"PORT": "0", app.EnvHealthStatus: "teapot-bogus"}, app.EnvHealthStatus},
		{"status out of range", map[string]string{"PORT": "0", app.EnvHealthStatus: "99"}, app.EnvHealthStatus},
		{"unknown mode", map[string]string{"PORT": "0", app.EnvHealthMode: "bogus"}, app.EnvHealthMode},
		{"bad delay", map[string]string{"PORT": "0", app.EnvHealthDelay: "soon-bogus"}, app.EnvHealthDelay},
		{"unknown surface", map[string]string{"PORT": "0", app.EnvSurfaces: "health,bogus"}, app.EnvSurfaces},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			err := app.Serve(context.Background(), func(k string) string { return tc.env[k] }, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Serve() = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "bogus") {
				t.Errorf("Serve() = %q echoes the env value", err)
			}
			if out.Len() > 0 {
				t.Errorf("Serve() printed %q before failing", out.String())
			}
		})
	}
}

func TestServePortInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	var out strings.Builder
	err = app.Serve(context.Background(), func(k string) string { return map[string]string{"PORT": port}[k] }, &out)
	if err == nil || !strings.HasPrefix(err.Error(), "app: listen: ") {
		t.Fatalf("Serve() on a taken port = %v, want app: listen: ...", err)
	}
	if out.Len() > 0 {
		t.Errorf("Serve() printed %q before failing", out.String())
	}
}

// failWriter refuses the listening line.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("stdout closed") }

func TestServeStdoutFails(t *testing.T) {
	t.Parallel()
	err := app.Serve(context.Background(), func(k string) string { return map[string]string{"PORT": "0"}[k] }, failWriter{})
	if err == nil || !strings.HasPrefix(err.Error(), "app: announce: ") {
		t.Fatalf("Serve() with a broken stdout = %v, want app: announce: ...", err)
	}
}
