package launchplanetest

import (
	"regexp"
	"strings"
	"sync"
)

// Policy is the allow-list (LaunchplaneAuthzPolicy's github_actions rules): an action is
// allowed when any rule allows it.
type Policy struct {
	// SchemaVersion is the policy schema: 1 (the default) lets a rule without instance selectors
	// cover instance-scoped actions; 2 requires them.
	SchemaVersion int
	Rules         []Rule
}

// Rule is GitHubActionsPolicyRule (cbusillo/launchplane control_plane/service_auth.py
// @ 02594f465f887a5effd4c0aa1b350e7c513d7ffc). An empty list matches anything.
type Rule struct {
	// Repository must equal the token's repository exactly.
	Repository string
	// RepositoryID and RepositoryOwnerID, when set, must equal the numeric claims.
	RepositoryID, RepositoryOwnerID string
	// WorkflowRefs and JobWorkflowRefs are fnmatchcase patterns on the claims.
	WorkflowRefs, JobWorkflowRefs []string
	// EventNames, Refs and Environments must hold the claim exactly.
	EventNames, Refs, Environments []string
	// Products and Contexts are fnmatchcase patterns on the product and context acted on.
	Products, Contexts []string
	// Instances are exact instance names, or the lone "*".
	Instances []string
	// Actions must hold the action exactly, e.g. deployment.read, deployment.write,
	// product_environment.read.
	Actions []string
}

// AllowRepository returns a rule granting every action on everything to a repository's
// workflows.
func AllowRepository(repo string) Rule { return Rule{Repository: repo} }

func (p Policy) allows(id *actionsIdentity, action, product, context string, instances []string) bool {
	for _, r := range p.Rules {
		if r.allows(id, action, product, context, instances, p.SchemaVersion) {
			return true
		}
	}
	return false
}

func (r Rule) allows(id *actionsIdentity, action, product, context string, instances []string, schema int) bool {
	switch {
	case strings.TrimSpace(r.Repository) != id.Repository:
		return false
	case r.RepositoryID != "" && r.RepositoryID != id.RepositoryID:
		return false
	case r.RepositoryOwnerID != "" && r.RepositoryOwnerID != id.RepositoryOwnerID:
		return false
	case len(r.WorkflowRefs) > 0 && !matchesAny(id.WorkflowRef, r.WorkflowRefs):
		return false
	case len(r.JobWorkflowRefs) > 0 && !matchesAny(id.JobWorkflowRef, r.JobWorkflowRefs):
		return false
	case len(r.EventNames) > 0 && !contains(r.EventNames, id.EventName):
		return false
	case len(r.Refs) > 0 && !contains(r.Refs, id.Ref):
		return false
	case len(r.Environments) > 0 && !contains(r.Environments, id.Environment):
		return false
	case len(r.Products) > 0 && !matchesAny(product, r.Products):
		return false
	case len(r.Contexts) > 0 && !matchesAny(context, r.Contexts):
		return false
	case !instancesAllowed(r.Instances, instances, schema):
		return false
	case len(r.Actions) > 0 && !contains(r.Actions, action):
		return false
	}
	return true
}

// StaticRule is what a configured bearer token (a local operator's) may do: the
// LocalOperatorPolicyRule's product, context, instance and action selectors.
type StaticRule struct {
	Subject, TokenLabel string
	Products, Contexts  []string
	Instances           []string
	Actions             []string
}

func (r StaticRule) allows(action, product, context string, instances []string) bool {
	return (len(r.Products) == 0 || matchesAny(product, r.Products)) &&
		(len(r.Contexts) == 0 || matchesAny(context, r.Contexts)) &&
		instancesAllowed(r.Instances, instances, 1) &&
		(len(r.Actions) == 0 || contains(r.Actions, action))
}

// instancesAllowed is _instances_allowed for an instance-scoped target.
func instancesAllowed(allowed, target []string, schema int) bool {
	if len(target) == 0 {
		return len(allowed) == 0
	}
	if len(allowed) == 0 {
		return schema <= 1
	}
	if len(allowed) == 1 && allowed[0] == "*" {
		return true
	}
	for _, t := range target {
		if !contains(allowed, t) {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func matchesAny(value string, patterns []string) bool {
	value = strings.TrimSpace(value)
	for _, p := range patterns {
		if fnmatchcase(value, p) {
			return true
		}
	}
	return false
}

var (
	fnmatchMu    sync.Mutex
	fnmatchCache = map[string]*regexp.Regexp{}
)

// fnmatchcase is Python's fnmatch.fnmatchcase: the whole name must match; * matches any run
// (slashes included), ? any one character, [seq] a class ([!seq] negated, a leading ] kept as
// a member); a [ without a closing ] is literal.
func fnmatchcase(name, pattern string) bool {
	fnmatchMu.Lock()
	re, ok := fnmatchCache[pattern]
	if !ok {
		re = regexp.MustCompile(translate(pattern))
		fnmatchCache[pattern] = re
	}
	fnmatchMu.Unlock()
	return re.MatchString(name)
}

func translate(pat string) string {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	runes := []rune(pat)
	for i := 0; i < len(runes); i++ {
		c := runes[i]
		switch c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i + 1
			if j < len(runes) && runes[j] == '!' {
				j++
			}
			if j < len(runes) && runes[j] == ']' {
				j++
			}
			for j < len(runes) && runes[j] != ']' {
				j++
			}
			if j >= len(runes) {
				b.WriteString(`\[`)
				continue
			}
			class := runes[i+1 : j]
			neg := len(class) > 0 && class[0] == '!'
			if neg {
				class = class[1:]
			}
			b.WriteByte('[')
			if neg {
				b.WriteByte('^')
			}
			for _, r := range class {
				if r == '\\' || r == '[' || r == ']' || r == '^' {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
			b.WriteByte(']')
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`\z`)
	return b.String()
}
