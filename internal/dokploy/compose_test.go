package dokploy

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const composeJSON = `{
  "composeId": "cmp-1", "name": "stack", "appName": "stack-x1", "env": "TOKEN=compose-secret\n",
  "createEnvFile": true, "composeStatus": "idle", "composeType": "docker-compose", "sourceType": "raw",
  "composePath": "./docker-compose.yml", "composeFile": "services:\n  web:\n    env_file: .env\n",
  "serverId": null, "environmentId": "env-1", "domains": [], "deployments": []
}`

func TestComposeOne(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/compose.one", func(w http.ResponseWriter, r *http.Request) {
		testRequest(t, r, http.MethodGet)
		if got := r.URL.Query().Get("composeId"); got != "cmp-1" {
			t.Errorf("composeId = %v, want cmp-1", got)
		}
		writeJSON(w, 200, composeJSON)
	})
	got, err := c.Compose.One(context.Background(), "cmp-1")
	if err != nil {
		t.Fatalf("One() error = %v", err)
	}
	want := &Compose{
		ComposeID: "cmp-1", Name: "stack", AppName: "stack-x1", Env: "TOKEN=compose-secret\n",
		CreateEnvFile: true, ComposeStatus: "idle", ComposeType: "docker-compose", SourceType: "raw",
		ComposePath: "./docker-compose.yml", ComposeFile: "services:\n  web:\n    env_file: .env\n",
		EnvironmentID: "env-1", Domains: []Domain{}, Deployments: []Deployment{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("One() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"compose-secret"}, got.Secrets()); diff != "" {
		t.Errorf("Secrets() mismatch (-want +got):\n%s", diff)
	}
}

func TestComposeUpdateEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  string
		wantRow bool
	}{
		{name: "updated row", answer: composeJSON, wantRow: true},
		{name: "true", answer: `true`},
		{name: "empty", answer: ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/compose.update", func(w http.ResponseWriter, r *http.Request) {
				testJSONBody(t, testRequest(t, r, http.MethodPost), `{"composeId":"cmp-1","env":"A=1\n"}`)
				writeJSON(w, 200, tt.answer)
			})
			got, err := c.Compose.UpdateEnv(context.Background(), "cmp-1", "A=1\n")
			if err != nil {
				t.Fatalf("UpdateEnv() error = %v", err)
			}
			if (got != nil) != tt.wantRow {
				t.Errorf("UpdateEnv() row = %v, want a row: %v", got, tt.wantRow)
			}
		})
	}
}

func TestComposeDeploy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, op, answer, wantMessage string
	}{
		{name: "deploy queued", op: "compose.deploy", answer: `{"success":true,"message":"Deployment queued","composeId":"cmp-1"}`, wantMessage: "Deployment queued"},
		{name: "redeploy queued", op: "compose.redeploy", answer: `{"success":true,"message":"Redeployment queued","composeId":"cmp-1"}`, wantMessage: "Redeployment queued"},
		{name: "cloud true", op: "compose.deploy", answer: `true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/"+tt.op, func(w http.ResponseWriter, r *http.Request) {
				testJSONBody(t, testRequest(t, r, http.MethodPost), `{"composeId":"cmp-1"}`)
				writeJSON(w, 200, tt.answer)
			})
			got, err := c.Deploy(context.Background(), ComposeTarget("cmp-1"), tt.op == "compose.redeploy")
			if err != nil {
				t.Fatalf("Deploy() error = %v", err)
			}
			if got.Message != tt.wantMessage {
				t.Errorf("Message = %q, want %q", got.Message, tt.wantMessage)
			}
		})
	}
}
