package summary

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// EvidenceSchemaVersion is the version of the evidence document (schema/evidence.v1.schema.json).
const EvidenceSchemaVersion = 1

// Evidence limits.
const (
	// MaxObservedBytes caps the observed identity kept as reported; a larger one is replaced by
	// {"_cut": true, "bytes": N, "reason": "..."}.
	MaxObservedBytes = 64 << 10
	// evidenceRunes caps every other text value taken from the report.
	evidenceRunes = 1024
)

// Trust states, Launchplane's read-model vocabulary.
const (
	TrustVerified    = "verified"    // observed now and matching
	TrustRecorded    = "recorded"    // the expected identity as assembled or recorded, not observed
	TrustStale       = "stale"       // the tenant serves a different identity
	TrustMissing     = "missing"     // no identity: the tenant reports none, or none was expected
	TrustUnsupported = "unsupported" // the tenant's answer could not be read as an identity
)

// TrustStateOf maps a verdict to Launchplane's trust_state:
//
//	match                      -> verified
//	mismatch                   -> stale
//	missing                    -> missing
//	malformed, unverifiable    -> unsupported
//	unchecked, expected given  -> recorded (assembled, injected or read from a record; not observed)
//	unchecked, nothing expected -> missing
func TrustStateOf(st identity.Status, expected bool) string {
	switch st {
	case identity.StatusMatch:
		return TrustVerified
	case identity.StatusMismatch:
		return TrustStale
	case identity.StatusMissing:
		return TrustMissing
	case identity.StatusMalformed, identity.StatusUnverifiable:
		return TrustUnsupported
	default:
		if expected {
			return TrustRecorded
		}
		return TrustMissing
	}
}

// The evidence document. Every value comes from the Report; nothing is read from the
// environment, the runner or the file system.
type evidence struct {
	SchemaVersion   int                 `json:"schema_version"`
	Tool            evTool              `json:"tool"`
	Mode            string              `json:"mode"`
	Outcome         string              `json:"outcome"`
	ExitCode        int                 `json:"exit_code"`
	RequireIdentity bool                `json:"require_identity"`
	Status          string              `json:"runtime_identity_status"`
	Detail          string              `json:"runtime_identity_detail"`
	TrustState      string              `json:"trust_state"`
	Expected        *identity.Identity  `json:"expected_runtime_identity"`
	ExpectedDigest  *string             `json:"expected_digest"`
	Observed        json.RawMessage     `json:"observed_runtime_identity"`
	Mismatched      []string            `json:"mismatched_fields"`
	Fields          []evField           `json:"fields"`
	Surface         *string             `json:"surface"`
	URL             *string             `json:"url"`
	Attempts        int                 `json:"attempts"`
	Confirmations   int                 `json:"confirmations"`
	Required        int                 `json:"confirmations_required"`
	TimedOut        bool                `json:"timed_out"`
	Timings         evTimings           `json:"timings"`
	Dokploy         *evDokploy          `json:"dokploy"`
	GitHub          *evGitHub           `json:"github"`
	Provenance      map[string]evSource `json:"provenance"`
	Links           evLinks             `json:"links"`
	Surfaces        []evAnswer          `json:"surfaces"`
	Notes           []string            `json:"notes"`
	Warnings        []string            `json:"warnings"`
	Unavailable     []evUnavailable     `json:"unavailable"`
	Cancelled       *string             `json:"cancelled"`
	Rollback        *evRollback         `json:"rollback"`
}

type evRollback struct {
	Status       string             `json:"status"`
	Reason       string             `json:"reason"`
	RollbackID   *string            `json:"rollback_id"`
	DeploymentID *string            `json:"deployment_id"`
	Restored     *identity.Identity `json:"restored_runtime_identity"`
	Verdict      string             `json:"runtime_identity_status"`
	Detail       string             `json:"runtime_identity_detail"`
	EnvRestored  bool               `json:"env_restored"`
	ElapsedMS    int64              `json:"elapsed_ms"`
	MatchMS      *int64             `json:"time_to_match_ms"`
	Notes        []string           `json:"notes"`
}

type evTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type evField struct {
	Field    string `json:"field"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	Compared bool   `json:"compared"`
	Result   string `json:"result"`
}

type evTimings struct {
	StartedAt     *string          `json:"started_at"`
	FinishedAt    *string          `json:"finished_at"`
	ElapsedMS     *int64           `json:"elapsed_ms"`
	ProbeMS       *int64           `json:"probe_ms"`
	TimeToMatchMS *int64           `json:"time_to_match_ms"`
	RolloutMS     *int64           `json:"rollout_ms"`
	QueuedMS      *int64           `json:"queued_ms"`
	FirstSeenMS   map[string]int64 `json:"first_seen_ms"`
}

type evDokploy struct {
	TargetKind   string  `json:"target_kind"`
	TargetID     string  `json:"target_id"`
	DeploymentID *string `json:"deployment_id"`
	Status       string  `json:"status"`
	Title        string  `json:"title"`
	Trigger      string  `json:"trigger"`
	EnvChanged   bool    `json:"env_changed"`
	Error        string  `json:"error"`
	Ending       string  `json:"ending"`
	LogTail      string  `json:"log_tail"`
}

type evGitHub struct {
	DeploymentID   *int64 `json:"deployment_id"`
	State          string `json:"state"`
	Environment    string `json:"environment"`
	EnvironmentURL string `json:"environment_url"`
	LogURL         string `json:"log_url"`
	Error          string `json:"error"`
}

type evSource struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
	Link   string `json:"link,omitempty"`
}

type evLinks struct {
	Run    string `json:"run"`
	Record string `json:"record"`
}

type evAnswer struct {
	Surface            string `json:"surface"`
	URL                string `json:"url"`
	StatusCode         int    `json:"status_code"`
	Status             string `json:"status"`
	Key                string `json:"key"`
	Detail             string `json:"detail"`
	DeploymentRecordID string `json:"deployment_record_id"`
	Digest             string `json:"digest"`
}

type evUnavailable struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Evidence renders the evidence file: one compact JSON object with Launchplane's read-model names
// (expected_runtime_identity, observed_runtime_identity, runtime_identity_status,
// runtime_identity_detail, trust_state), the probe, timings, Dokploy and GitHub ids, provenance
// for each expected field, every surface's answer, notes, warnings, and an "unavailable" entry for
// each piece of evidence that could not be had. It follows schema/evidence.v1.schema.json.
func Evidence(r Report) ([]byte, error) {
	e := evidence{
		SchemaVersion:   EvidenceSchemaVersion,
		Tool:            evTool{r.ev(r.Tool.Name), r.ev(r.Tool.Version)},
		Mode:            r.ev(r.Mode),
		Outcome:         r.ev(string(r.Outcome)),
		ExitCode:        r.ExitCode,
		RequireIdentity: r.RequireIdentity,
		Status:          string(r.status()),
		Detail:          r.ev(r.Verdict.Detail),
		TrustState:      r.ev(r.TrustState),
		Expected:        r.Expected,
		Observed:        r.observedJSON(),
		Mismatched:      make([]string, 0, len(r.Verdict.Mismatched)),
		Fields:          make([]evField, 0, len(r.Verdict.Fields)),
		Provenance:      make(map[string]evSource, len(r.Provenance)),
		Links:           evLinks{r.ev(r.Links.Run), r.ev(r.Links.Record)},
		Surfaces:        []evAnswer{},
		Notes:           r.evList(r.notes()),
		Warnings:        r.evList(r.Warnings),
		Timings:         r.evTimings(),
	}
	if r.Expected != nil {
		d := r.Expected.Digest()
		e.ExpectedDigest = &d
	}
	if r.Cancelled != "" {
		c := r.ev(r.Cancelled)
		e.Cancelled = &c
	}
	if r.RollbackStatus != "" {
		e.Rollback = &evRollback{Status: r.ev(r.RollbackStatus), Verdict: string(identity.StatusUnchecked), Notes: []string{}}
		if rb := r.Rollback; rb != nil {
			e.Rollback.Reason, e.Rollback.Restored, e.Rollback.EnvRestored = r.ev(rb.Reason), rb.Restored, rb.EnvRestored
			if rb.Verdict.Status != "" {
				e.Rollback.Verdict = string(rb.Verdict.Status)
			}
			e.Rollback.Detail, e.Rollback.ElapsedMS, e.Rollback.Notes = r.ev(rb.Verdict.Detail), rb.Elapsed.Milliseconds(), r.evList(rb.Notes)
			if rb.RollbackID != "" {
				id, dep := r.ev(rb.RollbackID), r.ev(rb.DeploymentID)
				e.Rollback.RollbackID, e.Rollback.DeploymentID = &id, &dep
			}
			if rb.TimeToMatch > 0 {
				ms := rb.TimeToMatch.Milliseconds()
				e.Rollback.MatchMS = &ms
			}
		}
	}
	for _, m := range r.Verdict.Mismatched {
		e.Mismatched = append(e.Mismatched, r.ev(m))
	}
	for _, f := range r.Verdict.Fields {
		e.Fields = append(e.Fields, evField{r.ev(f.Field), r.ev(f.Expected), r.ev(f.Observed), f.Compared, r.ev(f.Result)})
	}
	if p := r.Probe; p != nil {
		s, u := r.ev(string(p.Surface)), r.ev(p.URL)
		e.Surface, e.URL = &s, &u
		e.Attempts, e.Confirmations, e.Required, e.TimedOut = p.Attempts, p.Confirmations, p.Required, p.TimedOut
		for _, a := range p.Answers {
			e.Surfaces = append(e.Surfaces, evAnswer{
				Surface: r.ev(string(a.Surface)), URL: r.ev(a.URL), StatusCode: a.StatusCode, Status: r.ev(string(a.Status)),
				Key: r.ev(a.Key), Detail: r.ev(a.Detail), DeploymentRecordID: r.ev(a.DeploymentRecordID), Digest: r.ev(a.Digest),
			})
		}
	}
	if ro := r.Rollout; ro != nil {
		e.Dokploy = &evDokploy{
			TargetKind: r.ev(ro.TargetKind), TargetID: r.ev(ro.TargetID), Status: r.ev(ro.Status), Title: r.ev(ro.Title),
			Trigger: r.ev(ro.Trigger), EnvChanged: ro.EnvChanged, Error: r.ev(ro.Error), Ending: r.ev(ro.Ending),
			LogTail: r.evLog(ro.LogTail),
		}
		if ro.DeploymentID != "" {
			id := r.ev(ro.DeploymentID)
			e.Dokploy.DeploymentID = &id
		}
	}
	if g := r.GitHub; g != nil {
		e.GitHub = &evGitHub{State: r.ev(r.GitHubState), Environment: r.ev(g.Environment), EnvironmentURL: r.ev(g.EnvironmentURL), LogURL: r.ev(g.LogURL), Error: r.ev(g.Error)}
		if g.DeploymentID != 0 {
			id := g.DeploymentID
			e.GitHub.DeploymentID = &id
		}
	}
	for field, src := range r.Provenance {
		s := evSource{Kind: r.ev(src.Kind), Detail: r.ev(src.Detail), Link: r.ev(r.Links.Run)}
		if src.Kind == SourceRecord {
			s.Link = r.ev(r.Links.Record)
		}
		e.Provenance[r.ev(field)] = s
	}
	for _, u := range r.unavailable() {
		e.Unavailable = append(e.Unavailable, evUnavailable{r.ev(u.Field), r.ev(u.Reason)})
	}
	if e.Unavailable == nil {
		e.Unavailable = []evUnavailable{}
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("summary: evidence: %w", err)
	}
	return b, nil
}

// ev redacts and cuts one text value for the evidence file.
func (r *Report) ev(s string) string { return cut(r.redact(s), evidenceRunes) }

func (r *Report) evList(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, r.ev(l))
	}
	return out
}

// observedJSON is the observed identity as reported, or null; over MaxObservedBytes, or not JSON,
// a marker object in its place.
func (r *Report) observedJSON() json.RawMessage {
	raw := bytes.TrimSpace(r.Observed)
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	if r.Redact != nil {
		raw = RedactJSON(raw, r.Redact)
	}
	marker := func(reason string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"_cut":true,"bytes":%d,"reason":%q}`, len(r.Observed), reason))
	}
	if len(raw) > MaxObservedBytes {
		return marker(fmt.Sprintf("larger than %d bytes", MaxObservedBytes))
	}
	if !json.Valid(raw) {
		return marker("not valid JSON")
	}
	return raw
}

func (r *Report) evTimings() evTimings {
	t := evTimings{FirstSeenMS: map[string]int64{}}
	ms := func(d time.Duration) *int64 { v := d.Milliseconds(); return &v }
	stamp := func(ts time.Time) *string { s := ts.UTC().Format(time.RFC3339Nano); return &s }
	if !r.StartedAt.IsZero() {
		t.StartedAt = stamp(r.StartedAt)
	}
	if !r.FinishedAt.IsZero() {
		t.FinishedAt = stamp(r.FinishedAt)
	}
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		t.ElapsedMS = ms(r.FinishedAt.Sub(r.StartedAt))
	}
	if p := r.Probe; p != nil {
		t.ProbeMS = ms(p.Elapsed)
		if r.status() == identity.StatusMatch {
			t.TimeToMatchMS = ms(p.TimeToMatch)
		}
		for st, d := range p.FirstSeen {
			t.FirstSeenMS[r.ev(string(st))] = d.Milliseconds()
		}
	}
	if ro := r.Rollout; ro != nil && ro.DeploymentID != "" {
		t.RolloutMS = ms(ro.Duration)
		t.QueuedMS = ms(ro.QueuedFor)
	}
	return t
}

// unavailable lists the evidence that could not be had, with the reason, sorted by field: the
// steps that did not happen, then the report's own entries (which win for the same field).
func (r *Report) unavailable() []evUnavailable {
	m := map[string]string{}
	mode := r.Mode
	if r.Expected == nil {
		m["expected_runtime_identity"] = "no expected identity was given"
	}
	if r.Probe == nil {
		reason := "the tenant was not probed"
		switch {
		case mode == "render" || mode == "inject":
			reason = mode + " mode does not probe the tenant"
		case r.rolloutFailed():
			reason = "the tenant was not probed: the rollout did not end in done"
		}
		m["probe"] = reason
		if len(r.Observed) == 0 {
			m["observed_runtime_identity"] = reason
		}
	} else {
		if len(r.Observed) == 0 {
			switch r.status() {
			case identity.StatusMissing:
				m["observed_runtime_identity"] = "the tenant reported no identity"
			case identity.StatusUnverifiable:
				m["observed_runtime_identity"] = "the tenant gave no usable answer: " + orUnknown(r.Verdict.Detail)
			case identity.StatusUnchecked:
				m["observed_runtime_identity"] = "nothing was compared"
			default:
				m["observed_runtime_identity"] = "the observed value was not recorded"
			}
		}
		if r.status() != identity.StatusMatch {
			m["timings.time_to_match_ms"] = "no confirmed match"
		}
	}
	switch {
	case r.Rollout == nil && (mode == "verify" || mode == "render"):
		m["dokploy"] = mode + " mode does not deploy"
	case r.Rollout == nil:
		m["dokploy"] = "no Dokploy rollout was recorded"
	case r.Rollout.DeploymentID == "" && mode == "inject":
		m["dokploy.deployment_id"] = "inject mode does not deploy (another step deploys)"
	case r.Rollout.DeploymentID == "" && r.Rollout.Trigger != "":
		m["dokploy.deployment_id"] = "the " + r.ev(r.Rollout.Trigger) + " was triggered, but its deployment row was never seen"
	case r.Rollout.DeploymentID == "":
		m["dokploy.deployment_id"] = "no Dokploy deployment was started"
	}
	switch {
	case r.GitHub == nil:
		m["github"] = "no GitHub deployment was requested"
	case r.GitHub.DeploymentID == 0 && r.GitHub.Error != "":
		m["github.deployment_id"] = "the GitHub deployment could not be created: " + r.GitHub.Error
	case r.GitHub.DeploymentID == 0:
		m["github.deployment_id"] = "no GitHub deployment was created"
	}
	if r.Links.Run == "" {
		m["links.run"] = "the run URL is not known (not running in GitHub Actions)"
	}
	if r.Links.Record == "" && r.fromRecord() {
		m["links.record"] = "the Launchplane record URL is not known"
	}
	for k, v := range r.Unavailable {
		m[k] = v
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]evUnavailable, 0, len(keys))
	for _, k := range keys {
		out = append(out, evUnavailable{k, m[k]})
	}
	return out
}

// fromRecord reports whether some expected field came from a Launchplane record.
func (r *Report) fromRecord() bool {
	for _, s := range r.Provenance {
		if s.Kind == SourceRecord {
			return true
		}
	}
	return false
}

// RedactJSON applies redact to every string (keys included) and every number of a JSON value,
// and encodes it again compactly: redacting the JSON text instead could break it (a secret inside
// a number) or miss a secret spelled with escapes (\/, \u0041). A number that holds a secret
// becomes the string "***". Text that is not JSON is redacted as text.
func RedactJSON(raw []byte, redact func(string) string) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return []byte(redact(string(raw)))
	}
	var walk func(any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case string:
			return redact(t)
		case json.Number:
			if s := redact(t.String()); s != t.String() {
				return s
			}
			return t
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
			return t
		case map[string]any:
			out := make(map[string]any, len(t))
			for k, e := range t {
				out[redact(k)] = walk(e)
			}
			return out
		}
		return v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(walk(v)); err != nil {
		return []byte(redact(string(raw)))
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// maxLogTailBytes bounds the log tail the evidence keeps.
const maxLogTailBytes = 16 << 10

// evLog keeps a log tail's last maxLogTailBytes, redacted, as valid UTF-8 with its line breaks.
func (r *Report) evLog(s string) string {
	s = strings.ToValidUTF8(r.redact(s), "\uFFFD")
	if len(s) > maxLogTailBytes {
		s = s[len(s)-maxLogTailBytes:]
		for len(s) > 0 && !utf8.RuneStart(s[0]) {
			s = s[1:]
		}
	}
	return s
}
