package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/action"
	"github.com/launchplane/runtime-identity/internal/demo"
)

// binary is the action binary built once for the whole package: the tests run it exactly as the
// GitHub runner runs a container action.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "runtime-identity-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "runtime-identity")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the action binary:", err)
		os.Exit(1)
	}
	code := m.Run()
	fmt.Printf("cmd/action: %d runner-style runs, each leak-scanned for %d planted values\n", runs.Load(), len(plantedEverywhere()))
	os.RemoveAll(dir)
	os.Exit(code)
}

// runnerOpts describes one step run.
type runnerOpts struct {
	inputs    map[string]string // overrides of action.yml's defaults
	eventName string            // default "push"
	event     map[string]any    // the event payload
	env       map[string]string // extra environment (GITHUB_API_URL...)
	args      []string
	timeout   time.Duration
	// sigtermWhen, when set, sends SIGTERM once stdout contains it, as the runner does when a
	// job is cancelled.
	sigtermWhen string
	// files are written into the workspace before the step runs (name: content).
	files map[string]string
	// schema names the schema evidence-path's file follows: "evidence" (default) or "inventory".
	schema string
}

// result is everything the step left behind.
type result struct {
	code     int
	stdout   string
	stderr   string
	outputs  map[string]string
	summary  string
	evidence []byte
	files    map[string][]byte // every file the step wrote, for leak scans
	// signalled is when SIGTERM was sent (zero if never); exited is when the process ended.
	signalled, exited time.Time
}

const ghToken = "ghs_plantedGitHubToken0000000000000000001"

// launchplaneToken is the static Launchplane token tests pass; no output may show it.
const launchplaneToken = "lp-PlantedStaticToken0001"

// runAsRunner runs the binary the way actions/runner runs a container action: every input of
// action.yml as INPUT_<NAME> with hyphens kept and defaults applied, GITHUB_OUTPUT and
// GITHUB_STEP_SUMMARY pointing at empty files, the event payload in a file.
func runAsRunner(t *testing.T, o runnerOpts) result {
	t.Helper()
	dir := t.TempDir()
	outFile, sumFile, eventFile := filepath.Join(dir, "output"), filepath.Join(dir, "step_summary"), filepath.Join(dir, "event.json")
	// The other file commands: the program never writes them, and a leak scan proves it.
	envFile, stateFile, pathFile := filepath.Join(dir, "env"), filepath.Join(dir, "state"), filepath.Join(dir, "path")
	temp := filepath.Join(dir, "runner_temp")
	// The workspace, as the container sees it. A later step sees the same folder at another
	// path (the host's), which the symlink stands for.
	workspace, hostWorkspace := filepath.Join(dir, "workspace"), filepath.Join(dir, "host-workspace")
	if err := os.Mkdir(workspace, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(workspace, hostWorkspace); err != nil {
		t.Fatal(err)
	}
	for name, content := range o.files {
		if err := os.WriteFile(filepath.Join(workspace, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{outFile, sumFile, envFile, stateFile, pathFile} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(temp, 0o755); err != nil {
		t.Fatal(err)
	}
	if o.eventName == "" {
		o.eventName = "push"
	}
	if o.event == nil {
		o.event = map[string]any{}
	}
	ev, _ := json.Marshal(o.event)
	if err := os.WriteFile(eventFile, ev, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"GITHUB_ACTIONS=true", "CI=true",
		"GITHUB_OUTPUT=" + outFile,
		"GITHUB_STEP_SUMMARY=" + sumFile,
		"GITHUB_ENV=" + envFile,
		"GITHUB_STATE=" + stateFile,
		"GITHUB_PATH=" + pathFile,
		"GITHUB_EVENT_PATH=" + eventFile,
		"GITHUB_EVENT_NAME=" + o.eventName,
		"GITHUB_SHA=ffffffffffffffffffffffffffffffffffffffff",
		"GITHUB_REPOSITORY=acme/shop",
		"GITHUB_REPOSITORY_OWNER=acme",
		"GITHUB_SERVER_URL=https://github.com",
		"GITHUB_API_URL=https://api.github.invalid",
		"GITHUB_RUN_ID=4242",
		"GITHUB_RUN_ATTEMPT=1",
		"RUNNER_TEMP=" + temp,
		"GITHUB_WORKSPACE=" + workspace,
	}
	for _, in := range action.Inputs {
		v, ok := o.inputs[in.Name]
		if !ok {
			v = in.Default
			if in.Name == "github-token" {
				v = ghToken
			}
		}
		env = append(env, "INPUT_"+strings.ToUpper(in.Name)+"="+v)
	}
	for k := range o.inputs {
		if !knownInput(k) {
			t.Fatalf("test sets unknown input %q", k)
		}
	}
	for k, v := range o.env {
		env = append(env, k+"="+v)
	}
	if o.timeout == 0 {
		o.timeout = 60 * time.Second
	}
	cmd := exec.Command(binary, o.args...)
	cmd.Env = env
	cmd.Dir = workspace
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	sig := &signaller{w: &stdout, when: o.sigtermWhen}
	if o.sigtermWhen != "" {
		cmd.Stdout = sig
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sig.start(cmd.Process)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(o.timeout):
		cmd.Process.Kill()
		t.Fatalf("the step did not finish within %s\nstdout:\n%s\nstderr:\n%s", o.timeout, stdout.String(), stderr.String())
	}
	runs.Add(1)
	res := result{stdout: sig.String(), stderr: stderr.String(), files: map[string][]byte{}, exited: time.Now(), signalled: sig.at()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(outFile)
	res.outputs = parseOutputs(t, string(out))
	sum, _ := os.ReadFile(sumFile)
	res.summary = string(sum)
	res.files["output"], res.files["summary"] = out, sum
	for name, p := range map[string]string{"GITHUB_ENV": envFile, "GITHUB_STATE": stateFile, "GITHUB_PATH": pathFile} {
		res.files[name], _ = os.ReadFile(p)
	}
	if p := res.outputs["evidence-path"]; p != "" {
		if filepath.IsAbs(p) || !filepath.IsLocal(p) {
			t.Errorf("evidence-path %q is not a path relative to the workspace", p)
		}
		// Open it as a later step on the host would: from the workspace's other path.
		res.evidence, _ = os.ReadFile(filepath.Join(hostWorkspace, p))
		if len(res.evidence) == 0 {
			t.Errorf("evidence-path %q does not open from another path to the workspace", p)
		}
		res.files["evidence"] = res.evidence
		if o.schema == "" {
			o.schema = "evidence"
		}
		validateAgainst(t, o.schema, res.evidence)
	} else if res.code != 2 {
		t.Errorf("no evidence-path output: every run that gets past its inputs writes evidence")
	}
	// Every run is scanned for every planted value, whatever the test checks besides.
	scanWritten(t, res, plantedEverywhere())
	return res
}

// runs counts the runner-style runs of the package.
var runs atomic.Int64

// plantedEverywhere is every planted value of every demo scenario and every token the tests
// pass: no run may write one anywhere.
func plantedEverywhere() []string {
	return append(demo.SecretsFor(demo.Scenario{Rollbacks: true, References: true}), ghToken, launchplaneToken, requestToken)
}

// scanWritten fails the test when what the step wrote (stdout without the mask commands,
// stderr, outputs, summary, evidence, GITHUB_ENV, GITHUB_STATE, GITHUB_PATH) holds one of
// secrets or a JSON Web Token.
func scanWritten(t *testing.T, res result, secrets []string) {
	t.Helper()
	written := map[string]string{"stdout (without ::add-mask:: lines)": withoutMaskLines(res.stdout), "stderr": res.stderr}
	for name, b := range res.files {
		written[name] = string(b)
	}
	for name, text := range written {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains the planted secret %q", name, s)
			}
		}
		if jwtRE.MatchString(text) {
			t.Errorf("%s contains a JSON Web Token", name)
		}
	}
}

func knownInput(name string) bool {
	for _, in := range action.Inputs {
		if in.Name == name {
			return true
		}
	}
	return false
}

// parseOutputs reads the runner's output file: name<<DELIMITER, value lines, DELIMITER.
func parseOutputs(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		name, delim, ok := strings.Cut(line, "<<")
		if !ok {
			t.Fatalf("output file line %q is not name<<delimiter", line)
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		if _, dup := out[name]; dup {
			t.Errorf("output %s set twice", name)
		}
		out[name] = strings.Join(val, "\n")
	}
	return out
}

// annotations returns the ::error:: and ::warning:: lines of stdout.
func annotations(stdout, level string) []string {
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "::"+level) {
			out = append(out, l)
		}
	}
	return out
}

// signaller is the step's stdout: it sends SIGTERM to the process once the output contains when.
type signaller struct {
	mu   sync.Mutex
	w    *bytes.Buffer
	when string
	proc *os.Process
	sent time.Time
}

func (s *signaller) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.w.Write(p)
	s.check()
	return n, err
}

// start sets the process to signal; output may have arrived before it was known.
func (s *signaller) start(p *os.Process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proc = p
	s.check()
}

func (s *signaller) check() {
	if s.when != "" && s.sent.IsZero() && s.proc != nil && strings.Contains(s.w.String(), s.when) {
		s.sent = time.Now()
		_ = s.proc.Signal(syscall.SIGTERM)
	}
}

func (s *signaller) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}

func (s *signaller) at() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}
