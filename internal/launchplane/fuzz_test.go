package launchplane

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode"
)

const fuzzRecordID = "deployment-20260510T141500Z-sellyouroutboard-prod"

// FuzzParseRead feeds untrusted read envelopes to parseRead: it never panics, an accepted
// record always carries a valid identity for the requested id, and a refusal is one of the
// documented errors.
func FuzzParseRead(f *testing.F) {
	ident := `{"artifact_id":"a","context":"c","deployed_at":"","deployment_record_id":"` + fuzzRecordID + `","environment_kind":"stable","image_reference":"","instance":"prod","preview_generation_id":"","preview_id":"","product":"p","release_tuple_id":"","schema_version":1,"source_git_ref":"abc"}`
	quoted, _ := json.Marshal(ident)
	for _, s := range []string{
		`{"status":"ok","trace_id":"t","record":{"runtime_identity":` + ident + `}}`,
		`{"status":"ok","trace_id":"t","record":{"runtime_identity":` + string(quoted) + `}}`,
		`{"status":"ok","record":{"runtime_identity":null,"expected_runtime_identity":` + ident + `}}`,
		`{"status":"ok","record":{"deployment_record_id":7}}`,
		`{"status":"ok","record":{"runtime_identity":"\"\\\"{}\\\"\""}}`,
		`{"status":"rejected","record":{}}`,
		`{"status":"ok","record":[]}`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseRead(data, fuzzRecordID)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrNoIdentity) &&
				!errors.Is(err, ErrInvalidIdentity) && !errors.Is(err, ErrRecordMismatch) {
				t.Errorf("parseRead() = %v, want a documented sentinel", err)
			}
			return
		}
		if err := d.Identity.Validate(); err != nil {
			t.Errorf("parseRead() accepted an invalid identity: %v", err)
		}
		if d.Identity.DeploymentRecordID != fuzzRecordID {
			t.Errorf("parseRead() identity record = %q, want %q", d.Identity.DeploymentRecordID, fuzzRecordID)
		}
		if d.IdentityKey != KeyRuntimeIdentity && d.IdentityKey != KeyExpectedRuntimeIdentity {
			t.Errorf("parseRead() IdentityKey = %q", d.IdentityKey)
		}
		if strings.IndexFunc(d.TraceID, unicode.IsControl) >= 0 {
			t.Errorf("parseRead() TraceID %q holds a control character", d.TraceID)
		}
	})
}

// FuzzClean checks that clean never lets the token, or a run starting with its first
// characters, through, and always returns one line.
func FuzzClean(f *testing.F) {
	f.Add("bad token s3cr3t-token-value", "s3cr3t-token-value")
	f.Add("token s3cr3t-t… cut", "s3cr3t-token-value")
	f.Add("jwt eyJhbGciOi.eyJzdWIi.sig\nnext", "x")
	f.Fuzz(func(t *testing.T, s, tok string) {
		if !printableToken(tok) || strings.Contains(tok, "*") {
			return // the client refuses such tokens before sending; "***" is the redaction mark
		}
		got := clean(s, tok)
		if len(tok) >= tokenPrefixLen && strings.Contains(got, tok[:tokenPrefixLen]) {
			t.Errorf("clean(%q, %q) = %q, holds the token prefix", s, tok, got)
		}
		if tok != "" && strings.Contains(got, tok) {
			t.Errorf("clean(%q, %q) = %q, holds the token", s, tok, got)
		}
		if strings.IndexFunc(got, unicode.IsControl) >= 0 {
			t.Errorf("clean(%q) = %q, holds a control character", s, got)
		}
	})
}
