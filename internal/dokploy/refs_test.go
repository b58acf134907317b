package dokploy

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestResolveRefs follows Dokploy's own cases for prepareEnvironmentVariables
// (apps/dokploy/__test__/env/environment.test.ts and
// rollback-environment.test.ts): project, environment and self references,
// several in one value, and the precedence service > environment > project.
func TestResolveRefs(t *testing.T) {
	t.Parallel()
	const project = "ENVIRONMENT=staging\nDATABASE_URL=postgres://postgres:postgres@localhost:5432/project_db\nPORT=3000\nAPI_URL=https://project.api.com\n"
	const environment = "NODE_ENV=production\nPOSTGRES_HOST=postgres.internal\nPOSTGRES_PORT=5432\nAPI_URL=https://environment.api.com\n"
	tests := []struct {
		name    string
		service string
		want    map[string]string
	}{
		{
			name:    "project",
			service: "ENVIRONMENT=${{project.ENVIRONMENT}}\nDATABASE_URL=${{project.DATABASE_URL}}\nSERVICE_PORT=4000",
			want: map[string]string{"ENVIRONMENT": "staging", "DATABASE_URL": "postgres://postgres:postgres@localhost:5432/project_db",
				"SERVICE_PORT": "4000"},
		},
		{
			name:    "environment, several in one value",
			service: "POSTGRES_URL=postgres://${{environment.POSTGRES_HOST}}:${{environment.POSTGRES_PORT}}/app",
			want:    map[string]string{"POSTGRES_URL": "postgres://postgres.internal:5432/app"},
		},
		{
			name:    "precedence and self reference",
			service: "NODE_ENV=service\nPROJECT_API_URL=${{project.API_URL}}\nENVIRONMENT_API_URL=${{environment.API_URL}}\nSELF_REFERENCE=${{NODE_ENV}}",
			want: map[string]string{"NODE_ENV": "service", "PROJECT_API_URL": "https://project.api.com",
				"ENVIRONMENT_API_URL": "https://environment.api.com", "SELF_REFERENCE": "service"},
		},
		{
			name:    "missing key left as written",
			service: "A=${{project.NOPE}}-${{environment.NOPE}}-${{NOPE}}",
			want:    map[string]string{"A": "${{project.NOPE}}-${{environment.NOPE}}-${{NOPE}}"},
		},
		{
			name:    "a reference does not cross lines",
			service: "A=\"${{project.PORT\n}}\"",
			want:    map[string]string{"A": "${{project.PORT\n}}"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, resolveRefs(tt.service, project, environment)); diff != "" {
				t.Errorf("resolveRefs() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSharedSecrets(t *testing.T) {
	t.Parallel()
	env := &Environment{Env: "REDIS_PASS=environment-redis-pass\nREGION=eu-west-1", Project: &Project{Env: "DB_PASS=project-db-pass\nUNUSED=project-unused-value"}}
	tests := []struct {
		name    string
		secrets func() []string
		want    []string // each must be among the secrets
		notWant []string
	}{
		{
			name: "application env, build args and build secrets",
			secrets: (&Application{
				Env:          "DB_URL=postgres://app:${{project.DB_PASS}}@db/x\nLAUNCHPLANE_DEPLOYMENT_RECORD_ID=deployment-1",
				BuildArgs:    ptr("REDIS_URL=redis://:${{environment.REDIS_PASS}}@redis"),
				BuildSecrets: ptr("TOKEN=${{DB_URL_X}}\nDB_URL_X=build-secret-x"),
				Environment:  env,
			}).Secrets,
			want: []string{"project-db-pass", "project-unused-value", "environment-redis-pass", "eu-west-1",
				"postgres://app:project-db-pass@db/x", "redis://:environment-redis-pass@redis", "build-secret-x"},
			notWant: []string{"deployment-1"},
		},
		{
			name:    "compose",
			secrets: (&Compose{Env: "DSN=mysql://u:${{environment.REDIS_PASS}}@h", Environment: env}).Secrets,
			want:    []string{"project-db-pass", "environment-redis-pass", "mysql://u:environment-redis-pass@h"},
		},
		{
			name:    "project on the service (before environments)",
			secrets: (&Compose{Env: "DSN=${{project.DB_PASS}}!", Project: &Project{Env: "DB_PASS=legacy-project-pass"}}).Secrets,
			want:    []string{"legacy-project-pass", "legacy-project-pass!"},
		},
		{
			name: "identity keys of the shared envs stay public",
			secrets: (&Application{Environment: &Environment{Env: "LAUNCHPLANE_ARTIFACT_ID=artifact-public",
				Project: &Project{Env: "LAUNCHPLANE_DEPLOYMENT_RECORD_ID=record-public"}}}).Secrets,
			notWant: []string{"artifact-public", "record-public"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.secrets()
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("Secrets() = %q, want it to hold %q", got, w)
				}
			}
			for _, w := range tt.notWant {
				if slices.Contains(got, w) {
					t.Errorf("Secrets() = %q, want it without %q", got, w)
				}
			}
		})
	}
}

// TestGetSharedSecrets reads the relations as application.one and
// compose.one return them and checks TargetState.Secrets.
func TestGetSharedSecrets(t *testing.T) {
	t.Parallel()
	const environment = `"environment": {"environmentId": "env-1", "name": "production", "description": null,
	  "createdAt": "2026-08-01T00:00:00.000Z", "env": "REDIS_PASS=environment-redis-pass", "projectId": "p-1",
	  "isDefault": true, "color": null,
	  "project": {"projectId": "p-1", "name": "shop", "description": null, "createdAt": "2026-08-01T00:00:00.000Z",
	    "organizationId": "o-1", "env": "DB_PASS=project-db-pass"}}`
	tests := []struct {
		name   string
		target Target
		op     string
		answer string
	}{
		{name: "application", target: ApplicationTarget("app-1"), op: "application.one",
			answer: `{"applicationId": "app-1", "env": "DB=pg://${{project.DB_PASS}}@db\nR=${{environment.REDIS_PASS}}/0", ` + environment + `}`},
		{name: "compose", target: ComposeTarget("cmp-1"), op: "compose.one",
			answer: `{"composeId": "cmp-1", "env": "DB=pg://${{project.DB_PASS}}@db\nR=${{environment.REDIS_PASS}}/0", ` + environment + `}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/"+tt.op, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, tt.answer) })
			st, err := c.Get(context.Background(), tt.target)
			if err != nil {
				t.Fatal(err)
			}
			got := st.Secrets()
			for _, w := range []string{"project-db-pass", "environment-redis-pass", "pg://project-db-pass@db", "environment-redis-pass/0"} {
				if !slices.Contains(got, w) {
					t.Errorf("Secrets() = %q, want it to hold %q", got, w)
				}
			}
		})
	}
}

func FuzzResolveRefs(f *testing.F) {
	for _, s := range []string{
		"A=${{project.X}}", "A=${{environment.Y}}${{project.X}}", "A=${{B}}\nB=${{A}}", "A=${{project.${{X}}}}",
		"A=\"${{project.X\n}}\"", "A=${{}}", "A=$${{{project.X}}}}", "export A='${{environment.Y}}'",
	} {
		f.Add(s, "X=px\nY=py", "Y=ey\nX=ex")
	}
	f.Fuzz(func(t *testing.T, service, project, environment string) {
		got := resolveRefs(service, project, environment)
		want := ParseEnv(service)
		if len(got) != len(want) {
			t.Fatalf("resolveRefs() has %d keys, ParseEnv %d", len(got), len(want))
		}
		for k, v := range want {
			r, ok := got[k]
			if !ok {
				t.Fatalf("resolveRefs() lost key %q", k)
			}
			if !strings.Contains(v, "${{") && r != v {
				t.Fatalf("resolveRefs()[%q] = %q, want %q unchanged: it has no reference", k, r, v)
			}
		}
	})
}
