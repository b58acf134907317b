package action

import (
	"encoding/json"
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

// FuzzDuplicateKey: duplicateKey never panics, a key it calls duplicated appears at least twice
// in the text, and a document it accepts decodes without losing a top-level key.
func FuzzDuplicateKey(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":{"b":[{"c":1,"c":2}]}}`, `[{"a":1},{"a":1}]`, `{"a":"a"}`, `{}`, `1`, `{"\u0061":1,"a":2}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, dup := duplicateKey([]byte(s))
		if dup {
			quoted, _ := json.Marshal(key)
			if strings.Count(s, string(quoted)) < 2 && !strings.Contains(s, `\`) {
				t.Errorf("duplicateKey(%q) = %q, which does not appear twice", s, key)
			}
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &m) != nil {
			return
		}
		dec := json.NewDecoder(strings.NewReader(s))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
		n := 0
		for dec.More() {
			if _, err := dec.Token(); err != nil {
				t.Fatal(err)
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			n++
		}
		if n != len(m) {
			t.Errorf("duplicateKey(%q) found no duplicate, but decoding kept %d of %d keys", s, len(m), n)
		}
	})
}
