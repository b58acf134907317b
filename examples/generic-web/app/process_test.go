package app_test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// TestProcess runs the tenant as a real process (this test binary, re-executed; see TestMain),
// as the fake Dokploy and the demo do, and stops it with a signal.
func TestProcess(t *testing.T) {
	t.Parallel()
	want := deployed()
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
	}{
		{"SIGTERM", syscall.SIGTERM},
		{"SIGINT", syscall.SIGINT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0])
			cmd.Env = []string{serveEnvKey + "=1", "PORT=0"}
			for _, kv := range want.EnvVars() {
				cmd.Env = append(cmd.Env, kv.Key+"="+kv.Value)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			type exit struct {
				rest string // stdout after the listening line
				err  error
			}
			exited := make(chan exit, 1)
			out := bufio.NewReader(stdout)
			line, err := out.ReadString('\n')
			if err != nil {
				_ = cmd.Process.Kill()
				t.Fatalf("reading the listening line: %v; stderr: %s", err, stderr.String())
			}
			// The rest of stdout is read to EOF before Wait, which closes the pipe.
			go func() {
				b, _ := io.ReadAll(out)
				exited <- exit{string(b), cmd.Wait()}
			}()
			defer func() { _ = cmd.Process.Kill() }()

			if !strings.HasPrefix(line, "listening on http://127.0.0.1:") || !strings.HasSuffix(line, "\n") {
				t.Fatalf("first stdout line = %q, want \"listening on http://127.0.0.1:<port>\"", line)
			}
			base := strings.TrimSuffix(strings.TrimPrefix(line, "listening on "), "\n")
			health := get(t, base+"/api/health")
			if v := identity.Compare(&want, identity.ExtractHealth(health.body)); v.Status != identity.StatusMatch {
				t.Errorf("health: Compare() = %v (%s), want match", v.Status, v.Detail)
			}
			if v := identity.Compare(&want, identity.ExtractHeaders(health.header)); v.Status != identity.StatusMatch {
				t.Errorf("headers: Compare() = %v (%s), want match", v.Status, v.Detail)
			}

			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case e := <-exited:
				if e.err != nil {
					t.Errorf("process exit after %v = %v, want a clean exit; stderr: %s", tc.sig, e.err, stderr.String())
				}
				if e.rest != "" {
					t.Errorf("stdout after the listening line = %q, want nothing", e.rest)
				}
			case <-time.After(hangGuard):
				t.Fatalf("process still running %v after %v", hangGuard, tc.sig)
			}
			if s := stderr.String(); s != "" {
				t.Errorf("stderr = %q, want nothing", s)
			}
		})
	}
}
