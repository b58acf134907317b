package contracttest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func newRequest(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("x-api-key", "k")
	return r
}

func TestValidateRequestDokploy(t *testing.T) {
	t.Parallel()
	s := Load(t, Dokploy)
	tests := []struct {
		name    string
		method  string
		target  string
		body    string
		wantErr bool
		noRoute bool
	}{
		{name: "one", method: "GET", target: "/api/application.one?applicationId=a1"},
		{name: "one without base path", method: "GET", target: "/application.one?applicationId=a1"},
		{name: "one under a test prefix", method: "GET", target: "/dokploy/api/application.one?applicationId=a1"},
		{name: "one missing id", method: "GET", target: "/api/application.one", wantErr: true},
		{name: "one empty id", method: "GET", target: "/api/application.one?applicationId=", wantErr: true},
		{name: "compose one", method: "GET", target: "/api/compose.one?composeId=c1"},
		{name: "queueList", method: "GET", target: "/api/deployment.queueList"},
		{name: "readLogs coerced tail", method: "GET", target: "/api/deployment.readLogs?deploymentId=d1&tail=50"},
		{name: "readLogs tail not a number", method: "GET", target: "/api/deployment.readLogs?deploymentId=d1&tail=many", wantErr: true},
		{name: "readLogs tail too big", method: "GET", target: "/api/deployment.readLogs?deploymentId=d1&tail=10001", wantErr: true},
		{name: "saveEnvironment", method: "POST", target: "/api/application.saveEnvironment",
			body: `{"applicationId":"a1","env":"A=1","buildArgs":"","buildSecrets":null,"createEnvFile":true}`},
		{name: "saveEnvironment all null", method: "POST", target: "/api/application.saveEnvironment",
			body: `{"applicationId":"a1","env":null,"buildArgs":null,"buildSecrets":null,"createEnvFile":false}`},
		{name: "saveEnvironment unknown key is allowed", method: "POST", target: "/api/application.saveEnvironment",
			body: `{"applicationId":"a1","env":"","buildArgs":"","buildSecrets":"","createEnvFile":true,"extra":1}`},
		{name: "saveEnvironment missing buildArgs", method: "POST", target: "/api/application.saveEnvironment",
			body: `{"applicationId":"a1","env":"A=1","buildSecrets":null,"createEnvFile":true}`, wantErr: true},
		{name: "saveEnvironment env wrong type", method: "POST", target: "/api/application.saveEnvironment",
			body: `{"applicationId":"a1","env":5,"buildArgs":"","buildSecrets":"","createEnvFile":true}`, wantErr: true},
		{name: "saveEnvironment createEnvFile wrong type", method: "POST", target: "/api/application.saveEnvironment",
			body: `{"applicationId":"a1","env":"","buildArgs":"","buildSecrets":"","createEnvFile":"yes"}`, wantErr: true},
		{name: "saveEnvironment no body", method: "POST", target: "/api/application.saveEnvironment", wantErr: true},
		{name: "deploy", method: "POST", target: "/api/application.deploy", body: `{"applicationId":"a1","title":"t"}`},
		{name: "deploy empty id", method: "POST", target: "/api/application.deploy", body: `{"applicationId":""}`, wantErr: true},
		{name: "compose update", method: "POST", target: "/api/compose.update", body: `{"composeId":"c1","env":"A=1"}`},
		{name: "compose update bad appName pattern", method: "POST", target: "/api/compose.update", body: `{"composeId":"c1","appName":"a b"}`, wantErr: true},
		{name: "compose deploy", method: "POST", target: "/api/compose.deploy", body: `{"composeId":"c1"}`},
		{name: "email lookahead pattern accepted", method: "POST", target: "/api/user.update", body: `{"email":"a.b@example.com"}`},
		{name: "email lookahead pattern rejected", method: "POST", target: "/api/user.update", body: `{"email":".ab@example.com"}`, wantErr: true},
		{name: "email double dot rejected", method: "POST", target: "/api/user.update", body: `{"email":"a..b@example.com"}`, wantErr: true},
		{name: "unknown path", method: "GET", target: "/api/application.nope?applicationId=a1", wantErr: true, noRoute: true},
		{name: "slash path", method: "GET", target: "/api/application/one?applicationId=a1", wantErr: true, noRoute: true},
		{name: "wrong method", method: "POST", target: "/api/application.one", body: `{"applicationId":"a1"}`, wantErr: true, noRoute: true},
		{name: "wrong method on mutation", method: "GET", target: "/api/application.deploy?applicationId=a1", wantErr: true, noRoute: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRequest(tt.method, tt.target, tt.body)
			err := s.ValidateRequest(r, []byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ValidateRequest() = %v, want error %v", err, tt.wantErr)
			}
			if got := errors.Is(err, ErrNoRoute); got != tt.noRoute {
				t.Errorf("errors.Is(ValidateRequest(), ErrNoRoute) = %v, want %v (err %v)", got, tt.noRoute, err)
			}
		})
	}
}

func TestValidateRequestGitHub(t *testing.T) {
	t.Parallel()
	s := Load(t, GitHub)
	tests := []struct {
		name    string
		method  string
		target  string
		body    string
		wantErr bool
		noRoute bool
	}{
		{name: "create deployment", method: "POST", target: "/repos/o/r/deployments", body: `{"ref":"main","environment":"prod","auto_merge":false,"required_contexts":[]}`},
		{name: "create deployment object payload", method: "POST", target: "/repos/o/r/deployments", body: `{"ref":"main","payload":{"a":1}}`},
		{name: "create deployment missing ref", method: "POST", target: "/repos/o/r/deployments", body: `{"environment":"prod"}`, wantErr: true},
		{name: "create deployment wrong type", method: "POST", target: "/repos/o/r/deployments", body: `{"ref":"main","auto_merge":"no"}`, wantErr: true},
		{name: "list deployments", method: "GET", target: "/repos/o/r/deployments?per_page=10&page=2"},
		{name: "list deployments bad per_page", method: "GET", target: "/repos/o/r/deployments?per_page=ten", wantErr: true},
		{name: "create status", method: "POST", target: "/repos/o/r/deployments/42/statuses", body: `{"state":"success","description":"ok"}`},
		{name: "create status bad state", method: "POST", target: "/repos/o/r/deployments/42/statuses", body: `{"state":"great"}`, wantErr: true},
		{name: "create status missing state", method: "POST", target: "/repos/o/r/deployments/42/statuses", body: `{"description":"ok"}`, wantErr: true},
		// Only the response schema caps description at 140; the request schema does not.
		{name: "create status long description", method: "POST", target: "/repos/o/r/deployments/42/statuses", body: `{"state":"success","description":"` + strings.Repeat("x", 141) + `"}`},
		{name: "create status non-integer id", method: "POST", target: "/repos/o/r/deployments/abc/statuses", body: `{"state":"success"}`, wantErr: true},
		{name: "get status", method: "GET", target: "/repos/o/r/deployments/42/statuses/7"},
		{name: "commit statuses multi-segment ref", method: "GET", target: "/repos/o/r/commits/heads/main/statuses"},
		// A path in neither the subset nor GitHub's whole description, which CI loads instead.
		{name: "unknown path", method: "GET", target: "/repos/o/r/deployments/42/no-such-route", wantErr: true, noRoute: true},
		{name: "wrong method", method: "DELETE", target: "/repos/o/r/deployments/42/statuses", wantErr: true, noRoute: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRequest(tt.method, tt.target, tt.body)
			err := s.ValidateRequest(r, []byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ValidateRequest() = %v, want error %v", err, tt.wantErr)
			}
			if got := errors.Is(err, ErrNoRoute); got != tt.noRoute {
				t.Errorf("errors.Is(ValidateRequest(), ErrNoRoute) = %v, want %v (err %v)", got, tt.noRoute, err)
			}
		})
	}
}

func TestHasOperation(t *testing.T) {
	t.Parallel()
	d := Load(t, Dokploy)
	g := Load(t, GitHub)
	tests := []struct {
		name   string
		spec   *Spec
		method string
		path   string
		want   bool
		opID   string
	}{
		{name: "dokploy doc path", spec: d, method: "GET", path: "/application.one", want: true, opID: "application-one"},
		{name: "dokploy api path", spec: d, method: "POST", path: "/api/application.saveEnvironment", want: true, opID: "application-saveEnvironment"},
		{name: "dokploy lower-case method", spec: d, method: "get", path: "/deployment.allByCompose", want: true, opID: "deployment-allByCompose"},
		{name: "dokploy wrong method", spec: d, method: "GET", path: "/application.deploy"},
		{name: "dokploy unknown", spec: d, method: "GET", path: "/application.nothing"},
		{name: "github template", spec: g, method: "POST", path: "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", want: true, opID: "repos/create-deployment-status"},
		{name: "github concrete", spec: g, method: "GET", path: "/repos/o/r/deployments/1", want: true, opID: "repos/get-deployment"},
		{name: "github wrong method", spec: g, method: "PUT", path: "/repos/o/r/deployments/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.spec.HasOperation(tt.method, tt.path); got != tt.want {
				t.Errorf("HasOperation(%q, %q) = %v, want %v", tt.method, tt.path, got, tt.want)
			}
			if got := tt.spec.OperationID(tt.method, tt.path); got != tt.opID {
				t.Errorf("OperationID(%q, %q) = %q, want %q", tt.method, tt.path, got, tt.opID)
			}
		})
	}
}

func TestLoadCaches(t *testing.T) {
	t.Parallel()
	a := Load(t, GitHub)
	b := Load(t, GitHub)
	if a != b {
		t.Errorf("Load() twice = %p, %p, want the same *Spec", a, b)
	}
}

func TestOpenMissingFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Open(dir, Dokploy); err == nil {
		t.Fatalf("Open(%q, %q) = nil error, want an error for a missing file", dir, Dokploy)
	}
}

func TestOpenUnloadableFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, GitHub), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, GitHub); err == nil {
		t.Fatalf("Open() = nil error, want an error for a broken document")
	}
}

// TestLoadFailsWhenFileMissing runs Load against a set variable naming an empty directory and
// checks that the test fails rather than skips.
func TestLoadFailsWhenFileMissing(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDir, dir)
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Load(ft, Dokploy)
	}()
	<-done
	if !ft.fatal || ft.skipped {
		t.Errorf("Load() with a missing file: fatal=%v skipped=%v, want fatal=true skipped=false", ft.fatal, ft.skipped)
	}
}

func TestLoadSkipsWhenUnset(t *testing.T) {
	t.Setenv(EnvDir, "")
	t.Setenv(EnvRequire, "")
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Load(ft, Dokploy)
	}()
	<-done
	if ft.fatal || !ft.skipped {
		t.Errorf("Load() with the variable unset: fatal=%v skipped=%v, want fatal=false skipped=true", ft.fatal, ft.skipped)
	}
	if !strings.Contains(ft.msg, EnvDir) {
		t.Errorf("Load() skip message = %q, want it to name %s", ft.msg, EnvDir)
	}
}

// TestLoadFailsWhenRequired checks that CI's RUNTIME_IDENTITY_REQUIRE_CONTRACTS=1 turns the skip
// into a failure that names both variables.
func TestLoadFailsWhenRequired(t *testing.T) {
	t.Setenv(EnvDir, "")
	t.Setenv(EnvRequire, "1")
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Load(ft, GitHub)
	}()
	<-done
	if !ft.fatal || ft.skipped {
		t.Errorf("Load() unset but required: fatal=%v skipped=%v, want fatal=true skipped=false", ft.fatal, ft.skipped)
	}
	if !strings.Contains(ft.msg, EnvDir) || !strings.Contains(ft.msg, EnvRequire) {
		t.Errorf("Load() message = %q, want it to name %s and %s", ft.msg, EnvDir, EnvRequire)
	}
}

// fakeTB records Fatal and Skip and ends the calling goroutine like the real ones.
type fakeTB struct {
	testing.TB
	fatal, skipped bool
	msg            string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = true
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = true
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestCompilePattern(t *testing.T) {
	t.Parallel()
	email := `^(?!\.)(?!.*\.\.)([A-Za-z0-9_'+\-\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`
	tests := []struct {
		name    string
		pattern string
		input   string
		want    bool
		wantErr bool
	}{
		{name: "plain", pattern: `^[a-z]+$`, input: "abc", want: true},
		{name: "plain no match", pattern: `^[a-z]+$`, input: "a1", want: false},
		{name: "unicode escape", pattern: `^\u0041$`, input: "A", want: true},
		{name: "email ok", pattern: email, input: "x.y@example.org", want: true},
		{name: "email leading dot", pattern: email, input: ".xy@example.org", want: false},
		{name: "email double dot", pattern: email, input: "x..y@example.org", want: false},
		{name: "email no tld", pattern: email, input: "xy@example", want: false},
		{name: "lookahead with paren inside class", pattern: `^(?![(])a+$`, input: "aa", want: true},
		{name: "lookbehind unsupported", pattern: `(?<=a)b`, wantErr: true},
		{name: "backreference unsupported", pattern: `^(a)\1$`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := CompilePattern(tt.pattern)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CompilePattern(%q) error = %v, want error %v", tt.pattern, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := m.MatchString(tt.input); got != tt.want {
				t.Errorf("MatchString(%q) = %v, want %v", tt.input, got, tt.want)
			}
		})
	}
}

func TestValidationErrorRedactsValue(t *testing.T) {
	t.Parallel()
	s := Load(t, Dokploy)
	const secret = "s3cr3t value"
	body := `{"composeId":"c1","appName":"` + secret + `"}`
	err := s.ValidateRequest(newRequest("POST", "/api/compose.update", body), []byte(body))
	if err == nil {
		t.Fatal("ValidateRequest() = nil, want a pattern error")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("ValidateRequest() error = %q, want the rejected value redacted", err)
	}
}
