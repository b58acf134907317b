package tenant

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// newTenant is a minimal tenant: a health endpoint embedding HealthValue, a plain page, the
// Odoo-shaped health, all behind the middleware.
func newTenant(t *testing.T, rt *Runtime) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "runtime_identity": rt.HealthValue()})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello\n")
	})
	mux.Handle("/launchplane/health", rt.OdooHealthHandler())
	srv := httptest.NewServer(rt.Middleware(mux))
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, body}
}

func TestSurfaces(t *testing.T) {
	t.Parallel()
	for _, tc := range envCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := FromEnv(envFunc(tc.env))
			srv := newTenant(t, rt)
			paths := []string{"/", "/api/health", WellKnownPath, "/launchplane/health", "/nowhere"}
			answers := map[string]answer{}
			for _, p := range paths {
				a := do(t, http.MethodGet, srv.URL+p)
				answers[p] = a
				if strings.Contains(string(a.body), secret) {
					t.Errorf("GET %s body echoes env text: %s", p, a.body)
				}
				// Identity headers are on every response exactly when the identity is usable.
				dep, dig := a.header.Get(HeaderDeployment), a.header.Get(HeaderDigest)
				wantDep, wantDig := "", ""
				if tc.state == StateOK {
					wantDig = tc.want.Digest()
					if tc.deployment {
						wantDep = tc.want.DeploymentRecordID
					}
				}
				if dep != wantDep || dig != wantDig {
					t.Errorf("GET %s headers = %q, %q; want %q, %q", p, dep, dig, wantDep, wantDig)
				}
			}
			if a := answers["/"]; a.code != http.StatusOK || string(a.body) != "hello\n" {
				t.Errorf("GET / = %d %q, want 200 %q", a.code, a.body, "hello\n")
			}
			if a := answers["/nowhere"]; a.code != http.StatusNotFound {
				t.Errorf("GET /nowhere = %d, want 404", a.code)
			}

			wk := answers[WellKnownPath]
			checkJSONNoStore(t, "GET "+WellKnownPath, wk)
			odoo := answers["/launchplane/health"]
			checkJSONNoStore(t, "GET /launchplane/health", odoo)
			switch tc.state {
			case StateOK:
				if wk.code != http.StatusOK || string(wk.body) != string(tc.want.Canonical()) {
					t.Errorf("GET well-known = %d %s, want 200 %s", wk.code, wk.body, tc.want.Canonical())
				}
				sum := sha256.Sum256(wk.body)
				if got := "sha256:" + hex.EncodeToString(sum[:]); got != wk.header.Get(HeaderDigest) {
					t.Errorf("sha256(well-known body) = %s, want the digest header %s", got, wk.header.Get(HeaderDigest))
				}
				want := `{"runtime_identity":` + string(tc.want.Canonical()) + `,"status":"pass"}`
				if odoo.code != http.StatusOK || string(odoo.body) != want {
					t.Errorf("GET /launchplane/health = %d %s, want 200 %s", odoo.code, odoo.body, want)
				}
			case StateMissing:
				if wk.code != http.StatusNotFound || string(wk.body) != `{"error":"runtime identity not injected"}` {
					t.Errorf("GET well-known = %d %s, want 404 {\"error\":\"runtime identity not injected\"}", wk.code, wk.body)
				}
				if odoo.code != http.StatusOK || string(odoo.body) != `{"runtime_identity":null,"status":"pass"}` {
					t.Errorf("GET /launchplane/health = %d %s, want 200 with null", odoo.code, odoo.body)
				}
			case StateMalformed:
				if wk.code != http.StatusInternalServerError || string(wk.body) != `{"error":"runtime identity malformed"}` {
					t.Errorf("GET well-known = %d %s, want 500 {\"error\":\"runtime identity malformed\"}", wk.code, wk.body)
				}
				if odoo.code != http.StatusInternalServerError || string(odoo.body) != `{"runtime_identity_error":"malformed","status":"fail"}` {
					t.Errorf("GET /launchplane/health = %d %s, want 500 malformed", odoo.code, odoo.body)
				}
			}
		})
	}
}

func checkJSONNoStore(t *testing.T, what string, a answer) {
	t.Helper()
	if got := a.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("%s Content-Type = %q, want application/json", what, got)
	}
	if got := a.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s Cache-Control = %q, want no-store", what, got)
	}
	if !json.Valid(a.body) {
		t.Errorf("%s body is not JSON: %q", what, a.body)
	}
}

func TestWellKnownMethods(t *testing.T) {
	t.Parallel()
	id := testIdentity().Injected()
	srv := newTenant(t, FromEnv(envFunc(injectedEnv(id))))
	for _, tc := range []struct {
		name, method, path string
		code               int
		body               string
		allow              string
	}{
		{"GET", http.MethodGet, WellKnownPath, 200, string(id.Canonical()), ""},
		{"HEAD has no body", http.MethodHead, WellKnownPath, 200, "", ""},
		{"POST", http.MethodPost, WellKnownPath, 405, `{"error":"method not allowed"}`, "GET, HEAD"},
		{"DELETE", http.MethodDelete, WellKnownPath, 405, `{"error":"method not allowed"}`, "GET, HEAD"},
		{"Odoo POST", http.MethodPost, "/launchplane/health", 405, `{"error":"method not allowed"}`, "GET, HEAD"},
		{"query string ignored", http.MethodGet, WellKnownPath + "?x=1", 200, string(id.Canonical()), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := do(t, tc.method, srv.URL+tc.path)
			if a.code != tc.code || string(a.body) != tc.body {
				t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, a.code, a.body, tc.code, tc.body)
			}
			if got := a.header.Get("Allow"); got != tc.allow {
				t.Errorf("%s %s Allow = %q, want %q", tc.method, tc.path, got, tc.allow)
			}
			if got := a.header.Get(HeaderDigest); got != id.Digest() {
				t.Errorf("%s %s digest header = %q, want %q", tc.method, tc.path, got, id.Digest())
			}
			if tc.method == http.MethodHead {
				if got, want := a.header.Get("Content-Length"), strconv.Itoa(len(id.Canonical())); got != want {
					t.Errorf("HEAD Content-Length = %q, want %s", got, want)
				}
			}
		})
	}
}

// The middleware answers the well-known path itself: a tenant route there is never reached.
func TestMiddlewareOwnsWellKnownPath(t *testing.T) {
	t.Parallel()
	reached := false
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached = true
		w.WriteHeader(http.StatusTeapot)
	})
	rec := httptest.NewRecorder()
	FromEnv(envFunc(nil)).Middleware(next).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, WellKnownPath, nil))
	if reached || rec.Code != http.StatusNotFound {
		t.Errorf("GET well-known through Middleware: next reached = %v, code %d; want false, 404", reached, rec.Code)
	}
	rec = httptest.NewRecorder()
	FromEnv(envFunc(nil)).Middleware(nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("Middleware(nil) GET /x = %d, want 404", rec.Code)
	}
}

// Headers are set before next runs, so a handler may override them, and one response's header
// values are never another's: a handler that writes into them or appends to them, sequentially
// or while other requests are served, and an outer middleware that edits them after the handler
// returned, change their own response only. Run with -race.
func TestMiddlewareHeadersPerResponse(t *testing.T) {
	t.Parallel()
	id := testIdentity().Injected()
	spaced := id
	spaced.DeploymentRecordID = "deployment 42" // no deployment header: the digest alone
	for _, tc := range []struct {
		name string
		id   identity.Identity
		want http.Header
	}{
		{"both headers", id, http.Header{HeaderDeployment: {id.DeploymentRecordID}, HeaderDigest: {id.Digest()}}},
		{"digest only", spaced, http.Header{HeaderDigest: {spaced.Digest()}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			scribble := func(h http.Header) {
				for k, vs := range h {
					for i := range vs {
						vs[i] = "scribbled"
					}
					h[k] = append(vs, "appended")
				}
			}
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if diff := cmp.Diff(tc.want, w.Header()); diff != "" {
					t.Errorf("%s: headers on entry mismatch (-want +got):\n%s", r.URL.Path, diff)
				}
				if r.URL.Path == "/scribble" {
					scribble(w.Header())
					return
				}
				runtime.Gosched() // let scribbling handlers run while this response is in flight
				if diff := cmp.Diff(tc.want, w.Header()); diff != "" {
					t.Errorf("%s: headers before return mismatch (-want +got):\n%s", r.URL.Path, diff)
				}
			})
			mw := FromEnv(envFunc(injectedEnv(tc.id))).Middleware(app)
			outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mw.ServeHTTP(w, r)
				if r.URL.Path == "/outer" {
					scribble(w.Header()) // after the handler returned, before the response is written
				}
			})
			// Sequential, across several blocks of values.
			for i := range 3*headerBlock + 1 {
				path := []string{"/scribble", "/outer", "/"}[i%3]
				rec := httptest.NewRecorder()
				outer.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				if path == "/" {
					if diff := cmp.Diff(tc.want, rec.Header()); diff != "" {
						t.Fatalf("request %d: headers mismatch after scribbling neighbours (-want +got):\n%s", i, diff)
					}
				} else if got := rec.Header()[HeaderDigest]; len(got) != 2 || got[0] != "scribbled" {
					t.Fatalf("request %d %s: digest values = %q, want the scribbled pair", i, path, got)
				}
			}
			// Concurrent.
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range headerBlock {
						path := "/"
						if (g+i)%2 == 0 {
							path = "/scribble"
						}
						rec := httptest.NewRecorder()
						outer.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
						if path == "/" {
							if diff := cmp.Diff(tc.want, rec.Header()); diff != "" {
								t.Errorf("concurrent request: headers mismatch (-want +got):\n%s", diff)
								return
							}
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// What the tenant serves reads back, through the verifier's extractors, as the injected identity:
// match on every surface, against the expected identity as recorded (deployed_at set).
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	want := testIdentity()
	other := want
	other.DeploymentRecordID, other.ArtifactID = "deployment-20260401T000000Z-sellyouroutboard-prod", "ghcr.io/cbusillo/sellyouroutboard@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	for _, tc := range []struct {
		name   string
		env    map[string]string
		status identity.Status // on every surface
	}{
		{"current deployment", injectedEnv(want), identity.StatusMatch},
		{"hand-written env", findCase("hand-written").env, identity.StatusMatch},
		{"stale deployment", injectedEnv(other), identity.StatusMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTenant(t, FromEnv(envFunc(tc.env)))
			health := do(t, http.MethodGet, srv.URL+"/api/health")
			wk := do(t, http.MethodGet, srv.URL+WellKnownPath)
			odoo := do(t, http.MethodGet, srv.URL+"/launchplane/health")
			for _, obs := range []identity.Observation{
				identity.ExtractHealth(health.body),
				identity.ExtractWellKnown(wk.body),
				identity.ExtractHeaders(health.header),
				identity.ExtractHeaders(wk.header),
				identity.ExtractHealth(odoo.body),
			} {
				if !obs.Found {
					t.Fatalf("%s: Found = false (%s %s)", obs.Surface, obs.Status, obs.Detail)
				}
				if obs.Partial {
					t.Errorf("%s: Partial = true, want a digest", obs.Surface)
				}
				v := identity.Compare(&want, obs)
				if v.Status != tc.status {
					t.Errorf("%s: Compare() = %v (%s), want %v", obs.Surface, v.Status, v.Detail, tc.status)
				}
			}
			if got := health.header.Get(HeaderDigest); tc.status == identity.StatusMatch && got != want.Injected().Digest() {
				t.Errorf("digest header = %s, want Injected().Digest() %s", got, want.Injected().Digest())
			}
		})
	}
}

// Without an identity the verifier reads missing from the health JSON and the headers, and gets
// no usable well-known answer; a broken env reads as malformed from the health JSON.
func TestRoundTripWithoutIdentity(t *testing.T) {
	t.Parallel()
	want := testIdentity()
	for _, tc := range []struct {
		name          string
		env           map[string]string
		health, heads identity.Status
	}{
		{"unset", map[string]string{}, identity.StatusMissing, identity.StatusMissing},
		{"bad JSON", map[string]string{EnvJSON: "{" + secret}, identity.StatusMalformed, identity.StatusMissing},
		{"disagreeing copy", with(injectedEnv(want), EnvArtifactID, "x"), identity.StatusMalformed, identity.StatusMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTenant(t, FromEnv(envFunc(tc.env)))
			health := do(t, http.MethodGet, srv.URL+"/api/health")
			if v := identity.Compare(&want, identity.ExtractHealth(health.body)); v.Status != tc.health {
				t.Errorf("health: Compare() = %v (%s), want %v", v.Status, v.Detail, tc.health)
			}
			if v := identity.Compare(&want, identity.ExtractHeaders(health.header)); v.Status != tc.heads {
				t.Errorf("headers: Compare() = %v (%s), want %v", v.Status, v.Detail, tc.heads)
			}
			odoo := do(t, http.MethodGet, srv.URL+"/launchplane/health")
			if tc.health == identity.StatusMissing {
				if v := identity.Compare(&want, identity.ExtractHealth(odoo.body)); v.Status != identity.StatusMissing {
					t.Errorf("Odoo health: Compare() = %v, want %v", v.Status, identity.StatusMissing)
				}
			}
		})
	}
}

// Every take is a slot of its own, across block boundaries and between goroutines on one shard.
func TestHeaderValuesUnique(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		dep  string
		want []string
	}{
		{"both headers", "deployment-1", []string{"deployment-1", "sha256:d"}},
		{"digest only", "", []string{"sha256:d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hv := newHeaderValues(tc.dep, "sha256:d")
			const perGoroutine = 3 * headerBlock
			slots := make([][]*string, 4)
			var wg sync.WaitGroup
			for g := range slots {
				wg.Go(func() {
					for range perGoroutine {
						v := hv.take(0) // one shard for all: the contended path
						if diff := cmp.Diff(tc.want, v); diff != "" || cap(v) != len(v) {
							t.Errorf("take() = %q (cap %d), want %q with no spare capacity", v, cap(v), tc.want)
							return
						}
						slots[g] = append(slots[g], &v[0])
					}
				})
			}
			wg.Wait()
			seen := map[*string]bool{}
			for _, s := range slots {
				for _, p := range s {
					if seen[p] {
						t.Fatalf("a slot was handed out twice")
					}
					seen[p] = true
				}
			}
			if len(seen) != len(slots)*perGoroutine {
				t.Errorf("%d distinct slots, want %d", len(seen), len(slots)*perGoroutine)
			}
		})
	}
}
