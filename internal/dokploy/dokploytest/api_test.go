package dokploytest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const secretEnv = "# comment stays\nDATABASE_URL=postgres://u:hunter2@db/x\n\nexport TOKEN=\"multi\nline\"\r\n"

func addDefaultApp(s *Server) {
	s.AddApplication(App{
		ID: "app1", Name: "web", AppName: "web-x1", Env: secretEnv,
		BuildArgs: "NPM_TOKEN=npm-secret", BuildSecrets: "SSH_KEY=ssh-secret",
		CreateEnvFile: true, RegistryPassword: "registry-secret",
	})
	s.AddCompose(Compose{ID: "cmp1", Name: "stack", AppName: "stack-x1", Env: "A=1", ComposeFile: "services: {}\n", CreateEnvFile: true})
}

func TestAuthBeforeRouting(t *testing.T) {
	t.Parallel()
	// The unknown path and the wrong method are contract violations, recorded below.
	s, _ := newServer(t, setup{noT: true})
	addDefaultApp(s)
	tests := []struct {
		name   string
		method string
		path   string
		key    string
	}{
		{name: "missing key", method: "GET", path: "/api/application.one?applicationId=app1"},
		{name: "wrong key", method: "GET", path: "/api/application.one?applicationId=app1", key: "nope"},
		{name: "wrong key on unknown path", method: "GET", path: "/api/no.such", key: "nope"},
		{name: "wrong key on wrong method", method: "GET", path: "/api/application.deploy", key: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := url.Parse(tt.path)
			r := callWith(t, s, tt.method, u.Path, u.Query(), nil, tt.key, "")
			if r.status != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", r.status)
			}
			if got, want := string(r.body), `{"message":"Unauthorized"}`; got != want {
				t.Errorf("body = %s, want %s", got, want)
			}
			if got, want := r.header.Get("Content-Type"), "application/json; charset=utf-8"; got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
		})
	}
	if got := len(s.Violations()); got != 2 {
		t.Errorf("len(Violations()) = %d, want 2: %q", got, s.Violations())
	}
}

// TestRoutingErrors sends requests the contract rejects, so they are recorded as violations
// and answered as Dokploy answers them.
func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		method      string
		path        string
		body        any
		contentType string
		wantStatus  int
		wantBody    string
	}{
		{name: "wrong method on query", method: "POST", path: "/api/application.one", body: map[string]any{"applicationId": "app1"}, contentType: "application/json",
			wantStatus: 404, wantBody: `{"code":"NOT_FOUND","message":"Not found"}`},
		{name: "wrong method on mutation", method: "GET", path: "/api/application.deploy", wantStatus: 404, wantBody: `{"code":"NOT_FOUND","message":"Not found"}`},
		{name: "unknown procedure", method: "GET", path: "/api/application.nothing", wantStatus: 404, wantBody: `{"code":"NOT_FOUND","message":"Not found"}`},
		{name: "slash path", method: "GET", path: "/api/application/one", wantStatus: 404, wantBody: `{"code":"NOT_FOUND","message":"Not found"}`},
		{name: "trpc path", method: "GET", path: "/api/trpc/application.one", wantStatus: 404, wantBody: `{"code":"NOT_FOUND","message":"Not found"}`},
		{name: "non-JSON POST", method: "POST", path: "/api/application.deploy", body: `applicationId=app1`, contentType: "text/plain",
			wantStatus: 415, wantBody: `{"code":"UNSUPPORTED_MEDIA_TYPE","message":"Unsupported content-type \"text/plain\""}`},
		{name: "POST without content type", method: "POST", path: "/api/application.deploy", body: `{"applicationId":"app1"}`,
			wantStatus: 415, wantBody: `{"code":"UNSUPPORTED_MEDIA_TYPE","message":"Unsupported content-type \"\""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newServer(t, setup{noT: true})
			addDefaultApp(s)
			r := callWith(t, s, tt.method, tt.path, nil, tt.body, s.APIKey(), tt.contentType)
			if r.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", r.status, tt.wantStatus)
			}
			if diff := cmp.Diff(mustJSON(t, tt.wantBody), r.json(t)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if got := len(s.Violations()); got != 1 {
				t.Errorf("len(Violations()) = %d, want 1: %q", got, s.Violations())
			}
			if s.Calls("application.deploy") == 0 && s.Calls("application.one") == 0 && s.RequestCount() != 1 {
				t.Errorf("RequestCount() = %d, want 1", s.RequestCount())
			}
		})
	}
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		op     string
		query  url.Values
		body   any
		want   string
	}{
		{
			name: "saveEnvironment missing buildArgs", method: "POST", op: "application.saveEnvironment",
			body: map[string]any{"applicationId": "app1", "env": "A=1", "buildSecrets": nil, "createEnvFile": true},
			want: `{"message":"Input validation failed","code":"BAD_REQUEST",
				"issues":[{"expected":"string","code":"invalid_type","path":["buildArgs"],"message":"Invalid input: expected string, received undefined"}],
				"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"application.saveEnvironment",
					"zodError":{"formErrors":[],"fieldErrors":{"buildArgs":["Invalid input: expected string, received undefined"]}}}}`,
		},
		{
			name: "saveEnvironment wrong types", method: "POST", op: "application.saveEnvironment",
			body: map[string]any{"applicationId": "app1", "env": 5, "buildArgs": "", "buildSecrets": "", "createEnvFile": "yes"},
			want: `{"message":"Input validation failed","code":"BAD_REQUEST",
				"issues":[{"expected":"string","code":"invalid_type","path":["env"],"message":"Invalid input: expected string, received number"},
					{"expected":"boolean","code":"invalid_type","path":["createEnvFile"],"message":"Invalid input: expected boolean, received string"}],
				"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"application.saveEnvironment",
					"zodError":{"formErrors":[],"fieldErrors":{"env":["Invalid input: expected string, received number"],"createEnvFile":["Invalid input: expected boolean, received string"]}}}}`,
		},
		{
			name: "one empty id", method: "GET", op: "application.one", query: q("applicationId", ""),
			want: `{"message":"Input validation failed","code":"BAD_REQUEST",
				"issues":[{"origin":"string","code":"too_small","minimum":1,"inclusive":true,"path":["applicationId"],"message":"Too small: expected string to have >=1 characters"}],
				"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"application.one",
					"zodError":{"formErrors":[],"fieldErrors":{"applicationId":["Too small: expected string to have >=1 characters"]}}}}`,
		},
		{
			name: "readLogs tail too big", method: "GET", op: "deployment.readLogs", query: q("deploymentId", "d", "tail", "10001"),
			want: `{"message":"Input validation failed","code":"BAD_REQUEST",
				"issues":[{"origin":"number","code":"too_big","maximum":10000,"inclusive":true,"path":["tail"],"message":"Too big: expected number to be <=10000"}],
				"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"deployment.readLogs",
					"zodError":{"formErrors":[],"fieldErrors":{"tail":["Too big: expected number to be <=10000"]}}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newServer(t, setup{noT: true})
			addDefaultApp(s)
			r := call(t, s, tt.method, tt.op, tt.query, tt.body)
			if r.status != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", r.status)
			}
			if diff := cmp.Diff(mustJSON(t, tt.want), r.json(t)); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if got := len(s.Violations()); got != 1 {
				t.Errorf("len(Violations()) = %d, want 1 (the contract rejects this request too)", got)
			}
			if got := s.Env("app1"); got != secretEnv {
				t.Errorf("Env() after a rejected write = %q, want it unchanged", got)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	tests := []struct {
		name   string
		method string
		op     string
		query  url.Values
		body   any
		want   string
	}{
		{name: "application.one", method: "GET", op: "application.one", query: q("applicationId", "nope"), want: "Application not found"},
		{name: "application.one of a compose id", method: "GET", op: "application.one", query: q("applicationId", "cmp1"), want: "Application not found"},
		{name: "compose.one", method: "GET", op: "compose.one", query: q("composeId", "nope"), want: "Compose not found"},
		{name: "saveEnvironment", method: "POST", op: "application.saveEnvironment",
			body: map[string]any{"applicationId": "nope", "env": "", "buildArgs": "", "buildSecrets": "", "createEnvFile": false}, want: "Application not found"},
		{name: "compose.update", method: "POST", op: "compose.update", body: map[string]any{"composeId": "nope", "env": ""}, want: "Compose not found"},
		{name: "deploy", method: "POST", op: "application.deploy", body: map[string]any{"applicationId": "nope"}, want: "Application not found"},
		{name: "deployment.all", method: "GET", op: "deployment.all", query: q("applicationId", "nope"), want: "Application not found"},
		{name: "readLogs", method: "GET", op: "deployment.readLogs", query: q("deploymentId", "nope"), want: "Deployment not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, tt.method, tt.op, tt.query, tt.body)
			if r.status != http.StatusNotFound {
				t.Errorf("status = %d, want 404", r.status)
			}
			got := r.json(t).(map[string]any)
			if got["message"] != tt.want || got["code"] != "NOT_FOUND" {
				t.Errorf("body = %s, want message %q code NOT_FOUND", r.body, tt.want)
			}
			if data, _ := got["data"].(map[string]any); data["httpStatus"] != float64(404) || data["path"] != tt.op {
				t.Errorf("data = %v, want httpStatus 404 and path %q", data, tt.op)
			}
		})
	}
	if got := s.Writes(); got != 3 {
		t.Errorf("Writes() = %d, want 3 (every POST counts, rejected or not)", got)
	}
}

func TestSaveEnvironmentOverwritesAllFour(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	r := call(t, s, "POST", "application.saveEnvironment", nil, map[string]any{
		"applicationId": "app1", "env": "NEW=1", "buildArgs": nil, "buildSecrets": "S=2", "createEnvFile": false,
		"name": "renamed", "unknownKey": true, // stripped silently
	})
	if r.status != 200 || string(r.body) != "true" {
		t.Fatalf("saveEnvironment = %d %s, want 200 true", r.status, r.body)
	}
	one := call(t, s, "GET", "application.one", q("applicationId", "app1"), nil).json(t).(map[string]any)
	got := map[string]any{"env": one["env"], "buildArgs": one["buildArgs"], "buildSecrets": one["buildSecrets"], "createEnvFile": one["createEnvFile"], "name": one["name"]}
	want := map[string]any{"env": "NEW=1", "buildArgs": nil, "buildSecrets": "S=2", "createEnvFile": false, "name": "web"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("application.one after saveEnvironment (-want +got):\n%s", diff)
	}
	if len(s.Violations()) != 0 {
		t.Errorf("Violations() = %q, want none", s.Violations())
	}
}

func TestOneReturnsSecretsVerbatim(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	one := call(t, s, "GET", "application.one", q("applicationId", "app1"), nil).json(t).(map[string]any)
	reg, _ := one["registry"].(map[string]any)
	got := map[string]any{"env": one["env"], "buildArgs": one["buildArgs"], "buildSecrets": one["buildSecrets"], "password": reg["password"],
		"applicationId": one["applicationId"], "appName": one["appName"], "applicationStatus": one["applicationStatus"]}
	want := map[string]any{"env": secretEnv, "buildArgs": "NPM_TOKEN=npm-secret", "buildSecrets": "SSH_KEY=ssh-secret", "password": "registry-secret",
		"applicationId": "app1", "appName": "web-x1", "applicationStatus": "done"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("application.one (-want +got):\n%s", diff)
	}
	c := call(t, s, "GET", "compose.one", q("composeId", "cmp1"), nil).json(t).(map[string]any)
	if c["env"] != "A=1" || c["composeId"] != "cmp1" || c["composeType"] != "docker-compose" {
		t.Errorf("compose.one = %v, want env A=1, composeId cmp1, composeType docker-compose", c)
	}
}

func TestComposeUpdateReturnsRow(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	s.EditAfterNextWrite("cmp1", func(env string) string { return env + "\nOTHER=changed" })
	r := call(t, s, "POST", "compose.update", nil, map[string]any{"composeId": "cmp1", "env": "B=2"})
	if r.status != 200 {
		t.Fatalf("compose.update = %d %s, want 200", r.status, r.body)
	}
	row := r.json(t).(map[string]any)
	if row["composeId"] != "cmp1" {
		t.Errorf("compose.update row = %v, want composeId cmp1", row)
	}
	if got, want := s.Env("cmp1"), "B=2\nOTHER=changed"; got != want {
		t.Errorf("Env() after a write with a concurrent edit = %q, want %q", got, want)
	}
	// The edit happens once.
	call(t, s, "POST", "compose.saveEnvironment", nil, map[string]any{"composeId": "cmp1", "env": "C=3", "createEnvFile": true})
	if got, want := s.Env("cmp1"), "C=3"; got != want {
		t.Errorf("Env() after a second write = %q, want %q", got, want)
	}
}

func TestCountersAndRecording(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	body := map[string]any{"applicationId": "app1", "env": "K=planted", "buildArgs": "", "buildSecrets": "", "createEnvFile": true}
	callWith(t, s, "POST", "/api/application.saveEnvironment", nil, body, "bad-key", "application/json")
	call(t, s, "POST", "application.saveEnvironment", nil, body)
	call(t, s, "GET", "application.one", q("applicationId", "app1"), nil)
	if got := s.Writes(); got != 2 {
		t.Errorf("Writes() = %d, want 2", got)
	}
	if got := s.Calls("application.saveEnvironment"); got != 2 {
		t.Errorf("Calls(saveEnvironment) = %d, want 2", got)
	}
	if got := s.Calls("application.one"); got != 1 {
		t.Errorf("Calls(one) = %d, want 1", got)
	}
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("len(Requests()) = %d, want 3", len(reqs))
	}
	if !strings.Contains(reqs[1].Body, "planted") || reqs[1].Header.Get("x-api-key") != s.APIKey() || reqs[1].Method != "POST" {
		t.Errorf("Requests()[1] = %+v, want the accepted write with its body and key", reqs[1])
	}
	if reqs[2].Query != "applicationId=app1" || reqs[2].Path != "/api/application.one" {
		t.Errorf("Requests()[2] = %q %q, want /api/application.one applicationId=app1", reqs[2].Path, reqs[2].Query)
	}
}

// TestViolationRecording shows that a request the contract rejects is flagged even when the
// fake itself would accept it, and that Options.OnViolation hears of it.
func TestViolationRecording(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var heard []string
	s, _ := newServer(t, setup{onViolation: func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		heard = append(heard, msg)
	}})
	addDefaultApp(s)
	// appName breaks the contract's pattern; the fake strips appName, so only the contract catches it.
	r := call(t, s, "POST", "compose.update", nil, map[string]any{"composeId": "cmp1", "appName": "has space"})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "dokploytest") {
		t.Errorf("compose.update = %d %s, want 400 naming the contract violation", r.status, r.body)
	}
	v := s.Violations()
	if len(v) != 1 || !strings.Contains(v[0], "compose.update") {
		t.Fatalf("Violations() = %q, want one naming compose.update", v)
	}
	if strings.Contains(v[0], "has space") {
		t.Errorf("violation %q repeats the rejected value", v[0])
	}
	mu.Lock()
	if len(heard) != 1 || heard[0] != v[0] {
		t.Errorf("OnViolation heard %q, want the one violation %q", heard, v[0])
	}
	mu.Unlock()
	// A valid request adds nothing.
	call(t, s, "GET", "compose.one", q("composeId", "cmp1"), nil)
	if got := len(s.Violations()); got != 1 {
		t.Errorf("len(Violations()) after a valid request = %d, want 1", got)
	}
}

func TestReadLogsIsPlainString(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	s.FailNextDeployment("step 1\nstep 2\nboom: exit 1")
	call(t, s, "POST", "application.deploy", nil, map[string]any{"applicationId": "app1"})
	var id string
	eventually(t, "an error row", func() bool {
		rs := rows(t, s, kindApplication, "app1")
		if len(rs) == 1 && rs[0]["status"] == "error" {
			id = rs[0]["deploymentId"].(string)
			return true
		}
		return false
	})
	r := call(t, s, "GET", "deployment.readLogs", q("deploymentId", id, "tail", "2"), nil)
	var got string
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
		t.Fatalf("readLogs = %d %s, want a JSON string: %v", r.status, r.body, err)
	}
	if want := "boom: exit 1\nError occurred ❌, check the logs for details."; got != want {
		t.Errorf("readLogs(tail=2) = %q, want %q", got, want)
	}
	r = call(t, s, "GET", "deployment.readLogs", q("deploymentId", id), nil)
	if err := json.Unmarshal(r.body, &got); err != nil || !strings.Contains(got, "step 1\nstep 2\nboom") {
		t.Errorf("readLogs() = %q, want the whole tail (default 100 lines)", got)
	}
}

func TestQueueListShape(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{opts: Options{RowDelay: 400 * time.Millisecond}})
	addDefaultApp(s)
	for range 2 {
		r := call(t, s, "POST", "application.deploy", nil, map[string]any{"applicationId": "app1", "title": "t", "description": "d"})
		if r.status != 200 || len(r.body) != 0 {
			t.Fatalf("application.deploy = %d %q, want 200 with an empty body", r.status, r.body)
		}
	}
	got := queue(t, s)
	if len(got) != 2 {
		t.Fatalf("queueList = %v, want 2 jobs", got)
	}
	for _, j := range got {
		delete(j, "timestamp")
		delete(j, "processedOn")
	}
	want := []map[string]any{
		{"id": "job-1", "name": "application", "state": "active", "servicePath": "application/app1",
			"data": map[string]any{"applicationId": "app1", "titleLog": "t", "descriptionLog": "d", "type": "deploy", "applicationType": "application", "server": false, "serverId": nil}},
		{"id": "job-2", "name": "application", "state": "waiting", "servicePath": "application/app1",
			"data": map[string]any{"applicationId": "app1", "titleLog": "t", "descriptionLog": "d", "type": "deploy", "applicationType": "application", "server": false, "serverId": nil}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queueList (-want +got):\n%s", diff)
	}
	if rs := rows(t, s, kindApplication, "app1"); len(rs) != 0 {
		t.Errorf("rows right after deploy = %d, want none yet", len(rs))
	}
	eventually(t, "an empty queue", func() bool { return len(queue(t, s)) == 0 })
	if rs := rows(t, s, kindApplication, "app1"); len(rs) != 2 {
		t.Errorf("rows after both jobs = %d, want 2", len(rs))
	}
}

func TestComposeDeployReturnsQueuedObject(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	for _, tt := range []struct{ op, msg string }{{"compose.deploy", "Deployment queued"}, {"compose.redeploy", "Redeployment queued"}} {
		r := call(t, s, "POST", tt.op, nil, map[string]any{"composeId": "cmp1"})
		want := map[string]any{"success": true, "message": tt.msg, "composeId": "cmp1"}
		if diff := cmp.Diff(want, r.json(t)); diff != "" || r.status != 200 {
			t.Errorf("%s = %d (-want +got):\n%s", tt.op, r.status, diff)
		}
	}
	eventually(t, "two compose rows", func() bool { return len(rows(t, s, kindCompose, "cmp1")) == 2 })
}

func TestDenyService(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	s.DenyService("app1")
	s.DenyService("ghost")
	for _, id := range []string{"app1", "ghost"} {
		r := call(t, s, "GET", "application.one", q("applicationId", id), nil)
		got := r.json(t).(map[string]any)
		if r.status != http.StatusUnauthorized || got["code"] != "UNAUTHORIZED" || got["message"] != "You don't have access to this service" {
			t.Errorf("application.one(%s) = %d %s, want a tRPC-shaped 401", id, r.status, r.body)
		}
		if data, _ := got["data"].(map[string]any); data["httpStatus"] != float64(401) {
			t.Errorf("data = %v, want httpStatus 401", data)
		}
	}
	if r := call(t, s, "GET", "compose.one", q("composeId", "cmp1"), nil); r.status != 200 {
		t.Errorf("compose.one of an allowed service = %d, want 200", r.status)
	}
}
