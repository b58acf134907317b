package launchplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/launchplane"
	"github.com/launchplane/runtime-identity/internal/launchplane/launchplanetest"
)

const recordID = "deployment-20260510T141500Z-sellyouroutboard-prod"

// stable is the expected identity of ../shared/fixtures/launchplane/expected-identity.stable.json.
func stable() identity.Identity {
	const digest = "ghcr.io/cbusillo/sellyouroutboard@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	return identity.Identity{
		SchemaVersion:      1,
		Product:            "sellyouroutboard",
		Context:            "sellyouroutboard",
		Instance:           "prod",
		EnvironmentKind:    "stable",
		DeploymentRecordID: recordID,
		ArtifactID:         digest,
		SourceGitRef:       "6b3c9d7e8f901234567890abcdef1234567890ab",
		ImageReference:     digest,
	}
}

// sleeps records the waits a client asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func newClient(t *testing.T, baseURL, tok string, opts ...launchplane.Option) (*launchplane.Client, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	c, err := launchplane.New(baseURL, launchplane.StaticToken(tok), append([]launchplane.Option{launchplane.WithSleep(sl.sleep)}, opts...)...)
	if err != nil {
		t.Fatalf("New() = %v, want nil", err)
	}
	return c, sl
}

func TestDeployment(t *testing.T) {
	t.Parallel()
	withDeployedAt := stable()
	withDeployedAt.DeployedAt = "2026-05-10T14:15:00Z"
	other := stable()
	other.DeploymentRecordID = "deployment-20260401T000000Z-sellyouroutboard-prod"
	badRef := stable()
	badRef.SourceGitRef = "main branch"

	edit := func(id identity.Identity, f func(map[string]any)) map[string]any {
		rec := launchplanetest.Record(id)
		f(rec)
		return rec
	}
	tests := []struct {
		name        string
		record      map[string]any // nil: not stored
		want        identity.Identity
		wantKey     string
		wantUnknown []string
		wantErr     error  // a sentinel the error must match
		wantText    string // text the error must contain
	}{
		{name: "object identity", record: launchplanetest.Record(stable()), want: stable(), wantKey: "runtime_identity"},
		{
			name:   "string-encoded identity",
			record: edit(stable(), func(r map[string]any) { r["runtime_identity"] = string(stable().Canonical()) }),
			want:   stable(), wantKey: "runtime_identity",
		},
		{
			name: "doubly encoded identity",
			record: edit(stable(), func(r map[string]any) {
				s, _ := json.Marshal(string(stable().Canonical()))
				r["runtime_identity"] = string(s)
			}),
			want: stable(), wantKey: "runtime_identity",
		},
		{
			name: "expected_runtime_identity when runtime_identity is absent",
			record: edit(stable(), func(r map[string]any) {
				delete(r, "runtime_identity")
				r["expected_runtime_identity"] = json.RawMessage(stable().Canonical())
			}),
			want: stable(), wantKey: "expected_runtime_identity",
		},
		{
			name: "expected_runtime_identity when runtime_identity is null",
			record: edit(stable(), func(r map[string]any) {
				r["runtime_identity"] = nil
				r["expected_runtime_identity"] = string(stable().Canonical())
			}),
			want: stable(), wantKey: "expected_runtime_identity",
		},
		{name: "deployed_at accepted", record: launchplanetest.Record(withDeployedAt), want: withDeployedAt, wantKey: "runtime_identity"},
		{
			name: "unknown identity keys tolerated and listed",
			record: edit(stable(), func(r map[string]any) {
				var m map[string]any
				json.Unmarshal(stable().Canonical(), &m)
				m["region"] = "eu"
				r["runtime_identity"] = m
			}),
			want: stable(), wantKey: "runtime_identity", wantUnknown: []string{"region"},
		},
		{name: "not found", wantErr: launchplane.ErrNotFound, wantText: "404 not_found"},
		{
			name:    "no identity",
			record:  edit(stable(), func(r map[string]any) { delete(r, "runtime_identity") }),
			wantErr: launchplane.ErrNoIdentity, wantText: "the record carries no runtime identity",
		},
		{
			name:    "blank string identity",
			record:  edit(stable(), func(r map[string]any) { r["runtime_identity"] = "  " }),
			wantErr: launchplane.ErrNoIdentity,
		},
		{
			name:    "invalid identity names the field",
			record:  edit(stable(), func(r map[string]any) { r["runtime_identity"] = json.RawMessage(badRef.Canonical()) }),
			wantErr: launchplane.ErrInvalidIdentity, wantText: "source_git_ref: contains whitespace",
		},
		{
			name: "required field missing",
			record: edit(stable(), func(r map[string]any) {
				r["runtime_identity"] = map[string]any{"product": "p", "context": "c", "instance": "i", "deployment_record_id": recordID}
			}),
			wantErr: launchplane.ErrInvalidIdentity, wantText: "artifact_id: is required",
		},
		{
			name:    "identity is a number",
			record:  edit(stable(), func(r map[string]any) { r["runtime_identity"] = 7 }),
			wantErr: launchplane.ErrInvalidIdentity, wantText: "record.runtime_identity",
		},
		{
			name:    "identity names another record",
			record:  edit(other, func(r map[string]any) { r["deployment_record_id"] = recordID }),
			wantErr: launchplane.ErrRecordMismatch, wantText: other.DeploymentRecordID,
		},
		{
			name:    "record names another record",
			record:  edit(stable(), func(r map[string]any) { r["deployment_record_id"] = other.DeploymentRecordID }),
			wantErr: launchplane.ErrRecordMismatch,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := launchplanetest.NewServer(t)
			if tt.record != nil {
				srv.AddDeployment(recordID, tt.record)
			}
			c, _ := newClient(t, srv.URL(), "tok-123")
			d, err := c.Deployment(context.Background(), recordID)
			if tt.wantErr != nil || tt.wantText != "" {
				if err == nil {
					t.Fatalf("Deployment() = %+v, nil; want an error", d)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("Deployment() = %v, want errors.Is %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("Deployment() = %v, want text %q", err, tt.wantText)
				}
				if !strings.HasPrefix(err.Error(), "launchplane: read deployment "+recordID+": ") {
					t.Errorf("Deployment() = %v, want the launchplane: read deployment <id> prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Deployment() = %v, want nil", err)
			}
			if diff := cmp.Diff(tt.want, d.Identity); diff != "" {
				t.Errorf("Deployment().Identity mismatch (-want +got):\n%s", diff)
			}
			if d.IdentityKey != tt.wantKey {
				t.Errorf("Deployment().IdentityKey = %q, want %q", d.IdentityKey, tt.wantKey)
			}
			if diff := cmp.Diff(tt.wantUnknown, d.UnknownKeys); diff != "" {
				t.Errorf("Deployment().UnknownKeys mismatch (-want +got):\n%s", diff)
			}
			if want := srv.URL() + "/v1/deployments/" + recordID; d.URL != want {
				t.Errorf("Deployment().URL = %q, want %q", d.URL, want)
			}
			if d.RecordID != recordID || d.TraceID == "" || !json.Valid(d.Raw) {
				t.Errorf("Deployment() = {RecordID %q, TraceID %q, Raw valid %v}, want the id, a trace id and the raw record", d.RecordID, d.TraceID, json.Valid(d.Raw))
			}
		})
	}
}

func TestDeploymentRequest(t *testing.T) {
	t.Parallel()
	id := stable()
	id.DeploymentRecordID = "deployment-a/b?c"
	srv := launchplanetest.NewServer(t, launchplanetest.WithToken("tok-123"))
	srv.AddIdentity(id)
	c, _ := newClient(t, srv.URL()+"/", "tok-123")
	if _, err := c.Deployment(context.Background(), id.DeploymentRecordID); err != nil {
		t.Fatalf("Deployment() = %v, want nil", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	got := map[string]string{
		"method":        reqs[0].Method,
		"path":          reqs[0].Path,
		"authorization": reqs[0].Header.Get("Authorization"),
		"accept":        reqs[0].Header.Get("Accept"),
	}
	want := map[string]string{
		"method":        "GET",
		"path":          "/v1/deployments/deployment-a%2Fb%3Fc",
		"authorization": "Bearer tok-123",
		"accept":        "application/json",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request mismatch (-want +got):\n%s", diff)
	}
}

func TestDeploymentRejectsBadRecordID(t *testing.T) {
	t.Parallel()
	srv := launchplanetest.NewServer(t)
	c, _ := newClient(t, srv.URL(), "tok-123")
	for _, id := range []string{"", "..", "a b", "a\nb", strings.Repeat("x", 300)} {
		if _, err := c.Deployment(context.Background(), id); err == nil {
			t.Errorf("Deployment(%q) = nil, want an error", id)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func TestDeploymentFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		token      string // the token the server requires
		fail       int
		status     int
		retryAfter string
		wantErr    error // nil: success
		notErr     error
		wantText   string
		wantReqs   int
		wantSleeps []time.Duration
	}{
		{name: "unauthorized", token: "other", wantErr: launchplane.ErrUnauthorized, notErr: launchplane.ErrNotFound, wantText: "401 unauthorized", wantReqs: 1},
		{name: "forbidden", fail: 1, status: 403, wantErr: launchplane.ErrUnauthorized, wantText: "403", wantReqs: 1},
		{name: "5xx retried then ok", fail: 2, status: 503, wantReqs: 3, wantSleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}},
		{
			name: "5xx exhausted", fail: 3, status: 502, notErr: launchplane.ErrNotFound,
			wantText: "gave up after 3 attempts: 502 injected_fault", wantReqs: 3,
			wantSleeps: []time.Duration{250 * time.Millisecond, 500 * time.Millisecond},
		},
		{name: "4xx not retried", fail: 1, status: 400, wantText: "400 injected_fault", notErr: launchplane.ErrNotFound, wantReqs: 1},
		{name: "429 retried after Retry-After", fail: 1, status: 429, retryAfter: "2", wantReqs: 2, wantSleeps: []time.Duration{2 * time.Second}},
		{name: "429 retried once only", fail: 2, status: 429, retryAfter: "1", wantErr: launchplane.ErrRateLimited, wantReqs: 2, wantSleeps: []time.Duration{time.Second}},
		{name: "429 asking too long", fail: 1, status: 429, retryAfter: "120", wantErr: launchplane.ErrRateLimited, wantReqs: 1},
		{name: "429 without Retry-After", fail: 1, status: 429, wantErr: launchplane.ErrRateLimited, wantReqs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := launchplanetest.NewServer(t, launchplanetest.WithToken(cmpOr(tt.token, "tok-123")))
			srv.AddIdentity(stable())
			srv.FailNextRetryAfter(tt.fail, tt.status, tt.retryAfter)
			c, sl := newClient(t, srv.URL(), "tok-123")
			d, err := c.Deployment(context.Background(), recordID)
			switch {
			case tt.wantErr == nil && tt.wantText == "":
				if err != nil || d.Identity != stable() {
					t.Errorf("Deployment() = %v, want the stable identity", err)
				}
			case err == nil:
				t.Errorf("Deployment() = nil error, want one")
			default:
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("Deployment() = %v, want errors.Is %v", err, tt.wantErr)
				}
				if tt.notErr != nil && errors.Is(err, tt.notErr) {
					t.Errorf("Deployment() = %v, want not errors.Is %v", err, tt.notErr)
				}
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("Deployment() = %v, want text %q", err, tt.wantText)
				}
			}
			if n := len(srv.Requests()); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
			if diff := cmp.Diff(tt.wantSleeps, sl.all()); diff != "" {
				t.Errorf("sleeps mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// closedURL returns the URL of a loopback port nobody listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	t.Run("read retried", func(t *testing.T) {
		t.Parallel()
		c, sl := newClient(t, closedURL(t), "tok-123")
		_, err := c.Deployment(context.Background(), recordID)
		if err == nil || !strings.Contains(err.Error(), "gave up after 3 attempts") {
			t.Errorf("Deployment() = %v, want gave up after 3 attempts", err)
		}
		if n := len(sl.all()); n != 2 {
			t.Errorf("sleeps = %d, want 2", n)
		}
	})
	t.Run("report not retried", func(t *testing.T) {
		t.Parallel()
		c, sl := newClient(t, closedURL(t), "tok-123")
		_, err := c.ReportVerification(context.Background(), verification(), "key-1")
		if !errors.Is(err, launchplane.ErrOutcomeUnknown) {
			t.Errorf("ReportVerification() = %v, want ErrOutcomeUnknown", err)
		}
		if n := len(sl.all()); n != 0 {
			t.Errorf("sleeps = %d, want 0", n)
		}
	})
}

func TestContextWinsOverRetry(t *testing.T) {
	t.Parallel()
	srv := launchplanetest.NewServer(t)
	srv.AddIdentity(stable())
	srv.FailNext(3, 503)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := launchplane.New(srv.URL(), launchplane.StaticToken("tok-123"), launchplane.WithSleep(func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Deployment(ctx, recordID)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Deployment() = %v, want context.Canceled", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestRedirectToAnotherHostRefused(t *testing.T) {
	t.Parallel()
	const tok = "tok-must-not-travel"
	var mu sync.Mutex
	var leaked []string
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	t.Cleanup(sink.Close)
	// Another host: 127.0.0.1 and localhost name different hosts to the client.
	target := strings.Replace(sink.URL, "127.0.0.1", "localhost", 1) + "/v1/deployments/x?token=abc"
	var hits int
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)

	for _, tt := range []struct {
		name string
		opts []launchplane.Option
	}{
		{name: "default client"},
		{name: "caller's client", opts: []launchplane.Option{launchplane.WithHTTPClient(&http.Client{})}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, redirector.URL, tok, tt.opts...)
			_, err := c.Deployment(context.Background(), recordID)
			if err == nil || !strings.Contains(err.Error(), "refused a redirect to another host") {
				t.Errorf("Deployment() = %v, want a refused redirect", err)
			}
			if err != nil && (strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), "token=abc")) {
				t.Errorf("Deployment() = %v, leaks the token or the query", err)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) != 0 {
		t.Errorf("the other host got %d requests, want 0", len(leaked))
	}
	if hits != 2 {
		t.Errorf("redirector hits = %d, want 2 (one per client, no retry)", hits)
	}
}

func TestSameHostRedirectFollowed(t *testing.T) {
	t.Parallel()
	rec, _ := json.Marshal(map[string]any{"status": "ok", "trace_id": "t-1", "record": launchplanetest.Record(stable())})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/old/v1/deployments/"+recordID:
			http.Redirect(w, r, "/new/v1/deployments/"+recordID, http.StatusMovedPermanently)
		case r.URL.Path == "/new/v1/deployments/"+recordID && r.Header.Get("Authorization") == "Bearer tok-123":
			w.Write(rec)
		default:
			http.Error(w, "no", http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	c, _ := newClient(t, srv.URL+"/old", "tok-123")
	d, err := c.Deployment(context.Background(), recordID)
	if err != nil {
		t.Fatalf("Deployment() = %v, want nil", err)
	}
	if d.Identity != stable() || d.TraceID != "t-1" {
		t.Errorf("Deployment() = %+v, want the stable identity with trace t-1", d)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	const jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJyZXBvOm8vciIsImF1ZCI6ImxwIn0.c2lnbmF0dXJlLXZhbHVl"
	tokens := []string{jwt, "static-s3cr3t-token-value"}
	ops := []struct {
		name string
		prep func(*launchplanetest.Server)
		call func(*launchplane.Client) error
	}{
		{"read unauthorized", func(*launchplanetest.Server) {}, func(c *launchplane.Client) error {
			_, err := c.Deployment(context.Background(), recordID)
			return err
		}},
		{"read 5xx exhausted", func(s *launchplanetest.Server) { s.FailNext(3, 500) }, func(c *launchplane.Client) error {
			_, err := c.Deployment(context.Background(), recordID)
			return err
		}},
		{"report 5xx", func(s *launchplanetest.Server) { s.FailNext(1, 503) }, func(c *launchplane.Client) error {
			_, err := c.ReportVerification(context.Background(), verification(), "key-1")
			return err
		}},
		{"report unauthorized", func(*launchplanetest.Server) {}, func(c *launchplane.Client) error {
			_, err := c.ReportVerification(context.Background(), verification(), "key-1")
			return err
		}},
	}
	for _, tok := range tokens {
		for _, op := range ops {
			t.Run(op.name+"/"+tok[:6], func(t *testing.T) {
				t.Parallel()
				srv := launchplanetest.NewServer(t, launchplanetest.WithToken("the-right-token"), launchplanetest.WithEchoedToken())
				srv.AddIdentity(stable())
				op.prep(srv)
				c, _ := newClient(t, srv.URL(), tok)
				err := op.call(c)
				if err == nil {
					t.Fatal("call = nil, want an error")
				}
				// The fake did echo it: the test is only meaningful if it could leak.
				reqs := srv.Requests()
				if len(reqs) == 0 || reqs[0].Header.Get("Authorization") != "Bearer "+tok {
					t.Fatalf("the fake did not receive the planted token")
				}
				msg := err.Error()
				for _, part := range append(strings.Split(tok, "."), tok, tok[:10]) {
					if len(part) >= 8 && strings.Contains(msg, part) {
						t.Errorf("error %q contains the token part %q", msg, part)
					}
				}
				if !strings.Contains(msg, "you sent Bearer ***") {
					t.Errorf("error %q, want the echoed token replaced by ***", msg)
				}
			})
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, want string
	}{
		{"empty", " ", "URL is empty"},
		{"scheme", "ftp://lp.example.com", "http:// or https://"},
		{"no host", "https://", "no host"},
		{"credentials", "https://user:pa55word@lp.example.com", "credentials"},
		{"query", "https://lp.example.com/?token=pa55word", "query or fragment"},
		{"fragment", "https://lp.example.com/#pa55word", "query or fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := launchplane.New(tt.url, launchplane.StaticToken("t"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%q) = %v, want %q", tt.url, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "pa55word") {
				t.Errorf("New(%q) = %v, repeats the secret", tt.url, err)
			}
		})
	}
	if _, err := launchplane.New("https://lp.example.com", nil); err == nil {
		t.Error("New(nil token) = nil, want an error")
	}
	c, err := launchplane.New("https://lp.example.com/base", launchplane.StaticToken("t"))
	if err != nil || c.BaseURL() != "https://lp.example.com/base/" {
		t.Errorf("New() = %v, BaseURL %q; want https://lp.example.com/base/", err, c.BaseURL())
	}
}

func TestTokenFunc(t *testing.T) {
	t.Parallel()
	srv := launchplanetest.NewServer(t)
	srv.AddIdentity(stable())
	boom := errors.New("oidc: no id-token permission")
	for _, tt := range []struct {
		name  string
		token func(context.Context) (string, error)
		want  string
	}{
		{"getter fails", func(context.Context) (string, error) { return "", boom }, "get token: oidc"},
		{"empty", launchplane.StaticToken(""), "the token is empty"},
		{"newline", launchplane.StaticToken("a\nb"), "whitespace, control"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := launchplane.New(srv.URL(), tt.token)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Deployment(context.Background(), recordID)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Deployment() = %v, want %q", err, tt.want)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

func verification() launchplane.Verification {
	health, _ := json.Marshal(map[string]any{"status": "ok", "runtime_identity": json.RawMessage(stable().Canonical())})
	return launchplane.Verification{
		Product:            "sellyouroutboard",
		Context:            "sellyouroutboard",
		Instance:           "prod",
		DeploymentRecordID: recordID,
		Status:             "pass",
		VerifiedAt:         time.Date(2026, 5, 10, 14, 20, 0, 0, time.FixedZone("x", 3600)),
		CheckedURLs:        []string{"https://sellyouroutboard.example.com/api/health"},
		TimeoutSeconds:     300,
		HealthPayload:      health,
	}
}

func TestReportVerification(t *testing.T) {
	t.Parallel()
	srv := launchplanetest.NewServer(t, launchplanetest.WithToken("tok-123"))
	srv.AddIdentity(stable())
	c, sl := newClient(t, srv.URL(), "tok-123")
	trace, err := c.ReportVerification(context.Background(), verification(), "stable-verification:sellyouroutboard:prod:42:1")
	if err != nil {
		t.Fatalf("ReportVerification() = %v, want nil", err)
	}
	if trace == "" {
		t.Error("ReportVerification() trace = \"\", want a trace id")
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	r := reqs[0]
	gotHead := map[string]string{
		"method": r.Method, "path": r.Path,
		"authorization":   r.Header.Get("Authorization"),
		"idempotency-key": r.Header.Get("Idempotency-Key"),
		"content-type":    r.Header.Get("Content-Type"),
	}
	wantHead := map[string]string{
		"method": "POST", "path": "/v1/drivers/generic-web/stable-verification",
		"authorization":   "Bearer tok-123",
		"idempotency-key": "stable-verification:sellyouroutboard:prod:42:1",
		"content-type":    "application/json",
	}
	if diff := cmp.Diff(wantHead, gotHead); diff != "" {
		t.Errorf("request mismatch (-want +got):\n%s", diff)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	var health any
	json.Unmarshal(verification().HealthPayload, &health)
	want := map[string]any{
		"product": "sellyouroutboard",
		"verification": map[string]any{
			"context": "sellyouroutboard", "instance": "prod", "deployment_record_id": recordID,
			"verification_status": "pass", "verified_at": "2026-05-10T13:20:00Z",
			"checked_urls":    []any{"https://sellyouroutboard.example.com/api/health"},
			"timeout_seconds": float64(300), "health_payload": health, "failure_summary": "",
		},
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
	vs := srv.Verifications()
	if len(vs) != 1 || vs[0].RuntimeIdentityStatus != identity.StatusMatch {
		t.Errorf("Verifications() = %+v, want one classified match", vs)
	}
	if n := len(sl.all()); n != 0 {
		t.Errorf("sleeps = %d, want 0", n)
	}
}

func TestReportVerificationReplays(t *testing.T) {
	t.Parallel()
	changed := verification()
	changed.Status = "fail"
	changed.FailureSummary = "runtime identity mismatched fields: artifact_id"
	tests := []struct {
		name      string
		first     launchplane.Verification
		second    launchplane.Verification
		secondKey string
		wantErr   error
		sameTrace bool
		wantVerif int
	}{
		{name: "idempotent replay", first: verification(), second: verification(), secondKey: "key-1", sameTrace: true, wantVerif: 1},
		{name: "conflicting replay", first: verification(), second: changed, secondKey: "key-1", wantErr: launchplane.ErrConflict, wantVerif: 1},
		{name: "new key", first: verification(), second: changed, secondKey: "key-2", wantVerif: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := launchplanetest.NewServer(t)
			srv.AddIdentity(stable())
			c, _ := newClient(t, srv.URL(), "tok-123")
			t1, err := c.ReportVerification(context.Background(), tt.first, "key-1")
			if err != nil {
				t.Fatalf("first ReportVerification() = %v, want nil", err)
			}
			t2, err := c.ReportVerification(context.Background(), tt.second, tt.secondKey)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), "409 idempotency_conflict") {
					t.Errorf("second ReportVerification() = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("second ReportVerification() = %v, want nil", err)
			}
			if tt.sameTrace && t1 != t2 {
				t.Errorf("replay trace = %q, want the first answer's %q", t2, t1)
			}
			if !tt.sameTrace && t1 == t2 {
				t.Errorf("second trace = %q, want a new one", t2)
			}
			if n := len(srv.Verifications()); n != tt.wantVerif {
				t.Errorf("Verifications() = %d, want %d", n, tt.wantVerif)
			}
			if n := len(srv.Requests()); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
		})
	}
}

func TestReportVerificationFailures(t *testing.T) {
	t.Parallel()
	noProduct := verification()
	noProduct.Product = ""
	badPayload := verification()
	badPayload.HealthPayload = json.RawMessage(`{"a":`)
	tests := []struct {
		name       string
		v          launchplane.Verification
		key        string
		fail       int
		status     int
		retryAfter string
		wantErr    error // nil: success
		wantText   string
		wantReqs   int
		wantSleeps []time.Duration
	}{
		{name: "5xx not retried", v: verification(), key: "k", fail: 1, status: 503, wantErr: launchplane.ErrOutcomeUnknown, wantText: "not retried: 503", wantReqs: 1},
		{name: "500 not retried", v: verification(), key: "k", fail: 2, status: 500, wantErr: launchplane.ErrOutcomeUnknown, wantReqs: 1},
		{name: "429 retried once", v: verification(), key: "k", fail: 1, status: 429, retryAfter: "3", wantReqs: 2, wantSleeps: []time.Duration{3 * time.Second}},
		{name: "429 twice", v: verification(), key: "k", fail: 2, status: 429, retryAfter: "3", wantErr: launchplane.ErrRateLimited, wantReqs: 2, wantSleeps: []time.Duration{3 * time.Second}},
		{name: "429 longer than 30s", v: verification(), key: "k", fail: 1, status: 429, retryAfter: "31", wantErr: launchplane.ErrRateLimited, wantReqs: 1},
		{name: "429 HTTP date", v: verification(), key: "k", fail: 1, status: 429, retryAfter: "Sun, 10 May 2026 14:20:10 GMT", wantReqs: 2, wantSleeps: []time.Duration{10 * time.Second}},
		{name: "unknown record", v: func() launchplane.Verification { v := verification(); v.DeploymentRecordID = "deployment-x"; return v }(), key: "k", wantErr: launchplane.ErrNotFound, wantReqs: 1},
		{name: "missing product", v: noProduct, key: "k", wantText: "product is empty"},
		{name: "bad health payload", v: badPayload, key: "k", wantText: "health_payload is not valid JSON"},
		{name: "empty key", v: verification(), key: "", wantText: "idempotency key is empty"},
		{name: "key with newline", v: verification(), key: "a\nb", wantText: "idempotency key contains"},
	}
	now := func() time.Time { return time.Date(2026, 5, 10, 14, 20, 0, 0, time.UTC) }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := launchplanetest.NewServer(t)
			srv.AddIdentity(stable())
			srv.FailNextRetryAfter(tt.fail, tt.status, tt.retryAfter)
			c, sl := newClient(t, srv.URL(), "tok-123", launchplane.WithNow(now))
			_, err := c.ReportVerification(context.Background(), tt.v, tt.key)
			switch {
			case tt.wantErr == nil && tt.wantText == "":
				if err != nil {
					t.Errorf("ReportVerification() = %v, want nil", err)
				}
			case err == nil:
				t.Errorf("ReportVerification() = nil, want an error")
			default:
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("ReportVerification() = %v, want errors.Is %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("ReportVerification() = %v, want text %q", err, tt.wantText)
				}
			}
			if n := len(srv.Requests()); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
			if diff := cmp.Diff(tt.wantSleeps, sl.all()); diff != "" {
				t.Errorf("sleeps mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
