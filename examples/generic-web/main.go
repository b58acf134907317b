// Command generic-web is the example tenant: a web server that exposes its Launchplane runtime
// identity on its health JSON, the well-known document and response headers. See README.md.
//
//	PORT=8080 LAUNCHPLANE_RUNTIME_IDENTITY_JSON='{...}' go run ./examples/generic-web
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/launchplane/runtime-identity/examples/generic-web/app"
)

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Serve(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "generic-web:", err)
		return 1
	}
	return 0
}
