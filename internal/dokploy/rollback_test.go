package dokploy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// allByTypeJSON is a deployment.allByType answer: rows newest first, each
// with its rollback relation (null without a record), the snapshot shaped
// as findApplicationById returns the application (minus deployments and git
// providers), as Dokploy's createRollback stores it.
const allByTypeJSON = `[
 {"deploymentId":"dep-3","title":"t3","status":"error","logPath":"/l3","applicationId":"app-1",
  "createdAt":"2026-08-21T12:00:00.000Z","rollbackId":"rb-3",
  "rollback":{"rollbackId":"rb-3","deploymentId":"dep-3","version":3,"image":"shop-x1:v3","createdAt":"2026-08-21T12:00:01.000Z",
   "fullContext":{"applicationId":"app-1","appName":"shop-x1","env":"A=failed-env-value"}}},
 {"deploymentId":"dep-2","title":"t2","status":"done","logPath":"/l2","applicationId":"app-1",
  "createdAt":"2026-08-21T11:00:00.000Z","rollbackId":"rb-2",
  "rollback":{"rollbackId":"rb-2","deploymentId":"dep-2","version":2,"image":"shop-x1:v2","createdAt":"2026-08-21T11:00:01.000Z",
   "fullContext":{
    "applicationId":"app-1","name":"shop","appName":"shop-x1","createdAt":"2026-08-01T00:00:00.000Z",
    "env":"DB_URL=postgres://u:${{project.DB_PASS}}@db/x\nAPI_TOKEN=snapshot-api-token\nLAUNCHPLANE_DEPLOYMENT_RECORD_ID=deployment-42\nLAUNCHPLANE_RUNTIME_IDENTITY_JSON={\"schema_version\":1}",
    "buildArgs":"NPM_TOKEN=snapshot-npm-token","buildSecrets":null,
    "previewEnv":"PREVIEW_SECRET=snapshot-preview-secret",
    "command":"node server.js --token snapshot-cli-token",
    "rollbackActive":true,"replicas":2,
    "environment":{"environmentId":"env-1","name":"production","env":"REDIS_PASS=snapshot-redis-pass","projectId":"p-1",
      "project":{"projectId":"p-1","name":"shop","env":"DB_PASS=snapshot-db-pass","organizationId":"o-1"}},
    "registry":{"registryId":"r-1","registryName":"ghcr","username":"bot","password":"snapshot-registry-password","registryUrl":"ghcr.io"},
    "rollbackRegistry":{"registryId":"r-2","registryName":"rb","username":"bot","password":"snapshot-rollback-registry-password","registryUrl":"registry.example.com"},
    "mounts":[{"mountId":"m-1","type":"file","filePath":"creds.json","content":"{\"key\":\"snapshot-mount-content\"}","mountPath":"/run/creds.json"}],
    "ports":[{"portId":"po-1","publishedPort":8080,"targetPort":3000,"protocol":"tcp"}]
   }}},
 {"deploymentId":"dep-1","title":"t1","status":"done","logPath":"/l1","applicationId":"app-1",
  "createdAt":"2026-08-21T10:00:00.000Z","rollbackId":null,"rollback":null}
]`

func TestDeploymentsByType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		target   Target
		wantType string
	}{
		{name: "application", target: ApplicationTarget("app-1"), wantType: "application"},
		{name: "compose", target: ComposeTarget("cmp-1"), wantType: "compose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/deployment.allByType", func(w http.ResponseWriter, r *http.Request) {
				testRequest(t, r, http.MethodGet)
				if q := r.URL.Query(); q.Get("id") != tt.target.ID || q.Get("type") != tt.wantType {
					t.Errorf("query = %v, want id=%s type=%s", q, tt.target.ID, tt.wantType)
				}
				writeJSON(w, 200, allByTypeJSON)
			})
			rows, err := c.DeploymentsByType(context.Background(), tt.target)
			if err != nil {
				t.Fatalf("DeploymentsByType() error = %v", err)
			}
			if len(rows) != 3 {
				t.Fatalf("DeploymentsByType() = %d rows, want 3", len(rows))
			}
			r := rows[1]
			if r.DeploymentID != "dep-2" || deref(r.RollbackID) != "rb-2" || r.Rollback == nil || r.Rollback.Version != 2 ||
				deref(r.Rollback.Image) != "shop-x1:v2" || r.Rollback.FullContext == nil {
				t.Fatalf("row 1 = %+v, want dep-2 with rollback rb-2 v2 and its snapshot", r)
			}
			snap := r.Rollback.FullContext
			if got := ParseEnv(snap.Env)["LAUNCHPLANE_DEPLOYMENT_RECORD_ID"]; got != "deployment-42" {
				t.Errorf("snapshot env LAUNCHPLANE_DEPLOYMENT_RECORD_ID = %q, want deployment-42", got)
			}
			if deref(snap.BuildArgs) != "NPM_TOKEN=snapshot-npm-token" || snap.Environment == nil || snap.Environment.Project == nil ||
				snap.Environment.Project.Env != "DB_PASS=snapshot-db-pass" {
				t.Errorf("snapshot = %+v, want its build args and shared envs", snap)
			}
			if rows[2].Rollback != nil || rows[2].RollbackID != nil {
				t.Errorf("row 2 = %+v, want no rollback", rows[2])
			}
		})
	}
}

func TestRollbackSnapshotSecrets(t *testing.T) {
	t.Parallel()
	var rows []DeploymentRollback
	if err := json.Unmarshal([]byte(allByTypeJSON), &rows); err != nil {
		t.Fatal(err)
	}
	got := rows[1].Rollback.FullContext.Secrets()
	want := []string{
		"snapshot-api-token", "snapshot-npm-token", "snapshot-preview-secret", "node server.js --token snapshot-cli-token",
		"snapshot-redis-pass", "snapshot-db-pass", "postgres://u:snapshot-db-pass@db/x",
		"snapshot-registry-password", "snapshot-rollback-registry-password", `{"key":"snapshot-mount-content"}`,
		"/run/creds.json",
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("Secrets() = %q, want it to hold %q", got, w)
		}
	}
	// Ids, timestamps, names and the identity keys' values are printed by
	// design; the whole env text is not a value anything prints.
	notWant := []string{"app-1", "shop-x1", "shop", "2026-08-01T00:00:00.000Z", "r-1", "deployment-42", `{"schema_version":1}`,
		"API_TOKEN=snapshot-api-token", "ghcr.io", "registry.example.com", "bot"}
	for _, w := range notWant {
		if slices.Contains(got, w) {
			t.Errorf("Secrets() holds %q, want it left out", w)
		}
	}
	if !slices.IsSortedFunc(got, func(a, b string) int { return len(b) - len(a) }) {
		t.Errorf("Secrets() = %q, want longest first", got)
	}
	if (*RollbackSnapshot)(nil).Secrets() == nil || len((*RollbackSnapshot)(nil).Secrets()) != 0 {
		t.Error("Secrets() of nil, want an empty list")
	}
}

func FuzzRollbackSnapshot(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `{"env":"A=b"}`, `{"env":5}`, `{"a":{"b":["c",{"d":"e"}]}}`, `{"password":"x\ny"}`,
		`{"environment":{"env":"X=1","project":{"env":"Y=2"}},"env":"Z=${{project.Y}}${{environment.X}}"}`, `[1,2]`, `"s"`,
		`{"registry":{"password":"pw","registryUrl":"r"},"mounts":[{"content":"c"}],"customGitSSHKey":{"privateKey":"k"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s RollbackSnapshot
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		got := s.Secrets()
		// Every string under a key that is neither public nor dotenv text
		// is a secret (whole, when it has non-space text).
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		var check func(v any, key string)
		check = func(v any, key string) {
			switch x := v.(type) {
			case string:
				if !dotenvFields[key] && !publicField(key) && strings.TrimSpace(x) != "" && !slices.Contains(got, x) {
					t.Fatalf("Secrets() lacks %q (key %q)", x, key)
				}
			case []any:
				for _, e := range x {
					check(e, key)
				}
			case map[string]any:
				for k, e := range x {
					check(e, k)
				}
			}
		}
		check(v, "")
		// The same again by a rule written apart from publicField: a string under a key that
		// names a credential or a file's content is a secret (the dotenv fields, whose
		// values are checked per variable, aside).
		var credential func(v any, key string)
		credential = func(v any, key string) {
			switch x := v.(type) {
			case string:
				if credentialKey.MatchString(key) && !slices.Contains(dotenvKeys, key) && strings.TrimSpace(x) != "" && !slices.Contains(got, x) {
					t.Fatalf("Secrets() lacks %q under credential key %q", x, key)
				}
			case []any:
				for _, e := range x {
					credential(e, key)
				}
			case map[string]any:
				for k, e := range x {
					credential(e, k)
				}
			}
		}
		credential(v, "")
	})
}

// credentialKey and dotenvKeys are FuzzRollbackSnapshot's own idea of which snapshot keys hold
// credentials (Dokploy's registry password, SSH keys, tokens, mount and file contents), apart
// from the code's publicField.
var (
	credentialKey = regexp.MustCompile(`(?i)(pass|password|secret|token|privatekey|apikey|content)$`)
	dotenvKeys    = []string{"env", "buildArgs", "buildSecrets", "previewEnv", "previewBuildArgs", "previewBuildSecrets"}
)

func TestClientRollback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		answer      string
		hangUp      bool
		wantRefused bool
		wantErr     bool
	}{
		{name: "empty answer", status: 200, answer: ""},
		{name: "null answer", status: 200, answer: "null"},
		{name: "refused", status: 400, answer: `{"message":"Error input: Rolling back","code":"BAD_REQUEST"}`, wantRefused: true, wantErr: true},
		{name: "server error is not a refusal and not retried", status: 500, answer: `{"message":"Internal server error"}`, wantErr: true},
		{name: "dropped connection not retried", hangUp: true, wantErr: true},
		{name: "401", status: 401, answer: `{"message":"Unauthorized"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/api/rollback.rollback", func(w http.ResponseWriter, r *http.Request) {
				testJSONBody(t, testRequest(t, r, http.MethodPost), `{"rollbackId":"rb-2"}`)
				if tt.hangUp {
					if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
						conn.Close()
					}
					return
				}
				if tt.answer == "" {
					w.WriteHeader(tt.status)
					return
				}
				writeJSON(w, tt.status, tt.answer)
			})
			err := c.Rollback(context.Background(), "rb-2")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Rollback() error = %v, wantErr %v", err, tt.wantErr)
			}
			var re *RollbackError
			if got := errors.As(err, &re); got != tt.wantRefused || errors.Is(err, ErrRollbackRefused) != tt.wantRefused {
				t.Errorf("Rollback() error = %v, want refused %v", err, tt.wantRefused)
			}
			if tt.wantRefused && (re.RollbackID != "rb-2" || re.Err.StatusCode != 400) {
				t.Errorf("RollbackError = %+v, want rb-2 and the 400", re)
			}
			if tt.status == 401 && !errors.Is(err, ErrUnauthorized) {
				t.Errorf("Rollback() error = %v, want ErrUnauthorized", err)
			}
			if got := c.requestCounts()["rollback.rollback"]; got != 1 {
				t.Errorf("Calls()[rollback.rollback] = %d, want 1", got)
			}
		})
	}
	c, _, _ := setup(t)
	if err := c.Rollback(context.Background(), " "); err == nil || len(c.requestCounts()) != 0 {
		t.Errorf("Rollback(blank) = %v with calls %v, want an error and no request", err, c.requestCounts())
	}
}

func rbRow(id, status, created, app, rollbackID string, withRecord bool) DeploymentRollback {
	r := DeploymentRollback{Deployment: Deployment{DeploymentID: id, Status: status, CreatedAt: created}}
	if app != "" {
		r.ApplicationID = &app
	}
	if rollbackID != "" {
		r.RollbackID = &rollbackID
		if withRecord {
			r.Rollback = &Rollback{RollbackID: rollbackID, DeploymentID: id}
		}
	}
	return r
}

func TestRollbackTarget(t *testing.T) {
	t.Parallel()
	const (
		t1 = "2026-08-21T10:00:00.000Z"
		t2 = "2026-08-21T11:00:00.000Z"
		t3 = "2026-08-21T12:00:00.000Z"
		t4 = "2026-08-21T13:00:00.000Z"
	)
	tests := []struct {
		name    string
		rows    []DeploymentRollback
		ours    string
		want    string // deployment id, "" for ErrNoRollbackTarget
		wantMsg string
	}{
		{
			name: "the newest earlier done row with a record",
			rows: []DeploymentRollback{rbRow("ours", StatusError, t3, "app-1", "rb-3", true), rbRow("d2", StatusDone, t2, "app-1", "rb-2", true),
				rbRow("d1", StatusDone, t1, "app-1", "rb-1", true)},
			ours: "ours", want: "d2",
		},
		{
			name: "newer rows than ours never count, even done ones",
			rows: []DeploymentRollback{rbRow("later", StatusDone, t4, "app-1", "rb-4", true), rbRow("ours", StatusError, t3, "app-1", "rb-3", true),
				rbRow("d1", StatusDone, t1, "app-1", "rb-1", true)},
			ours: "ours", want: "d1",
		},
		{
			name: "error, cancelled and running rows are skipped though they carry records",
			rows: []DeploymentRollback{rbRow("ours", StatusError, t4, "app-1", "rb-4", true), rbRow("e", StatusError, t3, "app-1", "rb-3", true),
				rbRow("c", StatusCancelled, t3, "app-1", "rb-x", true), rbRow("r", StatusRunning, t2, "app-1", "rb-y", true),
				rbRow("d1", StatusDone, t1, "app-1", "rb-1", true)},
			ours: "ours", want: "d1",
		},
		{
			name: "rows without a rollback id or without their record are skipped",
			rows: []DeploymentRollback{rbRow("ours", StatusError, t4, "app-1", "", false), rbRow("no-id", StatusDone, t3, "app-1", "", false),
				rbRow("pruned", StatusDone, t2, "app-1", "rb-2", false), rbRow("d1", StatusDone, t1, "app-1", "rb-1", true)},
			ours: "ours", want: "d1",
		},
		{
			name: "another application's row never counts",
			rows: []DeploymentRollback{rbRow("ours", StatusError, t4, "app-1", "rb-4", true), rbRow("other", StatusDone, t3, "app-2", "rb-3", true)},
			ours: "ours", wantMsg: "no done deployment with a rollback record before ours",
		},
		{
			name: "order by createdAt, not by list position",
			rows: []DeploymentRollback{rbRow("d1", StatusDone, t1, "app-1", "rb-1", true), rbRow("ours", StatusError, t4, "app-1", "rb-4", true),
				rbRow("d3", StatusDone, t3, "app-1", "rb-3", true), rbRow("d2", StatusDone, t2, "app-1", "rb-2", true)},
			ours: "ours", want: "d3",
		},
		{
			name: "list order when a time does not parse",
			rows: []DeploymentRollback{rbRow("ours", StatusError, "yesterday", "app-1", "rb-4", true), rbRow("d2", StatusDone, t2, "app-1", "rb-2", true),
				rbRow("d1", StatusDone, t1, "app-1", "rb-1", true)},
			ours: "ours", want: "d2",
		},
		{
			name: "our row is missing",
			rows: []DeploymentRollback{rbRow("d1", StatusDone, t1, "app-1", "rb-1", true)},
			ours: "ours\n::error::x", wantMsg: "deployment ours ::error::x is not in the list",
		},
		{name: "no rows", ours: "ours", wantMsg: "is not in the list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := RollbackTarget(tt.rows, tt.ours)
			if tt.want == "" {
				if !errors.Is(err, ErrNoRollbackTarget) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("RollbackTarget() = %v, %v; want ErrNoRollbackTarget saying %q", got, err, tt.wantMsg)
				}
				checkOneLine(t, err.Error())
				return
			}
			if err != nil {
				t.Fatalf("RollbackTarget() error = %v", err)
			}
			if got.DeploymentID != tt.want {
				t.Errorf("RollbackTarget() = %s, want %s", got.DeploymentID, tt.want)
			}
		})
	}
}

// TestRollbackFlow runs what a verified rollback needs from this package on
// the test mux: list the rows with their records, pick the target, roll back.
func TestRollbackFlow(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var mu sync.Mutex
	var sent []string
	mux.HandleFunc("/api/deployment.allByType", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, allByTypeJSON) })
	mux.HandleFunc("/api/rollback.rollback", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent = append(sent, testRequest(t, r, http.MethodPost))
		mu.Unlock()
	})
	ctx := context.Background()
	rows, err := c.DeploymentsByType(ctx, ApplicationTarget("app-1"))
	if err != nil {
		t.Fatal(err)
	}
	target, err := RollbackTarget(rows, "dep-3")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Rollback(ctx, target.Rollback.RollbackID); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff([]string{`{"rollbackId":"rb-2"}`}, sent, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("rollback requests (-want +got):\n%s", diff)
	}
}

// Dokploy's fixed choices in a snapshot are not secrets: masked job-wide, words such as github
// or docker would garble every later line (a run link on github.com included).
func TestRollbackSnapshotLeavesChoicesAlone(t *testing.T) {
	t.Parallel()
	var s RollbackSnapshot
	raw := `{"sourceType":"github","buildType":"nixpacks","applicationStatus":"running","domains":[{"domainType":"application","host":"shop.example.com"}],
		"provider":"github","branch":"production","registry":{"username":"deploybot","password":"snapshot-password-1"},"command":"run --token snapshot-token-2"}`
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	got := s.Secrets()
	for _, w := range []string{"github", "nixpacks", "running", "application", "production", "deploybot"} {
		if slices.Contains(got, w) {
			t.Errorf("Secrets() holds %q, a Dokploy setting, not a secret", w)
		}
	}
	for _, w := range []string{"snapshot-password-1", "run --token snapshot-token-2"} {
		if !slices.Contains(got, w) {
			t.Errorf("Secrets() lacks %q", w)
		}
	}
}
