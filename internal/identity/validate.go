package identity

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MaxValueLen is the longest value a field may hold.
const MaxValueLen = 256

// valuePattern is the value character rule: printable ASCII without whitespace, quote characters,
// '#', '\' or '$'. It keeps every value safe as an unquoted dotenv value and in a compose .env, and
// makes env injection ("\nDATABASE_URL=..." or "${{project.SECRET}}") impossible.
// schema/runtime-identity.v1.schema.json carries the same pattern.
var valuePattern = regexp.MustCompile(`^[!%&(-\[\]-_a-~]*$`)

// deployedAtPattern is RFC 3339 UTC to the second with a Z suffix, as Launchplane records it.
var deployedAtPattern = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$`)

// FieldError is one field that breaks the contract.
type FieldError struct {
	Field  string // contract field name, e.g. "source_git_ref"
	Reason string // what is wrong and what would be valid
}

func (e FieldError) Error() string { return e.Field + ": " + e.Reason }

// ValidationError lists every field of an identity that breaks the contract.
type ValidationError struct {
	Problems []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return "invalid runtime identity: " + strings.Join(parts, "; ")
}

// Validate checks id against the contract and returns a *ValidationError naming each bad field,
// or nil. It is the rule for identities this program writes: an expected identity must pass it
// before it is injected anywhere.
func (id Identity) Validate() error {
	var probs []FieldError
	for _, f := range canonicalFields {
		if f.str == nil {
			if id.SchemaVersion != SchemaVersion {
				probs = append(probs, FieldError{f.Name, fmt.Sprintf("is %d; only %d is supported", id.SchemaVersion, SchemaVersion)})
			}
			continue
		}
		v := *f.str(&id)
		if f.Required && blank(v) {
			probs = append(probs, FieldError{f.Name, "is required and must not be empty"})
			continue
		}
		if reason := checkValue(v); reason != "" {
			probs = append(probs, FieldError{f.Name, reason})
			continue
		}
		if f.rule != nil {
			if reason := f.rule(v); reason != "" {
				probs = append(probs, FieldError{f.Name, reason})
			}
		}
	}
	if len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// checkValue applies the value character rule and returns why v breaks it, or "".
func checkValue(v string) string {
	if len(v) > MaxValueLen {
		return fmt.Sprintf("is %d characters long; at most %d are allowed", len(v), MaxValueLen)
	}
	if valuePattern.MatchString(v) {
		return ""
	}
	return badCharacter(v) + "; valid values are printable ASCII without whitespace, quotes, '#', '\\' or '$'"
}

// badCharacter names the first character of v that breaks the value rule.
func badCharacter(v string) string {
	for _, r := range v {
		switch {
		case r == '\n' || r == '\r':
			return "contains a line break"
		case r == ' ' || r == '\t' || r == '\v' || r == '\f':
			return "contains whitespace"
		case r == '"' || r == '\'' || r == '`':
			return fmt.Sprintf("contains the quote character %q", r)
		case r == '#':
			return "contains '#', which starts a comment in dotenv"
		case r == '$':
			return "contains '$', which Dokploy and compose read as a variable reference"
		case r == '\\':
			return "contains a backslash"
		case r < 0x20 || r == 0x7f:
			return fmt.Sprintf("contains the control character %U", r)
		case r > 0x7e:
			return fmt.Sprintf("contains the non-ASCII character %U", r)
		}
	}
	return "contains a character outside printable ASCII"
}

func validDeployedAt(v string) bool {
	if !deployedAtPattern.MatchString(v) {
		return false
	}
	_, err := time.Parse(time.RFC3339, v)
	return err == nil
}

// FormatTime renders t the way Launchplane records timestamps: UTC, seconds, Z suffix.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}
