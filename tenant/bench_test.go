package tenant

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// nopWriter is a ResponseWriter that keeps one header map, cleared per request, so the benchmark
// measures the middleware rather than a recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func BenchmarkMiddleware(b *testing.B) {
	for _, bc := range []struct {
		name string
		env  map[string]string
	}{
		{"identity", injectedEnv(testIdentity())},
		{"missing", nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := FromEnv(envFunc(bc.env)).Middleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			}))
			req := httptest.NewRequest(http.MethodGet, "/api/health", nil)
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}

func BenchmarkWellKnown(b *testing.B) {
	h := FromEnv(envFunc(injectedEnv(testIdentity()))).Middleware(http.NotFoundHandler())
	req := httptest.NewRequest(http.MethodGet, WellKnownPath, nil)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}
