package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/demo"
)

// TestDemoCommand keeps the README's first command true: the built binary's demo deploys on the
// embedded fake Dokploy and ends in a confirmed match.
func TestDemoCommand(t *testing.T) {
	t.Parallel()
	run := func(args ...string) (int, string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, binary, args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "TMPDIR=" + t.TempDir()}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, stdout.String(), stderr.String()
	}
	code, stdout, stderr := run("demo")
	if code != 0 || !strings.Contains(stdout, "## ✅ match") || !strings.Contains(stdout, "status=match") {
		t.Fatalf("demo: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "Dokploy API calls: ") {
		t.Errorf("demo does not report the Dokploy API calls:\n%s", stderr)
	}
	// The binary planted its own random values; each holds the marker.
	if strings.Contains(stdout, demo.SecretMarker) || strings.Contains(stderr, demo.SecretMarker) {
		t.Errorf("the demo printed a planted secret (text containing %q)", demo.SecretMarker)
	}
	code, stdout, _ = run("demo", "--list")
	if code != 0 || strings.Count(stdout, "\n") != len(demo.Scenarios) {
		t.Errorf("demo --list: exit %d, %d lines, want 0 and %d:\n%s", code, strings.Count(stdout, "\n"), len(demo.Scenarios), stdout)
	}
	if code, _, stderr = run("demo", "--scenario", "nope"); code != 2 || !strings.Contains(stderr, "unknown scenario") {
		t.Errorf("demo --scenario nope: exit %d, stderr %q; want 2 naming the scenario", code, stderr)
	}
}
