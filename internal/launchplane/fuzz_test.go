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
// record is the one requested and its identity, when present, is valid and names it, and a
// refusal is one of the documented errors.
func FuzzParseRead(f *testing.F) {
	ident := `{"schema_version":1,"product":"p","context":"c","instance":"prod","environment_kind":"stable","deployment_record_id":"` + fuzzRecordID + `","artifact_id":"a","source_git_ref":"abc","image_reference":"","release_tuple_id":"","preview_id":"","preview_generation_id":"","deployed_at":"2026-05-10T14:15:00Z"}`
	for _, s := range []string{
		`{"status":"ok","trace_id":"t","record":{"record_id":"` + fuzzRecordID + `","context":"c","instance":"prod","runtime_identity":` + ident + `}}`,
		`{"status":"ok","trace_id":"t","record":{"record_id":"` + fuzzRecordID + `","runtime_identity":null}}`,
		`{"status":"ok","record":{"record_id":"` + fuzzRecordID + `"}}`,
		`{"status":"ok","record":{"record_id":"other","runtime_identity":` + ident + `}}`,
		`{"status":"ok","record":{"deployment_record_id":"` + fuzzRecordID + `"}}`,
		`{"status":"ok","record":{"record_id":"` + fuzzRecordID + `","runtime_identity":"{}"}}`,
		`{"status":"rejected","record":{}}`,
		`{"status":"ok","record":[]}`,
		`[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseRead(data, fuzzRecordID)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrInvalidIdentity) && !errors.Is(err, ErrRecordMismatch) {
				t.Errorf("parseRead() = %v, want a documented sentinel", err)
			}
			return
		}
		var body struct {
			Record map[string]json.RawMessage
		}
		var gotID any
		if json.Unmarshal(data, &body) != nil || json.Unmarshal(body.Record["record_id"], &gotID) != nil || gotID != fuzzRecordID {
			t.Errorf("parseRead() accepted a body whose record is not %s by its exact record_id key", fuzzRecordID)
		}
		if d.Expected != nil {
			check := *d.Expected
			check.DeployedAt = ""
			if err := check.Validate(); err != nil || d.Expected.DeploymentRecordID != fuzzRecordID {
				t.Errorf("parseRead() accepted identity %+v: %v", d.Expected, err)
			}
		}
		if strings.IndexFunc(d.TraceID, unicode.IsControl) >= 0 {
			t.Errorf("parseRead() TraceID %q holds a control character", d.TraceID)
		}
	})
}

// FuzzParseEnvironment feeds untrusted product environment envelopes to parseEnvironment.
func FuzzParseEnvironment(f *testing.F) {
	f.Add([]byte(`{"status":"ok","trace_id":"t","environment":{"product":"p","environment":"prod","context":"c","base_url":"https://x","health_url":"https://x/h","warnings":["a\nb"],"target":{"expected_runtime_identity":null,"trust_state":"missing"}}}`))
	f.Add([]byte(`{"status":"ok","environment":{"product":"q","environment":"prod","target":{}}}`))
	f.Add([]byte(`{"status":"ok","environment":{"product":"p","environment":"prod","target":{"expected_runtime_identity":[]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := parseEnvironment(data, "p", "prod")
		if err != nil {
			if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrInvalidIdentity) && !errors.Is(err, ErrRecordMismatch) {
				t.Errorf("parseEnvironment() = %v, want a documented sentinel", err)
			}
			return
		}
		var body struct {
			Environment map[string]json.RawMessage
		}
		var gotProduct, gotEnvironment any
		if json.Unmarshal(data, &body) != nil || json.Unmarshal(body.Environment["product"], &gotProduct) != nil ||
			json.Unmarshal(body.Environment["environment"], &gotEnvironment) != nil || gotProduct != "p" || gotEnvironment != "prod" {
			t.Errorf("parseEnvironment() accepted a body that is not environment prod of product p by its exact keys")
		}
		for _, s := range append([]string{e.TrustState, e.ObservedStatus, e.ObservedDetail, e.TraceID}, e.Warnings...) {
			if strings.IndexFunc(s, unicode.IsControl) >= 0 {
				t.Errorf("parseEnvironment() kept a control character in %q", s)
			}
		}
	})
}

// FuzzParseAccepted feeds untrusted accepted envelopes to parseAccepted.
func FuzzParseAccepted(f *testing.F) {
	f.Add([]byte(`{"status":"accepted","trace_id":"t","records":{"deployment_record_id":"d"},"result":{"deployment_health_status":"pass"},"replayed":true,"original_trace_id":"o"}`))
	f.Add([]byte(`{"status":"accepted","records":{"x":{"a":1}},"result":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := parseAccepted(data)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Errorf("parseAccepted() = %v, want ErrBadResponse", err)
			}
			return
		}
		for k, v := range a.Records {
			if strings.IndexFunc(k+v, unicode.IsControl) >= 0 {
				t.Errorf("parseAccepted() kept a control character in %q=%q", k, v)
			}
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

// FuzzParseProfile feeds untrusted product profile envelopes to parseProfile: it never panics,
// an accepted profile is the one requested, the rules it names are one line each, and a refusal
// is one of the documented errors.
func FuzzParseProfile(f *testing.F) {
	for _, s := range []string{
		`{"status":"ok","trace_id":"t","profile":{"product":"p","driver_id":"generic-web","health_path":"/api/health","lanes":[{"instance":"prod","context":"p","base_url":"https://x","health_url":"","odoo_data_policy":{"requires_runtime_identity":true},"health_monitoring":{"monitoring_intent":"public","checks":[{"name":"public-ingress","enabled":true,"require_runtime_identity":true}]}}]}}`,
		`{"status":"ok","profile":{"product":"p","driver_id":"odoo","lanes":[{"instance":"prod","context":"p","odoo_data_policy":{}}]}}`,
		`{"status":"ok","profile":{"product":"p","lanes":[{"instance":"prod"}]}}`,
		`{"status":"ok","profile":{"product":"q","lanes":[]}}`,
		`{"status":"ok","profile":{"product":"p","lanes":null}}`,
		`{"status":"ok","profile":{"product":"p","lanes":[null]}}`,
		`{"status":"ok","profile":{"product":"p","lanes":[{"instance":"a","context":"b","health_monitoring":{"checks":[null,{"name":"\u001b[31mx","require_runtime_identity":true}]}}]}}`,
		`{"status":"ok","profile":{"product":"p","lanes":[{"instance":1,"context":"b"}]}}`,
		`{"status":"rejected"}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseProfile(data, "p")
		if err != nil {
			if !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrRecordMismatch) {
				t.Errorf("parseProfile() = %v, want a documented sentinel", err)
			}
			return
		}
		var body struct {
			Profile map[string]json.RawMessage
		}
		var gotProduct any
		if json.Unmarshal(data, &body) != nil || json.Unmarshal(body.Profile["product"], &gotProduct) != nil || gotProduct != "p" {
			t.Errorf("parseProfile() accepted a body whose profile is not product p by its exact product key")
		}
		for _, l := range p.Lanes {
			for _, s := range l.RequiredBy {
				if strings.IndexFunc(s, unicode.IsControl) >= 0 {
					t.Errorf("RequiredBy %q holds a control character", s)
				}
			}
		}
		if strings.IndexFunc(p.TraceID+p.DriverID, unicode.IsControl) >= 0 {
			t.Errorf("parseProfile() kept a control character in %q %q", p.TraceID, p.DriverID)
		}
	})
}
