package dokploy

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/contracttest"
	"github.com/launchplane/runtime-identity/internal/retry"
)

// baseURLPath mounts the test API under a prefix, as go-github's tests do, so
// a client that drops the instance's base path fails.
const baseURLPath = "/dokploy-prefix"

const testKey = "test-api-key-9f8e7d6c5b4a"

// setup starts a test server whose mux is mounted under baseURLPath and
// returns a client for it with a fake clock. Handlers see paths such as
// "/api/application.one". Requests without the test key get a 401.
func setup(t testing.TB, opts ...Option) (*Client, *http.ServeMux, *clocktest.Fake) {
	t.Helper()
	mux := http.NewServeMux()
	api := http.NewServeMux()
	api.Handle(baseURLPath+"/", http.StripPrefix(baseURLPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-api-key") != testKey {
			writeJSON(w, http.StatusUnauthorized, `{"message":"Unauthorized"}`)
			return
		}
		mux.ServeHTTP(w, r)
	})))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request %s %s outside the base URL path %s", r.Method, r.URL.Path, baseURLPath)
		http.Error(w, "outside base path", http.StatusBadGateway)
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	clk := clocktest.New()
	all := append([]Option{WithSleep(clk.Sleep), WithClock(clk.Now)}, opts...)
	c, err := New(srv.URL+baseURLPath, testKey, all...)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return c, mux, clk
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// testRequest checks the method, the auth and content headers of r and
// returns its body.
func testRequest(t *testing.T, r *http.Request, method string) string {
	t.Helper()
	if r.Method != method {
		t.Errorf("request method = %v, want %v", r.Method, method)
	}
	if got := r.Header.Get("x-api-key"); got != testKey {
		t.Errorf("x-api-key header not the test key")
	}
	if r.Header.Get("Authorization") != "" {
		t.Errorf("Authorization header set, want only x-api-key")
	}
	body, _ := io.ReadAll(r.Body)
	if method == http.MethodPost {
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", got)
		}
	} else if len(body) != 0 {
		t.Errorf("GET carries a body of %d bytes", len(body))
	}
	return string(body)
}

// testJSONBody compares a JSON request body with want, key by key.
func testJSONBody(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("request body is not JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

func TestClientNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		url     string
		key     string
		want    string // BaseURL()
		wantErr string
	}{
		{name: "host", url: "https://dokploy.example.com", key: "k", want: "https://dokploy.example.com/"},
		{name: "trailing slash", url: "https://dokploy.example.com/", key: "k", want: "https://dokploy.example.com/"},
		{name: "api suffix dropped", url: "https://dokploy.example.com/api", key: "k", want: "https://dokploy.example.com/"},
		{name: "api suffix with slash", url: "http://10.0.0.5:3000/api/", key: "k", want: "http://10.0.0.5:3000/"},
		{name: "sub path kept", url: "https://example.com/dokploy", key: "k", want: "https://example.com/dokploy/"},
		{name: "spaces trimmed", url: "  https://d.example.com \n", key: "k", want: "https://d.example.com/"},
		{name: "empty", url: "", key: "k", wantErr: "dokploy: URL is empty"},
		{name: "no scheme", url: "dokploy.example.com", key: "k", wantErr: "dokploy: URL must start with http:// or https://"},
		{name: "ftp", url: "ftp://dokploy.example.com", key: "k", wantErr: "dokploy: URL must start with http:// or https://"},
		{name: "no host", url: "https://", key: "k", wantErr: "dokploy: URL has no host"},
		{name: "port only", url: "https://:443", key: "k", wantErr: "dokploy: URL has no host"},
		{name: "credentials", url: "https://admin:hunter2@dokploy.example.com", key: "k", wantErr: "dokploy: URL must not contain credentials; pass the API key separately"},
		{name: "query", url: "https://dokploy.example.com/?token=hunter2", key: "k", wantErr: "dokploy: URL must not have a query or fragment"},
		{name: "fragment", url: "https://dokploy.example.com/#x", key: "k", wantErr: "dokploy: URL must not have a query or fragment"},
		{name: "unparsable", url: "https://dokploy.example.com/%zz", key: "k", wantErr: "dokploy: URL does not parse"},
		{name: "empty key", url: "https://dokploy.example.com", key: "", wantErr: "dokploy: API key is empty"},
		{name: "key with newline", url: "https://dokploy.example.com", key: "abc\nX-Evil: 1", wantErr: "dokploy: API key contains control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.url, tt.key)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("New() error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("New() error %q repeats a credential", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() error = %v", err)
			}
			if got := c.base.String(); got != tt.want {
				t.Errorf("BaseURL() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClientRetryGET(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		statuses   []int // answers in order; the last repeats
		wantErr    bool
		wantStatus int
		wantCalls  int
		wantSleeps []time.Duration
	}{
		{name: "5xx burst recovered", statuses: []int{503, 500, 200}, wantCalls: 3,
			wantSleeps: []time.Duration{500 * time.Millisecond, time.Second}},
		{name: "5xx persists", statuses: []int{502}, wantErr: true, wantStatus: 502, wantCalls: 4,
			wantSleeps: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}},
		{name: "404 not retried", statuses: []int{404}, wantErr: true, wantStatus: 404, wantCalls: 1},
		{name: "400 not retried", statuses: []int{400}, wantErr: true, wantStatus: 400, wantCalls: 1},
		{name: "429 not retried", statuses: []int{429}, wantErr: true, wantStatus: 429, wantCalls: 1},
		{name: "first try succeeds", statuses: []int{200}, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, clk := setup(t)
			var mu sync.Mutex
			n := 0
			mux.HandleFunc("/api/deployment.queueList", func(w http.ResponseWriter, r *http.Request) {
				testRequest(t, r, http.MethodGet)
				mu.Lock()
				st := tt.statuses[min(n, len(tt.statuses)-1)]
				n++
				mu.Unlock()
				if st == 200 {
					writeJSON(w, 200, `[]`)
					return
				}
				writeJSON(w, st, `{"message":"Internal server error","code":"INTERNAL_SERVER_ERROR"}`)
			})
			_, err := c.Deployment.QueueList(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("QueueList() error = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				var ae *APIError
				if !errors.As(err, &ae) || ae.StatusCode != tt.wantStatus {
					t.Errorf("QueueList() error = %v, want an *APIError with status %d", err, tt.wantStatus)
				}
			}
			if got := c.requestCounts()["deployment.queueList"]; got != tt.wantCalls {
				t.Errorf("Calls()[deployment.queueList] = %v, want %v", got, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantSleeps, clk.Sleeps()); diff != "" {
				t.Errorf("sleeps mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientRetryNetworkError(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	var mu sync.Mutex
	n := 0
	mux.HandleFunc("/api/deployment.queueList", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first { // drop the connection without an answer
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		writeJSON(w, 200, `[{"id":"job-1","state":"waiting","data":{"applicationId":"a1"}}]`)
	})
	jobs, err := c.Deployment.QueueList(context.Background())
	if err != nil {
		t.Fatalf("QueueList() error = %v", err)
	}
	if len(jobs) != 1 || jobs[0].ID != "job-1" {
		t.Errorf("QueueList() = %+v, want job-1", jobs)
	}
	if got := c.requestCounts()["deployment.queueList"]; got != 2 {
		t.Errorf("Calls()[deployment.queueList] = %v, want 2", got)
	}
}

func TestClientPOSTNotRetried(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 502, 503} {
		c, mux, clk := setup(t)
		mux.HandleFunc("/api/application.deploy", func(w http.ResponseWriter, r *http.Request) {
			testRequest(t, r, http.MethodPost)
			writeJSON(w, status, `{"message":"Internal server error","code":"INTERNAL_SERVER_ERROR"}`)
		})
		_, err := c.Application.Deploy(context.Background(), "app-1", nil)
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != status {
			t.Errorf("Deploy() error = %v, want an *APIError with status %d", err, status)
		}
		if got := c.requestCounts()["application.deploy"]; got != 1 {
			t.Errorf("Calls()[application.deploy] = %v, want 1", got)
		}
		if len(clk.Sleeps()) != 0 {
			t.Errorf("sleeps = %v, want none", clk.Sleeps())
		}
	}
}

func TestClientPOSTNetworkErrorNotRetried(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/compose.deploy", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	if _, err := c.Compose.Deploy(context.Background(), "cmp-1", nil); err == nil {
		t.Fatal("Deploy() error = nil, want a network error")
	}
	if got := c.requestCounts()["compose.deploy"]; got != 1 {
		t.Errorf("Calls()[compose.deploy] = %v, want 1", got)
	}
}

func TestClientContextWins(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/deployment.queueList", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `{}`)
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Deployment.QueueList(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("QueueList() error = %v, want context.Canceled", err)
	}
	if got := c.requestCounts()["deployment.queueList"]; got > 1 {
		t.Errorf("Calls()[deployment.queueList] = %v, want at most 1", got)
	}
}

// TestClientRetryDeadline checks that a GET never waits for a retry past its
// context's deadline: the next backoff delay (2s) does not fit before it.
func TestClientRetryDeadline(t *testing.T) {
	t.Parallel()
	c, mux, clk := setup(t, WithRetry(RetryPolicy{Attempts: 4, Initial: 2 * time.Second, Max: 4 * time.Second}))
	mux.HandleFunc("/api/deployment.queueList", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `{"message":"Internal server error","code":"INTERNAL_SERVER_ERROR"}`)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := c.Deployment.QueueList(ctx)
	var ae *APIError
	if !errors.Is(err, retry.ErrDeadline) || !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Errorf("QueueList() error = %v, want retry.ErrDeadline wrapping the 503", err)
	}
	if got := c.requestCounts()["deployment.queueList"]; got != 1 {
		t.Errorf("Calls()[deployment.queueList] = %v, want 1", got)
	}
	if len(clk.Sleeps()) != 0 {
		t.Errorf("sleeps = %v, want none", clk.Sleeps())
	}
}

// TestClientHonoursDeadline checks that a request to a Dokploy that stops
// answering ends at ctx's deadline, not at the HTTP client's 30s backstop,
// and is not retried.
func TestClientHonoursDeadline(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/application.one", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // hang until the client gives up
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Application.One(ctx, "app-1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("One() error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("One() returned after %v, want about 200ms", d)
	}
	if got := c.requestCounts()["application.one"]; got != 1 {
		t.Errorf("Calls()[application.one] = %v, want 1", got)
	}
}

func TestClientRedirectRefused(t *testing.T) {
	t.Parallel()
	var leaked sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store("key", r.Header.Get("x-api-key"))
	}))
	t.Cleanup(other.Close)
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/application.one", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/api/application.one?applicationId=a1", http.StatusFound)
	})
	_, err := c.Application.One(context.Background(), "a1")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusFound {
		t.Fatalf("One() error = %v, want an *APIError with status 302", err)
	}
	if _, ok := leaked.Load("key"); ok {
		t.Error("the redirect target received a request")
	}
	if strings.Contains(err.Error(), "applicationId=") {
		t.Errorf("One() error %q carries the redirect's query", err)
	}
}

func TestClientCalls(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/deployment.all", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `[]`) })
	mux.HandleFunc("/api/application.deploy", func(w http.ResponseWriter, r *http.Request) {})
	ctx := context.Background()
	for range 3 {
		if _, err := c.Deployment.All(ctx, "a1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Application.Deploy(ctx, "a1", nil); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"deployment.all": 3, "application.deploy": 1}
	if diff := cmp.Diff(want, c.requestCounts()); diff != "" {
		t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
	}
	// Calls returns a copy.
	c.requestCounts()["deployment.all"] = 99
	if got := c.requestCounts()["deployment.all"]; got != 3 {
		t.Errorf("Calls()[deployment.all] = %v after editing a copy, want 3", got)
	}
}

func TestClientUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	clk := clocktest.New()
	c, err := New("http://"+addr, testKey, WithSleep(clk.Sleep), WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Application.One(context.Background(), "app-secret-id-query")
	if err == nil {
		t.Fatal("One() error = nil, want a network error")
	}
	if got := c.requestCounts()["application.one"]; got != DefaultRetry.Attempts {
		t.Errorf("Calls()[application.one] = %v, want %v", got, DefaultRetry.Attempts)
	}
	if s := err.Error(); strings.Contains(s, "applicationId=") || strings.Contains(s, "?") {
		t.Errorf("One() error %q carries the query string", s)
	}
	if !strings.HasPrefix(err.Error(), "dokploy: read application app-secret-id-query: gave up after 4 attempts: GET application.one: ") {
		t.Errorf("One() error = %q, want the operation named", err)
	}
}

// annotation is the exact form of the operation line in a method's doc comment.
var annotation = regexp.MustCompile(`^// Dokploy API: (GET|POST) ([a-z][A-Za-z]*\.[a-z][A-Za-z]*)$`)

// parseAnnotations reads the package's non-test sources and returns, per
// service method ("ApplicationService.One"), its annotated operations, and
// every annotation found anywhere ("GET application.one").
func parseAnnotations(t *testing.T) (methods map[string][]string, all []string) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	methods = map[string][]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(c.Text, "//")), "Dokploy API") {
					continue
				}
				m := annotation.FindStringSubmatch(c.Text)
				if m == nil {
					t.Errorf("%s: malformed operation line %q, want the form \"// Dokploy API: GET application.one\"", fset.Position(c.Pos()), c.Text)
					continue
				}
				all = append(all, m[1]+" "+m[2])
			}
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || !fd.Name.IsExported() {
				continue
			}
			star, ok := fd.Recv.List[0].Type.(*ast.StarExpr)
			if !ok {
				continue
			}
			recv, ok := star.X.(*ast.Ident)
			if !ok || !strings.HasSuffix(recv.Name, "Service") {
				continue
			}
			key := recv.Name + "." + fd.Name.Name
			methods[key] = []string{}
			if fd.Doc == nil {
				continue
			}
			for _, c := range fd.Doc.List {
				if m := annotation.FindStringSubmatch(c.Text); m != nil {
					methods[key] = append(methods[key], m[1]+" "+m[2])
				}
			}
		}
	}
	return methods, all
}

// TestClientOperationsInContract checks every annotated operation against
// Dokploy's OpenAPI document, and that every service method names exactly one
// operation of its own router.
func TestClientOperationsInContract(t *testing.T) {
	t.Parallel()
	methods, all := parseAnnotations(t)
	wantOps := []string{
		"GET application.one", "POST application.saveEnvironment",
		"POST application.deploy", "POST application.redeploy",
		"GET application.search", "GET compose.search",
		"GET compose.one", "POST compose.update",
		"POST compose.deploy", "POST compose.redeploy",
		"GET deployment.all", "GET deployment.allByCompose", "GET deployment.queueList", "GET deployment.readLogs",
		"GET deployment.allByType", "POST rollback.rollback",
	}
	if diff := cmp.Diff(wantOps, all, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("annotated operations mismatch (-want +got):\n%s", diff)
	}
	for key, ops := range methods {
		if len(ops) != 1 {
			t.Errorf("%s names %d operations %v, want exactly 1", key, len(ops), ops)
			continue
		}
		router := strings.ToLower(strings.TrimSuffix(strings.Split(key, ".")[0], "Service"))
		if _, op, _ := strings.Cut(ops[0], " "); !strings.HasPrefix(op, router+".") {
			t.Errorf("%s names %s, want an operation of the %s router", key, ops[0], router)
		}
	}
	spec := contracttest.Load(t, contracttest.Dokploy)
	for _, a := range all {
		method, op, _ := strings.Cut(a, " ")
		if !spec.HasOperation(method, "/"+op) {
			t.Errorf("HasOperation(%s, /%s) = false, want true", method, op)
		}
	}
}

// TestClientRequestsMatchContract sends one request per operation and
// validates each against the OpenAPI document (path, method, query and body
// schemas), and checks that the operations sent are exactly those annotated.
func TestClientRequestsMatchContract(t *testing.T) {
	t.Parallel()
	_, all := parseAnnotations(t)
	spec := contracttest.Load(t, contracttest.Dokploy)
	c, mux, _ := setup(t)
	var mu sync.Mutex
	sent := map[string]bool{}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		op := strings.TrimPrefix(r.URL.Path, "/api/")
		mu.Lock()
		sent[r.Method+" "+op] = true
		mu.Unlock()
		if err := spec.ValidateRequest(r, body); err != nil {
			t.Errorf("ValidateRequest(%s %s) = %v, want nil", r.Method, op, err)
		}
		switch op {
		case "application.one":
			writeJSON(w, 200, applicationJSON)
		case "compose.one":
			writeJSON(w, 200, composeJSON)
		case "deployment.all", "deployment.allByCompose", "deployment.queueList", "deployment.allByType":
			writeJSON(w, 200, `[]`)
		case "rollback.rollback":
			w.WriteHeader(200)
		case "deployment.readLogs":
			writeJSON(w, 200, `"log"`)
		case "application.search":
			writeJSON(w, 200, `{"items":[{"applicationId":"app-1","name":"shop","appName":"shop"}],"total":1}`)
		case "compose.search":
			writeJSON(w, 200, `{"items":[{"composeId":"cmp-1","name":"shop","appName":"shop"}],"total":1}`)
		default:
			writeJSON(w, 200, `true`)
		}
	})
	ctx := context.Background()
	app, cmpT := ApplicationTarget("app-1"), ComposeTarget("cmp-1")
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := c.Get(ctx, app)
	check(err)
	check(c.WriteEnv(ctx, st, "A=1"))
	check(c.Application.SaveEnvironment(ctx, &SaveEnvironment{ApplicationID: "app-1", Env: "A=1"})) // nulls
	_, err = c.Deploy(ctx, app, false)
	check(err)
	_, err = c.Application.Redeploy(ctx, "app-1", &DeployOptions{Title: "t", Description: "d"})
	check(err)
	cst, err := c.Get(ctx, cmpT)
	check(err)
	check(c.WriteEnv(ctx, cst, "A=1"))
	_, err = c.Deploy(ctx, cmpT, false)
	check(err)
	_, err = c.Deploy(ctx, cmpT, true)
	check(err)
	_, err = c.Snapshot(ctx, app)
	check(err)
	_, err = c.Snapshot(ctx, cmpT)
	check(err)
	_, err = c.Deployment.QueueList(ctx)
	check(err)
	_, err = c.Deployment.ReadLogs(ctx, "dep-1", 40)
	check(err)
	_, _, err = c.FindByAppName(ctx, KindApplication, "shop")
	check(err)
	_, _, err = c.FindByAppName(ctx, KindCompose, "shop")
	check(err)
	_, err = c.Application.Search(ctx, SearchOptions{AppName: "shop", Limit: 100, Offset: 100})
	check(err)
	_, err = c.DeploymentsByType(ctx, app)
	check(err)
	_, err = c.DeploymentsByType(ctx, cmpT)
	check(err)
	check(c.Rollback(ctx, "rb-1"))

	want := map[string]bool{}
	for _, a := range all {
		want[a] = true
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("operations sent mismatch (-annotated +sent):\n%s", diff)
	}
}
