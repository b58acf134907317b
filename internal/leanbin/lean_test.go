package leanbin

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const binaryPkg = "github.com/launchplane/runtime-identity/cmd/action"

// forbidden are import paths (or path prefixes, ending in "/") the binary must not link.
var forbidden = []string{
	"testing",
	"net/http/httptest",
	"github.com/getkin/kin-openapi/",
	"github.com/santhosh-tekuri/jsonschema/",
	"github.com/launchplane/runtime-identity/internal/contracttest",
	"github.com/launchplane/runtime-identity/internal/ghdeploy/ghdeploytest",
	"github.com/launchplane/runtime-identity/internal/launchplane/launchplanetest",
	"github.com/launchplane/runtime-identity/internal/clock/clocktest",
}

func goCmd(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

func TestBinaryLinksNoTestSupport(t *testing.T) {
	t.Parallel()
	deps := strings.Fields(string(goCmd(t, "list", "-deps", binaryPkg)))
	if len(deps) < 50 {
		t.Fatalf("go list -deps %s gave %d packages, want the whole dependency list", binaryPkg, len(deps))
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) || d == strings.TrimSuffix(f, "/") {
				t.Errorf("%s links %s; test support must stay out of the shipped binary (find who imports it: go list -f '{{.ImportPath}} {{.Imports}}' -deps %s)", binaryPkg, d, binaryPkg)
			}
		}
	}
}

// secretLooking are patterns no byte run of the binary may match.
var secretLooking = []struct {
	name string
	re   *regexp.Regexp
}{
	{"Stripe live key prefix", regexp.MustCompile(`sk_live_`)},
	{"GitHub token prefix", regexp.MustCompile(`gh[pousr]_`)},
	{"npm token prefix", regexp.MustCompile(`npm_`)},
	{"AWS access key id", regexp.MustCompile(`AKIA[0-9A-Z]{12,}`)},
	// encoding/pem holds "-----BEGIN " alone; a whole armour line is what a key literal has.
	{"PEM block", regexp.MustCompile(`-----BEGIN [A-Z0-9 ]+-----`)},
	{"URL with a password", regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:"'<>\x00]+:[^\s/?#@"'<>\x00]+@`)},
}

func TestBinaryHoldsNoSecretLookingLiteral(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "runtime-identity")
	goCmd(t, "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, binaryPkg)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	// A reachable template engine (reflection) or test support would push it past this.
	const maxBytes = 10_000_000
	t.Logf("stripped binary: %d bytes", len(data))
	if len(data) > maxBytes {
		t.Errorf("the stripped binary is %d bytes, over the %d allowed: look for a reachable text/template or html/template, or a new dependency", len(data), maxBytes)
	}
	for _, p := range secretLooking {
		for _, loc := range p.re.FindAllIndex(data, 5) {
			lo, hi := max(loc[0]-40, 0), min(loc[1]+40, len(data))
			t.Errorf("the binary holds a %s at byte %d: %q", p.name, loc[0], data[lo:hi])
		}
	}
}

// TestPatternsCatchPlantedLiterals keeps the scan honest: each pattern matches the kind of
// literal it is there for.
func TestPatternsCatchPlantedLiterals(t *testing.T) {
	t.Parallel()
	samples := map[string]string{
		"Stripe live key prefix": "x\x00sk_live_abc",
		"GitHub token prefix":    "ghp_0123456789",
		"npm token prefix":       "NPM_TOKEN=npm_abc",
		"AWS access key id":      "AKIAIOSFODNN7EXAMPLE",
		"PEM block":              "-----BEGIN PRIVATE KEY-----\nabc",
		"URL with a password":    "postgres://shop:hunter2@db.internal:5432/shop",
	}
	for _, p := range secretLooking {
		if !p.re.MatchString(samples[p.name]) {
			t.Errorf("pattern %s does not match its sample %q", p.name, samples[p.name])
		}
	}
	for _, clean := range []string{"-----BEGIN \x00\x00/dev/urandom", "https://example.com/a@b", "http://user@host/"} {
		for _, p := range secretLooking {
			if p.re.MatchString(clean) {
				t.Errorf("pattern %s matches the harmless %q", p.name, clean)
			}
		}
	}
}
