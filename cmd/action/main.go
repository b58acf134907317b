// Command runtime-identity is the GitHub Action and CLI: it gives a Launchplane deployment a
// runtime identity, patches it into Dokploy, follows the rollout and proves the running tenant
// reports it. See README.md.
//
// go.mod states the lowest Go the module builds with (so tenants importing tenant/ are not held
// to the newest); the binary itself runs with the current release's defaults.
//
//go:debug default=go1.26
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/launchplane/runtime-identity/examples/generic-web/app"
	"github.com/launchplane/runtime-identity/internal/action"
	"github.com/launchplane/runtime-identity/internal/demo"
	"github.com/launchplane/runtime-identity/internal/inventory"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := realMain(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func realMain(ctx context.Context, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return demo.Main(ctx, args[1:], os.Getenv, os.Stdout, os.Stderr)
		case "inventory":
			return inventory.Main(ctx, inventory.Env{Args: args[1:], Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, UserAgent: "runtime-identity/" + action.Version, Launchplane: action.InventoryLaunchplane(os.Getenv)})
		case demo.TenantCommand:
			// The example tenant, run as a real process by the demo and the end-to-end tests.
			if err := app.Serve(ctx, os.Getenv, os.Stdout); err != nil {
				os.Stderr.WriteString("tenant: " + err.Error() + "\n")
				return 1
			}
			return 0
		}
	}
	return action.Main(ctx, action.Env{Args: args, Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr})
}
