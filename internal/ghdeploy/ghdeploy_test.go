package ghdeploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/launchplane/runtime-identity/internal/ghdeploy"
	"github.com/launchplane/runtime-identity/internal/ghdeploy/ghdeploytest"
)

const (
	testSHA  = "0123456789abcdef0123456789abcdef01234567"
	testRepo = "launchplane/app"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func now() time.Time { return fixedNow }

// sleeper records the waits asked for instead of sleeping.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleeper) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// newPair starts a fake GitHub and a client for it sharing one fixed clock.
func newPair(t *testing.T, token string, opts ...ghdeploy.Option) (*ghdeploytest.Server, *ghdeploy.Client, *sleeper) {
	t.Helper()
	srv := ghdeploytest.NewServer(t, ghdeploytest.WithNow(now))
	sl := &sleeper{}
	opts = append([]ghdeploy.Option{ghdeploy.WithSleep(sl.sleep), ghdeploy.WithNow(now)}, opts...)
	c, err := ghdeploy.New(srv.Client(), srv.URL(), token, testRepo, opts...)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return srv, c, sl
}

func TestDeploymentLifecycle(t *testing.T) {
	t.Parallel()
	payload := map[string]any{"schema_version": 1, "deployment_record_id": "dr-42", "context": "shop"}
	tests := []struct {
		name           string
		req            ghdeploy.DeploymentRequest
		wantTransient  bool
		wantProduction bool
		wantEnv        string
	}{
		{
			name:    "stable",
			req:     ghdeploy.DeploymentRequest{Ref: testSHA, Environment: "shop/stable", Description: "runtime identity dr-42", Payload: payload},
			wantEnv: "shop/stable",
		},
		{
			name:          "preview is transient",
			req:           ghdeploy.DeploymentRequest{Ref: testSHA, Environment: "shop/pr-7", Payload: payload, Transient: true},
			wantTransient: true, wantEnv: "shop/pr-7",
		},
		{
			name:           "prod is production",
			req:            ghdeploy.DeploymentRequest{Ref: testSHA, Environment: "shop/prod", Payload: payload, Production: true},
			wantProduction: true, wantEnv: "shop/prod",
		},
		{
			name:    "no environment lets GitHub default it",
			req:     ghdeploy.DeploymentRequest{Ref: "main"},
			wantEnv: "production",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := newPair(t, "tok")
			ctx := context.Background()
			id, err := c.CreateDeployment(ctx, tt.req)
			if err != nil {
				t.Fatalf("CreateDeployment() error = %v", err)
			}
			for _, st := range []ghdeploy.StatusRequest{
				{State: "in_progress", Description: "verifying runtime identity", LogURL: "https://github.com/launchplane/app/actions/runs/9", EnvironmentURL: "https://shop.example.com/"},
				{State: "success", Description: "match: dr-42", LogURL: "https://github.com/launchplane/app/actions/runs/9", EnvironmentURL: "https://shop.example.com/"},
			} {
				if err := c.CreateStatus(ctx, id, st); err != nil {
					t.Fatalf("CreateStatus(%s) error = %v", st.State, err)
				}
			}

			wantOps := []string{"repos/create-deployment", "repos/create-deployment-status", "repos/create-deployment-status"}
			if diff := cmp.Diff(wantOps, srv.Operations()); diff != "" {
				t.Errorf("Operations() mismatch (-want +got):\n%s", diff)
			}

			deps := srv.Deployments()
			if len(deps) != 1 {
				t.Fatalf("len(Deployments()) = %d, want 1", len(deps))
			}
			got := deps[0]
			if got.ID != id {
				t.Errorf("CreateDeployment() = %d, want the server's id %d", id, got.ID)
			}
			want := ghdeploytest.Deployment{
				ID: id, Owner: "launchplane", Repo: "app", Ref: tt.req.Ref, Task: "deploy",
				Environment: tt.wantEnv, OriginalEnvironment: tt.wantEnv, Description: tt.req.Description,
				AutoMerge: ptr(false), RequiredContexts: &[]string{},
				Transient: ptr(tt.wantTransient), Production: ptr(tt.wantProduction),
			}
			opts := cmpopts.IgnoreFields(ghdeploytest.Deployment{}, "SHA", "CreatedAt", "Request", "Payload")
			if diff := cmp.Diff(want, got, opts); diff != "" {
				t.Errorf("deployment mismatch (-want +got):\n%s", diff)
			}

			// The wire form matters: false and [] must be present, not omitted or null.
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(got.Request, &raw); err != nil {
				t.Fatalf("request body: %v", err)
			}
			for k, v := range map[string]string{"auto_merge": "false", "required_contexts": "[]", "task": `"deploy"`} {
				if string(raw[k]) != v {
					t.Errorf("request %s = %s, want %s", k, raw[k], v)
				}
			}
			if tt.req.Payload == nil {
				if got.Payload != nil {
					t.Errorf("payload = %s, want none", got.Payload)
				}
			} else {
				var gotPayload map[string]any
				if err := json.Unmarshal(got.Payload, &gotPayload); err != nil {
					t.Fatalf("payload is not an object: %s", got.Payload)
				}
				if diff := cmp.Diff(map[string]any{"schema_version": 1.0, "deployment_record_id": "dr-42", "context": "shop"}, gotPayload); diff != "" {
					t.Errorf("payload mismatch (-want +got):\n%s", diff)
				}
			}

			wantStatuses := []ghdeploytest.Status{
				{DeploymentID: id, State: "in_progress", Description: "verifying runtime identity", Environment: tt.wantEnv,
					EnvironmentURL: "https://shop.example.com/", LogURL: "https://github.com/launchplane/app/actions/runs/9", TargetURL: "https://github.com/launchplane/app/actions/runs/9"},
				{DeploymentID: id, State: "success", Description: "match: dr-42", Environment: tt.wantEnv,
					EnvironmentURL: "https://shop.example.com/", LogURL: "https://github.com/launchplane/app/actions/runs/9", TargetURL: "https://github.com/launchplane/app/actions/runs/9"},
			}
			sopts := cmpopts.IgnoreFields(ghdeploytest.Status{}, "ID", "CreatedAt", "Request")
			if diff := cmp.Diff(wantStatuses, srv.Statuses(id), sopts); diff != "" {
				t.Errorf("Statuses() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestStatusOptionalFieldsOmitted(t *testing.T) {
	t.Parallel()
	srv, c, _ := newPair(t, "tok")
	ctx := context.Background()
	id, err := c.CreateDeployment(ctx, ghdeploy.DeploymentRequest{Ref: testSHA, Environment: "shop/stable"})
	if err != nil {
		t.Fatalf("CreateDeployment() error = %v", err)
	}
	if err := c.CreateStatus(ctx, id, ghdeploy.StatusRequest{State: "error"}); err != nil {
		t.Fatalf("CreateStatus() error = %v", err)
	}
	sts := srv.Statuses(id)
	if len(sts) != 1 {
		t.Fatalf("len(Statuses()) = %d, want 1", len(sts))
	}
	if got, want := strings.TrimSpace(string(sts[0].Request)), `{"state":"error"}`; got != want {
		t.Errorf("status request = %s, want %s", got, want)
	}
	if err := c.CreateStatus(ctx, id, ghdeploy.StatusRequest{State: "failure", Environment: "shop/other"}); err != nil {
		t.Fatalf("CreateStatus() error = %v", err)
	}
	if got := srv.Deployments()[0].Environment; got != "shop/other" {
		t.Errorf("environment after a renaming status = %q, want shop/other", got)
	}
}

func TestStatusDescriptionTruncated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, desc string
	}{
		{"ascii", strings.Repeat("a", 300)},
		{"two-byte runes", strings.Repeat("é", 141)},
		{"three-byte runes", strings.Repeat("日本", 100)},
		{"four-byte runes", strings.Repeat("🚀", 200)},
		{"mixed", "mismatch: " + strings.Repeat("ß🚀x", 60)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := newPair(t, "tok")
			ctx := context.Background()
			id, err := c.CreateDeployment(ctx, ghdeploy.DeploymentRequest{Ref: testSHA})
			if err != nil {
				t.Fatalf("CreateDeployment() error = %v", err)
			}
			if err := c.CreateStatus(ctx, id, ghdeploy.StatusRequest{State: "failure", Description: tt.desc}); err != nil {
				t.Fatalf("CreateStatus() error = %v", err)
			}
			if err := c.CreateCommitStatus(ctx, testSHA, "runtime-identity/shop/stable", "failure", tt.desc, ""); err != nil {
				t.Fatalf("CreateCommitStatus() error = %v", err)
			}
			for _, got := range []string{srv.Statuses(id)[0].Description, srv.CommitStatuses()[0].Description} {
				if n := utf8.RuneCountInString(got); n != ghdeploy.MaxDescription {
					t.Errorf("description has %d runes, want %d", n, ghdeploy.MaxDescription)
				}
				if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
					t.Errorf("description = %q, want valid UTF-8 ending in …", got)
				}
				if !strings.HasPrefix(tt.desc, strings.TrimSuffix(got, "…")) {
					t.Errorf("description = %q, want a prefix of the input", got)
				}
			}
		})
	}
}

func TestCommitStatus(t *testing.T) {
	t.Parallel()
	srv, c, _ := newPair(t, "tok")
	err := c.CreateCommitStatus(context.Background(), testSHA, "runtime-identity/shop/stable", "success",
		"match: dr-42", "https://github.com/launchplane/app/actions/runs/9")
	if err != nil {
		t.Fatalf("CreateCommitStatus() error = %v", err)
	}
	want := []ghdeploytest.CommitStatus{{
		Owner: "launchplane", Repo: "app", SHA: testSHA, State: "success", Context: "runtime-identity/shop/stable",
		Description: "match: dr-42", TargetURL: "https://github.com/launchplane/app/actions/runs/9",
	}}
	opts := cmpopts.IgnoreFields(ghdeploytest.CommitStatus{}, "ID", "CreatedAt", "Request")
	if diff := cmp.Diff(want, srv.CommitStatuses(), opts); diff != "" {
		t.Errorf("CommitStatuses() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"repos/create-commit-status"}, srv.Operations()); diff != "" {
		t.Errorf("Operations() mismatch (-want +got):\n%s", diff)
	}
}

func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		call    func(*ghdeploy.Client) error
		wantErr string
	}{
		{"deployment without ref", func(c *ghdeploy.Client) error {
			_, err := c.CreateDeployment(context.Background(), ghdeploy.DeploymentRequest{})
			return err
		}, "ghdeploy: create deployment: empty ref"},
		{"payload array", func(c *ghdeploy.Client) error {
			_, err := c.CreateDeployment(context.Background(), ghdeploy.DeploymentRequest{Ref: "main", Payload: []int{1}})
			return err
		}, "ghdeploy: create deployment: payload must encode to a JSON object or string"},
		{"payload unencodable", func(c *ghdeploy.Client) error {
			_, err := c.CreateDeployment(context.Background(), ghdeploy.DeploymentRequest{Ref: "main", Payload: map[string]any{"f": func() {}}})
			return err
		}, "ghdeploy: create deployment: encode payload"},
		{"status state", func(c *ghdeploy.Client) error {
			return c.CreateStatus(context.Background(), 1, ghdeploy.StatusRequest{State: "done"})
		}, `ghdeploy: create deployment status: state "done" is not one of`},
		{"status without deployment", func(c *ghdeploy.Client) error {
			return c.CreateStatus(context.Background(), 0, ghdeploy.StatusRequest{State: "success"})
		}, "ghdeploy: create deployment status: no deployment id"},
		{"commit state in_progress", func(c *ghdeploy.Client) error {
			return c.CreateCommitStatus(context.Background(), testSHA, "x", "in_progress", "", "")
		}, `ghdeploy: create commit status: state "in_progress" is not one of`},
		{"commit without sha", func(c *ghdeploy.Client) error {
			return c.CreateCommitStatus(context.Background(), "", "x", "success", "", "")
		}, "ghdeploy: create commit status: empty sha"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := newPair(t, "tok")
			err := tt.call(c)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want prefix %q", err, tt.wantErr)
			}
			var ge *ghdeploy.Error
			if !errors.As(err, &ge) || ge.Attempts != 0 {
				t.Errorf("error = %#v, want *ghdeploy.Error with 0 attempts", err)
			}
			if n := len(srv.Calls()); n != 0 {
				t.Errorf("len(Calls()) = %d, want 0", n)
			}
		})
	}
}

type fault struct {
	n int
	f ghdeploytest.Fault
}

func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	type op int
	const (
		deployment op = iota
		status
		commit
	)
	opID := map[op]string{deployment: "repos/create-deployment", status: "repos/create-deployment-status", commit: "repos/create-commit-status"}
	tests := []struct {
		name       string
		op         op
		faults     []fault
		opts       []ghdeploy.Option
		wantCalls  int
		wantWaits  []time.Duration
		jitter     bool // waits come from the exponential backoff: ±50%
		wantErr    string
		wantIs     error
		wantStatus int
	}{
		{name: "secondary rate limit honours Retry-After",
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.SecondaryRateLimit, RetryAfter: "7"}}},
			wantCalls: 2, wantWaits: []time.Duration{7 * time.Second}},
		{name: "secondary rate limit without Retry-After waits a minute",
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.SecondaryRateLimit}}},
			wantCalls: 2, wantWaits: []time.Duration{time.Minute}},
		{name: "secondary rate limit with only a reset time",
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.SecondaryRateLimit, ResetIn: 20 * time.Second}}},
			wantCalls: 2, wantWaits: []time.Duration{20 * time.Second}},
		{name: "429 twice then success",
			faults:    []fault{{2, ghdeploytest.Fault{Kind: ghdeploytest.TooManyRequests, RetryAfter: "5"}}},
			wantCalls: 3, wantWaits: []time.Duration{5 * time.Second, 5 * time.Second}},
		{name: "429 with an HTTP date",
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.TooManyRequests, RetryAfter: fixedNow.Add(9 * time.Second).Format(http.TimeFormat)}}},
			wantCalls: 2, wantWaits: []time.Duration{9 * time.Second}},
		{name: "429 three times gives up after three attempts",
			faults:    []fault{{3, ghdeploytest.Fault{Kind: ghdeploytest.TooManyRequests, RetryAfter: "5"}}},
			wantCalls: 3, wantWaits: []time.Duration{5 * time.Second, 5 * time.Second},
			wantErr: "ghdeploy: create deployment: rate limited: gave up after 3 attempts: 429 Too Many Requests", wantIs: ghdeploy.ErrRateLimited, wantStatus: 429},
		{name: "429 asking for longer than the cap gives up at once",
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.TooManyRequests, RetryAfter: "120"}}},
			wantCalls: 1,
			wantErr:   "ghdeploy: create deployment: rate limited: the server asked for a longer wait than allowed (2m0s, at most 1m0s): 429 Too Many Requests", wantIs: ghdeploy.ErrRateLimited, wantStatus: 429},
		{name: "primary rate limit waits until the reset",
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.PrimaryRateLimit, ResetIn: 30 * time.Second}}},
			wantCalls: 2, wantWaits: []time.Duration{30 * time.Second}},
		{name: "primary rate limit resetting in an hour gives up at once",
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.PrimaryRateLimit}}},
			wantCalls: 1,
			wantErr:   "ghdeploy: create deployment: rate limited: the server asked for a longer wait than allowed (1h0m0s, at most 1m0s): 403 Forbidden: API rate limit exceeded", wantIs: ghdeploy.ErrRateLimited, wantStatus: 403},
		{name: "custom cap: at the cap is allowed",
			opts:      []ghdeploy.Option{ghdeploy.WithMaxRetryWait(10 * time.Second)},
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.SecondaryRateLimit, RetryAfter: "10"}}},
			wantCalls: 2, wantWaits: []time.Duration{10 * time.Second}},
		{name: "custom cap: over the cap gives up",
			opts:      []ghdeploy.Option{ghdeploy.WithMaxRetryWait(10 * time.Second)},
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.SecondaryRateLimit, RetryAfter: "11"}}},
			wantCalls: 1, wantErr: "ghdeploy: create deployment: rate limited: the server asked for a longer wait than allowed (11s, at most 10s)", wantIs: ghdeploy.ErrRateLimited, wantStatus: 403},
		{name: "create deployment: 5xx not retried, it could duplicate",
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.ServerError}}},
			wantCalls: 1, wantErr: "ghdeploy: create deployment: not retried, the object may already exist: 502 Bad Gateway", wantStatus: 502},
		{name: "commit status: 5xx once is retried",
			op:        commit,
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.ServerError}}},
			wantCalls: 2, wantWaits: []time.Duration{time.Second}, jitter: true},
		{name: "commit status: 5xx three times gives up",
			op:        commit,
			faults:    []fault{{3, ghdeploytest.Fault{Kind: ghdeploytest.ServerError, Status: 503}}},
			wantCalls: 3, wantWaits: []time.Duration{time.Second, 2 * time.Second}, jitter: true,
			wantErr: "ghdeploy: create commit status: gave up after 3 attempts: 503 Service Unavailable", wantStatus: 503},
		{name: "commit status: 5xx then rate limit share the three attempts",
			op: commit,
			faults: []fault{
				{1, ghdeploytest.Fault{Kind: ghdeploytest.ServerError, Status: 500}},
				{2, ghdeploytest.Fault{Kind: ghdeploytest.TooManyRequests, RetryAfter: "3"}},
			},
			wantCalls: 3, wantWaits: []time.Duration{time.Second, 3 * time.Second}, jitter: true,
			wantErr: "rate limited: gave up after 3 attempts: 429", wantIs: ghdeploy.ErrRateLimited, wantStatus: 429},
		{name: "422 is permanent",
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.ValidationFailed}}},
			wantCalls: 1, wantErr: "ghdeploy: create deployment: 422 Unprocessable Entity: Validation Failed (: custom)", wantStatus: 422},
		{name: "202 auto-merge is permanent",
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.AutoMerged}}},
			wantCalls: 1, wantErr: "ghdeploy: create deployment: github merged the default branch", wantIs: ghdeploy.ErrAutoMerged, wantStatus: 202},
		{name: "status write: 5xx retried",
			op:        status,
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.ServerError, Operation: "repos/create-deployment-status"}}},
			wantCalls: 2, wantWaits: []time.Duration{time.Second}, jitter: true},
		{name: "status write: 422 permanent",
			op:        status,
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.ValidationFailed, Operation: "repos/create-deployment-status"}}},
			wantCalls: 1, wantErr: "ghdeploy: create deployment status: 422", wantStatus: 422},
		{name: "commit status: secondary rate limit",
			op:        commit,
			faults:    []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.SecondaryRateLimit, RetryAfter: "2", Operation: "repos/create-commit-status"}}},
			wantCalls: 2, wantWaits: []time.Duration{2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c, sl := newPair(t, "tok", tt.opts...)
			ctx := context.Background()
			var id int64
			if tt.op == status {
				var err error
				if id, err = c.CreateDeployment(ctx, ghdeploy.DeploymentRequest{Ref: testSHA}); err != nil {
					t.Fatalf("CreateDeployment() error = %v", err)
				}
			}
			for _, f := range tt.faults {
				srv.FailNext(f.n, f.f)
			}
			var err error
			switch tt.op {
			case deployment:
				var got int64
				got, err = c.CreateDeployment(ctx, ghdeploy.DeploymentRequest{Ref: testSHA})
				if err == nil && got != srv.Deployments()[0].ID {
					t.Errorf("CreateDeployment() = %d, want %d", got, srv.Deployments()[0].ID)
				}
			case status:
				err = c.CreateStatus(ctx, id, ghdeploy.StatusRequest{State: "in_progress"})
			case commit:
				err = c.CreateCommitStatus(ctx, testSHA, "runtime-identity/a/b", "pending", "", "")
			}

			calls := 0
			for _, o := range srv.Operations() {
				if o == opID[tt.op] {
					calls++
				}
			}
			if calls != tt.wantCalls {
				t.Errorf("%s calls = %d, want %d", opID[tt.op], calls, tt.wantCalls)
			}
			cmpWaits := cmp.Options{cmpopts.EquateEmpty()}
			if tt.jitter {
				cmpWaits = append(cmpWaits, cmp.Comparer(func(a, b time.Duration) bool {
					lo, hi := min(a, b), max(a, b)
					return float64(hi) <= 3*float64(lo) // both within ±50% of one nominal value
				}))
			}
			if diff := cmp.Diff(tt.wantWaits, sl.got(), cmpWaits); diff != "" {
				t.Errorf("waits mismatch (-want +got):\n%s", diff)
			}
			if tt.jitter {
				for i, w := range sl.got() {
					if lo, hi := tt.wantWaits[i]/2, tt.wantWaits[i]*3/2; w < lo || w > hi {
						t.Errorf("wait[%d] = %v, want within [%v, %v]", i, w, lo, hi)
					}
				}
			}

			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("error = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false, want true", err, tt.wantIs)
			}
			var ge *ghdeploy.Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %T is not a *ghdeploy.Error", err)
			}
			if ge.StatusCode != tt.wantStatus || ge.Attempts != tt.wantCalls {
				t.Errorf("Error{StatusCode: %d, Attempts: %d}, want {%d, %d}", ge.StatusCode, ge.Attempts, tt.wantStatus, tt.wantCalls)
			}
		})
	}
}

func TestContextWinsDuringWait(t *testing.T) {
	t.Parallel()
	srv := ghdeploytest.NewServer(t, ghdeploytest.WithNow(now))
	srv.FailNext(3, ghdeploytest.Fault{Kind: ghdeploytest.SecondaryRateLimit, RetryAfter: "5"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := ghdeploy.New(srv.Client(), srv.URL(), "tok", testRepo, ghdeploy.WithNow(now),
		ghdeploy.WithSleep(func(ctx context.Context, d time.Duration) error {
			cancel() // the run is being cancelled while we wait
			<-ctx.Done()
			return ctx.Err()
		}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateDeployment(ctx, ghdeploy.DeploymentRequest{Ref: testSHA})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("CreateDeployment() error = %v, want context.Canceled", err)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Errorf("len(Calls()) = %d, want 1 (no request after cancellation)", n)
	}
}

func TestDefaultSleepHonoursContext(t *testing.T) {
	t.Parallel()
	srv := ghdeploytest.NewServer(t)
	srv.FailNext(1, ghdeploytest.Fault{Kind: ghdeploytest.SecondaryRateLimit, RetryAfter: "50"})
	c, err := ghdeploy.New(srv.Client(), srv.URL(), "tok", testRepo) // the real sleep
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(srv.Calls()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err = c.CreateDeployment(ctx, ghdeploy.DeploymentRequest{Ref: testSHA})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("CreateDeployment() error = %v, want context.Canceled", err)
	}
}

// errorChain lists err and everything it wraps.
func errorChain(err error) []error {
	var out []error
	queue := []error{err}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		if e == nil {
			continue
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			queue = append(queue, u.Unwrap())
		case interface{ Unwrap() []error }:
			queue = append(queue, u.Unwrap()...)
		}
	}
	return out
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	const token = "ghs_PLANTEDtoken0123456789abcdefABCDEF"
	echo := "Bad credentials for " + token + "\nsecond line"
	tests := []struct {
		name   string
		faults []fault
		apiURL string // overrides the fake's URL
		opts   []ghdeploy.Option
	}{
		{name: "422 echoing the token", faults: []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.ValidationFailed, Message: echo}}}},
		{name: "5xx echoing the token", faults: []fault{{3, ghdeploytest.Fault{Kind: ghdeploytest.ServerError, Message: echo}}}},
		{name: "429 over the cap echoing the token", faults: []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.TooManyRequests, RetryAfter: "600", Message: echo}}}},
		{name: "secondary rate limit echoing the token", faults: []fault{{3, ghdeploytest.Fault{Kind: ghdeploytest.SecondaryRateLimit, RetryAfter: "1", Message: echo}}}},
		{name: "primary rate limit echoing the token", faults: []fault{{1, ghdeploytest.Fault{Kind: ghdeploytest.PrimaryRateLimit, Message: echo}}}},
		{name: "connection refused", apiURL: "http://127.0.0.1:1/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := ghdeploytest.NewServer(t, ghdeploytest.WithNow(now), ghdeploytest.WithToken(token))
			for _, f := range tt.faults {
				srv.FailNext(f.n, f.f)
			}
			apiURL := srv.URL()
			if tt.apiURL != "" {
				apiURL = tt.apiURL
			}
			sl := &sleeper{}
			c, err := ghdeploy.New(srv.Client(), apiURL, token, testRepo, ghdeploy.WithSleep(sl.sleep), ghdeploy.WithNow(now))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CreateDeployment(context.Background(), ghdeploy.DeploymentRequest{Ref: testSHA})
			if err == nil {
				t.Fatal("CreateDeployment() error = nil, want an error")
			}
			for _, e := range errorChain(err) {
				if strings.Contains(e.Error(), token) {
					t.Errorf("%T in the error chain holds the token: %q", e, e.Error())
				}
				if strings.ContainsAny(e.Error(), "\r\n") {
					t.Errorf("%T in the error chain spans lines: %q", e, e.Error())
				}
			}
			if tt.apiURL == "" && !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("error = %q, want the echoed token shown as [redacted]", err)
			}
		})
	}
}

// roundTripFunc answers requests in-process, for checks of what goes on the wire.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, apiURL, wantURL string
	}{
		{"github.com", "https://api.github.com", "https://api.github.com/repos/launchplane/app/deployments"},
		{"github.com with slash", "https://api.github.com/", "https://api.github.com/repos/launchplane/app/deployments"},
		{"enterprise server", "https://ghe.example.com/api/v3", "https://ghe.example.com/api/v3/repos/launchplane/app/deployments"},
		{"ghe.com", "https://api.acme.ghe.com", "https://api.acme.ghe.com/repos/launchplane/app/deployments"},
		{"loopback fake", "http://127.0.0.1:8080", "http://127.0.0.1:8080/repos/launchplane/app/deployments"},
		{"fake under a prefix", "http://127.0.0.1:8080/github/", "http://127.0.0.1:8080/github/repos/launchplane/app/deployments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got, auth string
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				got, auth = r.URL.String(), r.Header.Get("Authorization")
				return &http.Response{
					StatusCode: http.StatusCreated, Request: r,
					Header: http.Header{"Content-Type": {"application/json"}},
					Body:   io.NopCloser(strings.NewReader(`{"id": 7}`)),
				}, nil
			})}
			c, err := ghdeploy.New(hc, tt.apiURL, "tok", testRepo)
			if err != nil {
				t.Fatalf("New() error = %v", err)
			}
			id, err := c.CreateDeployment(context.Background(), ghdeploy.DeploymentRequest{Ref: "main"})
			if err != nil || id != 7 {
				t.Fatalf("CreateDeployment() = %d, %v, want 7, nil", id, err)
			}
			if got != tt.wantURL {
				t.Errorf("request URL = %s, want %s", got, tt.wantURL)
			}
			if auth != "Bearer tok" {
				t.Errorf("Authorization = %q, want Bearer tok", auth)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, apiURL, token, repo, wantErr string
	}{
		{"repository without owner", "https://api.github.com", "t", "app", `ghdeploy: repository must be "owner/name"`},
		{"repository with extra part", "https://api.github.com", "t", "a/b/c", `ghdeploy: repository must be "owner/name"`},
		{"empty repository name", "https://api.github.com", "t", "a/", `ghdeploy: repository must be "owner/name"`},
		{"empty token", "https://api.github.com", "", "a/b", "ghdeploy: empty token"},
		{"not a URL", "api.github.com", "t", "a/b", "ghdeploy: api url must be"},
		{"other scheme", "ftp://api.github.com", "t", "a/b", "ghdeploy: api url must be"},
		{"credentials in URL", "https://user:pw@api.github.com", "t", "a/b", "ghdeploy: api url must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ghdeploy.New(nil, tt.apiURL, tt.token, tt.repo)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("New() error = %v, want prefix %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "pw") {
				t.Errorf("New() error = %q holds the URL password", err)
			}
		})
	}
}

func TestUndecodableSuccessIsNotRetried(t *testing.T) {
	t.Parallel()
	calls := 0
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls++
		return &http.Response{
			StatusCode: http.StatusCreated, Request: r,
			Header: http.Header{"Content-Type": {"application/json"}},
			Body:   io.NopCloser(strings.NewReader(`{"id": "seven"`)),
		}, nil
	})}
	c, err := ghdeploy.New(hc, "https://api.github.com", "tok", testRepo, ghdeploy.WithSleep(func(context.Context, time.Duration) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDeployment(context.Background(), ghdeploy.DeploymentRequest{Ref: "main"}); err == nil {
		t.Error("CreateDeployment() error = nil, want a decoding error")
	}
	if calls != 1 {
		t.Errorf("requests = %d, want 1: the deployment may exist, a retry would duplicate it", calls)
	}
}

func TestRedirectToAnotherHostRefused(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Store(true)
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":1}`)
	}))
	defer other.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Same port, other host name: a different host to the HTTP client.
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	c, err := ghdeploy.New(nil, redirector.URL, "planted-token-value", testRepo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDeployment(context.Background(), ghdeploy.DeploymentRequest{Ref: testSHA}); err == nil || !strings.Contains(err.Error(), "redirect") {
		t.Errorf("CreateDeployment() through a cross-host redirect = %v, want a refused redirect", err)
	}
	if leaked.Load() {
		t.Error("the token reached another host")
	}
}
