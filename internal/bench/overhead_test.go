package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/action"
	"github.com/launchplane/runtime-identity/internal/clock"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/demo"
	"github.com/launchplane/runtime-identity/internal/dokploy/dokploytest"
)

// overheadRuns is how many runs each side makes per iteration of BenchmarkPipelineOverhead.
var overheadRuns = flag.Int("overhead-runs", 20, "runs of each side per iteration of BenchmarkPipelineOverhead")

// side is one pipeline of BenchmarkPipelineOverhead: the action as shipped, or the same action
// whose probe waits 1 s after every round, as Launchplane's poller does.
type side struct {
	name     string
	fixed1s  bool
	overhead []time.Duration // run end minus the switch
	detect   []time.Duration // the last tenant response minus the switch
	tail     []time.Duration // run end minus the last tenant response
	wall     []time.Duration // the whole run
}

// BenchmarkPipelineOverhead measures the overhead of a whole deploy: the run's end minus the
// moment the tenant began serving the new identity alone (dokploytest's ServingAlone), on the
// demo's happy scenario (demo.DefaultOptions: the row after 0.3 s, done 0.7 s after the new
// process listens, the old process alone for 2 s more). Each run starts the fake with the
// example tenant as a real process (the action binary's tenant command, built once) and runs
// action.Main in-process with the scenario's inputs.
//
// The reference, in the same iteration, is the same pipeline with Launchplane's probe rule
// (cbusillo/launchplane control_plane/workflows/runtime_identity_health.py at
// ff8f4aa58606d3e623c5d45765fcb361cc75acee: probe, then sleep 1 s): the action's probe has no
// interval input, so its sleeps become 1 s each from the first request to the tenant on,
// which makes each round follow the previous one by 1 s. Everything before the probe (patch,
// deploy, the rollout's 1 s polls) is left as it is. The two sides alternate run by run, so
// both see the same machine.
//
// One iteration is 20 runs of each side (-overhead-runs), about 3 minutes:
//
//	go test -run '^$' -bench PipelineOverhead -benchtime 1x -count 6 ./internal/bench | tee /tmp/overhead.txt
//	go run golang.org/x/perf/cmd/benchstat@v0.0.0-20250813145418-2f7363a06fe1 /tmp/overhead.txt
func BenchmarkPipelineOverhead(b *testing.B) {
	bin := tenantBinary(b)
	sides := []*side{{name: "probe"}, {name: "fixed1s", fixed1s: true}}
	for b.Loop() {
		for range *overheadRuns {
			for _, s := range sides {
				if err := s.run(b, bin); err != nil {
					b.Fatalf("%s: %v", s.name, err)
				}
			}
		}
	}
	b.ReportMetric(0, "ns/op") // an iteration's wall time sums both sides' runs: a figure of neither
	for _, s := range sides {
		b.ReportMetric(ms(percentile(s.overhead, 50)), s.name+"-p50-ms")
		b.ReportMetric(ms(percentile(s.overhead, 90)), s.name+"-p90-ms")
		b.ReportMetric(ms(percentile(s.detect, 50)), s.name+"-detect-p50-ms")
		b.ReportMetric(ms(percentile(s.tail, 50)), s.name+"-tail-p50-ms")
		b.ReportMetric(ms(percentile(s.wall, 50)), s.name+"-wall-p50-ms")
	}
	b.ReportMetric(ms(percentile(sides[1].overhead, 50))/ms(percentile(sides[0].overhead, 50)), "p50-speedup-x")
	b.ReportMetric(ms(percentile(sides[1].overhead, 90))/ms(percentile(sides[0].overhead, 90)), "p90-speedup-x")
}

// run runs the happy scenario once and records its figures.
func (s *side) run(b *testing.B, bin string) error {
	sc, ok := demo.Lookup("happy")
	if !ok {
		return fmt.Errorf("no happy scenario")
	}
	opts := demo.DefaultOptions()
	opts.Launcher = dokploytest.ProcessLauncher{Path: bin, Args: []string{demo.TenantCommand}, StopTimeout: 3 * time.Second}
	fake, err := demo.Start(sc, opts)
	if err != nil {
		return err
	}
	defer fake.Close()
	tenant, err := url.Parse(fake.Server.TenantURL(demo.ServiceID))
	if err != nil {
		return err
	}
	obs := &observer{host: tenant.Host, base: http.DefaultTransport.(*http.Transport).Clone()}
	defer obs.base.CloseIdleConnections()
	tmp := b.TempDir()
	env := action.Env{
		Args: deployArgs(fake.Inputs),
		Getenv: func(k string) string {
			if k == "TMPDIR" {
				return tmp
			}
			return ""
		},
		Stdout:     io.Discard,
		Stderr:     &bytes.Buffer{},
		HTTPClient: &http.Client{Transport: obs, Timeout: time.Minute},
	}
	if s.fixed1s {
		env.Sleep = obs.fixedSleep(time.Second, clock.Sleep)
	}
	begin := time.Now()
	code := action.Main(context.Background(), env)
	end := time.Now()
	if code != sc.Exit {
		return fmt.Errorf("exit %d, want %d:\n%s", code, sc.Exit, env.Stderr.(*bytes.Buffer))
	}
	since, ok := fake.Server.ServingAlone(demo.ServiceID)
	if !ok || since.Before(begin) || since.After(end) {
		return fmt.Errorf("the switch at %v (ok %v) is not inside the run, %v to %v", since, ok, begin, end)
	}
	last := obs.lastTenant()
	s.overhead = append(s.overhead, end.Sub(since))
	s.detect = append(s.detect, last.Sub(since))
	s.tail = append(s.tail, end.Sub(last))
	s.wall = append(s.wall, end.Sub(begin))
	return nil
}

// deployArgs is the deploy command line for inputs, as the demo builds it.
func deployArgs(inputs map[string]string) []string {
	keys := make([]string, 0, len(inputs))
	for k := range inputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	argv := []string{"deploy"}
	for _, k := range keys {
		argv = append(argv, "--"+k+"="+inputs[k])
	}
	return argv
}

// observer is the runs' transport: it passes every request on and notes when the last response
// from the tenant's host was read, and whether the tenant was reached at all.
type observer struct {
	host string
	base *http.Transport

	mu      sync.Mutex
	reached bool
	last    time.Time
}

func (o *observer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != o.host {
		return o.base.RoundTrip(r)
	}
	o.mu.Lock()
	o.reached = true
	o.mu.Unlock()
	resp, err := o.base.RoundTrip(r)
	if err != nil {
		o.note()
		return nil, err
	}
	resp.Body = &noteOnClose{ReadCloser: resp.Body, o: o}
	return resp, nil
}

func (o *observer) note() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.last = time.Now()
}

// lastTenant is when the last response from the tenant was read and closed.
func (o *observer) lastTenant() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

// fixedSleep is the reference's sleep: sleep as asked until the first request to the tenant,
// then every sleep is d, whatever was asked: with the probe, a round, then d, then a round.
func (o *observer) fixedSleep(d time.Duration, sleep func(context.Context, time.Duration) error) func(context.Context, time.Duration) error {
	return func(ctx context.Context, asked time.Duration) error {
		o.mu.Lock()
		reached := o.reached
		o.mu.Unlock()
		if reached {
			asked = d
		}
		return sleep(ctx, asked)
	}
}

// noteOnClose notes the time when the probe closes a tenant response.
type noteOnClose struct {
	io.ReadCloser
	o *observer
}

func (n *noteOnClose) Close() error {
	err := n.ReadCloser.Close()
	n.o.note()
	return err
}

var (
	buildOnce sync.Once
	buildDir  string
	builtBin  string
	buildErr  error
)

// TestMain removes the binary tenantBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// tenantBinary builds ./cmd/action once into a temporary directory: its hidden tenant command
// runs the example tenant, as in the demo.
func tenantBinary(b *testing.B) string {
	b.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "runtime-identity-bench-")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "runtime-identity")
		out, err := exec.Command("go", "build", "-o", builtBin, "github.com/launchplane/runtime-identity/cmd/action").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build the action binary: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return builtBin
}

// TestObserverFixedSleep: the reference's sleeps are as asked until a request reaches the
// tenant's host, and 1 s each from then on; requests elsewhere change nothing; the last tenant
// response is noted when it is closed.
func TestObserverFixedSleep(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	tenant, other := httptest.NewServer(ok), httptest.NewServer(ok)
	defer tenant.Close()
	defer other.Close()
	u, err := url.Parse(tenant.URL)
	if err != nil {
		t.Fatal(err)
	}
	obs := &observer{host: u.Host, base: http.DefaultTransport.(*http.Transport).Clone()}
	defer obs.base.CloseIdleConnections()
	client := &http.Client{Transport: obs}
	clk := clocktest.New()
	sleep := obs.fixedSleep(time.Second, clk.Sleep)
	get := func(u string) {
		t.Helper()
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	ctx := context.Background()
	_ = sleep(ctx, 300*time.Millisecond)
	get(other.URL)
	_ = sleep(ctx, 700*time.Millisecond)
	if got := obs.lastTenant(); !got.IsZero() {
		t.Errorf("lastTenant() before any tenant request = %v, want zero", got)
	}
	before := time.Now()
	get(tenant.URL)
	if got := obs.lastTenant(); got.Before(before) || got.After(time.Now()) {
		t.Errorf("lastTenant() = %v, want the moment the response was closed (after %v)", got, before)
	}
	_ = sleep(ctx, 97*time.Millisecond)
	_ = sleep(ctx, 3*time.Second)
	want := []time.Duration{300 * time.Millisecond, 700 * time.Millisecond, time.Second, time.Second}
	if diff := cmp.Diff(want, clk.Sleeps()); diff != "" {
		t.Errorf("fixedSleep() sleeps (-want +got):\n%s", diff)
	}
}

func TestDeployArgs(t *testing.T) {
	t.Parallel()
	got := deployArgs(map[string]string{"product": "shop", "dokploy-url": "http://127.0.0.1:1", "health-url": "http://h/api/health"})
	want := []string{"deploy", "--dokploy-url=http://127.0.0.1:1", "--health-url=http://h/api/health", "--product=shop"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deployArgs() (-want +got):\n%s", diff)
	}
}
