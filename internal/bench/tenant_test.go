package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
)

const healthPath = "/api/health"

// generation is the identity the tenant serves after g switches.
func generation(g int) identity.Identity {
	sum := sha256.Sum256([]byte(strconv.Itoa(g)))
	digest := hex.EncodeToString(sum[:])
	return identity.Identity{
		SchemaVersion:      1,
		Product:            "shop",
		Context:            "shop",
		Instance:           "prod",
		EnvironmentKind:    "stable",
		DeploymentRecordID: fmt.Sprintf("deployment-20260301T120000Z-shop-prod-%d", g),
		ArtifactID:         "ghcr.io/acme/shop@sha256:" + digest,
		SourceGitRef:       digest[:40],
	}
}

// switcher is a tenant serving all three surfaces for one identity at a time, built on the
// contract (DESIGN.md section 2): the health JSON with runtime_identity, the well-known document,
// and the X-Launchplane-* headers on both. flip switches every surface at once.
type switcher struct {
	mu       sync.Mutex
	gen      int
	requests map[string]int // by User-Agent and path
}

func newSwitcher() *switcher { return &switcher{requests: map[string]int{}} }

func (s *switcher) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id := generation(s.gen)
	s.requests[r.UserAgent()]++
	s.requests[r.UserAgent()+" "+r.URL.Path]++
	s.mu.Unlock()
	var body []byte
	switch r.URL.Path {
	case healthPath:
		body = append(append([]byte(`{"status":"ok","runtime_identity":`), id.Canonical()...), '}')
	case identity.WellKnownPath:
		body = id.Canonical()
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set(identity.HeaderDeployment, id.DeploymentRecordID)
	w.Header().Set(identity.HeaderDigest, id.Digest())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// flip switches to the next identity and returns when: every request served after that time
// answers with the new one.
func (s *switcher) flip() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	return time.Now()
}

// next is the identity the next flip switches to.
func (s *switcher) next() identity.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return generation(s.gen + 1)
}

// served returns how many requests came with the User-Agent ua, for any path or only for path.
func (s *switcher) served(ua string, path ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(path) > 0 {
		return s.requests[ua+" "+path[0]]
	}
	return s.requests[ua]
}
