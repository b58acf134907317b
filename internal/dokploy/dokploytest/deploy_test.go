package dokploytest

import (
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func saveEnv(t *testing.T, s *Server, id, env string) {
	t.Helper()
	r := call(t, s, "POST", "application.saveEnvironment", nil, map[string]any{
		"applicationId": id, "env": env, "buildArgs": "", "buildSecrets": "", "createEnvFile": true,
	})
	if r.status != 200 {
		t.Fatalf("saveEnvironment = %d %s, want 200", r.status, r.body)
	}
}

func deploy(t *testing.T, s *Server, id string) {
	t.Helper()
	r := call(t, s, "POST", "application.deploy", nil, map[string]any{"applicationId": id, "title": "runtime-identity"})
	if r.status != 200 || len(r.body) != 0 {
		t.Fatalf("application.deploy = %d %q, want 200 with an empty body", r.status, r.body)
	}
}

// TestDeployLifecycle follows one application deployment: no row at first, then a row
// already running with startedAt, then done with finishedAt; then the new identity serves.
func TestDeployLifecycle(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{process: true, opts: Options{RowDelay: 300 * time.Millisecond, RunDuration: 300 * time.Millisecond}})
	s.AddApplication(App{ID: "app1", Name: "web", Env: identityEnv("old")})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if got := identity(t, s, "app1"); got != identityJSON("old") {
		t.Fatalf("identity before deploy = %s, want the initial one", got)
	}
	if err := s.Start(); err == nil {
		t.Errorf("second Start() = nil error, want one")
	}
	saveEnv(t, s, "app1", identityEnv("new"))
	deploy(t, s, "app1")
	// The env at trigger time is what deploys; a later edit waits for the next deploy.
	s.SetEnv("app1", identityEnv("later"))
	if rs := rows(t, s, kindApplication, "app1"); len(rs) != 0 {
		t.Fatalf("rows right after deploy = %v, want none", rs)
	}
	if one := call(t, s, "GET", "application.one", q("applicationId", "app1"), nil).json(t).(map[string]any); one["applicationStatus"] != "done" {
		t.Errorf("applicationStatus right after deploy = %v, want the previous outcome done", one["applicationStatus"])
	}
	var first map[string]any
	eventually(t, "a row", func() bool {
		rs := rows(t, s, kindApplication, "app1")
		if len(rs) > 0 {
			first = rs[0]
			return true
		}
		return false
	})
	if first["status"] != "running" || first["startedAt"] == nil || first["finishedAt"] != nil || first["title"] != "runtime-identity" {
		t.Errorf("first row seen = %v, want running with startedAt, no finishedAt, our title", first)
	}
	eventually(t, "done", func() bool { return rows(t, s, kindApplication, "app1")[0]["status"] == "done" })
	done := rows(t, s, kindApplication, "app1")[0]
	if done["finishedAt"] == nil || done["deploymentId"] != first["deploymentId"] {
		t.Errorf("done row = %v, want finishedAt and the same id", done)
	}
	eventually(t, "the new identity", func() bool { return identity(t, s, "app1") == identityJSON("new") })
	eventually(t, "the old backend stopped", func() bool { return s.Running() == 1 })
}

func TestStaleWindow(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{process: true, opts: Options{StaleWindow: 1500 * time.Millisecond}})
	s.AddApplication(App{ID: "app1", Env: identityEnv("old")})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	saveEnv(t, s, "app1", identityEnv("new"))
	deploy(t, s, "app1")
	eventually(t, "done", func() bool {
		rs := rows(t, s, kindApplication, "app1")
		return len(rs) == 1 && rs[0]["status"] == "done"
	})
	// Done, but the old identity still serves.
	for range 3 {
		if got := identity(t, s, "app1"); got != identityJSON("old") {
			t.Fatalf("identity inside the stale window = %s, want the old one", got)
		}
	}
	if got := s.Running(); got != 2 {
		t.Errorf("Running() inside the stale window = %d, want 2 (old serving, new started)", got)
	}
	eventually(t, "the new identity", func() bool { return identity(t, s, "app1") == identityJSON("new") })
	eventually(t, "the old backend stopped", func() bool { return s.Running() == 1 })
}

func TestMixedReplicas(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{process: true, opts: Options{MixedWindow: 3 * time.Second}})
	s.AddApplication(App{ID: "app1", Env: identityEnv("old"), Replicas: 2})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	saveEnv(t, s, "app1", identityEnv("new"))
	deploy(t, s, "app1")
	eventually(t, "done", func() bool {
		rs := rows(t, s, kindApplication, "app1")
		return len(rs) == 1 && rs[0]["status"] == "done"
	})
	var seen []string
	for range 6 {
		seen = append(seen, identity(t, s, "app1"))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] == seen[i-1] {
			t.Fatalf("identities inside the mixed window = %q, want old and new alternating", seen)
		}
	}
	if !strings.Contains(strings.Join(seen, ""), identityJSON("old")) || !strings.Contains(strings.Join(seen, ""), identityJSON("new")) {
		t.Errorf("identities inside the mixed window = %q, want both", seen)
	}
	eventually(t, "only the new identity", func() bool { return s.Running() == 1 })
	for range 3 {
		if got := identity(t, s, "app1"); got != identityJSON("new") {
			t.Fatalf("identity after the mixed window = %s, want the new one", got)
		}
	}
}

// TestSingleReplicaNeverMixes checks the mixed window applies only with replicas > 1.
func TestSingleReplicaNeverMixes(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{process: true, opts: Options{MixedWindow: time.Hour}})
	s.AddApplication(App{ID: "app1", Env: identityEnv("old")})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	saveEnv(t, s, "app1", identityEnv("new"))
	deploy(t, s, "app1")
	eventually(t, "the new identity", func() bool { return identity(t, s, "app1") == identityJSON("new") })
	for range 4 {
		if got := identity(t, s, "app1"); got != identityJSON("new") {
			t.Fatalf("identity after switching = %s, want the new one only", got)
		}
	}
}

func TestComposeEnvDelivery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want string
	}{
		{name: "no env_file", file: "services:\n  web:\n    image: web\n", want: "null"},
		{name: "env_file .env", file: "services:\n  web:\n    image: web\n    env_file: .env\n", want: identityJSON("c")},
		{name: "env_file list", file: "services:\n  web:\n    env_file:\n      - ./.env\n", want: identityJSON("c")},
		{name: "forwarded key", file: "services:\n  web:\n    environment:\n      LAUNCHPLANE_RUNTIME_IDENTITY_JSON: ${LAUNCHPLANE_RUNTIME_IDENTITY_JSON}\n", want: identityJSON("c")},
		{name: "other key forwarded only", file: "services:\n  web:\n    environment:\n      - OTHER=${OTHER}\n", want: "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newServer(t, setup{process: true})
			s.AddCompose(Compose{ID: "c1", Env: identityEnv("c") + "\nOTHER=x\n", ComposeFile: tt.file, CreateEnvFile: true})
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			if got := identity(t, s, "c1"); got != tt.want {
				t.Errorf("identity = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestComposeDeployWithoutEnvFile(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{process: true})
	s.AddCompose(Compose{ID: "c1", Env: "", ComposeFile: "services:\n  web:\n    image: web\n"})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	r := call(t, s, "POST", "compose.update", nil, map[string]any{"composeId": "c1", "env": identityEnv("c")})
	if r.status != 200 {
		t.Fatalf("compose.update = %d", r.status)
	}
	call(t, s, "POST", "compose.deploy", nil, map[string]any{"composeId": "c1"})
	eventually(t, "done", func() bool {
		rs := rows(t, s, kindCompose, "c1")
		return len(rs) == 1 && rs[0]["status"] == "done"
	})
	eventually(t, "the new backend alone", func() bool { return s.Running() == 1 })
	if got := identity(t, s, "c1"); got != "null" {
		t.Errorf("identity after a done compose deploy without env_file = %s, want null", got)
	}
}

func TestRowsNewestFirstCapped(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	s.AddApplication(App{ID: "app1"})
	for range 14 {
		deploy(t, s, "app1")
	}
	eventually(t, "an empty queue", func() bool { return len(queue(t, s)) == 0 })
	rs := rows(t, s, kindApplication, "app1")
	if len(rs) != 11 {
		t.Fatalf("len(rows) after 14 deploys = %d, want 11 (10 kept + the newest)", len(rs))
	}
	var created []string
	for _, r := range rs {
		created = append(created, r["createdAt"].(string))
	}
	if !sort.SliceIsSorted(created, func(i, j int) bool { return created[i] > created[j] }) {
		t.Errorf("createdAt = %q, want newest first", created)
	}
	// Trimmed rows are gone for readLogs too.
	s.mu.Lock()
	n := len(s.rows)
	s.mu.Unlock()
	if n != 11 {
		t.Errorf("stored rows = %d, want 11", n)
	}
}

func TestTitleOverwrite(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	s.AddApplication(App{ID: "git", SourceType: "github"})
	s.AddApplication(App{ID: "img"})
	s.SetCommit("git", "feat: ship it", "abc123")
	s.SetCommit("img", "fix: thing", "def456")
	call(t, s, "POST", "application.deploy", nil, map[string]any{"applicationId": "git", "title": "mine", "description": "ours"})
	call(t, s, "POST", "application.redeploy", nil, map[string]any{"applicationId": "git", "title": "mine", "description": "ours"})
	call(t, s, "POST", "application.deploy", nil, map[string]any{"applicationId": "img", "title": "mine", "description": "ours"})
	s.OverwriteNextTitle()
	call(t, s, "POST", "application.deploy", nil, map[string]any{"applicationId": "img", "title": "mine", "description": "ours"})
	eventually(t, "an empty queue", func() bool { return len(queue(t, s)) == 0 })
	titles := func(id string) []string {
		var out []string
		for _, r := range rows(t, s, kindApplication, id) {
			out = append(out, r["title"].(string)+" | "+r["description"].(string))
		}
		return out
	}
	if diff := cmp.Diff([]string{"mine | ours", "feat: ship it | Commit: abc123"}, titles("git")); diff != "" {
		t.Errorf("git rows newest first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"fix: thing | Commit: def456", "mine | ours"}, titles("img")); diff != "" {
		t.Errorf("image rows newest first (-want +got):\n%s", diff)
	}
}

func TestUnknownStatus(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{opts: Options{StatusHold: 500 * time.Millisecond}})
	s.AddApplication(App{ID: "app1"})
	s.InjectStatus("queued")
	deploy(t, s, "app1")
	var seen []string
	eventually(t, "done", func() bool {
		rs := rows(t, s, kindApplication, "app1")
		if len(rs) == 0 {
			return false
		}
		st := rs[0]["status"].(string)
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		return st == "done"
	})
	if seen[0] != "queued" || seen[len(seen)-1] != "done" {
		t.Errorf("statuses seen = %q, want queued first and done last", seen)
	}
}

func TestFault5xxBurst(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	s.FailNextRequests(2)
	var got []int
	for range 3 {
		r := call(t, s, "GET", "application.one", q("applicationId", "app1"), nil)
		got = append(got, r.status)
		if r.status == 500 && r.json(t).(map[string]any)["code"] != "INTERNAL_SERVER_ERROR" {
			t.Errorf("500 body = %s, want code INTERNAL_SERVER_ERROR", r.body)
		}
	}
	if diff := cmp.Diff([]int{500, 500, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestFaultLatency(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	s.SetLatency(time.Minute)
	c := &http.Client{Timeout: 200 * time.Millisecond}
	req, _ := http.NewRequest("GET", s.URL()+"/api/application.one?applicationId=app1", nil)
	req.Header.Set("x-api-key", s.APIKey())
	if res, err := c.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("request under a minute of latency answered %d, want a client timeout", res.StatusCode)
	}
	s.SetLatency(0)
	if r := call(t, s, "GET", "application.one", q("applicationId", "app1"), nil); r.status != 200 {
		t.Errorf("status after latency off = %d, want 200", r.status)
	}
}

func TestFaultUnauthorizedFrom(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	call(t, s, "GET", "application.one", q("applicationId", "app1"), nil)
	s.UnauthorizedFrom(s.RequestCount() + 2)
	var got []int
	for range 3 {
		got = append(got, call(t, s, "GET", "application.one", q("applicationId", "app1"), nil).status)
	}
	if diff := cmp.Diff([]int{200, 401, 401}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestFaultLostJob(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{opts: Options{LostJobLinger: 300 * time.Millisecond}})
	s.AddApplication(App{ID: "app1"})
	s.LoseNextJob()
	deploy(t, s, "app1")
	if got := queue(t, s); len(got) != 1 {
		t.Fatalf("queueList after a lost deploy = %v, want the job listed", got)
	}
	eventually(t, "the job to vanish", func() bool { return len(queue(t, s)) == 0 })
	if rs := rows(t, s, kindApplication, "app1"); len(rs) != 0 {
		t.Errorf("rows after a lost job = %v, want none ever", rs)
	}
	// The next deploy works again.
	deploy(t, s, "app1")
	eventually(t, "a row", func() bool { return len(rows(t, s, kindApplication, "app1")) == 1 })
}

func TestFaultStuckRunning(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{opts: Options{RowDelay: 50 * time.Millisecond, RunDuration: 50 * time.Millisecond}})
	s.AddApplication(App{ID: "app1"})
	s.StickNextDeployment()
	deploy(t, s, "app1")
	eventually(t, "a row", func() bool { return len(rows(t, s, kindApplication, "app1")) == 1 })
	eventually(t, "the job to leave the queue", func() bool { return len(queue(t, s)) == 0 })
	time.Sleep(300 * time.Millisecond) // several RunDurations
	if st := rows(t, s, kindApplication, "app1")[0]["status"]; st != "running" {
		t.Errorf("stuck row status = %v, want running", st)
	}
}

func TestFaultErrorKeepsOldBackend(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{process: true})
	s.AddApplication(App{ID: "app1", Env: identityEnv("old")})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	saveEnv(t, s, "app1", identityEnv("new"))
	s.FailNextDeployment("npm ERR! build failed")
	deploy(t, s, "app1")
	eventually(t, "an error row", func() bool {
		rs := rows(t, s, kindApplication, "app1")
		return len(rs) == 1 && rs[0]["status"] == "error" && rs[0]["finishedAt"] != nil
	})
	if got := identity(t, s, "app1"); got != identityJSON("old") {
		t.Errorf("identity after a failed deploy = %s, want the old one", got)
	}
	one := call(t, s, "GET", "application.one", q("applicationId", "app1"), nil).json(t).(map[string]any)
	if one["applicationStatus"] != "error" {
		t.Errorf("applicationStatus = %v, want error", one["applicationStatus"])
	}
}

// TestCloseStopsEverything checks Close leaves no process, proxy or API listening.
func TestCloseStopsEverything(t *testing.T) {
	t.Parallel()
	s, l := newServer(t, setup{process: true, opts: Options{StaleWindow: time.Hour}})
	s.AddApplication(App{ID: "app1", Env: identityEnv("old"), Replicas: 2})
	s.AddCompose(Compose{ID: "c1", ComposeFile: "x: 1\n"})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	saveEnv(t, s, "app1", identityEnv("new"))
	deploy(t, s, "app1")
	eventually(t, "done", func() bool {
		rs := rows(t, s, kindApplication, "app1")
		return len(rs) == 1 && rs[0]["status"] == "done"
	})
	// A deploy still in flight at Close.
	deploy(t, s, "app1")
	tenant := s.TenantURL("app1")
	procs := l.processes()
	if len(procs) < 3 {
		t.Fatalf("processes launched = %d, want at least 3", len(procs))
	}
	s.Close()
	for _, p := range procs {
		select {
		case <-p.Exited():
		default:
			t.Errorf("process %d still running after Close", p.PID())
		}
		if err := syscall.Kill(p.PID(), 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("kill(%d, 0) after Close = %v, want ESRCH", p.PID(), err)
		}
	}
	if got := s.Running(); got != 0 {
		t.Errorf("Running() after Close = %d, want 0", got)
	}
	for _, u := range []string{tenant + "/api/health", s.URL() + "/api/deployment.queueList"} {
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			t.Errorf("GET %s after Close answered %d, want a connection error", u, res.StatusCode)
		}
	}
}

func TestProcessLauncherErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		l    ProcessLauncher
	}{
		{name: "empty path", l: ProcessLauncher{}},
		{name: "missing binary", l: ProcessLauncher{Path: "/nonexistent/tenant"}},
		{name: "exits before listening", l: ProcessLauncher{Path: "/bin/sh", Args: []string{"-c", "echo not listening; exit 3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := tt.l.Launch(t.Context(), []string{"SECRET=hunter2"})
			if err == nil {
				b.Stop()
				t.Fatal("Launch() = nil error, want one")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Launch() error %q repeats the env", err)
			}
		})
	}
}

func TestProcessLauncherEnvOrder(t *testing.T) {
	t.Parallel()
	l := &tenantLauncher{}
	b, err := l.Launch(t.Context(), []string{"PORT=1", "LAUNCHPLANE_X=from-service"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	res, err := http.Get(b.URL() + "/env?key=LAUNCHPLANE_X")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got struct {
		Set   bool
		Value string
	}
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if !got.Set || got.Value != "from-service" {
		t.Errorf("LAUNCHPLANE_X in the process = %+v, want from-service", got)
	}
	if !strings.HasPrefix(b.URL(), "http://127.0.0.1:") || strings.HasSuffix(b.URL(), ":1") {
		t.Errorf("URL() = %q, want a free loopback port (PORT=0 wins over the service's PORT)", b.URL())
	}
}
