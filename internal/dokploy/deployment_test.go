package dokploy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDeploymentAll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, op, param string
		target          Target
	}{
		{name: "application", op: "deployment.all", param: "applicationId", target: ApplicationTarget("x-1")},
		{name: "compose", op: "deployment.allByCompose", param: "composeId", target: ComposeTarget("x-1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Two rows of the target and one of another service, which
			// Snapshot leaves out.
			rows := strings.NewReplacer("OWNER", tt.param).Replace(`[{"deploymentId":"d2","title":"Commit msg","description":"Commit: abc","status":"running","logPath":"/l2",
			  "OWNER":"x-1","serverId":null,"createdAt":"2026-08-21T10:01:00.000Z",
			  "startedAt":"2026-08-21T10:01:00.000Z","finishedAt":null,"errorMessage":null,"isPreviewDeployment":false,
			  "pid":"123","rollbackId":null,"buildServerId":null},
			 {"deploymentId":"d9","title":"other","status":"done","logPath":"/l9","OWNER":"x-2","createdAt":"2026-08-21T10:00:30.000Z"},
			 {"deploymentId":"d1","title":"t","description":null,"status":"done","logPath":"/l1","OWNER":"x-1",
			  "createdAt":"2026-08-21T10:00:00.000Z","finishedAt":"2026-08-21T10:00:30.000Z"}]`)
			owner := func(id string) (app, cmp *string) {
				if tt.target.Kind == KindCompose {
					return nil, ptr(id)
				}
				return ptr(id), nil
			}
			a2, c2 := owner("x-1")
			a9, c9 := owner("x-2")
			want := []Deployment{
				{DeploymentID: "d2", Title: "Commit msg", Description: ptr("Commit: abc"), Status: "running", LogPath: "/l2",
					ApplicationID: a2, ComposeID: c2, CreatedAt: "2026-08-21T10:01:00.000Z", StartedAt: ptr("2026-08-21T10:01:00.000Z")},
				{DeploymentID: "d9", Title: "other", Status: "done", LogPath: "/l9", ApplicationID: a9, ComposeID: c9,
					CreatedAt: "2026-08-21T10:00:30.000Z"},
				{DeploymentID: "d1", Title: "t", Status: "done", LogPath: "/l1", ApplicationID: a2, ComposeID: c2,
					CreatedAt: "2026-08-21T10:00:00.000Z", FinishedAt: ptr("2026-08-21T10:00:30.000Z")},
			}
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/"+tt.op, func(w http.ResponseWriter, r *http.Request) {
				testRequest(t, r, http.MethodGet)
				if got := r.URL.Query().Get(tt.param); got != "x-1" {
					t.Errorf("%s = %v, want x-1", tt.param, got)
				}
				writeJSON(w, 200, rows)
			})
			got, err := c.Deployments(context.Background(), tt.target)
			if err != nil {
				t.Fatalf("Deployments() error = %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Deployments() mismatch (-want +got):\n%s", diff)
			}
			snap, err := c.Snapshot(context.Background(), tt.target)
			if err != nil {
				t.Fatalf("Snapshot() error = %v", err)
			}
			if diff := cmp.Diff(map[string]bool{"d1": true, "d2": true}, snap); diff != "" {
				t.Errorf("Snapshot() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeploymentQueueList(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/deployment.queueList", func(w http.ResponseWriter, r *http.Request) {
		testRequest(t, r, http.MethodGet)
		if r.URL.RawQuery != "" {
			t.Errorf("query = %q, want none", r.URL.RawQuery)
		}
		writeJSON(w, 200, `[{"id":"job-7","name":"deployments","data":{"applicationId":"app-1","titleLog":"Manual deployment",
		  "descriptionLog":"","type":"deploy","applicationType":"application","server":false},"timestamp":1787300000000,
		  "processedOn":1787300000100,"state":"active","servicePath":"x"}]`)
	})
	got, err := c.Deployment.QueueList(context.Background())
	if err != nil {
		t.Fatalf("QueueList() error = %v", err)
	}
	want := []QueueJob{{ID: "job-7", Name: "deployments", Timestamp: 1787300000000, State: "active",
		Data: QueueJobData{ApplicationID: "app-1", TitleLog: "Manual deployment", Type: "deploy", ApplicationType: "application"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("QueueList() mismatch (-want +got):\n%s", diff)
	}
}

func TestDeploymentReadLogs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, answer, want string
		tail               int
		wantTail           string
	}{
		{name: "json string", answer: `"line 1\nline 2"`, want: "line 1\nline 2", tail: 40, wantTail: "40"},
		{name: "empty string", answer: `""`, want: "", tail: 40, wantTail: "40"},
		{name: "empty body", answer: ``, want: "", tail: 40, wantTail: "40"},
		{name: "plain text", answer: "raw log", want: "raw log", tail: 40, wantTail: "40"},
		{name: "tail capped", answer: `"x"`, want: "x", tail: 50000, wantTail: "10000"},
		{name: "server default tail", answer: `"x"`, want: "x", tail: 0, wantTail: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/deployment.readLogs", func(w http.ResponseWriter, r *http.Request) {
				testRequest(t, r, http.MethodGet)
				if got := r.URL.Query().Get("deploymentId"); got != "dep-1" {
					t.Errorf("deploymentId = %v, want dep-1", got)
				}
				if got := r.URL.Query().Get("tail"); got != tt.wantTail {
					t.Errorf("tail = %q, want %q", got, tt.wantTail)
				}
				w.WriteHeader(200)
				w.Write([]byte(tt.answer))
			})
			got, err := c.Deployment.ReadLogs(context.Background(), "dep-1", tt.tail)
			if err != nil {
				t.Fatalf("ReadLogs() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("ReadLogs() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDeploymentTargetValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		target  Target
		wantErr string
	}{
		{name: "application", target: ApplicationTarget("a1")},
		{name: "compose", target: ComposeTarget("c1")},
		{name: "no kind", target: Target{ID: "a1"}, wantErr: `dokploy: unknown target kind ""`},
		{name: "no id", target: ApplicationTarget(" "), wantErr: "dokploy: application id is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.target.Validate()
			if got := errString(err); got != tt.wantErr {
				t.Errorf("Validate() = %q, want %q", got, tt.wantErr)
			}
		})
	}
	c, _, _ := setup(t)
	if _, err := c.Get(context.Background(), Target{}); err == nil {
		t.Error("Get(Target{}) error = nil, want a validation error")
	}
	if c.requestCounts()["application.one"] != 0 {
		t.Error("Get(Target{}) sent a request")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestDeploymentTargetFlow reads, writes and deploys each target kind through
// the generic helpers and checks which operations they use.
func TestDeploymentTargetFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		target        Target
		redeploy      bool
		wantWriteOp   string
		wantWriteBody string
		wantDeployOp  string
		wantState     func(*TargetState) string
	}{
		{
			name: "application", target: ApplicationTarget("app-1"),
			wantWriteOp:   "application.saveEnvironment",
			wantWriteBody: `{"applicationId":"app-1","env":"NEW=1","buildArgs":"NPM_TOKEN=app-build-arg-secret","buildSecrets":null,"createEnvFile":true}`,
			wantDeployOp:  "application.deploy",
			wantState: func(s *TargetState) string {
				if s.Replicas != 2 || s.RegistryPassword != "registry-secret" || s.Application == nil || s.Compose != nil || s.Status != "done" {
					return "application fields not carried over"
				}
				return ""
			},
		},
		{
			name: "application redeploy", target: ApplicationTarget("app-1"), redeploy: true,
			wantWriteOp:   "application.saveEnvironment",
			wantWriteBody: `{"applicationId":"app-1","env":"NEW=1","buildArgs":"NPM_TOKEN=app-build-arg-secret","buildSecrets":null,"createEnvFile":true}`,
			wantDeployOp:  "application.redeploy",
			wantState:     func(*TargetState) string { return "" },
		},
		{
			name: "compose", target: ComposeTarget("cmp-1"),
			wantWriteOp:   "compose.update",
			wantWriteBody: `{"composeId":"cmp-1","env":"NEW=1"}`,
			wantDeployOp:  "compose.deploy",
			wantState: func(s *TargetState) string {
				if s.Replicas != 0 || s.ComposeFile == "" || s.ComposePath != "./docker-compose.yml" || s.Compose == nil || s.Application != nil || s.BuildArgs != nil {
					return "compose fields not carried over"
				}
				return ""
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/application.one", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, applicationJSON) })
			mux.HandleFunc("/api/compose.one", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, composeJSON) })
			mux.HandleFunc("/api/"+tt.wantWriteOp, func(w http.ResponseWriter, r *http.Request) {
				testJSONBody(t, testRequest(t, r, http.MethodPost), tt.wantWriteBody)
				writeJSON(w, 200, `true`)
			})
			mux.HandleFunc("/api/"+tt.wantDeployOp, func(w http.ResponseWriter, r *http.Request) {
				testRequest(t, r, http.MethodPost)
			})
			ctx := context.Background()
			st, err := c.Get(ctx, tt.target)
			if err != nil {
				t.Fatalf("Get() error = %v", err)
			}
			if st.Target != tt.target {
				t.Errorf("Target = %v, want %v", st.Target, tt.target)
			}
			if msg := tt.wantState(st); msg != "" {
				t.Error(msg)
			}
			if len(st.Secrets()) == 0 {
				t.Error("Secrets() is empty, want the planted values")
			}
			if err := c.WriteEnv(ctx, st, "NEW=1"); err != nil {
				t.Fatalf("WriteEnv() error = %v", err)
			}
			if _, err := c.Deploy(ctx, tt.target, tt.redeploy); err != nil {
				t.Fatalf("Deploy() error = %v", err)
			}
			readOp := "application.one"
			if tt.target.Kind == KindCompose {
				readOp = "compose.one"
			}
			want := map[string]int{readOp: 1, tt.wantWriteOp: 1, tt.wantDeployOp: 1}
			if diff := cmp.Diff(want, c.requestCounts()); diff != "" {
				t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeploymentNotFound(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/application.one", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"message":"Application not found","code":"NOT_FOUND"}`)
	})
	_, err := c.Get(context.Background(), ApplicationTarget("nope"))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get() error = %v, want ErrNotFound", err)
	}
	if want := "dokploy: read application nope: GET application.one: 404 NOT_FOUND: Application not found"; err.Error() != want {
		t.Errorf("Get() error = %q, want %q", err, want)
	}
	if strings.Contains(err.Error(), "dokploy: dokploy") {
		t.Errorf("Get() error %q repeats the package prefix", err)
	}
}
