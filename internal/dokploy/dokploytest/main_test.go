package dokploytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// tenantEnv makes the test binary act as a tenant process.
const tenantEnv = "DOKPLOYTEST_TENANT"

func TestMain(m *testing.M) {
	if os.Getenv(tenantEnv) == "1" {
		if err := serveTenant(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveTenant is a minimal tenant following the project's tenant process protocol. It serves
// /api/health with the identity from LAUNCHPLANE_RUNTIME_IDENTITY_JSON (null when absent or
// not JSON) and /env?key=K with one variable, so tests see what the process received.
func serveTenant() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Getenv("PORT"))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/health", func(w http.ResponseWriter, _ *http.Request) {
		var id json.RawMessage
		if raw := os.Getenv("LAUNCHPLANE_RUNTIME_IDENTITY_JSON"); json.Valid([]byte(raw)) {
			id = json.RawMessage(raw)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "ok", "runtime_identity": id})
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		v, ok := os.LookupEnv(r.URL.Query().Get("key"))
		_ = json.NewEncoder(w).Encode(map[string]any{"set": ok, "value": v})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
