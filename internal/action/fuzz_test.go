package action

import (
	"strings"
	"testing"
	"time"
)

// FuzzInputs: any input values either give configuration errors naming inputs, or a config whose
// assembled identity passes the contract. Nothing panics.
func FuzzInputs(f *testing.F) {
	f.Add("verify", "shop", "prod", "a", "s", "https://x.example.com/h", "3m", "auto", "false")
	f.Add("render", "c#", "i\n", "${{x}}", "", "", "", "0", "yes")
	f.Add("deploy", "", "", "", "", "ftp://x", "-1s", "1000", "true")
	f.Fuzz(func(t *testing.T, mode, ctx, inst, art, ref, health, timeout, conf, req string) {
		get := inputs("mode", mode, "context", ctx, "instance", inst, "artifact-id", art, "source-git-ref", ref,
			"health-url", health, "verify-timeout", timeout, "confirmations", conf, "require-identity", req,
			"deployment-record-id", "deployment-1")
		c, err := parseConfig(get)
		if err != nil {
			errs, ok := err.(ConfigErrors)
			if !ok || len(errs) == 0 {
				t.Fatalf("parseConfig() = %v (%T)", err, err)
			}
			for _, e := range errs {
				if _, known := lookupInput(e.Input); !known {
					t.Fatalf("error names unknown input %q: %v", e.Input, e)
				}
			}
			return
		}
		id, _, err := assembleIdentity(c, Workflow{}, time.Unix(0, 0), readIdentityFile, nil, "")
		if err != nil {
			return
		}
		if err := id.Validate(); err != nil {
			t.Fatalf("assembled identity breaks the contract: %v", err)
		}
	})
}

// FuzzCleanOutput: an untrusted value never reaches GITHUB_OUTPUT with a line break.
func FuzzCleanOutput(f *testing.F) {
	f.Add("a\nb")
	f.Add("x\r\n_GitHubActionsFileCommandDelimeter_\r\ninjected=1")
	f.Fuzz(func(t *testing.T, v string) {
		got := cleanOutput(v)
		if strings.ContainsAny(got, "\r\n") || len(got) > maxOutputLen {
			t.Fatalf("cleanOutput(%q) = %q", v, got)
		}
	})
}
