package dokploytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func allByType(t *testing.T, s *Server, typ, id string) []map[string]any {
	t.Helper()
	r := call(t, s, http.MethodGet, "deployment.allByType", q("id", id, "type", typ), nil)
	if r.status != http.StatusOK {
		t.Fatalf("allByType(%s, %s) = %d %s, want 200", typ, id, r.status, r.body)
	}
	var out []map[string]any
	for _, v := range r.json(t).([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func rollbackApp(id, env string) App {
	return App{ID: id, AppName: id + "-web", Env: env, RollbackActive: true, RollbackRegistryPassword: "rollback-registry-secret",
		ProjectEnv: "P=project-value"}
}

// TestRollbackRecords checks which deployments get a rollback record and what it holds.
func TestRollbackRecords(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{opts: Options{RunDuration: 10 * time.Millisecond}})
	must(t, s.AddApplication(rollbackApp("on", "A=1")))
	must(t, s.AddApplication(App{ID: "active-only", RollbackActive: true}))
	must(t, s.AddApplication(App{ID: "registry-only", RollbackRegistryPassword: "x"}))
	must(t, s.AddCompose(Compose{ID: "cmp"}))
	for _, id := range []string{"on", "active-only", "registry-only"} {
		deploy(t, s, id)
	}
	s.FailNextDeployment("boom")
	deploy(t, s, "on")
	call(t, s, "POST", "compose.deploy", nil, map[string]any{"composeId": "cmp"})
	eventually(t, "an empty queue", func() bool { return len(queue(t, s)) == 0 })

	got := allByType(t, s, "application", "on")
	if len(got) != 2 || got[0]["status"] != "error" || got[1]["status"] != "done" {
		t.Fatalf("allByType(on) = %v, want an error row over a done row", got)
	}
	for i, r := range got {
		rb, ok := r["rollback"].(map[string]any)
		if !ok || r["rollbackId"] != rb["rollbackId"] || rb["deploymentId"] != r["deploymentId"] {
			t.Fatalf("row %d = %v, want a rollback relation matching rollbackId", i, r)
		}
		if want := fmt.Sprintf("on-web:v%d", int(rb["version"].(float64))); rb["image"] != want {
			t.Errorf("row %d image = %v, want %s", i, rb["image"], want)
		}
		ctx := rb["fullContext"].(map[string]any)
		reg, _ := ctx["rollbackRegistry"].(map[string]any)
		env, _ := ctx["environment"].(map[string]any)
		proj, _ := env["project"].(map[string]any)
		if ctx["env"] != "A=1" || reg["password"] != "rollback-registry-secret" || proj["env"] != "P=project-value" || ctx["appName"] != "on-web" {
			t.Errorf("row %d fullContext = %v, want the application with env, project env and registry password", i, ctx)
		}
		if _, has := ctx["deployments"]; has {
			t.Errorf("row %d fullContext has deployments, want them left out", i)
		}
	}
	if got[0]["rollback"].(map[string]any)["version"].(float64) <= got[1]["rollback"].(map[string]any)["version"].(float64) {
		t.Errorf("versions = %v, %v; want the newer row's higher", got[0]["rollback"], got[1]["rollback"])
	}
	// deployment.all carries the id only.
	for _, r := range rows(t, s, kindApplication, "on") {
		if _, has := r["rollback"]; has || r["rollbackId"] == nil {
			t.Errorf("deployment.all row = %v, want rollbackId and no rollback relation", r)
		}
	}
	for _, c := range []struct{ typ, id string }{{"application", "active-only"}, {"application", "registry-only"}, {"compose", "cmp"}} {
		rs := allByType(t, s, c.typ, c.id)
		if len(rs) != 1 || rs[0]["rollback"] != nil || rs[0]["rollbackId"] != nil {
			t.Errorf("allByType(%s) = %v, want one row without a rollback", c.id, rs)
		}
	}
	// Other types and ids list nothing.
	for _, c := range []struct{ typ, id string }{{"server", "on"}, {"compose", "on"}, {"application", "ghost"}} {
		if rs := allByType(t, s, c.typ, c.id); len(rs) != 0 {
			t.Errorf("allByType(%s, %s) = %v, want []", c.typ, c.id, rs)
		}
	}
}

// TestRollback follows a verified rollback: an earlier done deployment with a snapshot, a newer
// one serving something else, then rollback.rollback brings the snapshot's env back at once,
// with no queue, no row and the stored env untouched.
func TestRollback(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{process: true})
	app := rollbackApp("app1", identityEnv("old")+"\nFROM_PROJECT=${{project.P}}")
	must(t, s.AddApplication(app))
	must(t, s.Start())
	previous, err := s.RecordDeployment("app1", "done")
	if err != nil {
		t.Fatal(err)
	}
	rollbackID := s.RollbackID(previous)
	if rollbackID == "" {
		t.Fatal("RecordDeployment() made no rollback record")
	}
	if env, err := s.RollbackSnapshotEnv(rollbackID); err != nil || env != app.Env {
		t.Errorf("RollbackSnapshotEnv() = %q, %v; want the env at the recorded deployment", env, err)
	}
	saveEnv(t, s, "app1", identityEnv("new"))
	deploy(t, s, "app1")
	eventually(t, "the new identity", func() bool { return identity(t, s, "app1") == identityJSON("new") })
	eventually(t, "the old backend stopped", func() bool { return s.Running() == 1 })
	s.SetProjectEnv(DefaultProjectID, "P=rotated-later")

	before := len(rows(t, s, kindApplication, "app1"))
	r := call(t, s, "POST", "rollback.rollback", nil, map[string]any{"rollbackId": rollbackID})
	if r.status != http.StatusOK || len(r.body) != 0 {
		t.Fatalf("rollback.rollback = %d %q, want 200 with an empty body", r.status, r.body)
	}
	if got := queue(t, s); len(got) != 0 {
		t.Errorf("queueList after a rollback = %v, want empty (no job)", got)
	}
	eventually(t, "the old identity back", func() bool { return identity(t, s, "app1") == identityJSON("old") })
	if got, _ := envValue(t, s, "app1", "FROM_PROJECT"); got != "project-value" {
		t.Errorf("FROM_PROJECT after the rollback = %q, want the snapshot's project value", got)
	}
	if got := len(rows(t, s, kindApplication, "app1")); got != before {
		t.Errorf("rows after the rollback = %d, want %d (no new row)", got, before)
	}
	if got := s.Env("app1"); got != identityEnv("new") {
		t.Errorf("Env() after the rollback = %q, want the stored env unchanged", got)
	}
}

func TestRollbackErrors(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	must(t, s.AddApplication(rollbackApp("app1", "A=1")))
	must(t, s.AddApplication(rollbackApp("envref", "A=${{environment.E}}")))
	s.SetEnvironmentEnv(DefaultEnvironmentID, "E=e")
	must(t, s.AddApplication(rollbackApp("denied", "A=1")))
	ids := map[string]string{}
	for _, id := range []string{"app1", "envref", "denied"} {
		dep, err := s.RecordDeployment(id, "done")
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = s.RollbackID(dep)
	}
	s.DenyService("denied")
	rollingBack := `{"message":"Error input: Rolling back","code":"BAD_REQUEST","data":{"code":"BAD_REQUEST","httpStatus":400,"path":"rollback.rollback","zodError":null}}`
	tests := []struct {
		name       string
		arm        func()
		rollbackID string
		wantStatus int
		want       string
	}{
		{name: "unknown record", rollbackID: "nope", wantStatus: 400, want: rollingBack},
		{name: "a fault", arm: s.FailNextRollback, rollbackID: ids["app1"], wantStatus: 400, want: rollingBack},
		// Dokploy's rollback passes no environment env: an environment reference fails.
		{name: "environment reference", rollbackID: ids["envref"], wantStatus: 400, want: rollingBack},
		{name: "member without access", rollbackID: ids["denied"], wantStatus: 401},
		{name: "the fault is spent", rollbackID: ids["app1"], wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.arm != nil {
				tt.arm()
			}
			r := call(t, s, "POST", "rollback.rollback", nil, map[string]any{"rollbackId": tt.rollbackID})
			if r.status != tt.wantStatus {
				t.Fatalf("rollback.rollback = %d %s, want %d", r.status, r.body, tt.wantStatus)
			}
			if tt.want != "" {
				if diff := cmp.Diff(mustJSON(t, tt.want), r.json(t)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestRollbackRecordsLeaveWithTheirRows(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	must(t, s.AddApplication(rollbackApp("app1", "A=1")))
	first, err := s.RecordDeployment("app1", "done")
	if err != nil {
		t.Fatal(err)
	}
	firstRollback := s.RollbackID(first)
	for range 13 {
		deploy(t, s, "app1")
	}
	eventually(t, "an empty queue", func() bool { return len(queue(t, s)) == 0 })
	rs := allByType(t, s, "application", "app1")
	if len(rs) != 11 {
		t.Fatalf("rows = %d, want 11", len(rs))
	}
	for _, r := range rs {
		if r["rollback"] == nil {
			t.Errorf("row %v has no rollback relation", r["deploymentId"])
		}
	}
	s.mu.Lock()
	n := len(s.rollbacks)
	s.mu.Unlock()
	if n != 11 {
		t.Errorf("stored rollback records = %d, want 11 (the trimmed rows' records removed)", n)
	}
	r := call(t, s, "POST", "rollback.rollback", nil, map[string]any{"rollbackId": firstRollback})
	if r.status != http.StatusBadRequest {
		t.Errorf("rollback to a trimmed row's record = %d %s, want 400", r.status, r.body)
	}
}

func TestRollbackDelete(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	must(t, s.AddApplication(rollbackApp("app1", "A=1")))
	dep, err := s.RecordDeployment("app1", "done")
	if err != nil {
		t.Fatal(err)
	}
	id := s.RollbackID(dep)
	r := call(t, s, "POST", "rollback.delete", nil, map[string]any{"rollbackId": id})
	if r.status != http.StatusOK {
		t.Fatalf("rollback.delete = %d %s, want 200", r.status, r.body)
	}
	var got struct {
		RollbackID string         `json:"rollbackId"`
		Deployment map[string]any `json:"deployment"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil || got.RollbackID != id || got.Deployment["deploymentId"] != dep {
		t.Errorf("rollback.delete answer = %s (%v), want the record with its deployment", r.body, err)
	}
	rs := allByType(t, s, "application", "app1")
	if len(rs) != 1 || rs[0]["rollback"] != nil || rs[0]["rollbackId"] != nil {
		t.Errorf("allByType after delete = %v, want the row without its rollback", rs)
	}
	if r := call(t, s, "POST", "rollback.delete", nil, map[string]any{"rollbackId": id}); r.status != http.StatusInternalServerError {
		t.Errorf("second rollback.delete = %d %s, want 500 (Dokploy's unawaited \"Rollback not found\")", r.status, r.body)
	}
}

func TestAllByTypeValidation(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{noT: true})
	must(t, s.AddApplication(App{ID: "app1"}))
	r := call(t, s, http.MethodGet, "deployment.allByType", q("id", "app1", "type", "nope"), nil)
	want := `{"message":"Input validation failed","code":"BAD_REQUEST",
		"issues":[{"code":"invalid_value","values":["application","compose","server","schedule","previewDeployment","backup","volumeBackup"],"path":["type"],
			"message":"Invalid option: expected one of \"application\"|\"compose\"|\"server\"|\"schedule\"|\"previewDeployment\"|\"backup\"|\"volumeBackup\""}],
		"data":{"code":"BAD_REQUEST","httpStatus":400,"path":"deployment.allByType",
			"zodError":{"formErrors":[],"fieldErrors":{"type":["Invalid option: expected one of \"application\"|\"compose\"|\"server\"|\"schedule\"|\"previewDeployment\"|\"backup\"|\"volumeBackup\""]}}}}`
	if r.status != http.StatusBadRequest {
		t.Fatalf("allByType(type=nope) = %d %s, want 400", r.status, r.body)
	}
	if diff := cmp.Diff(mustJSON(t, want), r.json(t)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if got := len(s.Violations()); got != 1 {
		t.Errorf("len(Violations()) = %d, want 1 (the contract has the same enum)", got)
	}
	s.DenyService("app1")
	if r := call(t, s, http.MethodGet, "deployment.allByType", q("id", "app1", "type", "application"), nil); r.status != http.StatusUnauthorized {
		t.Errorf("allByType of a denied service = %d, want 401", r.status)
	}
}
