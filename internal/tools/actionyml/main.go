// Command actionyml writes action.yml with runs.image set to the given image. The release
// workflow runs it to point a release's action.yml at the image it just published:
//
//	go run ./internal/tools/actionyml -image docker://ghcr.io/launchplane/runtime-identity:v1.2.3@sha256:<digest> -o action.yml
//
// The file is rendered from the inputs and outputs table (action.ActionYAML), exactly as the
// committed action.yml is, so a release differs from its source commit in runs.image alone. The
// image must be Dockerfile (what main keeps) or a docker:// reference pinned by digest: a tag
// alone could be moved after the release.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/launchplane/runtime-identity/internal/action"
)

// pinned matches docker://<name>[:<tag>]@sha256:<64 hex>, the name in the lower-case form the
// OCI distribution spec allows.
var pinned = regexp.MustCompile(`^docker://[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[0-9a-f]{64}$`)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("actionyml", flag.ContinueOnError)
	fs.SetOutput(stderr)
	image := fs.String("image", "", "runs.image: Dockerfile, or docker://NAME[:TAG]@sha256:DIGEST")
	out := fs.String("o", "", "file to write (default: stdout)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "actionyml: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *image != "Dockerfile" && !pinned.MatchString(*image) {
		fmt.Fprintf(stderr, "actionyml: -image %q: want Dockerfile or docker://NAME[:TAG]@sha256:<64 hex digits>\n", *image)
		return 2
	}
	text := action.ActionYAML(*image)
	if *out == "" {
		if _, err := io.WriteString(stdout, text); err != nil {
			fmt.Fprintln(stderr, "actionyml:", err)
			return 1
		}
		return 0
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		fmt.Fprintln(stderr, "actionyml:", err)
		return 1
	}
	return 0
}
