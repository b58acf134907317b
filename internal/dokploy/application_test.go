package dokploy

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const applicationJSON = `{
  "applicationId": "app-1", "name": "syo", "appName": "syo-web-x1", "description": null,
  "env": "A=1\nDB_PASSWORD=app-env-secret\n",
  "buildArgs": "NPM_TOKEN=app-build-arg-secret", "buildSecrets": null, "createEnvFile": true,
  "applicationStatus": "done", "sourceType": "docker", "buildType": "nixpacks",
  "dockerImage": "ghcr.io/acme/syo:1", "username": "bot", "password": "docker-source-secret",
  "registryUrl": null, "replicas": 2, "serverId": null, "environmentId": "env-1",
  "unknownField": {"nested": [1, 2]},
  "registry": {"registryId": "r1", "registryName": "ghcr", "imagePrefix": null, "username": "u",
    "password": "registry-secret", "registryUrl": "ghcr.io", "registryType": "cloud"},
  "domains": [{"domainId": "d1", "host": "syo.example.com", "https": true, "port": 3000,
    "path": "/", "serviceName": null, "internalPath": "/", "stripPath": false}],
  "deployments": [{"deploymentId": "dep-1", "title": "t", "status": "done", "logPath": "/l",
    "createdAt": "2026-08-21T10:00:00.000Z", "startedAt": null, "finishedAt": null, "errorMessage": null}]
}`

func TestApplicationOne(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/application.one", func(w http.ResponseWriter, r *http.Request) {
		testRequest(t, r, http.MethodGet)
		if got := r.URL.Query().Get("applicationId"); got != "app-1" {
			t.Errorf("applicationId = %v, want app-1", got)
		}
		writeJSON(w, 200, applicationJSON)
	})
	got, err := c.Application.One(context.Background(), "app-1")
	if err != nil {
		t.Fatalf("One() error = %v", err)
	}
	want := &Application{
		ApplicationID: "app-1", Name: "syo", AppName: "syo-web-x1",
		Env:       "A=1\nDB_PASSWORD=app-env-secret\n",
		BuildArgs: ptr("NPM_TOKEN=app-build-arg-secret"), CreateEnvFile: true,
		ApplicationStatus: "done", SourceType: "docker", BuildType: "nixpacks",
		DockerImage: ptr("ghcr.io/acme/syo:1"), Username: ptr("bot"), Password: ptr("docker-source-secret"),
		Replicas: 2, EnvironmentID: "env-1",
		Registry: &Registry{RegistryID: "r1", RegistryName: "ghcr", Username: "u", Password: "registry-secret",
			RegistryURL: "ghcr.io", RegistryType: "cloud"},
		Domains: []Domain{{DomainID: "d1", Host: "syo.example.com", HTTPS: true, Port: ptr(3000), Path: ptr("/"),
			InternalPath: ptr("/")}},
		Deployments: []Deployment{{DeploymentID: "dep-1", Title: "t", Status: "done", LogPath: "/l",
			CreatedAt: "2026-08-21T10:00:00.000Z"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("One() mismatch (-want +got):\n%s", diff)
	}
}

func TestApplicationOneWrongAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, answer string }{
		{name: "empty body", answer: ``},
		{name: "null", answer: `null`},
		{name: "true", answer: `true`},
		{name: "another application", answer: `{"applicationId":"app-2","env":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/application.one", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, tt.answer) })
			mux.HandleFunc("/api/compose.one", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, tt.answer) })
			if got, err := c.Get(context.Background(), ApplicationTarget("app-1")); err == nil {
				t.Errorf("Get(application) = %+v, want an error", got)
			}
			if got, err := c.Get(context.Background(), ComposeTarget("app-1")); err == nil {
				t.Errorf("Get(compose) = %+v, want an error", got)
			}
		})
	}
}

func TestApplicationSaveEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       *SaveEnvironment
		wantBody string
		answer   string
	}{
		{
			name:     "nulls are sent, not omitted",
			in:       &SaveEnvironment{ApplicationID: "app-1", Env: "A=1"},
			wantBody: `{"applicationId":"app-1","env":"A=1","buildArgs":null,"buildSecrets":null,"createEnvFile":false}`,
			answer:   `true`,
		},
		{
			name: "echoed values",
			in: &SaveEnvironment{ApplicationID: "app-1", Env: "A=1\nB=2", BuildArgs: ptr("X=1"),
				BuildSecrets: ptr(""), CreateEnvFile: true},
			wantBody: `{"applicationId":"app-1","env":"A=1\nB=2","buildArgs":"X=1","buildSecrets":"","createEnvFile":true}`,
			answer:   ``,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/application.saveEnvironment", func(w http.ResponseWriter, r *http.Request) {
				testJSONBody(t, testRequest(t, r, http.MethodPost), tt.wantBody)
				writeJSON(w, 200, tt.answer)
			})
			if err := c.Application.SaveEnvironment(context.Background(), tt.in); err != nil {
				t.Errorf("SaveEnvironment() error = %v", err)
			}
		})
	}
}

func TestApplicationDeploy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		redeploy    bool
		opts        *DeployOptions
		answer      string
		wantBody    string
		wantMessage string
	}{
		{name: "empty body", answer: "", wantBody: `{"applicationId":"app-1"}`},
		{name: "true (cloud)", answer: "true", wantBody: `{"applicationId":"app-1"}`},
		{name: "object", answer: `{"success":true,"message":"Deployment queued","applicationId":"app-1"}`,
			wantBody: `{"applicationId":"app-1"}`, wantMessage: "Deployment queued"},
		{name: "title and description", opts: &DeployOptions{Title: "runtime identity", Description: "rec-1"},
			wantBody: `{"applicationId":"app-1","title":"runtime identity","description":"rec-1"}`},
		{name: "redeploy", redeploy: true, answer: "", wantBody: `{"applicationId":"app-1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			op := "application.deploy"
			if tt.redeploy {
				op = "application.redeploy"
			}
			mux.HandleFunc("/api/"+op, func(w http.ResponseWriter, r *http.Request) {
				testJSONBody(t, testRequest(t, r, http.MethodPost), tt.wantBody)
				if tt.answer != "" {
					writeJSON(w, 200, tt.answer)
				}
			})
			deploy := c.Application.Deploy
			if tt.redeploy {
				deploy = c.Application.Redeploy
			}
			got, err := deploy(context.Background(), "app-1", tt.opts)
			if err != nil {
				t.Fatalf("%s error = %v", op, err)
			}
			if got.Message != tt.wantMessage {
				t.Errorf("Message = %q, want %q", got.Message, tt.wantMessage)
			}
			if diff := cmp.Diff(map[string]int{op: 1}, c.requestCounts()); diff != "" {
				t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplicationSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		app  Application
		want []string
	}{
		{name: "nothing", app: Application{}, want: []string{}},
		{
			name: "every source",
			app: Application{
				Env:          "A=alpha-value\n# c\nLAUNCHPLANE_DEPLOYMENT_RECORD_ID=deployment-1\nLAUNCHPLANE_ARTIFACT_ID=art\nEMPTY=\n",
				BuildArgs:    ptr("NPM_TOKEN=npm-secret"),
				BuildSecrets: ptr("GH=gh-secret"),
				Password:     ptr("docker-pw"),
				Registry:     &Registry{Password: "reg-pass\nline-two"},
			},
			want: []string{"reg-pass\nline-two", "alpha-value", "npm-secret", "docker-pw", "gh-secret", "line-two", "reg-pass"},
		},
		{
			name: "build and rollback registries",
			app: Application{BuildRegistry: &Registry{Password: "build-registry-pw"},
				RollbackRegistry: &Registry{Password: "rollback-registry-pw"}},
			want: []string{"rollback-registry-pw", "build-registry-pw"},
		},
		{
			name: "duplicates once",
			app:  Application{Env: "A=same-value\nB=same-value", BuildArgs: ptr("C=same-value")},
			want: []string{"same-value"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.app.Secrets()); diff != "" {
				t.Errorf("Secrets() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
