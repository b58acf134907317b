package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestRun(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile(filepath.Join("..", "..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		image     string
		wantCode  int
		wantImage string // the runs.image line expected; "" when refused
	}{
		{name: "released image", image: "docker://ghcr.io/launchplane/runtime-identity:v1.2.3@" + digest, wantImage: "  image: docker://ghcr.io/launchplane/runtime-identity:v1.2.3@" + digest},
		{name: "digest without tag", image: "docker://ghcr.io/launchplane/runtime-identity@" + digest, wantImage: "  image: docker://ghcr.io/launchplane/runtime-identity@" + digest},
		{name: "registry with port", image: "docker://localhost:5000/a/b:v1@" + digest, wantImage: "  image: docker://localhost:5000/a/b:v1@" + digest},
		{name: "Dockerfile, as main keeps it", image: "Dockerfile", wantImage: "  image: Dockerfile"},
		{name: "tag alone", image: "docker://ghcr.io/launchplane/runtime-identity:v1.2.3", wantCode: 2},
		{name: "no docker scheme", image: "ghcr.io/launchplane/runtime-identity@" + digest, wantCode: 2},
		{name: "short digest", image: "docker://ghcr.io/a/b@sha256:0123", wantCode: 2},
		{name: "upper-case name", image: "docker://ghcr.io/Launchplane/b@" + digest, wantCode: 2},
		{name: "line break", image: "docker://ghcr.io/a/b@" + digest + "\nruns: x", wantCode: 2},
		{name: "empty", image: "", wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut strings.Builder
			code := run([]string{"-image", tt.image}, &out, &errOut)
			if code != tt.wantCode {
				t.Fatalf("run() = %d, want %d (stderr %q)", code, tt.wantCode, errOut.String())
			}
			if tt.wantCode != 0 {
				if out.Len() != 0 || !strings.Contains(errOut.String(), "-image") {
					t.Errorf("refused run: stdout %q, stderr %q; want nothing written and the flag named", out.String(), errOut.String())
				}
				return
			}
			// The release differs from the committed file in runs.image alone.
			want := strings.Replace(string(committed), "  image: Dockerfile", tt.wantImage, 1)
			if diff := cmp.Diff(want, out.String()); diff != "" {
				t.Errorf("run() output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunWritesFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "action.yml")
	var out, errOut strings.Builder
	if code := run([]string{"-image", "docker://ghcr.io/a/b:v1@" + digest, "-o", p}, &out, &errOut); code != 0 {
		t.Fatalf("run() = %d, want 0 (stderr %q)", code, errOut.String())
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "runs:\n  using: docker\n  image: docker://ghcr.io/a/b:v1@"+digest+"\n") || out.Len() != 0 {
		t.Errorf("file ends %q, stdout %q; want the pinned image and nothing on stdout", string(b[max(0, len(b)-120):]), out.String())
	}
}
