package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// SchemaVersion is the version of the JSON read model (schema/inventory.v1.schema.json).
const SchemaVersion = 1

// Report is one inventory: the JSON read model every other format is rendered from. Its names
// are Launchplane's read-model names (expected_runtime_identity, observed_runtime_identity,
// runtime_identity_status, runtime_identity_detail, trust_state). It holds no secret, token or
// local path: URLs lose credentials and queries before they are recorded.
type Report struct {
	SchemaVersion int `json:"schema_version"`
	// GeneratedAt is when the probing started (a merge: the latest shard's), RFC 3339 UTC.
	GeneratedAt string `json:"generated_at"`
	// Source is SourceLanesFile or SourceLaunchplane.
	Source string `json:"source"`
	// LanesDigest identifies the whole input the lanes came from (see LanesDigest); every shard
	// of one input records the same.
	LanesDigest string `json:"lanes_digest"`
	// LanesTotal counts the input's lanes, in every shard.
	LanesTotal int `json:"lanes_total"`
	// Shard is the slice of the input this report holds; {0, 1} is the whole.
	Shard Shard `json:"shard"`
	// MergedShards is how many shard reports Merge joined into this one; 0 for a run.
	MergedShards int `json:"merged_shards"`
	// Lanes are sorted by product, context, instance.
	Lanes []LaneResult `json:"lanes"`
	// Counts counts the lanes by runtime_identity_status.
	Counts Counts `json:"counts"`
	// RequiredNotMatching counts the lanes with require_identity that are not a match: when it is
	// not 0 the exit code is ExitFailed.
	RequiredNotMatching int `json:"required_not_matching"`
}

// Report sources.
const (
	SourceLanesFile   = "lanes-file"
	SourceLaunchplane = "launchplane"
)

// LaneResult is one lane of the read model.
type LaneResult struct {
	Product  string `json:"product"`
	Context  string `json:"context"`
	Instance string `json:"instance"`
	// URL is where the deciding answer came from, without credentials or query; Surface names
	// it (health, well-known, headers). Both are empty when the lane was not probed.
	URL     string `json:"url"`
	Surface string `json:"surface"`
	// HTTPStatus is the deciding answer's HTTP status; 0 without a response.
	HTTPStatus int `json:"http_status"`
	// Expected is the identity the lane should serve; null when there is none.
	Expected *identity.Identity `json:"expected_runtime_identity"`
	// ExpectedFrom says where Expected came from (ExpectedFrom* constants); "" without one.
	ExpectedFrom string `json:"expected_from"`
	// DeploymentRecordID is the record Expected was read from, when it was.
	DeploymentRecordID string `json:"deployment_record_id"`
	// Observed is the identity value as the tenant reported it (untrusted), cut at
	// MaxObservedBytes; null when it reported none.
	Observed   json.RawMessage `json:"observed_runtime_identity"`
	Status     identity.Status `json:"runtime_identity_status"`
	Detail     string          `json:"runtime_identity_detail"`
	TrustState string          `json:"trust_state"`
	// Mismatched names the compared fields that differ.
	Mismatched []string `json:"mismatched_fields"`
	// Fields is the field-by-field comparison, expected against observed.
	Fields []FieldDiff `json:"fields"`
	Notes  []string    `json:"notes"`
	// Attempts counts the probe rounds (more than 1 only while confirming a match).
	Attempts int `json:"attempts"`
	// LatencyMS is how long the last round took.
	LatencyMS       int64 `json:"latency_ms"`
	RequireIdentity bool  `json:"require_identity"`
}

// Key returns "product/context/instance".
func (r LaneResult) Key() string { return r.Product + "/" + r.Context + "/" + r.Instance }

// FieldDiff is one field of the comparison. Values are untrusted when observed.
type FieldDiff struct {
	Field    string `json:"field"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	// Result is identity's field result: match, mismatch, not compared, informational, not
	// reported.
	Result string `json:"result"`
}

// Counts counts lanes by status.
type Counts struct {
	Unchecked    int `json:"unchecked"`
	Match        int `json:"match"`
	Mismatch     int `json:"mismatch"`
	Missing      int `json:"missing"`
	Malformed    int `json:"malformed"`
	Unverifiable int `json:"unverifiable"`
}

// Of returns the count of one status.
func (c Counts) Of(s identity.Status) int {
	if n := c.of(s); n != nil {
		return *n
	}
	return 0
}

func (c *Counts) add(s identity.Status) {
	if n := c.of(s); n != nil {
		*n++
	}
}

// of returns the counter of a status, or nil for an unknown one.
func (c *Counts) of(s identity.Status) *int {
	switch s {
	case identity.StatusUnchecked:
		return &c.Unchecked
	case identity.StatusMatch:
		return &c.Match
	case identity.StatusMismatch:
		return &c.Mismatch
	case identity.StatusMissing:
		return &c.Missing
	case identity.StatusMalformed:
		return &c.Malformed
	case identity.StatusUnverifiable:
		return &c.Unverifiable
	}
	return nil
}

// Total counts every lane.
func (c Counts) Total() int {
	return c.Unchecked + c.Match + c.Mismatch + c.Missing + c.Malformed + c.Unverifiable
}

// ExitCode is ExitFailed when a lane with require_identity is not a match, else ExitOK.
func (r *Report) ExitCode() int {
	if r.RequiredNotMatching > 0 {
		return ExitFailed
	}
	return ExitOK
}

// finish sorts the lanes and sets the counts.
func (r *Report) finish() {
	sort.Slice(r.Lanes, func(i, j int) bool {
		a, b := r.Lanes[i], r.Lanes[j]
		return laneLess(a.Product, a.Context, a.Instance, b.Product, b.Context, b.Instance)
	})
	r.count()
}

// count sets the counts from the lanes.
func (r *Report) count() {
	r.Counts, r.RequiredNotMatching = Counts{}, 0
	for _, l := range r.Lanes {
		r.Counts.add(l.Status)
		if l.RequireIdentity && l.Status != identity.StatusMatch {
			r.RequiredNotMatching++
		}
	}
}

// JSON renders the read model: one JSON object and a newline.
func (r *Report) JSON() []byte {
	var b bytes.Buffer
	_ = r.WriteJSON(&b) // a bytes.Buffer does not fail
	return b.Bytes()
}

// WriteJSON writes the read model to w one lane at a time, so a fleet of any size is written
// without holding its whole rendering: the same bytes as encoding/json would write for the
// Report, HTML characters left unescaped, and a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	// Every field is a string, number, bool, slice or raw JSON checked when it was set: Marshal
	// cannot fail on them.
	marshal := func(v any) []byte {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	}
	// The report without its lanes, split where they go: no field before "lanes" holds text
	// that could contain `"lanes":[]` (numbers, a timestamp, a source name, a digest).
	head := *r
	head.Lanes = []LaneResult{}
	before, after, _ := bytes.Cut(marshal(&head), []byte(`"lanes":[]`))
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(before)
	bw.WriteString(`"lanes":[`)
	for i := range r.Lanes {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(marshal(&r.Lanes[i]))
	}
	bw.WriteByte(']')
	bw.Write(after)
	bw.WriteByte('\n')
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("inventory: write json: %w", err)
	}
	return nil
}

// formatTime renders the report's timestamps: UTC to the second, as Launchplane records them.
func formatTime(t time.Time) string { return identity.FormatTime(t) }

// statusOrder is the order lanes are shown in: problems first, worst first.
var statusOrder = []identity.Status{
	identity.StatusMismatch,
	identity.StatusMalformed,
	identity.StatusUnverifiable,
	identity.StatusMissing,
	identity.StatusUnchecked,
	identity.StatusMatch,
}

// problem reports whether a status needs attention.
func problem(s identity.Status) bool {
	return s != identity.StatusMatch && s != identity.StatusUnchecked
}

// ReadReport reads one JSON report strictly: unknown keys, another schema_version, unknown
// statuses, unsorted or repeated lanes and counts that do not add up are *InputError problems
// under name (a file name, for messages).
func ReadReport(name string, data []byte) (*Report, error) {
	fail := func(path, format string, args ...any) error {
		return inputError("report", Problem{Path: name + pathSep(path) + path, Reason: fmt.Sprintf(format, args...)})
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r Report
	if err := dec.Decode(&r); err != nil {
		return nil, fail("", "is not an inventory JSON report (schema_version %d): %s", SchemaVersion, err.Error())
	}
	if dec.More() {
		return nil, fail("", "has more after the report object")
	}
	switch {
	case r.SchemaVersion != SchemaVersion:
		return nil, fail("schema_version", "is %d; this version reads %d", r.SchemaVersion, SchemaVersion)
	case r.Source != SourceLanesFile && r.Source != SourceLaunchplane:
		return nil, fail("source", "is %s; want %q or %q", quote(r.Source), SourceLanesFile, SourceLaunchplane)
	case r.Shard.Count < 1 || r.Shard.Count > MaxShards || r.Shard.Index < 0 || r.Shard.Index >= r.Shard.Count:
		return nil, fail("shard", "is %d/%d; want i/n with 0 <= i < n <= %d", r.Shard.Index, r.Shard.Count, MaxShards)
	case r.LanesTotal < len(r.Lanes):
		return nil, fail("lanes_total", "is %d but the report holds %d lanes", r.LanesTotal, len(r.Lanes))
	}
	if _, err := time.Parse(time.RFC3339, r.GeneratedAt); err != nil {
		return nil, fail("generated_at", "is %s; want an RFC 3339 time", quote(r.GeneratedAt))
	}
	for i, l := range r.Lanes {
		p := fmt.Sprintf("lanes[%d]", i)
		for _, v := range []string{l.Product, l.Context, l.Instance} {
			if reason := checkKey(v); reason != "" {
				return nil, fail(p, "product, context or instance %s", reason)
			}
		}
		if !knownStatus(l.Status) {
			return nil, fail(p+".runtime_identity_status", "is %s; want one of %v", quote(string(l.Status)), identity.Statuses)
		}
		if l.TrustState != summary.TrustStateOf(l.Status, l.Expected != nil) {
			return nil, fail(p+".trust_state", "is %s; for %s it is %q", quote(l.TrustState), l.Status, summary.TrustStateOf(l.Status, l.Expected != nil))
		}
		switch {
		case string(l.Observed) == "null":
			r.Lanes[i].Observed = nil
		case len(l.Observed) > 0 && !json.Valid(l.Observed):
			return nil, fail(p+".observed_runtime_identity", "is not JSON")
		}
		if i > 0 {
			prev := r.Lanes[i-1]
			if !laneLess(prev.Product, prev.Context, prev.Instance, l.Product, l.Context, l.Instance) {
				return nil, fail(p, "%s is out of order or repeated after %s; lanes are sorted by product, context, instance", quote(l.Key()), quote(prev.Key()))
			}
		}
	}
	want := r
	want.count()
	if want.Counts != r.Counts || want.RequiredNotMatching != r.RequiredNotMatching {
		return nil, fail("counts", "do not add up to the lanes' statuses")
	}
	return &r, nil
}

func pathSep(path string) string {
	if path == "" {
		return ""
	}
	return ": "
}

func knownStatus(s identity.Status) bool {
	for _, k := range identity.Statuses {
		if s == k {
			return true
		}
	}
	return false
}
