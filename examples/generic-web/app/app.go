// Package app is the generic-web example tenant: a small net/http server that exposes its
// Launchplane runtime identity on all three surfaces through package tenant. The tests and the
// demo run it as a real process (examples/generic-web, or the action binary's __tenant
// subcommand), following the project's tenant process protocol: listen on 127.0.0.1:$PORT, print
// one "listening on http://127.0.0.1:<port>" line, stop cleanly when told to.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/tenant"
)

// shutdownGrace bounds how long in-flight requests may finish after the context ends.
const shutdownGrace = 5 * time.Second

// Serve runs the example tenant until ctx ends. It reads its whole configuration from getenv
// once, listens on 127.0.0.1:$PORT (PORT=0: any free port; unset: 8080), writes exactly one line,
// "listening on http://127.0.0.1:<port>", to stdout once it accepts connections, and returns nil
// after a graceful shutdown when ctx is cancelled. A bad or missing identity env never stops it;
// a bad PORT or EXAMPLE_* knob, or a port it cannot bind, returns an error before anything is
// printed.
func Serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	h := newHandler(cfg, tenant.FromEnv(getenv), getenv)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.port)))
	if err != nil {
		return fmt.Errorf("app: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Requests see ctx end, so a slow answer gives way to shutdown at once.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	port := ln.Addr().(*net.TCPAddr).Port
	if _, err := fmt.Fprintf(stdout, "listening on http://127.0.0.1:%d\n", port); err != nil {
		_ = srv.Close()
		<-served
		return fmt.Errorf("app: announce: %w", err)
	}

	select {
	case err := <-served:
		return fmt.Errorf("app: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("app: serve: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("app: shutdown: %w", err)
	}
	return nil
}

type handler struct {
	cfg    config
	rt     *tenant.Runtime
	health []byte // the health body for ModeNormal and ModeSlow, status "ok"
	sick   []byte // the same with status "unhealthy", for non-2xx EXAMPLE_HEALTH_STATUS
}

// newHandler builds the tenant's routes: /, /api/health, the Odoo-shaped /launchplane/health,
// and the identity surfaces cfg turns on.
func newHandler(cfg config, rt *tenant.Runtime, getenv func(string) string) http.Handler {
	h := &handler{cfg: cfg, rt: rt}
	h.health = h.healthBody(getenv, "ok")
	h.sick = h.healthBody(getenv, "unhealthy")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.index)
	mux.HandleFunc("GET /api/health", h.serveHealth)
	mux.Handle("GET /launchplane/health", rt.OdooHealthHandler())

	var out http.Handler = mux
	switch {
	case cfg.headers:
		// The middleware also serves the well-known document.
		out = rt.Middleware(mux)
	case cfg.wellKnown:
		mux.Handle(tenant.WellKnownPath, rt.WellKnownHandler())
	}
	if cfg.headers && !cfg.wellKnown {
		inner := out
		out = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == tenant.WellKnownPath {
				http.NotFound(w, r)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	return out
}

// healthBody renders the recommended generic-web health body (see the Launchplane contract):
// status, version, source_git_ref, image_reference and runtime_identity.
func (h *handler) healthBody(getenv func(string) string, status string) []byte {
	id, ok := h.rt.Identity()
	artifact, ref := getenv(tenant.EnvArtifactID), getenv(tenant.EnvSourceGitRef)
	if ok {
		artifact, ref = id.ArtifactID, id.SourceGitRef
	}
	image := firstNonEmpty(getenv(EnvDockerImageRef), getenv(EnvLaunchplaneRef), id.ImageReference)
	body := map[string]any{
		"status":          status,
		"version":         firstNonEmpty(artifact, "dev"),
		"source_git_ref":  ref,
		"image_reference": image,
	}
	switch h.cfg.mode {
	case ModeNull:
		body["runtime_identity"] = nil
	case ModeMalformed:
		// A bot-style bounded error object: present, but not an identity.
		body["runtime_identity"] = map[string]any{"schema_version": 1, "status": "invalid", "error": "malformed_json"}
	case ModeString:
		if h.cfg.health {
			if v := h.rt.HealthValue(); v != nil {
				body[tenant.EnvJSON] = string(v)
			} else {
				body[tenant.EnvJSON] = nil
			}
		}
	default:
		if h.cfg.health {
			body["runtime_identity"] = h.rt.HealthValue()
		}
	}
	b, err := json.Marshal(body)
	if err != nil {
		// Only strings, nil and valid JSON go in; this cannot happen.
		return []byte(`{"status":"` + status + `"}`)
	}
	return b
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (h *handler) serveHealth(w http.ResponseWriter, r *http.Request) {
	if h.cfg.mode == ModeSlow {
		t := time.NewTimer(h.cfg.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	code := h.cfg.healthStatus
	if h.cfg.mode == ModeHTML {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "<!doctype html>\n<html><head><title>generic-web</title></head><body><p>healthy</p></body></html>\n")
		return
	}
	body := h.health
	if code < 200 || code > 299 {
		body = h.sick
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func (h *handler) index(w http.ResponseWriter, _ *http.Request) {
	var b strings.Builder
	b.WriteString("generic-web example tenant\n\n")
	fmt.Fprintf(&b, "runtime identity: %s (%s)\n", h.rt.State(), h.rt.Reason())
	if id, ok := h.rt.Identity(); ok {
		fmt.Fprintf(&b, "deployment: %s\ndigest: %s\n", id.DeploymentRecordID, h.rt.Digest())
	}
	b.WriteByte('\n')
	for _, route := range [][2]string{
		{"/api/health", "health JSON with runtime_identity"},
		{tenant.WellKnownPath, "the identity document"},
		{"/launchplane/health", "the Odoo addon's health shape"},
	} {
		fmt.Fprintf(&b, "GET %-40s %s\n", route[0], route[1])
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}
