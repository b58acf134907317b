package tenant

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// reportCPU runs loop and reports the process CPU time per operation as cpu-ns/op, next to the
// wall time. Compare the cpu-ns/op of a pair on a busy machine.
func reportCPU(b *testing.B, loop func()) {
	start, ok := processCPU()
	loop()
	if end, _ := processCPU(); ok && b.N > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

// nopWriter is a ResponseWriter that keeps one header map, cleared per request, so the benchmark
// measures the middleware rather than a recorder.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkOverhead measures what the middleware adds to a request: the same handler bare and
// wrapped, in the same run. Compare the two with
//
//	go test -run '^$' -bench Overhead -benchmem -count 6 ./tenant > bench.txt
//	benchstat -col /handler bench.txt
func BenchmarkOverhead(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"handler=bare", app},
		{"handler=identity", FromEnv(envFunc(injectedEnv(testIdentity()))).Middleware(app)},
		{"handler=missing", FromEnv(envFunc(nil)).Middleware(app)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/api/health", nil)
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			reportCPU(b, func() {
				for b.Loop() {
					clear(w.h)
					bc.h.ServeHTTP(w, req)
				}
			})
		})
	}
}

// BenchmarkOverheadServe measures the same pair the way net/http serves a request: a fresh header
// map per response, and a health handler that sets Content-Type and writes its body. The map and
// its storage are allocated for both handlers alike, as the server and the handler would.
func BenchmarkOverheadServe(b *testing.B) {
	body := []byte(`{"status":"ok"}`)
	app := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"handler=bare", app},
		{"handler=identity", FromEnv(envFunc(injectedEnv(testIdentity()))).Middleware(app)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/api/health", nil)
			w := &nopWriter{}
			b.ReportAllocs()
			reportCPU(b, func() {
				for b.Loop() {
					w.h = make(http.Header)
					bc.h.ServeHTTP(w, req)
				}
			})
		})
	}
}

// BenchmarkOverheadParallel is BenchmarkOverhead with every core serving at once.
func BenchmarkOverheadParallel(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"handler=bare", app},
		{"handler=identity", FromEnv(envFunc(injectedEnv(testIdentity()))).Middleware(app)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/api/health", nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &nopWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					bc.h.ServeHTTP(w, req)
				}
			})
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
