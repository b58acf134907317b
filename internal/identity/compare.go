package identity

import (
	"fmt"
	"strings"
)

// Field results in a Verdict.
const (
	ResultMatch         = "match"         // compared and equal (or a short-SHA prefix, with a note)
	ResultMismatch      = "mismatch"      // compared and different
	ResultNotCompared   = "not compared"  // the expected value is empty
	ResultInformational = "informational" // shown, never compared
	ResultNotReported   = "not reported"  // the tenant did not report it
)

// FieldResult is the comparison of one field.
type FieldResult struct {
	Field    string
	Expected string
	Observed string
	// Compared is false for informational fields and for empty expected values.
	Compared bool
	Result   string
}

// Verdict is the outcome of comparing an observed identity with the expected one.
type Verdict struct {
	Status     Status
	Detail     string
	Fields     []FieldResult
	Mismatched []string
	Notes      []string
}

// Compare classifies got against want. A nil want gives unchecked. The compared fields are
// Launchplane's, each only where the expected value is non-empty; a 7+ character hex prefix of the
// expected commit counts as a match, with a note. Header observations compare what they carry.
func Compare(want *Identity, got Observation) Verdict {
	if want == nil {
		return Verdict{Status: StatusUnchecked, Detail: "Runtime identity verification was not requested."}
	}
	if !got.Found {
		v := Verdict{Status: got.Status, Detail: notFoundDetail(got), Fields: notReported(want)}
		if v.Status == "" {
			v.Status = StatusMissing
		}
		return v
	}
	if got.Surface == SurfaceHeaders {
		return compareHeaders(want, got)
	}
	v := Verdict{Fields: make([]FieldResult, 0, len(Fields))}
	for _, f := range Fields {
		exp, obs := f.Get(want), f.Get(&got.Identity)
		fr := FieldResult{Field: f.Name, Expected: exp, Observed: obs}
		switch {
		case !f.Compared:
			fr.Result = ResultInformational
		case exp == "":
			fr.Result = ResultNotCompared
		case exp == obs:
			fr.Compared, fr.Result = true, ResultMatch
		case f.Name == "source_git_ref" && isShortSHA(obs, exp):
			fr.Compared, fr.Result = true, ResultMatch
			v.Notes = append(v.Notes, fmt.Sprintf("source_git_ref: the tenant reports the short commit %s, a prefix of the expected %s", obs, exp))
		default:
			fr.Compared, fr.Result = true, ResultMismatch
			v.Mismatched = append(v.Mismatched, f.Name)
		}
		v.Fields = append(v.Fields, fr)
	}
	if len(got.UnknownKeys) > 0 {
		v.Notes = append(v.Notes, "the observed identity has keys this version does not know, tolerated for forward compatibility: "+strings.Join(quoteAll(got.UnknownKeys), ", "))
	}
	return v.settle()
}

// isShortSHA reports whether obs is a hex prefix of at least 7 characters of the hex commit exp.
func isShortSHA(obs, exp string) bool {
	return len(obs) >= 7 && len(obs) < len(exp) && isHex(exp) && isHex(obs) && strings.HasPrefix(exp, obs)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

func notFoundDetail(got Observation) string {
	switch got.Status {
	case StatusMalformed:
		return "Runtime identity evidence could not be parsed: " + got.Detail
	case StatusUnverifiable:
		return "Runtime identity could not be checked: " + got.Detail
	default:
		if got.Detail != "" {
			return "Runtime identity was not reported: " + got.Detail
		}
		return "Runtime identity was not reported by the tenant."
	}
}

// notReported lists the expected string fields, none of them reported.
func notReported(want *Identity) []FieldResult {
	out := make([]FieldResult, 0, len(Fields))
	for _, f := range Fields {
		if f.str == nil {
			continue // schema_version: nothing to show when nothing was reported
		}
		exp := f.Get(want)
		fr := FieldResult{Field: f.Name, Expected: exp, Result: ResultInformational}
		if f.Compared {
			fr.Compared, fr.Result = exp != "", ResultNotReported
		}
		out = append(out, fr)
	}
	return out
}

// compareHeaders compares a headers observation. A digest matches the expected identity as
// injected (deployed_at empty) or as recorded; a bare deployment header compares that field only.
func compareHeaders(want *Identity, got Observation) Verdict {
	v := Verdict{}
	dep := FieldResult{Field: "deployment_record_id", Expected: want.DeploymentRecordID, Observed: got.Identity.DeploymentRecordID}
	switch {
	case dep.Observed == "":
		dep.Result = ResultNotReported
	case dep.Observed == dep.Expected:
		dep.Compared, dep.Result = true, ResultMatch
	default:
		dep.Compared, dep.Result = true, ResultMismatch
		v.Mismatched = append(v.Mismatched, "deployment_record_id")
	}
	if got.Digest != "" {
		exp := want.Injected().Digest()
		dig := FieldResult{Field: "identity_digest", Expected: exp, Observed: got.Digest, Compared: true, Result: ResultMatch}
		if got.Digest != exp && got.Digest != want.Digest() {
			dig.Result = ResultMismatch
			v.Mismatched = append(v.Mismatched, "identity_digest")
			v.Notes = append(v.Notes, "the digest covers every field, the informational ones too: if only the headers answer, give the whole expected identity (identity-json), or expose the health JSON or the well-known document so fields can be compared one by one")
		}
		v.Fields = []FieldResult{dep, dig}
		v.Notes = append(v.Notes, "headers surface: the identity digest stands for every field")
	} else {
		v.Fields = []FieldResult{dep}
		v.Notes = append(v.Notes, "headers surface: only deployment_record_id was compared ("+HeaderDeployment+" without a digest)")
	}
	return v.settle()
}

// settle sets the status and Launchplane's detail sentence from the mismatched fields.
func (v Verdict) settle() Verdict {
	if len(v.Mismatched) > 0 {
		v.Status = StatusMismatch
		v.Detail = "Runtime identity mismatched fields: " + strings.Join(v.Mismatched, ", ")
	} else {
		v.Status = StatusMatch
		v.Detail = "Runtime identity matches the expected deployment record."
	}
	return v
}
