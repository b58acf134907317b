package dokploytest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The fake validates procedure inputs the way Dokploy's zod 4 schemas do: unknown keys are
// stripped, and each failure becomes a raw zod issue plus the flattened zodError.

type kind int

const (
	kString kind = iota
	kBool
	kInt    // z.number().int()
	kNumber // z.number()
	kEnum   // z.enum(values)
)

func (k kind) String() string {
	switch k {
	case kBool:
		return "boolean"
	case kInt, kNumber:
		return "number"
	}
	return "string"
}

// field describes one input key.
type field struct {
	name     string
	kind     kind
	optional bool
	nullable bool
	min, max *int     // string length or number range
	def      any      // default when absent (optional fields only)
	values   []string // kEnum's options
}

func intp(n int) *int { return &n }

// zodIssue is one raw zod 4 issue. Field order follows zod's output.
type zodIssue struct {
	Expected  string   `json:"expected,omitempty"`
	Origin    string   `json:"origin,omitempty"`
	Code      string   `json:"code"`
	Minimum   *int     `json:"minimum,omitempty"`
	Maximum   *int     `json:"maximum,omitempty"`
	Inclusive *bool    `json:"inclusive,omitempty"`
	Values    []string `json:"values,omitempty"`
	Path      []any    `json:"path"`
	Message   string   `json:"message"`
}

// zodFlattened is zod's flatten() form, as tRPC puts it in data.zodError.
type zodFlattened struct {
	FormErrors  []string            `json:"formErrors"`
	FieldErrors map[string][]string `json:"fieldErrors"`
}

func flatten(issues []zodIssue) zodFlattened {
	f := zodFlattened{FormErrors: []string{}, FieldErrors: map[string][]string{}}
	for _, is := range issues {
		if len(is.Path) == 0 {
			f.FormErrors = append(f.FormErrors, is.Message)
			continue
		}
		k := fmt.Sprint(is.Path[0])
		f.FieldErrors[k] = append(f.FieldErrors[k], is.Message)
	}
	return f
}

func received(v any, present bool) string {
	if !present {
		return "undefined"
	}
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		if math.IsNaN(x) {
			return "NaN"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func typeIssue(name string, expected kind, got string) zodIssue {
	return zodIssue{
		Expected: expected.String(),
		Code:     "invalid_type",
		Path:     []any{name},
		Message:  fmt.Sprintf("Invalid input: expected %s, received %s", expected, got),
	}
}

// parse validates raw (a decoded JSON object, or query values when fromQuery) against fields and
// returns the stripped input. A nil raw with !fromQuery means the body held no object.
func parse(fields []field, raw map[string]any, fromQuery bool) (map[string]any, []zodIssue) {
	out := map[string]any{}
	var issues []zodIssue
	for _, f := range fields {
		v, present := raw[f.name]
		if fromQuery && present {
			v = coerce(f.kind, v.(string))
		}
		if f.kind == kEnum {
			if str, ok := v.(string); ok && slices.Contains(f.values, str) {
				out[f.name] = str
				continue
			}
			if !present && f.optional {
				continue
			}
			issues = append(issues, enumIssue(f))
			continue
		}
		if !present {
			if f.optional {
				if f.def != nil {
					out[f.name] = f.def
				}
				continue
			}
			issues = append(issues, typeIssue(f.name, f.kind, "undefined"))
			continue
		}
		if v == nil {
			if f.nullable {
				out[f.name] = nil
				continue
			}
			issues = append(issues, typeIssue(f.name, f.kind, "null"))
			continue
		}
		switch f.kind {
		case kString:
			s, ok := v.(string)
			if !ok {
				issues = append(issues, typeIssue(f.name, f.kind, received(v, true)))
				continue
			}
			n := len([]rune(s))
			if f.min != nil && n < *f.min {
				issues = append(issues, zodIssue{Origin: "string", Code: "too_small", Minimum: f.min, Inclusive: boolp(true),
					Path: []any{f.name}, Message: fmt.Sprintf("Too small: expected string to have >=%d characters", *f.min)})
				continue
			}
			if f.max != nil && n > *f.max {
				issues = append(issues, zodIssue{Origin: "string", Code: "too_big", Maximum: f.max, Inclusive: boolp(true),
					Path: []any{f.name}, Message: fmt.Sprintf("Too big: expected string to have <=%d characters", *f.max)})
				continue
			}
			out[f.name] = s
		case kBool:
			b, ok := v.(bool)
			if !ok {
				issues = append(issues, typeIssue(f.name, f.kind, received(v, true)))
				continue
			}
			out[f.name] = b
		case kInt, kNumber:
			x, ok := v.(float64)
			if !ok || math.IsNaN(x) {
				issues = append(issues, typeIssue(f.name, f.kind, received(v, true)))
				continue
			}
			if f.kind == kInt && x != math.Trunc(x) {
				issues = append(issues, zodIssue{Expected: "int", Code: "invalid_type", Path: []any{f.name},
					Message: "Invalid input: expected int, received number"})
				continue
			}
			if f.min != nil && x < float64(*f.min) {
				issues = append(issues, zodIssue{Origin: "number", Code: "too_small", Minimum: f.min, Inclusive: boolp(true),
					Path: []any{f.name}, Message: fmt.Sprintf("Too small: expected number to be >=%d", *f.min)})
				continue
			}
			if f.max != nil && x > float64(*f.max) {
				issues = append(issues, zodIssue{Origin: "number", Code: "too_big", Maximum: f.max, Inclusive: boolp(true),
					Path: []any{f.name}, Message: fmt.Sprintf("Too big: expected number to be <=%d", *f.max)})
				continue
			}
			if f.kind == kNumber {
				out[f.name] = x
				continue
			}
			out[f.name] = int(x)
		}
	}
	return out, issues
}

// enumIssue is zod 4's issue for a value outside an enum.
func enumIssue(f field) zodIssue {
	quoted := make([]string, len(f.values))
	for i, v := range f.values {
		quoted[i] = strconv.Quote(v)
	}
	return zodIssue{Code: "invalid_value", Values: f.values, Path: []any{f.name},
		Message: "Invalid option: expected one of " + strings.Join(quoted, "|")}
}

func boolp(b bool) *bool { return &b }

// coerce turns query-string text into the field's type, as the REST adapter does.
func coerce(k kind, s string) any {
	switch k {
	case kInt, kNumber:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN()
		}
		return x
	case kBool:
		switch s {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return s
}
