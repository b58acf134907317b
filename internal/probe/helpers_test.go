package probe

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
)

const healthPath = "/api/health"

// newID is the identity a rollout should end with; oldID the one still serving before it.
var (
	newID = identity.Identity{
		SchemaVersion:      1,
		Product:            "sellyouroutboard",
		Context:            "sellyouroutboard",
		Instance:           "prod",
		EnvironmentKind:    "stable",
		DeploymentRecordID: "deployment-20260301T120000Z-sellyouroutboard-prod",
		ArtifactID:         "ghcr.io/acme/syo@sha256:1111111111111111111111111111111111111111111111111111111111111111",
		SourceGitRef:       "4f2c9a1b7d3e5f60718293a4b5c6d7e8f9012345",
		ImageReference:     "ghcr.io/acme/syo:4f2c9a1",
	}
	oldID = identity.Identity{
		SchemaVersion:      1,
		Product:            "sellyouroutboard",
		Context:            "sellyouroutboard",
		Instance:           "prod",
		EnvironmentKind:    "stable",
		DeploymentRecordID: "deployment-20260228T090000Z-sellyouroutboard-prod",
		ArtifactID:         "ghcr.io/acme/syo@sha256:2222222222222222222222222222222222222222222222222222222222222222",
		SourceGitRef:       "9a8b7c6d5e4f30211203948576abcdef01234567",
		ImageReference:     "ghcr.io/acme/syo:9a8b7c6",
	}
)

// reply is one canned tenant answer.
type reply struct {
	status int // 0 means 200
	body   string
	header map[string]string
	block  bool // hold the answer until the client gives up
}

func healthOf(id identity.Identity) string {
	return `{"status":"ok","runtime_identity":` + string(id.Canonical()) + `}`
}

func headersOf(id identity.Identity) map[string]string {
	return map[string]string{identity.HeaderDeployment: id.DeploymentRecordID, identity.HeaderDigest: id.Digest()}
}

// healthReply and wellKnownReply are what a tenant built on the contract serves for id.
func healthReply(id identity.Identity) reply {
	return reply{body: healthOf(id), header: headersOf(id)}
}

func wellKnownReply(id identity.Identity) reply {
	return reply{body: string(id.Canonical()), header: headersOf(id)}
}

func always(r reply) func(int) reply { return func(int) reply { return r } }

// seq serves replies[n-1] to the nth request and the last reply after that.
func seq(replies ...reply) func(int) reply {
	return func(n int) reply { return replies[min(n, len(replies))-1] }
}

// request is what the fake tenant received.
type request struct {
	Path   string
	Query  string
	Header http.Header
	Close  bool
}

// tenant is a loopback server with one answer sequence per path; any other path is a 404.
// /hop/N redirects to /hop/N-1, and /hop/0 answers like the health path.
type tenant struct {
	*httptest.Server
	mu       sync.Mutex
	routes   map[string]func(n int) reply
	counts   map[string]int
	requests []request
	conns    atomic.Int64 // connections opened
}

func newTenant(t testing.TB, tlsServer bool, routes map[string]func(int) reply) *tenant {
	t.Helper()
	tn := &tenant{routes: routes, counts: map[string]int{}}
	tn.Server = httptest.NewUnstartedServer(http.HandlerFunc(tn.serve))
	tn.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			tn.conns.Add(1)
		}
	}
	if tlsServer {
		// The probe rejects the test certificate; that handshake error is expected.
		tn.Config.ErrorLog = log.New(io.Discard, "", 0)
		tn.StartTLS()
	} else {
		tn.Start()
	}
	t.Cleanup(tn.Close)
	return tn
}

func (tn *tenant) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if hop, ok := strings.CutPrefix(path, "/hop/"); ok {
		n, err := strconv.Atoi(hop)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if n > 0 {
			http.Redirect(w, r, "/hop/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		path = healthPath
	}
	tn.mu.Lock()
	tn.requests = append(tn.requests, request{Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Close: r.Close})
	route, ok := tn.routes[path]
	tn.counts[path]++
	n := tn.counts[path]
	tn.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	rp := route(n)
	if rp.block {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return
	}
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	if rp.status != 0 {
		w.WriteHeader(rp.status)
	}
	_, _ = w.Write([]byte(rp.body))
}

func (tn *tenant) received() []request {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return append([]request(nil), tn.requests...)
}

// summarize renders answers as "surface status-code state" lines for go-cmp diffs.
func summarize(answers []Answer) []string {
	var out []string
	for _, a := range answers {
		state := string(a.Observation.Status)
		switch {
		case a.Observation.Found:
			state = "found"
		case a.NotServed:
			state = "not-served"
		}
		out = append(out, string(a.Surface)+" "+strconv.Itoa(a.StatusCode)+" "+state)
	}
	return out
}
