package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// inputForField names the input that sets a contract field, for error messages.
func inputForField(field string) string {
	if f, ok := identity.FieldByName(field); ok && f.Input != "" {
		return f.Input
	}
	return field
}

// setField sets a contract field of id; schema_version, the one integer field, is not set here.
func setField(id *identity.Identity, field, v string) {
	if f, ok := identity.FieldByName(field); ok {
		if p := f.Ptr(id); p != nil {
			*p = v
		}
	}
}

// assemble is the assemble step: it reads Launchplane when launchplane-url is given, then builds
// the expected identity. A non-zero exit code ends the run before anything was written (2 for
// bad input, 3 when Launchplane could not be read); the error was reported.
func (r *runner) assemble(ctx context.Context, cfg *Config, wf Workflow, now time.Time) (Expected, int) {
	var (
		rec   *Record
		notes []string
	)
	if cfg.LaunchplaneURL != "" {
		var (
			code  int
			fault *Fault
		)
		if rec, notes, fault, code = r.readLaunchplane(ctx, cfg, wf); code != ExitOK {
			return Expected{}, code
		}
		if fault != nil {
			exp, _ := r.withoutIdentity(cfg, &Record{RecordID: cfg.Fields["deployment_record_id"]}, notes, "the expected identity could not be read from Launchplane")
			exp.Fault, exp.Record = fault, nil
			return exp, ExitOK
		}
		if rec.Identity == nil {
			if cfg.Mode == ModeDeploy || cfg.Mode == ModeInject {
				// Nothing to inject: writing an empty identity would be worse than none.
				return Expected{}, r.configError(&ConfigError{Input: "deployment-record-id", Problem: "the Launchplane record carries no runtime identity, so mode " + string(cfg.Mode) + " has nothing to inject; give the identity fields or identity-json, or use mode verify"})
			}
			return r.withoutIdentity(cfg, rec, notes, "")
		}
	}
	var record *identity.Identity
	recordURL := ""
	if rec != nil {
		record, recordURL = rec.Identity, rec.URL
	}
	id, prov, err := assembleIdentity(cfg, wf, now, r.env.ReadFile, record, recordURL)
	if err != nil {
		return Expected{}, r.configError(err)
	}
	return Expected{Identity: id, Provenance: prov, Record: rec, Notes: notes}, ExitOK
}

// withoutIdentity is the expectation of a Launchplane record or lane that holds no runtime
// identity: nothing can be compared, so the run reports unchecked and says why; with
// require-identity it fails as any non-match does.
func (r *runner) withoutIdentity(cfg *Config, rec *Record, notes []string, missing string) (Expected, int) {
	id := identity.Identity{SchemaVersion: identity.SchemaVersion, DeploymentRecordID: rec.RecordID}
	for field, v := range cfg.Fields {
		setField(&id, field, v)
	}
	what := "the Launchplane deployment record " + rec.RecordID
	if rec.RecordID == "" {
		what = "the Launchplane lane " + cfg.Fields["product"] + "/" + cfg.Fields["instance"]
	}
	if missing == "" {
		missing = what + " carries no runtime identity (it was made before Launchplane recorded identities, or the lane has no current deployment), so there is nothing to compare"
		r.sink.infof("%s", missing)
	}
	return Expected{Identity: id, Missing: missing, Record: rec, Notes: notes}, ExitOK
}

// assembleIdentity builds the expected identity, highest source first: explicit inputs; a Launchplane
// record (record, read from recordURL, nil without one); a whole identity (identity-json or
// identity-file); workflow defaults. It validates the result and names the input to fix when a
// field breaks the contract.
func assembleIdentity(c *Config, w Workflow, now time.Time, readFile func(string) ([]byte, error), record *identity.Identity, recordURL string) (identity.Identity, map[string]summary.Source, error) {
	id := identity.Identity{SchemaVersion: identity.SchemaVersion}
	prov := map[string]summary.Source{}
	set := func(field, v string, p summary.Source) {
		setField(&id, field, v)
		prov[field] = p
	}
	// every marks each string field as coming from one source.
	every := func(p summary.Source) {
		for _, f := range identity.Fields {
			if f.Ptr(&id) != nil {
				prov[f.Name] = p
			}
		}
	}

	whole, wholeInput := []byte(c.IdentityJSON), "identity-json"
	if c.IdentityFile != "" {
		b, err := readFile(c.IdentityFile)
		if err != nil {
			return id, nil, err
		}
		whole, wholeInput = b, "identity-file"
	}
	if c.IdentityFile != "" && len(bytes.TrimSpace(whole)) == 0 {
		return id, nil, &ConfigError{Input: "identity-file", Problem: fmt.Sprintf("the file %s is empty; it must hold one runtime identity JSON object", show(c.IdentityFile))}
	}
	if len(whole) > 0 {
		if key, dup := duplicateKey(whole); dup {
			return id, nil, &ConfigError{Input: wholeInput, Problem: fmt.Sprintf("the key %s appears twice, so the identity is ambiguous; give each field once", show(key))}
		}
		parsed, err := identity.ParseExpected(whole)
		if err != nil {
			var ve *identity.ValidationError
			if !errors.As(err, &ve) {
				return id, nil, &ConfigError{Input: wholeInput, Problem: "is not a valid runtime identity: " + identity.Reason(err)}
			}
			var errs ConfigErrors
			for _, p := range ve.Problems {
				errs = append(errs, &ConfigError{Input: wholeInput, Problem: "not a valid runtime identity: " + p.Field + " " + p.Reason})
			}
			return id, nil, errs
		}
		id = parsed
		every(summary.Source{Kind: summary.SourceIdentityJSON, Detail: wholeInput})
	} else {
		id.EnvironmentKind = identity.KindStable
		prov["environment_kind"] = summary.Source{Kind: summary.SourceDefault, Detail: "stable outside pull_request events"}
		if sha := w.SourceSHA(); sha != "" {
			detail := "GITHUB_SHA"
			if w.IsPullRequest() && w.PRHeadSHA != "" {
				detail = "pull request head SHA"
			}
			set("source_git_ref", sha, summary.Source{Kind: summary.SourceWorkflow, Detail: detail})
		}
		if w.IsPullRequest() {
			slug := w.PreviewSlug()
			set("environment_kind", identity.KindPreview, summary.Source{Kind: summary.SourceWorkflow, Detail: w.EventName + " event"})
			set("instance", slug, summary.Source{Kind: summary.SourceWorkflow, Detail: "pull request number"})
			set("preview_id", slug, summary.Source{Kind: summary.SourceWorkflow, Detail: "pull request number"})
		}
	}
	if record != nil {
		id = *record
		every(summary.Source{Kind: summary.SourceRecord, Detail: recordURL})
	}
	for field, v := range c.Fields {
		if record != nil && field == "deployment_record_id" {
			continue // the record was read by this id
		}
		set(field, v, summary.Source{Kind: summary.SourceInput, Detail: inputForField(field)})
	}
	if (c.Mode == ModeDeploy || c.Mode == ModeInject) && w.IsPullRequest() && prov["environment_kind"].Kind != summary.SourceInput &&
		prov["environment_kind"].Kind != summary.SourceIdentityJSON && prov["environment_kind"].Kind != summary.SourceRecord {
		// A pull_request event must not turn a stable target's identity into a preview's.
		return id, nil, &ConfigError{Input: "environment-kind", Problem: fmt.Sprintf("mode %s on a %s event needs environment-kind set explicitly: preview for a per-PR target (such as dokploy-application-name: shop-pr-${{ github.event.number }}), stable for a stable one", c.Mode, w.EventName)}
	}
	if id.ArtifactID == "" && id.ImageReference != "" {
		set("artifact_id", id.ImageReference, summary.Source{Kind: summary.SourceDefault, Detail: "image-reference"})
	}
	if id.DeploymentRecordID == "" && c.Mode != ModeVerify && id.Context != "" && id.Instance != "" {
		rec := fmt.Sprintf("deployment-%s-%s-%s", now.UTC().Format("20060102T150405Z"), id.Context, id.Instance)
		set("deployment_record_id", rec, summary.Source{Kind: summary.SourceDefault, Detail: "generated in Launchplane's format"})
	}
	if c.Mode == ModeDeploy || c.Mode == ModeInject {
		// The env carries no deployed_at: the record gets the finish time later.
		id = id.Injected()
	}
	if err := id.Validate(); err != nil {
		var ve *identity.ValidationError
		if !errors.As(err, &ve) {
			return id, nil, err
		}
		var errs ConfigErrors
		for _, p := range ve.Problems {
			errs = append(errs, &ConfigError{Input: inputFor(p.Field, prov), Problem: fieldProblem(p, c.Mode)})
		}
		return id, nil, errs
	}
	return id, prov, nil
}

// inputFor names the input responsible for a bad field.
func inputFor(field string, prov map[string]summary.Source) string {
	if p, ok := prov[field]; ok && p.Kind == summary.SourceIdentityJSON {
		return p.Detail
	}
	return inputForField(field)
}

func fieldProblem(p identity.FieldError, m Mode) string {
	if strings.HasPrefix(p.Reason, "is required") {
		switch p.Field {
		case "deployment_record_id":
			if m == ModeVerify {
				return "mode verify needs the expected deployment record id (set deployment-record-id, identity-json or identity-file)"
			}
			return "is required (set deployment-record-id, or context and instance so one is generated)"
		case "artifact_id":
			return "is required (set artifact-id or image-reference)"
		case "source_git_ref":
			return "is required (set source-git-ref; GITHUB_SHA is used inside GitHub Actions)"
		case "instance":
			return "is required (set instance; pull_request events default to pr-<number>)"
		}
		return "is required and must not be empty"
	}
	return p.Field + " " + p.Reason
}

// duplicateKey reports the first key that appears twice in one JSON object of raw. Go's decoder
// keeps the last of duplicate keys silently (and other parsers the first), so a document with
// one is ambiguous. Text that is not JSON reports no duplicate; the parser names that problem.
func duplicateKey(raw []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type object struct {
		keys      map[string]bool
		expectKey bool
	}
	var stack []*object
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if top != nil && !top.expectKey {
					top.expectKey = true // the object is this key's value
				}
				stack = append(stack, &object{keys: map[string]bool{}, expectKey: true})
			case '[':
				if top != nil && !top.expectKey {
					top.expectKey = true
				}
				stack = append(stack, nil)
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.expectKey {
				if top.keys[t] {
					return t, true
				}
				top.keys[t] = true
				top.expectKey = false
				continue
			}
		}
		if top != nil {
			top.expectKey = true // a scalar value ends the pair
		}
	}
}
