package inventory

import (
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/tenant"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ and docs/inventory.png")

// Kinds of tenant a test fleet runs.
const (
	serveMatch     = "match"     // serves the lane's expected identity
	serveStale     = "stale"     // serves an older deployment of the lane
	serveMissing   = "missing"   // runs without an identity env
	serveMalformed = "malformed" // runs with a broken identity env
	serveDown      = "down"      // answers 503 to everything
	serveHostile   = "hostile"   // answers an identity full of markup, Markdown and control characters
	serveFlap      = "flap"      // answers the expected identity and a stale one in turn
)

// fleetLane is one lane of a test fleet: its key, what its tenant serves, and how the lanes file
// describes it.
type fleetLane struct {
	product, context, instance string
	serve                      string
	require                    bool
	unchecked                  bool // no expected identity in the lanes file
	base                       bool // base_url instead of health_url
}

// laneIdentity is the identity a lane is expected to serve.
func laneIdentity(product, context, instance string) identity.Identity {
	return identity.Identity{
		SchemaVersion:      1,
		Product:            product,
		Context:            context,
		Instance:           instance,
		EnvironmentKind:    identity.KindStable,
		DeploymentRecordID: "deployment-20260510T141500Z-" + context + "-" + instance,
		ArtifactID:         "ghcr.io/acme/" + product + "@sha256:" + strings.Repeat("1", 64),
		SourceGitRef:       "6b3c9d7e8f901234567890abcdef1234567890ab",
	}
}

func staleIdentity(product, context, instance string) identity.Identity {
	id := laneIdentity(product, context, instance)
	id.DeploymentRecordID = "deployment-20260401T090000Z-" + context + "-" + instance
	id.SourceGitRef = "0000000aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	return id
}

// hostileHealth is a health body whose identity is full of text that must stay inert in every
// format: HTML, Markdown, a terminal escape, line breaks and an unknown key that is itself markup.
func hostileHealth(product, context, instance string) []byte {
	id := laneIdentity(product, context, instance)
	m := map[string]any{
		"schema_version":       1,
		"product":              id.Product,
		"context":              id.Context,
		"instance":             id.Instance,
		"environment_kind":     "stable",
		"deployment_record_id": "<img src=x onerror=\"document.body.dataset.pwned=1\">",
		"artifact_id":          "| injected | row |\n## heading",
		"source_git_ref":       "\x1b[31mred\x1b[0m</td></tr><script>document.body.dataset.pwned=1</script>",
		"image_reference":      "[click](javascript:alert(1)) ![x](https://evil.example/x.png)",
		"<script>document.title='pwned'</script>": "x",
	}
	body, _ := json.Marshal(map[string]any{"status": "ok", "runtime_identity": m})
	return body
}

// runtimeFor returns a tenant Runtime serving id, or a broken or missing env.
func runtimeFor(serve string, id identity.Identity) *tenant.Runtime {
	env := map[string]string{}
	switch serve {
	case serveMissing:
	case serveMalformed:
		env[identity.EnvJSON] = `{"context": 5, "instance": "prod"}`
	default:
		for _, kv := range id.EnvVars() {
			env[kv.Key] = kv.Value
		}
	}
	return tenant.FromEnv(func(k string) string { return env[k] })
}

// tenantHandler is one lane's tenant: a health endpoint at /api/health and the well-known
// document, through the tenant package as a real tenant uses it.
func tenantHandler(l fleetLane, hits *atomic.Int64) http.Handler {
	want := laneIdentity(l.product, l.context, l.instance)
	stale := staleIdentity(l.product, l.context, l.instance)
	handler := func(rt *tenant.Runtime) http.Handler {
		mux := http.NewServeMux()
		body, _ := json.Marshal(map[string]any{"status": "ok", "runtime_identity": rt.HealthValue()})
		mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
		return rt.Middleware(mux)
	}
	var inner http.Handler
	switch l.serve {
	case serveDown:
		inner = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
		})
	case serveHostile:
		body := hostileHealth(l.product, l.context, l.instance)
		inner = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/health" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		})
	case serveStale:
		inner = handler(runtimeFor(serveMatch, stale))
	case serveFlap:
		good, old := handler(runtimeFor(serveMatch, want)), handler(runtimeFor(serveMatch, stale))
		var n atomic.Int64
		inner = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// One answer a round goes to the health endpoint: alternate on those.
			if r.URL.Path == "/api/health" && n.Add(1)%2 == 0 {
				old.ServeHTTP(w, r)
				return
			}
			good.ServeHTTP(w, r)
		})
	default:
		inner = handler(runtimeFor(l.serve, want))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		inner.ServeHTTP(w, r)
	})
}

// fleet is a running test fleet: one loopback server a lane, so every lane has its own host and
// port, as real tenants do.
type fleet struct {
	lanes []fleetLane
	urls  []string
	hits  atomic.Int64
}

func startFleet(t *testing.T, lanes []fleetLane) *fleet {
	t.Helper()
	f := &fleet{lanes: lanes}
	for _, l := range lanes {
		srv := httptest.NewServer(tenantHandler(l, &f.hits))
		t.Cleanup(srv.Close)
		f.urls = append(f.urls, srv.URL)
	}
	return f
}

// lanesFile renders the fleet as a lanes file.
func (f *fleet) lanesFile(t *testing.T) []byte {
	t.Helper()
	type fileLane struct {
		Product         string             `json:"product"`
		Context         string             `json:"context"`
		Instance        string             `json:"instance"`
		HealthURL       string             `json:"health_url,omitempty"`
		BaseURL         string             `json:"base_url,omitempty"`
		Expected        *identity.Identity `json:"expected,omitempty"`
		RequireIdentity bool               `json:"require_identity,omitempty"`
	}
	var out struct {
		Lanes []fileLane `json:"lanes"`
	}
	for i, l := range f.lanes {
		fl := fileLane{Product: l.product, Context: l.context, Instance: l.instance, RequireIdentity: l.require}
		if l.base {
			fl.BaseURL = f.urls[i]
		} else {
			fl.HealthURL = f.urls[i] + "/api/health"
		}
		if !l.unchecked {
			id := laneIdentity(l.product, l.context, l.instance)
			fl.Expected = &id
		}
		out.Lanes = append(out.Lanes, fl)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mixedFleet has every status at least once, required and not.
func mixedFleet() []fleetLane {
	return []fleetLane{
		{product: "shop", context: "shop", instance: "prod", serve: serveMatch, require: true},
		{product: "shop", context: "shop", instance: "testing", serve: serveStale},
		{product: "shop", context: "shop", instance: "pr-42", serve: serveMatch, base: true},
		{product: "blog", context: "blog", instance: "prod", serve: serveMissing},
		{product: "blog", context: "blog", instance: "testing", serve: serveMalformed},
		{product: "crm", context: "crm-eu", instance: "prod", serve: serveDown, require: true},
		{product: "crm", context: "crm-us", instance: "prod", serve: serveHostile},
		{product: "docs", context: "docs", instance: "prod", serve: serveMatch, unchecked: true},
	}
}

// writeTemp writes data to a file in a test's temp dir and returns its path.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test -update to create it)", path, err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got), run go test ./internal/inventory -update if the change is intended:\n%s", path, diff)
	}
}

// statuses maps each lane's key to its status.
func statuses(r *Report) map[string]identity.Status {
	m := map[string]identity.Status{}
	for _, l := range r.Lanes {
		m[l.Key()] = l.Status
	}
	return m
}
