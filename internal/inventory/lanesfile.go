package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// Limits of a lanes file.
const (
	// MaxLanesFileBytes bounds a lanes file.
	MaxLanesFileBytes = 32 << 20
	// MaxLanes bounds the lanes of one file.
	MaxLanes = 100_000
)

// Lane fields of a lanes file, in the order they are documented.
var laneFields = []string{"product", "context", "instance", "health_url", "base_url", "expected", "deployment_record_id", "require_identity"}

// ParseLanes reads a lanes file, JSON (a file whose first character is '{') or YAML:
//
//	{"lanes": [{"product", "context", "instance", "health_url" | "base_url",
//	            "expected": {identity} | "deployment_record_id", "require_identity": bool}]}
//
// It checks everything before anything is probed and returns an *InputError naming each problem
// as lanes[13].context (0-based) with what would be valid: a missing or empty field, a name or URL
// that breaks the rules, unknown or repeated keys, wrong types, two lanes with the same product,
// context and instance, both or neither of health_url and base_url, both expected and
// deployment_record_id, an expected identity that breaks the contract or names another lane, and
// require_identity on a lane with nothing to compare. The lanes come back in file order.
func ParseLanes(data []byte) ([]Lane, error) {
	fail := func(reason string) error { return inputError("lanes file", Problem{Reason: reason}) }
	if len(data) > MaxLanesFileBytes {
		return nil, fail(fmt.Sprintf("is %d bytes; at most %d are read", len(data), MaxLanesFileBytes))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fail("is empty; want an object with a lanes list")
	}
	var root *node
	var err error
	if trimmed[0] == '{' {
		root, err = parseJSONTree(data)
	} else {
		root, err = parseYAMLTree(data)
	}
	if err != nil {
		return nil, fail(err.Error())
	}
	p := &lanesParser{}
	lanes := p.file(root)
	if len(p.probs) > 0 {
		return nil, inputError("lanes file", p.probs...)
	}
	return lanes, nil
}

type lanesParser struct {
	probs []Problem
}

func (p *lanesParser) add(path string, line int, format string, args ...any) {
	p.probs = append(p.probs, Problem{Path: path, Line: line, Reason: fmt.Sprintf(format, args...)})
}

// fields checks an object's keys against the known ones: unknown and repeated keys are problems.
// It returns the known keys' values.
func (p *lanesParser) fields(path string, n *node, known []string) map[string]keyed {
	out := make(map[string]keyed, len(n.keys))
	for _, kv := range n.keys {
		kp := join(path, kv.key)
		switch {
		case !contains(known, kv.key):
			p.add(kp, kv.line, "is not a field here; valid fields: %s", strings.Join(known, ", "))
		case out[kv.key].val != nil:
			p.add(kp, kv.line, "is given twice (first on line %d); give it once", out[kv.key].line)
		default:
			out[kv.key] = kv
		}
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (p *lanesParser) file(root *node) []Lane {
	if root.kind != kindObject {
		p.add("", root.line, "is %s; want an object with a lanes list: {\"lanes\": [...]}", root.kind)
		return nil
	}
	top := p.fields("", root, []string{"lanes"})
	kv, ok := top["lanes"]
	switch {
	case !ok:
		if len(p.probs) == 0 {
			p.add("lanes", root.line, "is missing; want a list of lanes")
		}
		return nil
	case kv.val.kind != kindArray:
		p.add("lanes", kv.line, "is %s; want a list of lanes", kv.val.kind)
		return nil
	case len(kv.val.list) == 0:
		p.add("lanes", kv.line, "is empty; give at least one lane")
		return nil
	case len(kv.val.list) > MaxLanes:
		p.add("lanes", kv.line, "has %d lanes; at most %d are allowed in one file (split the fleet over several files)", len(kv.val.list), MaxLanes)
		return nil
	}
	lanes := make([]Lane, 0, len(kv.val.list))
	seen := make(map[string]int, len(kv.val.list))
	for i, ln := range kv.val.list {
		path := fmt.Sprintf("lanes[%d]", i)
		l, ok := p.lane(path, ln)
		if !ok {
			continue
		}
		if first, dup := seen[l.Key()]; dup {
			p.add(path, ln.line, "repeats product, context and instance %s of lanes[%d]; each lane must be unique", quote(l.Key()), first)
			continue
		}
		seen[l.Key()] = i
		lanes = append(lanes, l)
	}
	return lanes
}

// lane reads one lane; ok is false when it has a problem (already recorded).
func (p *lanesParser) lane(path string, n *node) (Lane, bool) {
	before := len(p.probs)
	if n.kind != kindObject {
		p.add(path, n.line, "is %s; want an object with product, context, instance and health_url or base_url", n.kind)
		return Lane{}, false
	}
	f := p.fields(path, n, laneFields)
	l := Lane{Origin: path}
	for _, k := range []struct {
		name string
		dst  *string
	}{{"product", &l.Product}, {"context", &l.Context}, {"instance", &l.Instance}} {
		v, ok := p.str(path, n, f, k.name, true)
		if !ok {
			continue
		}
		if reason := checkKey(v); reason != "" {
			p.add(join(path, k.name), f[k.name].line, "%s", reason)
			continue
		}
		*k.dst = v
	}
	_, hasHealth := f["health_url"]
	_, hasBase := f["base_url"]
	switch {
	case hasHealth && hasBase:
		p.add(path, n.line, "has both health_url and base_url; give exactly one (health_url: its JSON decides and its origin's well-known document is read too; base_url: the well-known document decides)")
	case !hasHealth && !hasBase:
		p.add(path, n.line, "has neither health_url nor base_url; give exactly one, such as \"health_url\": \"https://shop.example.com/api/health\"")
	}
	for _, k := range []struct {
		name string
		dst  *string
	}{{"health_url", &l.HealthURL}, {"base_url", &l.BaseURL}} {
		if _, given := f[k.name]; !given {
			continue
		}
		v, ok := p.str(path, n, f, k.name, false)
		if !ok {
			continue
		}
		if reason := checkTargetURL(v); reason != "" {
			p.add(join(path, k.name), f[k.name].line, "%s", reason)
			continue
		}
		*k.dst = v
	}
	if kv, ok := f["require_identity"]; ok {
		if kv.val.kind != kindBool {
			p.add(join(path, "require_identity"), kv.line, "is %s; want true or false", kv.val.kind)
		} else {
			l.RequireIdentity = kv.val.text == "true"
		}
	}
	_, hasExpected := f["expected"]
	_, hasRecord := f["deployment_record_id"]
	switch {
	case hasExpected && hasRecord:
		p.add(path, n.line, "has both expected and deployment_record_id; give at most one (expected: the identity itself; deployment_record_id: read it from Launchplane)")
	case hasExpected:
		l.Expected = p.expected(join(path, "expected"), f["expected"], &l)
		l.ExpectedFrom = ExpectedFromLanesFile
		if l.Expected != nil {
			l.spec = "identity:" + string(l.Expected.Canonical())
		}
	case hasRecord:
		if v, ok := p.str(path, n, f, "deployment_record_id", false); ok {
			if !recordIDPattern.MatchString(v) {
				p.add(join(path, "deployment_record_id"), f["deployment_record_id"].line, "is %s; want a Launchplane deployment record id such as deployment-20260510T141500Z-shop-prod (letters, digits, '.', '_', ':' and '-', at most 256)", quote(v))
			} else {
				l.DeploymentRecordID = v
				l.ExpectedFrom = ExpectedFromRecord
				l.spec = "record:" + v
			}
		}
	case l.RequireIdentity:
		p.add(join(path, "require_identity"), f["require_identity"].line, "is true but the lane has neither expected nor deployment_record_id, so it could never match; give one of them, or set require_identity to false")
	}
	return l, len(p.probs) == before
}

// str reads a string field. A missing required field and a value of another type are problems.
func (p *lanesParser) str(path string, obj *node, f map[string]keyed, name string, required bool) (string, bool) {
	kv, ok := f[name]
	if !ok {
		if required {
			p.add(join(path, name), obj.line, "is missing; give the lane's %s: %s", name, keyRule)
		}
		return "", false
	}
	if kv.val.kind != kindString {
		hint := ""
		if kv.val.kind == kindNumber || kv.val.kind == kindBool {
			hint = " (in YAML, quote it: \"" + kv.val.src + "\")"
		}
		p.add(join(path, name), kv.line, "is %s; want a string%s", kv.val.kind, hint)
		return "", false
	}
	return kv.val.text, true
}

// expected reads a lane's expected identity strictly, as an identity-json input is read: every
// field of the contract valid, no unknown keys. Product, context and instance, when given, must be
// the lane's own.
func (p *lanesParser) expected(path string, kv keyed, l *Lane) *identity.Identity {
	if kv.val.kind != kindObject {
		p.add(path, kv.line, "is %s; want the runtime identity object (schema_version 1)", kv.val.kind)
		return nil
	}
	raw := kv.val.json()
	lineOf := func(field string) int {
		for _, k := range kv.val.keys {
			if k.key == field {
				return k.line
			}
		}
		return kv.line
	}
	_, unknown, _ := identity.Decode(raw)
	if len(unknown) > 0 {
		for _, k := range unknown {
			p.add(join(path, k), lineOf(k), "is not a field of the runtime identity; valid fields: %s", strings.Join(identityFields(), ", "))
		}
		return nil
	}
	id, err := identity.ParseExpected(raw)
	if err != nil {
		var ve *identity.ValidationError
		if errors.As(err, &ve) {
			for _, fp := range ve.Problems {
				p.add(join(path, fp.Field), lineOf(fp.Field), "%s", fp.Reason)
			}
		} else {
			p.add(path, kv.line, "is not a valid runtime identity")
		}
		return nil
	}
	ok := true
	for _, c := range []struct{ field, got, lane string }{
		{"product", id.Product, l.Product},
		{"context", id.Context, l.Context},
		{"instance", id.Instance, l.Instance},
	} {
		if c.got != "" && c.lane != "" && c.got != c.lane {
			p.add(join(path, c.field), lineOf(c.field), "is %s but the lane's %s is %s; an identity names its own lane", quote(c.got), c.field, quote(c.lane))
			ok = false
		}
	}
	if !ok {
		return nil
	}
	return &id
}

// identityFields lists the contract's field names, from the identity type's own JSON tags.
func identityFields() []string {
	b, _ := json.Marshal(identity.Identity{})
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
