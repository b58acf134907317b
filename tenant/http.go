package tenant

import (
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"sync/atomic"
)

// Fixed bodies: an error answer never carries env text.
var (
	bodyNotInjected      = []byte(`{"error":"runtime identity not injected"}`)
	bodyMalformed        = []byte(`{"error":"runtime identity malformed"}`)
	bodyMethodNotAllowed = []byte(`{"error":"method not allowed"}`)
	bodyOdooMalformed    = []byte(`{"runtime_identity_error":"malformed","status":"fail"}`)
)

// writeJSON writes a complete JSON answer that no cache may keep.
func writeJSON(w http.ResponseWriter, req *http.Request, code int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if req.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// allowGetHead answers 405 to anything but GET and HEAD and reports whether it did.
func allowGetHead(w http.ResponseWriter, req *http.Request) bool {
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		return false
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeJSON(w, req, http.StatusMethodNotAllowed, bodyMethodNotAllowed)
	return true
}

// WellKnownHandler serves the document at /.well-known/launchplane-runtime.json (mount it there,
// or let Middleware do it). GET and HEAD answer 200 with the canonical identity JSON, 404
// {"error":"runtime identity not injected"} when it is missing, or 500
// {"error":"runtime identity malformed"} when the env is broken; other methods get 405. Every
// answer is application/json with Cache-Control: no-store. It does not set the identity headers;
// Middleware does.
func (r *Runtime) WellKnownHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if allowGetHead(w, req) {
			return
		}
		switch r.State() {
		case StateOK:
			writeJSON(w, req, http.StatusOK, r.canonical)
		case StateMalformed:
			writeJSON(w, req, http.StatusInternalServerError, bodyMalformed)
		default:
			writeJSON(w, req, http.StatusNotFound, bodyNotInjected)
		}
	})
}

// Middleware wraps a tenant's handler. When the identity is usable it sets
// X-Launchplane-Deployment and X-Launchplane-Identity-Digest on every response before next runs
// (the deployment header is left out when the record id holds characters a header cannot carry
// unchanged; the digest still stands for it). Each response gets header values of its own, so a
// handler or an outer middleware that edits or appends to them changes that response only.
// Requests for /.well-known/launchplane-runtime.json are answered by WellKnownHandler and never
// reach next. A nil next answers 404.
func (r *Runtime) Middleware(next http.Handler) http.Handler {
	if next == nil {
		next = http.NotFoundHandler()
	}
	wellKnown := r.WellKnownHandler()
	if r.State() != StateOK {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path == WellKnownPath {
				wellKnown.ServeHTTP(w, req)
				return
			}
			next.ServeHTTP(w, req)
		})
	}
	vals := newHeaderValues(r.deployment, r.digest)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h := w.Header()
		v := vals.take(reflect.ValueOf(h).Pointer())
		if len(v) == 2 {
			h[HeaderDeployment] = v[0:1:1]
			h[HeaderDigest] = v[1:2:2]
		} else {
			h[HeaderDigest] = v[0:1:1]
		}
		if req.URL.Path == WellKnownPath {
			wellKnown.ServeHTTP(w, req)
			return
		}
		next.ServeHTTP(w, req)
	})
}

// headerBlock is how many responses' header values, at least, are allocated at once.
const headerBlock = 256

// headerShards spreads concurrent requests over separate blocks, so cores do not contend for one
// counter.
const headerShards = 8

// headerValues hands out the identity header values, fresh memory for every response: a handler
// may write to w.Header()[HeaderDeployment][0] or append to it, and no other response (the next
// one, or one served at the same time) sees it. The values come from blocks of headerBlock
// responses' worth or more, copied from a template, so a request costs an atomic add instead of
// an allocation. Slots are never reused; a block is garbage once its responses are.
type headerValues struct {
	template []string // the values of headerBlock responses, each response's values adjacent
	width    int64    // values per response: 2, or 1 without the deployment header
	shards   [headerShards]atomic.Pointer[valueBlock]
}

type valueBlock struct {
	vals []string
	used atomic.Int64
}

func newHeaderValues(deployment, digest string) *headerValues {
	one := []string{digest}
	if deployment != "" {
		one = []string{deployment, digest}
	}
	hv := &headerValues{width: int64(len(one))}
	for range headerBlock {
		hv.template = append(hv.template, one...)
	}
	return hv
}

// block returns a new block. append rounds its capacity up to the allocation's size class; the
// spare room holds more responses' values rather than go to waste.
func (hv *headerValues) block() *valueBlock {
	vals := append([]string(nil), hv.template...)
	vals = vals[:cap(vals)-cap(vals)%int(hv.width)]
	for i := len(hv.template); i < len(vals); i += int(hv.width) {
		copy(vals[i:], hv.template[:hv.width])
	}
	return &valueBlock{vals: vals}
}

// take returns one response's values: a slice of width values no one else ever gets. Callers
// hand each value out with its capacity cut to one, so an append reallocates. spread picks the
// shard: the address of the response's header map, which differs between concurrent responses.
func (hv *headerValues) take(spread uintptr) []string {
	shard := &hv.shards[(spread>>6^spread>>12)%headerShards]
	for {
		b := shard.Load()
		if b == nil {
			shard.CompareAndSwap(nil, hv.block())
			continue
		}
		end := b.used.Add(hv.width)
		switch n := int64(len(b.vals)); {
		case end <= n:
			return b.vals[end-hv.width : end : end]
		case end == n+hv.width:
			// The first request past the end replaces the block; the others wait for it.
			shard.CompareAndSwap(b, hv.block())
		default:
			runtime.Gosched()
		}
	}
}

// OdooHealthHandler answers like cbusillo/odoo-docker's launchplane_runtime_health addon at
// /launchplane/health, for Go services that stand in for, or sit beside, an Odoo tenant: 200
// {"runtime_identity":<identity object or null>,"status":"pass"}, compact, with Cache-Control:
// no-store; a broken env gives 500 {"runtime_identity_error":"malformed","status":"fail"}. GET
// and HEAD only. Unlike the addon, which echoes whatever JSON object the env holds, the identity
// is served in canonical form.
func (r *Runtime) OdooHealthHandler() http.Handler {
	var ok []byte
	switch r.State() {
	case StateOK:
		ok = make([]byte, 0, len(r.canonical)+40)
		ok = append(ok, `{"runtime_identity":`...)
		ok = append(ok, r.canonical...)
		ok = append(ok, `,"status":"pass"}`...)
	default:
		ok = []byte(`{"runtime_identity":null,"status":"pass"}`)
	}
	malformed := r.State() == StateMalformed
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if allowGetHead(w, req) {
			return
		}
		if malformed {
			writeJSON(w, req, http.StatusInternalServerError, bodyOdooMalformed)
			return
		}
		writeJSON(w, req, http.StatusOK, ok)
	})
}
