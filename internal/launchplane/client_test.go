package launchplane_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/launchplane"
	"github.com/launchplane/runtime-identity/internal/launchplane/launchplanetest"
	"github.com/launchplane/runtime-identity/internal/retry"
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

// recorded is stable() as a record stores it: deployed_at is the finish time.
func recorded() identity.Identity {
	id := stable()
	id.DeployedAt = "2026-05-10T14:15:00Z"
	return id
}

// fakeWith starts a fake holding stable()'s record and product, with a client authenticated by
// a real OIDC token for the fake's audience.
func fakeWith(t *testing.T, opts ...launchplanetest.Option) (*launchplanetest.Server, *launchplane.Client, *clocktest.Fake) {
	t.Helper()
	srv := launchplanetest.NewServer(t, opts...)
	srv.AddIdentity(stable())
	clk := clocktest.New()
	c, err := launchplane.New(srv.URL(), launchplane.StaticToken(srv.Token()), launchplane.WithSleep(clk.Sleep), launchplane.WithNow(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, clk
}

// TestAudience pins the OIDC audience and the request origin against WHATWG's URL, as Node
// computes `new URL(base).host` and `new URL(route, base)` (the expectations were produced with
// Node 20's URL, the runtime of cbusillo/launchplane's launchplane-request action).
func TestAudience(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base, audience, origin, ignored string
	}{
		{"https://lp.example.com", "lp.example.com", "https://lp.example.com", ""},
		{"https://lp.example.com:443", "lp.example.com", "https://lp.example.com", ""},
		{"https://LP.Example.COM:443/base/path/", "lp.example.com", "https://lp.example.com", "/base/path"},
		{"http://lp.example.com:80", "lp.example.com", "http://lp.example.com", ""},
		{"http://lp.example.com:443", "lp.example.com:443", "http://lp.example.com:443", ""},
		{"https://lp.example.com:8443", "lp.example.com:8443", "https://lp.example.com:8443", ""},
		{"https://lp.example.com:08443", "lp.example.com:8443", "https://lp.example.com:8443", ""},
		{"https://lp.example.com:0443", "lp.example.com", "https://lp.example.com", ""},
		{"https://lp.example.com.:443", "lp.example.com.", "https://lp.example.com.", ""},
		{"http://127.0.0.1:8080", "127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"https://[::1]:443", "[::1]", "https://[::1]", ""},
		{"https://[2001:DB8:0:0:1:0:0:1]/", "[2001:db8::1:0:0:1]", "https://[2001:db8::1:0:0:1]", ""},
		{"https://[::ffff:1.2.3.4]", "[::ffff:102:304]", "https://[::ffff:102:304]", ""},
		{"https://[1:0:0:2:0:0:0:3]", "[1:0:0:2::3]", "https://[1:0:0:2::3]", ""},
		{"http://localhost:80/x", "localhost", "http://localhost", "/x"},
		{"https://lp.example.com:/", "lp.example.com", "https://lp.example.com", ""},
	}
	for _, tt := range tests {
		aud, err := launchplane.Audience(tt.base)
		if err != nil || aud != tt.audience {
			t.Errorf("Audience(%q) = %q, %v; want %q", tt.base, aud, err, tt.audience)
		}
		c, err := launchplane.New(tt.base, launchplane.StaticToken("t"))
		if err != nil {
			t.Errorf("New(%q) = %v", tt.base, err)
			continue
		}
		if launchplane.ClientOrigin(c) != tt.origin || launchplane.ClientAudience(c) != tt.audience || c.IgnoredPath() != tt.ignored {
			t.Errorf("New(%q): BaseURL %q Audience %q IgnoredPath %q; want %q %q %q", tt.base, launchplane.ClientOrigin(c), launchplane.ClientAudience(c), c.IgnoredPath(), tt.origin, tt.audience, tt.ignored)
		}
	}
}

func TestNewRefuses(t *testing.T) {
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
		{"international name", "https://bücher.example", "plain ASCII"},
		{"shorthand IPv4", "http://127.1", "dotted IPv4"},
		{"hex IPv4", "http://0x7f.0.0.1", "dotted IPv4"},
		{"port out of range", "https://lp.example.com:70000", "invalid port"},
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
}

// TestRoutesAreAbsolute checks that a path in the base URL is not used: the request goes to
// the route on the origin, as Launchplane's client sends it.
func TestRoutesAreAbsolute(t *testing.T) {
	t.Parallel()
	srv := launchplanetest.NewServer(t)
	srv.AddIdentity(stable())
	c, err := launchplane.New(srv.URL()+"/base/", launchplane.StaticToken(srv.Token()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Deployment(context.Background(), recordID); err != nil {
		t.Fatalf("Deployment() = %v", err)
	}
	if got := srv.Requests()[0].Path; got != "/v1/deployments/"+recordID {
		t.Errorf("path = %q, want the absolute route", got)
	}
}

func TestDeployment(t *testing.T) {
	t.Parallel()
	srv, c, _ := fakeWith(t)
	bare := launchplanetest.NewRecord(stable())
	bare.RecordID, bare.RuntimeIdentity = "deployment-20260101T000000Z-sellyouroutboard-prod", nil
	srv.AddDeployment(bare)
	legacy := bare
	legacy.RecordID, legacy.Legacy = "deployment-20250101T000000Z-sellyouroutboard-prod", true
	srv.AddDeployment(legacy)

	d, err := c.Deployment(context.Background(), recordID)
	if err != nil {
		t.Fatalf("Deployment() = %v", err)
	}
	want := recorded()
	if d.Expected == nil || *d.Expected != want || d.RecordID != recordID || d.Context != "sellyouroutboard" || d.Instance != "prod" ||
		d.ArtifactID != want.ArtifactID || d.SourceGitRef != want.SourceGitRef || !strings.HasPrefix(d.TraceID, "launchplane_req_") ||
		d.URL != srv.URL()+"/v1/deployments/"+recordID {
		t.Errorf("Deployment() = %+v", d)
	}
	req := srv.Requests()[0]
	if req.Method != http.MethodGet || req.Header.Get("Accept") != "application/json" || !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer eyJ") {
		t.Errorf("request = %s %s %v", req.Method, req.Path, req.Header)
	}
	for _, id := range []string{bare.RecordID, legacy.RecordID} {
		d, err := c.Deployment(context.Background(), id)
		if err != nil || d.Expected != nil {
			t.Errorf("Deployment(%s) = %+v, %v; want no identity and no error", id, d, err)
		}
	}
}

// TestDeploymentRefusals checks each refusal's typed error: the service's status, code and
// trace_id as fields, matched by sentinel, never by text.
func TestDeploymentRefusals(t *testing.T) {
	t.Parallel()
	denyAll := launchplanetest.WithPolicy(launchplanetest.Policy{})
	tests := []struct {
		name     string
		opts     []launchplanetest.Option
		id       string
		token    string // "" = a valid token
		sentinel error
		status   int
		code     string
	}{
		{"unknown record", nil, "deployment-nope", "", launchplane.ErrNotFound, 404, launchplane.CodeNotFound},
		{"not allowed", []launchplanetest.Option{denyAll}, recordID, "", launchplane.ErrUnauthorized, 403, launchplane.CodeAuthorizationDenied},
		{"unknown record before authorization", []launchplanetest.Option{denyAll}, "deployment-nope", "", launchplane.ErrNotFound, 404, launchplane.CodeNotFound},
		{"bad token", nil, recordID, "not-a-jwt", launchplane.ErrUnauthorized, 401, launchplane.CodeAuthenticationRequired},
		{"no database", []launchplanetest.Option{launchplanetest.WithoutDatabase()}, recordID, "", launchplane.ErrStorageRequired, 503, launchplane.CodeDatabaseStorageRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c, _ := fakeWith(t, tt.opts...)
			if tt.token != "" {
				var err error
				c, err = launchplane.New(srv.URL(), launchplane.StaticToken(tt.token))
				if err != nil {
					t.Fatal(err)
				}
			}
			_, err := c.Deployment(context.Background(), tt.id)
			var ae *launchplane.APIError
			if !errors.Is(err, tt.sentinel) || !errors.As(err, &ae) {
				t.Fatalf("Deployment() = %v, want %v as *APIError", err, tt.sentinel)
			}
			if ae.StatusCode != tt.status || ae.Code != tt.code || !strings.HasPrefix(ae.TraceID, "launchplane_req_") {
				t.Errorf("APIError = %+v, want %d %s with a trace_id", ae, tt.status, tt.code)
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("requests = %d, want 1 (refusals are not retried)", n)
			}
		})
	}
}

// TestReadRetries checks reads through internal/retry: a 5xx or a dropped connection is retried
// on the backoff, a 429 after its Retry-After, and a wait longer than MaxRetryAfter gives up.
func TestReadRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     func(*launchplanetest.Server)
		wantErr   error
		wantSleep []time.Duration
		wantReqs  int
	}{
		{"two 503 then ok", func(s *launchplanetest.Server) { s.FailNext(2, 503) }, nil, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}, 3},
		{"three 500 give up", func(s *launchplanetest.Server) { s.FailNext(3, 500) }, nil, []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}, 3},
		{"429 waits its Retry-After", func(s *launchplanetest.Server) { s.FailNextRetryAfter(1, 429, "7") }, nil, []time.Duration{7 * time.Second}, 2},
		{"429 asking too long", func(s *launchplanetest.Server) { s.FailNextRetryAfter(1, 429, "120") }, retry.ErrWaitTooLong, nil, 1},
		{"429 without Retry-After", func(s *launchplanetest.Server) { s.FailNextRetryAfter(1, 429, "") }, launchplane.ErrRateLimited, nil, 1},
		{"dropped connection", func(s *launchplanetest.Server) { s.DropNext(1) }, nil, []time.Duration{250 * time.Millisecond}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c, clk := fakeWith(t)
			tt.fault(srv)
			_, err := c.Deployment(context.Background(), recordID)
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Deployment() = %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && tt.name == "three 500 give up" && err == nil:
				t.Error("Deployment() = nil, want the last 500")
			case tt.wantErr == nil && tt.name != "three 500 give up" && err != nil:
				t.Errorf("Deployment() = %v, want nil", err)
			}
			if diff := cmp.Diff(tt.wantSleep, clk.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if n := len(srv.Requests()); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestContextWinsOverRetry(t *testing.T) {
	t.Parallel()
	srv := launchplanetest.NewServer(t)
	srv.AddIdentity(stable())
	srv.FailNext(3, 503)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := launchplane.New(srv.URL(), launchplane.StaticToken(srv.Token()), launchplane.WithSleep(func(ctx context.Context, _ time.Duration) error {
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

// TestTransportErrors checks a refused connection: a read is retried, a report is not (the
// outcome is unknown only when the request may have left; the error says so either way).
func TestTransportErrors(t *testing.T) {
	t.Parallel()
	clk := clocktest.New()
	c, err := launchplane.New(closedURL(t), launchplane.StaticToken("tok-123"), launchplane.WithSleep(clk.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Deployment(context.Background(), recordID); err == nil || len(clk.Sleeps()) != 2 {
		t.Errorf("Deployment() = %v after %d sleeps, want an error after 2", err, len(clk.Sleeps()))
	}
	_, err = c.PostStableVerification(context.Background(), mustRequest(t, reportInput(identity.StatusMatch, healthOf(stable()))))
	if !errors.Is(err, launchplane.ErrOutcomeUnknown) || len(clk.Sleeps()) != 2 {
		t.Errorf("PostStableVerification() = %v after %d sleeps, want ErrOutcomeUnknown and no new sleep", err, len(clk.Sleeps()))
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
	target := strings.Replace(sink.URL, "127.0.0.1", "localhost", 1) + "/v1/deployments/x?token=abc"
	var hits int
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	for _, opts := range [][]launchplane.Option{nil, {launchplane.WithHTTPClient(&http.Client{})}} {
		c, err := launchplane.New(redirector.URL, launchplane.StaticToken(tok), opts...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Deployment(context.Background(), recordID)
		if err == nil || !strings.Contains(err.Error(), "refused a redirect to another host") {
			t.Errorf("Deployment() = %v, want a refused redirect", err)
		}
		if err != nil && (strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), "token=abc")) {
			t.Errorf("Deployment() = %v, leaks the token or the query", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) != 0 || hits != 2 {
		t.Errorf("other host got %d requests, redirector %d hits; want 0 and 2", len(leaked), hits)
	}
}

func TestSameHostRedirectFollowed(t *testing.T) {
	t.Parallel()
	srv := launchplanetest.NewServer(t)
	srv.AddIdentity(stable())
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/moved/") {
			http.Redirect(w, r, "/moved"+r.URL.Path, http.StatusMovedPermanently)
			return
		}
		req, _ := http.NewRequest(r.Method, srv.URL()+strings.TrimPrefix(r.URL.Path, "/moved"), nil)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, "proxy", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		_, _ = w.Write(b.Bytes())
	}))
	t.Cleanup(proxy.Close)
	c, err := launchplane.New(proxy.URL, launchplane.StaticToken(srv.Token()))
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Deployment(context.Background(), recordID)
	if err != nil || d.Expected == nil || *d.Expected != recorded() {
		t.Errorf("Deployment() = %+v, %v; want the recorded identity", d, err)
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
		c, err := launchplane.New(srv.URL(), tt.token)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Deployment(context.Background(), recordID)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Deployment() = %v, want %q", tt.name, err, tt.want)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("requests = %d, want 0", n)
	}
}

// TestTokenNeverInErrors plants a real signed JWT and a static token with a fake that echoes
// the Authorization header into its messages, and checks no error text holds any part of them.
func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	ops := []struct {
		name string
		prep func(*launchplanetest.Server)
		call func(*launchplane.Client) error
	}{
		{"read refused", func(*launchplanetest.Server) {}, func(c *launchplane.Client) error {
			_, err := c.Deployment(context.Background(), "deployment-nope")
			return err
		}},
		{"read 5xx exhausted", func(s *launchplanetest.Server) { s.FailNext(3, 500) }, func(c *launchplane.Client) error {
			_, err := c.Deployment(context.Background(), recordID)
			return err
		}},
		{"report 5xx", func(s *launchplanetest.Server) { s.FailNext(1, 503) }, func(c *launchplane.Client) error {
			_, err := c.PostStableVerification(context.Background(), mustRequest(t, reportInput(identity.StatusMatch, healthOf(stable()))))
			return err
		}},
		{"report refused", func(*launchplanetest.Server) {}, func(c *launchplane.Client) error {
			in := reportInput(identity.StatusMatch, healthOf(stable()))
			in.Product = "nope"
			_, err := c.PostStableVerification(context.Background(), mustRequest(t, in))
			return err
		}},
	}
	for _, op := range ops {
		for _, static := range []bool{false, true} {
			t.Run(op.name, func(t *testing.T) {
				t.Parallel()
				const staticTok = "static-s3cr3t-token-value"
				srv := launchplanetest.NewServer(t, launchplanetest.WithEchoedToken(), launchplanetest.WithStaticToken(staticTok, launchplanetest.StaticRule{}))
				srv.AddIdentity(stable())
				op.prep(srv)
				tok := srv.Token()
				if static {
					tok = staticTok
				}
				c, err := launchplane.New(srv.URL(), launchplane.StaticToken(tok), launchplane.WithSleep(clocktest.New().Sleep))
				if err != nil {
					t.Fatal(err)
				}
				err = op.call(c)
				if err == nil {
					t.Fatal("call = nil, want an error")
				}
				if reqs := srv.Requests(); reqs[0].Header.Get("Authorization") != "Bearer "+tok {
					t.Fatal("the fake did not receive the planted token")
				}
				msg := err.Error()
				for _, part := range append(strings.Split(tok, "."), tok, tok[:10]) {
					if len(part) >= 8 && strings.Contains(msg, part) {
						t.Errorf("error %q contains the token part %q", msg, part)
					}
				}
			})
		}
	}
}

func TestProductEnvironment(t *testing.T) {
	t.Parallel()
	srv, c, _ := fakeWith(t)
	e, err := c.ProductEnvironment(context.Background(), "sellyouroutboard", "prod")
	if err != nil {
		t.Fatalf("ProductEnvironment() = %v", err)
	}
	want := recorded()
	if e.Expected == nil || *e.Expected != want || e.Context != "sellyouroutboard" || e.Environment != "prod" ||
		e.BaseURL != "https://sellyouroutboard.example.com" || e.HealthURL != "https://sellyouroutboard.example.com/api/health" ||
		e.TrustState != "recorded" || e.URL != srv.URL()+"/v1/products/sellyouroutboard/environments/prod" {
		t.Errorf("ProductEnvironment() = %+v", e)
	}
	_, err = c.ProductEnvironment(context.Background(), "sellyouroutboard", "staging")
	var ae *launchplane.APIError
	if !errors.Is(err, launchplane.ErrNotFound) || !errors.As(err, &ae) || ae.Code != launchplane.CodeNotFound {
		t.Errorf("unknown environment: %v, want ErrNotFound", err)
	}
	srv.AddProduct(launchplanetest.Product{Product: "empty", DisplayName: "Empty", Repository: "acme/empty", DriverID: "generic-web", Lanes: []launchplanetest.Lane{{Context: "empty", Instance: "prod"}}})
	e, err = c.ProductEnvironment(context.Background(), "empty", "prod")
	if err != nil || e.Expected != nil || e.TrustState != "missing" {
		t.Errorf("lane without a record: %+v, %v; want no expected identity", e, err)
	}
}
