package tenant

import (
	"net/http"
	"strconv"
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
// unchanged; the digest still stands for it). Requests for /.well-known/launchplane-runtime.json
// are answered by WellKnownHandler and never reach next. A nil next answers 404.
func (r *Runtime) Middleware(next http.Handler) http.Handler {
	if next == nil {
		next = http.NotFoundHandler()
	}
	wellKnown := r.WellKnownHandler()
	ok := r.State() == StateOK
	dep, dig := r.deployment, r.digest
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if ok {
			h := w.Header()
			// One allocation per request; each response gets its own slices, so nothing
			// downstream can alter another response's headers.
			if dep != "" {
				vals := []string{dep, dig}
				h[HeaderDeployment] = vals[0:1:1]
				h[HeaderDigest] = vals[1:2:2]
			} else {
				h[HeaderDigest] = []string{dig}
			}
		}
		if req.URL.Path == WellKnownPath {
			wellKnown.ServeHTTP(w, req)
			return
		}
		next.ServeHTTP(w, req)
	})
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
