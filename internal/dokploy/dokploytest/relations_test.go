package dokploytest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/dokploy"
)

func one(t *testing.T, s *Server, kind, id string) map[string]any {
	t.Helper()
	op, key := "application.one", "applicationId"
	if kind == kindCompose {
		op, key = "compose.one", "composeId"
	}
	r := call(t, s, http.MethodGet, op, q(key, id), nil)
	if r.status != http.StatusOK {
		t.Fatalf("%s(%s) = %d %s, want 200", op, id, r.status, r.body)
	}
	return r.json(t).(map[string]any)
}

func TestRelationsCarryProjectAndEnvironmentEnv(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	must(t, s.AddApplication(App{ID: "app1", Env: "A=${{project.P}}", ProjectEnv: "P=project-secret", EnvironmentEnv: "E=environment-secret"}))
	must(t, s.AddCompose(Compose{ID: "c1", ProjectID: "shop", EnvironmentID: "shop-staging", ProjectEnv: "P=shop-project", EnvironmentEnv: "E=shop-staging"}))
	tests := []struct {
		name, kind, id string
		want           map[string]any
	}{
		{name: "application in the default environment", kind: kindApplication, id: "app1", want: map[string]any{
			"environmentId": DefaultEnvironmentID, "env": "E=environment-secret", "projectId": DefaultProjectID,
			"project.projectId": DefaultProjectID, "project.env": "P=project-secret",
		}},
		{name: "compose in its own project and environment", kind: kindCompose, id: "c1", want: map[string]any{
			"environmentId": "shop-staging", "env": "E=shop-staging", "projectId": "shop",
			"project.projectId": "shop", "project.env": "P=shop-project",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := one(t, s, tt.kind, tt.id)
			env, _ := got["environment"].(map[string]any)
			proj, _ := env["project"].(map[string]any)
			flat := map[string]any{
				"environmentId": env["environmentId"], "env": env["env"], "projectId": env["projectId"],
				"project.projectId": proj["projectId"], "project.env": proj["env"],
			}
			if diff := cmp.Diff(tt.want, flat); diff != "" {
				t.Errorf("one().environment (-want +got):\n%s", diff)
			}
			if got["environmentId"] != tt.want["environmentId"] {
				t.Errorf("one().environmentId = %v, want %v", got["environmentId"], tt.want["environmentId"])
			}
		})
	}
	// Later edits show in the next read.
	s.SetProjectEnv(DefaultProjectID, "P=rotated")
	s.SetEnvironmentEnv(DefaultEnvironmentID, "E=rotated")
	env := one(t, s, kindApplication, "app1")["environment"].(map[string]any)
	if env["env"] != "E=rotated" || env["project"].(map[string]any)["env"] != "P=rotated" {
		t.Errorf("environment after SetProjectEnv/SetEnvironmentEnv = %v, want both rotated", env)
	}
}

func TestAddErrors(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	must(t, s.AddApplication(App{ID: "app1"}))
	must(t, s.AddApplication(App{ID: "app2", ProjectID: "p1", EnvironmentID: "e1"}))
	tests := []struct {
		name string
		add  func() error
	}{
		{name: "duplicate id", add: func() error { return s.AddCompose(Compose{ID: "app1"}) }},
		{name: "empty id", add: func() error { return s.AddApplication(App{}) }},
		{name: "environment of another project", add: func() error { return s.AddApplication(App{ID: "app3", ProjectID: "p2", EnvironmentID: "e1"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.add(); err == nil {
				t.Errorf("add() = nil error, want one")
			}
		})
	}
	if _, err := New(Options{Addr: "127.0.0.1:-1"}); err == nil {
		t.Errorf("New(bad Addr) = nil error, want one")
	}
}

func TestResolveEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                          string
		service, project, environment string
		want                          map[string]string
		wantErr                       string
	}{
		{name: "no references", service: "A=1\nB=two", want: map[string]string{"A": "1", "B": "two"}},
		{name: "project", service: "DB=${{project.DB}}", project: "DB=postgres://p", want: map[string]string{"DB": "postgres://p"}},
		{name: "environment", service: "K=pre-${{environment.K}}-post", environment: "K=v", want: map[string]string{"K": "pre-v-post"}},
		{name: "self", service: "BASE=v1\nURL=${{BASE}}/x", want: map[string]string{"BASE": "v1", "URL": "v1/x"}},
		{name: "self takes the raw value", service: "A=${{project.P}}\nB=${{A}}", project: "P=p",
			want: map[string]string{"A": "p", "B": "${{project.P}}"}},
		{name: "all three in one value", service: "X=${{project.P}}:${{environment.E}}:${{S}}\nS=s", project: "P=p", environment: "E=e",
			want: map[string]string{"X": "p:e:s", "S": "s"}},
		{name: "an empty project value resolves", service: "A=${{project.EMPTY}}", project: "EMPTY=", want: map[string]string{"A": ""}},
		{name: "a project value holding a self reference", service: "A=${{project.P}}\nB=b", project: "P=${{B}}",
			want: map[string]string{"A": "b", "B": "b"}},
		{name: "missing project", service: "A=${{project.MISSING}}", wantErr: "Invalid project environment variable: project.MISSING"},
		{name: "missing environment", service: "A=${{environment.MISSING}}", wantErr: "Invalid environment variable: environment.MISSING"},
		{name: "missing self", service: "A=${{MISSING}}", wantErr: "Invalid service environment variable: MISSING"},
		{name: "vault is not resolved", service: "A=${{vault.kv/x}}", wantErr: "Invalid service environment variable: vault.kv/x"},
		{name: "a comment line is no variable", service: "# A=${{MISSING}}\nB=1", want: map[string]string{"B": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := resolveEnv(tt.service, tt.project, tt.environment)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("resolveEnv() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolveEnv() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("resolveEnv() (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzResolveEnv(f *testing.F) {
	f.Add("A=${{project.P}}\nB=${{environment.E}}\nC=${{A}}", "P=p", "E=e")
	f.Add("A=${{", "", "")
	f.Add("A=${{project.}}}}", "=x", "")
	f.Fuzz(func(t *testing.T, service, project, environment string) {
		got, err := resolveEnv(service, project, environment)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "Invalid ") {
				t.Fatalf("resolveEnv() error %q is not Dokploy's", err)
			}
			return
		}
		// Resolution changes values, never the set of variables, and leaves a value without a
		// reference as it was.
		parsed := dokploy.ParseEnv(service)
		if len(got) != len(parsed) {
			t.Fatalf("resolveEnv() has %d variables, the service env %d", len(got), len(parsed))
		}
		for k, raw := range parsed {
			v, ok := got[k]
			if !ok {
				t.Fatalf("resolveEnv() lost variable %q", k)
			}
			if !strings.Contains(raw, "${{") && v != raw {
				t.Fatalf("resolveEnv() changed %q from %q to %q, and it holds no reference", k, raw, v)
			}
		}
	})
}

// envValue asks the tenant process of service id for one variable.
func envValue(t *testing.T, s *Server, id, key string) (string, bool) {
	t.Helper()
	res, err := http.Get(s.TenantURL(id) + "/env?key=" + key)
	if err != nil {
		t.Fatalf("tenant env: %v", err)
	}
	defer res.Body.Close()
	var got struct {
		Set   bool
		Value string
	}
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got.Value, got.Set
}

// TestTenantGetsResolvedReferences deploys an env with references: the process sees the values,
// one still returns the references.
func TestTenantGetsResolvedReferences(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{process: true})
	must(t, s.AddApplication(App{ID: "app1", Env: identityEnv("old"), ProjectEnv: "DB=project-db", EnvironmentEnv: "REGION=eu"}))
	must(t, s.Start())
	stored := identityEnv("new") + "\nDB=${{project.DB}}\nREGION=${{environment.REGION}}\nWHERE=${{REGION}}-1"
	saveEnv(t, s, "app1", stored)
	deploy(t, s, "app1")
	eventually(t, "the new identity", func() bool { return identity(t, s, "app1") == identityJSON("new") })
	for key, want := range map[string]string{"DB": "project-db", "REGION": "eu", "WHERE": "${{environment.REGION}}-1"} {
		if got, ok := envValue(t, s, "app1", key); !ok || got != want {
			t.Errorf("tenant %s = %q (set %v), want %q", key, got, ok, want)
		}
	}
	if got := one(t, s, kindApplication, "app1")["env"]; got != stored {
		t.Errorf("one().env = %q, want the stored text with its references", got)
	}
}

func TestUnresolvedReferenceFailsDeploy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, env, want string
	}{
		{name: "project", env: "A=${{project.MISSING}}", want: "Invalid project environment variable: project.MISSING"},
		{name: "environment", env: "A=${{environment.MISSING}}", want: "Invalid environment variable: environment.MISSING"},
		{name: "service", env: "A=${{MISSING}}", want: "Invalid service environment variable: MISSING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newServer(t, setup{})
			must(t, s.AddApplication(App{ID: "app1", Env: tt.env}))
			deploy(t, s, "app1")
			var id string
			eventually(t, "an error row", func() bool {
				rs := rows(t, s, kindApplication, "app1")
				if len(rs) == 1 && rs[0]["status"] == "error" {
					id = rs[0]["deploymentId"].(string)
					return true
				}
				return false
			})
			if got := readLogs(t, s, id); !strings.Contains(got, tt.want+"\nError occurred ❌") {
				t.Errorf("readLogs() = %q, want the line %q before the error line", got, tt.want)
			}
		})
	}
}

func readLogs(t *testing.T, s *Server, id string) string {
	t.Helper()
	r := call(t, s, http.MethodGet, "deployment.readLogs", q("deploymentId", id), nil)
	var got string
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != http.StatusOK {
		t.Fatalf("readLogs(%q) = %d %s: %v", id, r.status, r.body, err)
	}
	return got
}

// TestFailedBuildEchoesResolvedValues lets a log tail echo a value pulled in from the project.
func TestFailedBuildEchoesResolvedValues(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{opts: Options{RunDuration: 10 * time.Millisecond}})
	must(t, s.AddApplication(App{ID: "app1", Env: "DB=${{project.DB}}", ProjectEnv: "DB=postgres://u:project-pw@db/x"}))
	s.FailNextDeploymentWith(func(env map[string]string) string { return "connect " + env["DB"] + ": refused" })
	deploy(t, s, "app1")
	var id string
	eventually(t, "an error row", func() bool {
		rs := rows(t, s, kindApplication, "app1")
		if len(rs) == 1 && rs[0]["status"] == "error" {
			id = rs[0]["deploymentId"].(string)
			return true
		}
		return false
	})
	if got := readLogs(t, s, id); !strings.Contains(got, "connect postgres://u:project-pw@db/x: refused") {
		t.Errorf("readLogs() = %q, want the resolved project value echoed", got)
	}
}

func TestEditAfterNextRead(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	tests := []struct{ kind, id, before string }{
		{kind: kindApplication, id: "app1", before: secretEnv},
		{kind: kindCompose, id: "cmp1", before: "A=1"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			s.EditAfterNextRead(tt.id, func(env string) string { return env + "\nEDITED=1" })
			if got := one(t, s, tt.kind, tt.id)["env"]; got != tt.before {
				t.Errorf("one().env = %q, want the text from before the edit %q", got, tt.before)
			}
			want := tt.before + "\nEDITED=1"
			if got := s.Env(tt.id); got != want {
				t.Errorf("Env() after the read = %q, want %q", got, want)
			}
			if got := one(t, s, tt.kind, tt.id)["env"]; got != want {
				t.Errorf("second one().env = %q, want %q (the edit happens once)", got, want)
			}
			if got := s.Env(tt.id); got != want {
				t.Errorf("Env() after a second read = %q, want %q", got, want)
			}
		})
	}
}
