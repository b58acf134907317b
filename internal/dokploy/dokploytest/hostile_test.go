package dokploytest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFaultStallFrom(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	call(t, s, "GET", "application.one", q("applicationId", "app1"), nil)
	s.StallFrom(s.RequestCount() + 2)
	if r := call(t, s, "GET", "application.one", q("applicationId", "app1"), nil); r.status != http.StatusOK {
		t.Fatalf("request before the stall = %d, want 200", r.status)
	}
	for i := range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/api/deployment.queueList", nil)
		req.Header.Set("x-api-key", s.APIKey())
		res, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			res.Body.Close()
			t.Fatalf("stalled request %d answered %d, want no answer", i, res.StatusCode)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("stalled request %d: %v, want the client's deadline", i, err)
		}
	}
	if got := s.RequestCount(); got != 4 {
		t.Errorf("RequestCount() = %d, want 4 (stalled requests are recorded)", got)
	}
}

// TestStallEndsAtClose checks Close does not wait for a client that never gives up.
func TestStallEndsAtClose(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	s.StallFrom(1)
	errs := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", s.URL()+"/api/deployment.queueList", nil)
		req.Header.Set("x-api-key", s.APIKey())
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		errs <- err
	}()
	eventually(t, "the request to arrive", func() bool { return s.RequestCount() == 1 })
	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close() still waits for a stalled request after 10s")
	}
	if err := <-errs; err == nil {
		t.Errorf("stalled request got an answer, want the connection closed")
	}
}

func TestFaultLeakForeignRow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, kind, id, op, idKey, otherKey string
	}{
		{name: "application", kind: kindApplication, id: "app1", op: "application.deploy", idKey: "applicationId", otherKey: "composeId"},
		{name: "compose", kind: kindCompose, id: "cmp1", op: "compose.deploy", idKey: "composeId", otherKey: "applicationId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newServer(t, setup{opts: Options{RowDelay: 100 * time.Millisecond}})
			addDefaultApp(s)
			s.LeakForeignRow("done")
			if rs := rows(t, s, tt.kind, tt.id); len(rs) != 0 {
				t.Fatalf("rows before the deploy = %v, want none (the leak starts with the deploy)", rs)
			}
			call(t, s, "POST", tt.op, nil, map[string]any{tt.idKey: tt.id})
			rs := rows(t, s, tt.kind, tt.id)
			if len(rs) != 1 || rs[0][tt.idKey] == tt.id || rs[0][tt.idKey] == nil || rs[0]["status"] != "done" || rs[0][tt.otherKey] != nil {
				t.Fatalf("rows right after the deploy = %v, want one done row of another %s", rs, tt.kind)
			}
			foreign := rs[0]["deploymentId"]
			eventually(t, "our own row done", func() bool {
				rs := rows(t, s, tt.kind, tt.id)
				return len(rs) == 2 && rs[1]["status"] == "done"
			})
			rs = rows(t, s, tt.kind, tt.id)
			if rs[0]["deploymentId"] != foreign || rs[1][tt.idKey] != tt.id {
				t.Errorf("rows = %v, want the foreign row still on top of our own", rs)
			}
			if rs[0]["createdAt"].(string) <= rs[1]["createdAt"].(string) {
				t.Errorf("foreign createdAt %v <= own %v, want it newer", rs[0]["createdAt"], rs[1]["createdAt"])
			}
			if got := readLogs(t, s, foreign.(string)); !strings.Contains(got, "foreign-app") {
				t.Errorf("readLogs(foreign row) = %q, want its own log", got)
			}
		})
	}
}

func TestFaultHostileNextRow(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{})
	addDefaultApp(s)
	s.HostileNextRow()
	deploy(t, s, "app1")
	var r map[string]any
	eventually(t, "a done row", func() bool {
		rs := rows(t, s, kindApplication, "app1")
		if len(rs) == 1 && rs[0]["status"] == "done" {
			r = rs[0]
			return true
		}
		return false
	})
	id, title := r["deploymentId"].(string), r["title"].(string)
	if !strings.HasSuffix(id, HostileText) || !strings.HasSuffix(title, HostileText) {
		t.Errorf("row id %q, title %q, want both to end in HostileText", id, title)
	}
	logs := readLogs(t, s, id)
	for _, line := range []string{"::error::pwned", "::set-output name=status::match", "::endgroup::"} {
		if !strings.Contains("\n"+logs+"\n", "\n"+line+"\n") {
			t.Errorf("readLogs() = %q, want the line %q", logs, line)
		}
	}
	// Only the next row.
	deploy(t, s, "app1")
	eventually(t, "a second row", func() bool { return len(rows(t, s, kindApplication, "app1")) == 2 })
	if id := rows(t, s, kindApplication, "app1")[0]["deploymentId"].(string); strings.Contains(id, "::") {
		t.Errorf("second row id %q, want a plain nanoid", id)
	}
}

func TestTamperNextDeployment(t *testing.T) {
	t.Parallel()
	s, _ := newServer(t, setup{process: true})
	must(t, s.AddApplication(App{ID: "app1", Env: identityEnv("old")}))
	must(t, s.Start())
	saveEnv(t, s, "app1", identityEnv("new"))
	s.TamperNextDeployment(func(env map[string]string) {
		env["LAUNCHPLANE_RUNTIME_IDENTITY_JSON"] = identityJSON("wrong")
	})
	deploy(t, s, "app1")
	eventually(t, "the tampered identity", func() bool { return identity(t, s, "app1") == identityJSON("wrong") })
	if rs := rows(t, s, kindApplication, "app1"); rs[0]["status"] != "done" {
		t.Errorf("row status = %v, want done", rs[0]["status"])
	}
	if got := s.Env("app1"); got != identityEnv("new") {
		t.Errorf("Env() = %q, want the stored env untouched", got)
	}
}
