package dokploytest

import (
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// tenant is a service's stable URL: a reverse proxy choosing among the service's backends as a
// rollout progresses.
type tenant struct {
	s   *Server
	srv *loopServer

	mu      sync.Mutex
	current Backend // serving
	pending Backend // rolled out, not yet (fully) serving
	mixedAt time.Time
	newAt   time.Time
	alone   time.Time // when current began serving alone
	gen     int
	n       uint64
	timer   *time.Timer
	proxies map[Backend]*httputil.ReverseProxy
	active  map[Backend]int  // requests being proxied, by backend
	retired map[Backend]bool // replaced, to stop once its requests end
	closed  bool
}

func newTenant(s *Server) (*tenant, error) {
	t := &tenant{s: s, proxies: map[Backend]*httputil.ReverseProxy{}, active: map[Backend]int{}, retired: map[Backend]bool{}}
	srv, err := listen(s.tenantAddr, s.opts.PublicHost, http.HandlerFunc(t.serve))
	if err != nil {
		return nil, err
	}
	t.srv = srv
	return t, nil
}

// rollout makes b the service's new backend: the old one alone serves for stale, then both
// alternate for mixed (replicas > 1 only), then b alone serves and the old one stops.
func (t *tenant) rollout(b Backend, stale, mixed time.Duration, replicas int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		go t.s.stopBackend(b)
		return
	}
	now := time.Now()
	if t.pending != nil {
		// Replaced before its switch: it serves alone from now, or from its due switch.
		at := now
		if t.newAt.Before(now) {
			at = t.newAt
		}
		t.promoteLocked(at)
	}
	if t.current == nil {
		t.current, t.alone = b, now
		return
	}
	if replicas <= 1 {
		mixed = 0
	}
	t.pending = b
	t.mixedAt = now.Add(stale)
	t.newAt = t.mixedAt.Add(mixed)
	t.gen++
	gen := t.gen
	if t.timer != nil {
		t.timer.Stop()
	}
	t.timer = time.AfterFunc(t.newAt.Sub(now), func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.gen == gen && t.pending != nil && !t.closed {
			t.promoteLocked(t.newAt)
		}
	})
}

// promoteLocked serves pending alone from at and stops the old backend once the requests it is
// answering end, as a start-first rolling update drains the old task; t.mu must be held.
func (t *tenant) promoteLocked(at time.Time) {
	old := t.current
	t.current, t.pending, t.alone = t.pending, nil, at
	t.gen++
	if old != nil {
		if t.active[old] > 0 {
			t.retired[old] = true
			return
		}
		t.stopLocked(old)
	}
}

// stopLocked stops b in the background; t.mu must be held.
func (t *tenant) stopLocked(b Backend) {
	delete(t.proxies, b)
	delete(t.retired, b)
	delete(t.active, b)
	if !t.s.goAsync(func() { t.s.stopBackend(b) }) {
		go t.s.stopBackend(b)
	}
}

// pick chooses the backend for one request and counts the request on it; release ends it.
func (t *tenant) pick() Backend {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.pickLocked()
	if b != nil {
		t.active[b]++
	}
	return b
}

func (t *tenant) release(b Backend) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.active[b]--
	if t.active[b] <= 0 && t.retired[b] {
		t.stopLocked(b)
	}
}

func (t *tenant) pickLocked() Backend {
	if t.pending == nil {
		return t.current
	}
	now := time.Now()
	switch {
	case !now.Before(t.newAt):
		t.promoteLocked(t.newAt)
		return t.current
	case !now.Before(t.mixedAt):
		t.n++
		if t.n%2 == 1 {
			return t.pending
		}
		return t.current
	}
	return t.current
}

// ServingAlone reports when the tenant URL of service id began serving the service's newest
// backend alone: the moment a rollout's stale and mixed windows ended, or when the first
// backend started. ok is false while an older backend still answers some requests, before the
// first backend serves, and for an unknown id. A benchmark measures from this moment how long a
// run takes to notice the switch.
func (s *Server) ServingAlone(id string) (since time.Time, ok bool) {
	s.mu.Lock()
	svc := s.services[id]
	s.mu.Unlock()
	if svc == nil {
		return time.Time{}, false
	}
	return svc.tenant.servingAlone()
}

// servingAlone returns when the newest backend began serving alone, and false while an older
// one still answers some requests or nothing serves.
func (t *tenant) servingAlone() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.pending != nil && !time.Now().Before(t.newAt):
		// Due, and promoted by the next request or the timer.
		return t.newAt, true
	case t.pending != nil || t.current == nil:
		return time.Time{}, false
	}
	return t.alone, true
}

func (t *tenant) proxy(b Backend) *httputil.ReverseProxy {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p := t.proxies[b]; p != nil {
		return p
	}
	u, err := url.Parse(b.URL())
	if err != nil {
		return nil
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
		},
		Transport: t.s.transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			http.Error(w, "dokploytest: backend unavailable", http.StatusBadGateway)
		},
	}
	t.proxies[b] = p
	return p
}

func (t *tenant) serve(w http.ResponseWriter, r *http.Request) {
	b := t.pick()
	if b == nil {
		http.Error(w, "dokploytest: no backend is serving this service", http.StatusServiceUnavailable)
		return
	}
	defer t.release(b)
	p := t.proxy(b)
	if p == nil {
		http.Error(w, "dokploytest: bad backend URL", http.StatusBadGateway)
		return
	}
	p.ServeHTTP(w, r)
}

// close stops the proxy; backends are stopped by the server.
func (t *tenant) close() {
	t.mu.Lock()
	t.closed = true
	if t.timer != nil {
		t.timer.Stop()
	}
	t.mu.Unlock()
	t.srv.close()
}
